import pytest

from webcare_nlp import schema
from webcare_nlp.errors import InputError


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("x" * 1_000_000, "limit"),
        ("abc\x00def", "binary"),
        (42, "string"),
        (None, "string"),
    ],
)
def test_bad_text_gets_a_clear_error(text, fragment):
    with pytest.raises(InputError, match=fragment):
        schema.check_text(text)


def test_message_without_text_or_not_an_object():
    with pytest.raises(InputError, match="no 'text'"):
        schema.check_message({"id": "1"}, default_id="1")
    with pytest.raises(InputError, match="JSON object"):
        schema.check_message(["a", "b"], default_id="1")


def test_missing_id_becomes_the_line_number_and_unknown_channel_is_refused():
    assert schema.check_message({"text": "hoi"}, default_id="7")["id"] == "7"
    with pytest.raises(InputError, match="channel"):
        schema.check_message({"text": "hoi", "channel": "telegraaf"}, default_id="1")


@pytest.mark.parametrize(
    ("intent", "reactive", "platform", "expected"),
    [
        ("complaint", True, "brand", True),
        ("complaint", True, "consumer", True),
        ("complaint", False, "brand", True),
        ("complaint", False, "consumer", False),
        ("other", True, "brand", False),
        ("other", True, "consumer", False),
    ],
)
def test_reply_rule_of_seed_002(intent, reactive, platform, expected):
    assert schema.reply_rule(intent=intent, reactive=reactive, platform=platform) is expected
