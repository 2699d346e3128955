"""Fixtures for the widget's browser tests.

`chat_server` is an in-process fake of the chat API (widget_fake_api.py) that also
lets a test script staff actions and faults. `stack` runs the flows that
matter against the fake and, with WIDGET_LIVE=1, also against the real API +
bot + staff API through the session-scoped `live_stack` fixture
(tests/conftest.py).

What the live adapter expects from `live_stack`:
    live_stack.api_url            base URL of the running API; "/" must be
                                  the demo page that embeds the widget
    live_stack.staff.claim(conversation_id)         a staff member joins
    live_stack.staff.reply(conversation_id, text)   staff send a message
    live_stack.staff.close(conversation_id)         staff close the case
The handover flow needs Medborgarservice to be open (a fixed clock inside
opening hours) and a staff member signed in.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from widget_fake_api import FakeChatServer  # noqa: E402
from widget_steps import REPO, build  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
DATA_DIR = Path(os.environ.get("DATA_DIR") or REPO / "var")
SCREENSHOTS = DATA_DIR / "screenshots"


@pytest.fixture(scope="session")
def widget_dist(tmp_path_factory) -> Path:
    """The widget, built the way it ships."""
    out = tmp_path_factory.mktemp("widget-dist")
    build.build(out)
    return out


@pytest.fixture(scope="session")
def _fake_server(widget_dist):
    server = FakeChatServer(widget_dist).start()
    yield server
    server.stop()


@pytest.fixture
def chat_server(_fake_server) -> FakeChatServer:
    _fake_server.reset()
    yield _fake_server
    errors = list(_fake_server.contract_errors)
    _fake_server.reset()
    assert not errors, "the fake chat API answered outside the API's response models:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="sv-SE")
    ctx.set_default_timeout(10_000)
    # Links the assistant gives point at mjolby.se; answer them locally so a
    # click can be followed without leaving this machine.
    ctx.route("https://www.mjolby.se/**", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8",
        body="<!doctype html><html lang='sv'><title>mjolby.se</title><h1>Sidan på mjolby.se</h1></html>"))
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.js_errors = errors
    yield p
    assert not errors, "JavaScript errors on the page: %s" % errors


class FakeStack:
    name = "fake"

    def __init__(self, server: FakeChatServer):
        self.server = server
        self.base_url = server.url

    def claim(self, cid: str) -> None:
        self.server.join(cid, "Anna")

    def reply(self, cid: str, text: str) -> None:
        self.server.reply(cid, text, "Anna")

    def close(self, cid: str) -> None:
        self.server.close(cid)


class LiveStack:
    name = "live"

    def __init__(self, live):
        self.live = live
        self.base_url = live.api_url.rstrip("/")
        self._staff()  # signed in, chat open, before the citizen asks for a person

    def _staff(self):
        staff = getattr(self.live, "staff", None)
        if staff is None:
            staff = self.live.staff = _signed_in_agent(self.live)
        return staff

    def claim(self, cid: str) -> None:
        self._staff().claim(cid)

    def reply(self, cid: str, text: str) -> None:
        self._staff().reply(cid, text)

    def close(self, cid: str) -> None:
        self._staff().close(cid)


def _signed_in_agent(live):
    """A staff member signed in to the real stack's staff API, with the chat open."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "handover"))
    from live_support import StaffClient, create_staff  # noqa: PLC0415

    create_staff(live.env, "widget.agent@mjolby.se", "agent", "Anna")
    create_staff(live.env, "widget.admin@mjolby.se", "admin", "")
    admin = StaffClient(live.api_url, "widget.admin@mjolby.se")
    # Open the chat whatever the time of day the tests run.
    admin.put("/api/v1/staff/availability", json={"mode": "open"}).raise_for_status()
    return StaffClient(live.api_url, "widget.agent@mjolby.se")


# The citizen's flows run against the fake (every error state on demand) and
# against the real stack (API, Rasa, actions, staff API). WIDGET_LIVE=0 skips
# the real one for quick runs while developing the widget.
STACKS = ["fake"] + ([] if os.environ.get("WIDGET_LIVE") == "0" else [pytest.param("live", marks=pytest.mark.live)])


@pytest.fixture
def fake_stack(chat_server):
    """Only the fake: for flows whose timing the tests script step by step."""
    return FakeStack(chat_server)


@pytest.fixture(params=STACKS)
def stack(request):
    if request.param == "fake":
        return FakeStack(request.getfixturevalue("chat_server"))
    return LiveStack(request.getfixturevalue("live_stack"))


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
