"""Error responses: always {"detail": "<Swedish text>"}, never the citizen's input.

FastAPI's default 422 body echoes the rejected input back (and would put an
identity number in a response and in anything that logs it); these handlers
replace it with a short Swedish sentence naming only the field.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mjolby import texts
from mjolby.conversations.schemas import TEXT_EMPTY, TEXT_TOO_LONG
from mjolby.conversations.service import ConversationNotFound
from mjolby.ratelimit import RateLimited

logger = logging.getLogger(__name__)

_STATUS_TEXTS = {
    404: texts.ERROR_NOT_FOUND,
    405: texts.ERROR_METHOD_NOT_ALLOWED,
    413: texts.ERROR_BODY_TOO_LARGE,
    429: texts.ERROR_TOO_MANY_REQUESTS,
    500: texts.ERROR_INTERNAL,
}
_WRONG_TYPE = {
    "string_type", "int_type", "int_parsing", "float_type", "bool_type", "dict_type",
    "list_type", "model_type", "model_attributes_type", "none_required",
}


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str | None:
    names = [str(part) for part in loc[1:] if isinstance(part, str)]
    return ".".join(names) or None


def validation_detail(errors: list[dict[str, Any]]) -> str:
    """One Swedish sentence for the first problem; never includes the input."""
    if not errors:
        return texts.ERROR_INVALID_BODY
    first = errors[0]
    kind = first.get("type", "")
    field = _field(tuple(first.get("loc", ())))
    if kind == "json_invalid":
        return texts.ERROR_INVALID_JSON
    if kind == TEXT_EMPTY:
        return texts.ERROR_TEXT_EMPTY
    if field is None:
        return texts.ERROR_INVALID_BODY
    if kind == "missing":
        return texts.ERROR_FIELD_MISSING.format(field=field)
    if kind in _WRONG_TYPE:
        return texts.ERROR_FIELD_WRONG_TYPE.format(field=field)
    return texts.ERROR_FIELD_INVALID.format(field=field)


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    # Logged by location and kind only: the input may hold personal data.
    summary = ", ".join(f"{'.'.join(map(str, e.get('loc', ())))}:{e.get('type')}" for e in errors)
    if any(e.get("type") == TEXT_TOO_LONG for e in errors):
        logger.info("413 %s %s: text too long", request.method, request.url.path)
        return _error(413, texts.ERROR_TEXT_TOO_LONG)
    logger.info("422 %s %s: %s", request.method, request.url.path, summary)
    return _error(422, validation_detail(errors))


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = _STATUS_TEXTS.get(exc.status_code, texts.ERROR_GENERIC)
    return _error(exc.status_code, detail, headers=getattr(exc, "headers", None))


async def _on_not_found(request: Request, exc: ConversationNotFound) -> JSONResponse:
    return _error(404, texts.ERROR_NOT_FOUND_CONVERSATION)


async def _on_rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
    logger.info("429 %s %s: retry after %d s", request.method, request.url.path, exc.retry_after)
    return _error(429, texts.ERROR_TOO_MANY_REQUESTS, headers={"Retry-After": str(exc.retry_after)})


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("Unhandled error on %s %s", request.method, request.url.path,
                 exc_info=(type(exc), exc, exc.__traceback__))
    return _error(500, texts.ERROR_INTERNAL)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(ConversationNotFound, _on_not_found)  # type: ignore[arg-type]
    app.add_exception_handler(RateLimited, _on_rate_limited)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
