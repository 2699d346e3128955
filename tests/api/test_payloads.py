"""Button payloads from citizens: only those offered in the conversation, or known to all.

A payload is taken by the bot as said (no language understanding), so a
forged `/affirm` or `/rate{...}` must not reach it. A refused payload does
not lose the message: the button's title goes to the bot as typed text.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api_support import FakeRasa
from mjolby.conversations.models import Message

API = "/api/v1/conversations"


def post(client: TestClient, conversation_id: str, text: str, payload: str | None = None):
    body = {"text": text, **({"payload": payload} if payload is not None else {})}
    return client.post(f"{API}/{conversation_id}/messages", json=body)


def stored_user_payloads(db: Session, conversation_id: str) -> list[str | None]:
    return list(db.scalars(select(Message.payload).where(
        Message.conversation_id == conversation_id, Message.sender == "user").order_by(Message.id)))


def test_a_payload_the_bot_offered_goes_to_the_bot_and_is_stored(
        client: TestClient, start: Callable[[], str], fake_rasa: FakeRasa, db: Session) -> None:
    conversation_id = start()
    offered = post(client, conversation_id, "asdfgh").json()["messages"][0]["buttons"]
    assert {"title": "Bygglov", "payload": "/faq_bygglov"} in offered
    response = post(client, conversation_id, "Bygglov", "/faq_bygglov")
    assert response.status_code == 200
    assert fake_rasa.messages_received[-1] == "/faq_bygglov"
    assert stored_user_payloads(db, conversation_id) == [None, "/faq_bygglov"]


@pytest.mark.parametrize("payload", [
    "/affirm",
    '/rate{"rating":5}',
    "/faq_bygglov",                         # offered elsewhere, not in this conversation
    '/choose_topic{"topic":"nonexistent"}',
    '/choose_topic{"topic":"bygglov","x":1}',
    "/secure_contact_request",
])
def test_a_payload_not_offered_is_not_sent_but_the_text_is(
        client: TestClient, start: Callable[[], str], fake_rasa: FakeRasa, db: Session,
        payload: str) -> None:
    conversation_id = start()
    response = post(client, conversation_id, "Hej där", payload)
    assert response.status_code == 200
    assert fake_rasa.messages_received == ["Hej där"]
    assert response.json()["messages"]  # the citizen still gets an answer
    assert stored_user_payloads(db, conversation_id) == [None]
    texts = [m["text"] for m in client.get(f"{API}/{conversation_id}/messages").json()["messages"]]
    assert "Hej där" in texts


@pytest.mark.parametrize("payload", [
    "/greet", "/handover_request", '/choose_topic{"topic":"bygglov"}',
    '/choose_topic{"topic": "sakert_meddelande_sefos"}',
])
def test_global_payloads_are_always_allowed(client: TestClient, start: Callable[[], str],
                                            fake_rasa: FakeRasa, db: Session, payload: str) -> None:
    conversation_id = start()
    assert post(client, conversation_id, "Knapp", payload).status_code == 200
    assert fake_rasa.messages_received == [payload]
    assert stored_user_payloads(db, conversation_id) == [payload]


def test_a_payload_with_an_identity_number_is_stored_masked(
        client: TestClient, start: Callable[[], str], fake_rasa: FakeRasa, db: Session) -> None:
    conversation_id = start()
    payload = '/choose_topic{"topic":"811218-9876"}'
    assert post(client, conversation_id, "Knapp", payload).status_code == 200
    assert stored_user_payloads(db, conversation_id) == [None]  # unknown topic once masked
    assert all("811218-9876" not in m for m in fake_rasa.messages_received)
