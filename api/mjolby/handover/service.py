"""The handover: queue, claim, live replies, return to the bot, close, rating, contact requests.

Plain synchronous functions taking the session as `db` (the routers run them
in a worker thread). Each public function is one transaction and commits; the
caller then wakes the live streams (events.EventHub.notify) with the channels
the result names.

Claiming is one conditional UPDATE ... WHERE status = 'queued' AND
claimed_by IS NULL whose row count decides the winner. It is the first
statement of its transaction, so on SQLite it takes the write lock at once
(no stale snapshot to upgrade) and on PostgreSQL the row lock makes a
concurrent second UPDATE re-check the condition and match nothing.
"""
from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mjolby import pii
from mjolby.conversations import service as conversations
from mjolby.conversations.models import Conversation, Message, Sender, State
from mjolby.handover import texts
from mjolby.handover.errors import ApiError
from mjolby.handover.events import QUEUE_CHANNEL, conversation_channel
from mjolby.handover.models import (
    OPEN_STATUSES,
    CaseForward,
    CaseNote,
    CaseStatus,
    ContactReason,
    ContactRequest,
    ContactStatus,
    HandoverCase,
    Outcome,
    Reason,
    ServiceSetting,
)
from mjolby.hours import ServiceHours, format_clock
from mjolby.staff import service as staff_service
from mjolby.staff.service import StaffContext

TOPIC = "handover_request"
CHAT_MODE_KEY = "chat_mode"
CHAT_MODES = ("auto", "open", "closed")
# Without history the estimate assumes this much: a person notices a new case
# within two minutes and a chat takes about six.
DEFAULT_PICKUP_SECONDS = 120.0
DEFAULT_HANDLING_SECONDS = 360.0
ESTIMATE_SAMPLE = 20
ESTIMATE_HISTORY = timedelta(days=30)

# Function mailboxes of the förvaltningar (guideline 3.6.1), for recording a
# forward. organisation.yml may list its own under `function_mailboxes`.
DEFAULT_MAILBOXES: tuple[tuple[str, str], ...] = (
    ("mjolbykommun@mjolby.se", "Kommunstyrelsens förvaltning (kommunens officiella adress)"),
    ("social@mjolby.se", "Omsorg och socialtjänst"),
    ("utbildning@mjolby.se", "Utbildning (förskola och skola)"),
    ("byggnad@mjolby.se", "Bygglov och byggfrågor"),
    ("miljo@mjolby.se", "Miljökontoret"),
    ("tekniska@mjolby.se", "Tekniska frågor (gator, vatten, avfall)"),
    ("kulturofritid@mjolby.se", "Kultur och fritid"),
    ("raddning@mjolby.se", "Räddningstjänsten"),
)

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]{2,}$")
PHONE = re.compile(r"^(?:0\d{6,10}|(?:\+|00)[1-9]\d{6,13})$")


# -- results -----------------------------------------------------------------
@dataclass(frozen=True)
class QueueInfo:
    position: int
    estimated_wait_minutes: int

    def as_dict(self) -> dict[str, int]:
        return {"position": self.position, "estimated_wait_minutes": self.estimated_wait_minutes}


@dataclass(frozen=True)
class ServiceStatus:
    open_now: bool
    opens_next: datetime | None
    closes_at: datetime | None
    staff_online: int
    queue_length: int
    estimated_wait_minutes: int
    chat_available: bool
    chat_mode: str
    text_phone: str
    text_reception: str
    text_chat: str


@dataclass
class Changed:
    """What a call changed: the streams to wake and the messages it added."""

    channels: set[str] = field(default_factory=set)
    messages: list[Message] = field(default_factory=list)

    def conversation(self, conversation_id: str | None) -> None:
        if conversation_id:
            self.channels.add(conversation_channel(conversation_id))

    def queue(self) -> None:
        self.channels.add(QUEUE_CHANNEL)


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


# -- availability ------------------------------------------------------------
def chat_mode(*, db: Session) -> str:
    value = db.scalar(select(ServiceSetting.value).where(ServiceSetting.key == CHAT_MODE_KEY))
    return value if value in CHAT_MODES else "auto"


def set_chat_mode(*, db: Session, mode: str, staff: StaffContext, now: datetime) -> Changed:
    """auto: follow the opening hours; open: open now whatever the hours; closed: closed now. Commits."""
    if mode not in CHAT_MODES:
        raise ApiError(422, "Välj auto, open eller closed.", "bad_chat_mode")
    setting = db.get(ServiceSetting, CHAT_MODE_KEY)
    if setting is None:
        db.add(ServiceSetting(key=CHAT_MODE_KEY, value=mode, updated_at=now, updated_by=staff.email))
    else:
        setting.value, setting.updated_at, setting.updated_by = mode, now, staff.email
    staff_service.audit(db=db, staff=staff, action="set_chat_mode", now=now, detail=mode)
    db.commit()
    changed = Changed()
    changed.queue()
    return changed


def _queue_length(db: Session) -> int:
    return db.scalar(
        select(func.count()).select_from(HandoverCase).where(HandoverCase.status == CaseStatus.QUEUED.value)
    ) or 0


def _chat_available(db: Session, hours: ServiceHours, now: datetime) -> tuple[bool, str, bool, int]:
    mode = chat_mode(db=db)
    open_now = hours.status("phone", now).open_now
    online = staff_service.staff_online(db=db, now=now)
    hours_allow = mode == "open" or (mode == "auto" and open_now)
    return hours_allow and online > 0, mode, open_now, online


def service_status(*, db: Session, hours: ServiceHours, now: datetime) -> ServiceStatus:
    """Everything the bot needs to offer a handover or answer "har ni öppet?". Commits (read only)."""
    available, mode, _, online = _chat_available(db, hours, now)
    waiting = _queue_length(db)
    estimate = estimate_wait_minutes(db=db, position=waiting + 1, staff_online=online, now=now)
    db.commit()
    phone = hours.status("phone", now)
    if available:
        text_chat = texts.CHAT_OPEN
    elif phone.open_now and mode == "closed":
        text_chat = texts.CHAT_PAUSED_PHONE_OPEN.format(phone=texts.PHONE, closes=format_clock(phone.closes_at))
    elif phone.open_now and mode == "auto":
        text_chat = texts.NOBODY_ONLINE_PHONE_OPEN.format(phone=texts.PHONE, closes=format_clock(phone.closes_at))
    else:
        when = hours.opens_again("phone", now)
        text_chat = texts.CHAT_CLOSED_UNTIL.format(when=when) if when else texts.UNAVAILABLE
    return ServiceStatus(
        open_now=phone.open_now,
        opens_next=phone.opens_next,
        closes_at=phone.closes_at,
        staff_online=online,
        queue_length=waiting,
        estimated_wait_minutes=estimate,
        chat_available=available,
        chat_mode=mode,
        text_phone=hours.describe("phone", now),
        text_reception=hours.describe("reception", now),
        text_chat=text_chat,
    )


def estimate_wait_minutes(*, db: Session, position: int, staff_online: int, now: datetime) -> int:
    """Minutes until a person answers the case at `position`, from recent cases.

    The time it took to pick up recent cases (median), plus the median length
    of recent chats for everyone ahead, shared by the staff online.
    """
    since = now - ESTIMATE_HISTORY
    claimed = db.execute(
        select(HandoverCase.created_at, HandoverCase.claimed_at, HandoverCase.ended_at)
        .where(HandoverCase.claimed_at.is_not(None), HandoverCase.claimed_at >= since)
        .order_by(HandoverCase.claimed_at.desc())
        .limit(ESTIMATE_SAMPLE)
    ).all()
    pickups = [(c - q).total_seconds() for q, c, _ in claimed]
    handled = [(e - c).total_seconds() for _, c, e in claimed if e is not None]
    pickup = statistics.median(pickups) if pickups else DEFAULT_PICKUP_SECONDS
    handling = statistics.median(handled) if handled else DEFAULT_HANDLING_SECONDS
    ahead = max(position - 1, 0)
    seconds = pickup + ahead * handling / max(staff_online, 1)
    return max(1, math.floor(seconds / 60 + 0.5))  # to the nearest minute, at least one


def queue_info(*, db: Session, conversation_id: str, now: datetime) -> QueueInfo | None:
    """The conversation's place in the queue and expected wait, if it is queued. Does not commit."""
    case_id = db.scalar(
        select(HandoverCase.id).where(
            HandoverCase.conversation_id == conversation_id, HandoverCase.status == CaseStatus.QUEUED.value
        )
    )
    if case_id is None:
        return None
    position = db.scalar(
        select(func.count()).select_from(HandoverCase).where(
            HandoverCase.status == CaseStatus.QUEUED.value, HandoverCase.id <= case_id
        )
    ) or 1
    online = staff_service.staff_online(db=db, now=now)
    return QueueInfo(position, estimate_wait_minutes(db=db, position=position, staff_online=online, now=now))


def current_queue(*, db: Session, conversation_id: str, now: datetime) -> dict[str, int] | None:
    """queue_info as the chat API's optional `queue` field. Commits (read only)."""
    info = queue_info(db=db, conversation_id=conversation_id, now=now)
    db.commit()
    return info.as_dict() if info else None


# -- the citizen's side --------------------------------------------------------
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
        available, *_ = _chat_available(db, hours, now)
        if not available:
            db.rollback()
            raise ApiError(409, texts.UNAVAILABLE, "unavailable")
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
        raise conversations.ConversationNotFound(conversation_id)
    db.commit()
    changed.conversation(conversation_id)
    changed.messages = messages
    return state, messages, changed


def rate(*, db: Session, conversation_id: str, rating: int, now: datetime) -> HandoverCase:
    """Store the citizen's 1-5 rating on the latest closed, unrated case. Commits."""
    if not 1 <= rating <= 5:
        raise ApiError(422, "Betyget ska vara 1–5.", "bad_rating")
    case = db.scalar(
        select(HandoverCase)
        .where(HandoverCase.conversation_id == conversation_id,
               HandoverCase.status == CaseStatus.CLOSED.value, HandoverCase.rating.is_(None))
        .order_by(HandoverCase.id.desc())
        .limit(1)
    )
    if case is None:
        db.rollback()
        raise ApiError(404, texts.NOTHING_TO_RATE, "nothing_to_rate")
    case.rating, case.rated_at = rating, now
    db.commit()
    return case


# -- contact requests ----------------------------------------------------------
def create_contact_request(*, db: Session, conversation_id: str | None, name: str,
                           phone: str | None, email: str | None, reason: str,
                           topic: str | None, message: str | None, now: datetime) -> ContactRequest:
    """Store a contact request after checking it carries no identity number. Commits."""
    reason = ContactReason(reason).value
    name = " ".join((name or "").split())
    phone = (phone or "").strip() or None
    email = (email or "").strip() or None
    for value in (name, phone, email, message):
        if value and pii.contains_identity_number(value):
            raise ApiError(422, texts.CONTACT_HAS_PERSONAL_NUMBER, "personal_identity_number")
    if not name:
        raise ApiError(422, "Ange ditt namn.", "name_missing")
    if not phone and not email:
        raise ApiError(422, texts.CONTACT_NEEDS_PHONE_OR_EMAIL, "contact_missing")
    if phone and not PHONE.match(re.sub(r"[\s\-().]", "", phone)):
        raise ApiError(422, texts.CONTACT_BAD_PHONE, "bad_phone")
    if email and not EMAIL.match(email):
        raise ApiError(422, texts.CONTACT_BAD_EMAIL, "bad_email")
    if conversation_id is not None and db.get(Conversation, conversation_id) is None:
        db.rollback()
        raise conversations.ConversationNotFound(conversation_id)
    request = ContactRequest(
        conversation_id=conversation_id, reason=reason, name=name[:120], phone=phone, email=email,
        topic=topic, message=pii.mask_text(message) if message else None,
        status=ContactStatus.OPEN.value, created_at=now,
    )
    db.add(request)
    db.commit()
    return request


def list_contact_requests(*, db: Session, status: str | None = None, limit: int = 200) -> list[ContactRequest]:
    query = select(ContactRequest).order_by(ContactRequest.id.desc()).limit(limit)
    if status:
        query = query.where(ContactRequest.status == status)
    rows = list(db.scalars(query))
    db.commit()
    return rows


def close_contact_request(*, db: Session, request_id: int, staff: StaffContext, note: str | None,
                          now: datetime) -> ContactRequest:
    """Mark a contact request handled, recording who and when. Commits."""
    rows = db.execute(
        update(ContactRequest)
        .where(ContactRequest.id == request_id, ContactRequest.status == ContactStatus.OPEN.value)
        .values(status=ContactStatus.CLOSED.value, handled_by=staff.staff_id, handled_by_email=staff.email,
                handled_at=now, handled_note=pii.mask_text(note.strip()) if note and note.strip() else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not rows:
        exists = db.get(ContactRequest, request_id)
        db.rollback()
        if exists is None:
            raise ApiError(404, texts.CONTACT_NOT_FOUND, "contact_request_not_found")
        raise ApiError(409, texts.CONTACT_ALREADY_CLOSED, "contact_request_closed")
    staff_service.audit(db=db, staff=staff, action="close_contact_request", now=now,
                        contact_request_id=request_id)
    db.commit()
    request = db.get(ContactRequest, request_id)
    db.commit()
    assert request is not None
    return request


# -- the staff side ------------------------------------------------------------
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


def _get_case(db: Session, case_id: int) -> HandoverCase:
    case = db.get(HandoverCase, case_id)
    if case is None:
        db.rollback()
        raise ApiError(404, texts.CASE_NOT_FOUND, "case_not_found")
    return case


def open_case(*, db: Session, case_id: int, staff: StaffContext, now: datetime) -> CaseView:
    """The case with its masked transcript, notes and forwards; the opening is audited. Commits."""
    case = _get_case(db, case_id)
    messages: list[Message] = []
    state = None
    if case.conversation_id:
        messages = list(db.scalars(
            select(Message).where(Message.conversation_id == case.conversation_id).order_by(Message.id)
        ))
        state = db.scalar(select(Conversation.state).where(Conversation.id == case.conversation_id))
    claimed_by_email = None
    if case.claimed_by:
        from mjolby.staff.models import StaffUser

        claimed_by_email = db.scalar(select(StaffUser.email).where(StaffUser.id == case.claimed_by))
    notes, forwards = list(case.notes), list(case.forwards)
    staff_service.audit(db=db, staff=staff, action="open_case", now=now, case_id=case.id,
                        conversation_id=case.conversation_id)
    db.commit()
    return CaseView(case, messages, notes, forwards, claimed_by_email, state)


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
            raise ApiError(404, texts.CASE_NOT_FOUND, "case_not_found")
        raise ApiError(409, texts.ALREADY_CLAIMED, "already_claimed")
    case = _get_case(db, case_id)
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
    case = _get_case(db, case_id)
    if case.status != CaseStatus.ACTIVE.value:
        db.rollback()
        if case.status in (CaseStatus.CLOSED.value, CaseStatus.RETURNED.value, CaseStatus.CANCELLED.value):
            raise ApiError(409, texts.CASE_ENDED, "case_ended")
        raise ApiError(409, texts.CASE_NOT_ACTIVE, "case_not_active")
    if case.claimed_by != staff.staff_id and not staff.is_admin:
        db.rollback()
        raise ApiError(409, texts.NOT_YOURS, "not_your_case")
    return case


def reply(*, db: Session, case_id: int, staff: StaffContext, text: str, now: datetime) -> tuple[Message, Changed]:
    """A staff reply to the citizen (identity numbers masked). Commits."""
    if not text.strip():
        raise ApiError(422, texts.EMPTY_TEXT, "empty_text")
    case = _active_case_of(db, case_id, staff)
    if case.conversation_id is None:
        db.rollback()
        raise ApiError(409, texts.CASE_ENDED, "case_ended")
    masked, count = pii.mask(text.strip())
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
        raise ApiError(422, texts.EMPTY_TEXT, "empty_text")
    _get_case(db, case_id)
    note = CaseNote(case_id=case_id, staff_id=staff.staff_id, author=staff.email,
                    text=pii.mask_text(text.strip()), created_at=now)
    db.add(note)
    db.commit()
    return note


def mailboxes(organisation_file: Path | None = None) -> tuple[tuple[str, str], ...]:
    """(address, label) of the function mailboxes staff can forward to."""
    from mjolby.hours import DEFAULT_ORGANISATION_FILE

    path = organisation_file or DEFAULT_ORGANISATION_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        data = {}
    listed = data.get("function_mailboxes")
    if isinstance(listed, list) and listed:
        return tuple((str(m["address"]), str(m.get("label") or m["address"])) for m in listed if "address" in m)
    return DEFAULT_MAILBOXES


def forward(*, db: Session, case_id: int, staff: StaffContext, mailbox: str, comment: str,
            now: datetime) -> CaseForward:
    """Record that the case goes on to a function mailbox (no e-mail is sent from here). Commits."""
    if mailbox not in {address for address, _ in mailboxes()}:
        raise ApiError(422, texts.UNKNOWN_MAILBOX, "unknown_mailbox")
    _get_case(db, case_id)
    record = CaseForward(case_id=case_id, mailbox=mailbox, comment=pii.mask_text(comment.strip()),
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


def purge_contact_requests(*, db: Session, now: datetime, days: int) -> int:
    """Delete handled contact requests older than the retention period. Commits."""
    from sqlalchemy import delete

    cutoff = now - timedelta(days=days)
    removed = db.execute(
        delete(ContactRequest).where(and_(ContactRequest.status == ContactStatus.CLOSED.value,
                                          ContactRequest.handled_at < cutoff))
    ).rowcount
    db.commit()
    return removed or 0
