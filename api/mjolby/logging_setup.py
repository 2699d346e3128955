"""Logging to DATA_DIR/logs/api.log and stderr, with identity numbers masked.

Masking happens when a log record is created (a record factory), so every
handler sees the masked record: our own, uvicorn's (access log query strings
included) and any a test or an operator adds. Handlers we install also carry a
masking filter in case a record was made before the factory was in place.

The same place makes records anonymous in three more ways: database errors
show neither statement parameters nor the database's own detail lines
(PostgreSQL repeats the failing row there); conversation ids become a keyed
pseudonym; the access log keeps only the client's network (/24 for IPv4, /48
for IPv6).

Log files rotate at midnight and are kept LOG_RETENTION_DAYS days.
`python -m mjolby.logging_setup --to rasa.log` writes its standard input to
such a file, for the processes scripts/start.sh runs (Rasa, the actions).
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import logging
import logging.handlers
import re
import sys
import traceback
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from mjolby.config import Settings
# Log lines carry URLs (percent-encoded) and reprs (escaped): numbers are
# masked in those spellings too.
from mjolby_pii import mask_encoded as mask

FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
_OWN_HANDLER = "_mjolby_handler"
# Loggers that uvicorn's default config keeps from propagating to the root.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.access")
# Chatty at INFO (one line per outgoing request) and not needed on the hot path.
_QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "multipart")
# Their INFO lines are SQL statements; never wanted in these logs.
_SQL_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy.orm")
_exception_formatter = logging.Formatter()


def _mask_value(value: Any) -> Any:
    return mask(value)[0] if isinstance(value, str) else value


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask identity numbers in a record's message, arguments, traceback and stack."""
    if isinstance(record.msg, str):
        record.msg = mask(record.msg)[0]
    args = record.args
    if isinstance(args, tuple) and args:
        # Keep the arguments a tuple: uvicorn's access formatter unpacks them.
        record.args = tuple(_mask_value(a) for a in args)
    elif isinstance(args, Mapping) and args:
        record.args = {k: _mask_value(v) for k, v in args.items()}
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - leave a broken format to the handler's error path
        message = None
    # An argument whose str() holds a number (an exception, a URL object):
    # freeze the rendered, masked message instead.
    if message is not None and mask(message)[1]:
        record.msg, record.args = mask(message)[0], None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = mask(_exception_formatter.formatException(record.exc_info))[0]
    elif record.exc_text:
        record.exc_text = mask(record.exc_text)[0]
    if record.stack_info:
        record.stack_info = mask(record.stack_info)[0]
    return record


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(anonymise_record(record))
        return True


_factory_installed = False


def install_masking_record_factory() -> None:
    """Mask every log record of the process when it is created (idempotent)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(anonymise_record(previous(*args, **kwargs)))

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def _own(handler: logging.Handler) -> logging.Handler:
    setattr(handler, _OWN_HANDLER, True)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    return handler


def _remove_own_handlers(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        if getattr(handler, _OWN_HANDLER, False):
            logger.removeHandler(handler)
            handler.close()


def configure_logging(settings: Settings) -> None:
    """Set up logging for the API process. Calling it again replaces our handlers."""
    install_masking_record_factory()
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    level = logging.getLevelName(settings.log_level)

    set_pseudonym_key(settings)
    file_handler = _own(rotating_file_handler(settings, "api.log"))
    stderr_handler = _own(logging.StreamHandler(sys.stderr))

    root = logging.getLogger()
    _remove_own_handlers(root)
    root.addHandler(file_handler)
    root.addHandler(stderr_handler)
    root.setLevel(level)

    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        _remove_own_handlers(logger)
        # Uvicorn writes these to stderr itself; add the file so it has them too.
        if not logger.propagate:
            logger.addHandler(file_handler)
        for handler in logger.handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())

    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    for name in _SQL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


# -- rotation ----------------------------------------------------------------
def log_retention_days(settings: Settings) -> int:
    return settings.log_retention_days or 2


def rotating_file_handler(settings: Settings, name: str) -> logging.Handler:
    """A file under DATA_DIR/logs that starts afresh at midnight.

    Kept: today's file and LOG_RETENTION_DAYS - 1 earlier ones, so no line is
    older than LOG_RETENTION_DAYS days. A file last written before midnight
    is rotated by the first line after it, also after a restart.
    """
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    return logging.handlers.TimedRotatingFileHandler(
        settings.log_dir / name, when="midnight", backupCount=log_retention_days(settings) - 1,
        encoding="utf-8",
    )


def delete_expired_logs(log_dir: Path, *, now: datetime, days: int, dry_run: bool = False) -> int:
    """Delete rotated log files (name.log.2026-06-01) last written more than `days` ago.

    The handlers delete their own old files when they rotate, but only when
    something is logged; this catches a process that has stopped.
    """
    cutoff = (now - timedelta(days=days)).timestamp()
    removed = 0
    for path in sorted(log_dir.glob("*.*.*")) if log_dir.is_dir() else ():
        if path.is_file() and _ROTATED.search(path.name) and path.stat().st_mtime < cutoff:
            if not dry_run:
                path.unlink(missing_ok=True)
            removed += 1
    return removed


_ROTATED = re.compile(r"\.\d{4}-\d{2}-\d{2}(?:_\d{2}(?:-\d{2}){0,2})?$")


# -- pseudonyms and client networks --------------------------------------------
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_pseudonym_key = b"mjolby-log-pseudonyms"


def set_pseudonym_key(settings: Settings) -> None:
    """Key the conversation pseudonyms with SECRET_KEY: stable within a deployment,
    not reversible without the key."""
    global _pseudonym_key
    if settings.secret_key is not None:
        _pseudonym_key = b"log-pseudonym:" + settings.secret_key.get_secret_value().encode()


def pseudonym(conversation_id: str) -> str:
    """What logs show instead of a conversation id."""
    digest = hmac.new(_pseudonym_key, conversation_id.lower().encode(), hashlib.sha256).hexdigest()
    return f"conv-{digest[:12]}"


def pseudonymise_ids(text: str) -> str:
    return _UUID.sub(lambda match: pseudonym(match.group(0)), text)


def client_network(address: str) -> str:
    """An access log's client ("203.0.113.7:51234", "[2001:db8::1]:443"): its /24 or /48 network."""
    host = address.strip()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        head, _, port = host.rpartition(":")
        try:
            ip = ipaddress.ip_address(head.strip("[]")) if head and port.isdigit() else None
        except ValueError:
            ip = None
    if ip is None:
        return "-"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


# -- database errors -------------------------------------------------------------
_DRIVER_MODULES = ("psycopg", "psycopg2", "sqlite3", "asyncpg")
_SQLITE_CONSTRAINT = re.compile(r"^(?:CHECK|NOT NULL|UNIQUE|FOREIGN KEY) constraint failed(?:: [\w.]+)?$")


def _is_driver_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in _DRIVER_MODULES


def _is_database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import StatementError  # noqa: PLC0415 - only when a record has an exception

    return isinstance(exc, StatementError) or _is_driver_error(exc)


def _driver_summary(exc: BaseException) -> str:
    """Which error, where: never the values (PostgreSQL's DETAIL holds the failing row)."""
    parts = [f"{type(exc).__module__}.{type(exc).__qualname__}"]
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if code:
        parts.append(f"SQLSTATE {code}")
    diag = getattr(exc, "diag", None)
    for label, attribute in (("table", "table_name"), ("column", "column_name"),
                             ("constraint", "constraint_name")):
        value = getattr(diag, attribute, None) if diag is not None else None
        if value:
            parts.append(f"{label} {value}")
    name = getattr(exc, "sqlite_errorname", None)
    if name:
        parts.append(str(name))
    first_line = str(exc).split("\n", 1)[0].strip()
    if type(exc).__module__ == "sqlite3" and _SQLITE_CONSTRAINT.match(first_line):
        parts.append(first_line)
    return ", ".join(parts) + " (details hidden)"


def safe_database_error(exc: BaseException) -> str:
    """A database error as logs may show it: the kind of error and the statement, no values."""
    from sqlalchemy.exc import StatementError  # noqa: PLC0415

    if isinstance(exc, StatementError):
        orig = exc.orig
        summary = _driver_summary(orig) if orig is not None else type(exc).__name__
        statement = " ".join((exc.statement or "").split())
        return f"({summary}) [SQL: {statement}] [statement parameters hidden]"
    return _driver_summary(exc)


def _exception_chain(exc: BaseException | None) -> list[BaseException]:
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return chain


def _redacted_traceback(exc_info: tuple[type[BaseException], BaseException, TracebackType | None]) -> str | None:
    """The formatted exception with every database error's text replaced, or None if it has none."""
    chain = _exception_chain(exc_info[1])
    replacements = [(str(exc), safe_database_error(exc)) for exc in chain if _is_database_error(exc)]
    if not replacements:
        return None
    text = "".join(traceback.format_exception(*exc_info)).rstrip("\n")
    # Longest first: a StatementError's text contains its driver error's.
    for original, safe in sorted(replacements, key=lambda pair: len(pair[0]), reverse=True):
        if original:
            text = text.replace(original, safe)
    return text


def anonymise_record(record: logging.LogRecord) -> logging.LogRecord:
    """Hide database values, pseudonymise conversation ids, shorten client addresses."""
    if record.exc_info and record.exc_info[1] is not None:
        redacted = _redacted_traceback(record.exc_info)  # type: ignore[arg-type]
        if redacted is not None:
            # The formatted text replaces the live exception, which would be formatted in full.
            record.exc_text, record.exc_info = redacted, None
    args = record.args
    if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
        # uvicorn's access formatter unpacks (client_addr, method, full_path, http_version, status).
        client, method, path, version, status = args
        record.args = (client_network(str(client)), method, pseudonymise_ids(str(path)), version, status)
        return record
    if isinstance(args, tuple) and any(isinstance(a, BaseException) and _is_database_error(a) for a in args):
        record.args = tuple(safe_database_error(a) if isinstance(a, BaseException) and _is_database_error(a)
                            else a for a in args)
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - leave a broken format to the handler's error path
        return record
    if _UUID.search(message):
        record.msg, record.args = pseudonymise_ids(message), None
    return record


# -- a rotating writer for other processes' output ---------------------------------
def pipe_to_log(settings: Settings, name: str, stream: Any = None) -> None:
    """Copy lines from `stream` (standard input) to DATA_DIR/logs/`name`, rotated by age,
    with the same masking as the API's own logs. Returns at end of input."""
    install_masking_record_factory()
    set_pseudonym_key(settings)
    handler = rotating_file_handler(settings, name)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(logging.Formatter("%(message)s"))
    source = stream if stream is not None else sys.stdin.buffer
    try:
        for raw in iter(source.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            handler.handle(logging.LogRecord(name, logging.INFO, __file__, 0, line, None, None))
            handler.flush()
    finally:
        handler.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mjolby.logging_setup",
        description="Write standard input to a log file under DATA_DIR/logs that rotates at "
                    "midnight and is kept LOG_RETENTION_DAYS days.",
    )
    parser.add_argument("--to", required=True, help="file name under DATA_DIR/logs, e.g. rasa.log")
    args = parser.parse_args(argv)
    if Path(args.to).name != args.to:
        parser.error("--to takes a file name, not a path")
    pipe_to_log(Settings(), args.to)
    return 0


if __name__ == "__main__":
    sys.exit(main())
