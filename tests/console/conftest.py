"""Fixtures of the staff console's browser tests (Debian chromium through Playwright).

`console_stack` runs the API in uvicorn with the stand-in bot of
tests/handover/live_support.py, and the real assistant through the session
fixture `live_stack` (tests/conftest.py; CONSOLE_LIVE=0 leaves that out).
Staff accounts are made with the staff CLI, and an admin opens the chat so
that the tests do not depend on the time of day.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "handover"))
sys.path.insert(0, str(HERE.parent / "api"))
sys.path.insert(0, str(HERE))

from console_support import ADMIN, AGENT  # noqa: E402
from live_support import ApiProcess, FakeBot, StaffClient, api_env, create_staff, free_port  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass
class ConsoleStack:
    api_url: str
    internal_token: str
    kind: str


def _prepare(api_url: str, env: dict[str, str]) -> None:
    create_staff(env, AGENT, "agent", "Anna")
    create_staff(env, ADMIN, "admin", "")
    admin = StaffClient(api_url, ADMIN)
    assert admin.put("/api/v1/staff/availability", json={"mode": "open"}).status_code == 200
    admin.close()


@pytest.fixture(scope="module", params=["stand-in bot", pytest.param("live", marks=pytest.mark.live)])
def console_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    if request.param == "live":
        if os.environ.get("CONSOLE_LIVE") == "0":
            pytest.skip("CONSOLE_LIVE=0: the console is not tested against the real assistant in this run")
        live = request.getfixturevalue("live_stack")
        _prepare(live.api_url, live.env)
        yield ConsoleStack(live.api_url, live.internal_token, "live")
        return
    data_dir = tmp_path_factory.mktemp("console")
    bot = FakeBot()
    env = api_env(data_dir, f"sqlite:///{data_dir / 'app.db'}", bot)
    api = ApiProcess(env, free_port(), data_dir / "api.out")
    try:
        api.start()
        bot.api_url = api.url
        _prepare(api.url, env)
        yield ConsoleStack(api.url, env["INTERNAL_API_TOKEN"], "stand-in")
    finally:
        api.stop()
        bot.close()


# Module scope, not session: Playwright's sync API keeps an event loop running
# in the main thread while it is open, which breaks later tests that call asyncio.run().
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
