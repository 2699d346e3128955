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
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_NAMES_SV = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")


def _clock(text: str) -> str:
    """'07:30' -> '7.30', '16:00' -> '16' (how the answers write times)."""
    hour, minute = text.strip().split(":")
    return f"{int(hour)}.{minute}" if minute != "00" else str(int(hour))


def _span(text: str) -> str:
    start, end = str(text).split("-")
    return f"kl. {_clock(start)}–{_clock(end)}"


def regular_hours(organisation: Dict[str, Any]) -> str:
    """The weekly hours in words, from organisation.yml (runs of days with the same hours)."""
    hours = organisation.get("opening_hours") or {}
    days = hours.get("phone") or {}
    runs: List[List[Any]] = []  # [first day, last day, span]
    for index, day in enumerate(WEEKDAYS):
        span = days.get(day)
        if span and runs and runs[-1][2] == span and runs[-1][1] == index - 1:
            runs[-1][1] = index
        elif span:
            runs.append([index, index, span])
    parts = [
        (WEEKDAY_NAMES_SV[first] if first == last else f"{WEEKDAY_NAMES_SV[first]}–{WEEKDAY_NAMES_SV[last]}")
        + f" {_span(span)}"
        for first, last, span in runs
    ]
    text = "Medborgarservice har öppet " + " och ".join(parts) + ". " if parts else ""
    short = hours.get("day_before_holiday")
    if not isinstance(short, dict):
        short = {"hours": short, "assumption": False}
    if short.get("hours") and not short.get("assumption"):
        closes = str(short["hours"]).split("-")[1]
        return text + f"Dagen före en helgdag stänger vi kl. {_clock(closes)}, och på helgdagar har vi stängt."
    # An unconfirmed rule: say that the day may be shorter, not when it ends.
    return text + "Dagen före en helgdag kan vi stänga tidigare, och på helgdagar har vi stängt."


# Contact details and hours come from knowledge/organisation.yml through the
# generated catalogue; the bot's code holds no copy of them.
ORGANISATION = catalogue.organisation()
PHONE = str(ORGANISATION.get("phone") or "")
VISITING_ADDRESS = str(ORGANISATION.get("visiting_address") or "")
# The regular hours, for when the API (and so the live calendar) cannot be reached.
REGULAR_HOURS = regular_hours(ORGANISATION)
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
