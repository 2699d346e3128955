"""The conversation routes of CONTRACT.md, as a widget or a poller sees them."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import yaml

from api_support import FakeRasa
from mjolby import texts
from mjolby.conversations import service
from mjolby.conversations.models import State

API = "/api/v1/conversations"
GREET_FILE_ANSWER = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "knowledge/behaviour/greet.yml").read_text(encoding="utf-8")
)["answer"]
MESSAGE_KEYS = {"id", "sender", "text", "topic", "links", "buttons", "created_at"}


def post(client: TestClient, conversation_id: str, text: str, **extra: str):
    return client.post(f"{API}/{conversation_id}/messages", json={"text": text, **extra})


def assert_message_shape(message: dict) -> None:
    assert set(message) == MESSAGE_KEYS
    assert message["id"].isdigit()
    assert message["sender"] in {"user", "bot", "agent", "system"}
    assert isinstance(message["text"], str)
    assert datetime.fromisoformat(message["created_at"]).tzinfo is not None
    for link in message["links"]:
        assert set(link) == {"title", "url"} and link["url"].startswith("https://")
    for button in message["buttons"]:
        assert set(button) == {"title", "payload"}


# --------------------------------------------------------------------------
# POST /conversations


@pytest.mark.parametrize("body", [{}, {"locale": "sv"}, None])
def test_start_returns_201_with_the_greeting(client: TestClient, fake_rasa: FakeRasa, body) -> None:
    response = client.post(API, json=body) if body is not None else client.post(API)
    assert response.status_code == 201
    data = response.json()
    assert set(data) == {"conversation_id", "state", "messages"}
    assert data["state"] == "bot"
    [greeting] = data["messages"]
    assert_message_shape(greeting)
    assert greeting["sender"] == "bot"
    # The editors' greeting from knowledge/, the same answer the bot gives to "hej".
    assert greeting["text"] == " ".join(GREET_FILE_ANSWER.split())
    assert "personnummer" in greeting["text"] and "automatisk" in greeting["text"]
    assert greeting["topic"] == "greet"
    # The gateway greets by itself: the bot is only asked whether it is there.
    assert fake_rasa.webhook_requests == []
    assert fake_rasa.health_probes == 1
    stored = client.get(f"{API}/{data['conversation_id']}/messages").json()["messages"]
    assert [m["sender"] for m in stored] == ["bot"]


def test_many_starts_check_the_bot_once(client: TestClient, fake_rasa: FakeRasa) -> None:
    for _ in range(5):
        assert client.post(API, json={}).status_code == 201
    assert fake_rasa.health_probes == 1


def test_greeting_is_what_editors_wrote(client: TestClient, tmp_path, monkeypatch) -> None:
    greet = tmp_path / "greet.yml"
    greet.write_text("id: greet\nanswer: >-\n  Välkommen till\n  chatten!\nexamples: []\n",
                     encoding="utf-8")
    monkeypatch.setenv("GREET_FILE", str(greet))
    [greeting] = client.post(API, json={}).json()["messages"]
    assert greeting["text"] == "Välkommen till chatten!"


def test_unreadable_greeting_file_falls_back_to_the_built_in_greeting(
        client: TestClient, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GREET_FILE", str(tmp_path / "missing.yml"))
    [greeting] = client.post(API, json={}).json()["messages"]
    assert greeting["text"] == texts.GREETING
    assert greeting["topic"] == "greet"


def test_each_start_is_a_new_conversation(client: TestClient) -> None:
    first = client.post(API, json={}).json()["conversation_id"]
    second = client.post(API, json={}).json()["conversation_id"]
    assert first != second


def test_start_with_bad_locale_is_422(client: TestClient) -> None:
    response = client.post(API, json={"locale": "svenska!"})
    assert response.status_code == 422
    assert response.json() == {"detail": "Fältet locale har ett ogiltigt värde."}


def test_start_while_the_model_is_loading_says_the_bot_cannot_answer(
        client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.model_loaded = False
    [message] = client.post(API, json={}).json()["messages"]
    assert message["text"] == texts.BOT_UNREACHABLE
    # Not remembered: once the model is there, the next citizen is greeted.
    fake_rasa.model_loaded = True
    [message] = client.post(API, json={}).json()["messages"]
    assert message["topic"] == "greet"


# --------------------------------------------------------------------------
# POST /conversations/{id}/messages


def test_answer_has_topic_and_https_links(client: TestClient, start: Callable[[], str],
                                          fake_rasa: FakeRasa) -> None:
    conversation_id = start()
    response = post(client, conversation_id, "Behöver jag bygglov för ett garage?")
    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "bot"
    [answer] = data["messages"]
    assert_message_shape(answer)
    assert answer["sender"] == "bot"
    assert answer["text"] == FakeRasa.BYGGLOV
    assert answer["topic"] == "bygglov"
    # The bot's non-https link is dropped; the https one is kept.
    assert answer["links"] == [{"title": "Bygglov på mjolby.se", "url": "https://www.mjolby.se/bygglov"}]
    assert fake_rasa.webhook_requests[-1] == {
        "sender": conversation_id,
        "message": "Behöver jag bygglov för ett garage?",
        "metadata": {"locale": "sv", "pii_masked": False},
    }


def test_replies_keep_their_order_and_each_its_topic(client: TestClient,
                                                      start: Callable[[], str]) -> None:
    messages = post(client, start(), "två svar tack").json()["messages"]
    assert [(m["text"], m["topic"]) for m in messages] == [
        ("Först det här.", "avfall_hamtning"),
        ("Och sedan det här.", "atervinningscentral"),
    ]
    assert int(messages[0]["id"]) < int(messages[1]["id"])


def test_fallback_has_null_topic_and_buttons(client: TestClient, start: Callable[[], str]) -> None:
    [reply] = post(client, start(), "asdfgh").json()["messages"]
    assert reply["topic"] is None
    assert [b["payload"] for b in reply["buttons"]] == ["/faq_bygglov", "/handover_request"]


def test_button_payload_goes_to_the_bot_and_title_is_stored(
        client: TestClient, start: Callable[[], str], fake_rasa: FakeRasa) -> None:
    conversation_id = start()
    post(client, conversation_id, "asdfgh")  # the fallback offers the button
    response = post(client, conversation_id, "Bygglov", payload="/faq_bygglov")
    assert response.status_code == 200
    assert response.json()["messages"][0]["topic"] == "bygglov"
    assert fake_rasa.messages_received[-1] == "/faq_bygglov"
    stored = client.get(f"{API}/{conversation_id}/messages").json()["messages"]
    assert [m["text"] for m in stored if m["sender"] == "user"] == ["asdfgh", "Bygglov"]


def test_bot_messages_without_content_are_not_stored(client: TestClient,
                                                     start: Callable[[], str]) -> None:
    messages = post(client, start(), "bara custom").json()["messages"]
    assert [m["text"] for m in messages] == ["Jag kopplar dig vidare."]


def test_silent_bot_gives_a_plain_answer(client: TestClient, start: Callable[[], str]) -> None:
    [reply] = post(client, start(), "tyst").json()["messages"]
    assert reply["sender"] == "bot" and reply["text"] == texts.NO_ANSWER


@pytest.mark.parametrize("mode", ["down", "timeout", "error", "not_json"])
def test_bot_unreachable_gives_phone_number_and_no_internals(
        client: TestClient, start: Callable[[], str], fake_rasa: FakeRasa, mode: str,
        caplog: pytest.LogCaptureFixture) -> None:
    conversation_id = start()
    fake_rasa.mode = mode
    response = post(client, conversation_id, "Hur söker jag bygglov?")
    assert response.status_code == 200
    [reply] = response.json()["messages"]
    assert reply["sender"] == "bot"
    assert reply["topic"] is None
    assert reply["text"] == texts.BOT_UNREACHABLE
    assert "010-234 50 00" in reply["text"]
    for leak in ("internal", "Traceback", "5005", "rasa"):
        assert leak not in response.text
    assert any("Bot unreachable" in r.getMessage() for r in caplog.records)
    # The citizen's message is kept, so nothing they wrote is lost.
    stored = client.get(f"{API}/{conversation_id}/messages").json()["messages"]
    assert [m["text"] for m in stored if m["sender"] == "user"] == ["Hur söker jag bygglov?"]


def test_start_while_bot_is_down_says_so(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.mode = "down"
    response = client.post(API, json={})
    assert response.status_code == 201
    [message] = response.json()["messages"]
    assert message["text"] == texts.BOT_UNREACHABLE


def test_message_to_unknown_conversation_is_404(client: TestClient) -> None:
    response = post(client, "00000000-0000-4000-8000-000000000000", "Hej")
    assert response.status_code == 404
    assert response.json() == {"detail": texts.ERROR_NOT_FOUND_CONVERSATION}


def test_2000_characters_are_accepted_and_2001_are_413(client: TestClient,
                                                       start: Callable[[], str]) -> None:
    conversation_id = start()
    assert post(client, conversation_id, "å" * 2000).status_code == 200
    response = post(client, conversation_id, "å" * 2001)
    assert response.status_code == 413
    assert response.json() == {"detail": texts.ERROR_TEXT_TOO_LONG}


def test_413_comes_before_404(client: TestClient) -> None:
    response = post(client, "no-such-conversation", "x" * 2001)
    assert response.status_code == 413


def test_413_for_a_long_payload(client: TestClient, start: Callable[[], str]) -> None:
    response = post(client, start(), "Bygglov", payload="/" + "x" * 2000)
    assert response.status_code == 413


def test_huge_body_is_413_json(client: TestClient, start: Callable[[], str]) -> None:
    response = client.post(f"{API}/{start()}/messages",
                           content=b'{"text": "' + b"a" * 200_000 + b'"}',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": texts.ERROR_BODY_TOO_LARGE}


@pytest.mark.parametrize(("body", "detail"), [
    ({}, "Fältet text saknas."),
    ({"text": 42}, "Fältet text har fel typ."),
    ({"text": None}, "Fältet text har fel typ."),
    ({"text": "   "}, texts.ERROR_TEXT_EMPTY),
    ({"text": ""}, texts.ERROR_TEXT_EMPTY),
    ([1, 2], texts.ERROR_INVALID_BODY),
])
def test_bad_body_is_422_in_swedish(client: TestClient, start: Callable[[], str],
                                    body: object, detail: str) -> None:
    response = client.post(f"{API}/{start()}/messages", json=body)
    assert response.status_code == 422
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize("content", [b'{"text": "hej', b'{"text": "h\xe4j"}', b"\xff\xfe"])
def test_malformed_json_is_400(client: TestClient, start: Callable[[], str], content: bytes) -> None:
    # CONTRACT.md: 400 for malformed JSON (bad syntax, or bytes that are not UTF-8).
    response = client.post(f"{API}/{start()}/messages", content=content,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"detail": texts.ERROR_INVALID_JSON}


def test_422_never_echoes_the_input(client: TestClient, start: Callable[[], str]) -> None:
    secret = "Hemlig text som inte får komma tillbaka"
    response = client.post(f"{API}/{start()}/messages", json={"text": {"nested": secret}})
    assert response.status_code == 422
    assert secret not in response.text
    assert "input" not in response.json()


# --------------------------------------------------------------------------
# GET /conversations/{id}/messages and GET /conversations/{id}


def test_get_messages_after_an_id(client: TestClient, start: Callable[[], str]) -> None:
    conversation_id = start()
    first = client.get(f"{API}/{conversation_id}/messages").json()["messages"]
    post(client, conversation_id, "Behöver jag bygglov?")
    response = client.get(f"{API}/{conversation_id}/messages", params={"after": first[-1]["id"]})
    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "bot"
    assert [(m["sender"], m["text"]) for m in data["messages"]] == [
        ("user", "Behöver jag bygglov?"),
        ("bot", FakeRasa.BYGGLOV),
    ]
    for message in data["messages"]:
        assert_message_shape(message)
    last = data["messages"][-1]["id"]
    assert client.get(f"{API}/{conversation_id}/messages", params={"after": last}).json()["messages"] == []


def test_ids_increase_within_a_conversation(client: TestClient, start: Callable[[], str]) -> None:
    conversation_id = start()
    for text in ("Hej", "två svar", "bygglov"):
        post(client, conversation_id, text)
    ids = [int(m["id"]) for m in client.get(f"{API}/{conversation_id}/messages").json()["messages"]]
    assert len(ids) == 8  # greeting, then 1 + 1, 1 + 2 and 1 + 1
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_conversations_do_not_see_each_other(client: TestClient, start: Callable[[], str]) -> None:
    mine, other = start(), start()
    post(client, other, "Något annat")
    texts_in_mine = [m["text"] for m in client.get(f"{API}/{mine}/messages").json()["messages"]]
    assert "Något annat" not in texts_in_mine


def test_get_messages_unknown_is_404(client: TestClient) -> None:
    response = client.get(f"{API}/nope/messages")
    assert response.status_code == 404
    assert response.json() == {"detail": texts.ERROR_NOT_FOUND_CONVERSATION}


@pytest.mark.parametrize("after", ["abc", "-1", "1.5"])
def test_get_messages_bad_after_is_422(client: TestClient, start: Callable[[], str], after: str) -> None:
    response = client.get(f"{API}/{start()}/messages", params={"after": after})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Fältet after")


def test_get_conversation(client: TestClient, start: Callable[[], str]) -> None:
    conversation_id = start()
    post(client, conversation_id, "bygglov")
    response = client.get(f"{API}/{conversation_id}")
    assert response.status_code == 200
    data = response.json()
    assert data["conversation_id"] == conversation_id
    assert data["state"] == "bot"
    assert [m["sender"] for m in data["messages"]] == ["bot", "user", "bot"]
    assert client.get(f"{API}/nope").status_code == 404


# --------------------------------------------------------------------------
# States set by the handover


def set_state(db: Session, conversation_id: str, state: State) -> None:
    service.set_state(db=db, conversation_id=conversation_id, state=state)
    db.commit()


@pytest.mark.parametrize("state", [State.QUEUED, State.AGENT])
def test_no_bot_reply_while_a_person_handles_it(client: TestClient, start: Callable[[], str],
                                                fake_rasa: FakeRasa, db: Session,
                                                state: State) -> None:
    conversation_id = start()
    set_state(db, conversation_id, state)
    before = len(fake_rasa.webhook_requests)
    response = post(client, conversation_id, "Hallå, är det någon där?")
    assert response.status_code == 200
    assert response.json() == {"state": state.value, "messages": []}
    assert len(fake_rasa.webhook_requests) == before
    stored = client.get(f"{API}/{conversation_id}/messages").json()
    assert stored["state"] == state.value
    assert stored["messages"][-1]["text"] == "Hallå, är det någon där?"


def test_closed_conversation_says_so(client: TestClient, start: Callable[[], str],
                                     fake_rasa: FakeRasa, db: Session) -> None:
    conversation_id = start()
    set_state(db, conversation_id, State.CLOSED)
    before = len(fake_rasa.webhook_requests)
    response = post(client, conversation_id, "Hej igen")
    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "closed"
    [notice] = data["messages"]
    assert notice["sender"] == "system"
    assert notice["text"] == texts.CONVERSATION_CLOSED
    assert len(fake_rasa.webhook_requests) == before


def test_service_lists_messages_after_an_id_for_the_handover(client: TestClient,
                                                             start: Callable[[], str],
                                                             db: Session) -> None:
    conversation_id = start()
    _, before = service.list_messages(db=db, conversation_id=conversation_id)
    agent = service.add_message(db=db, conversation_id=conversation_id, sender="agent",
                                text="Hej, jag heter Anna på Medborgarservice.",
                                topic="handover_request")
    db.commit()
    _, after = service.list_messages(db=db, conversation_id=conversation_id,
                                     after=before[-1].id)
    assert [m.id for m in after] == [agent.id]
    polled = client.get(f"{API}/{conversation_id}/messages",
                        params={"after": str(before[-1].id)}).json()["messages"]
    assert [(m["sender"], m["topic"]) for m in polled] == [("agent", "handover_request")]


# --------------------------------------------------------------------------
# Everything else


def test_unknown_route_is_404_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": texts.ERROR_NOT_FOUND}


def test_wrong_method_is_405_json(client: TestClient) -> None:
    response = client.delete(API)
    assert response.status_code == 405
    assert response.json() == {"detail": texts.ERROR_METHOD_NOT_ALLOWED}


def test_unexpected_error_is_500_in_swedish_without_internals(
        app_factory, fake_rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs):
        raise RuntimeError("database host db.internal.example exploded")

    monkeypatch.setattr(service, "load_conversation", broken)
    with TestClient(app_factory(), raise_server_exceptions=False) as client:
        response = client.post(f"{API}/anything/messages", json={"text": "Hej"})
    assert response.status_code == 500
    assert response.json() == {"detail": texts.ERROR_INTERNAL}
    assert "internal" not in response.text


def test_openapi_describes_the_contract(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    paths = spec["paths"]
    assert set(paths) >= {
        "/api/v1/health",
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/conversations/{conversation_id}",
    }
    assert "201" in paths["/api/v1/conversations"]["post"]["responses"]
    post_responses = paths["/api/v1/conversations/{conversation_id}/messages"]["post"]["responses"]
    assert {"200", "404", "413", "422", "429"} <= set(post_responses)
    message = spec["components"]["schemas"]["MessageOut"]
    # agent_name: the handover's optional extension on staff replies.
    assert set(message["properties"]) == MESSAGE_KEYS | {"agent_name"}
    # No HTML docs (they would load Swagger UI from a CDN): the document is the reference.
    assert client.get("/api/v1/docs").status_code == 404
