"""The contact request form: name, and a phone number or an e-mail address.

Offered when nobody at Medborgarservice can chat (closed, or no one signed
in). Never accepts a personal identity number: the chat is not a secure
channel, so the citizen is told kindly and asked again. "Avbryt" (or "nej")
at any question ends the form without saving anything.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# The product's one identity-number check, shared with the API (api/mjolby_pii.py).
from mjolby_pii import contains_identity_number, is_email, is_masked, is_phone_number

from . import api_client
from .hours import OFFLINE_CONTACT, PHONE, VISITING_ADDRESS

TOPIC = "handover_request"
METADATA = {"topic": TOPIC, "links": []}
CANCEL_WORDS = {"avbryt", "nej", "nej tack", "ångra", "ångrar", "sluta", "stopp", "glöm det", "cancel"}

PNR_WARNING = (
    "Det ser ut som ett personnummer. Skriv inte personnummer här, chatten är inte en säker "
    "kanal. Vi behöver bara ditt namn och ett telefonnummer eller en e-postadress."
)
BAD_NAME = "Skriv bara ditt namn, till exempel Anna Andersson. Vill du inte lämna några uppgifter kan du skriva avbryt."
BAD_CONTACT = (
    "Jag känner inte igen det som ett telefonnummer eller en e-postadress. Skriv till exempel "
    "070-123 45 67 eller namn@exempel.se. Vill du inte lämna några uppgifter kan du skriva avbryt."
)
CANCELLED = (
    f"Okej, jag har inte sparat några uppgifter. Du kan ringa Medborgarservice på {PHONE} "
    "eller fråga mig något annat."
)
NOT_SAVED = "Tyvärr kunde jag inte spara din kontaktförfrågan just nu. " + OFFLINE_CONTACT


def looks_like_personal_number(text: str) -> bool:
    """A personal identity or coordination number, or the API's mask for one.

    The same check as the API's masking (mjolby_pii), which also takes a
    number with a mistyped check digit when it is written as one
    ("850709-1234"), and lets phone numbers such as 0701234567 pass.
    """
    return is_masked(text) or contains_identity_number(text)


def is_cancel(text: str) -> bool:
    cleaned = re.sub(r"[!.,]+$", "", text.strip().lower())
    return cleaned.startswith("/deny") or cleaned in CANCEL_WORDS


def contact_kind(text: str) -> Optional[str]:
    """'email', 'phone' or None for a phone number or e-mail address."""
    value = text.strip()
    if is_email(value) and len(value) <= 254:
        return "email"
    if is_phone_number(value):
        return "phone"
    return None


def valid_name(text: str) -> bool:
    value = text.strip()
    words = value.split()
    return (
        2 <= len(value) <= 80
        and 1 <= len(words) <= 6
        and any(c.isalpha() for c in value)
        and not any(c.isdigit() for c in value)
        and not any(c in value for c in "@?/<>{}[]")
    )


CANCEL_BUTTON = {"title": "Avbryt", "payload": "/deny"}
ASK_NAME = "Vad heter du? Skriv för- och efternamn."
ASK_CONTACT = (
    "Tack, {name}! Vilket telefonnummer eller vilken e-postadress når vi dig på? "
    "Skriv inte ditt personnummer."
)


class ActionAskContactName(Action):
    def name(self) -> Text:
        return "action_ask_contact_name"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(text=ASK_NAME, buttons=[CANCEL_BUTTON], metadata=METADATA)
        return []


class ActionAskContactDetail(Action):
    def name(self) -> Text:
        return "action_ask_contact_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        name = tracker.get_slot("contact_name") or ""
        dispatcher.utter_message(
            text=ASK_CONTACT.format(name=name.split()[0] if name else ""),
            buttons=[CANCEL_BUTTON],
            metadata=METADATA,
        )
        return []


def answers_question(tracker: Tracker, slot: str) -> bool:
    """Whether the latest message answers the question asked for `slot`.

    When the form starts, Rasa offers the message that started it ("Ja,
    kontakta mig", sent as /affirm) as a value for every slot; that is not
    an answer, so it is dropped without a word.
    """
    text = (tracker.latest_message or {}).get("text") or ""
    return tracker.get_slot("requested_slot") == slot and not text.startswith("/")


class ValidateContactRequestForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_contact_request_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        # An empty list ends the form; the submit action then says nothing was saved.
        if tracker.get_slot("contact_cancelled"):
            return []
        return domain_slots

    def validate_contact_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "")
        if is_cancel(text):
            return {"contact_name": None, "contact_cancelled": True}
        if not answers_question(tracker, "contact_name"):
            return {"contact_name": None}
        if looks_like_personal_number(text):
            dispatcher.utter_message(text=PNR_WARNING, metadata=METADATA)
            return {"contact_name": None}
        if not valid_name(text):
            dispatcher.utter_message(text=BAD_NAME, metadata=METADATA)
            return {"contact_name": None}
        return {"contact_name": " ".join(text.split())}

    def validate_contact_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "")
        if is_cancel(text):
            return {"contact_detail": None, "contact_cancelled": True}
        if not answers_question(tracker, "contact_detail"):
            return {"contact_detail": None}
        if looks_like_personal_number(text):
            dispatcher.utter_message(text=PNR_WARNING, metadata=METADATA)
            return {"contact_detail": None}
        if contact_kind(text) is None:
            dispatcher.utter_message(text=BAD_CONTACT, metadata=METADATA)
            return {"contact_detail": None}
        return {"contact_detail": text.strip()}


CLEAR = [
    SlotSet("contact_reason", None),
    SlotSet("contact_name", None),
    SlotSet("contact_detail", None),
    SlotSet("contact_cancelled", None),
    SlotSet("handover_pending", None),
    SlotSet("handover_reason", None),
]


class ActionSubmitContactRequest(Action):
    def name(self) -> Text:
        return "action_submit_contact_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        name = tracker.get_slot("contact_name")
        detail = tracker.get_slot("contact_detail")
        if tracker.get_slot("contact_cancelled") or not name or not detail:
            dispatcher.utter_message(text=CANCELLED, metadata=METADATA)
            return CLEAR
        kind = contact_kind(detail)
        secure = tracker.get_slot("contact_reason") == "sensitive_data"
        try:
            await api_client.create_contact_request(
                tracker.sender_id,
                name=name,
                phone=detail if kind == "phone" else None,
                email=detail if kind == "email" else None,
                reason="sensitive_data" if secure else "callback",
                topic=tracker.get_slot("last_topic"),
            )
        except (api_client.ApiUnavailable, api_client.ApiRefused):
            dispatcher.utter_message(text=NOT_SAVED, metadata=METADATA)
            return CLEAR
        if secure:
            dispatcher.utter_message(
                text=(
                    f"Tack, {name}! Medborgarservice skickar ett säkert meddelande via SEFOS och "
                    f"kontaktar dig på {detail} samma eller nästa arbetsdag. I meddelandet kan du "
                    "sedan lämna dina känsliga uppgifter på ett säkert sätt. Brådskar det kan du "
                    f"ringa {PHONE}."
                ),
                metadata={"topic": "sakert_meddelande_sefos", "links": []},
            )
            return CLEAR
        dispatcher.utter_message(
            text=(
                f"Tack, {name}! Vi har tagit emot din kontaktförfrågan. Medborgarservice hör av sig "
                f"till dig på {detail} samma eller nästa arbetsdag. Brådskar det kan du ringa {PHONE} "
                f"eller besöka oss i {VISITING_ADDRESS}."
            ),
            metadata=METADATA,
        )
        return CLEAR
