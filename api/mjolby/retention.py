"""Retention: after RETENTION_DAYS, a conversation becomes anonymous statistics.

A conversation whose last activity is older than the retention period, and
that no one at Medborgarservice is handling (state queued or agent), is
replaced by one `conversation_stats` row (state, locale, topics, message
counts, timestamps) and deleted with all its messages.

With TRACKER_DATABASE_URL set, Rasa's tracker store loses the same
conversations: every event of a purged conversation is deleted from its
`events` table, and so is every conversation there whose latest event is older
than the retention period and that the API database does not hold (it never
reached the API, or was purged before). Conversations the API keeps, such as
those a person is handling, keep their events.

Run on a schedule:  python -m mjolby.retention   (see --help)
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, select
from sqlalchemy.orm import Session

from mjolby.config import Settings
from mjolby.conversations.models import Conversation, ConversationStats, Message, Sender, State
from mjolby.db import Database, utcnow
from mjolby.logging_setup import configure_logging
from mjolby.tracker_store import TrackerStore, chunks

logger = logging.getLogger(__name__)

# A person is on it: never purged underneath them. The handover's cases extend this.
OPEN_STATES = (State.QUEUED.value, State.AGENT.value)
BATCH_SIZE = 500


@dataclass(frozen=True)
class PurgeResult:
    conversations: int
    messages: int
    # Events deleted from (or, dry run, found in) Rasa's tracker store;
    # None when no tracker store was given or it has no events table yet.
    tracker_events: int | None = None


def _expired(now: datetime, days: int) -> ColumnElement[bool]:
    cutoff = now - timedelta(days=days)
    return and_(Conversation.updated_at < cutoff, Conversation.state.not_in(OPEN_STATES))


def expired_conversation_ids(*, db: Session, now: datetime, days: int,
                             limit: int | None = None) -> list[str]:
    query = select(Conversation.id).where(_expired(now, days)).order_by(Conversation.updated_at)
    if limit is not None:
        query = query.limit(limit)
    return list(db.scalars(query))


def purge(*, db: Session, now: datetime | None = None, days: int,
          dry_run: bool = False, tracker: TrackerStore | None = None) -> PurgeResult:
    """Reduce expired conversations to statistics. Commits after each batch.

    With `tracker`, their events in Rasa's tracker store go too (see above).
    """
    now = now or utcnow()
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
        description="Reduce conversations older than RETENTION_DAYS to anonymous statistics.",
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
    database = Database(settings.database_url)
    tracker = TrackerStore(settings.tracker_database_url) if settings.tracker_database_url else None
    try:
        with database.session() as db:
            result = purge(db=db, now=args.now, days=days, dry_run=args.dry_run, tracker=tracker)
            contacts = 0
            if not args.dry_run:
                # Handled contact requests hold names and phone numbers: same period.
                from mjolby.handover.service import purge_contact_requests  # noqa: PLC0415

                contacts = purge_contact_requests(db=db, now=args.now or utcnow(), days=days)
    finally:
        database.dispose()
        if tracker is not None:
            tracker.dispose()
    verb = "would purge" if args.dry_run else "purged"
    if tracker is None:
        tracker_note = "Rasa tracker store: not configured (TRACKER_DATABASE_URL)."
    elif result.tracker_events is None:
        tracker_note = "Rasa tracker store: no events table yet."
    else:
        tracker_note = f"Rasa tracker store: {verb} {result.tracker_events} event(s)."
    print(f"Retention ({days} days): {verb} {result.conversations} conversation(s), "
          f"{result.messages} message(s), {contacts} handled contact request(s). {tracker_note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
