"""A day's figures from the live tables, and storing them as daily aggregates.

Every figure is dated by the local day (Europe/Stockholm) on which its
conversation, handover case or contact request started. `compute_day` counts
one day with a handful of SQL aggregates; `roll_up` stores the days before
today and rolls a day up again while it can still change (a case claimed
after midnight, a rating given later, a contact request handled the next
working day) until it is SETTLE_DAYS old, or the retention purge is about to
delete its conversations; then the day is final and never counted again.
docs/insight.md defines each metric.

A day's messages are found by their own time (ix_messages_created_at), not by
looking each of the day's conversations up: no message of a conversation is
older than the conversation, and none is newer than its `updated_at`, which
every message written moves to the message's time (conversations.service;
retention relies on the same). So the day's messages lie between the day's
start and the latest `updated_at` of the day's conversations, one index range.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, case, cast, delete, false, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mjolby.conversations.models import Conversation, Message, Sender
from mjolby.handover.models import CaseStatus, ContactRequest, HandoverCase
from mjolby.insight.calendar import WorkCalendar
from mjolby.insight.catalogue import Catalogue
from mjolby.insight.models import InsightDaily, InsightDay

logger = logging.getLogger(__name__)

# A day is rolled up again until this many days after it ended.
SETTLE_DAYS = 8
# The "Menade du …?" reply and the fallback offer a person with this payload and no topic.
TALK_TO_PERSON = "/handover_request"
CHOOSE_TOPIC = "/choose_topic"
# Leeway on the day's message window for clocks that differ a little between API servers.
CLOCK_LEEWAY = timedelta(minutes=5)

Key = tuple[str, str, str]  # metric, topic, key


def _flag(condition) -> object:  # noqa: ANN001 - a SQL boolean
    return func.max(case((condition, 1), else_=0))


def _count(condition) -> object:  # noqa: ANN001
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def compute_day(*, db: Session, calendar: WorkCalendar, catalogue: Catalogue, day: date,
                now: datetime) -> Counter[Key]:
    """The aggregates of one local day, read from the live tables (no commit)."""
    start, end = calendar.day_bounds(day)
    rows: Counter[Key] = Counter()
    _conversations(db, calendar, catalogue, day, start, end, rows)
    _handovers(db, calendar, start, end, rows)
    _contact_requests(db, calendar, day, start, end, now, rows)
    return +rows  # zero counts are not stored


def _conversations(db: Session, calendar: WorkCalendar, catalogue: Catalogue, day: date,
                   start: datetime, end: datetime, rows: Counter[Key]) -> None:
    in_day = and_(Conversation.created_at >= start, Conversation.created_at < end)
    span = calendar.span(day)
    inside = and_(Conversation.created_at >= span[0], Conversation.created_at < span[1]) \
        if span else false()
    total, outside, last_activity = db.execute(
        select(func.count(), _count(~inside), func.max(Conversation.updated_at))
        .select_from(Conversation).where(in_day)
    ).one()
    rows["conversations", "", ""] = total
    rows["conversations_outside_hours", "", ""] = outside
    if not total:
        return
    # The messages of the day's conversations, found by their time (see above) and never
    # a narrower range than the day itself. They are grouped before they are joined to
    # the day's conversations: the planner cannot foresee how many rows the join keeps,
    # and guessing too few, it sorts the whole day's messages by conversation id.
    window = and_(Message.created_at >= start - CLOCK_LEEWAY,
                  Message.created_at <= max(last_activity, end) + CLOCK_LEEWAY)

    bot, user = Message.sender == Sender.BOT.value, Message.sender == Sender.USER.value
    buttons = cast(Message.buttons, String)
    fallback = and_(bot, Message.topic.is_(None), buttons.like(f"%{TALK_TO_PERSON}%"))
    offers = and_(fallback, buttons.like(f"%{CHOOSE_TOPIC}%"))
    pick = and_(user, Message.payload.like(f"{CHOOSE_TOPIC}%"))
    knowledge = and_(bot, Message.topic.in_(catalogue.knowledge_ids))
    per_conversation = (
        select(Message.conversation_id.label("cid"),
               _count(user).label("user_messages"),
               _flag(knowledge).label("answered"),
               _flag(fallback).label("fallback"),
               _count(offers).label("offers"),
               _count(pick).label("picks"))
        .where(window)
        .group_by(Message.conversation_id)
        .subquery()
    )
    handed_over = per_conversation.c.cid.in_(
        select(HandoverCase.conversation_id).where(HandoverCase.created_at >= start,
                                                   HandoverCase.conversation_id.is_not(None)))
    contacted = per_conversation.c.cid.in_(
        select(ContactRequest.conversation_id).where(ContactRequest.created_at >= start,
                                                     ContactRequest.conversation_id.is_not(None)))
    answered = per_conversation.c.answered == 1
    fell_back = per_conversation.c.fallback == 1
    figures = db.execute(select(
        func.coalesce(func.sum(per_conversation.c.user_messages), 0),
        _count(per_conversation.c.user_messages > 0),
        _count(answered),
        _count(fell_back),
        _count(and_(answered, ~fell_back, ~handed_over, ~contacted)),
        func.coalesce(func.sum(per_conversation.c.offers), 0),
        func.coalesce(func.sum(per_conversation.c.picks), 0),
    ).join_from(per_conversation, Conversation, Conversation.id == per_conversation.c.cid).where(in_day)).one()
    for name, value in zip(("user_messages", "engaged", "answered", "fallback", "self_served",
                            "suggestion_offers", "suggestion_picks"), figures):
        rows[name, "", ""] = int(value)

    answers = (  # a conversation counts once per topic
        select(Message.topic, Message.conversation_id.label("cid"))
        .where(window, bot, Message.topic.is_not(None))
        .group_by(Message.topic, Message.conversation_id)
        .subquery()
    )
    topics = db.execute(
        select(answers.c.topic, func.count())
        .join_from(answers, Conversation, Conversation.id == answers.c.cid)
        .where(in_day)
        .group_by(answers.c.topic)
    ).all()
    for topic, count in topics:
        rows["topic", topic, ""] = count


def _handovers(db: Session, calendar: WorkCalendar, start: datetime, end: datetime,
               rows: Counter[Key]) -> None:
    in_day = and_(HandoverCase.created_at >= start, HandoverCase.created_at < end)
    abandoned = and_(HandoverCase.status == CaseStatus.CANCELLED.value, HandoverCase.claimed_at.is_(None))
    for reason, status, outcome, topic, rating, dropped, count in db.execute(
        select(HandoverCase.reason, HandoverCase.status, HandoverCase.outcome, HandoverCase.topic,
               HandoverCase.rating, abandoned, func.count())
        .where(in_day)
        .group_by(HandoverCase.reason, HandoverCase.status, HandoverCase.outcome, HandoverCase.topic,
                  HandoverCase.rating, abandoned)
    ):
        rows["handover", "", reason] += count
        rows["handover_status", "", status] += count
        if outcome:
            rows["handover_outcome", "", outcome] += count
        if dropped:
            rows["handover_abandoned", "", reason] += count
        if rating:
            rows["rating", topic or "", str(rating)] += count
    # Waits are counted in opening hours, which SQL does not know: only the two
    # timestamps of the day's claimed cases are read (a few hundred at most).
    for reason, created_at, claimed_at in db.execute(
        select(HandoverCase.reason, HandoverCase.created_at, HandoverCase.claimed_at)
        .where(in_day, HandoverCase.claimed_at.is_not(None))
    ):
        minutes = int(calendar.open_minutes(created_at, claimed_at))
        rows["claim_wait", "", str(minutes)] += 1
        rows["claim_wait_reason", reason, str(minutes)] += 1


def _contact_requests(db: Session, calendar: WorkCalendar, day: date, start: datetime, end: datetime,
                      now: datetime, rows: Counter[Key]) -> None:
    span = calendar.span(day)
    if span is None:
        deadline = literal(calendar.promise_deadline(start), ContactRequest.created_at.type)
    else:
        # Before closing time the day itself is the first day; after it, the next working day.
        deadline = case(
            (ContactRequest.created_at < span[1],
             literal(calendar.promise_deadline(start), ContactRequest.created_at.type)),
            else_=literal(calendar.promise_deadline(span[1]), ContactRequest.created_at.type),
        )
    handled = ContactRequest.handled_at.is_not(None)
    promise = case(
        (and_(handled, ContactRequest.handled_at <= deadline), "in_time"),
        (or_(handled, deadline < now), "late"),
        else_="pending",
    )
    for reason, kept, count in db.execute(
        select(ContactRequest.reason, promise, func.count())
        .where(ContactRequest.created_at >= start, ContactRequest.created_at < end)
        .group_by(ContactRequest.reason, promise)
    ):
        rows["contact", "", reason] += count
        rows["contact_promise", "", kept] += count


# -- storing -------------------------------------------------------------------------
def store_day(*, db: Session, day: date, rows: Counter[Key], now: datetime, final: bool) -> None:
    """Replace a day's stored aggregates (no commit)."""
    db.execute(delete(InsightDaily).where(InsightDaily.day == day))
    db.execute(delete(InsightDay).where(InsightDay.day == day))
    if rows:
        db.execute(InsightDaily.__table__.insert(), [
            {"day": day, "metric": metric, "topic": topic, "key": key, "value": value}
            for (metric, topic, key), value in rows.items()
        ])
    db.add(InsightDay(day=day, rolled_at=now, final=final))
    db.flush()


def _stored_days(db: Session, first: date, last: date) -> dict[date, bool]:
    query = select(InsightDay.day, InsightDay.final).where(InsightDay.day >= first, InsightDay.day <= last)
    return {day: final for day, final in db.execute(query)}


def _earliest_day(db: Session, calendar: WorkCalendar) -> date | None:
    earliest = [db.scalar(select(func.min(column))) for column in
                (Conversation.created_at, HandoverCase.created_at, ContactRequest.created_at)]
    found = [calendar.local_day(value) for value in earliest if value is not None]
    return min(found) if found else None


def roll_up(*, db: Session, calendar: WorkCalendar, catalogue: Catalogue, now: datetime,
            first: date | None = None, last: date | None = None, final_through: date | None = None,
            only_missing: bool = False) -> int:
    """Store the days from `first` (default: the oldest live data) to `last`
    (default and at most: yesterday). Final days are kept as they are;
    `only_missing` also keeps days already stored. Days up to `final_through`
    become final (the purge passes the day its cutoff falls on). Commits after
    each day; returns how many days were rolled up."""
    yesterday = calendar.local_day(now) - timedelta(days=1)
    last = min(last or yesterday, yesterday)
    first = first or _earliest_day(db, calendar)
    if first is None or first > last:
        return 0
    stored = _stored_days(db, first, last)
    db.rollback()
    rolled = 0
    day = first
    while day <= last:
        done = stored.get(day)
        if done is None or not (done or only_missing):
            settled = calendar.day_bounds(day)[1] + timedelta(days=SETTLE_DAYS) <= now
            final = settled or (final_through is not None and day <= final_through)
            rows = compute_day(db=db, calendar=calendar, catalogue=catalogue, day=day, now=now)
            try:
                store_day(db=db, day=day, rows=rows, now=now, final=final)
                db.commit()
                rolled += 1
            except IntegrityError:  # another request stored the same day meanwhile
                db.rollback()
        day += timedelta(days=1)
    if rolled:
        logger.info("Insight: %d day(s) rolled up (%s to %s)", rolled, first, last)
    return rolled


def before_purge(*, db: Session, calendar: WorkCalendar, catalogue: Catalogue, now: datetime,
                 cutoff: datetime) -> int:
    """Make every day the purge may touch final, with its figures from before the purge."""
    return roll_up(db=db, calendar=calendar, catalogue=catalogue, now=now,
                   final_through=calendar.local_day(cutoff))
