"""Hand the conversation to a person at Medborgarservice, and back.

Flow:
- `action_offer_handover` runs when the citizen asks for a person
  (`handover_request`), after two fallbacks in a row or after a sensitive
  answer (the fallback and FAQ actions set `handover_reason` and follow up with
  it). It asks the API whether a person can chat right now.
  * Someone can chat: it offers a live chat ("Ja, koppla mig" / "Nej tack").
    When the citizen asked for a person themselves, it does not ask again but
    queues them at once: they already said what they want.
  * Closed, or nobody signed in: it says when Medborgarservice opens and
    offers a contact request (the contact request form).
- `action_handover_accept` / `action_handover_decline` answer the buttons.
- `action_rate_handover` stores the 1-5 rating asked for after staff close.

If the API cannot be reached, the citizen gets the phone number and the
regular hours in plain Swedish; never an internal error.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from . import api_client
from .faq import ranked_topics
from .hours import OFFLINE_CONTACT, PHONE, VISITING_ADDRESS

logger = logging.getLogger(__name__)

TOPIC = "handover_request"
METADATA = {"topic": TOPIC, "links": []}
REASONS = ("user_request", "unresolved", "sensitive")

ACCEPT_LIVE = {"title": "Ja, koppla mig", "payload": "/affirm"}
ACCEPT_CONTACT = {"title": "Ja, kontakta mig", "payload": "/affirm"}
DECLINE = {"title": "Nej tack", "payload": "/deny"}
CANCEL_WAITING = {"title": "Avbryt väntan", "payload": "/cancel_handover"}

OFFER_INTRO = {
    "unresolved": "Jag verkar inte kunna hjälpa dig med det här.",
    "sensitive": "Det här kan vara bra att prata med en person om.",
    "user_request": "",
}
OFFER_LIVE = "Vill du chatta med en medarbetare på Medborgarservice?"
SENSITIVE_WARNING = "Skriv inte personnummer eller andra känsliga uppgifter i chatten."
OFFER_CONTACT = (
    "Vill du att Medborgarservice kontaktar dig i stället? Lämna ditt namn och ett "
    "telefonnummer eller en e-postadress, så hör vi av oss samma eller nästa arbetsdag. "
    f"Du kan också ringa {PHONE} eller besöka oss i {VISITING_ADDRESS}."
)
UNAVAILABLE = "Jag kan tyvärr inte koppla dig vidare just nu. " + OFFLINE_CONTACT
DECLINED = (
    "Okej, då fortsätter vi här. Du kan när som helst skriva att du vill prata med en "
    f"människa, eller ringa Medborgarservice på {PHONE}."
)
NOTHING_PENDING = "Skriv gärna vad du vill ha hjälp med, så gör jag mitt bästa för att svara."
RATING_THANKS = "Tack för ditt svar! Det hjälper oss att bli bättre. Kan jag hjälpa dig med något mer?"
RATING_UNCLEAR = "Välj gärna ett betyg från 1 till 5 med knapparna ovan."

RESET = [SlotSet("handover_pending", None), SlotSet("handover_reason", None)]


def minutes(n: int) -> str:
    return f"{n} minut" if n == 1 else f"{n} minuter"


def queue_now(status: Dict[str, Any]) -> str:
    """'Just nu är det ingen kö.' or the people waiting and the expected wait."""
    waiting = int(status.get("queue_length") or 0)
    if waiting == 0:
        return "Just nu är det ingen kö."
    people = "person" if waiting == 1 else "personer"
    wait = int(status.get("estimated_wait_minutes") or 0)
    text = f"Just nu väntar {waiting} {people} före dig"
    return text + (f", ungefär {minutes(wait)}." if wait else ".")


def queued_text(queue: Dict[str, Any]) -> str:
    position = int(queue.get("position") or 1)
    wait = int(queue.get("estimated_wait_minutes") or 0)
    place = "Du är först i kön" if position == 1 else f"Du är nummer {position} i kön"
    wait_text = f" och väntetiden är ungefär {minutes(wait)}" if wait else ""
    return (
        f"Nu väntar du på en medarbetare på Medborgarservice. {place}{wait_text}. "
        "Den som tar emot dig skriver här i chatten, så ha gärna chatten öppen. "
        "Vill du inte vänta längre kan du avbryta."
    )


def offer_was_last(tracker: Tracker) -> bool:
    """Whether the bot's last action before this message was the handover offer."""
    seen_user = False
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return False
            seen_user = True
        elif kind == "action" and seen_user and event.get("name") not in ("action_listen", None):
            return event.get("name") == "action_offer_handover"
    return False


def latest_intent(tracker: Tracker) -> Optional[str]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def handover_reason(tracker: Tracker) -> str:
    slot = tracker.get_slot("handover_reason")
    if latest_intent(tracker) == "handover_request":
        # Asking for a person right after being offered one keeps the reason
        # the offer was made for (it tells staff more); otherwise they asked.
        if offer_was_last(tracker) and slot in REASONS:
            return slot
        return "user_request"
    return slot if slot in REASONS else "unresolved"


async def queue_case(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> List[Dict[Text, Any]]:
    """Create the case; the API puts the conversation in state "queued"."""
    try:
        case = await api_client.create_case(tracker.sender_id, reason, tracker.get_slot("last_topic"))
    except api_client.ApiRefused as exc:
        if exc.status == 409:
            # Medborgarservice closed or the last person signed out since the
            # offer: offer a contact request instead.
            return [SlotSet("handover_reason", reason), FollowupAction("action_offer_handover")]
        logger.warning("The API refused a handover case (status %s)", exc.status)
        dispatcher.utter_message(text=UNAVAILABLE, metadata=METADATA)
        return RESET
    except api_client.ApiUnavailable:
        dispatcher.utter_message(text=UNAVAILABLE, metadata=METADATA)
        return RESET
    dispatcher.utter_message(
        text=queued_text(case.get("queue") or {}), buttons=[CANCEL_WAITING], metadata=METADATA
    )
    return RESET


def missed(tracker: Tracker, reason: str) -> Dict[str, Any]:
    """For the editors' inbox: an offer after two misunderstandings in a row is
    a fallback too (the reply's custom payload, which the citizen never sees)."""
    if reason != "unresolved":
        return {}
    return {"json_message": {"fallback": True, "guesses": [t for t, _ in ranked_topics(tracker)[:3]]}}


class ActionOfferHandover(Action):
    def name(self) -> Text:
        return "action_offer_handover"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        reason = handover_reason(tracker)
        signals = missed(tracker, reason)
        try:
            status = await api_client.service_status()
        except (api_client.ApiUnavailable, api_client.ApiRefused):
            dispatcher.utter_message(text=UNAVAILABLE, metadata=METADATA, **signals)
            return RESET
        intro = OFFER_INTRO[reason]
        if status.get("chat_available"):
            if latest_intent(tracker) == "handover_request":
                # They asked for a person in their own words: no need to ask again.
                return await queue_case(dispatcher, tracker, reason)
            parts = [intro, OFFER_LIVE, queue_now(status)]
            if reason == "sensitive":
                parts.append(SENSITIVE_WARNING)
            dispatcher.utter_message(
                text=" ".join(p for p in parts if p), buttons=[ACCEPT_LIVE, DECLINE], metadata=METADATA,
                **signals,
            )
            return [SlotSet("handover_pending", "live"), SlotSet("handover_reason", reason)]
        closed = status.get("text_chat") or status.get("text_phone") or ""
        dispatcher.utter_message(
            text=" ".join(p for p in (intro, closed, OFFER_CONTACT) if p),
            buttons=[ACCEPT_CONTACT, DECLINE],
            metadata=METADATA,
            **signals,
        )
        return [SlotSet("handover_pending", "contact"), SlotSet("handover_reason", reason)]


class ActionHandoverAccept(Action):
    def name(self) -> Text:
        return "action_handover_accept"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        pending = tracker.get_slot("handover_pending")
        if pending == "live":
            return await queue_case(dispatcher, tracker, handover_reason(tracker))
        if pending == "contact":
            return [
                SlotSet("contact_name", None),
                SlotSet("contact_detail", None),
                SlotSet("contact_cancelled", None),
                FollowupAction("contact_request_form"),
            ]
        dispatcher.utter_message(text=NOTHING_PENDING, metadata={"topic": None, "links": []})
        return []


class ActionHandoverDecline(Action):
    def name(self) -> Text:
        return "action_handover_decline"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text=DECLINED, metadata=METADATA)
        return RESET


def rating_value(tracker: Tracker) -> Optional[int]:
    """The rating from the button's entity, or a lone digit 1-5 in the text."""
    value = next(tracker.get_latest_entity_values("rating"), None)
    if value is None:
        match = re.search(r"(?<!\d)([1-5])(?!\d)", (tracker.latest_message or {}).get("text") or "")
        value = match.group(1) if match else None
    try:
        rating = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return rating if 1 <= rating <= 5 else None


class ActionRateHandover(Action):
    def name(self) -> Text:
        return "action_rate_handover"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        rating = rating_value(tracker)
        if rating is None:
            dispatcher.utter_message(text=RATING_UNCLEAR, metadata=METADATA)
            return []
        try:
            await api_client.rate_case(tracker.sender_id, rating)
        except api_client.ApiRefused as exc:
            # No closed case to rate (e.g. the button was pressed twice).
            logger.info("Rating not stored (status %s)", exc.status)
        except api_client.ApiUnavailable:
            logger.warning("Rating not stored: the API could not be reached")
        dispatcher.utter_message(text=RATING_THANKS, metadata=METADATA)
        return []
