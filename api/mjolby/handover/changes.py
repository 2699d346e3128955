"""What every handover change hands back to its caller, and a check they share."""
from __future__ import annotations

from dataclasses import dataclass, field

from mjolby.conversations.models import Message
from mjolby.errors import InvalidInput
from mjolby.events import QUEUE_CHANNEL, conversation_channel
from mjolby.handover import texts
from mjolby.storable import is_storable


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


def require_storable(*values: str | None) -> None:
    """A NUL or a lone surrogate would fail the insert with a 500: refuse it with a 422."""
    if any(value and not is_storable(value) for value in values):
        raise InvalidInput(texts.UNSTORABLE_TEXT, "unstorable_text")
