"""The contact request form: validation (never a personnummer), cancel, submit."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.contact_request import (
    ASK_NAME,
    CANCELLED,
    PNR_WARNING,
    ActionAskContactDetail,
    ActionAskContactName,
    ActionSubmitContactRequest,
    ValidateContactRequestForm,
    contact_kind,
    looks_like_personal_number,
)
from conftest import make_tracker
from fake_internal_api import api_down, internal_api  # noqa: F401 (fixtures)

CONTACT = "/api/v1/internal/contact-requests"
DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "bot/domain/handover.yml").read_text(encoding="utf-8"))
CLEAR = [
    SlotSet("contact_reason", None),
    SlotSet("contact_name", None),
    SlotSet("contact_detail", None),
    SlotSet("contact_cancelled", None),
    SlotSet("handover_pending", None),
    SlotSet("handover_reason", None),
]


def form_turn(slot: str, text: str, slots: dict | None = None) -> Tracker:
    """The tracker as the form sees it when the citizen has just answered `slot`."""
    values = dict(slots or {})
    values.update({slot: text, "requested_slot": slot})
    tracker = make_tracker(text, intent="nlu_fallback", slots=values)
    tracker.events = [
        {"event": "user", "text": text},
        {"event": "slot", "name": slot, "value": text},
    ]
    tracker.active_loop = {"name": "contact_request_form"}
    return tracker


def validate(dispatcher, tracker):
    return asyncio.run(ValidateContactRequestForm().run(dispatcher, tracker, DOMAIN))


@pytest.mark.parametrize("text", [
    "850709-9805", "8507099805", "19850709-9805", "198507099805", "850709 9805",
    "850769-9802",  # samordningsnummer (day + 60)
    "mitt nummer är [personnummer borttaget]",
    "850709-1234",  # a valid date with a separator looks like one even if the check digit is wrong
    # Spellings the API masks too: one check for the whole product.
    "\uff18\uff15\uff10\uff17\uff10\uff19\uff0d\uff19\uff18\uff10\uff15",  # fullwidth digits and hyphen
    "850709.9805", "850709/9805", "850709  9805", "850709\t9805", "850709\n9805",
    "850709\u20099805", "850709\u20079805", "850709\u20149805", "850709\u00ad9805",
    "85\u200b0709-98\u206005\ufeff", "85 07 09-9805", "850709-98 05", "1985-07-09-9805",
    "pnr 8507099804",  # announced, one digit mistyped
])
def test_personal_numbers_are_recognised(text):
    assert looks_like_personal_number(text)


@pytest.mark.parametrize("text", [
    "070-123 45 67", "0701234567", "+46 70 123 45 67", "010-234 50 00", "0142-12345", "anna@exempel.se",
    "070 123 45 67", "08-12 34 56 78", "0046 70-123 45 67",
])
def test_phone_numbers_and_addresses_are_not_taken_for_personal_numbers(text):
    assert not looks_like_personal_number(text)
    assert contact_kind(text) in ("phone", "email")


@pytest.mark.parametrize("text", ["ring mig", "123", "anna@", "@exempel.se", "070-12", "inte nu"])
def test_other_text_is_not_a_contact_detail(text):
    assert contact_kind(text) is None


def test_the_form_asks_for_the_name_with_a_cancel_button(dispatcher):
    asyncio.run(ActionAskContactName().run(dispatcher, make_tracker(""), DOMAIN))
    (message,) = dispatcher.messages
    assert message["text"] == ASK_NAME
    assert message["buttons"] == [{"title": "Avbryt", "payload": "/deny"}]
    assert message["metadata"] == {"topic": "handover_request", "links": []}


def test_the_form_asks_for_phone_or_email_by_first_name(dispatcher):
    tracker = make_tracker("", slots={"contact_name": "Anna Andersson"})
    asyncio.run(ActionAskContactDetail().run(dispatcher, tracker, DOMAIN))
    text = dispatcher.messages[0]["text"]
    assert text.startswith("Tack, Anna! Vilket telefonnummer eller vilken e-postadress")
    assert "Skriv inte ditt personnummer." in text


def test_a_name_is_accepted(dispatcher):
    events = validate(dispatcher, form_turn("contact_name", "  Anna   Andersson "))
    assert SlotSet("contact_name", "Anna Andersson") in events
    assert dispatcher.messages == []


def test_a_personal_number_as_name_is_refused_kindly(dispatcher):
    events = validate(dispatcher, form_turn("contact_name", "Anna 850709-9805"))
    assert SlotSet("contact_name", None) in events
    assert [m["text"] for m in dispatcher.messages] == [PNR_WARNING]
    assert "inte en säker kanal" in PNR_WARNING


def test_a_masked_personal_number_is_refused_too(dispatcher):
    events = validate(dispatcher, form_turn("contact_detail", "[personnummer borttaget]", {"contact_name": "Anna"}))
    assert SlotSet("contact_detail", None) in events
    assert [m["text"] for m in dispatcher.messages] == [PNR_WARNING]


def test_a_question_is_not_taken_as_a_name(dispatcher):
    events = validate(dispatcher, form_turn("contact_name", "har ni öppet nu?"))
    assert SlotSet("contact_name", None) in events
    assert dispatcher.messages[0]["text"].startswith("Skriv bara ditt namn")


def test_a_phone_number_is_accepted(dispatcher):
    events = validate(dispatcher, form_turn("contact_detail", "070-123 45 67", {"contact_name": "Anna"}))
    assert SlotSet("contact_detail", "070-123 45 67") in events
    assert dispatcher.messages == []


def test_nonsense_as_contact_detail_is_explained(dispatcher):
    events = validate(dispatcher, form_turn("contact_detail", "ring mig i morgon", {"contact_name": "Anna"}))
    assert SlotSet("contact_detail", None) in events
    assert "070-123 45 67 eller namn@exempel.se" in dispatcher.messages[0]["text"]


@pytest.mark.parametrize("text", ["avbryt", "Nej tack.", "/deny"])
def test_cancel_ends_the_form(dispatcher, text):
    events = validate(dispatcher, form_turn("contact_name", text))
    assert SlotSet("contact_cancelled", True) in events
    # requested_slot None ends the loop; the submit rule then runs.
    assert events[-1] == SlotSet("requested_slot", None)


def test_submit_stores_the_request_and_promises_a_reply(internal_api, dispatcher):
    internal_api.answer("POST", CONTACT, 201, {"id": 3})
    tracker = make_tracker("anna@exempel.se", slots={
        "contact_name": "Anna Andersson", "contact_detail": "anna@exempel.se", "last_topic": "bygglov"})

    events = asyncio.run(ActionSubmitContactRequest().run(dispatcher, tracker, DOMAIN))

    (call,) = internal_api.calls("POST", CONTACT)
    assert call.body == {
        "conversation_id": "conv-1", "name": "Anna Andersson", "phone": None,
        "email": "anna@exempel.se", "reason": "callback", "topic": "bygglov"}
    text = dispatcher.messages[0]["text"]
    assert text.startswith("Tack, Anna Andersson! Vi har tagit emot din kontaktförfrågan.")
    assert "hör av sig till dig på anna@exempel.se samma eller nästa arbetsdag" in text
    assert "010-234 50 00" in text and "Burensköldsvägen 11-13" in text
    assert events == CLEAR


def test_submit_sends_a_phone_number_as_phone(internal_api, dispatcher):
    internal_api.answer("POST", CONTACT, 201, {"id": 4})
    tracker = make_tracker("", slots={"contact_name": "Bo", "contact_detail": "070-123 45 67"})
    asyncio.run(ActionSubmitContactRequest().run(dispatcher, tracker, DOMAIN))
    body = internal_api.calls("POST", CONTACT)[0].body
    assert (body["phone"], body["email"]) == ("070-123 45 67", None)


def test_cancelled_form_saves_nothing(internal_api, dispatcher):
    tracker = make_tracker("avbryt", slots={"contact_cancelled": True})
    events = asyncio.run(ActionSubmitContactRequest().run(dispatcher, tracker, DOMAIN))
    assert internal_api.requests == []
    assert dispatcher.messages[0]["text"] == CANCELLED
    assert events == CLEAR


@pytest.mark.usefixtures("api_down")
def test_submit_without_the_api_gives_the_phone_number(dispatcher):
    tracker = make_tracker("", slots={"contact_name": "Bo", "contact_detail": "070-123 45 67"})
    events = asyncio.run(ActionSubmitContactRequest().run(dispatcher, tracker, DOMAIN))
    text = dispatcher.messages[0]["text"]
    assert text.startswith("Tyvärr kunde jag inte spara din kontaktförfrågan just nu. Ring Medborgarservice på 010-234 50 00.")
    assert events == CLEAR


def test_the_message_that_starts_the_form_is_not_taken_as_an_answer(dispatcher):
    # The form starts on "Ja, kontakta mig" (/affirm); Rasa offers it for every slot.
    tracker = make_tracker("/affirm", intent="affirm", slots={"contact_name": "/affirm", "contact_detail": "/affirm"})
    tracker.active_loop = {"name": "contact_request_form"}
    tracker.events = [{"event": "user", "text": "/affirm"},
                      {"event": "slot", "name": "contact_name", "value": "/affirm"},
                      {"event": "slot", "name": "contact_detail", "value": "/affirm"}]
    events = validate(dispatcher, tracker)
    assert dispatcher.messages == []  # no confusing "that is not a name" before the question
    assert {"event": "slot", "name": "contact_name", "value": None, "timestamp": None} in events or \
        SlotSet("contact_name", None) in events
