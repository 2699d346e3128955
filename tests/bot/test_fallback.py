"""action_fallback_suggest asks to rephrase and offers the likeliest topics."""
from __future__ import annotations

import asyncio
import json

from rasa_sdk.events import FollowupAction, SlotSet

from actions.fallback import ActionFallbackSuggest, TALK_TO_PERSON
from conftest import make_tracker


def run(dispatcher, tracker):
    return asyncio.run(ActionFallbackSuggest().run(dispatcher, tracker, {}))


def test_first_fallback_suggests_topics_and_a_person(dispatcher):
    tracker = make_tracker(
        "sopor grejen",
        intent="nlu_fallback",
        ranking=[("faq_avfall_hamtning", 0.4), ("faq_atervinningscentral", 0.3), ("faq_felanmalan", 0.1), ("faq_bygglov", 0.01)],
    )
    events = run(dispatcher, tracker)
    (message,) = dispatcher.messages
    assert "Menade du" in message["text"]
    assert message["metadata"] == {"topic": None, "links": []}
    payloads = [b["payload"] for b in message["buttons"]]
    assert [json.loads(p[len("/choose_topic"):])["topic"] for p in payloads[:3]] == [
        "avfall_hamtning", "atervinningscentral", "felanmalan"]
    assert message["buttons"][-1] == TALK_TO_PERSON
    assert events == [SlotSet("consecutive_fallbacks", 1.0)]
    # For the editors' inbox: a missed message, with the topics suggested.
    assert message["custom"] == {"fallback": True,
                                 "guesses": ["avfall_hamtning", "atervinningscentral", "felanmalan"]}


def test_without_candidates_it_only_asks_to_rephrase(dispatcher):
    run(dispatcher, make_tracker("???", intent="nlu_fallback"))
    (message,) = dispatcher.messages
    assert "Menade du" not in message["text"]
    assert message["buttons"] == [TALK_TO_PERSON]


def test_second_fallback_in_a_row_offers_a_handover(dispatcher):
    tracker = make_tracker("ööö", intent="nlu_fallback", slots={"consecutive_fallbacks": 1.0})
    events = run(dispatcher, tracker)
    assert dispatcher.messages == []
    assert events[-2:] == [SlotSet("handover_reason", "unresolved"), FollowupAction("action_offer_handover")]


def test_closest_wording_is_suggested_when_the_ranking_misses_it(dispatcher):
    # "radon" is in only one knowledge example (miljo_halsoskydd); suppose the
    # ResponseSelector ranks unrelated topics first.
    tracker = make_tracker(
        "hur mäter man radon i huset",
        intent="nlu_fallback",
        ranking=[("faq_kris_akut_hjalp", 0.3), ("faq_orosanmalan_barn", 0.2), ("faq_hanvisning_polisen", 0.1)],
    )
    run(dispatcher, tracker)
    (message,) = dispatcher.messages
    topics = [json.loads(b["payload"][len("/choose_topic"):])["topic"] for b in message["buttons"][:-1]]
    assert topics == ["miljo_halsoskydd", "kris_akut_hjalp", "orosanmalan_barn"]
    assert message["buttons"][-1] == TALK_TO_PERSON


def test_nonsense_adds_no_wording_suggestion(dispatcher):
    run(dispatcher, make_tracker("qzxv wqk", intent="nlu_fallback"))
    (message,) = dispatcher.messages
    assert message["buttons"] == [TALK_TO_PERSON]
