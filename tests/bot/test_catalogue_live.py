"""The actions answer from the live catalogue the API serves (the editors' console),
ask again only when it may have changed, and fall back to catalogue.json."""
from __future__ import annotations

import asyncio
import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

import pytest
from rasa_sdk.events import FollowupAction

from actions import catalogue
from actions.faq import ActionAnswerFaq
from conftest import make_tracker

TOKEN = "live-catalogue-token"
NOTHING_LISTENS = "http://127.0.0.1:9/catalogue"  # the discard port: connection refused


class LiveApi:
    def __init__(self) -> None:
        self.data: Dict[str, Any] = json.loads(catalogue.CATALOGUE_FILE.read_text(encoding="utf-8"))
        self.version = 1
        self.statuses: List[int] = []

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'


@pytest.fixture
def live(monkeypatch):
    api = LiveApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, body = 401, b"{}"
            elif self.headers.get("If-None-Match") == api.etag:
                status, body = 304, b""
            else:
                status, body = 200, json.dumps(api.data).encode()
            api.statuses.append(status)
            self.send_response(status)
            self.send_header("ETag", api.etag)
            if status != 304:
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(catalogue, "CATALOGUE_URL", f"http://127.0.0.1:{server.server_address[1]}/catalogue")
    monkeypatch.setattr(catalogue, "_TOKEN", TOKEN)
    monkeypatch.setattr(catalogue, "RELOAD_SECONDS", 0.0)
    monkeypatch.setattr(catalogue, "_state", {"data": None, "mtime": None, "checked": 0.0, "path": None,
                                              "live": None, "etag": None, "retry_at": 0.0})
    yield api
    server.shutdown()
    server.server_close()


def answer(text: str, intent: str):
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerFaq().run(dispatcher, make_tracker(text, intent=intent), {}))
    return dispatcher.messages, events


def test_a_saved_answer_and_link_are_served_from_the_api(live: LiveApi):
    messages, _ = answer("bygglov altan", "faq_bygglov")
    assert messages[-1]["text"] == live.data["topics"]["bygglov"]["answer"]

    live.data = copy.deepcopy(live.data)
    live.data["topics"]["bygglov"]["answer"] = "Nytt svar från redaktören."
    live.data["topics"]["bygglov"]["links"] = [{"title": "Ny sida", "url": "https://www.mjolby.se/ny"}]
    live.version += 1
    messages, _ = answer("bygglov altan", "faq_bygglov")
    assert messages[-1]["text"] == "Nytt svar från redaktören."
    assert messages[-1]["metadata"]["links"] == [{"title": "Ny sida", "url": "https://www.mjolby.se/ny"}]


def test_an_unchanged_catalogue_is_not_sent_again(live: LiveApi):
    for _ in range(3):
        catalogue.load()
    assert live.statuses == [200, 304, 304]


def test_a_retired_topic_is_answered_like_a_question_not_understood(live: LiveApi):
    live.data["topics"]["bygglov"]["retired"] = True
    live.data["topics"]["bygglov"]["answer"] = None
    messages, events = answer("bygglov altan", "faq_bygglov")
    assert messages == []
    assert events == [FollowupAction("action_fallback_suggest")]


def test_without_the_api_the_file_is_used_and_the_api_asked_again_later(monkeypatch):
    monkeypatch.setattr(catalogue, "CATALOGUE_URL", NOTHING_LISTENS)
    monkeypatch.setattr(catalogue, "_TOKEN", TOKEN)
    monkeypatch.setattr(catalogue, "RELOAD_SECONDS", 0.0)
    state = {"data": None, "mtime": None, "checked": 0.0, "path": None, "live": None, "etag": None,
             "retry_at": 0.0}
    monkeypatch.setattr(catalogue, "_state", state)
    from_file = json.loads(catalogue.CATALOGUE_FILE.read_text(encoding="utf-8"))
    assert catalogue.topic("bygglov")["answer"] == from_file["topics"]["bygglov"]["answer"]
    assert state["retry_at"] > 0  # not asked again at once


def test_the_last_live_catalogue_is_kept_when_the_api_goes_away(live: LiveApi, monkeypatch):
    live.data["topics"]["bygglov"]["answer"] = "Svar från konsolen."
    assert catalogue.topic("bygglov")["answer"] == "Svar från konsolen."
    monkeypatch.setattr(catalogue, "CATALOGUE_URL", NOTHING_LISTENS)
    assert catalogue.topic("bygglov")["answer"] == "Svar från konsolen."
