"""A tiny stand-in for the API's internal routes, for the handover action tests.

It runs a real HTTP server on 127.0.0.1 in a thread, so the actions' httpx
client, bearer token and timeouts are exercised as in production. Each test
scripts the answers (status, JSON body, optional delay) per route and reads
back the requests the actions made.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

TOKEN = "test-internal-token"


@dataclass
class Recorded:
    method: str
    path: str
    headers: Dict[str, str]
    body: Optional[Dict[str, Any]]


@dataclass
class FakeInternalApi:
    routes: Dict[Tuple[str, str], Tuple[int, Any, float]] = field(default_factory=dict)
    requests: List[Recorded] = field(default_factory=list)
    url: str = ""

    def answer(self, method: str, path: str, status: int, body: Any, delay: float = 0.0) -> None:
        self.routes[(method, path)] = (status, body, delay)

    def calls(self, method: str, path: str) -> List[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]


def serve() -> Tuple[FakeInternalApi, ThreadingHTTPServer]:
    api = FakeInternalApi()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            api.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, payload, delay = 401, {"detail": "unauthorised"}, 0.0
            else:
                status, payload, delay = api.routes.get(
                    (self.command, self.path), (404, {"detail": "not found"}, 0.0)
                )
            if delay:
                time.sleep(delay)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return api, server


import pytest  # noqa: E402


@pytest.fixture
def internal_api(monkeypatch):
    """The fake internal API, with the actions' settings pointed at it."""
    from actions import settings

    api, server = serve()
    monkeypatch.setattr(settings, "API_URL", api.url)
    monkeypatch.setattr(settings, "INTERNAL_API_TOKEN", TOKEN)
    monkeypatch.setattr(settings, "API_TIMEOUT_SECONDS", 1.0)
    yield api
    server.shutdown()
    server.server_close()


@pytest.fixture
def api_down(monkeypatch):
    """Settings pointing at a port where nothing listens."""
    import socket

    from actions import settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(settings, "API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(settings, "INTERNAL_API_TOKEN", TOKEN)
    monkeypatch.setattr(settings, "API_TIMEOUT_SECONDS", 1.0)
