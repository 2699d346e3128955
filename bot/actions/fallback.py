"""Ask the citizen to rephrase, suggesting the likeliest topics."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from . import catalogue, lexical
from .faq import ranked_topics

MAX_SUGGESTIONS = 3
MIN_SUGGESTION_CONFIDENCE = 0.03
FALLBACKS_BEFORE_HANDOVER = 2

REPHRASE = (
    "Jag är inte säker på att jag förstod din fråga. Kan du skriva den på ett annat sätt, "
    "gärna med några ord om vad det gäller?"
)
REPHRASE_WITH_SUGGESTIONS = (
    "Jag är inte säker på att jag förstod din fråga. Menade du något av det här? "
    "Du kan också skriva frågan på ett annat sätt."
)
TALK_TO_PERSON = {"title": "Prata med Medborgarservice", "payload": "/handover_request"}


def suggested_topics(tracker: Tracker) -> List[Text]:
    """The classifier's likeliest topics; the closest wording first if it is not among them."""
    topics: List[Text] = [
        topic for topic, confidence in ranked_topics(tracker)
        if confidence >= MIN_SUGGESTION_CONFIDENCE
    ]
    topics = topics[:MAX_SUGGESTIONS]
    closest = lexical.closest_topic((tracker.latest_message or {}).get("text") or "")
    if closest and catalogue.is_knowledge_topic(closest) and closest not in topics:
        topics = [closest] + topics[: MAX_SUGGESTIONS - 1]
    return topics


def suggestion_buttons(topics: List[Text]) -> List[Dict[Text, Text]]:
    """A "Menade du ...?" button for each topic."""
    return [
        {"title": catalogue.topic(topic)["title"],
         "payload": "/choose_topic" + json.dumps({"topic": topic}, separators=(",", ":"))}
        for topic in topics
    ]


def suggestions(tracker: Tracker) -> List[Dict[Text, Text]]:
    return suggestion_buttons(suggested_topics(tracker))


class ActionFallbackSuggest(Action):
    def name(self) -> Text:
        return "action_fallback_suggest"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        count = float(tracker.get_slot("consecutive_fallbacks") or 0) + 1
        events: List[Dict[Text, Any]] = [SlotSet("consecutive_fallbacks", count)]
        if count >= FALLBACKS_BEFORE_HANDOVER:
            # Two misunderstandings in a row: a person will do better.
            events += [
                SlotSet("consecutive_fallbacks", 0.0),
                SlotSet("handover_reason", "unresolved"),
                FollowupAction("action_offer_handover"),
            ]
            return events
        topics = suggested_topics(tracker)
        buttons = suggestion_buttons(topics)
        dispatcher.utter_message(
            text=REPHRASE_WITH_SUGGESTIONS if buttons else REPHRASE,
            buttons=buttons + [TALK_TO_PERSON],
            metadata={"topic": None, "links": []},
            # For the editors' inbox: a missed message and the likeliest topics.
            json_message={"fallback": True, "guesses": topics},
        )
        return events
