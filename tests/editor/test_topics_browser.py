"""The editors' topic pages in Debian's Chromium.

- An editor changes an answer; a citizen asking the public chat API gets the
  new answer within 10 seconds (the running assistant: API + Rasa + action
  server, scripts/start.sh; marked live).
- Two editors save the same topic: the second gets the conflict message and
  keeps the text they typed (`console_stack`: the API with a stand-in bot, and
  the running assistant).
- axe finds no WCAG 2.1 AA violation at 320 px; search works from the keyboard.

`browser` (Debian's Chromium) comes from tests/console/conftest.py through tests/editor/conftest.py.
"""
from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "console"))
sys.path.insert(0, str(HERE.parent / "handover"))

from console_support import assert_no_axe_violations  # noqa: E402
from console_support import ADMIN  # noqa: E402
from live_support import PASSWORD, StaffClient, create_staff  # noqa: E402

EDITOR_A, EDITOR_B = "redaktor.a@mjolby.se", "redaktor.b@mjolby.se"
LIVE_WITHIN_SECONDS = 10.0


@pytest.fixture(scope="module")
def stack(live_stack):
    create_staff(live_stack.env, EDITOR_A, "editor", "Alva")
    create_staff(live_stack.env, EDITOR_B, "editor", "Bo")
    return live_stack


@pytest.fixture(scope="module")
def editors(console_stack):
    """Two editors, made by the administrator through the staff API."""
    admin = StaffClient(console_stack.api_url, ADMIN)
    for email, name in ((EDITOR_A, "Alva"), (EDITOR_B, "Bo")):
        response = admin.post("/api/v1/staff/users", json={"email": email, "password": PASSWORD,
                                                          "role": "editor", "display_name": name})
        assert response.status_code == 201 or "finns redan" in response.text, response.text
    admin.close()
    return console_stack


def editor_page(browser, stack, email: str, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="sv-SE")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(stack.api_url + "/staff/editor/amnen")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url("**/staff/editor/amnen")
    return page


def bot_answer(stack, text: str) -> str:
    status, body, _ = stack.request("POST", "/api/v1/conversations", {"locale": "sv"})
    assert status == 201, body
    status, body, _ = stack.request("POST", f"/api/v1/conversations/{body['conversation_id']}/messages",
                                    {"text": text})
    assert status == 200, body
    return " ".join(m["text"] for m in body["messages"] if m["sender"] == "bot")


def test_the_topics_list_works_from_the_keyboard_and_passes_axe_at_320_px(browser, editors):
    from playwright.sync_api import expect

    page = editor_page(browser, editors, EDITOR_A, width=320)
    assert_no_axe_violations(page, "the topics list at 320 px")
    page.get_by_label("Sök", exact=True).focus()
    page.keyboard.type("bygglov")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=bygglov**")
    expect(page.get_by_role("link", name="Bibliotek")).to_have_count(0)
    link = page.get_by_role("link", name="Bygglov, anmälan och rivningslov")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bygglov, anmälan och rivningslov")
    assert_no_axe_violations(page, "a topic's page at 320 px")

    # A link that is not https: the message is next to the field, the text stays.
    page.get_by_label("Länkar, en per rad: rubrik | https-adress").fill("Bygglov | http://www.mjolby.se/bygglov")
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("alert")).to_contain_text("Ämnet sparades inte")
    expect(page.locator("#links-error")).to_contain_text("måste börja med https://")
    expect(page.get_by_label("Länkar, en per rad: rubrik | https-adress")).to_have_value(
        "Bygglov | http://www.mjolby.se/bygglov")
    assert_no_axe_violations(page, "a refused save at 320 px")
    page.context.close()


@pytest.mark.live
def test_an_edited_answer_is_in_the_chat_within_ten_seconds(browser, stack):
    from playwright.sync_api import expect

    question = "Behöver jag bygglov för att bygga ett garage?"
    page = editor_page(browser, stack, EDITOR_A)
    page.goto(stack.api_url + "/staff/editor/amnen/bygglov")
    new_answer = f"Sök bygglov i kommunens e-tjänst med BankID. Kontrollkod {uuid.uuid4().hex[:8]}."
    assert new_answer not in bot_answer(stack, question)
    page.get_by_label("Svar", exact=True).fill(new_answer)
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("status").filter(has_text="Ämnet är sparat")).to_be_visible()
    saved_at = time.monotonic()

    while True:
        answered = new_answer in bot_answer(stack, question)
        elapsed = time.monotonic() - saved_at
        if answered or elapsed > LIVE_WITHIN_SECONDS:
            break
        time.sleep(0.5)
    print(f"\nedited answer live in the chat after {elapsed:.1f} s")
    assert answered, f"the chat did not give the edited answer within {LIVE_WITHIN_SECONDS:.0f} s"
    page.context.close()


def test_two_editors_save_the_same_topic_and_nothing_is_lost(browser, editors):
    from playwright.sync_api import expect

    stack = editors
    alva = editor_page(browser, stack, EDITOR_A, width=320)
    bo = editor_page(browser, stack, EDITOR_B, width=320)
    for page in (alva, bo):
        page.goto(stack.api_url + "/staff/editor/amnen/bibliotek")

    alva.get_by_label("Svar", exact=True).fill("Alvas svar om biblioteket. Det sparades först.")
    alva.get_by_role("button", name="Spara").click()
    expect(alva.get_by_role("status").filter(has_text="Ämnet är sparat")).to_be_visible()

    bos_text = "Bos svar om biblioteket. Det får inte försvinna."
    bo.get_by_label("Svar", exact=True).fill(bos_text)
    bo.get_by_role("button", name="Spara").click()
    expect(bo.get_by_role("alert")).to_contain_text("Någon annan (redaktor.a@mjolby.se) har sparat ämnet")
    expect(bo.get_by_label("Svar", exact=True)).to_have_value(bos_text)
    expect(bo.get_by_text("Alvas svar om biblioteket. Det sparades först.")).to_be_visible()
    assert_no_axe_violations(bo, "the conflict message")

    # Bo decides his text wins and saves again.
    bo.get_by_role("button", name="Spara").click()
    expect(bo.get_by_role("status").filter(has_text="Ämnet är sparat")).to_be_visible()
    expect(bo.get_by_label("Svar", exact=True)).to_have_value(bos_text)
    alva.context.close()
    bo.context.close()
