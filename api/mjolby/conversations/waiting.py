"""What a conversation needs from the queue a citizen may wait in.

The handover implements it (mjolby.handover.cases.waiting_line) and main.py
hands it to the chat routes, so that conversations never import the handover:
the handover builds on conversations, not the other way round.
"""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from mjolby.conversations.models import Message


class WaitingLine(Protocol):
    def is_cancel_request(self, text: str | None, payload: str | None) -> bool:
        """Whether a waiting citizen's message means "stop waiting"."""

    def cancel(self, *, db: Session, conversation_id: str, now: datetime,
               user_text: str | None) -> tuple[str, list[Message]]:
        """Stop waiting; the bot answers again. The conversation's state and the
        new messages (the citizen's own first, when given). Commits."""

    def place(self, *, db: Session, conversation_id: str, now: datetime) -> dict[str, int] | None:
        """The conversation's place in the queue and expected wait (the chat API's
        `queue` field), or None when it is not waiting. Commits (read only)."""
