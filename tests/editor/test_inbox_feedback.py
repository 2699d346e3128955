"""Citizens' "Fick du svar på din fråga?" and what lands in the editors' inbox.

Through the public API with a stand-in bot that sends the signals of the real
actions; every test runs on SQLite and on PostgreSQL.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api_support import FakeClock
from inbox_support import CHOOSE_BYGGLOV, SignallingRasa
from mjolby.conversations.models import Message
from mjolby.feedback import service
from mjolby.feedback.models import AnswerFeedback, InboxItem, ItemStatus
from mjolby.handover.models import HandoverCase
from mjolby.retention import purge

NUMBER = "19811228-9874"


@pytest.fixture
def fake_rasa() -> SignallingRasa:
    return SignallingRasa()


def ask(client: TestClient, conversation_id: str, text: str, payload: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if payload:
        body["payload"] = payload
    response = client.post(f"/api/v1/conversations/{conversation_id}/messages", json=body)
    assert response.status_code == 200, response.text
    return response.json()["messages"][-1]


def rate(client: TestClient, conversation_id: str, message_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/conversations/{conversation_id}/messages/{message_id}/feedback", json=body)


def open_items(db: Session) -> list[InboxItem]:
    return list(db.scalars(select(InboxItem).order_by(InboxItem.id)))


def test_ja_is_counted_once_per_answer(client: TestClient, start: Callable[[], str], db: Session,
                                       clock: FakeClock) -> None:
    conversation = start()
    answer = ask(client, conversation, "Hur söker jag bygglov?")
    first = rate(client, conversation, answer["id"], helped=True)
    assert first.status_code == 201, first.text
    assert first.json() == {"message_id": answer["id"], "helped": True}
    again = rate(client, conversation, answer["id"], helped=False, comment="Ändrade mig")
    assert again.status_code == 409
    assert again.json()["detail"] == "Du har redan svarat på den här frågan. Tack!"
    assert service.helped_by_topic(db, clock.now - timedelta(days=30)) == {"bygglov": (1, 0)}
    assert open_items(db) == []  # a Ja is nothing for the inbox


def test_nej_lands_in_the_inbox_with_its_comment_masked(client: TestClient, start: Callable[[], str],
                                                        db: Session, clock: FakeClock) -> None:
    conversation = start()
    answer = ask(client, conversation, "Hur söker jag bygglov för ett plank?")
    response = rate(client, conversation, answer["id"], helped=False,
                    comment=f"Jag har personnummer {NUMBER} och undrar om plank")
    assert response.status_code == 201, response.text

    stored = db.scalars(select(AnswerFeedback)).one()
    assert NUMBER not in (stored.comment or "") and "plank" in (stored.comment or "")
    [item] = open_items(db)
    assert (item.kind, item.topic, item.text) == ("not_helped", "bygglov", "Hur söker jag bygglov för ett plank?")
    assert item.comment == stored.comment
    since = clock.now - timedelta(days=30)
    assert service.helped_by_topic(db, since) == {"bygglov": (0, 1)}
    assert service.missed_by_topic(db, since) == {"bygglov": 1}


def test_feedback_errors_are_plain_swedish(client: TestClient, start: Callable[[], str]) -> None:
    conversation, other = start(), start()
    answer = ask(client, conversation, "Hur söker jag bygglov?")
    greeting = ask(client, conversation, "Hej där")
    mine = client.get(f"/api/v1/conversations/{conversation}").json()["messages"]
    question = next(m for m in mine if m["sender"] == "user")

    cases = [
        ("okänd-konversation", answer["id"], {"helped": True}, 404),
        (other, answer["id"], {"helped": True}, 404),              # not in this conversation
        (conversation, "999999", {"helped": True}, 404),
        (conversation, question["id"], {"helped": True}, 404),     # the citizen's own message
        (conversation, greeting["id"], {"helped": True}, 404),     # behaviour, not an answer
        (conversation, answer["id"], {"helped": "ja"}, 422),
        (conversation, answer["id"], {}, 422),
        (conversation, answer["id"], {"helped": False, "comment": "x" * 501}, 413),
    ]
    for conversation_id, message_id, body, status in cases:
        response = client.post(f"/api/v1/conversations/{conversation_id}/messages/{message_id}/feedback",
                               json=body)
        assert response.status_code == status, (conversation_id, message_id, body, response.text)
        detail = response.json()["detail"]
        assert isinstance(detail, str) and "x" * 20 not in detail
    too_long = rate(client, conversation, answer["id"], helped=False, comment="x" * 501)
    assert too_long.json()["detail"] == "Kommentaren är för lång. Skriv högst 500 tecken."
    # Nothing above was stored: the answer can still be rated.
    assert rate(client, conversation, answer["id"], helped=False, comment="x" * 500).status_code == 201


def test_feedback_is_rate_limited_like_messages(app_factory: Callable[..., FastAPI]) -> None:
    with TestClient(app_factory(rate_limit_conversation_per_minute=2)) as client:
        conversation = client.post("/api/v1/conversations", json={}).json()["conversation_id"]
        answer = ask(client, conversation, "Hur söker jag bygglov?")
        ask(client, conversation, "Bygglov igen")
        limited = rate(client, conversation, answer["id"], helped=True)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1


def test_fallbacks_choices_and_unsure_answers_land_in_the_inbox(client: TestClient, start: Callable[[], str],
                                                                db: Session, clock: FakeClock) -> None:
    conversation = start()
    ask(client, conversation, "Får jag bygga en altan?")            # the bot does not understand
    ask(client, conversation, "Bygglov", payload=CHOOSE_BYGGLOV)     # ... and the citizen picks a suggestion
    ask(client, conversation, "kanske bygglov för attefallshus")    # answered, but unsure
    ask(client, conversation, "Hur söker jag bygglov?")              # answered, sure: not filed
    ask(client, conversation, "Hej")                                 # behaviour: not filed

    items = open_items(db)
    assert [(i.kind, i.text, i.topic) for i in items] == [
        ("fallback", "Får jag bygga en altan?", "bygglov"),
        ("choice", "Får jag bygga en altan?", "bygglov"),
        ("low_confidence", "kanske bygglov för attefallshus", "bygglov"),
    ]
    assert items[0].guesses == ["bygglov", "detaljplan_karta"]
    assert items[2].confidence == pytest.approx(0.41)
    assert service.missed_by_topic(db, clock.now - timedelta(days=1)) == {"bygglov": 2}


def test_identical_texts_group_newest_first_and_filter_by_kind(client: TestClient, start: Callable[[], str],
                                                               db: Session, clock: FakeClock) -> None:
    for text in ("Var kan jag låna en cykel?", "var kan jag LÅNA en cykel", "När töms min brevlåda?"):
        ask(client, start(), text)
        clock.advance(minutes=1)
    ask(client, start(), "kanske bygglov för en carport")

    groups = service.inbox(db=db)
    assert [(g.text, len(g.items)) for g in groups] == [
        ("kanske bygglov för en carport", 1),
        ("När töms min brevlåda?", 1),
        ("var kan jag LÅNA en cykel", 2),
    ]
    assert groups[2].suggested_topic == "bygglov"
    assert [g.text for g in service.inbox(db=db, kind="low_confidence")] == ["kanske bygglov för en carport"]

    cykel = groups[2]
    assert service.close_group(db=db, item_ids=service.open_group(db=db, item_id=cykel.ids[-1]).ids,
                               status=ItemStatus.DISMISSED, by_email="redaktor@mjolby.se", now=clock()) == 2
    db.commit()
    assert "var kan jag LÅNA en cykel" not in [g.text for g in service.inbox(db=db)]


def test_a_failing_inbox_never_reaches_the_citizen(app: FastAPI, client: TestClient,
                                                   start: Callable[[], str], db: Session) -> None:
    class Broken:
        def wants(self, _: Any) -> bool:
            return True

        def turn_answered(self, **_: Any) -> None:
            raise RuntimeError("inbox down")

    app.state.turn_observer = Broken()
    conversation = start()
    reply = ask(client, conversation, "Får jag bygga en altan?")
    assert reply["text"].startswith("Jag är inte säker")
    assert open_items(db) == []


def test_unresolved_and_low_rated_handovers_are_collected_once(client: TestClient, start: Callable[[], str],
                                                               db: Session, clock: FakeClock) -> None:
    conversation = start()
    ask(client, conversation, "Min granne eldar sopor")
    db.add(HandoverCase(conversation_id=conversation, status="closed", reason="unresolved",
                        rating=1, created_at=clock()))
    db.commit()
    since = clock.now - timedelta(days=30)
    assert service.collect_handovers(db=db, since=since) == 2
    assert service.collect_handovers(db=db, since=since) == 0
    kinds = sorted(i.kind for i in open_items(db) if i.text == "Min granne eldar sopor")
    assert kinds == ["fallback", "low_rating", "unresolved"]


def test_retention_deletes_old_items_and_comments_but_keeps_the_counts(
        client: TestClient, start: Callable[[], str], db: Session, clock: FakeClock) -> None:
    conversation = start()
    answer = ask(client, conversation, "Hur söker jag bygglov?")
    assert rate(client, conversation, answer["id"], helped=False, comment="För kort svar").status_code == 201
    start_of_counts = clock.now - timedelta(days=1)
    clock.advance(days=31)
    result = purge(db=db, now=clock(), days=30)
    assert result.inbox_items == 1
    db.expire_all()
    assert open_items(db) == []
    feedback = db.scalars(select(AnswerFeedback)).one()
    assert feedback.comment is None and feedback.message_id is None  # the conversation went too
    assert db.scalars(select(Message).where(Message.conversation_id == conversation)).all() == []
    assert service.helped_by_topic(db, start_of_counts) == {"bygglov": (0, 1)}
