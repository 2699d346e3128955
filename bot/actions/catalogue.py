"""The topic catalogue generated from knowledge/ (catalogue.json)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")


@lru_cache(maxsize=1)
def load() -> Dict[str, Any]:
    return json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))


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
