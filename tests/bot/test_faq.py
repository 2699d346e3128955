"""action_answer_faq answers from knowledge, or falls back when unsure."""
from __future__ import annotations

import asyncio

from rasa_sdk.events import FollowupAction, SlotSet

from actions import catalogue, settings
from actions.faq import ActionAnswerFaq
from conftest import make_tracker


def run(action, dispatcher, tracker):
    return asyncio.run(action.run(dispatcher, tracker, {}))


def test_confident_answer_uses_the_topic_response(dispatcher):
    tracker = make_tracker("behöver jag bygglov för altan", response_key="faq/bygglov", confidence=0.93)
    events = run(ActionAnswerFaq(), dispatcher, tracker)
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq/bygglov"]
    assert events == [SlotSet("last_topic", "bygglov"), SlotSet("consecutive_fallbacks", 0.0)]


def test_low_confidence_falls_back_instead_of_guessing(dispatcher):
    tracker = make_tracker("blä", response_key="faq/bygglov", confidence=settings.FAQ_MIN_CONFIDENCE / 2)
    events = run(ActionAnswerFaq(), dispatcher, tracker)
    assert dispatcher.messages == []
    assert events == [FollowupAction("action_fallback_suggest")]


def test_topic_chosen_with_a_button(dispatcher):
    tracker = make_tracker(
        '/choose_topic{"topic":"skolskjuts"}',
        intent="choose_topic",
        entities=[{"entity": "topic", "value": "skolskjuts"}],
    )
    events = run(ActionAnswerFaq(), dispatcher, tracker)
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq/skolskjuts"]
    assert SlotSet("last_topic", "skolskjuts") in events


def test_unknown_topic_from_a_button_is_not_answered(dispatcher):
    tracker = make_tracker(
        '/choose_topic{"topic":"greet"}', intent="choose_topic", entities=[{"entity": "topic", "value": "greet"}]
    )
    assert run(ActionAnswerFaq(), dispatcher, tracker) == [FollowupAction("action_fallback_suggest")]


def test_sensitive_topic_offers_a_person_and_collects_nothing(dispatcher):
    tracker = make_tracker("jag är orolig för grannens barn", response_key="faq/orosanmalan_barn")
    events = run(ActionAnswerFaq(), dispatcher, tracker)
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq/orosanmalan_barn"]
    assert events[-2:] == [SlotSet("handover_reason", "sensitive"), FollowupAction("action_offer_handover")]


def test_child_writing_about_themselves_gets_the_child_answer(dispatcher):
    tracker = make_tracker("jag är 11 år och pappa slår mig när han är arg", response_key="faq/orosanmalan_barn")
    run(ActionAnswerFaq(), dispatcher, tracker)
    (message,) = dispatcher.messages
    entry = catalogue.topic("orosanmalan_barn")
    assert message["text"] == entry["child_answer"]
    assert message["metadata"]["topic"] == "orosanmalan_barn"
    assert message["metadata"]["audience"] == "child"
    assert "116 111" in message["text"]


def test_referral_topic_gets_its_referral_answer(dispatcher):
    tracker = make_tracker("hur förnyar jag mitt pass", response_key="faq/hanvisning_polisen")
    events = run(ActionAnswerFaq(), dispatcher, tracker)
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq/hanvisning_polisen"]
    assert FollowupAction("action_offer_handover") not in events
