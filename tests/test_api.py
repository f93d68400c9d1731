"""The HTTP API with FastAPI's TestClient: every endpoint and every error code."""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.test_engine import CONTRACT
from webcare_nlp.api.app import create_app
from webcare_nlp.api.settings import Settings


class FakeEngine:
    """A stand-in engine for the paths that do not need a model: slow calls, topics."""

    def __init__(self, *, delay: float = 0.0, topics: list[dict[str, Any]] | None = None) -> None:
        self.manifest = {"name": "fake", "labels": {}, "path": "/secret/place"}
        self.delay = delay
        self._topics = topics

    def analyze_many(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        time.sleep(self.delay)
        return [{"id": m["id"], "masked_text": m["text"], "intent": "question"} for m in messages]

    def topics(self) -> list[dict[str, Any]]:
        return self._topics or []


def make_client(tmp_path: Path, engine: Any, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(database=tmp_path / "feedback.sqlite3", **settings), engine=engine))


@pytest.fixture(scope="module")
def client(engine, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("api")
    with make_client(folder, engine) as test_client:
        yield test_client


def test_analyze_returns_the_contract(client):
    response = client.post("/analyze", json={"text": "@SkyHop mijn koffer is nog steeds kwijt!!", "channel": "twitter"})
    assert response.status_code == 200
    result = response.json()
    assert set(result) >= CONTRACT
    assert result["intent"] in result["intent_scores"]
    assert isinstance(result["reply_reason"], str) and result["reply_reason"]


def test_analyze_keeps_a_given_id_and_ignores_unknown_fields(client):
    response = client.post("/analyze", json={"text": "Waar blijft mijn pakket?", "id": "m-42", "mood": "boos"})
    assert response.status_code == 200 and response.json()["id"] == "m-42"


def test_logs_hold_only_masked_text(client, caplog):
    caplog.set_level(logging.INFO, logger="webcare_nlp.api")
    text = "Bel me terug op 0612345678 of mail sanne.devries@example.nl, boeking K7PQ2R"
    assert client.post("/analyze", json={"text": text}).status_code == 200
    assert "{telefoon}" in caplog.text
    for private in ("0612345678", "sanne.devries@example.nl"):
        assert private not in caplog.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/analyze", {}, "text"),
        ("/analyze", {"text": ""}, "text"),
        ("/analyze", {"text": "   "}, "text"),
        ("/analyze", {"text": 42}, "text"),
        ("/analyze", {"text": "nul\u0000byte"}, "text"),
        ("/analyze", {"text": "x" * 20_001}, "text"),
        ("/analyze", {"text": "hoi", "channel": "pigeon"}, "channel"),
        ("/analyze", {"text": "hoi", "platform": "both"}, "platform"),
        ("/suggest", {"text": "hoi", "top_k": 99}, "top_k"),
        ("/score", {"messages": []}, "messages"),
        ("/score", {"messages": [{"text": "hoi"}, {"text": ""}]}, "messages.1.text"),
        ("/feedback", {"message_id": "m1", "suggestion_id": "t1", "action": "liked", "text": "hoi"}, "action"),
        ("/feedback", {"message_id": "m1", "suggestion_id": "t1", "action": "edited", "text": "hoi"}, "final_text"),
        ("/feedback", {"message_id": "m1", "action": "used", "text": "hoi"}, "suggestion_id"),
        # Only invisible marks (zero-width space, byte-order mark) are no text either.
        ("/analyze", {"text": "\u200b\ufeff "}, "text"),
        # A bad name or id is named, in a batch with the message's position.
        ("/analyze", {"text": "hoi", "author": "a\u0001b"}, "author"),
        ("/score", {"messages": [{"text": "hoi"}, {"text": "hoi", "company": "k\u0000"}]}, "messages.1.company"),
        ("/feedback", {"message_id": "  ", "suggestion_id": "t1", "action": "used", "text": "hoi"}, "message_id"),
        (
            "/feedback",
            {"message_id": "m1", "suggestion_id": "t1", "action": "edited", "text": "hoi", "final_text": "a\u0000"},
            "final_text",
        ),
        # No coercion: true or "3" is not a number of suggestions, "yes" not a yes.
        ("/suggest", {"text": "hoi", "top_k": True}, "top_k"),
        ("/suggest", {"text": "hoi", "top_k": "3"}, "top_k"),
        ("/suggest", {"text": "hoi", "always": "yes"}, "always"),
    ],
)
def test_validation_errors_are_422_naming_the_field(client, path, body, field):
    response = client.post(path, json=body)
    assert response.status_code == 422
    payload = response.json()
    assert field in [d["field"] for d in payload["detail"]]
    assert payload["error"].startswith(field) or f"; {field}:" in payload["error"]
    assert "x" * 100 not in response.text  # the input is never echoed back


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe\x00\x01", b"[1, 2, 3]", b""])
def test_malformed_bodies_are_422(client, raw):
    response = client.post("/analyze", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]


def test_score_keeps_order_and_ids(client):
    texts = ["Waar blijft mijn pakket?", "Top geholpen door Ilse, dank!", "Kunnen jullie mijn abonnement opzeggen?"]
    response = client.post("/score", json={"messages": [{"text": t} for t in texts]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == ["1", "2", "3"]
    single = client.post("/analyze", json={"text": texts[1]}).json()
    assert results[1]["intent"] == single["intent"]


def test_score_is_bounded(tmp_path):
    with make_client(tmp_path, FakeEngine(), max_batch=2) as small:
        response = small.post("/score", json={"messages": [{"text": "a"}, {"text": "b"}, {"text": "c"}]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "messages"
    assert "3 messages, but this server takes at most 2 per request (its max_batch" in response.json()["error"]


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00", b'{"text": "caf\xe9"}'])
def test_a_body_that_is_not_utf8_is_400_saying_so(client, raw):
    response = client.post("/analyze", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "UTF-8" in response.json()["error"]


@pytest.mark.parametrize(
    ("raw", "content_type", "message"),
    [
        (b'{"text": "hoi",}', "application/json", "body: not valid JSON at character 15"),
        (b"hoi", "text/plain", "body: send a JSON object"),
        (b'"hoi"', "application/json", "body: send a JSON object"),
    ],
)
def test_a_body_that_is_no_json_object_says_so(tmp_path, raw, content_type, message):
    with make_client(tmp_path, FakeEngine()) as fake:
        response = fake.post("/analyze", content=raw, headers={"content-type": content_type})
    assert response.status_code == 422 and response.json()["error"].startswith(message)


def test_body_over_the_limit_is_413(tmp_path):
    with make_client(tmp_path, FakeEngine(), max_body_bytes=1_000) as small:
        declared = small.post("/analyze", json={"text": "x" * 2_000})
        streamed = small.post(
            "/analyze", content=iter([b'{"text": "', b"x" * 2_000, b'"}']), headers={"content-type": "application/json"}
        )
        fine = small.post("/analyze", json={"text": "x" * 100})
    assert declared.status_code == 413 and "1,000 bytes" in declared.json()["error"]
    assert streamed.status_code == 413
    assert fine.status_code == 200


def test_slow_request_times_out_with_503(tmp_path):
    with make_client(tmp_path, FakeEngine(delay=0.5), timeout_seconds=0.05) as slow:
        response = slow.post("/analyze", json={"text": "hoi"})
    assert response.status_code == 503 and "longer than" in response.json()["detail"]


def test_bearer_token_guards_the_api_but_not_health_or_page(tmp_path):
    with make_client(tmp_path, FakeEngine(), api_token="s3cret") as guarded:
        assert guarded.post("/analyze", json={"text": "hoi"}).status_code == 401
        wrong = guarded.post("/analyze", json={"text": "hoi"}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        assert guarded.get("/version").status_code == 401
        assert guarded.get("/topics").status_code == 401
        right = guarded.post("/analyze", json={"text": "hoi"}, headers={"Authorization": "Bearer s3cret"})
        assert right.status_code == 200
        health = guarded.get("/health")
        assert health.status_code == 200 and health.json()["token_required"] is True
        assert guarded.get("/").status_code == 200
        # Checked before the body is read: without the token a malformed body is 401 too, not 422.
        malformed = guarded.post("/analyze", content=b"{bad", headers={"content-type": "application/json"})
        assert malformed.status_code == 401 and malformed.json()["error"].startswith("A valid API token")


def test_head_answers_where_get_does(client):
    for path in ("/health", "/version", "/topics", "/"):
        response = client.head(path)
        assert response.status_code == 200 and response.content == b""


def test_the_log_keeps_a_path_on_its_own_line(client, caplog):
    caplog.set_level(logging.INFO, logger="webcare_nlp.api")
    forged = "/nothing%0A2026-12-07 INFO webcare_nlp.api: feedback action=used"
    assert client.get(forged).status_code == 404
    line = next(r.getMessage() for r in caplog.records if "nothing" in r.getMessage())
    assert "\n" not in line and "%0A" in line and line.endswith("ms")


def test_the_api_docs_are_served_without_a_cdn(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    scripts = re.findall(r"""(?:src|href)=["']?([^"' >]+)""", docs.text) + re.findall(r"url: ?'([^']+)'", docs.text)
    assert scripts and not [url for url in scripts if "//" in url]  # every asset from this server
    assert all(client.get(url).status_code == 200 for url in scripts if url.endswith((".js", ".css")))


def test_cors_is_off_by_default_and_on_when_configured(tmp_path):
    preflight = {"Origin": "https://inbox.example", "Access-Control-Request-Method": "POST"}
    with make_client(tmp_path, FakeEngine()) as closed:
        assert "access-control-allow-origin" not in closed.options("/analyze", headers=preflight).headers
    with make_client(tmp_path, FakeEngine(), cors_origins=["https://inbox.example"]) as open_:
        response = open_.options("/analyze", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://inbox.example"


def test_health_version_and_topics(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model"]
    version = client.get("/version").json()
    assert version["webcare_nlp"] and "intent" in version["model"]["labels"]
    assert "path" not in version["model"] and version["model"]["files"]
    topics = client.get("/topics").json()
    assert isinstance(topics["topics"], list)
    if not topics["topics"]:
        assert "no topic model" in topics["note"]


def test_health_names_the_servers_signature_for_the_page(tmp_path):
    with make_client(tmp_path, FakeEngine(), agent_initials="^JV") as signed:
        assert signed.get("/health").json()["agent_initials"] == "JV"
    with make_client(tmp_path, FakeEngine()) as unsigned:
        assert unsigned.get("/health").json()["agent_initials"] == ""


def test_topics_lists_the_engines_topics(tmp_path):
    known = [{"id": "t07", "label": "bagage kwijt"}]
    with make_client(tmp_path, FakeEngine(topics=known)) as with_topics:
        assert with_topics.get("/topics").json() == {"topics": known, "note": None}
        assert with_topics.get("/health").json()["topics"] is True


def test_suggest_without_a_ranker_is_503(tmp_path):
    with make_client(tmp_path, FakeEngine()) as plain:
        response = plain.post("/suggest", json={"text": "Waar is mijn koffer?"})
    assert response.status_code == 503 and "not available" in response.json()["detail"]


def test_openapi_lists_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/analyze", "/suggest", "/score", "/feedback", "/topics", "/health", "/version"):
        assert path in paths
    assert client.get("/docs").status_code == 200


def test_feedback_is_stored_masked(client, tmp_path):
    from webcare_nlp.rank.feedback import FeedbackStore

    body = {
        "message_id": "m1",
        "suggestion_id": "gen-sorry-01",
        "text": "Bel me op 0612345678, mijn pakket is kwijt",
        "suggested_text": "Hoi {naam}, sorry! ^IB",
        "labels": {"intent": "complaint", "reply_expected": True},
        "agent": "Ilse",
    }
    used = client.post("/feedback", json={**body, "action": "used", "final_text": "Hoi Sanne, sorry! ^IB"})
    edited = client.post("/feedback", json={**body, "action": "edited", "final_text": "Hoi Sanne, echt sorry! ^IB"})
    rejected = client.post("/feedback", json={**body, "action": "rejected"})
    assert [r.status_code for r in (used, edited, rejected)] == [201, 201, 201]
    assert "0612345678" not in used.text and "{telefoon}" in used.json()["text"]
    with_case_data = client.post(
        "/feedback", json={**body, "action": "edited", "final_text": "Hoi Sanne, we bellen je op 0612345678. ^IB"}
    )
    assert with_case_data.json()["final_text"] == "Hoi Sanne, we bellen je op {telefoon}. ^IB"
    store = FeedbackStore(client.app.state.services.settings.database)
    history = store.history()
    assert [h["used"] for h in history[-4:]] == [["gen-sorry-01"], ["gen-sorry-01"], [], ["gen-sorry-01"]]
    assert store.corrections()[-1]["intent"] == "complaint"
    assert used.json()["labels"] == {"intent": "complaint", "reply_expected": True}  # an object, as sent
    # An intent is checked against the serving model's own label set (a team model has its own).
    wrong = client.post("/feedback", json={**body, "action": "used", "labels": {"intent": "klacht"}})
    assert wrong.status_code == 422 and "this model's intents are: " in wrong.json()["error"]


def test_concurrent_feedback_loses_no_row(tmp_path):
    import asyncio

    import httpx

    from webcare_nlp.rank.feedback import FeedbackStore

    app = create_app(Settings(database=tmp_path / "feedback.sqlite3"), engine=FakeEngine())

    async def post_all() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as concurrent:
            jobs = [
                concurrent.post(
                    "/feedback",
                    json={
                        "message_id": f"m{i}",
                        "suggestion_id": f"t{i % 7}",
                        "action": "used",
                        "text": f"bericht {i}",
                    },
                )
                for i in range(200)
            ]
            return [r.status_code for r in await asyncio.gather(*jobs)]

    statuses = asyncio.run(post_all())
    assert statuses == [201] * 200
    rows = FeedbackStore(tmp_path / "feedback.sqlite3").rows()
    assert sorted(r["message_id"] for r in rows) == sorted(f"m{i}" for i in range(200))
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_page_and_its_files_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and 'lang="nl"' in page.text
    for asset in ("/static/app.js", "/static/app.css"):
        response = client.get(asset)
        assert response.status_code == 200 and asset.rsplit("/", 1)[1] in page.text
        assert not re.search(r"""(src|href|url\()\s*=?\s*["']?(https?:)?//""", response.text)  # no CDN
    assert not re.search(r"""(src|href)="(https?:)?//""", page.text)


def test_suggest_ranks_filled_suggestions(client):
    body = {"text": "@SkyHop al 3 dagen geen koffer!! Waar blijft hij?", "channel": "twitter", "author": "Sanne"}
    response = client.post("/suggest", json={**body, "top_k": 2, "always": True})
    if not client.app.state.services.can_suggest:  # a model without a ranker says so
        assert response.status_code == 503 and "ranker" in response.json()["detail"]
        return
    assert response.status_code == 200
    result = response.json()
    assert set(result) >= CONTRACT and 1 <= len(result["suggestions"]) <= 2
    for suggestion in result["suggestions"]:
        assert suggestion["kind"] in {"template", "article"} and suggestion["id"] and suggestion["why"]
        # The reasons as data as well, for the page to word in Dutch.
        assert {part["reason"] for part in suggestion["why_parts"]} <= {"intent", "terms", "history", "uses", "company"}
        if suggestion["kind"] == "template":
            assert "{naam}" not in suggestion["text"] and isinstance(suggestion["needs_input"], list)
    scored = client.post("/score", json={"messages": [body, body], "suggest": True, "top_k": 1}).json()["results"]
    assert [len(r["suggestions"]) <= 1 for r in scored] == [True, True]


def test_an_engine_failure_is_a_logged_500_without_the_text(tmp_path, caplog):
    class BrokenEngine(FakeEngine):
        def analyze_many(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
            raise ValueError("shapes do not match")

    caplog.set_level(logging.INFO, logger="webcare_nlp.api")
    with TestClient(
        create_app(Settings(database=tmp_path / "f.sqlite3"), engine=BrokenEngine()), raise_server_exceptions=False
    ) as broken:
        response = broken.post("/analyze", json={"text": "Bel me op 0612345678"})
    assert response.status_code == 500 and "ValueError" in response.json()["error"]
    assert "internal error on POST /analyze" in caplog.text and "0612345678" not in caplog.text


def _parcel_engine(database: Path) -> Any:
    """The shipped model over two look-alike templates, reading its history from a feedback store."""
    from webcare_nlp.engine import Engine
    from webcare_nlp.rank.library import Library

    templates = [
        {"id": "onderweg", "title": "Pakket onderweg", "text": "Hoi {naam}, je pakket is onderweg! ^{initialen}"},
        {"id": "nazoeken", "title": "Pakket nazoeken", "text": "Hoi {naam}, we zoeken je pakket na. ^{initialen}"},
    ]
    return Engine.load(library=Library.from_records(templates=templates), feedback_db=database, agent_initials="IB")


PARCEL = {"text": "Waar blijft mijn pakket? Al een week niks gehoord", "always": True}


def test_feedback_reaches_later_rankings_without_a_restart(tmp_path):
    message = PARCEL
    with make_client(tmp_path, _parcel_engine(tmp_path / "feedback.sqlite3"), feedback_refresh_seconds=0) as client:
        before = {s["id"]: s["why"] for s in client.post("/suggest", json=message).json()["suggestions"]}
        assert "similar past message" not in before.get("nazoeken", "")
        posted = client.post(
            "/feedback",
            json={
                "message_id": "m1",
                "suggestion_id": "nazoeken",
                "action": "used",
                "text": "Waar blijft mijn pakket nou? Al een week wachten",
                "final_text": "Hoi Sanne, we zoeken je pakket na. ^IB",
            },
        )
        assert posted.status_code == 201  # answered at once; the ranker is rebuilt behind it
        assert client.app.state.services.refresher.idle.wait(60)
        after = {s["id"]: s["why"] for s in client.post("/suggest", json=message).json()["suggestions"]}
        assert "sent for 1 similar past message" in after["nazoeken"] and "used 1x before" in after["nazoeken"]
        assert client.get("/health").json()["feedback_rebuilds"] == {"done": 1, "failed": 0}


def test_feedback_another_process_recorded_reaches_the_server(tmp_path):
    from webcare_nlp.rank.feedback import FeedbackStore

    database = tmp_path / "feedback.sqlite3"
    with make_client(tmp_path, _parcel_engine(database), feedback_refresh_seconds=0.2) as client:
        before = {s["id"]: s["why"] for s in client.post("/suggest", json=PARCEL).json()["suggestions"]}
        assert "used 1x before" not in before.get("nazoeken", "")
        # As `webcare feedback` or another server worker would: straight into the shared store.
        FeedbackStore(database).record(
            message_id="m9", suggestion_id="nazoeken", action="used", text="Waar blijft mijn pakket nou?"
        )
        deadline = time.monotonic() + 60
        while client.get("/health").json()["feedback_rebuilds"]["done"] < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.app.state.services.refresher.idle.wait(60)
        after = {s["id"]: s["why"] for s in client.post("/suggest", json=PARCEL).json()["suggestions"]}
        assert "used 1x before" in after["nazoeken"]


def test_the_agents_own_signature_wins_over_the_servers(tmp_path):
    with make_client(tmp_path, _parcel_engine(tmp_path / "feedback.sqlite3")) as client:
        default = client.post("/suggest", json=PARCEL).json()["suggestions"]
        own = client.post("/suggest", json={**PARCEL, "initials": "JV"}).json()["suggestions"]
        assert default and all(s["text"].endswith("^IB") for s in default)
        assert own and all(s["text"].endswith("^JV") for s in own)
        assert client.post("/suggest", json={**PARCEL, "initials": "J\u0000V"}).status_code == 422
