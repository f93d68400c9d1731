"""Behavioural tests of the shipped engine (invariance, direction) and of its output contract."""

import pytest

from webcare_nlp.classify.reply import PlatformDecision, decide_platform, decide_reply
from webcare_nlp.errors import InputError
from webcare_nlp.schema import reply_rule

CONTRACT = {
    "id",
    "lang",
    "intent",
    "intent_scores",
    "sentiment",
    "sentiment_scores",
    "reactive",
    "reactive_probability",
    "platform",
    "platform_inferred",
    "reply_expected",
    "reply_reason",
    "topic",
    "topic_label",
    "suggestions",
}


def test_output_follows_the_contract(engine):
    result = engine.analyze("@SkyHop mijn koffer is nog steeds niet terecht!! 😡", channel="twitter")
    assert set(result) >= CONTRACT
    assert abs(sum(result["intent_scores"].values()) - 1) < 0.01
    assert set(result["sentiment_scores"]) == {"negative", "neutral", "positive"}
    assert result["reply_expected"] == reply_rule(
        intent=result["intent"], reactive=result["reactive"], platform=result["platform"]
    )


@pytest.mark.parametrize(
    "template",
    [
        "@{handle} mijn pakket is al een week onderweg, waar blijft het?",
        "Hoi {name}, kunnen jullie mijn abonnement opzeggen per 1 juni?",
        "Dank je wel {name} voor de snelle hulp gisteren! ^{initials}",
    ],
)
def test_invariance_a_different_name_or_handle_keeps_the_intent(engine, template):
    variants = [
        template.format(handle=h, name=n, initials=i)
        for h, n, i in [("SkyHop", "Sanne", "SV"), ("BelNet_help", "Mohammed", "MB"), ("zorgpunt", "Anouk", "AK")]
    ]
    intents = {engine.analyze(text)["intent"] for text in variants}
    assert len(intents) == 1


@pytest.mark.parametrize(
    ("plain", "negated"),
    [
        (
            "De bezorger was vriendelijk en het pakket was op tijd.",
            "De bezorger was niet vriendelijk en het pakket was niet op tijd.",
        ),
        ("Ik ben tevreden over jullie service.", "Ik ben helemaal niet tevreden over jullie service."),
        ("The app works well.", "The app does not work well."),
    ],
)
def test_direction_a_negation_moves_sentiment_towards_negative(engine, plain, negated):
    before = engine.analyze(plain)["sentiment_scores"]["negative"]
    after = engine.analyze(negated)["sentiment_scores"]["negative"]
    assert after > before


def test_platform_from_channel_and_from_text(engine):
    whatsapp = engine.analyze("Hoi, mijn factuur klopt niet", channel="whatsapp")
    assert whatsapp["platform"] == "brand" and whatsapp["platform_inferred"]
    assert "inferred from channel 'whatsapp'" in whatsapp["reply_reason"]
    given = engine.analyze("Hoi, mijn factuur klopt niet", platform="consumer")
    assert given["platform"] == "consumer" and not given["platform_inferred"]


def test_spam_never_gets_a_reply(engine):
    result = engine.analyze(
        "🔥 WIN een gratis iPhone 17!!! Klik snel op de link en deel dit bericht 🔥 https://win-nu.example"
    )
    assert result["intent"] == "other"
    assert result["reply_expected"] is False


def test_case_data_is_masked_and_returned(engine):
    result = engine.analyze("Boeking K7PQ2R, bel me op 06-12345678")
    assert result["masked_text"] == "Boeking {boekingscode}, bel me op {telefoon}"
    assert {e["kind"] for e in result["entities"]} == {"booking_code", "phone"}


@pytest.mark.parametrize("bad", ["", "   ", "\x00\x01binary", "x" * 1_000_000])
def test_bad_text_is_refused_with_a_message(engine, bad):
    with pytest.raises(InputError):
        engine.analyze(bad)


def test_abstains_only_near_the_boundary_on_a_consumer_platform():
    consumer = PlatformDecision("consumer", True, "inferred from the text (p=0.80)")
    unsure = decide_reply(intent="complaint", reactive_probability=0.55, platform=consumer, review_margin=0.1)
    assert unsure.needs_review and "close to 0.5" in unsure.reason and unsure.reply_expected is True
    sure = decide_reply(intent="complaint", reactive_probability=0.95, platform=consumer, review_margin=0.1)
    assert not sure.needs_review
    brand = PlatformDecision("brand", False, "given")
    assert not decide_reply(
        intent="complaint", reactive_probability=0.5, platform=brand, review_margin=0.1
    ).needs_review


def test_a_platform_guessed_near_even_is_flagged_where_it_decides_the_reply():
    guessed = decide_platform(given=None, channel="twitter", consumer_probability=0.52)
    proactive = decide_reply(intent="complaint", reactive_probability=0.2, platform=guessed, review_margin=0.1)
    assert proactive.needs_review and "platform guess (0.52) is close to even" in proactive.reason
    # A reactive message gets a reply on either platform: the guess decides nothing there.
    reactive = decide_reply(intent="complaint", reactive_probability=0.9, platform=guessed, review_margin=0.1)
    assert not reactive.needs_review
    # Both near even: a reactive message on a platform guessed "brand" would get no reply if both flipped.
    both = decide_reply(
        intent="complaint",
        reactive_probability=0.5003,
        platform=decide_platform(given=None, channel=None, consumer_probability=0.47),
        review_margin=0.1,
    )
    assert both.needs_review and both.reply_expected
    sure = decide_platform(given=None, channel="twitter", consumer_probability=0.9)
    assert not decide_reply(intent="complaint", reactive_probability=0.2, platform=sure, review_margin=0.1).needs_review


def test_the_reason_for_other_names_nothing_that_played_no_part():
    guessed = decide_platform(given=None, channel=None, consumer_probability=0.52)
    decision = decide_reply(intent="other", reactive_probability=0.5, platform=guessed, review_margin=0.1)
    assert decision.reason == "not a customer-care message (intent 'other': spam or unrelated): no reply"
    assert not decision.needs_review and decision.reply_expected is False


def test_channel_decides_the_platform_before_the_text():
    assert decide_platform(given=None, channel="review", consumer_probability=0.1).platform == "consumer"
    assert decide_platform(given="brand", channel="review", consumer_probability=0.9).platform == "brand"
    assert decide_platform(given=None, channel="twitter", consumer_probability=0.9).platform == "consumer"


def test_raw_dicts_in_a_batch_get_their_position_as_id_and_a_bad_one_is_named(engine):
    results = engine.analyze_many([{"text": "waar blijft mijn pakket?"}, {"id": "m2", "text": "top service!"}])
    assert [r["id"] for r in results] == ["1", "m2"]
    assert engine.suggest_many([{"text": "mijn koffer is kwijt"}], always=True)[0]["id"] == "1"
    with pytest.raises(InputError, match="message 2: The message has no 'text' field"):
        engine.analyze_many([{"text": "hoi"}, {"id": "x"}])
    with pytest.raises(InputError, match="message 1: Unknown channel 'fax'"):
        engine.suggest_many([{"text": "hoi", "channel": "fax"}])


def test_a_raw_dict_with_an_id_is_checked_too(engine):
    with pytest.raises(InputError, match="message 1: Unknown platform 'tv'"):
        engine.analyze_many([{"id": "m1", "text": "hoi", "platform": "tv"}])
    with pytest.raises(InputError, match="message 1"):
        engine.analyze_many([{"id": "m1", "text": "   "}])
    assert engine.analyze_many([{"id": 5, "text": "hoi"}])[0]["id"] == "5"


def test_the_python_api_names_a_wrong_argument(engine, tiny_model):
    import pandas as pd

    from webcare_nlp.engine import Engine

    with pytest.raises(InputError, match='to_dict\\("records"\\)'):
        engine.analyze_many(pd.Series(["waar is mijn pakket?"]))
    with pytest.raises(InputError, match="list of dicts, not NoneType"):
        engine.suggest_many(None)
    with pytest.raises(InputError, match="list of dicts, not str"):
        engine.analyze_many("waar is mijn pakket?")
    # A generator of messages is read as the list it yields.
    assert [r["id"] for r in engine.analyze_many({"text": t} for t in ("hoi", "dag"))] == ["1", "2"]
    for top_k in (2.5, -1, "3"):
        with pytest.raises(InputError, match="top_k must be a whole number"):
            engine.suggest("koffer kwijt", top_k=top_k)
    with pytest.raises(InputError, match="library must be a Library"):
        Engine.load(tiny_model, library="ours.yaml")
    with pytest.raises(InputError, match="not int"):
        Engine.load(123)
