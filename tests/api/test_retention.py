"""Retention: old conversations become anonymous statistics (fixed clock).

Rasa's tracker store loses the same conversations (TRACKER_DATABASE_URL).
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from api_support import fresh_database
from mjolby.conversations import service
from mjolby.conversations.models import Conversation, ConversationStats, Message, Sender, State
from mjolby.conversations.service import NewMessage
from mjolby.db import Database
from mjolby.migrate import upgrade_head
from mjolby.retention import purge
from mjolby.tracker_store import TrackerStore

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


def test_conversations_a_person_handles_are_kept_while_anyone_writes(db: Session) -> None:
    queued = conversation(db, last_active=NOW - timedelta(days=3), state=State.QUEUED)
    agent = conversation(db, last_active=NOW - timedelta(days=3), state=State.AGENT)
    assert purge(db=db, now=NOW, days=30).conversations == 0
    assert ids(db) >= {queued, agent}


def test_a_handover_silent_for_the_whole_period_is_purged_too(db: Session) -> None:
    stuck = conversation(db, last_active=NOW - timedelta(days=40), state=State.AGENT)
    waiting = conversation(db, last_active=NOW - timedelta(days=40), state=State.QUEUED)
    assert purge(db=db, now=NOW, days=30).conversations == 2
    assert not ids(db) & {stuck, waiting}
    assert db.scalar(select(func.count()).select_from(Message)
                     .where(Message.conversation_id.in_([stuck, waiting]))) == 0


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
                                         created_at=NOW - timedelta(days=3))
                forgotten = ContactRequest(name="Cia Ek", email="cia@exempel.se",
                                           created_at=NOW - timedelta(days=40))
                db.add_all([handled, waiting, forgotten])
                db.commit()
                waiting_id = waiting.id
            env = {**os.environ, "PYTHONPATH": str(API_DIR), "DATABASE_URL": url,
                   "DATA_DIR": str(tmp_path / "var"), "ENVIRONMENT": "development"}
            env.pop("TRACKER_DATABASE_URL", None)
            command = [sys.executable, "-m", "mjolby.retention", "--now", NOW.isoformat()]

            dry = subprocess.run([*command, "--dry-run"], env=env, capture_output=True, text=True,
                                 timeout=60)
            assert dry.returncode == 0, dry.stderr
            assert "would purge 1 conversation(s), 3 message(s)" in dry.stdout

            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            assert "purged 1 conversation(s), 3 message(s), 2 contact request(s)" in done.stdout
            assert "Rasa tracker store: not configured" in done.stdout
            with database.session() as db:
                assert ids(db) == {recent}
                assert old not in ids(db)
                # Past the period, handled or not, name and number are gone; the recent one waits.
                left = db.scalars(select(ContactRequest.id)).all()
                assert left == [waiting_id]

            bad = subprocess.run([*command[:-2], "--now", "2026-06-30T03:00:00"], env=env,
                                 capture_output=True, text=True, timeout=60)
            assert bad.returncode == 2
            assert "time zone" in bad.stderr
        finally:
            database.dispose()


# --------------------------------------------------------------------------
# Rasa's tracker store


def create_rasa_events(url: str) -> Engine:
    """The `events` table as Rasa's SQLTrackerStore creates it."""
    engine = create_engine(url, poolclass=NullPool)
    metadata = MetaData()
    Table(
        "events", metadata,
        Column("id", Integer, primary_key=True),
        Column("sender_id", String(255), nullable=False, index=True),
        Column("type_name", String(255), nullable=False),
        Column("timestamp", Float),
        Column("intent_name", String(255)),
        Column("action_name", String(255)),
        Column("data", Text),
    )
    metadata.create_all(engine)
    return engine


def add_events(engine: Engine, sender_id: str, *, at: datetime,
               contact: tuple[str, str] | None = None) -> int:
    """A short Rasa conversation ending at `at`; with `contact`, the contact form's slots."""
    ts = at.timestamp()
    rows = [
        {"type_name": "action", "action_name": "action_session_start", "timestamp": ts - 60,
         "data": {"event": "action", "name": "action_session_start"}},
        {"type_name": "session_started", "timestamp": ts - 60, "data": {"event": "session_started"}},
        {"type_name": "user", "intent_name": "handover_request", "timestamp": ts - 30,
         "data": {"event": "user", "text": "Jag vill bli uppringd",
                  "parse_data": {"intent": {"name": "handover_request"}}}},
    ]
    if contact is not None:
        name, phone = contact
        rows += [
            {"type_name": "slot", "timestamp": ts - 20,
             "data": {"event": "slot", "name": "contact_name", "value": name}},
            {"type_name": "slot", "timestamp": ts - 10,
             "data": {"event": "slot", "name": "contact_detail", "value": phone}},
        ]
    rows.append({"type_name": "bot", "timestamp": ts,
                 "data": {"event": "bot", "text": "Tack! Medborgarservice ringer upp dig."}})
    with engine.begin() as connection:
        connection.execute(insert(_events(engine)), [
            {"sender_id": sender_id, "intent_name": None, "action_name": None, **row,
             "data": json.dumps({**row["data"], "timestamp": row["timestamp"]}, ensure_ascii=False)}
            for row in rows
        ])
    return len(rows)


def _events(engine: Engine) -> Table:
    return Table("events", MetaData(), autoload_with=engine)


def events_by_sender(engine: Engine) -> dict[str, int]:
    events = _events(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            select(events.c.sender_id, func.count()).group_by(events.c.sender_id)
        ).all()
    return dict(rows)


def all_event_data(engine: Engine) -> str:
    events = _events(engine)
    with engine.connect() as connection:
        return "\n".join(connection.scalars(select(events.c.data)))


@pytest.fixture
def tracker_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def tracker(tracker_url: str) -> Iterator[TrackerStore]:
    store = TrackerStore(tracker_url)
    yield store
    store.dispose()


@pytest.fixture
def rasa_events(tracker_url: str) -> Iterator[Engine]:
    engine = create_rasa_events(tracker_url)
    yield engine
    engine.dispose()


ANNA = ("Anna Andersson", "070-123 45 67")
BO = ("Bo Berg", "073-987 65 43")


def test_tracker_events_go_with_the_conversation(db: Session, tracker: TrackerStore,
                                                 rasa_events: Engine,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    old = conversation(db, last_active=NOW - timedelta(days=31))
    recent = conversation(db, last_active=NOW - timedelta(hours=1))
    # Queued two days ago: the API keeps it, and Rasa its events, old ones too.
    handled = conversation(db, last_active=NOW - timedelta(days=2), state=State.QUEUED)
    old_events = add_events(rasa_events, old, at=NOW - timedelta(days=31), contact=ANNA)
    # Purged by the API: all its events go, even any the bot logged later.
    old_events += add_events(rasa_events, old, at=NOW - timedelta(days=20))
    recent_events = add_events(rasa_events, recent, at=NOW - timedelta(hours=1), contact=BO)
    handled_events = add_events(rasa_events, handled, at=NOW - timedelta(days=40))
    # Conversations that never reached the API database (or left it earlier).
    unknown_old = add_events(rasa_events, "never-in-the-api-old", at=NOW - timedelta(days=45),
                             contact=ANNA)
    unknown_recent = add_events(rasa_events, "never-in-the-api-recent", at=NOW - timedelta(days=2))
    back_again = (add_events(rasa_events, "never-in-the-api-back-again", at=NOW - timedelta(days=60))
                  + add_events(rasa_events, "never-in-the-api-back-again",
                               at=NOW - timedelta(days=10)))

    with caplog.at_level(logging.DEBUG, logger="mjolby"):
        result = purge(db=db, now=NOW, days=30, tracker=tracker)

    assert result.conversations == 1
    assert result.tracker_events == old_events + unknown_old
    left = events_by_sender(rasa_events)
    assert left == {recent: recent_events, handled: handled_events,
                    "never-in-the-api-recent": unknown_recent,
                    "never-in-the-api-back-again": back_again}
    assert old not in left and "never-in-the-api-old" not in left
    data = all_event_data(rasa_events)
    assert ANNA[0] not in data and ANNA[1] not in data
    assert BO[1] in data  # still within the period
    # Counts only in the log, never what was typed.
    assert ANNA[1] not in caplog.text and old not in caplog.text
    assert "event(s) deleted from Rasa's tracker store" in caplog.text

    again = purge(db=db, now=NOW, days=30, tracker=tracker)
    assert (again.conversations, again.tracker_events) == (0, 0)
    assert events_by_sender(rasa_events) == left


def test_tracker_dry_run_counts_and_changes_nothing(db: Session, tracker: TrackerStore,
                                                    rasa_events: Engine) -> None:
    old = conversation(db, last_active=NOW - timedelta(days=31))
    recent = conversation(db, last_active=NOW - timedelta(days=1))
    old_events = add_events(rasa_events, old, at=NOW - timedelta(days=31), contact=ANNA)
    add_events(rasa_events, recent, at=NOW - timedelta(days=1), contact=BO)
    unknown_old = add_events(rasa_events, "never-in-the-api", at=NOW - timedelta(days=50))
    before = events_by_sender(rasa_events)

    result = purge(db=db, now=NOW, days=30, dry_run=True, tracker=tracker)

    assert (result.conversations, result.tracker_events) == (1, old_events + unknown_old)
    assert events_by_sender(rasa_events) == before
    assert old in ids(db)


def test_tracker_without_events_table_is_skipped(db: Session, tracker: TrackerStore,
                                                 tmp_path: Path) -> None:
    """Rasa creates its table when it first starts; before that there is nothing to purge."""
    with tracker.engine.connect():
        pass  # the database exists, without Rasa's table
    old = conversation(db, last_active=NOW - timedelta(days=31))
    result = purge(db=db, now=NOW, days=30, tracker=tracker)
    assert (result.conversations, result.tracker_events) == (1, None)
    assert old not in ids(db)

    missing_file = tmp_path / "no-rasa-yet" / "rasa_tracker.db"
    never_started = TrackerStore(f"sqlite:///{missing_file}")
    try:
        conversation(db, last_active=NOW - timedelta(days=32))
        assert purge(db=db, now=NOW, days=30, tracker=never_started).tracker_events is None
        assert purge(db=db, now=NOW, days=30, dry_run=True,
                     tracker=never_started).tracker_events is None
    finally:
        never_started.dispose()
    assert not missing_file.exists() and not missing_file.parent.exists()


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_purge_command_with_tracker_store(tmp_path: Path, backend_name: str) -> None:
    with fresh_database(backend_name, tmp_path) as url, \
            fresh_database(backend_name, tmp_path) as tracker_url:
        upgrade_head(url)
        database = Database(url)
        events = create_rasa_events(tracker_url)
        try:
            with database.session() as db:
                old = conversation(db, last_active=NOW - timedelta(days=31))
                recent = conversation(db, last_active=NOW - timedelta(days=1))
            old_events = add_events(events, old, at=NOW - timedelta(days=31), contact=ANNA)
            recent_events = add_events(events, recent, at=NOW - timedelta(days=1), contact=BO)
            unknown_old = add_events(events, "never-in-the-api", at=NOW - timedelta(days=40),
                                     contact=ANNA)
            env = {**os.environ, "PYTHONPATH": str(API_DIR), "DATABASE_URL": url,
                   "TRACKER_DATABASE_URL": tracker_url, "DATA_DIR": str(tmp_path / "var"),
                   "ENVIRONMENT": "development", "LOG_LEVEL": "DEBUG"}
            command = [sys.executable, "-m", "mjolby.retention", "--now", NOW.isoformat()]

            dry = subprocess.run([*command, "--dry-run"], env=env, capture_output=True, text=True,
                                 timeout=60)
            assert dry.returncode == 0, dry.stderr
            assert f"Rasa tracker store: would purge {old_events + unknown_old} event(s)." in dry.stdout
            assert old in events_by_sender(events)

            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            assert "purged 1 conversation(s), 3 message(s)" in done.stdout
            assert f"Rasa tracker store: purged {old_events + unknown_old} event(s)." in done.stdout
            assert events_by_sender(events) == {recent: recent_events}
            for output in (dry.stdout, dry.stderr, done.stdout, done.stderr):
                assert ANNA[1] not in output and old not in output
        finally:
            events.dispose()
            database.dispose()


def test_purge_command_before_rasa_started(tmp_path: Path) -> None:
    missing_file = tmp_path / "var" / "rasa_tracker.db"
    env = {**os.environ, "PYTHONPATH": str(API_DIR), "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "TRACKER_DATABASE_URL": f"sqlite:///{missing_file}", "DATA_DIR": str(tmp_path / "var"),
           "ENVIRONMENT": "development"}
    upgrade_head(env["DATABASE_URL"])
    done = subprocess.run([sys.executable, "-m", "mjolby.retention"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Rasa tracker store: no events table yet." in done.stdout
    assert not missing_file.exists()


# --------------------------------------------------------------------------
# Everything personal goes: every table and Rasa's tracker store

NAME, PHONE, EMAIL = "Greta Persson", "070-555 12 34", "greta.persson@exempel.se"
DIAGNOSIS = "diabetes"
NOTE = f"{NAME} har {DIAGNOSIS} och vill bli uppringd på {PHONE}"
SECRETS = (NAME, "Greta", PHONE, "0705551234", EMAIL, DIAGNOSIS, NOTE)


def said(db: Session, conversation_id: str, text: str, at: datetime) -> None:
    service.record_turn(db=db, conversation_id=conversation_id,
                        user_message=NewMessage(Sender.USER, text), notices=[],
                        bot_replies=[NewMessage(Sender.BOT, "Tack, jag har noterat det.", topic="handover_request")],
                        now=at)


def every_cell(db: Session) -> list[tuple[str, str, str]]:
    """(table, column, value as text) of every non-empty value in the database."""
    metadata = MetaData()
    metadata.reflect(bind=db.connection())
    cells = []
    for table in metadata.sorted_tables:
        for row in db.connection().execute(select(table)).mappings():
            cells += [(table.name, column, str(value)) for column, value in row.items() if value is not None]
    return cells


def personal_data_in(cells: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [(table, column, secret) for table, column, value in cells
            for secret in SECRETS if secret.lower() in value.lower()]


def test_after_the_period_nothing_personal_remains(db: Session, tracker: TrackerStore,
                                                   rasa_events: Engine) -> None:
    from mjolby.handover.models import (
        CaseForward,
        CaseNote,
        ContactRequest,
        HandoverCase,
        ServiceSetting,
    )
    from mjolby.staff.models import AuditEntry, StaffSession, StaffUser

    then = NOW - timedelta(days=40)
    staff = StaffUser(email="anna@mjolby.se", display_name="Anna", password_hash="argon2-hash",
                      role="agent", created_at=then)
    db.add(staff)
    db.flush()
    db.add(StaffSession(token_hash="t" * 64, staff_id=staff.id, csrf_token="c" * 32, created_at=then,
                        last_seen_at=then, expires_at=then + timedelta(hours=10)))
    db.add(ServiceSetting(key="chat_mode", value="auto", updated_at=then, updated_by="anna@mjolby.se"))

    # A conversation with the bot where the citizen said too much.
    chatted = conversation(db, last_active=then, topics=())
    said(db, chatted, f"Jag heter {NAME}, har {DIAGNOSIS}, nås på {PHONE} eller {EMAIL}", then)
    # A closed case with a note and a forward about the citizen.
    closed = conversation(db, last_active=then - timedelta(hours=1), topics=())
    said(db, closed, f"Det gäller min {DIAGNOSIS}", then - timedelta(hours=1))
    service.set_state(db=db, conversation_id=closed, state=State.BOT, now=then)
    db.commit()
    closed_case = HandoverCase(conversation_id=closed, status="closed", reason="sensitive", topic="omsorg",
                               created_at=then - timedelta(hours=1), claimed_by=staff.id, claimed_at=then,
                               agent_name="Anna", ended_at=then, ended_by=staff.id, outcome="referred",
                               rating=4)
    db.add(closed_case)
    db.flush()
    db.add(CaseNote(case_id=closed_case.id, staff_id=staff.id, author=staff.email, text=NOTE, created_at=then))
    db.add(CaseForward(case_id=closed_case.id, mailbox="social@mjolby.se", comment=NOTE, staff_id=staff.id,
                       author=staff.email, created_at=then))
    # A conversation stuck with a person, and one stuck in the queue.
    stuck = conversation(db, last_active=then, state=State.AGENT, topics=())
    said(db, stuck, f"{NAME} här, {PHONE}", then)
    db.add(HandoverCase(conversation_id=stuck, status="active", reason="user_request", created_at=then,
                        claimed_by=staff.id, claimed_at=then, agent_name="Anna"))
    queued = conversation(db, last_active=then, state=State.QUEUED, topics=())
    said(db, queued, f"Ring mig på {PHONE}", then)
    db.add(HandoverCase(conversation_id=queued, status="queued", reason="user_request", created_at=then))
    # Contact requests: one never handled, one handled.
    db.add(ContactRequest(conversation_id=chatted, name=NAME, phone=PHONE, email=EMAIL, topic="omsorg",
                          message=f"Om min {DIAGNOSIS}", created_at=then))
    db.add(ContactRequest(name=NAME, email=EMAIL, status="closed", created_at=then, handled_by=staff.id,
                          handled_by_email=staff.email, handled_at=then + timedelta(days=1),
                          handled_note=NOTE))
    # The audit log: one entry past its own period, one within it.
    db.add(AuditEntry(staff_id=staff.id, staff_email=staff.email, action="open_case", case_id=closed_case.id,
                      conversation_id=closed, created_at=NOW - timedelta(days=400)))
    db.add(AuditEntry(staff_id=staff.id, staff_email=staff.email, action="close", case_id=closed_case.id,
                      detail="referred", created_at=then))
    db.commit()
    # Someone still chatting keeps their conversation.
    recent = conversation(db, last_active=NOW - timedelta(days=1), topics=())
    said(db, recent, f"Jag heter {BO[0]}", NOW - timedelta(days=1))

    greta = (NAME, PHONE)
    for sender in (chatted, closed, stuck, queued):
        add_events(rasa_events, sender, at=then, contact=greta)
    add_events(rasa_events, recent, at=NOW - timedelta(days=1), contact=BO)
    # Rasa's copy of a conversation active again today: its old contact form goes, the rest stays.
    returning = "returning-to-the-bot"
    add_events(rasa_events, returning, at=NOW - timedelta(days=35), contact=greta)
    add_events(rasa_events, returning, at=NOW - timedelta(hours=2))
    assert personal_data_in(every_cell(db)) and NAME in all_event_data(rasa_events)  # the fixture is full

    result = purge(db=db, now=NOW, days=30, tracker=tracker, audit_days=365,
                   handover_idle=timedelta(minutes=60))

    assert personal_data_in(every_cell(db)) == []
    data = all_event_data(rasa_events)
    assert [secret for secret in SECRETS if secret in data] == []
    assert result.conversations == 4
    assert (result.handover.notes, result.handover.forwards, result.handover.contact_requests) == (1, 1, 2)
    assert result.audit_entries == 1 and result.tracker_slots == 2
    # What is left is statistics, and the living conversation.
    assert ids(db) == {recent}
    assert BO[0] in " ".join(value for _, _, value in every_cell(db))
    assert BO[0] in data and returning in events_by_sender(rasa_events)
    db.expire_all()
    cases = db.scalars(select(HandoverCase).order_by(HandoverCase.id)).all()
    assert [(c.status, c.conversation_id, c.agent_name) for c in cases] == [
        ("closed", None, None), ("returned", None, None), ("cancelled", None, None)]
    assert cases[0].outcome == "referred" and cases[0].rating == 4
    assert [e.action for e in db.scalars(select(AuditEntry))] == ["close"]
    assert db.scalar(select(func.count()).select_from(ConversationStats)) == 4

    again = purge(db=db, now=NOW, days=30, tracker=tracker, audit_days=365)
    assert (again.conversations, again.handover.cases, again.tracker_events, again.tracker_slots) == (0, 0, 0, 0)


def test_a_recent_idle_handover_ends_during_the_purge_and_the_citizen_is_told(db: Session) -> None:
    from mjolby.handover import texts
    from mjolby.handover.models import HandoverCase

    quiet = conversation(db, last_active=NOW - timedelta(hours=3), state=State.AGENT)
    db.add(HandoverCase(conversation_id=quiet, status="active", reason="user_request",
                        created_at=NOW - timedelta(hours=4), agent_name="Anna"))
    db.commit()

    result = purge(db=db, now=NOW, days=30, handover_idle=timedelta(minutes=60))

    assert (result.conversations, result.idle_cases) == (0, 1)
    last = db.scalars(select(Message).where(Message.conversation_id == quiet)
                      .order_by(Message.id.desc())).first()
    assert (last.sender, last.text) == ("system", texts.IDLE_ACTIVE.format(phone=texts.PHONE))
    db.expire_all()
    assert db.get(Conversation, quiet).state == "bot"
    assert db.scalar(select(HandoverCase.status).where(HandoverCase.conversation_id == quiet)) == "returned"


def test_the_audit_log_keeps_its_own_period(db: Session) -> None:
    from mjolby.retention import purge_audit_log
    from mjolby.staff.models import AuditEntry

    for age in (400, 366, 364, 1):
        db.add(AuditEntry(staff_email="anna@mjolby.se", action="sign_in", detail=str(age),
                          created_at=NOW - timedelta(days=age)))
    db.commit()
    assert purge_audit_log(db=db, now=NOW, days=365, dry_run=True) == 2
    assert purge_audit_log(db=db, now=NOW, days=365) == 2
    assert sorted(db.scalars(select(AuditEntry.detail))) == ["1", "364"]
    # The conversations' period does not touch it.
    assert purge(db=db, now=NOW, days=30).audit_entries == 0
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == 2


def test_the_privacy_notice_says_what_is_kept_and_for_how_long() -> None:
    """om-chatten.html promises exactly what the purge, the logs and the idle check do."""
    import html
    import re

    from mjolby.config import DEFAULT_LOG_RETENTION_DAYS, Settings

    page = (API_DIR.parent / "widget" / "static" / "om-chatten.html").read_text(encoding="utf-8")
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    fields = Settings.model_fields
    days = fields["retention_days"].default
    assert (days, fields["audit_retention_days"].default, fields["handover_idle_minutes"].default) == (30, 365, 60)
    assert DEFAULT_LOG_RETENTION_DAYS == 14
    for promise in (
        f"{days} dagar efter att chatten senast användes",
        f"Namn och telefonnummer raderas senast {days} dagar efter att du skrev dem",
        f"anteckningar som medarbetaren skriver och uppgift om att ärendet skickats vidare till en förvaltning "
        f"{days} dagar efter att ärendet avslutades",
        f"{days} dagar efter att Medborgarservice har hanterat den",
        f"En förfrågan som inte har hanterats raderas {days} dagar efter att du skickade den",
        f"Tekniska loggar Högst {DEFAULT_LOG_RETENTION_DAYS} dagar",
        "bara den första delen (nätet)",
        "Den sparas i ett år",
        "ingen har skrivit något på en timme avslutas väntan eller chatten",
    ):
        assert promise in text, promise
    # The earlier promise that an open case keeps the chat indefinitely is gone.
    assert "så länge ärendet är öppet" not in text
