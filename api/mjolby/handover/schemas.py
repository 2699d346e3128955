"""Bodies of the internal routes (for the bot's actions) and the staff case routes."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mjolby.conversations.schemas import Queue
from mjolby.handover.models import CaseForward, CaseNote, ContactRequest, HandoverCase
from mjolby.handover.staff_actions import CaseView

ReasonName = Literal["user_request", "unresolved", "sensitive"]
OutcomeName = Literal["resolved", "referred", "needs_follow_up"]
ContactReasonName = Literal["callback", "sensitive_data"]
CaseStatusName = Literal["queued", "active", "closed", "returned", "cancelled"]


# -- internal (bot actions) ---------------------------------------------------
class ServiceStatusOut(BaseModel):
    open_now: bool = Field(description="Växeln (och chatten) har öppet enligt öppettiderna just nu.")
    opens_next: datetime | None = Field(description="Nästa öppning när det är stängt.")
    closes_at: datetime | None = Field(description="Dagens stängning när det är öppet.")
    staff_online: int
    queue_length: int
    estimated_wait_minutes: int = Field(description="Väntetid för den som ställer sig i kön nu.")
    chat_available: bool = Field(description="Någon kan chatta nu (öppet eller öppnat av admin, och någon inloggad).")
    chat_mode: Literal["auto", "open", "closed"]
    text_phone: str
    text_reception: str
    text_chat: str


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation_id: str = Field(max_length=36)
    reason: ReasonName
    topic: str | None = Field(default=None, max_length=64)


class CaseCreated(BaseModel):
    case_id: int
    state: Literal["queued", "agent"]
    queue: Queue | None


class ContactRequestCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation_id: str | None = Field(default=None, max_length=36)
    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    reason: ContactReasonName = "callback"
    topic: str | None = Field(default=None, max_length=64)
    message: str | None = Field(default=None, max_length=2000)


class ContactRequestCreated(BaseModel):
    id: int
    status: Literal["open", "closed"]


class RatingIn(BaseModel):
    rating: int = Field(ge=1, le=5)


class RatingOut(BaseModel):
    case_id: int
    rating: int


# -- staff ------------------------------------------------------------------------
class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class CloseIn(BaseModel):
    outcome: OutcomeName


class ForwardIn(BaseModel):
    mailbox: str = Field(max_length=254)
    comment: str = Field(default="", max_length=2000)


class ContactCloseIn(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class ChatModeIn(BaseModel):
    mode: Literal["auto", "open", "closed"]


class CaseOut(BaseModel):
    id: int
    conversation_id: str | None
    status: CaseStatusName
    reason: ReasonName
    topic: str | None
    created_at: datetime
    claimed_at: datetime | None
    agent_name: str | None
    ended_at: datetime | None
    outcome: OutcomeName | None
    rating: int | None

    @classmethod
    def of(cls, case: HandoverCase) -> CaseOut:
        return cls(
            id=case.id, conversation_id=case.conversation_id, status=case.status,  # type: ignore[arg-type]
            reason=case.reason, topic=case.topic, created_at=case.created_at,  # type: ignore[arg-type]
            claimed_at=case.claimed_at, agent_name=case.agent_name, ended_at=case.ended_at,
            outcome=case.outcome, rating=case.rating,  # type: ignore[arg-type]
        )


class QueueEntryOut(BaseModel):
    case: CaseOut
    first_message: str | None = Field(description="Medborgarens första meddelande (maskerat).")
    waiting_seconds: int


class QueueOut(BaseModel):
    waiting: list[QueueEntryOut]
    active: list[QueueEntryOut]
    staff_online: int
    chat_available: bool


class TranscriptMessage(BaseModel):
    id: str
    sender: Literal["user", "bot", "agent", "system"]
    text: str
    topic: str | None
    agent_name: str | None = None
    created_at: datetime
    before_handover: bool = Field(description="Skrivet innan ärendet skapades (botens del av samtalet).")


class NoteOut(BaseModel):
    id: int
    author: str
    text: str
    created_at: datetime

    @classmethod
    def of(cls, note: CaseNote) -> NoteOut:
        return cls(id=note.id, author=note.author, text=note.text, created_at=note.created_at)


class ForwardOut(BaseModel):
    id: int
    mailbox: str
    comment: str
    author: str
    created_at: datetime

    @classmethod
    def of(cls, record: CaseForward) -> ForwardOut:
        return cls(id=record.id, mailbox=record.mailbox, comment=record.comment, author=record.author,
                   created_at=record.created_at)


class CaseDetailOut(BaseModel):
    case: CaseOut
    conversation_state: str | None
    claimed_by_email: str | None
    transcript: list[TranscriptMessage]
    notes: list[NoteOut]
    forwards: list[ForwardOut]


class MessageSent(BaseModel):
    id: str
    text: str
    agent_name: str | None
    created_at: datetime


class MailboxOut(BaseModel):
    address: str
    label: str


class ContactRequestOut(BaseModel):
    id: int
    conversation_id: str | None
    reason: ContactReasonName
    name: str
    phone: str | None
    email: str | None
    topic: str | None
    message: str | None
    status: Literal["open", "closed"]
    created_at: datetime
    handled_by_email: str | None
    handled_at: datetime | None
    handled_note: str | None

    @classmethod
    def of(cls, row: ContactRequest) -> ContactRequestOut:
        return cls(
            id=row.id, conversation_id=row.conversation_id, reason=row.reason,  # type: ignore[arg-type]
            name=row.name, phone=row.phone, email=row.email, topic=row.topic, message=row.message,
            status=row.status, created_at=row.created_at, handled_by_email=row.handled_by_email,  # type: ignore[arg-type]
            handled_at=row.handled_at, handled_note=row.handled_note,
        )


class AvailabilityOut(BaseModel):
    chat_mode: Literal["auto", "open", "closed"]
    chat_available: bool
    open_now: bool
    staff_online: int


def transcript(view: CaseView) -> list[TranscriptMessage]:
    """A case's conversation as staff read it, marking what was written before the handover."""
    return [
        TranscriptMessage(
            id=str(m.id), sender=m.sender, text=m.text, topic=m.topic,  # type: ignore[arg-type]
            agent_name=getattr(m, "agent_name", None), created_at=m.created_at,
            before_handover=m.created_at <= view.case.created_at,
        )
        for m in view.messages
    ]
