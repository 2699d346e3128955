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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mjolby.conversations.models import Conversation, Message, Sender, State
from mjolby.db import utcnow


class ConversationNotFound(LookupError):
    pass


@dataclass(frozen=True)
class NewMessage:
    sender: Sender
    text: str
    topic: str | None = None
    links: Sequence[dict[str, str]] = ()
    buttons: Sequence[dict[str, str]] = ()
    extra_topics: Sequence[str] = ()
    pii_masked: bool = False


@dataclass
class Turn:
    """What one citizen message led to: the stored message and the replies."""

    state: str
    user_message: Message | None
    replies: list[Message] = field(default_factory=list)


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
    db.add_all(messages)
    db.commit()
    return conversation, messages


def load_conversation(*, db: Session, conversation_id: str) -> Conversation:
    """Read a conversation and end the transaction at once. Commits (read only)."""
    conversation = db.get(Conversation, conversation_id)
    db.commit()
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


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
    db.add_all(rows)
    db.flush()
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
                  after: int | None = None) -> tuple[str, list[Message]]:
    """The conversation's state and its messages after `after`, oldest first. Commits."""
    state = db.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
    if state is None:
        db.commit()
        raise ConversationNotFound(conversation_id)
    query = select(Message).where(Message.conversation_id == conversation_id)
    if after is not None:
        query = query.where(Message.id > after)
    messages = list(db.scalars(query.order_by(Message.id)))
    db.commit()
    return state, messages


def record_turn(*, db: Session, conversation_id: str, user_message: NewMessage,
                notices: Sequence[NewMessage], bot_replies: Sequence[NewMessage],
                now: datetime | None = None) -> Turn:
    """Store a citizen message and what answers it, in one transaction. Commits.

    If a person took the conversation over while the bot was answering, the
    bot's replies are dropped: the person answers now.
    """
    now = now or utcnow()
    state = _lock_conversation(db=db, conversation_id=conversation_id, now=now)
    replies = list(notices) + (list(bot_replies) if state == State.BOT.value else [])
    user_row = _message(conversation_id, user_message, now)
    reply_rows = [_message(conversation_id, m, now) for m in replies]
    topic = reply_topic(reply_rows)
    if topic is not None:
        db.execute(
            update(Conversation).where(Conversation.id == conversation_id)
            .values(last_topic=topic).execution_options(synchronize_session=False)
        )
    # Flush one by one: ids must follow the order of the conversation.
    db.add(user_row)
    db.flush()
    for row in reply_rows:
        db.add(row)
        db.flush()
    db.commit()
    return Turn(state=state, user_message=user_row, replies=reply_rows)


def reply_topic(messages: Iterable[Message]) -> str | None:
    """The topic of a reply: that of its first bot message that carries one."""
    for message in messages:
        if message.sender == Sender.BOT.value and message.topic:
            return message.topic
    return None


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
    )
