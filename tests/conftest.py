"""Shared fixtures: the shipped engine, and a tiny engine trained on in-line Dutch data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webcare_nlp.engine import Engine

# Tiny in-line corpus: enough for the trainer's plumbing, not for good models.
TINY = [
    ("@SkyHop waar kan ik mijn bagage afhalen?", "question", "neutral", True, "consumer"),
    ("Hoe laat gaat de balie open morgen?", "question", "neutral", True, "brand"),
    ("Weet iemand of je een powerbank mag meenemen?", "question", "neutral", False, "consumer"),
    ("Kan ik online inchecken met een kind?", "question", "neutral", True, "brand"),
    ("What time does the desk open?", "question", "neutral", True, "brand"),
    ("Al 3 dagen geen koffer @SkyHop, waardeloos 😡", "complaint", "negative", True, "consumer"),
    ("Weer vertraging, echt top service hoor 🙄", "complaint", "negative", False, "consumer"),
    ("Niemand neemt op, ik hang al een uur in de wacht!!", "complaint", "negative", True, "brand"),
    ("Koffer kapot teruggekregen. Nooit meer.", "complaint", "negative", False, "consumer"),
    ("My flight was cancelled and nobody helps", "complaint", "negative", True, "brand"),
    ("Kunnen jullie mijn vlucht omboeken naar vrijdag?", "request", "neutral", True, "brand"),
    ("Graag mijn geld terug voor boeking K7PQ2R", "request", "neutral", True, "brand"),
    ("Willen jullie me terugbellen op 06-12345678?", "request", "neutral", True, "brand"),
    ("@SkyHop zet aub mijn stoel bij het raam", "request", "neutral", True, "consumer"),
    ("Please cancel my booking", "request", "neutral", True, "brand"),
    ("Top geholpen door Ilse ^IB, dank jullie!", "compliment", "positive", True, "brand"),
    ("Wat een fijne crew vandaag ❤️", "compliment", "positive", False, "consumer"),
    ("Super snel mijn geld terug, netjes!", "compliment", "positive", False, "consumer"),
    ("Dank voor de snelle hulp 👍", "compliment", "positive", True, "brand"),
    ("Great service, thanks a lot!", "compliment", "positive", False, "brand"),
    ("Tip: zet de gate ook in de app", "feedback", "neutral", False, "brand"),
    ("Het zou fijn zijn als jullie app een donkere modus had", "feedback", "neutral", False, "brand"),
    ("Misschien meer stopcontacten bij de gates?", "feedback", "neutral", False, "consumer"),
    ("Jullie site zou duidelijker kunnen bij het omboeken", "feedback", "negative", True, "brand"),
    ("Suggestion: add a chat to the app", "feedback", "neutral", False, "brand"),
    ("WIN een iPhone!! klik hier https://win.example", "other", "positive", False, "consumer"),
    ("haha die meme 😂", "other", "positive", False, "consumer"),
    ("Lekker weer vandaag", "other", "positive", False, "consumer"),
    ("Verkeerde chat sorry", "other", "neutral", False, "brand"),
    ("Crypto giveaway, DM me", "other", "positive", False, "consumer"),
]


def tiny_records() -> list[dict[str, object]]:
    records = []
    for i, (text, intent, sentiment, reactive, platform) in enumerate(TINY, start=1):
        reply = intent != "other" and (platform == "brand" or reactive)
        records.append(
            {
                "id": f"t{i}",
                "text": text,
                "channel": "twitter",
                "platform": platform,
                "lang": "en" if text.isascii() and " the " in f" {text.lower()} " else "nl",
                "intent": intent,
                "sentiment": sentiment,
                "reactive": reactive,
                "reply_expected": reply,
            }
        )
    return records


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The shipped model, as a user gets it after install."""
    return Engine.load()


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_jsonl(folder / "messages" / "tiny.jsonl", tiny_records())
    write_jsonl(folder / "templates" / "tiny.jsonl", TINY_TEMPLATES)
    write_jsonl(folder / "articles" / "tiny.jsonl", TINY_ARTICLES)
    write_jsonl(folder / "history" / "tiny.jsonl", TINY_HISTORY)
    return folder


TINY_TEMPLATES = [
    {
        "id": "koffer-01",
        "title": "Koffer kwijt",
        "text": "Hoi {naam}, vervelend van je koffer! Stuur je dossiernummer via DM. ^{initialen}",
        "intents": ["complaint", "question"],
        "tags": ["koffer", "bagage"],
    },
    {
        "id": "retour-01",
        "title": "Retour in België",
        "text": "Hoi {naam}, je retour lever je in bij elk afgiftepunt, ook in België. ^{initialen}",
        "intents": ["question"],
        "tags": ["retour", "belgie"],
    },
    {
        "id": "dank-01",
        "title": "Bedankt",
        "text": "Wat fijn, {naam}! Dank je wel. ^{initialen}",
        "intents": ["compliment"],
        "tags": ["bedankt"],
    },
    {
        "id": "order-01",
        "title": "Order opzoeken",
        "text": "Hoi {naam}, ik zoek order {ordernummer} voor je op. ^{initialen}",
        "intents": ["complaint", "request"],
        "tags": ["bestelling", "levering"],
    },
]
TINY_ARTICLES = [
    {
        "url": "https://example.nl/help/bagage",
        "title": "Bagage kwijt of beschadigd",
        "summary": "Wat te doen als je koffer niet aankomt.",
    },
    {
        "url": "https://example.nl/help/retour",
        "title": "Retourneren",
        "summary": "Zo stuur je een bestelling terug, ook vanuit België.",
    },
]
TINY_HISTORY = [
    {
        "id": "h1",
        "text": "mijn koffer is niet aangekomen op schiphol",
        "used": ["koffer-01", "https://example.nl/help/bagage"],
    },
    {"id": "h2", "text": "koffer kwijt na vlucht uit rome, wat nu?", "used": ["koffer-01"]},
    {
        "id": "h3",
        "text": "bagage nog steeds niet bezorgd, al 3 dagen",
        "used": ["koffer-01", "https://example.nl/help/bagage"],
    },
    {
        "id": "h4",
        "text": "kan ik mijn retour in belgie inleveren?",
        "used": ["retour-01", "https://example.nl/help/retour"],
    },
    {"id": "h5", "text": "hoe stuur ik een jas terug", "used": ["retour-01", "https://example.nl/help/retour"]},
    {"id": "h6", "text": "waar kan ik een pakket retourneren in antwerpen", "used": ["retour-01"]},
    {"id": "h7", "text": "top service, dank jullie wel!", "used": ["dank-01"]},
    {"id": "h8", "text": "super geholpen door Ilse, bedankt", "used": ["dank-01"]},
    {"id": "h9", "text": "mijn bestelling is nog steeds niet geleverd", "used": ["order-01"]},
    {"id": "h10", "text": "waar blijft mijn order, al een week onderweg", "used": ["order-01"]},
]


@pytest.fixture(scope="session")
def tiny_config():  # type: ignore[no-untyped-def]
    from webcare_nlp.training import TrainingConfig

    return TrainingConfig(folds=2, families=("logreg", "complement_nb"), min_per_class=2, max_char_features=2000)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, tiny_corpus: Path, tiny_config) -> Path:  # type: ignore[no-untyped-def]
    from webcare_nlp.training import train

    output = tmp_path_factory.mktemp("models") / "tiny"
    train(data=tiny_corpus, output=output, config=tiny_config)
    return output
