"""The insight page in headless Chromium (Debian's): an admin opens it, changes the
period, downloads a CSV with a known figure; charts are drawn; axe finds nothing."""
from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from console_support import assert_no_axe_violations  # noqa: E402
from insight_support import build  # noqa: E402
from live_support import PASSWORD, ApiProcess, FakeBot, api_env, create_staff, free_port  # noqa: E402
from mjolby.db import Database  # noqa: E402

pytestmark = pytest.mark.browser
ADMIN = "chef@mjolby.se"


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("insight")
    bot = FakeBot()
    url = f"sqlite:///{data_dir / 'app.db'}"
    env = api_env(data_dir, url, bot)
    api = ApiProcess(env, free_port(), data_dir / "api.out")
    try:
        api.start()  # migrates the database
        create_staff(env, ADMIN, "admin")
        database = Database(url)
        with database.session() as db:
            build(db)
        database.dispose()
        yield api.url
    finally:
        api.stop()
        bot.close()


def test_admin_changes_the_period_and_downloads_a_csv(api_url: str, page: Page, tmp_path: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(api_url + "/staff/insikt")
    expect(page).to_have_url(re.compile(r"/staff/logga-in"))
    page.get_by_label("E-postadress").fill(ADMIN)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Insikt för Medborgarservice")
    expect(page.locator("#diagram-volym svg")).to_have_count(1)  # the chart library drew the chart
    assert_no_axe_violations(page, "insight page, 30 days")

    page.get_by_role("radio", name="Egna datum").check()
    page.get_by_label("Från och med").fill("2026-11-23")
    page.get_by_label("Till och med").fill("2026-11-23")
    page.get_by_role("button", name="Visa").click()
    expect(page.locator("#period-text")).to_contain_text("2026-11-23 (1 dag)")
    overview = page.get_by_role("table", name="Översikt")
    expect(overview.get_by_role("row", name=re.compile(r"^Samtal 15"))).to_have_count(1)
    expect(page.locator("#diagram-vantetid svg")).to_have_count(1)
    assert_no_axe_violations(page, "insight page, one day")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Ladda ner ”Översikt” som CSV").click()
    download = download_info.value
    assert download.suggested_filename == "insikt-oversikt-2026-11-23-2026-11-23.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "Mått;Perioden;Föregående period;Förändring"
    assert lines[1].startswith("Samtal;15;")
    assert not errors, errors
