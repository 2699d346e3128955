"""What the gateway does with a citizen's message before and after the bot.

Masks identity numbers first, tells the citizen when one was removed, asks
the bot (unless a person handles the conversation), and stores the turn.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

import mjolby_pii as pii

from mjolby import texts
from mjolby.conversations import payloads, service
from mjolby.greeting import greeting_text
from mjolby.conversations.models import Conversation, Message, Sender, State, new_conversation_id
from mjolby.conversations.observers import AnsweredTurn, BotAnswer, TurnObserver
from mjolby.conversations.service import ConversationRef, NewMessage, Turn
from mjolby.conversations.waiting import WaitingLine
from mjolby.rasa_client import BotReply, RasaClient, RasaUnavailable

logger = logging.getLogger(__name__)

SENSITIVE_TOPIC = "sensitive_data_shared"
GREET_TOPIC = "greet"


async def start_conversation(*, db: Session, rasa: RasaClient, locale: str,
                             client_key: str | None,
                             clock: Callable[[], datetime]) -> tuple[Conversation, list[Message]]:
    conversation_id = new_conversation_id()
    # The greeting is static: the bot is only asked whether it is there, so the
    # citizen learns at once when it is not (and whom to call instead).
    if await rasa.reachable():
        greeting = [NewMessage(Sender.BOT, greeting_text(), topic=GREET_TOPIC)]
    else:
        logger.error("Bot unreachable when conversation %s started", conversation_id)
        greeting = [_unreachable()]
    return await run_in_threadpool(
        service.create_conversation, db=db, conversation_id=conversation_id, locale=locale,
        client_key=client_key, greeting=greeting, now=clock(),
    )


async def answer_message(*, db: Session, rasa: RasaClient, waiting: WaitingLine,
                         conversation: ConversationRef, text: str, payload: str | None,
                         clock: Callable[[], datetime], observer: TurnObserver | None = None) -> Turn:
    received_at = clock()
    masked_text, in_text = pii.mask(text)
    masked_payload, in_payload = pii.mask(payload) if payload else (None, 0)
    masked = bool(in_text or in_payload)
    if masked:
        logger.info("Masked %d identity number(s) in a message to conversation %s",
                    in_text + in_payload, conversation.id)
    if masked_payload is not None and not await _payload_allowed(db, conversation.id, masked_payload):
        # A payload the bot never offered here (stale, edited or forged) is not
        # taken as said: the button's title goes to the bot as typed text.
        logger.info("Payload not offered in conversation %s: sent as text", conversation.id)
        masked_payload = None

    if conversation.state == State.QUEUED.value and waiting.is_cancel_request(masked_text, masked_payload):
        # The citizen stops waiting ("Avbryt väntan"): the bot answers again.
        state, stored = await run_in_threadpool(
            waiting.cancel, db=db, conversation_id=conversation.id, now=received_at,
            user_text=masked_text,
        )
        return Turn(state=state, user_message=stored[0], replies=stored[1:])  # type: ignore[arg-type]

    notices: list[NewMessage] = []
    bot_replies: list[NewMessage] = []
    # The bot's custom payload of each reply, when the bot answered.
    signals: list[dict[str, Any]] | None = None
    if conversation.state == State.BOT.value:
        if masked:
            notices.append(NewMessage(Sender.BOT, texts.SENSITIVE_DATA_REMOVED, topic=SENSITIVE_TOPIC,
                                      buttons=[texts.SECURE_CONTACT_BUTTON]))
        if masked and masked_payload is None and pii.words_besides_masks(masked_text) < 2:
            # Nothing but the number: no question for the bot to answer.
            bot_replies.append(
                NewMessage(Sender.BOT, texts.WHAT_CAN_I_HELP_WITH, topic=SENSITIVE_TOPIC)
            )
        else:
            replies = await _ask_bot(
                rasa, conversation.id, masked_payload or masked_text,
                metadata={"locale": conversation.locale, "pii_masked": masked},
            )
            if replies is None:
                bot_replies.append(_unreachable())
            else:
                bot_replies.extend([_from_bot(reply) for reply in replies]
                                   or [NewMessage(Sender.BOT, texts.NO_ANSWER)])
                signals = [dict(reply.custom or {}) for reply in replies] or [{}]
    else:
        # A person handles (or handled) the conversation: no bot, but the citizen
        # still learns that the number was removed.
        if masked:
            notices.append(
                NewMessage(Sender.SYSTEM, texts.SENSITIVE_DATA_REMOVED, topic=SENSITIVE_TOPIC)
            )
        if conversation.state == State.CLOSED.value:
            notices.append(NewMessage(Sender.SYSTEM, texts.CONVERSATION_CLOSED))

    turn = await run_in_threadpool(
        service.record_turn, db=db, conversation_id=conversation.id,
        user_message=NewMessage(Sender.USER, masked_text, pii_masked=masked, payload=masked_payload),
        notices=notices, bot_replies=bot_replies, received_at=received_at, now=clock(),
    )
    answered = turn.replies[len(notices):]
    if observer is not None and signals is not None and len(answered) == len(signals):
        observed = AnsweredTurn(
            conversation_id=conversation.id, user_message=turn.user_message,
            answers=[BotAnswer(message, found) for message, found in zip(answered, signals)],
        )
        if observer.wants(observed):
            await _tell(observer, db, observed, clock())
    return turn


async def _tell(observer: TurnObserver, db: Session, turn: AnsweredTurn, now: datetime) -> None:
    """Let the observer learn from the turn; its failure never reaches the citizen."""
    try:
        await run_in_threadpool(observer.turn_answered, db=db, turn=turn, now=now)
    except Exception as exc:  # noqa: BLE001 - the citizen has their answer already
        await run_in_threadpool(db.rollback)
        logger.warning("Recording turn of conversation %s for the editors failed (%s)",
                       turn.conversation_id, type(exc).__name__)


async def _payload_allowed(db: Session, conversation_id: str, payload: str) -> bool:
    if payloads.is_global(payload):
        return True
    buttons = await run_in_threadpool(service.offered_buttons, db=db, conversation_id=conversation_id)
    return payloads.offered(payload, buttons)


async def _ask_bot(rasa: RasaClient, conversation_id: str, message: str,
                   metadata: dict[str, Any] | None) -> list[BotReply] | None:
    """The bot's replies that have content, or None if the bot is unreachable."""
    try:
        replies = await rasa.send(conversation_id, message, metadata)
    except RasaUnavailable as exc:
        logger.error("Bot unreachable for conversation %s: %s", conversation_id, exc)
        return None
    return [reply for reply in replies if reply.has_content]


def _from_bot(reply: BotReply) -> NewMessage:
    extra = (reply.custom or {}).get("extra_topics")
    return NewMessage(
        Sender.BOT,
        reply.text or "",
        topic=reply.topic,
        links=reply.links,
        buttons=reply.buttons,
        extra_topics=[t for t in extra if isinstance(t, str)] if isinstance(extra, list) else (),
    )


def _unreachable() -> NewMessage:
    return NewMessage(Sender.BOT, texts.BOT_UNREACHABLE, topic=None)
