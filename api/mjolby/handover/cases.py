"""The citizen's side of a handover: queue a conversation, stop waiting, rate the chat,
and end handovers nobody writes in.

Plain synchronous functions taking the session as `db`. Each public function
is one transaction and commits; the caller then wakes the live streams
(events.EventHub.notify) with the channels the result names.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mjolby.conversations import service as conversations
from mjolby.conversations.models import Conversation, Message, Sender, State
from mjolby.conversations.service import ConversationNotFound
from mjolby.errors import Conflict, InvalidInput, NotFound
from mjolby.handover import texts
from mjolby.handover.availability import QueueInfo, chat_available, current_queue, queue_info
from mjolby.handover.changes import Changed
from mjolby.handover.models import OPEN_STATUSES, CaseStatus, HandoverCase, Reason
from mjolby.hours import ServiceHours

def create_case(*, db: Session, conversation_id: str, reason: str, topic: str | None,
                hours: ServiceHours, now: datetime) -> tuple[HandoverCase, QueueInfo, Changed]:
    """Queue a conversation for Medborgarservice (idempotent while a case is open). Commits.

    409 `unavailable` when nobody can chat now (closed, chat paused, nobody online).
    """
    reason = Reason(reason).value
    # Write to the conversation first: takes the write lock, 404 if unknown.
    # Rolled back below when nobody can take the case.
    conversations.set_state(db=db, conversation_id=conversation_id, state=State.QUEUED, now=now)
    existing = _open_case(db, conversation_id)
    if existing is None:
        available, *_ = chat_available(db, hours, now)
        if not available:
            db.rollback()
            raise Conflict(texts.UNAVAILABLE, "unavailable")
        case = HandoverCase(conversation_id=conversation_id, status=CaseStatus.QUEUED.value,
                            reason=reason, topic=topic, created_at=now)
        db.add(case)
        try:
            db.flush()
        except IntegrityError:  # another request queued it a moment ago
            db.rollback()
            return create_case(db=db, conversation_id=conversation_id, reason=reason, topic=topic,
                               hours=hours, now=now)
    else:
        case = existing
        if existing.status == CaseStatus.ACTIVE.value:
            conversations.set_state(db=db, conversation_id=conversation_id, state=State.AGENT, now=now)
    info = queue_info(db=db, conversation_id=conversation_id, now=now) or QueueInfo(1, 1)
    db.commit()
    changed = Changed()
    changed.queue()
    changed.conversation(conversation_id)
    return case, info, changed


def _open_case(db: Session, conversation_id: str) -> HandoverCase | None:
    return db.scalar(
        select(HandoverCase).where(
            HandoverCase.conversation_id == conversation_id, HandoverCase.status.in_(OPEN_STATUSES)
        )
    )


CANCEL_PAYLOAD = "/cancel_handover"
CANCEL_TEXTS = {"avbryt", "avbryt väntan", "avbryt väntan.", "avbryt kön", "lämna kön", "jag vill inte vänta"}


def is_cancel_request(text: str | None, payload: str | None) -> bool:
    if payload and payload.strip() == CANCEL_PAYLOAD:
        return True
    return bool(text) and (text.strip() == CANCEL_PAYLOAD or text.strip().lower() in CANCEL_TEXTS)


def cancel_waiting(*, db: Session, conversation_id: str, now: datetime,
                   user_text: str | None = None) -> tuple[str, list[Message], Changed]:
    """The citizen stops waiting: the case is cancelled and the bot answers again. Commits.

    Returns the conversation state and the new messages (the citizen's own
    first, when given, then the notice).
    """
    changed = Changed()
    # The conditional UPDATE is the first write: only a waiting case is cancelled.
    rows = db.execute(
        update(HandoverCase)
        .where(HandoverCase.conversation_id == conversation_id, HandoverCase.status == CaseStatus.QUEUED.value)
        .values(status=CaseStatus.CANCELLED.value, ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    new: list[conversations.NewMessage] = []
    if user_text:
        new.append(conversations.NewMessage(Sender.USER, user_text))
    if rows:
        conversations.set_state(db=db, conversation_id=conversation_id, state=State.BOT, now=now)
        new.append(conversations.NewMessage(Sender.SYSTEM, texts.CANCELLED))
        changed.queue()
    messages = conversations.add_messages(db=db, conversation_id=conversation_id, messages=new, now=now) if new else []
    state = db.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
    if state is None:
        db.rollback()
        raise ConversationNotFound(conversation_id)
    db.commit()
    changed.conversation(conversation_id)
    changed.messages = messages
    return state, messages, changed


def rate(*, db: Session, conversation_id: str, rating: int, now: datetime) -> HandoverCase:
    """Store the citizen's 1-5 rating on the latest closed, unrated case. Commits."""
    if not 1 <= rating <= 5:
        raise InvalidInput("Betyget ska vara 1–5.", "bad_rating")
    case = db.scalar(
        select(HandoverCase)
        .where(HandoverCase.conversation_id == conversation_id,
               HandoverCase.status == CaseStatus.CLOSED.value, HandoverCase.rating.is_(None))
        .order_by(HandoverCase.id.desc())
        .limit(1)
    )
    if case is None:
        db.rollback()
        raise NotFound(texts.NOTHING_TO_RATE, "nothing_to_rate")
    case.rating, case.rated_at = rating, now
    db.commit()
    return case


def expire_idle_cases(*, db: Session, now: datetime, idle: timedelta) -> Changed:
    """End queued and active cases whose conversation has had no message for `idle`. Commits.

    Nobody is left waiting in a queue that no one answers, and a chat that
    staff forgot to close does not stay with them: a waiting case is
    cancelled, an active one handed back to the bot (ended_by stays empty),
    and the citizen is told so in the chat, with the phone number.
    """
    cutoff = now - idle
    quiet = select(Conversation.id).where(Conversation.updated_at < cutoff)
    candidates = db.execute(
        select(HandoverCase.id, HandoverCase.status).where(
            HandoverCase.status.in_(OPEN_STATUSES), HandoverCase.conversation_id.in_(quiet))
        .order_by(HandoverCase.id)
    ).all()
    db.commit()
    changed = Changed()
    for case_id, status in candidates:
        queued = status == CaseStatus.QUEUED.value
        # Conditional: a message or a claim since the listing keeps the case.
        ended = db.execute(
            update(HandoverCase)
            .where(HandoverCase.id == case_id, HandoverCase.status == status,
                   HandoverCase.conversation_id.in_(quiet))
            .values(status=(CaseStatus.CANCELLED if queued else CaseStatus.RETURNED).value, ended_at=now)
            .returning(HandoverCase.conversation_id)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if ended is None:
            db.rollback()
            continue
        conversations.set_state(db=db, conversation_id=ended, state=State.BOT, now=now)
        notice = (texts.IDLE_QUEUED if queued else texts.IDLE_ACTIVE).format(phone=texts.PHONE)
        changed.messages += conversations.add_messages(
            db=db, conversation_id=ended, messages=[conversations.NewMessage(Sender.SYSTEM, notice)], now=now)
        db.commit()
        changed.queue()
        changed.conversation(ended)
    return changed


class HandoverWaitingLine:
    """The handover's queue as a conversation sees it (conversations.waiting.WaitingLine)."""

    def is_cancel_request(self, text: str | None, payload: str | None) -> bool:
        return is_cancel_request(text, payload)

    def cancel(self, *, db: Session, conversation_id: str, now: datetime,
               user_text: str | None) -> tuple[str, list[Message]]:
        state, messages, _ = cancel_waiting(db=db, conversation_id=conversation_id, now=now, user_text=user_text)
        return state, messages

    def place(self, *, db: Session, conversation_id: str, now: datetime) -> dict[str, int] | None:
        return current_queue(db=db, conversation_id=conversation_id, now=now)


waiting_line = HandoverWaitingLine()
