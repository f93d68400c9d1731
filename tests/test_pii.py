import pytest
from hypothesis import given
from hypothesis import strategies as st

from webcare_nlp.text.pii import PLACEHOLDERS, find_entities, mask


def kinds(text):
    return [(e.kind, e.text) for e in find_entities(text)]


def test_finds_dutch_and_belgian_case_data():
    text = (
        "Mail jan.de.vries@voorbeeld.nl of bel 06-12345678 / +32 470 12 34 56. IBAN NL91ABNA0417164300, "
        "bsn 111222333, adres 1234 AB 12. Order #SH-4482913, boekingscode K7PQ2R, klantnummer 31002456, "
        "polisnummer ZW-2020-44812, track & trace 3SABCD1234567"
    )
    found = dict(kinds(text))
    assert found == {
        "email": "jan.de.vries@voorbeeld.nl",
        "phone": "+32 470 12 34 56",
        "iban": "NL91ABNA0417164300",
        "bsn": "111222333",
        "postcode": "1234 AB 12",
        "order_number": "#SH-4482913",
        "booking_code": "K7PQ2R",
        "customer_number": "31002456",
        "policy_number": "ZW-2020-44812",
        "tracking_code": "3SABCD1234567",
    }


def test_invalid_iban_and_bsn_are_not_masked():
    assert kinds("GB00 WEST 1234 5698 7654 32 is geen rekening") == []
    assert kinds("bsn 123456789") == []


def test_a_mistyped_dutch_or_belgian_iban_is_still_masked():
    # The shape of an NL or BE account number says enough: a wrong check digit is a typo, not a non-account.
    assert kinds("NL00ABNA0417164300") == [("iban", "NL00ABNA0417164300")]
    assert kinds("op NL33 ABNA 0417 8233 90 graag") == [("iban", "NL33 ABNA 0417 8233 90")]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("pakket (MM7824417) niet ontvangen", "pakket ({ordernummer}) niet ontvangen"),
        ("TJ6120455 is vertraagd", "{ordernummer} is vertraagd"),
        ("booking 26060033 klopt niet", "booking {boekingscode} klopt niet"),
        ("Reisnummer 26068845", "Reisnummer {boekingscode}"),
        ("ref. BZ-2026-01873", "ref. {boekingscode}"),
        ("komt niet aan. BB9X3L7MP2", "komt niet aan. {referentie}"),
        ("code ZP482019334127NL", "code {referentie}"),
    ],
)
def test_case_codes_without_a_keyword_are_masked(text, masked):
    assert mask(text, find_entities(text)) == masked


@pytest.mark.parametrize("text", ["vlucht KL1234", "mijn RTX4090 is stuk", "COVID19 regels", "A4 papier", "refund pls"])
def test_short_product_and_flight_codes_stay(text):
    assert kinds(text) == []


def test_ordinary_numbers_stay():
    assert kinds("Ik wacht al 3 weken op 2 pakketten van 10 euro, vlucht om 14:30") == []


def test_mask_uses_template_placeholders():
    text = "Mijn order #SH-4482913 is kwijt"
    assert mask(text, find_entities(text)) == "Mijn order {ordernummer} is kwijt"


@given(st.text(max_size=200))
def test_masked_text_holds_no_found_value(text):
    entities = find_entities(text)
    masked = mask(text, entities)
    for entity in entities:
        assert entity.text not in masked or entity.text in "".join(PLACEHOLDERS.values())


@given(
    st.lists(
        st.sampled_from(["06-12345678", "K7PQ2R", "bel me", "order #NL-123456", "hoi", "NL91ABNA0417164300"]),
        max_size=8,
    )
)
def test_masking_twice_changes_nothing(parts):
    text = " ".join(parts)
    once = mask(text, find_entities(text))
    assert mask(once, find_entities(once)) == once


def test_the_pre_checks_skip_only_patterns_that_cannot_match():
    # No digit: only the e-mail pattern can match, and it still does.
    assert [e.kind for e in find_entities("mail me op jan@voorbeeld.nl aub")] == ["email"]
    assert find_entities("geen nummers of adressen hier") == []
    # Eight digits are one short of any phone number; nine make one.
    assert [e.kind for e in find_entities("bel 06-123456")] == []
    assert [e.kind for e in find_entities("bel 06-12345678")] == ["phone"]
    # An order code needs its "#" or "-": the same digits bare are not one.
    assert [e.kind for e in find_entities("order #SH-4482913")] == ["order_number"]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail ons op klant@voorbeeld.nl.", "mail ons op {email}."),
        ("Mail: a.b@sub.voorbeeld.co.uk. Dank!", "Mail: {email}. Dank!"),
        ("jan@voorbeeld.nl...", "{email}..."),
        ("jan@voorbeeld.nl!", "{email}!"),
    ],
)
def test_an_address_at_the_end_of_a_sentence_is_masked(text, masked):
    # The full stop after an address is punctuation, not a part of its domain.
    assert mask(text, find_entities(text)) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # A Belgian IBAN in groups, with a short word after it that the last group must not take.
        ("stort het op BE68 5390 0754 7034 op naam van Jan", "stort het op {iban} op naam van Jan"),
        ("rekening BE68 5390 0754 7034 aub", "rekening {iban} aub"),
        # Phone numbers as people type them: " - ", dots, slashes, the area code in brackets.
        ("bel 06 - 12345678", "bel {telefoon}"),
        ("bel 06.12.34.56.78 graag", "bel {telefoon} graag"),
        ("bel (06) 12345678", "bel {telefoon}"),
        ("vast: 020 - 123 45 67", "vast: {telefoon}"),
        ("gsm 0470/12.34.56", "gsm {telefoon}"),
        ("tel. 03/123.45.67", "tel. {telefoon}"),
        # A BSN with its label written out, or in groups; a postcode in lower case with its number.
        ("BSN-nummer: 123456782", "BSN-nummer: {bsn}"),
        ("burgerservicenummer 123 45 67 82", "burgerservicenummer {bsn}"),
        ("adres 1234ab 5", "adres {postcode}"),
    ],
)
def test_common_notations_of_personal_data_are_masked(text, masked):
    assert mask(text, find_entities(text)) == masked


@pytest.mark.parametrize(
    "text",
    [
        "op 01-12-2024 14:30 besteld",
        "Bestelling 2024-12-01 nog niet binnen",
        "op 1/12/2024 1430 gebeld",
        "datum 12.11.2024 om 10.15",
        "2000 km 5 dagen onderweg",
        "zie https://example.com/order/12345678 voor de status",
    ],
)
def test_dates_distances_and_links_are_not_taken_for_personal_data(text):
    # A date has the digits of a phone number, and a link's path its numbers; masking would break both.
    assert kinds(text) == []


def test_a_link_keeps_its_numbers_but_the_number_beside_it_is_masked():
    text = "www.x.nl/track?barcode=3SABCD1234567 en bel 06-12345678"
    assert mask(text, find_entities(text)) == "www.x.nl/track?barcode=3SABCD1234567 en bel {telefoon}"
