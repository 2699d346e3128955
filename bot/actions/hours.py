"""Live answers to "har ni öppet nu?" and "när öppnar ni?" (phone and reception).

The API computes the hours (knowledge/organisation.yml, Swedish public
holidays, Europe/Stockholm); this action only words them. When the API cannot
be reached the citizen still gets the regular hours and the phone number.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from . import api_client, catalogue

TOPIC = "kontakt_medborgarservice"
PHONE = "010-234 50 00"
VISITING_ADDRESS = "Stadshuset, Burensköldsvägen 11-13, 595 80 Mjölby"
# The regular hours, for when the API (and so the live calendar) cannot be
# reached. tests/bot/test_hours_action.py checks them against organisation.yml.
REGULAR_HOURS = (
    "Medborgarservice har öppet måndag–torsdag kl. 7.30–16.30 och fredag kl. 7.30–16. "
    "Dagen före en helgdag stänger vi kl. 13, och på helgdagar har vi stängt."
)
OFFLINE_CONTACT = (
    f"Ring Medborgarservice på {PHONE}. {REGULAR_HOURS} "
    f"Du kan också besöka receptionen i {VISITING_ADDRESS}."
)
CHAT_OPEN_NOTE = "Du kan också chatta med en medarbetare här, skriv bara att du vill prata med en människa."


def topic_links() -> List[Dict[Text, Text]]:
    entry = catalogue.topic(TOPIC) or {}
    return list(entry.get("links") or [])


class ActionOpeningHours(Action):
    def name(self) -> Text:
        return "action_opening_hours"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        try:
            status = await api_client.service_status()
            parts = [status["text_phone"], status["text_reception"]]
            if status.get("chat_available"):
                parts.append(CHAT_OPEN_NOTE)
            text = " ".join(part for part in parts if part)
        except (api_client.ApiUnavailable, api_client.ApiRefused, KeyError, TypeError):
            text = (
                f"Jag kan inte se dagens öppettider just nu. {REGULAR_HOURS} "
                f"Telefon: {PHONE}. Besöksadress: {VISITING_ADDRESS}."
            )
        dispatcher.utter_message(text=text, metadata={"topic": TOPIC, "links": topic_links()})
        return [SlotSet("last_topic", TOPIC), SlotSet("consecutive_fallbacks", 0.0)]
