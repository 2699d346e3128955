"""Helpers for action tests: a Tracker built from a small dict, as in financial-demo."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def make_tracker(
    text: str = "",
    intent: str = "faq_bygglov",
    slots: Optional[Dict[str, Any]] = None,
    confidence: float = 0.9,
    ranking: Optional[List[tuple]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    sender_id: str = "conv-1",
) -> Tracker:
    """A tracker whose latest message the classifier gave `intent`; `ranking`
    lists further (intent, confidence) pairs after it."""
    latest: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}]
        + [{"name": name, "confidence": conf} for name, conf in (ranking or [])],
        "entities": entities or [],
    }
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()
