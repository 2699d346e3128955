"""What the live streams (Server-Sent Events) read, one short transaction at a time.

A notification only says "something changed"; every stream then reads what is
new through these functions, so the database stays the one source of truth.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mjolby.conversations.models import Conversation, Message
from mjolby.errors import NotFound
from mjolby.handover import texts
from mjolby.handover.availability import queue_info
from mjolby.handover.models import OPEN_STATUSES, CaseStatus, HandoverCase
from mjolby.staff import service as staff_service


@dataclass(frozen=True)
class ConversationUpdate:
    """A conversation as a stream shows it: its state, the messages after the last one
    sent, its place in the queue while waiting, and the status of the case a staff
    member watches."""

    state: str | None
    messages: list[Message]
    queue: dict[str, int] | None
    case_status: str | None


def messages_after(*, db: Session, conversation_id: str, after: int | None) -> tuple[str | None, list[Message]]:
    """State and messages after an id (for the live streams). Commits (read only)."""
    state = db.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
    query = select(Message).where(Message.conversation_id == conversation_id)
    if after is not None:
        query = query.where(Message.id > after)
    messages = list(db.scalars(query.order_by(Message.id)))
    db.commit()
    return state, messages


def last_message_id(*, db: Session, conversation_id: str) -> int | None:
    value = db.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation_id))
    db.commit()
    return value


def conversation_update(*, db: Session, conversation_id: str, after: int | None, now: datetime,
                        case_id: int | None = None) -> ConversationUpdate:
    """Everything new in a conversation for its live stream. Commits (read only)."""
    state, messages = messages_after(db=db, conversation_id=conversation_id, after=after)
    queue = None
    if state == "queued":
        info = queue_info(db=db, conversation_id=conversation_id, now=now)
        queue = info.as_dict() if info else None
    case_status = None
    if case_id is not None:
        case = db.get(HandoverCase, case_id)
        case_status = case.status if case else None
    db.commit()
    return ConversationUpdate(state, messages, queue, case_status)


def conversation_exists(*, db: Session, conversation_id: str) -> bool:
    found = db.get(Conversation, conversation_id) is not None
    db.commit()
    return found


def conversation_of_case(*, db: Session, case_id: int) -> str:
    """The conversation a case is about; NotFound when the case or its conversation is gone."""
    case = db.get(HandoverCase, case_id)
    db.commit()
    if case is None or case.conversation_id is None:
        raise NotFound(texts.CASE_NOT_FOUND, "case_not_found")
    return case.conversation_id


def staff_still_signed_in(*, db: Session, hashed: str, now: datetime, touch: bool) -> bool:
    """Whether a staff stream may go on (not signed out, expired, idle or deactivated);
    `touch` keeps the staff member counted as online."""
    if not staff_service.session_valid(db=db, hashed=hashed, now=now):
        return False
    if touch:
        staff_service.touch_session(db=db, hashed=hashed, now=now)
    return True


def queue_snapshot(*, db: Session) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """What the queue view shows, in brief: waiting case ids, active case ids and the
    newest message id of their conversations (the first message of a new case is
    stored a moment after the case itself). Commits (read only)."""
    rows = db.execute(
        select(HandoverCase.id, HandoverCase.status, HandoverCase.conversation_id)
        .where(HandoverCase.status.in_(OPEN_STATUSES)).order_by(HandoverCase.id)
    ).all()
    waiting = tuple(r.id for r in rows if r.status == CaseStatus.QUEUED.value)
    active = tuple(r.id for r in rows if r.status == CaseStatus.ACTIVE.value)
    conversation_ids = [r.conversation_id for r in rows if r.conversation_id]
    newest = 0
    if conversation_ids:
        newest = db.scalar(select(func.max(Message.id)).where(Message.conversation_id.in_(conversation_ids))) or 0
    db.commit()
    return waiting, active, newest
