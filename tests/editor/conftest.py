"""Fixtures of the editors' workspace tests.

The fixtures of the API tests (tests/api/conftest.py) are loaded here too, so
every test that touches the database runs on SQLite and on PostgreSQL
(TEST_DATABASE_URL) in a transaction rolled back at the end; and those of the
console's browser tests (tests/console/conftest.py: `browser`, `page` with
Debian's Chromium, `console_stack`).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for folder in (TESTS / "api", TESTS / "handover", TESTS / "console", HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def _load_fixtures(name: str, conftest: Path) -> None:
    spec = importlib.util.spec_from_file_location(name, conftest)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    globals().update({key: value for key, value in vars(module).items() if not key.startswith("_")})


_load_fixtures("api_test_fixtures", TESTS / "api" / "conftest.py")
_load_fixtures("console_test_fixtures", TESTS / "console" / "conftest.py")
