"""Helpers for action tests: a Tracker built from a small dict, as in financial-demo."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def make_tracker(
    text: str = "",
    intent: str = "faq",
    slots: Optional[Dict[str, Any]] = None,
    response_key: Optional[str] = None,
    confidence: float = 0.9,
    ranking: Optional[List[tuple]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    sender_id: str = "conv-1",
) -> Tracker:
    latest: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
    }
    if response_key or ranking:
        latest["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {
                    "intent_response_key": response_key,
                    "confidence": confidence,
                    "utter_action": f"utter_{response_key}" if response_key else None,
                },
                "ranking": [
                    {"intent_response_key": key, "confidence": conf} for key, conf in (ranking or [])
                ],
            },
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
