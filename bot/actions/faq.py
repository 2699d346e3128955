"""Answer knowledge questions from the catalogue.

Every knowledge topic is an intent `faq_<topic>`. The answer, the child's
answer, links and buttons are read from the catalogue at run time, so an
edited answer needs no retraining. When the safety detector saw signs of a
crisis, violence or a child at risk, the matching sensitive topic answers
(its text opens with the emergency and support numbers) and a person is offered.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from . import catalogue, safety, settings
from .audience import looks_like_child

logger = logging.getLogger(__name__)

FAQ_PREFIX = "faq_"
SAFETY_ENTITY = "safety_signal"


def topic_of_intent(intent: Optional[str]) -> Optional[str]:
    """The knowledge topic of an intent name such as faq_bygglov."""
    if intent and intent.startswith(FAQ_PREFIX):
        topic = intent[len(FAQ_PREFIX):]
        return topic if catalogue.is_knowledge_topic(topic) else None
    return None


def ranked_topics(tracker: Tracker) -> List[Tuple[str, float]]:
    """The knowledge topics in the classifier's ranking for the latest message, best first."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    out: List[Tuple[str, float]] = []
    for item in ranking:
        topic = topic_of_intent(item.get("name"))
        if topic:
            out.append((topic, float(item.get("confidence") or 0.0)))
    return out


def selected_topic(tracker: Tracker) -> Tuple[Optional[str], float]:
    """The topic to answer for the latest message and the classifier's confidence.

    Usually that is the message's intent. When another action handed over to
    this one (a message that also held a masked personnummer, so its intent
    was sensitive_data_shared), the best topic further down the ranking answers
    the rest of the question; its confidence is then its share among the
    ranked topics: given that the rest is a question, how sure is the topic.
    """
    intent = (tracker.latest_message or {}).get("intent") or {}
    topic = topic_of_intent(intent.get("name"))
    if topic:
        return topic, float(intent.get("confidence") or 0.0)
    ranked = ranked_topics(tracker)
    if not ranked:
        return None, 0.0
    total = sum(confidence for _, confidence in ranked)
    best, confidence = ranked[0]
    return best, (confidence / total if total > 0 else 0.0)


def requested_topic(tracker: Tracker) -> Optional[str]:
    """A topic chosen with a button, e.g. /choose_topic{"topic": "bygglov"}."""
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if intent != "choose_topic":
        return None
    value = next(tracker.get_latest_entity_values("topic"), None)
    return value if catalogue.is_knowledge_topic(value) else None


def answer_message(topic: str, entry: Dict[str, Any], text: str) -> Dict[str, Any]:
    """The reply for a topic: text, buttons and metadata (topic, links, audience)."""
    if entry["kind"] == "sensitive" and entry.get("child_answer") and looks_like_child(text):
        return {"text": entry["child_answer"],
                "metadata": {"topic": topic, "links": entry["links"], "audience": "child"}}
    message: Dict[str, Any] = {"text": entry["answer"],
                               "metadata": {"topic": topic, "links": entry["links"]}}
    if entry.get("buttons"):
        message["buttons"] = entry["buttons"]
    return message


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = (tracker.latest_message or {}).get("text") or ""
        signal = next(tracker.get_latest_entity_values(SAFETY_ENTITY), None)
        topic = requested_topic(tracker)
        confidence: Optional[float] = None
        if topic is None:
            topic, confidence = selected_topic(tracker)
            if signal is None and (topic is None or confidence < settings.FAQ_MIN_CONFIDENCE):
                return [FollowupAction("action_fallback_suggest")]
        if signal is not None:
            # Signs of a crisis, violence or a child at risk: the sensitive
            # topic's answer, which opens with 112 and the support lines.
            topic = safety.topic_for_signal(signal, topic)
        entry = catalogue.topic(topic)
        if entry is None or not catalogue.is_knowledge_topic(topic):
            logger.warning("No knowledge for selected topic %s", topic)
            return [FollowupAction("action_fallback_suggest")]

        events: List[Dict[Text, Any]] = [
            SlotSet("last_topic", topic),
            SlotSet("consecutive_fallbacks", 0.0),
        ]
        message = answer_message(topic, entry, text)
        if signal is not None:
            message["metadata"]["safety"] = signal
        elif confidence is not None:
            # For the editors' inbox: the API files answers it was unsure of.
            message["json_message"] = {
                "confidence": round(confidence, 3),
                "guesses": [t for t, _ in ranked_topics(tracker)[:3]],
            }
        dispatcher.utter_message(**message)
        if entry["kind"] == "sensitive":
            # Never collect details in the chat: offer a person instead.
            events += [SlotSet("handover_reason", "sensitive"), FollowupAction("action_offer_handover")]
        return events
