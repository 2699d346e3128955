"""What staff do with a case: list the queue, open, claim, reply, note, forward,
hand back to the bot, close.

Claiming is one conditional UPDATE ... WHERE status = 'queued' AND
claimed_by IS NULL whose row count decides the winner. It is the first
statement of its transaction, so on SQLite it takes the write lock at once
(no stale snapshot to upgrade) and on PostgreSQL the row lock makes a
concurrent second UPDATE re-check the condition and match nothing.

Plain synchronous functions taking the session as `db`. Each public function
is one transaction and commits; the caller then wakes the live streams with
the channels the result names.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mjolby_pii import mask, mask_text
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mjolby.conversations import service as conversations
from mjolby.conversations.models import Conversation, Message, Sender, State
from mjolby.errors import Conflict, InvalidInput, NotFound
from mjolby.handover import texts
from mjolby.handover.changes import Changed, require_storable
from mjolby.handover.models import (
    OPEN_STATUSES,
    CaseForward,
    CaseNote,
    CaseStatus,
    HandoverCase,
    Outcome,
)
from mjolby.organisation import organisation
from mjolby.staff import service as staff_service
from mjolby.staff.service import StaffContext

TOPIC = "handover_request"


@dataclass(frozen=True)
class QueueEntry:
    case: HandoverCase
    first_message: str | None
    waiting_seconds: int
    claimed_by_name: str | None = None


@dataclass(frozen=True)
class CaseView:
    case: HandoverCase
    messages: list[Message]
    notes: list[CaseNote]
    forwards: list[CaseForward]
    claimed_by_email: str | None
    conversation_state: str | None


def list_queue(*, db: Session, now: datetime, include_active: bool = True) -> tuple[list[QueueEntry], list[QueueEntry]]:
    """Waiting cases (oldest first) and active ones, with the citizen's first message. Commits."""
    statuses = [CaseStatus.QUEUED.value] + ([CaseStatus.ACTIVE.value] if include_active else [])
    cases = list(db.scalars(
        select(HandoverCase).where(HandoverCase.status.in_(statuses)).order_by(HandoverCase.id)
    ))
    firsts = _first_user_messages(db, [c.conversation_id for c in cases if c.conversation_id])
    db.commit()
    waiting, active = [], []
    for case in cases:
        entry = QueueEntry(
            case=case,
            first_message=firsts.get(case.conversation_id or ""),
            waiting_seconds=max(0, int((now - case.created_at).total_seconds())),
            claimed_by_name=case.agent_name,
        )
        (waiting if case.status == CaseStatus.QUEUED.value else active).append(entry)
    return waiting, active


def _first_user_messages(db: Session, conversation_ids: Sequence[str]) -> dict[str, str]:
    if not conversation_ids:
        return {}
    first_ids = (
        select(func.min(Message.id).label("id"))
        .where(Message.conversation_id.in_(conversation_ids), Message.sender == Sender.USER.value)
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = db.execute(select(Message.conversation_id, Message.text).join(first_ids, Message.id == first_ids.c.id))
    return {conversation_id: text for conversation_id, text in rows}


def get_case(db: Session, case_id: int) -> HandoverCase:
    case = db.get(HandoverCase, case_id)
    if case is None:
        db.rollback()
        raise NotFound(texts.CASE_NOT_FOUND, "case_not_found")
    return case


def open_case(*, db: Session, case_id: int, staff: StaffContext, now: datetime) -> CaseView:
    """The case with its masked transcript, notes and forwards; the opening is audited. Commits."""
    case = get_case(db, case_id)
    messages: list[Message] = []
    state = None
    if case.conversation_id:
        messages = list(db.scalars(
            select(Message).where(Message.conversation_id == case.conversation_id).order_by(Message.id)
        ))
        state = db.scalar(select(Conversation.state).where(Conversation.id == case.conversation_id))
    claimed_by_email = None
    if case.claimed_by:
        claimed_by_email = staff_service.email_of(db=db, staff_id=case.claimed_by)
    notes, forwards = list(case.notes), list(case.forwards)
    staff_service.audit(db=db, staff=staff, action="open_case", now=now, case_id=case.id,
                        conversation_id=case.conversation_id)
    db.commit()
    return CaseView(case, messages, notes, forwards, claimed_by_email, state)


def claim(*, db: Session, case_id: int, staff: StaffContext, now: datetime) -> tuple[HandoverCase, Changed]:
    """Take a waiting case. Exactly one of any number of concurrent claims wins. Commits.

    409 `already_claimed` for everyone else.
    """
    if db.in_transaction():
        db.commit()  # the conditional UPDATE must open its own transaction (see module docstring)
    won = db.execute(
        update(HandoverCase)
        .where(HandoverCase.id == case_id, HandoverCase.status == CaseStatus.QUEUED.value,
               HandoverCase.claimed_by.is_(None))
        .values(status=CaseStatus.ACTIVE.value, claimed_by=staff.staff_id, claimed_at=now,
                agent_name=staff.display_name or None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not won:
        exists = db.get(HandoverCase, case_id)
        db.rollback()
        if exists is None:
            raise NotFound(texts.CASE_NOT_FOUND, "case_not_found")
        raise Conflict(texts.ALREADY_CLAIMED, "already_claimed")
    case = get_case(db, case_id)
    changed = Changed()
    changed.queue()
    if case.conversation_id:
        conversations.set_state(db=db, conversation_id=case.conversation_id, state=State.AGENT, now=now)
        joined = texts.JOINED.format(name=staff.display_name) if staff.display_name else texts.JOINED_NO_NAME
        changed.messages.append(conversations.add_message(
            db=db, conversation_id=case.conversation_id, sender=Sender.SYSTEM, text=joined, now=now))
        changed.conversation(case.conversation_id)
    staff_service.audit(db=db, staff=staff, action="claim", now=now, case_id=case.id,
                        conversation_id=case.conversation_id)
    db.commit()
    return case, changed


def _active_case_of(db: Session, case_id: int, staff: StaffContext) -> HandoverCase:
    case = get_case(db, case_id)
    if case.status != CaseStatus.ACTIVE.value:
        db.rollback()
        if case.status in (CaseStatus.CLOSED.value, CaseStatus.RETURNED.value, CaseStatus.CANCELLED.value):
            raise Conflict(texts.CASE_ENDED, "case_ended")
        raise Conflict(texts.CASE_NOT_ACTIVE, "case_not_active")
    if case.claimed_by != staff.staff_id and not staff.is_admin:
        db.rollback()
        raise Conflict(texts.NOT_YOURS, "not_your_case")
    return case


def _open_or_held_case(db: Session, case_id: int, staff: StaffContext) -> HandoverCase:
    """A case staff may add to: still open (queued or active), or one they held (admins: any)."""
    case = get_case(db, case_id)
    if case.status in OPEN_STATUSES or case.claimed_by == staff.staff_id or staff.is_admin:
        return case
    db.rollback()
    raise Conflict(texts.CASE_ENDED_NOT_YOURS, "case_ended_not_yours")


def reply(*, db: Session, case_id: int, staff: StaffContext, text: str, now: datetime) -> tuple[Message, Changed]:
    """A staff reply to the citizen (identity numbers masked). Commits."""
    if not text.strip():
        raise InvalidInput(texts.EMPTY_TEXT, "empty_text")
    require_storable(text)
    case = _active_case_of(db, case_id, staff)
    if case.conversation_id is None:
        db.rollback()
        raise Conflict(texts.CASE_ENDED, "case_ended")
    masked, count = mask(text.strip())
    message = conversations.add_message(db=db, conversation_id=case.conversation_id, sender=Sender.AGENT,
                                        text=masked, pii_masked=bool(count), now=now)
    message.agent_name = staff.public_name
    db.flush()
    db.commit()
    changed = Changed(messages=[message])
    changed.conversation(case.conversation_id)
    return message, changed


def add_note(*, db: Session, case_id: int, staff: StaffContext, text: str, now: datetime) -> CaseNote:
    """A private note on the case (never shown to the citizen). Commits."""
    if not text.strip():
        raise InvalidInput(texts.EMPTY_TEXT, "empty_text")
    require_storable(text)
    _open_or_held_case(db, case_id, staff)
    note = CaseNote(case_id=case_id, staff_id=staff.staff_id, author=staff.email,
                    text=mask_text(text.strip()), created_at=now)
    db.add(note)
    db.commit()
    return note


def mailboxes(organisation_file: Path | None = None) -> tuple[tuple[str, str], ...]:
    """(address, label) of the function mailboxes staff can forward to (organisation.yml)."""
    return organisation(organisation_file).function_mailboxes


def forward(*, db: Session, case_id: int, staff: StaffContext, mailbox: str, comment: str,
            now: datetime) -> CaseForward:
    """Record that the case goes on to a function mailbox (no e-mail is sent from here). Commits."""
    require_storable(comment)
    if mailbox not in {address for address, _ in mailboxes()}:
        raise InvalidInput(texts.UNKNOWN_MAILBOX, "unknown_mailbox")
    _open_or_held_case(db, case_id, staff)
    record = CaseForward(case_id=case_id, mailbox=mailbox, comment=mask_text(comment.strip()),
                         staff_id=staff.staff_id, author=staff.email, created_at=now)
    db.add(record)
    staff_service.audit(db=db, staff=staff, action="forward", now=now, case_id=case_id, detail=mailbox)
    db.commit()
    return record


def _end(db: Session, case: HandoverCase, staff: StaffContext, status: CaseStatus, outcome: str | None,
         now: datetime, notice: str, rating_question: bool) -> Changed:
    case.status, case.ended_at, case.ended_by, case.outcome = status.value, now, staff.staff_id, outcome
    changed = Changed()
    changed.queue()
    if case.conversation_id:
        conversations.set_state(db=db, conversation_id=case.conversation_id, state=State.BOT, now=now)
        who = case.agent_name or "Medarbetaren"
        new = [conversations.NewMessage(Sender.SYSTEM, notice.format(who=who))]
        if rating_question:
            new.append(conversations.NewMessage(
                Sender.BOT, texts.RATING_QUESTION, topic=TOPIC,
                buttons=[{"title": texts.RATING_BUTTON_TITLES[n], "payload": f'/rate{{"rating":{n}}}'}
                         for n in range(1, 6)],
            ))
        changed.messages = conversations.add_messages(db=db, conversation_id=case.conversation_id,
                                                      messages=new, now=now)
        changed.conversation(case.conversation_id)
    return changed


def return_to_bot(*, db: Session, case_id: int, staff: StaffContext, now: datetime) -> tuple[HandoverCase, Changed]:
    """Hand the conversation back to the assistant ("lämna tillbaka till boten"). Commits."""
    case = _active_case_of(db, case_id, staff)
    changed = _end(db, case, staff, CaseStatus.RETURNED, None, now, texts.RETURNED, rating_question=False)
    staff_service.audit(db=db, staff=staff, action="return_to_bot", now=now, case_id=case.id)
    db.commit()
    return case, changed


def close(*, db: Session, case_id: int, staff: StaffContext, outcome: str, now: datetime) -> tuple[HandoverCase, Changed]:
    """End the case with an outcome; the bot asks the citizen for a 1-5 rating. Commits."""
    outcome = Outcome(outcome).value
    case = _active_case_of(db, case_id, staff)
    changed = _end(db, case, staff, CaseStatus.CLOSED, outcome, now, texts.ENDED, rating_question=True)
    staff_service.audit(db=db, staff=staff, action="close", now=now, case_id=case.id, detail=outcome)
    db.commit()
    return case, changed
