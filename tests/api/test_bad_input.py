"""Input the databases or the bot cannot take is refused with a clear 422, never a 500.

A refused message is not lost: nothing is stored, nothing reaches the bot, and
the same conversation answers the next message as usual.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api_support import FakeRasa
from mjolby import texts

API = "/api/v1/conversations"
TOO_BIG = str(2**63)
LARGEST = str(2**63 - 1)


def raw_post(client: TestClient, conversation_id: str, body: str):
    return client.post(f"{API}/{conversation_id}/messages", content=body.encode("utf-8"),
                       headers={"Content-Type": "application/json"})


def assert_not_lost(client: TestClient, conversation_id: str, fake_rasa: FakeRasa) -> None:
    before = len(client.get(f"{API}/{conversation_id}/messages").json()["messages"])
    response = client.post(f"{API}/{conversation_id}/messages", json={"text": "Jag undrar om bygglov"})
    assert response.status_code == 200
    assert response.json()["messages"][0]["topic"] == "bygglov"
    after = client.get(f"{API}/{conversation_id}/messages").json()["messages"]
    assert [m["sender"] for m in after[before:]] == ["user", "bot"]
    assert fake_rasa.messages_received == ["Jag undrar om bygglov"]


@pytest.mark.parametrize("body", [
    '{"text": "Hej \\ud800 bygglov"}',          # a lone high surrogate
    '{"text": "Hej \\udfff"}',                  # a lone low surrogate
    '{"text": "Hej\\u0000 bygglov"}',           # NUL (PostgreSQL refuses it)
    '{"text": "Bygglov", "payload": "/faq_bygglov\\u0000"}',
    '{"text": "Bygglov", "payload": "/faq_\\ud800"}',
])
def test_unstorable_characters_are_422_in_swedish(client: TestClient, start: Callable[[], str],
                                                  fake_rasa: FakeRasa, body: str) -> None:
    conversation_id = start()
    response = raw_post(client, conversation_id, body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail in {texts.ERROR_TEXT_UNSTORABLE,
                      texts.ERROR_FIELD_UNSTORABLE.format(field="payload")}
    assert "\\u" not in response.text and "bygglov" not in response.text.lower()
    stored = client.get(f"{API}/{conversation_id}/messages").json()["messages"]
    assert [m["sender"] for m in stored] == ["bot"]  # only the greeting
    assert fake_rasa.messages_received == []
    assert_not_lost(client, conversation_id, fake_rasa)


def test_a_surrogate_pair_is_an_ordinary_character(client: TestClient, start: Callable[[], str]) -> None:
    conversation_id = start()
    response = raw_post(client, conversation_id, '{"text": "Bygglov \\ud83d\\ude00"}')
    assert response.status_code == 200
    stored = client.get(f"{API}/{conversation_id}/messages").json()["messages"]
    assert stored[1]["text"] == "Bygglov \N{GRINNING FACE}"


@pytest.mark.parametrize("after", [TOO_BIG, str(2**64), "9" * 40])
def test_after_beyond_the_largest_id_is_422(client: TestClient, start: Callable[[], str],
                                            after: str) -> None:
    response = client.get(f"{API}/{start()}/messages", params={"after": after})
    assert response.status_code == 422
    assert response.json() == {"detail": texts.ERROR_FIELD_INVALID.format(field="after")}


def test_the_largest_id_is_accepted(client: TestClient, start: Callable[[], str]) -> None:
    response = client.get(f"{API}/{start()}/messages", params={"after": LARGEST})
    assert response.status_code == 200
    assert response.json()["messages"] == []


@pytest.mark.parametrize("query, headers", [
    ({"after": TOO_BIG}, {}),
    ({}, {"Last-Event-ID": TOO_BIG}),
    ({}, {"Last-Event-ID": "9" * 40}),
])
def test_event_stream_with_a_too_large_id_is_422_before_streaming(
        client: TestClient, start: Callable[[], str], query: dict, headers: dict) -> None:
    response = client.get(f"{API}/{start()}/events", params=query, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["detail"] in {
        texts.ERROR_FIELD_INVALID.format(field="after"),
        texts.ERROR_FIELD_INVALID.format(field="Last-Event-ID"),
    }
