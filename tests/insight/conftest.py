"""Fixtures of the insight tests: the handover tests' databases (SQLite and,
with TEST_DATABASE_URL, PostgreSQL, emptied before each test), app and sign-in;
the console tests' Chromium."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HANDOVER = HERE.parent / "handover"
sys.path.insert(0, str(HERE.parent / "api"))
sys.path.insert(0, str(HANDOVER))
sys.path.insert(0, str(HERE))



def _fixtures(name: str, path: Path):  # noqa: ANN202 - a module
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The same fixtures as tests/handover and (the browser) tests/console, without a copy of them.
handover_fixtures = _fixtures("handover_fixtures", HANDOVER / "conftest.py")
console_fixtures = _fixtures("console_fixtures", HERE.parent / "console" / "conftest.py")
for _name in ("backend", "database_url", "engine", "session_factory", "clock", "bot", "app_factory", "app",
              "client", "make_staff", "sign_in"):
    globals()[_name] = getattr(handover_fixtures, _name)
browser = console_fixtures.browser
page = console_fixtures.page
