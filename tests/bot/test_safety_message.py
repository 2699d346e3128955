"""The reply to a safety signal: the sensitive topic's answer, numbers first, then a person."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import yaml
from rasa_sdk.events import FollowupAction, SlotSet

from actions import catalogue, safety
from actions.faq import ActionAnswerFaq
from conftest import make_tracker

REPO = Path(__file__).resolve().parents[2]
ORGANISATION = yaml.safe_load((REPO / "knowledge/organisation.yml").read_text(encoding="utf-8"))
LINES = ORGANISATION["support_lines"]
CATEGORIES = sorted(safety.TOPICS)
ADULT = "Jag vet inte vad jag ska göra längre, det är för mycket."
CHILD = "jag är 11 år och vet inte vad jag ska göra"


def answer(dispatcher, text, category, intent="faq_bygglov"):
    tracker = make_tracker(text, intent=intent, confidence=0.9,
                           entities=[{"entity": "safety_signal", "value": category}])
    events = asyncio.run(ActionAnswerFaq().run(dispatcher, tracker, {}))
    (message,) = dispatcher.messages
    return message, events


def numbers_in_order(text: str):
    digits = re.sub(r"[\s-]", "", text)
    found = []
    for key, line in LINES.items():
        number = re.sub(r"[\s-]", "", str(line["number"]))
        position = digits.find(number)
        if position >= 0:
            found.append((position, key))
    return [key for _, key in sorted(found)]


@pytest.mark.parametrize("category", CATEGORIES)
def test_a_signal_overrides_an_unrelated_topic_and_offers_a_person(dispatcher, category):
    message, events = answer(dispatcher, ADULT, category)
    assert message["metadata"]["topic"] == safety.TOPICS[category]
    assert message["metadata"]["safety"] == category
    assert message["text"] == catalogue.topic(safety.TOPICS[category])["answer"]
    assert events[-2:] == [SlotSet("handover_reason", "sensitive"), FollowupAction("action_offer_handover")]


@pytest.mark.parametrize("category", CATEGORIES)
def test_an_adult_gets_112_first_then_the_lines_for_the_situation(dispatcher, category):
    message, _ = answer(dispatcher, ADULT, category)
    order = numbers_in_order(message["text"])
    assert order[0] == "emergency"
    for key in safety.ADULT_LINES[category]:
        assert key in order, f"{LINES[key]['name']} is missing from the {category} answer"


@pytest.mark.parametrize("category", CATEGORIES)
def test_a_child_gets_bris_first(dispatcher, category):
    message, _ = answer(dispatcher, CHILD, category)
    assert message["metadata"]["audience"] == "child"
    assert numbers_in_order(message["text"])[:2] == ["children", "emergency"]


def test_the_classifiers_own_sensitive_topic_is_kept(dispatcher):
    message, _ = answer(dispatcher, ADULT, "suicide_selfharm", intent="faq_vald_nara_relation")
    assert message["metadata"]["topic"] == "vald_nara_relation"


def test_a_signal_is_answered_even_when_the_classifier_was_unsure(dispatcher):
    message, _ = answer(dispatcher, ADULT, "acute_danger", intent="nlu_fallback")
    assert message["metadata"]["topic"] == "kris_akut_hjalp"


def test_support_lines_are_sourced_and_reach_the_actions():
    for key, line in LINES.items():
        assert line["number"] and line["name"], key
        assert line["source"].startswith("https://"), key
        assert line["confidence"] in ("high", "medium", "low"), key
    assert safety.support_lines() == LINES
