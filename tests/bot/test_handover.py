"""The handover actions: offer, queue, decline, fallback without the API, rating."""
from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet

from actions.handover import (
    ActionHandoverAccept,
    ActionHandoverDecline,
    ActionOfferHandover,
    ActionRateHandover,
)
from conftest import make_tracker
from fake_internal_api import TOKEN, api_down, internal_api  # noqa: F401 (fixtures)

STATUS = "/api/v1/internal/service-status"
CASES = "/api/v1/internal/handover/cases"
RATING = "/api/v1/internal/conversations/conv-1/rating"
OPEN = {
    "open_now": True,
    "chat_available": True,
    "staff_online": 2,
    "queue_length": 1,
    "estimated_wait_minutes": 4,
    "opens_next": None,
    "closes_at": "2026-11-25T16:30:00+01:00",
    "text_phone": "Växeln (010-234 50 00) har öppet nu, till kl. 16.30 i dag.",
    "text_reception": "Receptionen i Stadshuset har öppet nu, till kl. 16.30 i dag.",
    "text_chat": "Medborgarservice chattar till kl. 16.30 i dag.",
}
CLOSED = dict(
    OPEN,
    open_now=False,
    chat_available=False,
    staff_online=0,
    queue_length=0,
    text_chat="Medborgarservice har stängt och öppnar igen i morgon, torsdag, kl. 7.30.",
)
QUEUED = {"case_id": 7, "state": "queued", "queue": {"position": 2, "estimated_wait_minutes": 6}}
HANDOVER = {"topic": "handover_request", "links": []}
RESET = [SlotSet("handover_pending", None), SlotSet("handover_reason", None)]


def run(action, dispatcher, tracker):
    return asyncio.run(action.run(dispatcher, tracker, {}))


def after_offer(tracker: Tracker) -> Tracker:
    """The tracker as it is right after the bot offered a handover and the citizen answered."""
    tracker.events = [
        {"event": "user", "text": "hur söker jag bidrag för ..."},
        {"event": "action", "name": "action_answer_faq"},
        {"event": "action", "name": "action_offer_handover"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": tracker.latest_message.get("text")},
    ]
    return tracker


def test_asking_for_a_person_while_open_queues_at_once(internal_api, dispatcher):
    internal_api.answer("GET", STATUS, 200, OPEN)
    internal_api.answer("POST", CASES, 201, QUEUED)
    tracker = make_tracker("jag vill prata med en människa", intent="handover_request", slots={"last_topic": "bygglov"})

    events = run(ActionOfferHandover(), dispatcher, tracker)

    (call,) = internal_api.calls("POST", CASES)
    assert call.body == {"conversation_id": "conv-1", "reason": "user_request", "topic": "bygglov"}
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    (message,) = dispatcher.messages
    assert "Du är nummer 2 i kön och väntetiden är ungefär 6 minuter." in message["text"]
    assert message["buttons"] == [{"title": "Avbryt väntan", "payload": "/cancel_handover"}]
    assert message["metadata"] == HANDOVER
    assert events == RESET


def test_first_in_an_empty_queue_is_told_so(internal_api, dispatcher):
    internal_api.answer("GET", STATUS, 200, dict(OPEN, queue_length=0))
    internal_api.answer("POST", CASES, 201, dict(QUEUED, queue={"position": 1, "estimated_wait_minutes": 1}))
    run(ActionOfferHandover(), dispatcher, make_tracker("människa tack", intent="handover_request"))
    assert "Du är först i kön och väntetiden är ungefär 1 minut." in dispatcher.messages[0]["text"]


def test_two_fallbacks_offer_a_live_chat_with_the_real_queue(internal_api, dispatcher):
    internal_api.answer("GET", STATUS, 200, OPEN)
    tracker = make_tracker("ööö", intent="nlu_fallback", slots={"handover_reason": "unresolved"})

    events = run(ActionOfferHandover(), dispatcher, tracker)

    assert internal_api.calls("POST", CASES) == []
    (message,) = dispatcher.messages
    assert message["text"] == (
        "Jag verkar inte kunna hjälpa dig med det här. Vill du chatta med en medarbetare på "
        "Medborgarservice? Just nu väntar 1 person före dig, ungefär 4 minuter."
    )
    assert message["buttons"] == [
        {"title": "Ja, koppla mig", "payload": "/affirm"},
        {"title": "Nej tack", "payload": "/deny"},
    ]
    assert message["metadata"] == HANDOVER
    # For the editors' inbox the message counts as not understood.
    assert message["custom"] == {"fallback": True, "guesses": []}
    assert events == [SlotSet("handover_pending", "live"), SlotSet("handover_reason", "unresolved")]


def test_sensitive_topic_offer_warns_against_sharing_details(internal_api, dispatcher):
    internal_api.answer("GET", STATUS, 200, dict(OPEN, queue_length=0))
    tracker = make_tracker("min pappa slår mig", slots={"handover_reason": "sensitive"})
    events = run(ActionOfferHandover(), dispatcher, tracker)
    text = dispatcher.messages[0]["text"]
    assert "Just nu är det ingen kö." in text
    assert "Skriv inte personnummer eller andra känsliga uppgifter i chatten." in text
    assert not dispatcher.messages[0].get("custom")  # understood: nothing for the editors' inbox
    assert events[-1] == SlotSet("handover_reason", "sensitive")


def test_while_closed_it_says_when_we_open_and_offers_a_contact_request(internal_api, dispatcher):
    internal_api.answer("GET", STATUS, 200, CLOSED)
    tracker = make_tracker("jag vill prata med en människa", intent="handover_request")

    events = run(ActionOfferHandover(), dispatcher, tracker)

    assert internal_api.calls("POST", CASES) == []
    (message,) = dispatcher.messages
    text = message["text"]
    assert "öppnar igen i morgon, torsdag, kl. 7.30" in text
    assert "samma eller nästa arbetsdag" in text
    assert "010-234 50 00" in text
    assert "Stadshuset, Burensköldsvägen 11-13, 595 80 Mjölby" in text
    assert message["buttons"] == [
        {"title": "Ja, kontakta mig", "payload": "/affirm"},
        {"title": "Nej tack", "payload": "/deny"},
    ]
    assert events == [SlotSet("handover_pending", "contact"), SlotSet("handover_reason", "user_request")]


@pytest.mark.usefixtures("api_down")
def test_without_the_api_the_citizen_gets_phone_and_hours(dispatcher):
    events = run(ActionOfferHandover(), dispatcher, make_tracker("människa", intent="handover_request"))

    (message,) = dispatcher.messages
    assert message["text"].startswith("Jag kan tyvärr inte koppla dig vidare just nu. Ring Medborgarservice på 010-234 50 00.")
    assert "måndag–torsdag kl. 7.30–16.30 och fredag kl. 7.30–16" in message["text"]
    assert "fel" not in message["text"].lower() and "error" not in message["text"].lower()
    assert events == RESET


def test_a_slow_api_is_given_up_after_the_timeout(internal_api, dispatcher):
    # The status would say "open" and the queue would take the case, but both
    # come later than the action waits (1 s in these tests).
    internal_api.answer("GET", STATUS, 200, OPEN, delay=3.0)
    internal_api.answer("POST", CASES, 201, QUEUED)
    events = run(ActionOfferHandover(), dispatcher, make_tracker("människa", intent="handover_request"))
    (message,) = dispatcher.messages
    assert message["text"].startswith("Jag kan tyvärr inte koppla dig vidare just nu. Ring Medborgarservice på 010-234 50 00.")
    assert internal_api.calls("POST", CASES) == []
    assert events == RESET


def test_a_server_error_is_never_shown(internal_api, dispatcher):
    internal_api.answer("GET", STATUS, 500, {"detail": "Traceback (most recent call last): db at 10.0.0.5"})
    run(ActionOfferHandover(), dispatcher, make_tracker("människa", intent="handover_request"))
    text = dispatcher.messages[0]["text"]
    assert "Traceback" not in text and "10.0.0.5" not in text
    assert "010-234 50 00" in text


def test_a_wrong_token_is_refused_and_the_citizen_gets_the_phone_number(internal_api, dispatcher, monkeypatch):
    from actions import settings

    monkeypatch.setattr(settings, "INTERNAL_API_TOKEN", "wrong")
    internal_api.answer("GET", STATUS, 200, OPEN)
    run(ActionOfferHandover(), dispatcher, make_tracker("människa", intent="handover_request"))
    assert internal_api.requests[0].headers["Authorization"] == "Bearer wrong"
    assert "010-234 50 00" in dispatcher.messages[0]["text"]


def test_accepting_a_live_offer_creates_the_case_with_its_reason(internal_api, dispatcher):
    internal_api.answer("POST", CASES, 201, QUEUED)
    tracker = after_offer(make_tracker(
        "ja", intent="affirm",
        slots={"handover_pending": "live", "handover_reason": "sensitive", "last_topic": "vald_nara_relation"},
    ))
    events = run(ActionHandoverAccept(), dispatcher, tracker)
    assert internal_api.calls("POST", CASES)[0].body == {
        "conversation_id": "conv-1", "reason": "sensitive", "topic": "vald_nara_relation"}
    assert "Du är nummer 2 i kön" in dispatcher.messages[0]["text"]
    assert events == RESET


def test_asking_for_a_person_right_after_an_offer_keeps_the_offer_reason(internal_api, dispatcher):
    internal_api.answer("GET", STATUS, 200, OPEN)
    internal_api.answer("POST", CASES, 201, QUEUED)
    tracker = after_offer(make_tracker(
        "ja koppla mig till en människa", intent="handover_request",
        slots={"handover_pending": "live", "handover_reason": "unresolved"},
    ))
    run(ActionOfferHandover(), dispatcher, tracker)
    assert internal_api.calls("POST", CASES)[0].body["reason"] == "unresolved"


def test_accepting_when_staff_just_left_offers_a_contact_request_instead(internal_api, dispatcher):
    internal_api.answer("POST", CASES, 409, {"detail": {"code": "unavailable", "message": "Stängt"}})
    tracker = after_offer(make_tracker("ja", intent="affirm", slots={"handover_pending": "live", "handover_reason": "unresolved"}))
    events = run(ActionHandoverAccept(), dispatcher, tracker)
    assert dispatcher.messages == []
    assert events == [SlotSet("handover_reason", "unresolved"), FollowupAction("action_offer_handover")]


def test_accepting_a_contact_offer_starts_the_form(dispatcher):
    tracker = after_offer(make_tracker("ja", intent="affirm", slots={"handover_pending": "contact"}))
    events = run(ActionHandoverAccept(), dispatcher, tracker)
    assert dispatcher.messages == []
    assert events == [
        SlotSet("contact_name", None),
        SlotSet("contact_detail", None),
        SlotSet("contact_cancelled", None),
        FollowupAction("contact_request_form"),
    ]


def test_accepting_without_an_offer_asks_what_they_need(dispatcher):
    events = run(ActionHandoverAccept(), dispatcher, make_tracker("ja", intent="affirm"))
    assert dispatcher.messages[0]["text"].startswith("Skriv gärna vad du vill ha hjälp med")
    assert events == []


@pytest.mark.usefixtures("api_down")
def test_accepting_without_the_api_gives_the_phone_number(dispatcher):
    tracker = after_offer(make_tracker("ja", intent="affirm", slots={"handover_pending": "live"}))
    events = run(ActionHandoverAccept(), dispatcher, tracker)
    assert "Ring Medborgarservice på 010-234 50 00" in dispatcher.messages[0]["text"]
    assert events == RESET


def test_declining_says_they_can_ask_again_any_time(dispatcher):
    events = run(ActionHandoverDecline(), dispatcher, make_tracker("nej tack", intent="deny", slots={"handover_pending": "live"}))
    (message,) = dispatcher.messages
    assert "när som helst" in message["text"] and "010-234 50 00" in message["text"]
    assert message["metadata"] == HANDOVER
    assert events == RESET


def test_rating_button_is_stored_on_the_case(internal_api, dispatcher):
    internal_api.answer("POST", RATING, 200, {"case_id": 7, "rating": 4})
    tracker = make_tracker('/rate{"rating":4}', intent="rate", entities=[{"entity": "rating", "value": 4}])
    events = run(ActionRateHandover(), dispatcher, tracker)
    (call,) = internal_api.calls("POST", RATING)
    assert call.body == {"rating": 4}
    assert dispatcher.messages[0]["text"].startswith("Tack för ditt svar!")
    assert events == []


def test_a_typed_rating_is_understood(internal_api, dispatcher):
    internal_api.answer("POST", RATING, 200, {"case_id": 7, "rating": 5})
    run(ActionRateHandover(), dispatcher, make_tracker("jag ger er en 5:a", intent="rate"))
    assert internal_api.calls("POST", RATING)[0].body == {"rating": 5}


def test_a_rating_out_of_range_is_not_sent(internal_api, dispatcher):
    run(ActionRateHandover(), dispatcher, make_tracker("betyg 9", intent="rate", entities=[{"entity": "rating", "value": "9"}]))
    assert internal_api.requests == []
    assert dispatcher.messages[0]["text"] == "Välj gärna ett betyg från 1 till 5 med knapparna ovan."


@pytest.mark.usefixtures("api_down")
def test_rating_without_the_api_still_thanks_the_citizen(dispatcher):
    run(ActionRateHandover(), dispatcher, make_tracker('/rate{"rating":2}', intent="rate", entities=[{"entity": "rating", "value": 2}]))
    assert dispatcher.messages[0]["text"].startswith("Tack för ditt svar!")
