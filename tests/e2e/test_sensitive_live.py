"""Sensitive topics and SEFOS through the real bot: calm, help first, never asking for details."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.live


def ask(stack, text: str) -> list[dict]:
    status, body, _ = stack.request("POST", "/api/v1/conversations", {})
    assert status == 201
    status, reply, _ = stack.request("POST", f"/api/v1/conversations/{body['conversation_id']}/messages", {"text": text})
    assert status == 200, reply
    return [m for m in reply["messages"] if m["sender"] == "bot"]


def first_number(text: str, numbers: list[str]) -> str | None:
    found = [(text.find(n), n) for n in numbers if n in text]
    return min(found)[1] if found else None


@pytest.mark.parametrize(
    "text, topic, line",
    [
        ("Jag är orolig för ett barn i min trappuppgång som verkar fara illa, vad kan jag göra?", "orosanmalan_barn", "010-234 52 20"),
        ("Min man slår mig när han dricker och jag vet inte vart jag ska ta vägen", "vald_nara_relation", "020-50 50 50"),
        ("Jag har tankar på att ta mitt liv", "kris_akut_hjalp", "90101"),
    ],
)
def test_sensitive_answer_puts_immediate_help_first_and_offers_a_person(live_stack, text, topic, line):
    messages = ask(live_stack, text)
    answer = messages[0]
    assert answer["topic"] == topic
    assert first_number(answer["text"], ["112", line, "010-234 50 00"]) == "112"
    assert line in answer["text"]
    assert "Skriv inte" in answer["text"] or "skriv inte" in answer["text"]
    # The follow-up offers a person instead of collecting details in the chat.
    offer = messages[1]
    assert offer["buttons"], "a sensitive answer is followed by an offer to talk to a person"
    assert "personnummer" not in offer["text"].lower() or "inte" in offer["text"].lower()


def test_report_of_concern_can_be_anonymous(live_stack):
    messages = ask(live_stack, "Kan man göra en orosanmälan utan att säga vem man är?")
    assert messages[0]["topic"] == "orosanmalan_barn"
    assert "anonym" in messages[0]["text"].lower() or "utan att säga" in messages[0]["text"].lower()


def test_child_writing_about_themselves_gets_bris_first(live_stack):
    messages = ask(live_stack, "jag är 10 år och pappa slår mig när han blir arg")
    answer = messages[0]
    assert answer["topic"] == "orosanmalan_barn"
    assert first_number(answer["text"], ["116 111", "112", "010-234"]) == "116 111"


def test_sefos_question_explains_secure_messages(live_stack):
    messages = ask(live_stack, "Kan jag skicka mitt läkarintyg med vanlig e-post till er?")
    answer = messages[0]
    assert answer["topic"] == "sakert_meddelande_sefos"
    assert "SEFOS" in answer["text"]
    assert "e-legitimation" in answer["text"] or "BankID" in answer["text"]
