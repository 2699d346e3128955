"""Every console page passes axe (WCAG 2.1 A/AA) on a desktop and on a phone.

An administrator signs in and follows each link of the console's menu, and
from the queue into an open case, at 1280 px and at 320 px wide (WCAG 1.4.10,
reflow). Every table has rows, so a table too wide for a phone is there to be
found: its scrolling area must be reachable with the keyboard.
"""
from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from console_support import ADMIN, AGENT, assert_no_axe_violations
from live_support import PASSWORD, StaffClient

pytestmark = pytest.mark.browser

WIDTHS = [1280, 320]


def ask_for_a_person(api_url: str, text: str) -> str:
    response = httpx.post(api_url + "/api/v1/conversations", json={}, timeout=30)
    assert response.status_code == 201
    conversation_id = response.json()["conversation_id"]
    reply = httpx.post(f"{api_url}/api/v1/conversations/{conversation_id}/messages", json={"text": text}, timeout=30)
    assert reply.status_code == 200 and reply.json()["state"] == "queued", reply.text
    return conversation_id


@pytest.fixture(scope="module")
def filled_console(console_stack):
    """One waiting case, one active case, one open and one handled contact request."""
    api = console_stack.api_url
    agent = StaffClient(api, AGENT)
    agent.claim(ask_for_a_person(api, "Jag vill prata med en människa om min bygglovsansökan"))
    ask_for_a_person(api, "Jag vill prata med en människa om vatten och avlopp")
    internal = {"Authorization": f"Bearer {console_stack.internal_token}"}
    ids = []
    for name in ("Karin Lind", "Per Holm"):
        conversation = httpx.post(api + "/api/v1/conversations", json={}, timeout=30).json()["conversation_id"]
        created = httpx.post(api + "/api/v1/internal/contact-requests", headers=internal, timeout=10,
                             json={"conversation_id": conversation, "name": name, "phone": "070-123 45 67",
                                   "reason": "callback"})
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    closed = agent.post(f"/api/v1/staff/contact-requests/{ids[1]}/close", json={"note": "Ringde upp, klart"})
    assert closed.status_code == 200, closed.text
    agent.client.close()
    return console_stack


def sign_in(page: Page, api_url: str) -> None:
    page.goto(api_url + "/staff/logga-in")
    page.get_by_label("E-postadress").fill(ADMIN)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kö och ärenden")


WIDER_THAN_THE_SCREEN = """() => {
  if (document.documentElement.scrollWidth <= window.innerWidth) return [];
  const wide = [...document.body.querySelectorAll("*")].filter(
    el => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.parentElement.closest(".table-wrap"));
  const found = wide.filter(el => !wide.includes(el.parentElement)).map(
    el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : ""));
  return found.length ? found : ["the page is " + document.documentElement.scrollWidth + " px wide"];
}"""


def sideways(page: Page) -> list[str]:
    """The outermost elements that make the page scroll sideways (a table's own
    scrolling region is allowed to be wider than the screen)."""
    return page.evaluate(WIDER_THAN_THE_SCREEN)


def page_kind(path: str) -> str:
    """/staff/arenden/12 and /staff/arenden/13 are the same page."""
    return re.sub(r"/\d+", "/N", path.rstrip("/")) or "/"


def console_links(page: Page, api_url: str) -> list[str]:
    """The console pages the main content links to (not tel:, mailto: or other sites)."""
    hrefs = page.locator("main a[href]").evaluate_all("els => els.map(a => a.href)")
    # Downloads (CSV exports) are files, not pages; a link within the page is the page itself.
    return [h[len(api_url):] for h in hrefs
            if h.startswith(api_url + "/staff/") and ".csv" not in h and "#" not in h]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_console_page_has_no_axe_violations(filled_console, browser: Browser, width: int):
    api = filled_console.api_url
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="sv-SE")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(api + "/staff/logga-in")
        assert_no_axe_violations(page, f"the sign-in page at {width} px")
        assert not sideways(page), f"the sign-in page scrolls sideways at {width} px: {sideways(page)}"
        sign_in(page, api)

        menu = page.get_by_role("navigation", name="Konsolens meny")
        names = [link.inner_text() for link in menu.get_by_role("link").all()]
        assert names == ["Kö och ärenden", "Kontaktförfrågningar", "Redaktör", "Insikt", "Granskningslogg", "Personal"]
        checked: set[str] = set()
        linked: list[str] = []
        for name in names:
            menu.get_by_role("link", name=name, exact=True).click()
            expect(menu.get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")
            expect(page.locator("table").first).to_be_visible()
            checked.add(page_kind(page.url[len(api):]))
            assert not sideways(page), f"{name} scrolls sideways at {width} px: {sideways(page)}"
            assert_no_axe_violations(page, f"{name} at {width} px")
            linked += console_links(page, api)

        # The pages the menu's pages link to: a case, a staff account, ...
        for path in linked:
            if page_kind(path) in checked:
                continue
            response = page.goto(api + path)
            assert response is not None and response.status == 200, f"{path}: {response and response.status}"
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            checked.add(page_kind(path))
            assert not sideways(page), f"{path} scrolls sideways at {width} px: {sideways(page)}"
            assert_no_axe_violations(page, f"{path} at {width} px")
        assert "/staff/arenden/N" in checked
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_wide_table_can_be_scrolled_with_the_keyboard(filled_console, browser: Browser, width: int):
    """The audit log's table is a named region in the tab order; at 320 px it is
    wider than the screen and the arrow keys scroll it."""
    api = filled_console.api_url
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="sv-SE")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, api)
        page.get_by_role("navigation", name="Konsolens meny").get_by_role("link", name="Granskningslogg").click()
        region = page.get_by_role("region", name="Granskningslogg", exact=True)
        expect(region.get_by_role("table")).to_be_visible()
        for _ in range(20):
            page.keyboard.press("Tab")
            if region.evaluate("el => el === document.activeElement"):
                break
        else:
            raise AssertionError("Tab never reached the audit log's table")
        wider = region.evaluate("el => el.scrollWidth > el.clientWidth")
        assert wider == (width == 320)
        if wider:
            page.keyboard.press("ArrowRight")
            page.wait_for_function("el => el.scrollLeft > 0", arg=region.element_handle())
    finally:
        context.close()
