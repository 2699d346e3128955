"""What lands in the editors' inbox from the chat, as it happens.

main.py puts `inbox_capture` on the app as the conversations' TurnObserver
(conversations never import this package). A turn lands in the inbox when the
bot fell back ("Jag är inte säker på att jag förstod ..."), when the citizen
picked one of its "Menade du ...?" suggestions (what was asked before, what was
picked), or when it answered with a confidence under LOW_CONFIDENCE. Every text
was masked before the conversation stored it; nothing else is kept.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mjolby.conversations.models import Message, Sender
from mjolby.conversations.observers import AnsweredTurn, BotAnswer
from mjolby.feedback.models import InboxItem, ItemKind

# An answer the classifier gave with less confidence than this is worth an
# editor's look (the bot falls back below 0.3, bot/config.yml).
LOW_CONFIDENCE = 0.5
CHOOSE_TOPIC = "/choose_topic"
MAX_GUESSES = 3
_NOT_WORD = re.compile(r"[^\w]+")


def group_key(text: str) -> str:
    """The text folded so that identical questions group: case, accents kept,
    punctuation and spacing dropped."""
    folded = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())[:200]


def guesses_of(signals: Mapping[str, Any]) -> list[str]:
    found = signals.get("guesses")
    if not isinstance(found, list):
        return []
    return [g for g in found if isinstance(g, str) and g][:MAX_GUESSES]


def chosen_topic(payload: str | None) -> str | None:
    """The topic of a "Menade du ...?" button payload, /choose_topic{"topic": "x"}."""
    if not payload or not payload.startswith(CHOOSE_TOPIC + "{"):
        return None
    try:
        entities = json.loads(payload[len(CHOOSE_TOPIC):])
    except ValueError:
        return None
    topic = entities.get("topic") if isinstance(entities, dict) else None
    return topic if isinstance(topic, str) else None


def add_item(db: Session, *, kind: ItemKind, text: str, now: datetime, topic: str | None = None,
             guesses: list[str] | None = None, confidence: float | None = None,
             comment: str | None = None, conversation_id: str | None = None,
             message_id: int | None = None) -> InboxItem | None:
    """Add one inbox item; None when that message already has an item of this kind.
    Does not commit (a savepoint guards the duplicate)."""
    item = InboxItem(kind=kind.value, text=text, group_key=group_key(text), topic=topic,
                     guesses=list(guesses or []), confidence=confidence, comment=comment,
                     conversation_id=conversation_id, message_id=message_id, created_at=now)
    try:
        with db.begin_nested():
            db.add(item)
    except IntegrityError:
        return None
    return item


def previous_question(db: Session, conversation_id: str, before_id: int) -> Message | None:
    """The citizen's message before `before_id` in the conversation."""
    return db.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id < before_id,
               Message.sender == Sender.USER.value)
        .order_by(Message.id.desc())
        .limit(1)
    ).first()


class InboxCapture:
    """The conversations' TurnObserver: files missed and unsure turns."""

    def __init__(self, low_confidence: float = LOW_CONFIDENCE) -> None:
        self.low_confidence = low_confidence

    def wants(self, turn: AnsweredTurn) -> bool:
        """The common case, a sure answer or behaviour, is not: no database work at all."""
        return any(self._kind_of(turn, answer) for answer in turn.answers)

    def turn_answered(self, *, db: Session, turn: AnsweredTurn, now: datetime) -> None:
        found = next(filter(None, (self._kind_of(turn, answer) for answer in turn.answers)), None)
        if found is None:
            return
        kind, answer = found
        question, signals = turn.user_message, answer.signals
        where = {"conversation_id": turn.conversation_id, "message_id": question.id, "now": now}
        if kind is ItemKind.FALLBACK:
            guesses = guesses_of(signals)
            add_item(db, kind=kind, text=question.text, topic=guesses[0] if guesses else None,
                     guesses=guesses, **where)
        else:
            topic = answer.message.topic or ""
            guesses = guesses_of(signals) or [topic]
            if kind is ItemKind.CHOICE:
                # What was asked before the citizen picked a "Menade du ...?" suggestion.
                asked = previous_question(db, turn.conversation_id, question.id)
                if asked is None:
                    return
                add_item(db, kind=kind, text=asked.text, topic=topic, guesses=guesses, **where)
            else:
                add_item(db, kind=kind, text=question.text, topic=topic, guesses=guesses,
                         confidence=round(float(signals["confidence"]), 3), **where)
        db.commit()

    def _kind_of(self, turn: AnsweredTurn, answer: BotAnswer) -> tuple[ItemKind, BotAnswer] | None:
        signals = answer.signals
        if signals.get("fallback") is True:
            return ItemKind.FALLBACK, answer
        if not answer.message.topic:
            return None
        if chosen_topic(turn.user_message.payload) == answer.message.topic:
            return ItemKind.CHOICE, answer
        confidence = signals.get("confidence")
        if (isinstance(confidence, (int, float)) and not isinstance(confidence, bool)
                and confidence < self.low_confidence):
            return ItemKind.LOW_CONFIDENCE, answer
        return None


inbox_capture = InboxCapture()
