"""Answer knowledge questions from the generated responses."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from . import catalogue, settings
from .audience import looks_like_child

logger = logging.getLogger(__name__)


def selected_faq(tracker: Tracker) -> tuple[Optional[str], float]:
    """The topic the ResponseSelector picked for the latest message, and its confidence."""
    selector = (tracker.latest_message or {}).get("response_selector") or {}
    response = (selector.get("faq") or {}).get("response") or {}
    key = response.get("intent_response_key") or ""
    topic = key.split("/", 1)[1] if key.startswith("faq/") else None
    return topic, float(response.get("confidence") or 0.0)


def requested_topic(tracker: Tracker) -> Optional[str]:
    """A topic chosen with a button, e.g. /choose_topic{"topic": "bygglov"}."""
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if intent != "choose_topic":
        return None
    value = next(tracker.get_latest_entity_values("topic"), None)
    return value if catalogue.is_knowledge_topic(value) else None


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        topic = requested_topic(tracker)
        if topic is None:
            topic, confidence = selected_faq(tracker)
            if topic is None or confidence < settings.FAQ_MIN_CONFIDENCE:
                return [FollowupAction("action_fallback_suggest")]
        entry = catalogue.topic(topic)
        if entry is None or not catalogue.is_knowledge_topic(topic):
            logger.warning("No knowledge for selected topic %s", topic)
            return [FollowupAction("action_fallback_suggest")]

        events: List[Dict[Text, Any]] = [
            SlotSet("last_topic", topic),
            SlotSet("consecutive_fallbacks", 0.0),
        ]
        text = (tracker.latest_message or {}).get("text") or ""
        if entry["kind"] == "sensitive" and entry.get("child_answer") and looks_like_child(text):
            dispatcher.utter_message(
                text=entry["child_answer"],
                metadata={"topic": topic, "links": entry["links"], "audience": "child"},
            )
        else:
            dispatcher.utter_message(response=f"utter_faq/{topic}")
        if entry["kind"] == "sensitive":
            # Never collect details in the chat: offer a person instead.
            events += [SlotSet("handover_reason", "sensitive"), FollowupAction("action_offer_handover")]
        return events
