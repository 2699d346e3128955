"""The citizen's handover routes under /api/v1/conversations: the live stream
(Server-Sent Events) and "stop waiting"."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from mjolby import texts as api_texts
from mjolby.conversations.models import MAX_MESSAGE_ID
from mjolby.conversations.schemas import ErrorOut, MessageOut, MessagesOut
from mjolby.conversations.service import ConversationNotFound
from mjolby.deps import (
    ClientKeyDep,
    ClockDep,
    EventsDep,
    LimiterDep,
    SessionDep,
    SessionFactoryDep,
    StreamSlotsDep,
)
from mjolby.errors import RateLimited
from mjolby.handover import live, service, sse
from mjolby.ratelimit import TooManyStreams

router = APIRouter(prefix="/conversations", tags=["conversations"])

# A client over its cap of open streams tries again after this long.
STREAM_RETRY_SECONDS = 10


@router.get(
    "/{conversation_id}/events",
    summary="Levande meddelanden (Server-Sent Events)",
    description=(
        "Extension. A Server-Sent Events stream: each event's `data` is a Message (as in the "
        "contract, plus `agent_name` on staff replies) with `id` = the message id, or "
        '`{"state": ..., "queue"?: {...}}` when the state or the place in the queue changes. '
        "Reconnect with `Last-Event-ID` (or `?after=`) = the last message id you have; "
        "without either, only new messages are sent. Works across API restarts and processes."
    ),
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
        404: {"model": ErrorOut, "description": "Okänd konversation"},
        422: {"model": ErrorOut, "description": "`after` eller `Last-Event-ID` är inget giltigt meddelande-id"},
        429: {"model": ErrorOut, "description": "För många förfrågningar, eller för många öppna strömmar "
                                                "för klienten eller konversationen; se Retry-After"},
    },
)
async def conversation_stream(
    request: Request, conversation_id: str, limiter: LimiterDep, client: ClientKeyDep, events: EventsDep,
    factory: SessionFactoryDep, clock: ClockDep, slots: StreamSlotsDep,
    after: Annotated[int | None, Query(ge=0, le=MAX_MESSAGE_ID,
                                       description="Skicka meddelanden efter detta id.")] = None,
    last_event_id: Annotated[str | None, Header(
        alias="Last-Event-ID",
        description="Det senaste meddelande-id du har; annat än ett id ignoreras. Större än 2^63-1 ger 422.",
    )] = None,
) -> StreamingResponse:
    sse.start_after(last_event_id, after)  # a bad id is a 422 even for an unknown conversation
    await limiter.check_client_read(client, api_texts.ERROR_TOO_MANY_READS)
    if not await sse.read(factory, live.conversation_exists, conversation_id=conversation_id):
        raise ConversationNotFound(conversation_id)
    start = await sse.initial_after(factory, conversation_id, last_event_id, after)
    try:
        held = slots.acquire(client=client, conversation=conversation_id)
    except TooManyStreams:
        raise RateLimited(retry_after=STREAM_RETRY_SECONDS, detail=api_texts.ERROR_TOO_MANY_STREAMS) from None
    stream = sse.conversation_events(request, hub=events, factory=factory, clock=clock,
                                     conversation_id=conversation_id, after=start)
    return StreamingResponse(sse.holding(slots, held, stream), media_type="text/event-stream",
                             headers=sse.SSE_HEADERS)


@router.post(
    "/{conversation_id}/handover/cancel", response_model=MessagesOut,
    summary="Sluta vänta på Medborgarservice",
    description="Extension. Cancels a waiting handover; the bot answers again. Same as sending "
                "the payload `/cancel_handover`.",
    responses={404: {"model": ErrorOut, "description": "Okänd konversation"},
               429: {"model": ErrorOut, "description": "För många förfrågningar; se Retry-After"}},
)
async def cancel_waiting(conversation_id: str, db: SessionDep, clock: ClockDep, events: EventsDep,
                         limiter: LimiterDep, client: ClientKeyDep) -> MessagesOut:
    await limiter.check_client(client)
    await limiter.check_conversation(conversation_id)
    state, messages, changed = await run_in_threadpool(service.cancel_waiting, db=db,
                                                       conversation_id=conversation_id, now=clock())
    events.notify(*changed.channels)
    return MessagesOut(state=state, messages=[MessageOut.of(m) for m in messages])  # type: ignore[arg-type]
