"""Errors of the handover and staff routes: {"detail": "<Swedish>", "code": "<machine>"}.

The API's generic HTTP error handler replaces every detail with a standard
sentence per status; these errors carry their own sentence (for example
"Någon annan har redan tagit ärendet.") and a stable code for clients.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


class ApiError(Exception):
    def __init__(self, status: int, detail: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = headers


async def _on_api_error(request: Request, exc: ApiError) -> Response:
    render = getattr(request.app.state, "console_error_renderer", None)
    if render is not None and request.url.path.startswith("/staff/"):
        return render(request, exc)  # the console shows an HTML page
    return JSONResponse({"detail": exc.detail, "code": exc.code}, status_code=exc.status, headers=exc.headers)


def install_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)  # type: ignore[arg-type]
