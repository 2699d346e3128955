"""Shared steps for the widget's browser tests. Playwright's CSS and role
locators reach into the widget's open shadow root."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

REPO = Path(__file__).resolve().parents[2]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = "010-234 50 00"
_axe = Axe()


def _load_build():
    """widget/build.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("widget_build", REPO / "widget" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def assert_no_axe_violations(page: Page, state: str) -> None:
    """axe-core over the whole page, the widget's shadow root included."""
    results = _axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    violations = results.response["violations"]
    assert not violations, "axe found %d violation(s) in state %r:\n%s" % (len(violations), state, _report(violations))


def _report(violations: list[dict]) -> str:
    # The library's own report breaks on shadow DOM targets (nested lists).
    lines = []
    for v in violations:
        lines.append("- %s (%s): %s" % (v["id"], v.get("impact"), v["help"]))
        for node in v["nodes"][:5]:
            lines.append("    at %s: %s" % (json.dumps(node["target"]), node.get("failureSummary", "").replace("\n", " ")))
    return "\n".join(lines)


def launcher(page: Page):
    return page.locator("mjolby-chat .launcher")


def panel(page: Page):
    return page.get_by_role("dialog", name="Chatta med Mjölby kommun")


def message_input(page: Page):
    return page.get_by_label("Skriv ditt meddelande")


def bot_messages(page: Page):
    return page.locator("mjolby-chat .msg-bot")


def open_chat(page: Page) -> None:
    launcher(page).click()
    expect(panel(page)).to_be_visible()
    expect(bot_messages(page).first).to_be_visible()


def send(page: Page, text: str) -> None:
    message_input(page).fill(text)
    page.get_by_role("button", name="Skicka").click()


def stored(page: Page) -> dict:
    return json.loads(page.evaluate("sessionStorage.getItem('mjolby-chat')") or "null")


def conversation_id(page: Page) -> str:
    data = stored(page)
    assert data and data.get("cid"), "no conversation in sessionStorage"
    return data["cid"]


def focused_in_widget(page: Page) -> str:
    """A short description of the focused element inside the widget."""
    return page.evaluate("""() => {
        const host = document.querySelector('mjolby-chat');
        if (document.activeElement !== host) return '';
        const el = host.shadowRoot.activeElement;
        return el ? (el.className || el.tagName.toLowerCase()) + '|' + (el.textContent || el.getAttribute('aria-label') || '').trim() : '';
    }""")
