"""The topic catalogue generated from knowledge/ (catalogue.json).

Answers and links are read from here at run time, not from the model. The
file is read again when it changes on disk (checked at most every
`RELOAD_SECONDS`), so a regenerated catalogue is served without a restart or a
new model.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Dict, Optional

CATALOGUE_FILE = Path(os.environ.get("MJOLBY_CATALOGUE", Path(__file__).with_name("catalogue.json")))
RELOAD_SECONDS = 2.0

_state: Dict[str, Any] = {"data": None, "mtime": None, "checked": 0.0, "path": None}


def load() -> Dict[str, Any]:
    now = time.monotonic()
    if _state["data"] is not None and _state["path"] == CATALOGUE_FILE \
            and now - _state["checked"] < RELOAD_SECONDS:
        return _state["data"]
    _state["checked"] = now
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


def organisation() -> Dict[str, Any]:
    """Contact details, opening hours and support lines (knowledge/organisation.yml)."""
    return load().get("organisation") or {}


def topic(topic_id: Optional[str]) -> Optional[Dict[str, Any]]:
    if not topic_id:
        return None
    return load()["topics"].get(topic_id)


def is_knowledge_topic(topic_id: Optional[str]) -> bool:
    entry = topic(topic_id)
    return bool(entry and entry["kind"] in ("answer", "sensitive", "referral"))


def topic_for_intent(intent: str) -> Optional[str]:
    """The topic a helper intent answers (e.g. ask_opening_hours)."""
    return load()["intent_topics"].get(intent)
