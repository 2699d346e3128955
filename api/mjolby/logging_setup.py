"""Logging to DATA_DIR/logs/api.log and stderr, with identity numbers masked.

Masking happens when a log record is created (a record factory), so every
handler sees the masked record: our own, uvicorn's (access log query strings
included) and any a test or an operator adds. Handlers we install also carry a
masking filter in case a record was made before the factory was in place.
"""
from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Mapping
from typing import Any

from mjolby.config import Settings
from mjolby.pii import mask

FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
_OWN_HANDLER = "_mjolby_handler"
# Loggers that uvicorn's default config keeps from propagating to the root.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.access")
# Chatty at INFO (one line per outgoing request) and not needed on the hot path.
_QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "multipart")
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
        mask_record(record)
        return True


_factory_installed = False


def install_masking_record_factory() -> None:
    """Mask every log record of the process when it is created (idempotent)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

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

    file_handler = _own(
        logging.handlers.RotatingFileHandler(
            settings.log_dir / "api.log", maxBytes=5_000_000, backupCount=5, encoding="utf-8"
        )
    )
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
