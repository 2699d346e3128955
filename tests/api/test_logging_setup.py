"""Logging: identity numbers are masked in every record, whoever logs it."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from uvicorn.logging import AccessFormatter

from api_support import make_settings
from mjolby.logging_setup import configure_logging, mask_record
from mjolby_pii import MASK

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


# --------------------------------------------------------------------------
# Database errors, access logs, conversation ids, rotation

SECRET = "Greta Persson har diabetes, ring 070-555 12 34"


def flushed(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_database_errors_are_logged_without_what_was_written(configured: Path, engine) -> None:
    from sqlalchemy import insert
    from sqlalchemy.exc import DBAPIError

    from mjolby.conversations.models import Message

    logger = logging.getLogger("mjolby.test")
    with engine.connect() as connection:
        try:
            connection.execute(insert(Message.__table__).values(
                conversation_id="no-such-conversation", sender="nobody", text=SECRET))
        except DBAPIError as exc:
            error = exc
            logger.exception("Storing a message failed")
            logger.error("Storing a message failed again: %s", exc)
        else:
            raise AssertionError("the check constraint did not fire")
        finally:
            connection.rollback()
    assert "[parameters:" not in str(error) and "hidden due to hide_parameters" in str(error)
    content = flushed(configured)
    assert "Storing a message failed" in content and "Storing a message failed again" in content
    assert SECRET not in content and "070-555" not in content and "Failing row" not in content
    assert "[statement parameters hidden]" in content
    assert "sender" in content  # which constraint failed still shows


def test_the_access_log_keeps_the_network_and_a_pseudonym(configured: Path) -> None:
    from mjolby.logging_setup import pseudonym

    conversation_id = "3f0c8a52-9a43-4c3e-8a8e-1d2b3c4d5e6f"
    formatter = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s')

    def line(client: str, path: str) -> str:
        item = record('%s - "%s %s HTTP/%s" %d', (client, "GET", path, "1.1", 200), name="uvicorn.access")
        return formatter.format(item)

    ipv4 = line("203.0.113.77:51234", f"/api/v1/conversations/{conversation_id}/messages?after=3")
    assert ipv4.startswith("203.0.113.0/24 - ")
    assert "203.0.113.77" not in ipv4 and "51234" not in ipv4
    assert conversation_id not in ipv4
    assert f"/api/v1/conversations/{pseudonym(conversation_id)}/messages?after=3" in ipv4
    ipv6 = line("2001:db8:abcd:12:1:2:3:4:443", f"/api/v1/conversations/{conversation_id}/events")
    assert ipv6.startswith("2001:db8:abcd::/48 - ") and "1:2:3:4" not in ipv6
    # The same conversation keeps its pseudonym; another gets its own.
    assert pseudonym(conversation_id) in ipv6
    assert pseudonym(conversation_id) != pseudonym("9e1b7a52-0000-4c3e-8a8e-1d2b3c4d5e6f")
    content = flushed(configured)
    assert conversation_id not in content and "203.0.113.77" not in content


def test_the_pseudonym_is_keyed(tmp_path: Path) -> None:
    from mjolby.logging_setup import pseudonym

    conversation_id = "3f0c8a52-9a43-4c3e-8a8e-1d2b3c4d5e6f"
    configure_logging(make_settings(tmp_path / "a", secret_key="a" * 40))
    first = pseudonym(conversation_id)
    configure_logging(make_settings(tmp_path / "b", secret_key="b" * 40))
    assert pseudonym(conversation_id) != first


def test_conversation_ids_in_other_lines_are_pseudonymised(configured: Path) -> None:
    from mjolby.logging_setup import pseudonym

    conversation_id = "3f0c8a52-9a43-4c3e-8a8e-1d2b3c4d5e6f"
    logging.getLogger("mjolby.test").error("Bot unreachable for conversation %s", conversation_id)
    content = flushed(configured)
    assert conversation_id not in content
    assert f"Bot unreachable for conversation {pseudonym(conversation_id)}" in content


def test_log_files_rotate_at_midnight_and_are_kept_the_set_number_of_days(tmp_path: Path) -> None:
    import os
    from datetime import datetime, timedelta
    from logging.handlers import TimedRotatingFileHandler

    from mjolby.logging_setup import delete_expired_logs

    settings = make_settings(tmp_path / "var", retention_days=30, log_retention_days=3)
    log_dir = settings.log_dir
    log_dir.mkdir(parents=True)
    now = datetime.now()
    old = {}
    for age in (6, 5, 4):
        path = log_dir / f"api.log.{now - timedelta(days=age):%Y-%m-%d}"
        path.write_text(f"line from {age} days ago\n", encoding="utf-8")
        stamp = (now - timedelta(days=age) + timedelta(hours=1)).timestamp()  # written until 23:00
        os.utime(path, (stamp, stamp))
        old[age] = path
    current = log_dir / "api.log"
    current.write_text("line from the day before yesterday\n", encoding="utf-8")
    stamp = (now - timedelta(days=2)).timestamp()
    os.utime(current, (stamp, stamp))

    configure_logging(settings)
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, TimedRotatingFileHandler)]
    assert len(handlers) == 1
    assert (handlers[0].when, handlers[0].backupCount) == ("MIDNIGHT", 2)
    logging.getLogger("mjolby.test").warning("today")
    assert flushed(current).count("today") == 1
    rotated = sorted(p.name for p in log_dir.iterdir() if p.name.startswith("api.log."))
    assert rotated == [old[4].name, f"api.log.{now - timedelta(days=2):%Y-%m-%d}"]

    # The purge removes what a quiet process left behind.
    assert delete_expired_logs(log_dir, now=now.astimezone(), days=3) == 1
    assert not old[4].exists() and current.exists()


def test_log_retention_stays_within_the_retention_period(tmp_path: Path) -> None:
    from pydantic import ValidationError

    assert make_settings(tmp_path).log_retention_days == 14
    assert make_settings(tmp_path, retention_days=7).log_retention_days == 7
    assert make_settings(tmp_path, retention_days=30, log_retention_days=30).log_retention_days == 30
    with pytest.raises(ValidationError, match="LOG_RETENTION_DAYS"):
        make_settings(tmp_path, retention_days=10, log_retention_days=20)


def test_other_processes_output_goes_through_the_rotating_writer(tmp_path: Path) -> None:
    import os
    import subprocess

    from mjolby.logging_setup import pseudonym

    api_dir = Path(__file__).resolve().parents[2] / "api"
    conversation_id = "3f0c8a52-9a43-4c3e-8a8e-1d2b3c4d5e6f"
    env = {**os.environ, "PYTHONPATH": str(api_dir), "DATA_DIR": str(tmp_path / "var"),
           "ENVIRONMENT": "development", "LOG_RETENTION_DAYS": "5"}
    env.pop("SECRET_KEY", None)
    lines = f"Rasa started\nsender_id {conversation_id} said {NUMBER}\n"
    done = subprocess.run([sys.executable, "-m", "mjolby.logging_setup", "--to", "rasa.log"], input=lines,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    content = (tmp_path / "var" / "logs" / "rasa.log").read_text(encoding="utf-8")
    assert content.splitlines()[0] == "Rasa started"
    assert conversation_id not in content and NUMBER not in content
    assert f"sender_id {pseudonym(conversation_id)} said {MASK}" in content

    start = (api_dir.parent / "scripts" / "start.sh").read_text(encoding="utf-8")
    # Every service started there writes through it, none appends to a file that never rotates.
    assert start.count("> >(log_to ") == 4  # actions, API, Rasa and the publishing worker
    for name in ("actions.log", "rasa.log", "rasa.out", "api.out", "worker.log"):
        assert f'>>"$LOG_DIR/{name}"' not in start
    assert "--log-file" not in start
