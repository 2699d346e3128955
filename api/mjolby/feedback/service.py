"""Citizen feedback on answers and the editors' inbox.

Plain synchronous functions taking the session as `db`; each says whether it
commits. Texts are masked (mjolby_pii) before they are stored.
"""
from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import mjolby_pii as pii

from mjolby.conversations.models import Message, Sender
from mjolby.errors import Conflict, InvalidInput, NotFound, TooLong
from mjolby.feedback import texts
from mjolby.feedback.capture import add_item, previous_question
from mjolby.feedback.models import AnswerFeedback, InboxItem, ItemKind, ItemStatus
from mjolby.handover.models import HandoverCase, Reason

DEFAULT_TOPICS_FILE = Path(__file__).resolve().parents[3] / "knowledge" / "topics.yml"
# Handover ratings at or below this land in the inbox.
LOW_RATING = 2
# Missed: a fallback attributed to its best guess, a "Nej", an unsure answer.
MISSED_KINDS = (ItemKind.FALLBACK.value, ItemKind.NOT_HELPED.value, ItemKind.LOW_CONFIDENCE.value)


@lru_cache(maxsize=4)
def _behaviour(path: Path) -> frozenset[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return frozenset(str(t["id"]) for t in data.get("topics", [])
                     if isinstance(t, dict) and t.get("kind") == "behaviour")


def behaviour_topics() -> frozenset[str]:
    """Conversational behaviour ids (greet, out_of_scope, ...): not answers to rate."""
    return _behaviour(Path(os.environ.get("TOPICS_FILE") or DEFAULT_TOPICS_FILE))


def rateable(message: Message) -> bool:
    """Whether the citizen is asked "Fick du svar på din fråga?" under this message."""
    return (message.sender == Sender.BOT.value and bool(message.topic)
            and message.topic not in behaviour_topics())


# -- the citizen's answer ------------------------------------------------------------


def record_feedback(*, db: Session, conversation_id: str, message_id: int, helped: bool,
                    comment: str | None, now: datetime) -> AnswerFeedback:
    """Store a citizen's Ja or Nej on one bot answer, once. A Nej also lands in the
    inbox with the question that was answered and the (masked) comment. Commits."""
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > texts.MAX_COMMENT_CHARACTERS:
        raise TooLong(texts.ERROR_COMMENT_TOO_LONG, "comment_too_long")
    message = db.get(Message, message_id)
    if message is None or message.conversation_id != conversation_id:
        db.rollback()
        raise NotFound(texts.ERROR_MESSAGE_NOT_FOUND, "message_not_found")
    if not rateable(message):  # a greeting, the citizen's own message: no answer to rate
        db.rollback()
        raise NotFound(texts.ERROR_NOT_AN_ANSWER, "not_an_answer")
    if comment is not None:
        comment = pii.mask_text(comment)
    feedback = AnswerFeedback(conversation_id=conversation_id, message_id=message_id,
                              topic=message.topic, helped=helped,
                              comment=None if helped else comment, created_at=now)
    try:
        with db.begin_nested():
            db.add(feedback)
    except IntegrityError:
        db.rollback()
        raise Conflict(texts.ERROR_ALREADY_GIVEN, "feedback_given") from None
    if not helped:
        asked = previous_question(db, conversation_id, message_id)
        add_item(db, kind=ItemKind.NOT_HELPED, text=asked.text if asked else "",
                 topic=message.topic, guesses=[message.topic or ""], comment=feedback.comment,
                 conversation_id=conversation_id, message_id=message_id, now=now)
    db.commit()
    return feedback


# -- figures per topic ---------------------------------------------------------------


def missed_by_topic(db: Session, since: datetime) -> dict[str, int]:
    """Per topic, citizen messages missed since `since`: fallbacks (by the bot's best
    guess), "Nej" answers and low-confidence answers. Read only."""
    rows = db.execute(
        select(InboxItem.topic, func.count())
        .where(InboxItem.created_at >= since, InboxItem.kind.in_(MISSED_KINDS),
               InboxItem.topic.is_not(None))
        .group_by(InboxItem.topic)
    ).all()
    return {topic: count for topic, count in rows}


def helped_by_topic(db: Session, since: datetime) -> dict[str, tuple[int, int]]:
    """Per topic, (Ja, Nej) answers to "Fick du svar på din fråga?" since `since`. Read only."""
    rows = db.execute(
        select(AnswerFeedback.topic, AnswerFeedback.helped, func.count())
        .where(AnswerFeedback.created_at >= since)
        .group_by(AnswerFeedback.topic, AnswerFeedback.helped)
    ).all()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for topic, helped, count in rows:
        counts[topic][0 if helped else 1] += count
    return {topic: (yes, no) for topic, (yes, no) in counts.items()}


# -- the inbox -----------------------------------------------------------------------


@dataclass
class InboxGroup:
    """Open items with the same (folded) text, newest first."""

    key: str
    text: str
    items: list[InboxItem] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [item.id for item in self.items]

    @property
    def latest(self) -> datetime:
        return self.items[0].created_at

    @property
    def kinds(self) -> list[str]:
        return sorted({item.kind for item in self.items})

    @property
    def comments(self) -> list[str]:
        return [item.comment for item in self.items if item.comment]

    @property
    def guesses(self) -> list[str]:
        """The bot's best guesses over the group, the most frequent first."""
        score: dict[str, int] = defaultdict(int)
        for item in self.items:
            for rank, topic in enumerate(t for t in [item.topic, *item.guesses] if t):
                score[topic] += 10 - min(rank, 9)
        return sorted(score, key=lambda topic: -score[topic])[:3]

    @property
    def suggested_topic(self) -> str | None:
        found = self.guesses
        return found[0] if found else None

    @property
    def confidence(self) -> float | None:
        values = [item.confidence for item in self.items if item.confidence is not None]
        return min(values) if values else None


def inbox(*, db: Session, kind: str | None = None, limit: int = 200) -> list[InboxGroup]:
    """Open items grouped by identical text, the group with the newest item first. Read only."""
    query = select(InboxItem).where(InboxItem.status == ItemStatus.OPEN.value, InboxItem.text != "")
    if kind:
        query = query.where(InboxItem.kind == kind)
    items = db.scalars(query.order_by(InboxItem.created_at.desc(), InboxItem.id.desc()).limit(2000)).all()
    groups: dict[str, InboxGroup] = {}
    for item in items:
        group = groups.get(item.group_key)
        if group is None:
            group = groups[item.group_key] = InboxGroup(key=item.group_key, text=item.text)
        group.items.append(item)
    return list(groups.values())[:limit]


def open_group(*, db: Session, item_id: int) -> InboxGroup:
    """The open items with the same text as item `item_id`. Read only."""
    item = db.get(InboxItem, item_id)
    if item is None or item.status != ItemStatus.OPEN.value:
        raise NotFound(texts.ERROR_ITEMS_NOT_FOUND, "inbox_item_not_found")
    group = InboxGroup(key=item.group_key, text=item.text)
    group.items = list(db.scalars(
        select(InboxItem)
        .where(InboxItem.group_key == item.group_key, InboxItem.status == ItemStatus.OPEN.value)
        .order_by(InboxItem.created_at.desc(), InboxItem.id.desc())
    ))
    return group


def close_group(*, db: Session, item_ids: Sequence[int], status: ItemStatus, by_email: str,
                now: datetime, topic: str | None = None) -> int:
    """Mark open items as added to `topic`, needing a new topic, or dismissed.
    Returns how many changed. Does not commit (the caller records the audit entry too)."""
    if status is ItemStatus.ADDED and not topic:
        raise InvalidInput(texts.ERROR_TOPIC_MISSING, "topic_missing")
    changed = db.execute(
        update(InboxItem)
        .where(InboxItem.id.in_(list(item_ids)), InboxItem.status == ItemStatus.OPEN.value)
        .values(status=status.value, handled_topic=topic, handled_by_email=by_email, handled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    if not changed:
        raise NotFound(texts.ERROR_ITEMS_NOT_FOUND, "inbox_item_not_found")
    return changed


def collect_handovers(*, db: Session, since: datetime) -> int:
    """File handovers since `since` that were rated low or began because the bot did
    not understand: the citizen's last question before the handover. Commits."""
    cases = db.execute(
        select(HandoverCase.id, HandoverCase.conversation_id, HandoverCase.reason,
               HandoverCase.rating, HandoverCase.topic, HandoverCase.created_at)
        .where(HandoverCase.created_at >= since, HandoverCase.conversation_id.is_not(None),
               (HandoverCase.reason == Reason.UNRESOLVED.value) | (HandoverCase.rating <= LOW_RATING))
    ).all()
    # Filed before: an item of that kind with the case's conversation and time.
    filed = {tuple(row) for row in db.execute(
        select(InboxItem.kind, InboxItem.conversation_id, InboxItem.created_at)
        .where(InboxItem.kind.in_((ItemKind.UNRESOLVED.value, ItemKind.LOW_RATING.value)),
               InboxItem.created_at >= since)
    )}
    added = 0
    for case in cases:
        kinds = []
        if case.reason == Reason.UNRESOLVED.value:
            kinds.append(ItemKind.UNRESOLVED)
        if case.rating is not None and case.rating <= LOW_RATING:
            kinds.append(ItemKind.LOW_RATING)
        kinds = [k for k in kinds if (k.value, case.conversation_id, case.created_at) not in filed]
        if not kinds:
            continue
        asked = db.scalars(
            select(Message)
            .where(Message.conversation_id == case.conversation_id,
                   Message.sender == Sender.USER.value, Message.payload.is_(None),
                   Message.created_at <= case.created_at)
            .order_by(Message.id.desc()).limit(1)
        ).first()
        if asked is None:
            continue
        for kind in kinds:
            if add_item(db, kind=kind, text=asked.text, topic=case.topic,
                        guesses=[case.topic] if case.topic else [],
                        conversation_id=case.conversation_id, message_id=asked.id,
                        now=case.created_at) is not None:
                added += 1
    db.commit()
    return added


# -- retention -----------------------------------------------------------------------


def purge(*, db: Session, now: datetime, days: int, dry_run: bool = False) -> int:
    """Delete inbox items older than `days` and the comments of older feedback
    (the Ja/Nej counts stay, anonymous). Returns the items deleted. Commits."""
    cutoff = now - timedelta(days=days)
    old = InboxItem.created_at < cutoff
    if dry_run:
        count = db.scalar(select(func.count()).select_from(InboxItem).where(old)) or 0
        db.rollback()
        return count
    removed = db.execute(delete(InboxItem).where(old)).rowcount or 0
    db.execute(update(AnswerFeedback)
               .where(AnswerFeedback.created_at < cutoff, AnswerFeedback.comment.is_not(None))
               .values(comment=None))
    db.commit()
    return removed
