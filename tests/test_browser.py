"""A real browser on the agents' page: Playwright drives Debian's chromium against `webcare serve`.

Never downloads a browser. Outside CI it skips when no chromium is installed; with CI=true it must run.
The screenshot and the page's render time go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from webcare_nlp.dataset import PROJECT_ROOT

pytestmark = pytest.mark.slow
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
MESSAGE = "@SkyHop al 3 dagen geen koffer!! Boeking K7PQ2R, bel me op 0612345678 😡"


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "/usr/bin/chromium"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI must run the browser test: .ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _chromium()
    if path is None:
        _missing("no chromium here: apt-get install chromium to run the browser test")
    assert path is not None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("playwright is not installed: pip install -e '.[dev]'")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`webcare serve` in its own process, with a fresh feedback database."""
    folder = tmp_path_factory.mktemp("serve")
    port = _free_port()
    database = folder / "feedback.sqlite3"
    env = {**os.environ, "WEBCARE_DATABASE": str(database), "WEBCARE_AGENT_INITIALS": "IB"}
    env.pop("WEBCARE_API_TOKEN", None)
    command = [sys.executable, "-c", "from webcare_nlp.cli import app; app()", "serve", "--port", str(port)]
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"{url}/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        if health is None:
            pytest.fail(f"webcare serve did not start: {(folder / 'server.log').read_text()[-2000:]}")
        yield {"url": url, "database": database, "health": health}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture()
def page(chromium: str, server: dict[str, Any]) -> Iterator[Any]:
    """The agents' page in headless chromium, with a customer's message analysed (Ctrl+Enter)."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-NL")
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server["url"])
        tab = context.new_page()
        tab.goto(server["url"] + "/")
        expect(tab.locator("#status")).to_contain_text("model")
        tab.fill("#agent-name", "Ilse")
        tab.fill("#text", MESSAGE)
        tab.select_option("#channel", "twitter")
        tab.fill("#author", "Sanne")
        tab.press("#text", "Control+Enter")  # keyboard first
        expect(tab.locator("#analysis")).to_be_visible(timeout=60_000)
        tab.wait_for_function("document.body.dataset.renderMs !== undefined")
        yield tab
        browser.close()


def test_page_shows_the_analysis(page: Any, server: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#verdict")).to_contain_text("Reactie")
    assert page.locator("#intent").inner_text().strip()
    assert page.locator("#lang").inner_text().strip() == "Nederlands"
    expect(page.locator("#masked")).to_contain_text("{telefoon}")
    assert "0612345678" not in page.locator("#masked").inner_text()
    if not server["health"]["suggestions"]:
        expect(page.locator("#suggestions-note")).to_contain_text("niet beschikbaar")
    figures = {
        "render_ms": float(page.evaluate("document.body.dataset.renderMs")),
        "dom_ms": float(page.evaluate("document.body.dataset.domMs")),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page_render.json").write_text(json.dumps(figures, indent=2))
    page.screenshot(path=str(ARTIFACTS / "agent_page_analysis.png"), full_page=True)
    print(
        f"\npage render after the response: {figures['render_ms']:.1f} ms to the next frame "
        f"(DOM built in {figures['dom_ms']:.1f} ms)"
    )


def test_page_takes_a_suggestion_and_posts_feedback(page: Any, server: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    if not server["health"]["suggestions"]:
        pytest.skip("the shipped model has no ranker, so the server offers no suggestions to take")
    cards = page.locator("#cards .card")
    expect(cards.first).to_be_visible()
    page.keyboard.press("1")
    first = cards.nth(0)
    expect(first).to_have_class(_contains("selected"))
    why = first.locator(".why").inner_text()  # the reasons worded in Dutch from the server's why_parts
    assert why.startswith("Waarom: ") and not any(english in why for english in ("fits intent", "shares ", "sent for"))
    for placeholder in first.locator(".inputs input").all():
        assert first.locator(".copy").is_disabled()  # no copy while a placeholder is open
        placeholder.fill("KL1234")
    expect(first.locator(".preview mark.needs")).to_have_count(0)
    first.locator(".copy").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied and "{" not in copied
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "agent_page.png"), full_page=True)
    suggestion_id = first.get_attribute("data-id")
    first.locator(".fb[data-action='used']").click()
    expect(first.locator(".fb-status")).to_contain_text("gebruikt")

    from webcare_nlp.rank.feedback import FeedbackStore

    used = [u for record in FeedbackStore(server["database"]).history() for u in record["used"]]
    assert suggestion_id in used


def _contains(name: str) -> Any:
    import re

    return re.compile(rf"(^|\s){name}(\s|$)")


# -- robustness: long tokens, the length limit, the keyboard, errors in Dutch, safe links --------------------

LONG_URL = "https://example.com/" + "a" * 300
LONG_TOKEN = "x" * 240


def _analyse(page: Any, text: str) -> None:
    """Analyse `text` again on an already analysed page and wait for the new result."""
    page.evaluate("delete document.body.dataset.renderMs")
    page.fill("#text", text)
    page.press("#text", "Control+Enter")
    page.wait_for_function("document.body.dataset.renderMs !== undefined", timeout=60_000)


def test_long_unbroken_text_does_not_widen_the_page(page: Any) -> None:
    from playwright.sync_api import expect

    _analyse(page, f"{MESSAGE} zie {LONG_URL} code {LONG_TOKEN}")
    expect(page.locator("#masked")).to_contain_text(LONG_TOKEN)
    show_anyway = page.locator("#suggestions-note button")
    if show_anyway.count():
        show_anyway.click()
        page.wait_for_function("document.body.dataset.renderMs !== undefined")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"page is {scroll}px wide in a {inner}px window"
        masked = page.locator("#masked").bounding_box()
        assert masked is not None and masked["x"] + masked["width"] <= inner
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "agent_page_long_token_390.png"), full_page=True)


def test_text_cut_at_the_limit_is_announced_in_dutch(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#text-limit")).to_be_hidden()
    page.fill("#text", "k" * 25_000)
    assert page.evaluate("document.getElementById('text').value.length") == 20_000
    expect(page.locator("#text-limit")).to_be_visible()
    expect(page.locator("#text-limit")).to_contain_text("ingekort tot 20.000 tekens")
    page.fill("#text", "kort bericht")
    expect(page.locator("#text-limit")).to_be_hidden()


def test_ctrl_enter_in_a_suggestion_editor_keeps_the_edit(page: Any, server: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    if not server["health"]["suggestions"]:
        pytest.skip("the shipped model has no ranker, so there is no suggestion to edit")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.url.endswith(("/suggest", "/analyze")) else None)
    first = page.locator("#cards .card").first
    card = first.element_handle()
    first.locator(".edit").click()
    editor = first.locator(".editor")
    expect(editor).to_be_focused()
    editor.fill("Mijn eigen antwoord, nog niet af")
    editor.press("Control+Enter")
    page.wait_for_timeout(500)
    assert requests == [], f"Ctrl+Enter in the editor re-analysed: {requests}"
    assert card.evaluate("node => node.isConnected")  # the same card, not a fresh render
    expect(editor).to_have_value("Mijn eigen antwoord, nog niet af")
    expect(first.locator(".preview")).to_contain_text("Mijn eigen antwoord")
    page.press("#text", "Control+Enter")  # from the message field it still analyses
    page.wait_for_timeout(300)
    assert any(url.endswith(("/suggest", "/analyze")) for url in requests)


def test_server_down_is_reported_in_dutch(page: Any, server: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    cards = page.locator("#cards .card")
    has_cards = cards.count() > 0
    page.route("**/*", lambda route: route.abort())
    if has_cards:
        cards.first.locator(".fb[data-action='rejected']").click()
        status = cards.first.locator(".fb-status")
        expect(status).to_contain_text("De server is niet bereikbaar")
        assert "Failed" not in status.inner_text()
        expect(status).to_have_class(_contains("failed"))  # shown in red, not in the green of a success
    page.press("#text", "Control+Enter")
    expect(page.locator("#error")).to_contain_text("De server is niet bereikbaar")
    assert "Failed to fetch" not in page.locator("#error").inner_text()
    expect(page.locator("#status")).to_have_class(_contains("bad"))
    expect(page.locator("#status")).to_contain_text("niet bereikbaar")


def _reply(status: int, error: str, kind: str = "value_error") -> dict[str, Any]:
    body = {"error": error, "detail": [{"field": "text", "loc": ["body", "text"], "msg": error, "type": kind}]}
    return {"status": status, "content_type": "application/json", "body": json.dumps(body)}


@pytest.mark.parametrize(
    ("error", "kind", "dutch"),
    [
        ("text: String should have at most 20000 characters", "string_too_long", "te lang"),
        ("text: The message text is empty or only whitespace: give the text", "value_error", "leeg"),
        ("text: The message text holds binary data (NUL or control bytes)", "value_error", "stuurtekens"),
        ("company: something unforeseen", "value_error", "De server weigert het bericht: company: something"),
    ],
)
def test_validation_errors_are_shown_in_dutch(page: Any, error: str, kind: str, dutch: str) -> None:
    from playwright.sync_api import expect

    for path in ("**/suggest", "**/analyze"):
        page.route(path, lambda route: route.fulfill(**_reply(422, error, kind)))
    page.press("#text", "Control+Enter")
    expect(page.locator("#error")).to_contain_text(dutch)
    # The earlier message's analysis and suggestions are gone: nothing on screen belongs to another text.
    expect(page.locator("#analysis")).to_be_hidden()
    expect(page.locator("#cards .card")).to_have_count(0)
    if "unforeseen" not in error:
        assert "should have" not in page.locator("#error").inner_text()
        assert "message text" not in page.locator("#error").inner_text()


def test_a_refused_api_key_is_told_apart_from_a_missing_one(page: Any) -> None:
    from playwright.sync_api import expect

    for path in ("**/suggest", "**/analyze"):
        page.route(path, lambda route: route.fulfill(**_reply(401, "A valid bearer token is required.")))
    page.press("#text", "Control+Enter")
    expect(page.locator("#error")).to_contain_text("vraagt een API-sleutel")
    expect(page.locator("#token-box")).to_be_visible()
    page.fill("#api-token", "verkeerde-sleutel")
    page.press("#text", "Control+Enter")
    expect(page.locator("#error")).to_contain_text("accepteert deze API-sleutel niet")


def test_only_http_addresses_become_article_links(page: Any, server: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    if not server["health"]["suggestions"]:
        pytest.skip("the shipped model has no ranker, so the page calls /analyze only")

    def articles(route: Any) -> None:
        result = route.fetch().json()
        result["reply_expected"] = True
        result["suggestions"] = [
            {"kind": "article", "id": "evil", "title": "Kwaad", "url": "javascript:alert(1)", "score": 0.9},
            {"kind": "article", "id": "good", "title": "Bagage", "url": LONG_URL, "score": 0.8},
        ]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(result))

    page.route("**/suggest", articles)
    _analyse(page, MESSAGE)
    evil, good = page.locator("#cards .card[data-id='evil']"), page.locator("#cards .card[data-id='good']")
    expect(evil.locator(".preview")).to_have_text("javascript:alert(1)")
    expect(evil.locator(".preview a")).to_have_count(0)
    expect(good.locator(".preview a")).to_have_attribute("href", LONG_URL)
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _template(identifier: str, text: str, needs: list[str]) -> dict[str, Any]:
    return {"kind": "template", "id": identifier, "title": identifier, "text": text, "needs_input": needs, "score": 0.5}


def test_every_card_has_its_key_and_every_placeholder_its_input(page: Any, server: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    if not server["health"]["suggestions"]:
        pytest.skip("the shipped model has no ranker, so the page calls /analyze only")
    # Five cards (three templates and two articles, as top_k 3 can give), one with a placeholder that
    # holds a digit, which the server's template syntax allows.
    cards = [_template(f"t{i}", f"Hoi {{naam}}, antwoord {i}. ^{{initialen}}", []) for i in range(1, 4)]
    cards[2] = _template("t3", "Je pakket gaat naar {adres2}. ^IB", ["adres2"])
    cards += [
        {"kind": "article", "id": f"a{i}", "title": "Hulp", "url": f"https://x.nl/{i}", "score": 0.3} for i in (4, 5)
    ]

    def five(route: Any) -> None:
        result = route.fetch().json()
        result["reply_expected"] = True
        result["suggestions"] = cards
        route.fulfill(status=200, content_type="application/json", body=json.dumps(result))

    page.route("**/suggest", five)
    _analyse(page, MESSAGE)
    shown = page.locator("#cards .card")
    expect(shown).to_have_count(5)
    assert [shown.nth(i).locator(".key").inner_text() for i in range(5)] == ["1", "2", "3", "4", "5"]
    page.locator("#analysis").focus()
    page.keyboard.press("5")
    expect(shown.nth(4)).to_have_class(_contains("selected"))
    third = shown.nth(2)
    expect(third.locator(".preview mark.needs", has_text="{adres2}")).to_have_count(1)
    expect(third.locator(".copy")).to_be_disabled()
    third.locator(".inputs input").fill("Dorpsstraat 1")
    expect(third.locator(".preview")).to_contain_text("Je pakket gaat naar Dorpsstraat 1.")
    expect(third.locator(".copy")).to_be_enabled()


def test_the_api_docs_work_offline(chromium: str, server: dict[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        tab = browser.new_page()

        def local_only(route: Any) -> None:
            if route.request.url.startswith(server["url"]):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        tab.route("**/*", local_only)
        tab.goto(server["url"] + "/docs")
        expect(tab.locator(".swagger-ui .info .title")).to_contain_text("webcare-nlp", timeout=30_000)
        expect(tab.locator(".opblock-summary-path", has_text="/suggest").first).to_be_visible()
        browser.close()
    assert outside == []


def test_own_signature_channel_change_and_a_double_click(page: Any, server: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    if not server["health"]["suggestions"]:
        pytest.skip("the shipped model has no ranker, so the server offers no suggestions to take")
    # The agent's own signature wins over the server's (IB), in the text the server fills in.
    page.fill("#agent-initials", "^JV")
    page.press("#text", "Control+Enter")
    expect(page.locator("#cards .card .preview").first).to_contain_text("^JV", timeout=60_000)
    assert "^IB" not in page.locator("#cards").inner_text()
    # Another channel re-runs the analysis: results for the old one must not stay ready to copy.
    expect(page.locator("#platform-out")).to_contain_text("kanaal van de klant")
    page.select_option("#channel", "whatsapp")
    expect(page.locator("#platform-out")).to_contain_text("eigen kanaal", timeout=60_000)
    # Two quick clicks on "used" store one row.
    from webcare_nlp.rank.feedback import FeedbackStore

    before = len(FeedbackStore(server["database"]).rows())
    card = page.locator("#cards .card").first
    for placeholder in card.locator(".inputs input").all():
        placeholder.fill("KL1234")
    card.locator(".fb[data-action='used']").dblclick()
    expect(card.locator(".fb-status")).to_contain_text("Opgeslagen")
    assert len(FeedbackStore(server["database"]).rows()) == before + 1
