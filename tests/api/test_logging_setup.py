"""Logging: identity numbers are masked in every record, whoever logs it."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from uvicorn.logging import AccessFormatter

from api_support import make_settings
from mjolby.logging_setup import configure_logging, mask_record
from mjolby.pii import MASK

NUMBER = "19811228-9874"


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    settings = make_settings(tmp_path / "var")
    configure_logging(settings)
    return settings.log_dir / "api.log"


def record(msg: object, args: object = None, exc_info: object = None,
           name: str = "test") -> logging.LogRecord:
    return logging.getLogRecordFactory()(name, logging.INFO, __file__, 1, msg, args, exc_info)


def test_message_args_and_dict_args_are_masked(configured: Path) -> None:
    assert record(f"number {NUMBER}").getMessage() == f"number {MASK}"
    assert record("number %s", (NUMBER,)).getMessage() == f"number {MASK}"
    assert record("number %(n)s", ({"n": NUMBER},)).getMessage() == f"number {MASK}"
    assert record("number %s", (ValueError(NUMBER),)).getMessage() == f"number {MASK}"


def test_traceback_is_masked(configured: Path) -> None:
    try:
        raise ValueError(f"bad input {NUMBER}")
    except ValueError:
        item = record("failed", exc_info=sys.exc_info())
    formatted = logging.Formatter().format(item)
    assert "ValueError: bad input" in formatted
    assert NUMBER not in formatted and MASK in formatted


def test_uvicorn_access_record_keeps_its_shape(configured: Path) -> None:
    item = record('%s - "%s %s HTTP/%s" %d',
                  ("127.0.0.1:5000", "GET", f"/api/v1/conversations/x/messages?pnr={NUMBER}", "1.1", 200),
                  name="uvicorn.access")
    assert isinstance(item.args, tuple) and len(item.args) == 5
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(item)
    assert NUMBER not in line
    assert f"pnr={MASK}" in line


def test_records_reach_the_file_masked(configured: Path, caplog: pytest.LogCaptureFixture) -> None:
    logging.getLogger("mjolby.test").warning("citizen wrote %s", NUMBER)
    logging.getLogger("uvicorn.error").error("Exception in ASGI application: %s", NUMBER)
    for handler in logging.getLogger().handlers:
        handler.flush()
    content = configured.read_text(encoding="utf-8")
    assert f"citizen wrote {MASK}" in content
    assert NUMBER not in content
    assert NUMBER not in caplog.text and MASK in caplog.text


def test_configuring_twice_does_not_duplicate_lines(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var")
    configure_logging(settings)
    configure_logging(settings)
    logging.getLogger("mjolby.test").warning("once")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert (settings.log_dir / "api.log").read_text(encoding="utf-8").count("once") == 1


def test_mask_record_leaves_clean_records_alone() -> None:
    item = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    assert mask_record(item).args == ("world",)
    assert item.getMessage() == "hello world"
