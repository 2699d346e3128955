from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, status
from starlette.concurrency import run_in_threadpool

from mjolby.conversations import dialogue, service
from mjolby.conversations.models import MAX_MESSAGE_ID
from mjolby.conversations.schemas import (
    ConversationCreate,
    ConversationOut,
    ErrorOut,
    MessageCreate,
    MessageOut,
    MessagesOut,
)
from mjolby.conversations.waiting import WaitingLine
from mjolby.deps import (
    ClientKeyDep,
    ClockDep,
    EventsDep,
    LimiterDep,
    RasaDep,
    ReadLimit,
    SessionDep,
    TurnObserverDep,
    WaitingLineDep,
)
from mjolby.events import QUEUE_CHANNEL, conversation_channel

router = APIRouter(prefix="/conversations", tags=["conversations"])

ConversationId = Annotated[str, Path(description="Id från POST /conversations.")]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        404: "Okänd konversation",
        413: "Meddelandet är längre än 2 000 tecken",
        422: "Fel format på förfrågan (indata upprepas aldrig i svaret)",
        429: "För många meddelanden eller förfrågningar; se Retry-After",
    }
    return {code: {"model": ErrorOut, "description": described[code]} for code in codes}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ConversationOut,
    summary="Starta en konversation",
    description="Creates a conversation; `messages` holds the bot's greeting.",
    responses=_errors(422, 429),
)
async def create_conversation(
    db: SessionDep, rasa: RasaDep, limiter: LimiterDep, client: ClientKeyDep, clock: ClockDep,
    body: Annotated[ConversationCreate | None, Body()] = None,
) -> ConversationOut:
    await limiter.check_client(client)
    conversation, greeting = await dialogue.start_conversation(
        db=db, rasa=rasa, locale=(body or ConversationCreate()).locale, client_key=client,
        clock=clock,
    )
    return ConversationOut(
        conversation_id=conversation.id,
        state=conversation.state,  # type: ignore[arg-type]
        messages=[MessageOut.of(m) for m in greeting],
    )


@router.post(
    "/{conversation_id}/messages",
    response_model=MessagesOut,
    summary="Skicka ett meddelande",
    description=(
        "Stores the citizen's message (identity numbers masked) and returns the replies "
        "to it, in order; none while a person at Medborgarservice handles the conversation."
    ),
    responses=_errors(404, 413, 422, 429),
)
async def post_message(
    conversation_id: ConversationId, body: MessageCreate, db: SessionDep, rasa: RasaDep,
    limiter: LimiterDep, client: ClientKeyDep, clock: ClockDep, events: EventsDep, waiting: WaitingLineDep,
    observer: TurnObserverDep,
) -> MessagesOut:
    await limiter.check_client(client)
    conversation = await run_in_threadpool(
        service.load_conversation, db=db, conversation_id=conversation_id
    )
    await limiter.check_conversation(conversation.id)
    turn = await dialogue.answer_message(
        db=db, rasa=rasa, waiting=waiting, conversation=conversation, text=body.text,
        payload=body.payload, clock=clock, observer=observer,
    )
    # Live streams (the citizen's other tabs, the staff member's case view) read
    # what is new; the queue view too when a handover is involved.
    handover_involved = conversation.state != "bot" or turn.state != "bot"
    events.notify(
        conversation_channel(conversation.id), *((QUEUE_CHANNEL,) if handover_involved else ())
    )
    queue = None
    if turn.state == "queued":
        queue = await run_in_threadpool(waiting.place, db=db, conversation_id=conversation.id, now=clock())
    return MessagesOut(
        state=turn.state,  # type: ignore[arg-type]
        messages=[MessageOut.of(m) for m in turn.replies],
        queue=queue,
    )


@router.get(
    "/{conversation_id}/messages",
    response_model=MessagesOut,
    summary="Hämta meddelanden",
    description=(
        "Every message after `after` (all when omitted), the citizen's own included, "
        "as stored (masked). For clients that poll."
    ),
    responses=_errors(404, 422, 429),
    dependencies=[ReadLimit],
)
def list_messages(
    conversation_id: ConversationId, db: SessionDep, clock: ClockDep, waiting: WaitingLineDep,
    after: Annotated[int | None, Query(ge=0, le=MAX_MESSAGE_ID, description="Ett meddelande-id.")] = None,
) -> MessagesOut:
    state, messages = service.list_messages(db=db, conversation_id=conversation_id, after=after)
    return MessagesOut(
        state=state,  # type: ignore[arg-type]
        messages=[MessageOut.of(m) for m in messages],
        queue=_queue(waiting, db, conversation_id, state, clock),
    )


def _queue(waiting: WaitingLine, db: Any, conversation_id: str, state: str, clock: Any) -> Any:
    if state != "queued":
        return None
    return waiting.place(db=db, conversation_id=conversation_id, now=clock())


@router.get(
    "/{conversation_id}",
    response_model=ConversationOut,
    summary="Hämta en konversation",
    description="Extension: the conversation's state and all its messages.",
    responses=_errors(404, 429),
    dependencies=[ReadLimit],
)
def get_conversation(conversation_id: ConversationId, db: SessionDep, clock: ClockDep,
                     waiting: WaitingLineDep) -> ConversationOut:
    state, messages = service.list_messages(db=db, conversation_id=conversation_id)
    return ConversationOut(
        conversation_id=conversation_id,
        state=state,  # type: ignore[arg-type]
        messages=[MessageOut.of(m) for m in messages],
        queue=_queue(waiting, db, conversation_id, state, clock),
    )
