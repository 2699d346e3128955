"""Secure contact requests: Medborgarservice starts a SEFOS message.

The chat is not a secure channel. A citizen who needs to share sensitive
details leaves only a name and a phone number or e-mail address; staff then
start a secure SEFOS message that the citizen opens with e-legitimation.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

TOPIC = "sakert_meddelande_sefos"
INTRO = (
    "Bra, då ber jag Medborgarservice skicka ett säkert meddelande till dig via SEFOS. "
    "Du får en länk och loggar in med e-legitimation, till exempel BankID, för att läsa och svara. "
    "Här behöver jag bara ditt namn och ett telefonnummer eller en e-postadress – "
    "skriv inget personnummer eller andra känsliga uppgifter i chatten."
)


class ActionStartSecureContact(Action):
    def name(self) -> Text:
        return "action_start_secure_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(text=INTRO, metadata={"topic": TOPIC, "links": []})
        return [
            SlotSet("contact_reason", "sensitive_data"),
            SlotSet("contact_name", None),
            SlotSet("contact_detail", None),
            SlotSet("contact_cancelled", None),
            FollowupAction("contact_request_form"),
        ]


class ActionSensitiveDataShared(Action):
    """The citizen offers (or wrote) personal details.

    When the gateway already removed a personnummer from this message it has
    told the citizen so; the bot then answers the rest of the question, so a
    message like "my personnummer is ..., how do I apply for preschool?" still
    gets the preschool answer.
    """

    def name(self) -> Text:
        return "action_sensitive_data_shared"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        if not metadata.get("pii_masked"):
            dispatcher.utter_message(response="utter_sensitive_data_shared")
            return []
        return [FollowupAction("action_answer_faq")]
