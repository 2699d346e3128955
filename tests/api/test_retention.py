"""Retention: old conversations become anonymous statistics (fixed clock)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api_support import fresh_database
from mjolby.conversations import service
from mjolby.conversations.models import Conversation, ConversationStats, Message, Sender, State
from mjolby.conversations.service import NewMessage
from mjolby.db import Database
from mjolby.migrate import upgrade_head
from mjolby.retention import purge

NOW = datetime(2026, 6, 30, 3, 0, tzinfo=UTC)
API_DIR = Path(__file__).resolve().parents[2] / "api"


def conversation(db: Session, *, last_active: datetime, state: State = State.BOT,
                 topics: tuple[str, ...] = ("bygglov",), masked: bool = False) -> str:
    conversation_id = f"c-{last_active:%Y%m%d%H%M}-{state.value}-{len(topics)}-{int(masked)}"
    service.create_conversation(
        db=db, conversation_id=conversation_id, locale="sv", client_key="k" * 32,
        greeting=[NewMessage(Sender.BOT, "Hej!", topic="greet")], now=last_active - timedelta(minutes=5),
    )
    for topic in topics:
        service.record_turn(
            db=db, conversation_id=conversation_id,
            user_message=NewMessage(Sender.USER, "fråga", pii_masked=masked),
            notices=[], bot_replies=[NewMessage(Sender.BOT, "svar", topic=topic)],
            now=last_active,
        )
    if state is not State.BOT:
        service.set_state(db=db, conversation_id=conversation_id, state=state, now=last_active)
        db.commit()
    return conversation_id


def ids(db: Session) -> set[str]:
    return set(db.scalars(select(Conversation.id)))


def test_purges_only_conversations_older_than_the_period(db: Session) -> None:
    old = conversation(db, last_active=NOW - timedelta(days=31), topics=("bygglov", "avfall_hamtning"),
                       masked=True)
    just_inside = conversation(db, last_active=NOW - timedelta(days=29, hours=23))
    recent = conversation(db, last_active=NOW - timedelta(hours=1))
    old_closed = conversation(db, last_active=NOW - timedelta(days=90), state=State.CLOSED, topics=())

    result = purge(db=db, now=NOW, days=30)

    assert result.conversations == 2
    assert result.messages == 5 + 1  # greeting + 2 turns; greeting only
    assert ids(db) == {just_inside, recent}
    assert db.scalar(select(func.count()).select_from(Message)
                     .where(Message.conversation_id.in_([old, old_closed]))) == 0

    stats = {s.state: s for s in db.scalars(select(ConversationStats))}
    assert set(stats) == {"bot", "closed"}
    bot = stats["bot"]
    assert bot.topics == ["greet", "bygglov", "avfall_hamtning"]
    assert bot.last_topic == "avfall_hamtning"
    assert (bot.user_message_count, bot.reply_message_count, bot.pii_masked_count) == (2, 3, 2)
    assert bot.started_at == NOW - timedelta(days=31, minutes=5)
    assert bot.ended_at == NOW - timedelta(days=31)
    assert bot.purged_at == NOW
    # Nothing that identifies the conversation or the citizen is kept.
    columns = set(ConversationStats.__table__.columns.keys())
    assert not columns & {"conversation_id", "client_key", "text"}


def test_conversations_a_person_handles_are_kept(db: Session) -> None:
    queued = conversation(db, last_active=NOW - timedelta(days=40), state=State.QUEUED)
    agent = conversation(db, last_active=NOW - timedelta(days=40), state=State.AGENT)
    assert purge(db=db, now=NOW, days=30).conversations == 0
    assert ids(db) >= {queued, agent}


def test_the_period_is_configurable(db: Session) -> None:
    week_old = conversation(db, last_active=NOW - timedelta(days=8))
    assert purge(db=db, now=NOW, days=30).conversations == 0
    assert purge(db=db, now=NOW, days=7).conversations == 1
    assert week_old not in ids(db)


def test_dry_run_changes_nothing(db: Session) -> None:
    old = conversation(db, last_active=NOW - timedelta(days=31))
    result = purge(db=db, now=NOW, days=30, dry_run=True)
    assert (result.conversations, result.messages) == (1, 3)
    assert old in ids(db)
    assert db.scalar(select(func.count()).select_from(ConversationStats)) == 0


def test_purge_runs_again_without_harm(db: Session) -> None:
    conversation(db, last_active=NOW - timedelta(days=31))
    assert purge(db=db, now=NOW, days=30).conversations == 1
    assert purge(db=db, now=NOW, days=30).conversations == 0
    assert db.scalar(select(func.count()).select_from(ConversationStats)) == 1


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_purge_command(tmp_path: Path, backend_name: str) -> None:
    with fresh_database(backend_name, tmp_path) as url:
        upgrade_head(url)
        database = Database(url)
        try:
            with database.session() as db:
                old = conversation(db, last_active=NOW - timedelta(days=31))
                recent = conversation(db, last_active=NOW - timedelta(days=1))
                from mjolby.handover.models import ContactRequest, ContactStatus
                handled = ContactRequest(name="Anna Andersson", phone="070-123 45 67",
                                         status=ContactStatus.CLOSED.value,
                                         created_at=NOW - timedelta(days=40),
                                         handled_at=NOW - timedelta(days=35))
                waiting = ContactRequest(name="Bo Berg", email="bo@exempel.se",
                                         created_at=NOW - timedelta(days=40))
                db.add_all([handled, waiting])
                db.commit()
                waiting_id = waiting.id
            env = {**os.environ, "PYTHONPATH": str(API_DIR), "DATABASE_URL": url,
                   "DATA_DIR": str(tmp_path / "var"), "ENVIRONMENT": "development"}
            command = [sys.executable, "-m", "mjolby.retention", "--now", NOW.isoformat()]

            dry = subprocess.run([*command, "--dry-run"], env=env, capture_output=True, text=True,
                                 timeout=60)
            assert dry.returncode == 0, dry.stderr
            assert "would purge 1 conversation(s), 3 message(s)" in dry.stdout

            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            assert "purged 1 conversation(s), 3 message(s), 1 handled contact request(s)" in done.stdout
            with database.session() as db:
                assert ids(db) == {recent}
                assert old not in ids(db)
                # The handled request's name and number are gone; the open one waits for staff.
                left = db.scalars(select(ContactRequest.id)).all()
                assert left == [waiting_id]

            bad = subprocess.run([*command[:-2], "--now", "2026-06-30T03:00:00"], env=env,
                                 capture_output=True, text=True, timeout=60)
            assert bad.returncode == 2
            assert "time zone" in bad.stderr
        finally:
            database.dispose()
