"""Storage of conversations and messages.

Plain synchronous functions taking the session as `db`; async callers run them
in a worker thread. Functions that say "commits" end their transaction, so a
session never holds a connection while the bot is thinking; the others leave
committing to the caller so that they can be combined (the handover does).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from mjolby.conversations.models import Conversation, Message, Sender, State
from mjolby import texts
from mjolby.db import UTCDateTime, utcnow
from mjolby.errors import NotFound


class ConversationNotFound(NotFound):
    def __init__(self, conversation_id: str) -> None:
        super().__init__(texts.ERROR_NOT_FOUND_CONVERSATION)
        self.conversation_id = conversation_id


@dataclass(frozen=True)
class NewMessage:
    sender: Sender
    text: str
    topic: str | None = None
    links: Sequence[dict[str, str]] = ()
    buttons: Sequence[dict[str, str]] = ()
    extra_topics: Sequence[str] = ()
    pii_masked: bool = False
    # The button payload a citizen's message was sent as (masked), if any.
    payload: str | None = None


@dataclass
class StoredMessage:
    """A message as inserted on the hot path (same attributes as the Message row)."""

    id: int
    conversation_id: str
    sender: str
    text: str
    topic: str | None
    extra_topics: list[str]
    links: list[dict[str, str]]
    buttons: list[dict[str, str]]
    pii_masked: bool
    created_at: datetime
    agent_name: str | None = None
    payload: str | None = None


@dataclass
class Turn:
    """What one citizen message led to: the stored message and the replies."""

    state: str
    user_message: StoredMessage
    replies: list[StoredMessage] = field(default_factory=list)


def create_conversation(*, db: Session, conversation_id: str, locale: str,
                        client_key: str | None, greeting: Iterable[NewMessage],
                        now: datetime | None = None) -> tuple[Conversation, list[Message]]:
    """Store a new conversation with its greeting. Commits."""
    now = now or utcnow()
    conversation = Conversation(
        id=conversation_id, state=State.BOT.value, locale=locale, client_key=client_key,
        created_at=now, updated_at=now,
    )
    messages = [_message(conversation_id, m, now) for m in greeting]
    conversation.last_topic = reply_topic(messages)
    db.add(conversation)
    db.flush()
    _insert_in_order(db, messages)
    db.commit()
    return conversation, messages


@dataclass(frozen=True)
class ConversationRef:
    """What answering a message needs to know about its conversation."""

    id: str
    state: str
    locale: str


# The per-message hot path runs prepared Core statements on the session's
# connection: the ORM's bookkeeping would cost more than the queries.
_LOAD_REF = select(Conversation.id, Conversation.state, Conversation.locale).where(
    Conversation.id == bindparam("conversation_id")
)
_TOUCH = (
    update(Conversation)
    .where(Conversation.id == bindparam("conversation_id"))
    .values(
        updated_at=bindparam("now", type_=UTCDateTime()),
        last_topic=func.coalesce(bindparam("new_topic", type_=String()), Conversation.last_topic),
    )
    .returning(Conversation.state)
)
_STATE = select(Conversation.state).where(Conversation.id == bindparam("conversation_id"))
_MESSAGE_FIELDS = [
    Message.__table__.c[name]
    for name in ("id", "conversation_id", "sender", "text", "topic", "extra_topics", "links",
                 "buttons", "pii_masked", "created_at", "agent_name")
]
_MESSAGES_AFTER = (
    select(*_MESSAGE_FIELDS)
    .where(Message.conversation_id == bindparam("conversation_id"), Message.id > bindparam("after"))
    .order_by(Message.id)
)
_INSERT_MESSAGE = insert(Message).returning(Message.id)
_OFFERED_BUTTONS = select(Message.buttons).where(
    Message.conversation_id == bindparam("conversation_id"),
    Message.sender.in_((Sender.BOT.value, Sender.SYSTEM.value)),
)


def load_conversation(*, db: Session, conversation_id: str) -> ConversationRef:
    """Read a conversation and end the transaction at once. Commits (read only)."""
    row = db.connection().execute(_LOAD_REF, {"conversation_id": conversation_id}).first()
    db.commit()
    if row is None:
        raise ConversationNotFound(conversation_id)
    return ConversationRef(id=row.id, state=row.state, locale=row.locale)


def offered_buttons(*, db: Session, conversation_id: str) -> list[list[dict[str, str]]]:
    """The buttons of every bot and system message of the conversation. Commits (read only)."""
    rows = db.connection().execute(_OFFERED_BUTTONS, {"conversation_id": conversation_id}).scalars()
    buttons = [list(group) for group in rows if isinstance(group, list)]
    db.commit()
    return buttons


def _lock_conversation(*, db: Session, conversation_id: str, now: datetime,
                       last_topic: str | None = None, state: str | None = None) -> str:
    """Touch the conversation first thing in a write transaction; return its state.

    Writing before reading matters on both backends: on PostgreSQL the row
    lock makes message ids of one conversation commit in id order (pollers
    asking for messages "after" an id never skip one), and on SQLite the
    transaction takes the write lock up front instead of failing to upgrade
    a stale read snapshot.
    """
    values: dict[str, Any] = {"updated_at": now}
    if last_topic is not None:
        values["last_topic"] = last_topic
    if state is not None:
        values["state"] = state
    current = db.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(**values)
        .returning(Conversation.state)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if current is None:
        raise ConversationNotFound(conversation_id)
    return current


def add_messages(*, db: Session, conversation_id: str, messages: Iterable[NewMessage],
                 now: datetime | None = None) -> list[Message]:
    """Append messages to a conversation, in order. Does not commit."""
    now = now or utcnow()
    rows = [_message(conversation_id, m, now) for m in messages]
    _lock_conversation(db=db, conversation_id=conversation_id, now=now,
                       last_topic=reply_topic(rows))
    _insert_in_order(db, rows)
    return rows


def add_message(*, db: Session, conversation_id: str, sender: Sender | str, text: str,
                topic: str | None = None, links: Sequence[dict[str, str]] = (),
                buttons: Sequence[dict[str, str]] = (), extra_topics: Sequence[str] = (),
                pii_masked: bool = False, now: datetime | None = None) -> Message:
    """Append one message (text already masked by the caller). Does not commit."""
    new = NewMessage(sender=Sender(sender), text=text, topic=topic, links=links,
                     buttons=buttons, extra_topics=extra_topics, pii_masked=pii_masked)
    return add_messages(db=db, conversation_id=conversation_id, messages=[new], now=now)[0]


def set_state(*, db: Session, conversation_id: str, state: State | str,
              now: datetime | None = None) -> None:
    """Move a conversation to another state. Does not commit."""
    _lock_conversation(db=db, conversation_id=conversation_id, now=now or utcnow(),
                       state=State(state).value)


def list_messages(*, db: Session, conversation_id: str,
                  after: int | None = None) -> tuple[str, list[StoredMessage]]:
    """The conversation's state and its messages after `after`, oldest first. Commits."""
    connection = db.connection()
    state = connection.execute(_STATE, {"conversation_id": conversation_id}).scalar()
    if state is None:
        db.commit()
        raise ConversationNotFound(conversation_id)
    rows = connection.execute(
        _MESSAGES_AFTER, {"conversation_id": conversation_id, "after": after or 0}
    ).all()
    db.commit()
    return state, [StoredMessage(**row._mapping) for row in rows]


_BOT_ANSWERS = (State.BOT.value, State.QUEUED.value)


def record_turn(*, db: Session, conversation_id: str, user_message: NewMessage,
                notices: Sequence[NewMessage], bot_replies: Sequence[NewMessage],
                received_at: datetime | None = None, now: datetime | None = None) -> Turn:
    """Store a citizen message and what answers it, in one transaction. Commits.

    If a person took the conversation over while the bot was answering, the
    bot's replies are dropped: the person answers now.
    """
    now = now or utcnow()
    expected_topic = reply_topic([*notices, *bot_replies])
    connection = db.connection()
    # Touch the conversation first: see _lock_conversation for why.
    state = connection.execute(
        _TOUCH, {"conversation_id": conversation_id, "now": now, "new_topic": expected_topic}
    ).scalar_one_or_none()
    if state is None:
        raise ConversationNotFound(conversation_id)
    # Queued in this very turn (the bot's handover action created the case):
    # the bot's replies say so and stay. Only a person taking over drops them.
    replies = list(notices) + (list(bot_replies) if state in _BOT_ANSWERS else [])
    topic = reply_topic(replies)
    if topic is not None and topic != expected_topic:  # state changed meanwhile
        connection.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(last_topic=topic)
        )
    stored = [
        _insert(connection, conversation_id, message, at)
        for message, at in [(user_message, received_at or now), *((m, now) for m in replies)]
    ]
    db.commit()
    return Turn(state=state, user_message=stored[0], replies=stored[1:])


def reply_topic(messages: Iterable[Message | NewMessage | StoredMessage]) -> str | None:
    """The topic of a reply: that of its first bot message that carries one."""
    for message in messages:
        if message.sender == Sender.BOT.value and message.topic:
            return message.topic
    return None


def _insert_in_order(db: Session, rows: Sequence[Message]) -> None:
    # One INSERT each: a multi-row INSERT does not promise ids in row order.
    for row in rows:
        db.add(row)
        db.flush()


def _insert(connection: Connection, conversation_id: str, new: NewMessage,
            now: datetime) -> StoredMessage:
    """Insert one message with Core (the per-message hot path, no unit of work)."""
    values = {
        "conversation_id": conversation_id,
        "sender": Sender(new.sender).value,
        "text": new.text,
        "topic": new.topic,
        "extra_topics": list(new.extra_topics),
        "links": [dict(link) for link in new.links],
        "buttons": [dict(button) for button in new.buttons],
        "pii_masked": new.pii_masked,
        "created_at": now,
        "payload": new.payload,
    }
    message_id = connection.execute(_INSERT_MESSAGE, values).scalar_one()
    return StoredMessage(id=message_id, **values)


def _message(conversation_id: str, new: NewMessage, now: datetime) -> Message:
    return Message(
        conversation_id=conversation_id,
        sender=Sender(new.sender).value,
        text=new.text,
        topic=new.topic,
        extra_topics=list(new.extra_topics),
        links=[dict(link) for link in new.links],
        buttons=[dict(button) for button in new.buttons],
        pii_masked=new.pii_masked,
        created_at=now,
        payload=new.payload,
    )
