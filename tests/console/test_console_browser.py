"""The handover path through the staff console's pages in headless Chromium.

A citizen (over the chat API) asks for a person; staff sign in, see the case
arrive live, claim it, reply, see the citizen's answer arrive live, and
close it; the citizen's rating ends up on the case. Every page passes axe
(WCAG 2.1 A/AA).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from console_support import ADMIN, AGENT, assert_no_axe_violations
from live_support import PASSWORD

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(os.environ.get("DATA_DIR") or Path(__file__).resolve().parents[2] / "var") / "screenshots"


class Citizen:
    def __init__(self, api_url: str) -> None:
        self.api = api_url
        response = httpx.post(api_url + "/api/v1/conversations", json={}, timeout=30)
        assert response.status_code == 201
        self.id = response.json()["conversation_id"]

    def say(self, text: str, payload: str | None = None) -> dict:
        body = {"text": text} | ({"payload": payload} if payload else {})
        response = httpx.post(f"{self.api}/api/v1/conversations/{self.id}/messages", json=body, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def messages(self) -> dict:
        return httpx.get(f"{self.api}/api/v1/conversations/{self.id}/messages", timeout=10).json()


def sign_in(page: Page, api_url: str, email: str) -> None:
    page.goto(api_url + "/staff/")
    expect(page).to_have_url(re.compile(r"/staff/logga-in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)


def test_sign_in_page_is_accessible_and_refuses_a_wrong_password(console_stack, page):
    page.goto(console_stack.api_url + "/staff/logga-in")
    assert_no_axe_violations(page, "sign-in page")
    page.get_by_label("E-postadress").fill(AGENT)
    page.get_by_label("Lösenord").fill("fel-lösenord-123")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("alert")).to_have_text("Fel e-postadress eller lösenord.")
    assert_no_axe_violations(page, "sign-in error")


def test_the_whole_handover_path_in_the_console(console_stack, page):
    api = console_stack.api_url
    sign_in(page, api, AGENT)
    expect(page.get_by_role("heading", level=1)).to_have_text("Kö och ärenden")
    page.evaluate("window.__sameDocument = true")
    assert_no_axe_violations(page, "queue page")

    citizen = Citizen(api)
    reply = citizen.say("Jag vill prata med en människa")
    assert reply["state"] == "queued"

    # The case arrives without a reload, with a visible, announced notice.
    notice = page.locator("#live-notice")
    expect(notice).to_have_text("Nytt ärende i kön.")
    expect(notice).to_have_attribute("aria-live", "polite")
    # The newest waiting case (oldest first; a shared live stack may hold others).
    row = page.get_by_role("region", name=re.compile("^Väntande ärenden")).get_by_role("row").filter(
        has_text="Jag vill prata med en människa").last
    expect(row).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "queue")
    assert_no_axe_violations(page, "queue with a case")

    row.get_by_role("button", name="Ta ärendet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Ärende \d+$"))
    expect(page.get_by_role("status").first).to_have_text("Du har tagit ärendet.")
    transcript = page.get_by_role("log")
    expect(transcript).to_contain_text("Jag vill prata med en människa")
    expect(transcript).to_contain_text("Du chattar nu med Anna på Medborgarservice.")
    assert_no_axe_violations(page, "case page")

    page.get_by_label("Ditt svar till medborgaren").fill("Hej! Jag heter Anna. Vad gäller det?")
    page.get_by_role("button", name="Skicka svar").click()
    expect(page.get_by_role("status").first).to_have_text("Svaret är skickat.")
    agent_messages = [m for m in citizen.messages()["messages"] if m["sender"] == "agent"]
    assert [(m["text"], m["agent_name"]) for m in agent_messages] == [("Hej! Jag heter Anna. Vad gäller det?", "Anna")]

    # The citizen's answer appears in the open case without a reload.
    page.evaluate("window.__sameDocument = true")
    citizen.say("Det gäller min faktura för vatten")
    expect(transcript).to_contain_text("Det gäller min faktura för vatten")
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "case")

    page.get_by_label("Ny anteckning (syns inte för medborgaren)").fill("Ringer tillbaka om fakturan")
    page.get_by_role("button", name="Spara anteckning").click()
    expect(page.get_by_text("Ringer tillbaka om fakturan")).to_be_visible()
    assert "Ringer tillbaka" not in str(citizen.messages())

    page.get_by_label("Funktionsbrevlåda").select_option("tekniska@mjolby.se")
    page.get_by_role("button", name="Registrera vidarebefordran").click()
    expect(page.get_by_text("till tekniska@mjolby.se av anna@mjolby.se")).to_be_visible()

    page.get_by_label("Löst").check()
    page.get_by_role("button", name="Avsluta").click()
    expect(page.get_by_role("status").first).to_have_text("Ärendet är avslutat. Medborgaren får frågan om ett betyg.")
    state = citizen.messages()
    assert state["state"] == "bot"
    question = state["messages"][-1]
    assert question["sender"] == "bot" and len(question["buttons"]) == 5

    citizen.say(question["buttons"][3]["title"], payload=question["buttons"][3]["payload"])
    page.reload()
    expect(page.get_by_text("4 av 5")).to_be_visible()
    expect(page.locator("#case-status")).to_have_text("Avslutat")


def test_contact_requests_are_handled_in_their_own_list(console_stack, page):
    api = console_stack.api_url
    citizen = Citizen(api)
    name = f"Eva Ek {citizen.id[:6]}"  # unique: the live stack is shared with other tests
    created = httpx.post(api + "/api/v1/internal/contact-requests", timeout=10,
                         headers={"Authorization": f"Bearer {console_stack.internal_token}"},
                         json={"conversation_id": citizen.id, "name": name, "phone": "070-123 45 67",
                               "reason": "callback"})
    assert created.status_code == 201
    sign_in(page, api, AGENT)
    page.get_by_role("navigation").get_by_role("link", name="Kontaktförfrågningar", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kontaktförfrågningar")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row.get_by_role("link", name="070-123 45 67")).to_have_attribute("href", "tel:070-1234567")
    assert_no_axe_violations(page, "contact requests")
    row.get_by_label("Anteckning (valfri)").fill("Ringde upp")
    row.get_by_role("button", name="Markera som hanterad").click()
    expect(page.get_by_role("status").first).to_have_text("Kontaktförfrågan är markerad som hanterad.")
    handled = page.get_by_role("region", name="Hanterade").get_by_role("row").filter(has_text=name)
    expect(handled).to_contain_text(AGENT)
    expect(handled).to_contain_text("Ringde upp")


def test_the_admin_sees_who_opened_which_transcript(console_stack, page, browser):
    api = console_stack.api_url
    citizen = Citizen(api)
    citizen.say("Jag vill prata med en människa")
    sign_in(page, api, AGENT)
    page.get_by_role("region", name=re.compile("^Väntande ärenden")).get_by_role("row").filter(
        has_text="Jag vill prata med en människa").last.get_by_role("button", name="Ta ärendet").click()
    case_heading = page.get_by_role("heading", level=1).inner_text()
    case_id = case_heading.split()[-1]

    admin_context = browser.new_context(locale="sv-SE")
    admin = admin_context.new_page()
    try:
        sign_in(admin, api, ADMIN)
        admin.get_by_role("navigation").get_by_role("link", name="Granskningslogg").click()
        row = admin.get_by_role("row").filter(has_text=f"Ärende {case_id}").filter(has_text="Öppnade ärendets logg")
        expect(row.first).to_contain_text(AGENT)
        assert_no_axe_violations(admin, "audit log")
        admin.get_by_role("navigation").get_by_role("link", name="Personal").click()
        assert_no_axe_violations(admin, "staff accounts")
    finally:
        admin_context.close()


def test_an_editor_is_told_the_queue_is_not_for_them(console_stack, page):
    api = console_stack.api_url
    admin = httpx.Client(base_url=api, timeout=10)
    token = admin.post("/api/v1/staff/session", json={"email": ADMIN, "password": PASSWORD}).json()["csrf_token"]
    admin.post("/api/v1/staff/users", headers={"X-CSRF-Token": token},
               json={"email": "red@mjolby.se", "role": "editor", "password": PASSWORD})
    sign_in(page, api, "red@mjolby.se")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ingen behörighet till kön")
    response = page.request.get(api + "/staff/ko")
    assert response.status == 403
