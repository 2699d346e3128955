"""The editors' inbox in headless Chromium: what the bot missed arrives from
the chat, grouped, and one keyboard-driven click makes it an example of a
topic, which then shows under that topic and in the regression set. The
knowledge store's own checks come back next to the field. axe finds nothing
at 320 px.

The API runs in uvicorn on a fresh SQLite database (knowledge/ imported at
start) with a stand-in bot that sends the signals of the real actions.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from console_support import assert_no_axe_violations
from live_support import PASSWORD, ApiProcess, FakeBot, StaffClient, api_env, create_staff, free_port

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(os.environ.get("DATA_DIR") or Path(__file__).resolve().parents[2] / "var") / "screenshots"

EDITOR = "redaktor@mjolby.se"
MISSED = "Får jag bygga en bastu på tomten?"
KNOWN_EXAMPLE = "Hur ansöker man om bygglov i Mjölby?"  # already an example of bygglov (knowledge/bygglov.yml)


class SignallingBot(FakeBot):
    """Falls back on bastu questions, answers bygglov unsurely, as the real actions signal it."""

    def replies(self, sender: str, message: str) -> list[dict[str, Any]]:
        self.received.append(message)
        if "bastu" in message.lower():
            return [{"text": "Jag är inte säker på att jag förstod din fråga.", "topic": None, "links": [],
                     "buttons": [], "custom": {"fallback": True, "guesses": ["bygglov", "detaljplan_karta"]}}]
        return [{"text": "Bygglov söker du i e-tjänsten.", "topic": "bygglov", "links": [], "buttons": [],
                 "custom": {"confidence": 0.38, "guesses": ["bygglov"]}}]


@dataclass
class InboxStack:
    api_url: str
    database_url: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InboxStack]:
    data_dir = tmp_path_factory.mktemp("inbox")
    database_url = f"sqlite:///{data_dir / 'app.db'}"
    bot = SignallingBot()
    env = api_env(data_dir, database_url, bot)
    api = ApiProcess(env, free_port(), data_dir / "api.out")
    try:
        api.start()
        bot.api_url = api.url
        create_staff(env, EDITOR, "editor", "")
        yield InboxStack(api.url, database_url, env)
    finally:
        api.stop()
        bot.close()


def citizen_says(api_url: str, *texts: str) -> None:
    conversation = httpx.post(api_url + "/api/v1/conversations", json={}, timeout=30).json()["conversation_id"]
    for said in texts:
        response = httpx.post(f"{api_url}/api/v1/conversations/{conversation}/messages", json={"text": said},
                              timeout=30)
        assert response.status_code == 200, response.text


def sign_in(page: Page, api_url: str) -> None:
    page.set_viewport_size({"width": 320, "height": 800})  # a phone: axe and the layout at 320 px
    page.goto(api_url + "/staff/editor/inbox")
    expect(page).to_have_url(re.compile(r"/staff/logga-in"))
    page.get_by_label("E-postadress").fill(EDITOR)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inkorg: frågor som chatten missade")


def item(page: Page, said: str):
    return page.get_by_role("article").filter(has=page.get_by_role("heading", name=f"”{said}”"))


def test_an_inbox_message_becomes_an_example_of_its_topic(stack, page):
    api_url, database_url = stack.api_url, stack.database_url
    citizen_says(api_url, "får jag bygga en BASTU på tomten")
    citizen_says(api_url, MISSED, KNOWN_EXAMPLE)

    sign_in(page, api_url)
    missed = item(page, MISSED)
    expect(missed).to_contain_text("2 gånger")
    expect(missed).to_contain_text("Förstod inte")
    assert_no_axe_violations(page, "inbox at 320 px")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert not wide, f"wider than the screen: {wide}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "editor-inbox-320.png"), full_page=True)

    # The knowledge store's check, in Swedish next to the field: bygglov has that example already.
    known = item(page, KNOWN_EXAMPLE)
    expect(known).to_contain_text("Osäkert svar")
    known.get_by_role("button", name="Lägg till som exempel").click()
    known = item(page, KNOWN_EXAMPLE)
    expect(known.get_by_role("alert")).to_contain_text(f"Exempelfrågan ”{KNOWN_EXAMPLE}” finns redan under ämnet.")
    expect(known.get_by_label("Ämne")).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page, "inbox with a refused example")

    # Keyboard only: the suggested topic is chosen already; Tab to the button, Enter.
    missed = item(page, MISSED)
    topic = missed.get_by_label("Ämne")
    expect(topic).to_have_value("bygglov")
    topic.focus()
    page.keyboard.press("Tab")
    expect(missed.get_by_role("button", name="Lägg till som exempel")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status").filter(has_text="tillagt som exempel")).to_be_visible()
    expect(item(page, MISSED)).to_have_count(0)

    page.goto(api_url + "/staff/editor/amnen/bygglov")
    expect(page.get_by_label(re.compile("^Exempelfrågor"))).to_have_value(re.compile(re.escape(MISSED)))

    engine = create_engine(database_url)
    with engine.connect() as connection:
        regression = connection.execute(text("SELECT text, topic_id FROM regression_items")).all()
    engine.dispose()
    assert [tuple(row) for row in regression] == [(MISSED, "bygglov")]


def test_an_item_can_be_dismissed(stack, page):
    api_url = stack.api_url
    citizen_says(api_url, "Har ni en bastu i simhallen?")
    sign_in(page, api_url)
    said = item(page, "Har ni en bastu i simhallen?")
    said.get_by_role("button", name="Avfärda").click()
    expect(page.get_by_role("status").filter(has_text="avfärdat")).to_be_visible()
    expect(item(page, "Har ni en bastu i simhallen?")).to_have_count(0)
    page.get_by_label("Visa").select_option("fallback")
    page.get_by_role("button", name="Filtrera").click()
    expect(page).to_have_url(re.compile(r"typ=fallback"))
    assert_no_axe_violations(page, "inbox filtered")


def test_only_editors_and_admins_may_use_the_inbox(stack):
    api_url = stack.api_url
    create_staff(stack.env, "handlaggare@mjolby.se", "agent", "Anna")
    agent = StaffClient(api_url, "handlaggare@mjolby.se")
    assert agent.get("/staff/editor/inbox").status_code == 403
    editor = StaffClient(api_url, EDITOR)
    assert editor.get("/staff/editor/inbox").status_code == 200
    # A form post without the session's CSRF token changes nothing.
    citizen_says(api_url, "Kan jag hyra en kanot av kommunen?")
    page_html = editor.get("/staff/editor/inbox").text
    item_id = re.search(r'/staff/editor/inbox/(\d+)/avfarda', page_html)[1]
    refused = editor.client.post(f"/staff/editor/inbox/{item_id}/avfarda", data={"typ": ""})
    assert refused.status_code == 403
    assert "Kan jag hyra en kanot av kommunen?" in editor.get("/staff/editor/inbox").text
    agent.close()
    editor.close()
