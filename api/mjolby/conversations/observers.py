"""What others may learn from a citizen's turn, without conversations importing them.

main.py puts a `TurnObserver` on the app (`app.state.turn_observer`); the chat
route hands it to the dialogue, which tells it about every turn the bot
answered, with the signals the bot's actions put in each reply's custom
payload (the classifier's confidence, a fallback's guesses). The editors'
inbox (mjolby.feedback.capture) implements it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from mjolby.conversations.service import StoredMessage


@dataclass(frozen=True)
class BotAnswer:
    message: StoredMessage
    # The reply's custom payload from the bot (e.g. {"confidence": 0.41}).
    signals: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AnsweredTurn:
    conversation_id: str
    # The citizen's message as stored (masked).
    user_message: StoredMessage
    answers: Sequence[BotAnswer] = ()


class TurnObserver(Protocol):
    def wants(self, turn: AnsweredTurn) -> bool:
        """Whether the turn is of interest, from the turn alone (no I/O: it runs
        in the event loop, for every turn)."""

    def turn_answered(self, *, db: Session, turn: AnsweredTurn, now: datetime) -> None:
        """Called after the turn is stored, in a worker thread. Commits when it
        writes. Never lets an error reach the citizen (the caller logs it)."""
