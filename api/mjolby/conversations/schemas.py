"""Request and response bodies of the conversation routes (CONTRACT.md)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from mjolby.conversations.models import Message
from mjolby.conversations.service import StoredMessage
from mjolby.storable import is_storable

MAX_TEXT_CHARACTERS = 2000
TEXT_TOO_LONG = "text_too_long"  # error type the 422 handler turns into 413
TEXT_EMPTY = "text_empty"
TEXT_UNSTORABLE = "text_unstorable"
# What the validators accept, as JSON Schema patterns for the OpenAPI document.
TEXT_PATTERN = r"^[^\x00]*[^\x00\s][^\x00]*$"
PAYLOAD_PATTERN = r"^[^\x00]*$"

StateName = Literal["bot", "queued", "agent", "closed"]


def _not_too_long(value: str) -> str:
    if len(value) > MAX_TEXT_CHARACTERS:
        raise PydanticCustomError(TEXT_TOO_LONG, "text is longer than 2000 characters")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError(TEXT_EMPTY, "text is empty")
    return value


def _storable(value: str) -> str:
    if not is_storable(value):
        raise PydanticCustomError(TEXT_UNSTORABLE, "text holds a NUL or a lone surrogate")
    return value


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    locale: str = Field(default="sv", pattern=r"^[a-z]{2}(-[A-Z]{2})?$",
                        description="Språk för samtalet; bara `sv` stöds i dag.")


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: Annotated[
        str, AfterValidator(_not_too_long), AfterValidator(_not_blank), AfterValidator(_storable)
    ] = Field(
        min_length=1,
        # For the document only (the validators above give the Swedish errors):
        # some character that is not whitespace, no NUL, at most 2,000 characters.
        json_schema_extra={"pattern": TEXT_PATTERN, "maxLength": MAX_TEXT_CHARACTERS},
        description=(
            "Det medborgaren skrev (högst 2 000 tecken; längre ger 413). Tom text, bara "
            "blanksteg, NUL-tecken och ensamma surrogattecken ger 422."
        ),
    )
    payload: Annotated[str, AfterValidator(_not_too_long), AfterValidator(_storable)] | None = Field(
        default=None,
        json_schema_extra={"pattern": PAYLOAD_PATTERN, "maxLength": MAX_TEXT_CHARACTERS},
        description=(
            "Extension: the payload of a button the citizen clicked. Sent to the bot "
            "instead of `text`; `text` (the button's title) is what is shown. Only payloads "
            "of buttons offered in this conversation, and a few global ones (`/greet`, "
            "`/handover_request`, `/cancel_handover`, `/choose_topic{\"topic\": \"<known topic>\"}`) "
            "are passed on and stored; for any other payload the bot gets `text` as if typed."
        ),
    )


class Link(BaseModel):
    title: str
    url: str = Field(description="Absolut https://-adress.")


class Button(BaseModel):
    title: str
    payload: str


class MessageOut(BaseModel):
    id: str = Field(description="Numeric string, unique and increasing within the conversation.")
    sender: Literal["user", "bot", "agent", "system"]
    text: str
    topic: str | None
    links: list[Link]
    buttons: list[Button]
    created_at: datetime
    agent_name: str | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description=(
            "Extension, on `agent` messages only: the first name of the person at "
            'Medborgarservice, or "en medarbetare på Medborgarservice".'
        ),
    )

    @classmethod
    def of(cls, message: Message | StoredMessage) -> MessageOut:
        return cls(
            id=str(message.id),
            sender=message.sender,  # type: ignore[arg-type]
            text=message.text,
            topic=message.topic,
            links=[Link(**link) for link in message.links],
            buttons=[Button(**button) for button in message.buttons],
            created_at=message.created_at,
            agent_name=getattr(message, "agent_name", None),
        )


class Queue(BaseModel):
    position: int = Field(description="Platsen i kön (1 = först).")
    estimated_wait_minutes: int = Field(description="Beräknad väntetid i minuter, från den verkliga kön.")


QueueField = Field(
    default=None, exclude_if=lambda value: value is None,
    description="Extension, only while `state` is `queued`: the place in the queue and the expected wait.",
)


class ConversationOut(BaseModel):
    conversation_id: str
    state: StateName
    messages: list[MessageOut]
    queue: Queue | None = QueueField


class MessagesOut(BaseModel):
    state: StateName
    messages: list[MessageOut]
    queue: Queue | None = QueueField


class ErrorOut(BaseModel):
    detail: str = Field(description="Vad som gick fel, på svenska.")
