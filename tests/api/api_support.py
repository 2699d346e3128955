"""Fakes and helpers shared by the API tests (imported by conftest.py and tests)."""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from mjolby.config import Settings, normalise_database_url

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
PG_SKIP_REASON = "PostgreSQL variant skipped: TEST_DATABASE_URL is not set"
# Internal names that must never reach a citizen.
RASA_URL = "http://rasa.internal.example:5005"
ACTION_SERVER_URL = "http://actions.internal.example:5055"


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema on the shared server; yields a URL that uses only it."""
    base_url = normalise_database_url(base_url)
    name = f"test_api_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, poolclass=NullPool)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """An empty database of the given backend (not migrated)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}"
        return
    if not TEST_DATABASE_URL:
        pytest.skip(PG_SKIP_REASON)
    with postgres_schema(TEST_DATABASE_URL) as url:
        yield url


class FakeRasa:
    """Answers like the gateway channel of CONTRACT.md's bot, over httpx.MockTransport."""

    BYGGLOV = "Bygglov söker du i e-tjänsten. Handläggningen tar upp till tio veckor."

    def __init__(self) -> None:
        self.webhook_requests: list[dict[str, Any]] = []
        self.mode = "up"  # up | down | timeout | error | not_json
        self.model_loaded = True
        self.action_server_up = True
        self.health_probes = 0
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "down":
            raise httpx.ConnectError("Connection refused", request=request)
        if request.url.port == 5055:
            if not self.action_server_up:
                raise httpx.ConnectError("Connection refused", request=request)
            return httpx.Response(200, json={"status": "ok"})
        if request.url.path == "/webhooks/gateway/health":
            self.health_probes += 1
            if self.model_loaded:
                return httpx.Response(200, json={"status": "ok", "model": True})
            return httpx.Response(503, json={"status": "ok", "model": False})
        if request.url.path != "/webhooks/gateway/webhook":
            return httpx.Response(404, json={"detail": "not found"})
        if self.mode == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if self.mode == "error":
            return httpx.Response(500, text="Traceback (most recent call last): rasa.internal")
        if self.mode == "not_json":
            return httpx.Response(200, text="<html>proxy error</html>")
        body = json.loads(request.content)
        self.webhook_requests.append(body)
        return httpx.Response(200, json=self.replies(body["message"]))

    @property
    def messages_received(self) -> list[str]:
        return [r["message"] for r in self.webhook_requests]

    @staticmethod
    def message(text: str | None, topic: str | None = None, links: list[dict[str, str]] | None = None,
                buttons: list[dict[str, str]] | None = None,
                custom: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"text": text, "buttons": buttons or [], "topic": topic, "links": links or [],
                "custom": custom}

    def replies(self, message: str) -> list[dict[str, Any]]:
        lowered = message.lower()
        if "bygglov" in lowered or message == "/faq_bygglov":
            return [self.message(self.BYGGLOV, "bygglov", links=[
                {"title": "Bygglov på mjolby.se", "url": "https://www.mjolby.se/bygglov"},
                {"title": "Intern sida", "url": "http://intranet.example/bygglov"},
            ])]
        if "två svar" in lowered:
            return [self.message("Först det här.", "avfall_hamtning"),
                    self.message("Och sedan det här.", "atervinningscentral")]
        if "bara custom" in lowered:
            return [self.message(None, custom={"handover": True}),
                    self.message("Jag kopplar dig vidare.", "handover_request")]
        if "tyst" in lowered:
            return []
        return [self.message(
            "Jag förstod inte riktigt. Menade du något av det här?", None,
            buttons=[{"title": "Bygglov", "payload": "/faq_bygglov"},
                     {"title": "Prata med Medborgarservice", "payload": "/handover_request"}],
        )]


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        # A microsecond per reading keeps timestamps strictly increasing.
        self.now += timedelta(microseconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "development",
        "data_dir": data_dir,
        "database_url": "sqlite:///:memory:",
        "rasa_url": RASA_URL,
        "action_server_url": ACTION_SERVER_URL,
        "redis_url": None,
        "rate_limit_conversation_per_minute": 1000,
        "rate_limit_client_per_minute": 1000,
        "log_level": "INFO",
        "widget_dist_dir": data_dir / "no-widget",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
