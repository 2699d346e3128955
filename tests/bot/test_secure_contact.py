"""A secure contact request: Medborgarservice starts a SEFOS message; no details in the chat."""
from __future__ import annotations

import asyncio
from pathlib import Path

import yaml
from rasa_sdk.events import FollowupAction, SlotSet

from actions.contact_request import ActionSubmitContactRequest
from actions.sensitive import ActionStartSecureContact
from conftest import make_tracker
from fake_internal_api import internal_api  # noqa: F401 (fixture)

CONTACT = "/api/v1/internal/contact-requests"
DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "bot/domain/handover.yml").read_text(encoding="utf-8"))


def test_start_explains_sefos_and_asks_for_no_personnummer(dispatcher):
    events = asyncio.run(ActionStartSecureContact().run(dispatcher, make_tracker("/secure_contact_request"), {}))
    (message,) = dispatcher.messages
    assert "SEFOS" in message["text"] and "e-legitimation" in message["text"]
    assert "personnummer" in message["text"]
    assert message["metadata"]["topic"] == "sakert_meddelande_sefos"
    assert events[0] == SlotSet("contact_reason", "sensitive_data")
    assert events[-1] == FollowupAction("contact_request_form")


def test_submit_files_a_sensitive_data_request_and_promises_a_secure_message(internal_api, dispatcher):
    internal_api.answer("POST", CONTACT, 201, {"id": 9})
    tracker = make_tracker("070-765 43 21", slots={
        "contact_name": "Karin Berg", "contact_detail": "070-765 43 21",
        "contact_reason": "sensitive_data", "last_topic": "sakert_meddelande_sefos"})
    events = asyncio.run(ActionSubmitContactRequest().run(dispatcher, tracker, DOMAIN))
    (call,) = internal_api.calls("POST", CONTACT)
    assert call.body["reason"] == "sensitive_data"
    assert call.body["phone"] == "070-765 43 21"
    text = dispatcher.messages[0]["text"]
    assert "säkert meddelande via SEFOS" in text and "samma eller nästa arbetsdag" in text
    assert dispatcher.messages[0]["metadata"]["topic"] == "sakert_meddelande_sefos"
    assert SlotSet("contact_reason", None) in events


def test_offering_details_gets_the_warning(dispatcher):
    from actions.sensitive import ActionSensitiveDataShared

    tracker = make_tracker("kan jag skriva mitt personnummer här?", intent="sensitive_data_shared")
    events = asyncio.run(ActionSensitiveDataShared().run(dispatcher, tracker, {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_sensitive_data_shared"]
    assert events == []


def test_after_a_masked_number_the_rest_of_the_question_is_answered(dispatcher):
    from actions.sensitive import ActionSensitiveDataShared

    tracker = make_tracker("mitt personnummer är [personnummer borttaget], hur söker jag förskola?",
                           intent="sensitive_data_shared", ranking=[("faq_forskola_ansokan", 0.6)])
    tracker.latest_message["metadata"] = {"pii_masked": True}
    events = asyncio.run(ActionSensitiveDataShared().run(dispatcher, tracker, {}))
    assert dispatcher.messages == []  # the gateway already said the number was removed
    assert events == [FollowupAction("action_answer_faq")]
