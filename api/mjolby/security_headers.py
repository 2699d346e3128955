"""Security headers on every response.

- Content-Security-Policy: scripts, styles and connections from this origin
  only. Nothing may show our pages in a frame (`frame-ancestors 'none'`),
  except the widget's own pages (/widget/...), which the pages listed in
  FRAME_ANCESTORS may frame. The widget itself is a script tag on the host
  page, so it needs no framing.
- X-Content-Type-Options: nosniff, and a Referrer-Policy (none at all from the
  staff console and the API).
- Strict-Transport-Security in production.
- Cache-Control: no-store on the staff console and the conversation API, so
  that no browser or proxy keeps a copy of a conversation.
"""
from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000; includeSubDomains"
_PAGE_SOURCES = (
    "default-src 'self'; script-src 'self'; style-src 'self'{styles}; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors {ancestors}"
)
# JSON and event streams: nothing to load, nothing to frame.
API_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)

NO_STORE_PREFIXES = ("/staff", "/api/v1/staff", "/api/v1/conversations")


def inline_style_hashes(folder: Path) -> list[str]:
    """CSP hashes of the inline <style> blocks of the widget's pages (they are built with them)."""
    hashes: set[str] = set()
    if folder.is_dir():
        for page in sorted(folder.glob("*.html")):
            for block in _STYLE_BLOCK.findall(page.read_text(encoding="utf-8")):
                digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
                hashes.add(f"'sha256-{digest}'")
    return sorted(hashes)


def _page_csp(ancestors: Iterable[str], styles: Iterable[str] = ()) -> str:
    styles = "".join(f" {s}" for s in styles)
    return _PAGE_SOURCES.format(styles=styles, ancestors=" ".join(ancestors) or "'none'")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, production: bool, frame_ancestors: list[str],
                 widget_dir: Path) -> None:
        self.app = app
        self.hsts = production
        self.page_csp = _page_csp(["'none'"])
        self.widget_csp = _page_csp(["'self'", *frame_ancestors], inline_style_hashes(widget_dir))

    def headers_for(self, path: str) -> dict[str, str]:
        staff = _under(path, "/staff") or _under(path, "/api/v1/staff")
        if _under(path, "/api"):
            headers = {"Content-Security-Policy": API_CSP, "X-Frame-Options": "DENY"}
        elif _under(path, "/widget"):
            headers = {"Content-Security-Policy": self.widget_csp}
        else:
            headers = {"Content-Security-Policy": self.page_csp, "X-Frame-Options": "DENY"}
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer" if staff or _under(path, "/api") \
            else "strict-origin-when-cross-origin"
        if self.hsts:
            headers["Strict-Transport-Security"] = HSTS
        if any(_under(path, prefix) for prefix in NO_STORE_PREFIXES) and not _under(path, "/staff/static"):
            headers["Cache-Control"] = "no-store"
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")
