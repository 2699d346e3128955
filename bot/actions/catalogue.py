"""The topic catalogue: titles, kinds, answers and links the actions answer from.

Answers and links are read from here at run time, not from the model. With an
API to ask (INTERNAL_API_TOKEN set, as in every running stack) the catalogue
is the knowledge store's, polled from GET /api/v1/internal/knowledge/catalogue
at most every `RELOAD_SECONDS` with If-None-Match, so an answer an editor saves
in the console is served within seconds by every action server process.

When the API cannot be reached the last catalogue it gave is kept; before it
has given one, the generated file (catalogue.json) is used, read again when
it changes on disk. A retired topic (`"retired": true`) is no knowledge topic:
the actions answer it like a question they did not understand.
"""
from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional

logger = logging.getLogger(__name__)

CATALOGUE_FILE = Path(os.environ.get("MJOLBY_CATALOGUE", Path(__file__).with_name("catalogue.json")))
RELOAD_SECONDS = 2.0
LIVE_PATH = "/api/v1/internal/knowledge/catalogue"
LIVE_TIMEOUT_SECONDS = 1.0
LIVE_RETRY_SECONDS = 10.0  # after a failed poll, the API is asked again this much later
_TOKEN = os.environ.get("INTERNAL_API_TOKEN", "")
# Empty: the file only. Set CATALOGUE_URL to override where the live catalogue is.
CATALOGUE_URL = os.environ.get(
    "CATALOGUE_URL",
    os.environ.get("API_INTERNAL_URL", "http://127.0.0.1:8000").rstrip("/") + LIVE_PATH if _TOKEN else "",
)

_state: Dict[str, Any] = {"data": None, "mtime": None, "checked": 0.0, "path": None,
                          "live": None, "etag": None, "retry_at": 0.0}


def _poll_live(now: float) -> None:
    """Ask the API for the catalogue if it changed; on failure wait LIVE_RETRY_SECONDS."""
    headers = {"Authorization": f"Bearer {_TOKEN}", "Accept": "application/json"}
    if _state["live"] is not None and _state["etag"]:
        headers["If-None-Match"] = _state["etag"]
    request = urllib.request.Request(CATALOGUE_URL, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=LIVE_TIMEOUT_SECONDS) as response:  # noqa: S310
            data = json.loads(response.read().decode("utf-8"))
            _state.update(live=data, etag=response.headers.get("ETag"))
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return
        _state["retry_at"] = now + LIVE_RETRY_SECONDS
        logger.warning("Live catalogue answered %s; using the last catalogue", exc.code)
    except (OSError, ValueError) as exc:
        _state["retry_at"] = now + LIVE_RETRY_SECONDS
        logger.warning("Live catalogue unreachable (%s); using the last catalogue", type(exc).__name__)


def _load_file() -> Dict[str, Any]:
    try:
        mtime = CATALOGUE_FILE.stat().st_mtime_ns
    except OSError:
        if _state["data"] is not None:
            return _state["data"]  # keep serving the last good catalogue
        raise
    if _state["data"] is None or mtime != _state["mtime"] or _state["path"] != CATALOGUE_FILE:
        try:
            data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
        except ValueError:
            if _state["data"] is not None:
                return _state["data"]  # a half-written file: try again later
            raise
        _state.update(data=data, mtime=mtime, path=CATALOGUE_FILE)
    return _state["data"]


def load() -> Dict[str, Any]:
    now = time.monotonic()
    fresh = now - _state["checked"] < RELOAD_SECONDS
    if fresh and (_state["live"] is not None or (_state["data"] is not None and _state["path"] == CATALOGUE_FILE)):
        return _state["live"] if _state["live"] is not None else _state["data"]
    _state["checked"] = now
    if CATALOGUE_URL and now >= _state["retry_at"]:
        _poll_live(now)
    if _state["live"] is not None:
        return _state["live"]
    return _load_file()


def organisation() -> Dict[str, Any]:
    """Contact details, opening hours and support lines (knowledge/organisation.yml)."""
    return load().get("organisation") or {}


def topic(topic_id: Optional[str]) -> Optional[Dict[str, Any]]:
    if not topic_id:
        return None
    return load()["topics"].get(topic_id)


def is_knowledge_topic(topic_id: Optional[str]) -> bool:
    entry = topic(topic_id)
    return bool(entry and entry["kind"] in ("answer", "sensitive", "referral") and not entry.get("retired"))


def topic_for_intent(intent: str) -> Optional[str]:
    """The topic a helper intent answers (e.g. ask_opening_hours)."""
    return load()["intent_topics"].get(intent)
