"""The published OpenAPI document, made to say what the API really answers.

FastAPI documents its own 422 body (`detail` as an array of problems); this
API answers every error with `{"detail": "<Swedish sentence>"}` (errors.py).
Every route that takes a body can also answer 400 (malformed JSON) and 413
(a body over the size limit, middleware.py), whether or not its handler
mentions them. Both are added here, in one place, for every route.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from mjolby.conversations.schemas import ErrorOut

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_BODY_ERRORS = {
    "400": "Ogiltig JSON (fel syntax eller inte UTF-8)",
    "413": "Förfrågan är för stor",
    "422": "Fel format på förfrågan (indata upprepas aldrig i svaret)",
}
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")
# One Server-Sent Event as clients parse it (OpenAPI 3.1: `schema` describes each event).
SSE_EVENT = {
    "type": "object",
    "description": "Ett Server-Sent Event: `data` är JSON, `id` ett meddelande-id när eventet är ett meddelande.",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "id": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "required": ["data"],
}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": dict(ERROR_REF)}}}


def describe_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Point every error response at ErrorOut and add the body errors of every route."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorOut"] = ErrorOut.model_json_schema()
    for name in _FASTAPI_ERROR_SCHEMAS:
        schemas.pop(name, None)
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                json_body = response.get("content", {}).get("application/json")
                if code[:1] in "45" and json_body is not None:
                    json_body["schema"] = dict(ERROR_REF)
                event_stream = response.get("content", {}).get("text/event-stream")
                if event_stream is not None:
                    event_stream["schema"] = SSE_EVENT
            if "requestBody" in operation:
                for code, description in _BODY_ERRORS.items():
                    responses.setdefault(code, _error_response(description))
    return spec


def install_openapi(app: FastAPI) -> None:
    generate = app.openapi  # FastAPI's own, which caches the document it builds
    described: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not described:
            described.append(describe_errors(generate()))
        return described[0]

    app.openapi = openapi  # type: ignore[method-assign]
