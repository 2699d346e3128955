"""Retention: after RETENTION_DAYS, nothing in the chat identifies a citizen.

One run, in this order:

- A conversation whose last activity is older than the retention period is
  replaced by one `conversation_stats` row (state, locale, topics, message
  counts, timestamps) and deleted with all its messages. A handover case still
  open on it (nobody wrote for the whole period) is ended first.
- Queued and active handovers with no message for HANDOVER_IDLE_MINUTES are
  ended and the citizen is told so in the chat (the API does this every
  minute too; see handover.cases.expire_idle_cases).
- Handover cases ended before the cutoff, or whose conversation is gone, lose
  their notes, forwards, conversation link and the name staff showed; contact
  requests handled (or, still open, created) before the cutoff are deleted.
- Staff audit entries older than AUDIT_RETENTION_DAYS are deleted.
- Items of the editors' inbox older than the period are deleted, and so are
  the comments on older "Fick du svar på din fråga?" answers (the anonymous
  Ja/Nej counts per topic stay).

Before any of it, the insight page's daily aggregates are stored for every day
before today, and made final for the days the purge may touch
(mjolby.insight.rollup); they hold no personal data and are kept.

With TRACKER_DATABASE_URL set, Rasa's tracker store loses the same
conversations: every event of a purged conversation is deleted from its
`events` table, and so is every conversation there whose latest event is older
than the retention period and that the API database does not hold (it never
reached the API, or was purged before). In conversations that are kept, the
contact form's slots (name, phone or e-mail) older than the period are deleted.

Run on a schedule:  python -m mjolby.retention   (see --help)
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from mjolby.config import Settings
from mjolby.conversations.models import Conversation, ConversationStats, Message, Sender
from mjolby.db import Database, utcnow
from mjolby.feedback import service as feedback
from mjolby.handover.models import CaseStatus, ContactRequest, HandoverCase
from mjolby.handover.cases import expire_idle_cases
from mjolby.handover.purge import HandoverPurge, purge_handover_records
from mjolby.hours import ServiceHours, load_schedule
from mjolby.insight.service import roll_up_days
from mjolby.logging_setup import configure_logging, delete_expired_logs, log_retention_days
from mjolby.staff.models import AuditEntry
from mjolby.tracker_store import TrackerStore, chunks

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass(frozen=True)
class PurgeResult:
    conversations: int
    messages: int
    # Events deleted from (or, dry run, found in) Rasa's tracker store;
    # None when no tracker store was given or it has no events table yet.
    tracker_events: int | None = None
    # Contact form slot events removed from conversations the tracker keeps.
    tracker_slots: int = 0
    idle_cases: int = 0
    handover: HandoverPurge = HandoverPurge()
    audit_entries: int = 0
    inbox_items: int = 0


def _expired(now: datetime, days: int) -> ColumnElement[bool]:
    # Every state: a queued or agent conversation silent for the whole period
    # has nobody left in it.
    return Conversation.updated_at < now - timedelta(days=days)


def expired_conversation_ids(*, db: Session, now: datetime, days: int,
                             limit: int | None = None) -> list[str]:
    query = select(Conversation.id).where(_expired(now, days)).order_by(Conversation.updated_at)
    if limit is not None:
        query = query.limit(limit)
    return list(db.scalars(query))


def purge(*, db: Session, now: datetime | None = None, days: int,
          dry_run: bool = False, tracker: TrackerStore | None = None,
          handover_idle: timedelta | None = None, audit_days: int | None = None) -> PurgeResult:
    """Everything past the period, as the module describes. Commits after each batch.

    With `tracker`, Rasa's tracker store too; with `handover_idle`, idle
    handovers end; with `audit_days`, the audit log is cut to that period.
    """
    now = now or utcnow()
    if not dry_run:
        # The insight page's daily figures first: they outlive what is deleted below.
        roll_up_days(db=db, hours=ServiceHours(load_schedule()), now=now, cutoff=now - timedelta(days=days))
    result = _purge_conversations(db=db, now=now, days=days, dry_run=dry_run, tracker=tracker)
    idle = 0
    if handover_idle is not None and not dry_run:
        idle = len(expire_idle_cases(db=db, now=now, idle=handover_idle).messages)
    handover = purge_handover_records(db=db, now=now, days=days, dry_run=dry_run)
    audit = 0
    if audit_days is not None:
        audit = purge_audit_log(db=db, now=now, days=audit_days, dry_run=dry_run)
    inbox = feedback.purge(db=db, now=now, days=days, dry_run=dry_run)
    if inbox and not dry_run:
        logger.info("Retention: %d inbox item(s) older than %d days deleted", inbox, days)
    slots = 0
    if result.tracker_events is not None and tracker is not None:
        slots = tracker.delete_personal_slots((now - timedelta(days=days)).timestamp(), dry_run=dry_run)
        if slots and not dry_run:
            logger.info("Retention: %d contact form slot event(s) deleted from Rasa's tracker store", slots)
    return replace(result, idle_cases=idle, handover=handover, audit_entries=audit,
                   tracker_slots=slots, inbox_items=inbox)


def purge_audit_log(*, db: Session, now: datetime, days: int, dry_run: bool = False) -> int:
    """Delete (dry run: count) audit entries older than `days`. Commits."""
    old = AuditEntry.created_at < now - timedelta(days=days)
    if dry_run:
        count = db.scalar(select(func.count()).select_from(AuditEntry).where(old)) or 0
        db.rollback()
        return count
    removed = db.execute(delete(AuditEntry).where(old)).rowcount or 0
    db.commit()
    if removed:
        logger.info("Retention: %d audit entr(y/ies) older than %d days deleted", removed, days)
    return removed


def _purge_conversations(*, db: Session, now: datetime, days: int, dry_run: bool,
                         tracker: TrackerStore | None) -> PurgeResult:
    cutoff = now - timedelta(days=days)
    if tracker is not None and not tracker.has_events():
        logger.debug("Retention: Rasa's tracker store has no events table yet")
        tracker = None

    if dry_run:
        expired = _expired(now, days)
        conversations = db.scalar(select(func.count()).select_from(Conversation).where(expired))
        messages = db.scalar(
            select(func.count(Message.id))
            .join(Conversation, Message.conversation_id == Conversation.id)
            .where(expired)
        )
        tracker_events = None
        if tracker is not None:
            tracker_events = 0
            for ids in chunks(expired_conversation_ids(db=db, now=now, days=days), BATCH_SIZE):
                tracker_events += tracker.count_events(ids)
            for ids in _stale_tracker_senders(db, tracker, cutoff):
                tracker_events += tracker.count_events(ids)
        db.rollback()
        return PurgeResult(conversations=conversations or 0, messages=messages or 0,
                           tracker_events=tracker_events)

    conversations = messages = tracker_deleted = 0
    while True:
        ids = expired_conversation_ids(db=db, now=now, days=days, limit=BATCH_SIZE)
        if not ids:
            db.commit()
            break
        messages += _purge_batch(db, ids, now)
        conversations += len(ids)
        if tracker is not None:
            # The bot's copy goes first: should the commit below fail, the
            # conversation is still expired and the next run completes it.
            tracker_deleted += tracker.delete_events(ids)
        db.commit()
    if conversations:
        logger.info("Retention: %d conversation(s) and %d message(s) older than %d days "
                    "reduced to statistics", conversations, messages, days)

    if tracker is None:
        return PurgeResult(conversations=conversations, messages=messages)
    stale = 0
    for ids in _stale_tracker_senders(db, tracker, cutoff):
        stale += tracker.delete_stale_events(ids, cutoff.timestamp())
    db.rollback()
    tracker_deleted += stale
    if tracker_deleted:
        logger.info("Retention: %d event(s) deleted from Rasa's tracker store "
                    "(%d of them of conversations the API does not hold)", tracker_deleted, stale)
    return PurgeResult(conversations=conversations, messages=messages,
                       tracker_events=tracker_deleted)


def _stale_tracker_senders(db: Session, tracker: TrackerStore,
                           cutoff: datetime) -> Iterator[list[str]]:
    """Tracker conversations idle since before `cutoff` that the API database does not hold."""
    for senders in tracker.stale_senders(cutoff.timestamp(), batch_size=BATCH_SIZE):
        kept = set(db.scalars(select(Conversation.id).where(Conversation.id.in_(senders))))
        unknown = [sender for sender in senders if sender not in kept]
        if unknown:
            yield unknown


def _purge_batch(db: Session, ids: Sequence[str], now: datetime) -> int:
    rows = db.execute(
        select(Message.conversation_id, Message.sender, Message.topic, Message.pii_masked)
        .where(Message.conversation_id.in_(ids))
        .order_by(Message.id)
    ).all()
    topics: dict[str, list[str]] = defaultdict(list)
    users: dict[str, int] = defaultdict(int)
    replies: dict[str, int] = defaultdict(int)
    masked: dict[str, int] = defaultdict(int)
    for conversation_id, sender, topic, pii_masked in rows:
        if sender == Sender.USER.value:
            users[conversation_id] += 1
        else:
            replies[conversation_id] += 1
        if pii_masked:
            masked[conversation_id] += 1
        if topic and sender == Sender.BOT.value and topic not in topics[conversation_id]:
            topics[conversation_id].append(topic)

    # A case still open after the whole period ends without a word (nobody is
    # there to read it); the case and any contact request stay without the link.
    for status, ended in ((CaseStatus.QUEUED, CaseStatus.CANCELLED), (CaseStatus.ACTIVE, CaseStatus.RETURNED)):
        db.execute(update(HandoverCase)
                   .where(HandoverCase.conversation_id.in_(ids), HandoverCase.status == status.value)
                   .values(status=ended.value, ended_at=now).execution_options(synchronize_session=False))
    db.execute(update(HandoverCase).where(HandoverCase.conversation_id.in_(ids))
               .values(conversation_id=None).execution_options(synchronize_session=False))
    db.execute(update(ContactRequest).where(ContactRequest.conversation_id.in_(ids))
               .values(conversation_id=None).execution_options(synchronize_session=False))
    for conversation in db.scalars(select(Conversation).where(Conversation.id.in_(ids))):
        db.add(ConversationStats(
            state=conversation.state,
            locale=conversation.locale,
            last_topic=conversation.last_topic,
            topics=topics[conversation.id],
            user_message_count=users[conversation.id],
            reply_message_count=replies[conversation.id],
            pii_masked_count=masked[conversation.id],
            started_at=conversation.created_at,
            ended_at=conversation.updated_at,
            purged_at=now,
        ))
    # Messages explicitly too: not every database enforces ON DELETE CASCADE
    # (SQLite only with its foreign_keys pragma on).
    db.execute(delete(Message).where(Message.conversation_id.in_(ids)))
    db.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    return len(rows)


def _parse_now(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, e.g. 2026-01-31T03:00:00+00:00")
    return parsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mjolby.retention",
        description="Delete or anonymise what is older than RETENTION_DAYS (see the module's description).",
    )
    parser.add_argument("--days", type=int, default=None,
                        help="retention period in days (default: RETENTION_DAYS, 30)")
    parser.add_argument("--now", type=_parse_now, default=None,
                        help="the current time, ISO 8601 with time zone (default: the clock)")
    parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
    args = parser.parse_args(argv)

    settings = Settings()
    configure_logging(settings)
    days = args.days if args.days is not None else settings.retention_days
    if days < 1:
        parser.error("--days must be at least 1")
    now = args.now or utcnow()
    idle = timedelta(minutes=settings.handover_idle_minutes) if settings.handover_idle_minutes else None
    database = Database(settings.database_url)
    tracker = TrackerStore(settings.tracker_database_url) if settings.tracker_database_url else None
    try:
        with database.session() as db:
            result = purge(db=db, now=now, days=days, dry_run=args.dry_run, tracker=tracker,
                           handover_idle=idle, audit_days=settings.audit_retention_days)
    finally:
        database.dispose()
        if tracker is not None:
            tracker.dispose()
    logs = delete_expired_logs(settings.log_dir, now=now, days=log_retention_days(settings),
                               dry_run=args.dry_run)
    verb = "would purge" if args.dry_run else "purged"
    if tracker is None:
        tracker_note = "Rasa tracker store: not configured (TRACKER_DATABASE_URL)."
    elif result.tracker_events is None:
        tracker_note = "Rasa tracker store: no events table yet."
    else:
        tracker_note = (f"Rasa tracker store: {verb} {result.tracker_events} event(s)."
                        f" Contact form slots of kept conversations: {result.tracker_slots}.")
    handover = result.handover
    print(f"Retention ({days} days): {verb} {result.conversations} conversation(s), "
          f"{result.messages} message(s), {handover.contact_requests} contact request(s), "
          f"{handover.notes} case note(s), {handover.forwards} forward(s); "
          f"{handover.cases} case(s) anonymised; {result.idle_cases} idle handover(s) ended; "
          f"{result.inbox_items} inbox item(s). "
          f"Audit log ({settings.audit_retention_days} days): {result.audit_entries} entr(y/ies). "
          f"Log files: {logs}. {tracker_note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
