"""action_answer_faq answers from knowledge, or falls back when unsure."""
from __future__ import annotations

import asyncio
import json
import os
import time

from rasa_sdk.events import FollowupAction, SlotSet

from actions import catalogue, settings
from actions.faq import ActionAnswerFaq
from conftest import make_tracker


def run(action, dispatcher, tracker):
    return asyncio.run(action.run(dispatcher, tracker, {}))


def answers(dispatcher):
    """The topics the citizen got an answer for, checking each text is that topic's answer."""
    out = []
    for message in dispatcher.messages:
        topic = message["metadata"]["topic"]
        assert message["text"] == catalogue.topic(topic)["answer"]
        assert message["metadata"]["links"] == catalogue.topic(topic)["links"]
        out.append(topic)
    return out


def test_confident_answer_is_the_topic_answer_from_the_catalogue(dispatcher):
    tracker = make_tracker("behöver jag bygglov för altan", intent="faq_bygglov", confidence=0.93)
    events = run(ActionAnswerFaq(), dispatcher, tracker)
    assert answers(dispatcher) == ["bygglov"]
    assert events == [SlotSet("last_topic", "bygglov"), SlotSet("consecutive_fallbacks", 0.0)]


def test_edited_answer_is_served_without_retraining_or_restart(dispatcher, monkeypatch, tmp_path):
    data = json.loads(catalogue.CATALOGUE_FILE.read_text(encoding="utf-8"))
    copy = tmp_path / "catalogue.json"
    copy.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(catalogue, "CATALOGUE_FILE", copy)
    monkeypatch.setattr(catalogue, "RELOAD_SECONDS", 0.0)
    run(ActionAnswerFaq(), dispatcher, make_tracker("bygglov altan", intent="faq_bygglov"))
    assert dispatcher.messages[-1]["text"] == data["topics"]["bygglov"]["answer"]

    data["topics"]["bygglov"]["answer"] = "Ny text om bygglov."
    copy.write_text(json.dumps(data), encoding="utf-8")
    os.utime(copy, ns=(time.time_ns(), time.time_ns() + 10**9))
    run(ActionAnswerFaq(), dispatcher, make_tracker("bygglov altan", intent="faq_bygglov"))
    assert dispatcher.messages[-1]["text"] == "Ny text om bygglov."


def test_the_answer_tells_the_api_how_sure_the_classifier_was(dispatcher):
    # The API files unsure answers in the editors' inbox with the bot's best guesses.
    tracker = make_tracker("bygglov för bastu kanske", intent="faq_bygglov", confidence=0.4231,
                           ranking=[("faq_detaljplan_karta", 0.3), ("greet", 0.1), ("faq_enskilt_avlopp", 0.05),
                                    ("faq_snorojning", 0.01)])
    run(ActionAnswerFaq(), dispatcher, tracker)
    (message,) = dispatcher.messages
    assert message["custom"] == {"confidence": 0.423,
                                 "guesses": ["bygglov", "detaljplan_karta", "enskilt_avlopp"]}


def test_a_topic_chosen_with_a_button_carries_no_confidence(dispatcher):
    tracker = make_tracker('/choose_topic{"topic":"skolskjuts"}', intent="choose_topic",
                           entities=[{"entity": "topic", "value": "skolskjuts"}])
    run(ActionAnswerFaq(), dispatcher, tracker)
    assert not dispatcher.messages[0].get("custom")


def test_after_another_action_the_best_ranked_topic_is_answered(dispatcher):
    tracker = make_tracker("mitt personnummer är [personnummer borttaget], hur söker jag förskola?",
                           intent="sensitive_data_shared", confidence=0.5,
                           ranking=[("faq_forskola_ansokan", 0.45)])
    run(ActionAnswerFaq(), dispatcher, tracker)
    assert answers(dispatcher) == ["forskola_ansokan"]


def test_low_confidence_falls_back_instead_of_guessing(dispatcher):
    tracker = make_tracker("blä", intent="faq_bygglov", confidence=settings.FAQ_MIN_CONFIDENCE / 2)
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
    assert answers(dispatcher) == ["skolskjuts"]
    assert SlotSet("last_topic", "skolskjuts") in events


def test_unknown_topic_from_a_button_is_not_answered(dispatcher):
    tracker = make_tracker(
        '/choose_topic{"topic":"greet"}', intent="choose_topic", entities=[{"entity": "topic", "value": "greet"}]
    )
    assert run(ActionAnswerFaq(), dispatcher, tracker) == [FollowupAction("action_fallback_suggest")]


def test_sensitive_topic_offers_a_person_and_collects_nothing(dispatcher):
    tracker = make_tracker("jag är orolig för grannens barn", intent="faq_orosanmalan_barn")
    events = run(ActionAnswerFaq(), dispatcher, tracker)
    assert answers(dispatcher) == ["orosanmalan_barn"]
    assert events[-2:] == [SlotSet("handover_reason", "sensitive"), FollowupAction("action_offer_handover")]


def test_child_writing_about_themselves_gets_the_child_answer(dispatcher):
    tracker = make_tracker("jag är 11 år och pappa slår mig när han är arg", intent="faq_orosanmalan_barn")
    run(ActionAnswerFaq(), dispatcher, tracker)
    (message,) = dispatcher.messages
    entry = catalogue.topic("orosanmalan_barn")
    assert message["text"] == entry["child_answer"]
    assert message["metadata"]["topic"] == "orosanmalan_barn"
    assert message["metadata"]["audience"] == "child"
    assert "116 111" in message["text"]


def test_referral_topic_gets_its_referral_answer(dispatcher):
    tracker = make_tracker("hur förnyar jag mitt pass", intent="faq_hanvisning_polisen")
    events = run(ActionAnswerFaq(), dispatcher, tracker)
    assert answers(dispatcher) == ["hanvisning_polisen"]
    assert FollowupAction("action_offer_handover") not in events
