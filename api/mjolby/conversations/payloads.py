"""Which button payloads a citizen may send to the bot.

A payload skips the bot's language understanding: `/affirm` or
`/rate{"rating":5}` is taken as said. So only payloads of buttons offered in
the same conversation are passed on, plus a few that every client may send
at any time. Anything else is not sent to the bot as a payload.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_TOPICS_FILE = Path(__file__).resolve().parents[3] / "knowledge" / "topics.yml"
# Always allowed: start over, ask for a person, stop waiting (the widget's own button).
GLOBAL_PAYLOADS = frozenset({"/greet", "/handover_request", "/cancel_handover"})
CHOOSE_TOPIC = "/choose_topic"


@lru_cache(maxsize=4)
def _topics(path: Path) -> frozenset[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return frozenset(str(t["id"]) for t in data.get("topics", []) if isinstance(t, dict) and "id" in t)


def known_topics(path: Path | None = None) -> frozenset[str]:
    """Topic ids from knowledge/topics.yml (TOPICS_FILE overrides where it is read from)."""
    return _topics(Path(path or os.environ.get("TOPICS_FILE") or DEFAULT_TOPICS_FILE))


def is_global(payload: str) -> bool:
    """A payload any conversation may send, whatever the bot offered."""
    if payload in GLOBAL_PAYLOADS:
        return True
    if not payload.startswith(CHOOSE_TOPIC + "{"):
        return False
    try:
        entities = json.loads(payload[len(CHOOSE_TOPIC):])
    except ValueError:
        return False
    return (isinstance(entities, dict) and set(entities) == {"topic"}
            and isinstance(entities["topic"], str) and entities["topic"] in known_topics())


def offered(payload: str, buttons: list[list[dict[str, str]]]) -> bool:
    """Whether one of the buttons shown in the conversation carries this payload."""
    return any(isinstance(b, dict) and b.get("payload") == payload for group in buttons for b in group)
