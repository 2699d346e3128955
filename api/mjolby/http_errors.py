"""The one place where errors become HTTP responses: always {"detail": "<Swedish text>"}
(plus "code" for domain errors that have one), never the citizen's input.

- Domain errors (mjolby.errors) get their status here: InvalidInput 422,
  NotFound 404, Conflict 409, Unauthorized 401, Forbidden 403, RateLimited 429
  with Retry-After. Under /staff/ the console shows them as an HTML page
  (it registers its renderer on the app).
- FastAPI's default 422 body echoes the rejected input back (and would put an
  identity number in a response and in anything that logs it); these handlers
  replace it with a short Swedish sentence naming only the field.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from mjolby import texts
from mjolby.conversations.schemas import TEXT_EMPTY, TEXT_TOO_LONG, TEXT_UNSTORABLE
from mjolby.conversations.service import ConversationNotFound
from mjolby.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLong,
    Unauthorized,
)

logger = logging.getLogger(__name__)

_STATUS_TEXTS = {
    # FastAPI's only 400 is a body it could not decode (bytes that are not UTF-8).
    400: texts.ERROR_INVALID_JSON,
    404: texts.ERROR_NOT_FOUND,
    405: texts.ERROR_METHOD_NOT_ALLOWED,
    413: texts.ERROR_BODY_TOO_LARGE,
    429: texts.ERROR_TOO_MANY_REQUESTS,
    500: texts.ERROR_INTERNAL,
}
DOMAIN_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    RateLimited: 429,
    TooLong: 413,
}
_WRONG_TYPE = {
    "string_type", "int_type", "int_parsing", "float_type", "bool_type", "dict_type",
    "list_type", "model_type", "model_attributes_type", "none_required",
}
# Text no database or client can take: NUL, or a lone surrogate ("\ud800" in JSON).
_UNSTORABLE = {TEXT_UNSTORABLE, "string_unicode"}


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
    if kind == TEXT_EMPTY or (kind == "string_too_short" and field == "text"):
        return texts.ERROR_TEXT_EMPTY
    if kind in _UNSTORABLE and field == "text":
        return texts.ERROR_TEXT_UNSTORABLE
    if field is None:
        return texts.ERROR_INVALID_BODY
    if kind in _UNSTORABLE:
        return texts.ERROR_FIELD_UNSTORABLE.format(field=field)
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
    if errors and errors[0].get("type") == "json_invalid":
        # CONTRACT.md: malformed JSON is a 400, a well-formed but wrong body a 422.
        logger.info("400 %s %s: %s", request.method, request.url.path, summary)
        return _error(400, texts.ERROR_INVALID_JSON)
    logger.info("422 %s %s: %s", request.method, request.url.path, summary)
    return _error(422, validation_detail(errors))


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path.

    Starlette's 405 names only the methods of the first route whose path
    matches, while a path often has one route per method.
    """
    return [
        method for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
               for route in request.app.router.routes)
    ]


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = _STATUS_TEXTS.get(exc.status_code, texts.ERROR_GENERIC)
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
    return _error(exc.status_code, detail, headers=headers or None)


def status_of(exc: DomainError) -> int:
    """The HTTP status of a domain error (500 for a kind nobody mapped)."""
    for kind in type(exc).__mro__:
        if kind in DOMAIN_STATUS:
            return DOMAIN_STATUS[kind]
    return 500


def _domain_headers(exc: DomainError) -> dict[str, str] | None:
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, Unauthorized) and exc.challenge:
        return {"WWW-Authenticate": exc.challenge}
    return None


async def _on_domain_error(request: Request, exc: DomainError) -> Response:
    status = status_of(exc)
    render = getattr(request.app.state, "console_error_renderer", None)
    if render is not None and request.url.path.startswith("/staff/"):
        return render(request, exc, status)  # the console shows an HTML page
    if isinstance(exc, RateLimited):
        logger.info("429 %s %s: retry after %d s", request.method, request.url.path, exc.retry_after)
    body = {"detail": exc.detail or _STATUS_TEXTS.get(status, texts.ERROR_GENERIC)}
    if exc.code is not None:
        body["code"] = exc.code
    return JSONResponse(body, status_code=status, headers=_domain_headers(exc))


async def _on_conversation_not_found(request: Request, exc: ConversationNotFound) -> JSONResponse:
    # The chat API's answer, on every path (the console never looks a conversation up by id).
    return _error(404, texts.ERROR_NOT_FOUND_CONVERSATION)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("Unhandled error on %s %s", request.method, request.url.path,
                 exc_info=(type(exc), exc, exc.__traceback__))
    return _error(500, texts.ERROR_INTERNAL)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _on_domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(ConversationNotFound, _on_conversation_not_found)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
