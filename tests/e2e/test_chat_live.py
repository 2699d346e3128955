"""The chat API against the real bot: what a citizen sees."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.live

TOPICS = None


def topics_catalogue() -> set[str]:
    import yaml
    from pathlib import Path

    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "knowledge/topics.yml").read_text())
    return {t["id"] for t in data["topics"]}


def new_conversation(stack) -> tuple[str, list[dict]]:
    status, body, _ = stack.request("POST", "/api/v1/conversations", {"locale": "sv"})
    assert status == 201, body
    return body["conversation_id"], body["messages"]


def say(stack, conv: str, text: str) -> dict:
    status, body, _ = stack.request("POST", f"/api/v1/conversations/{conv}/messages", {"text": text})
    assert status == 200, body
    return body


def first_topic(messages: list[dict]) -> str | None:
    return next((m["topic"] for m in messages if m["sender"] == "bot" and m["topic"]), None)


def test_health_reports_ready(live_stack):
    status, body, _ = live_stack.request("GET", "/api/v1/health")
    assert (status, body) == (200, {"status": "ok", "bot": "ready"})


def test_greeting_says_automated_and_warns_about_personnummer(live_stack):
    _, messages = new_conversation(live_stack)
    greeting = " ".join(m["text"] for m in messages)
    assert messages and messages[0]["topic"] == "greet"
    assert "automat" in greeting.lower()
    assert "personnummer" in greeting.lower()


def test_routine_question_is_answered_with_topic_and_links(live_stack):
    conv, _ = new_conversation(live_stack)
    reply = say(live_stack, conv, "Hur gör jag för att söka bygglov för ett nytt garage?")
    assert reply["state"] == "bot"
    assert first_topic(reply["messages"]) == "bygglov"
    answer = reply["messages"][0]
    assert answer["links"] and all(l["url"].startswith("https://") for l in answer["links"])
    assert "startbesked" in answer["text"]


def test_every_bot_message_has_a_catalogue_topic_or_null(live_stack):
    catalogue = topics_catalogue()
    conv, greeting = new_conversation(live_stack)
    replies = greeting[:]
    for text in ("när töms soporna", "vem vann fotbolls-VM 1994?", "tack för hjälpen", "är du en människa?"):
        replies += say(live_stack, conv, text)["messages"]
    for m in replies:
        assert m["topic"] is None or m["topic"] in catalogue, m
        assert isinstance(m["links"], list) and isinstance(m["buttons"], list)


def test_referral_names_the_authority_and_links_there(live_stack):
    conv, _ = new_conversation(live_stack)
    reply = say(live_stack, conv, "jag har flyttat, hur ändrar jag min adress i folkbokföringen?")
    assert first_topic(reply["messages"]) == "hanvisning_skatteverket"
    assert "Skatteverket" in reply["messages"][0]["text"]
    assert any("skatteverket.se" in l["url"] for l in reply["messages"][0]["links"])


def test_gibberish_gets_did_you_mean_buttons_and_a_person(live_stack):
    conv, _ = new_conversation(live_stack)
    reply = say(live_stack, conv, "xkq plömf zzvrt")
    (message,) = [m for m in reply["messages"] if m["sender"] == "bot"]
    assert message["topic"] is None
    titles = [b["title"] for b in message["buttons"]]
    assert "Prata med Medborgarservice" in titles


def test_picking_a_suggested_topic_answers_it(live_stack):
    conv, _ = new_conversation(live_stack)
    status, body, _ = live_stack.request(
        "POST", f"/api/v1/conversations/{conv}/messages",
        {"text": "Skolskjuts", "payload": '/choose_topic{"topic":"skolskjuts"}'},
    )
    assert status == 200
    assert first_topic(body["messages"]) == "skolskjuts"


def test_personnummer_is_masked_and_the_rest_still_answered(live_stack):
    conv, _ = new_conversation(live_stack)
    reply = say(live_stack, conv, "Mitt personnummer är 850709-9805, hur söker jag förskoleplats till min son?")
    bot_topics = [m["topic"] for m in reply["messages"] if m["sender"] == "bot" and m["topic"]]
    assert bot_topics[0] == "sensitive_data_shared"
    assert "forskola_ansokan" in bot_topics[1:]
    status, history, _ = live_stack.request("GET", f"/api/v1/conversations/{conv}/messages?after=0")
    texts = " ".join(m["text"] for m in history["messages"])
    assert "850709" not in texts and "9805" not in texts
    assert re.search(r"personnummer borttaget", texts)
