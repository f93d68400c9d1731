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
