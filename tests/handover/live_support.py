"""A running API (uvicorn in a subprocess) with a stand-in bot, for the tests that
need real HTTP: live streams, several API processes, restarts, the browser.

The stand-in bot answers on Rasa's gateway routes and does what the real
handover actions do, over HTTP against the API's internal routes with the
bearer token: "människa" queues the conversation (or offers a contact request
when nobody can chat), `/rate{"rating":N}` stores the rating. The full path
with the real Rasa bot is tests/handover/test_e2e_handover.py (live_stack).
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
API_DIR = REPO / "api"
INTERNAL_TOKEN = "handover-test-internal-token-0123456789abcdef"
PASSWORD = "rätt-häst-batteri-häftklammer"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeBot:
    """Rasa's gateway channel and the action server, as far as the handover needs."""

    def __init__(self) -> None:
        self.api_url = ""
        self.received: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _internal(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.api_url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {INTERNAL_TOKEN}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def replies(self, sender: str, message: str) -> list[dict[str, Any]]:
        self.received.append(message)
        handover = {"topic": "handover_request", "links": [], "buttons": [], "custom": None}
        rating = re.match(r'^/rate\{"rating":\s*(\d)\}$', message)
        if rating:
            self._internal("POST", f"/api/v1/internal/conversations/{sender}/rating", {"rating": int(rating[1])})
            return [dict(handover, text="Tack för ditt svar!")]
        if "människa" in message.lower() or message == "/handover_request":
            status, body = self._internal("POST", "/api/v1/internal/handover/cases",
                                          {"conversation_id": sender, "reason": "user_request", "topic": None})
            if status == 201:
                queue = body["queue"]
                return [dict(handover, text=f"Du är nummer {queue['position']} i kön och väntetiden är ungefär "
                                            f"{queue['estimated_wait_minutes']} minuter.",
                             buttons=[{"title": "Avbryt väntan", "payload": "/cancel_handover"}])]
            return [dict(handover, text="Ingen kan chatta just nu. Vill du att vi kontaktar dig?",
                         buttons=[{"title": "Ja, kontakta mig", "payload": "/affirm"}])]
        return [{"text": "Jag förstod inte riktigt.", "topic": None, "links": [], "buttons": [], "custom": None}]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path in ("/webhooks/gateway/health", "/health"):
                    self._send(200, {"status": "ok", "model": True})
                else:
                    self._send(404, {"detail": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                self._send(200, bot.replies(body["sender"], body["message"]))

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@dataclass
class ApiProcess:
    """One uvicorn process of the API."""

    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "mjolby.main:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--no-access-log"],
            cwd=API_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the API stopped while starting:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the API did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def api_env(data_dir: Path, database_url: str, bot: FakeBot, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ENVIRONMENT="development",
        DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        RASA_URL=bot.url,
        ACTION_SERVER_URL=bot.url,
        INTERNAL_API_TOKEN=INTERNAL_TOKEN,
        RATE_LIMIT_CLIENT_PER_MINUTE="0",
        RATE_LIMIT_CONVERSATION_PER_MINUTE="1000",
        LOG_LEVEL="WARNING",
        REDIS_URL="",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def create_staff(env: dict[str, str], email: str, role: str, name: str = "") -> None:
    """Create an account with the staff CLI (as an administrator would)."""
    command = [sys.executable, "-m", "mjolby.staff.cli"]
    command += ["create-admin"] if role == "admin" else ["create-user", "--role", role]
    command += ["--email", email, "--name", name, "--password-stdin"]
    result = subprocess.run(command, cwd=API_DIR, env=env, input=PASSWORD + "\n", capture_output=True, text=True,
                            timeout=60)
    if result.returncode != 0 and "finns redan" not in result.stderr:
        raise RuntimeError(f"creating {email} failed: {result.stdout}{result.stderr}")


@dataclass
class StaffClient:
    """A signed-in staff member talking to the staff JSON API."""

    api_url: str
    email: str
    client: httpx.Client = field(init=False)
    csrf: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.api_url, timeout=10)
        response = self.client.post("/api/v1/staff/session", json={"email": self.email, "password": PASSWORD})
        response.raise_for_status()
        self.csrf = response.json()["csrf_token"]

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, json: Any = None) -> httpx.Response:
        return self.client.post(path, json=json, headers={"X-CSRF-Token": self.csrf})

    def put(self, path: str, json: Any = None) -> httpx.Response:
        return self.client.put(path, json=json, headers={"X-CSRF-Token": self.csrf})

    # Conversation-level helpers (what the widget's live tests need from staff).
    def case_of(self, conversation_id: str) -> int:
        queue = self.get("/api/v1/staff/queue").json()
        for entry in queue["waiting"] + queue["active"]:
            if entry["case"]["conversation_id"] == conversation_id:
                return entry["case"]["id"]
        raise LookupError(f"no open case for conversation {conversation_id}")

    def claim(self, conversation_id: str) -> int:
        case_id = self.case_of(conversation_id)
        self.post(f"/api/v1/staff/cases/{case_id}/claim").raise_for_status()
        return case_id

    def reply(self, conversation_id: str, text: str) -> None:
        case_id = self.case_of(conversation_id)
        self.post(f"/api/v1/staff/cases/{case_id}/messages", json={"text": text}).raise_for_status()

    def close_case(self, conversation_id: str, outcome: str = "resolved") -> None:
        case_id = self.case_of(conversation_id)
        self.post(f"/api/v1/staff/cases/{case_id}/close", json={"outcome": outcome}).raise_for_status()

    def close(self, conversation_id: str | None = None) -> None:
        """Close the open case of a conversation, or (without one) this client."""
        if conversation_id is None:
            self.client.close()
        else:
            self.close_case(conversation_id)


class SseReader:
    """Reads a Server-Sent Events stream in a thread and timestamps every event on arrival."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, cookies: Any = None) -> None:
        self.events: list[tuple[float, str | None, dict[str, Any]]] = []
        # For each ": ping" comment (the stream's periodic re-read found nothing
        # new), how many events had arrived before it.
        self.pings: list[int] = []
        self._condition = threading.Condition()
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None), cookies=cookies)
        self._url = url
        self._headers = headers or {}
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self.connected.wait(10):
            raise RuntimeError("the event stream did not connect")

    def _run(self) -> None:
        try:
            with self._client.stream("GET", self._url, headers=self._headers) as response:
                response.raise_for_status()
                self.connected.set()
                event_id, data = None, []
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("id:"):
                        event_id = line[3:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line.startswith(": ping"):
                        with self._condition:
                            self.pings.append(len(self.events))
                    elif line == "" and data:
                        with self._condition:
                            self.events.append((time.perf_counter(), event_id, json.loads("\n".join(data))))
                            self._condition.notify_all()
                        event_id, data = None, []
        except (httpx.HTTPError, RuntimeError):
            self.connected.set()

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> tuple[float, str | None, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for event in self.events:
                    if predicate(event[2]):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching event within {timeout} s; got {[e[2] for e in self.events]}")
                self._condition.wait(remaining)

    def pushed(self, pings_before: int, event: tuple[float, str | None, dict[str, Any]]) -> bool:
        """True when no ": ping" came between the moment `len(self.pings)` was
        `pings_before` and `event`: the event was pushed when it was written,
        not picked up by the stream's safety re-read (SAFETY_POLL_SECONDS)."""
        with self._condition:
            arrived = next(i for i, e in enumerate(self.events) if e is event)
            return not any(ping <= arrived for ping in self.pings[pings_before:])

    def close(self) -> None:
        self._stop.set()
        self._client.close()
