"""The live streams (Server-Sent Events): a citizen's conversation, a case staff
watch, and the queue.

Each stream waits for a wake-up on its channels (mjolby.events), then reads
what is new through the handover's live service functions in a worker thread,
and every SAFETY_POLL_SECONDS even without one.
"""
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mjolby.conversations.models import MAX_MESSAGE_ID, Message
from mjolby.conversations.schemas import MessageOut
from mjolby.events import QUEUE_CHANNEL, SAFETY_POLL_SECONDS, SESSIONS_CHANNEL, EventHub, conversation_channel
from mjolby.handover import live
from mjolby.ratelimit import StreamSlots
from mjolby.staff.service import PRESENCE_TOUCH_SECONDS, StaffContext

SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
SessionFactory = Callable[[], Session]


def message_json(message: Message) -> dict[str, Any]:
    return MessageOut.of(message).model_dump(mode="json")


def _sse(data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def start_after(last_event_id: str | None, after: int | None) -> int | None:
    """Where a stream resumes: Last-Event-ID when it is a message id, else `after`.

    Checked before the stream starts: once the 200 is sent, an id the database
    cannot compare would break the response halfway.
    """
    value = (last_event_id or "").strip()
    if value.isascii() and value.isdigit():
        if len(value) > len(str(MAX_MESSAGE_ID)) or int(value) > MAX_MESSAGE_ID:
            raise RequestValidationError([{
                "type": "less_than_equal", "loc": ("header", "Last-Event-ID"),
                "msg": "Last-Event-ID is larger than any message id", "input": None,
            }])
        return int(value)
    return after


def _read(factory: SessionFactory, func: Callable[..., Any], /, **kwargs: Any) -> Any:
    with factory() as db:
        return func(db=db, **kwargs)


async def read(factory: SessionFactory, func: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Run a live service function in its own short session, in a worker thread."""
    return await run_in_threadpool(_read, factory, func, **kwargs)


async def initial_after(factory: SessionFactory, conversation_id: str, last_event_id: str | None,
                        after: int | None) -> int | None:
    """Where a new stream starts: the client's last id, or only what comes next."""
    start = start_after(last_event_id, after)
    if start is not None:
        return start
    return await read(factory, live.last_message_id, conversation_id=conversation_id)


class _Presence:
    """Checks a staff stream's session, and keeps the staff member counted as online."""

    def __init__(self, factory: SessionFactory, staff: StaffContext, clock: Callable[[], datetime]) -> None:
        self._factory, self._staff, self._clock = factory, staff, clock
        self._last_touch = clock()

    async def still_signed_in(self) -> bool:
        now = self._clock()
        touch = (now - self._last_touch).total_seconds() >= PRESENCE_TOUCH_SECONDS
        if touch:
            self._last_touch = now
        return await read(self._factory, live.staff_still_signed_in, hashed=self._staff.token_hash,
                          now=now, touch=touch)


async def conversation_events(request: Request, *, hub: EventHub, factory: SessionFactory,
                              clock: Callable[[], datetime], conversation_id: str, after: int | None,
                              case_id: int | None = None,
                              staff: StaffContext | None = None) -> AsyncIterator[str]:
    """Every message after `after` as it is stored, then {"state": ...} whenever it changes."""
    last_sent: tuple[Any, ...] | None = None
    presence = _Presence(factory, staff, clock) if staff is not None else None
    yield "retry: 2000\n\n"
    channels = (conversation_channel(conversation_id),) + ((SESSIONS_CHANNEL,) if staff is not None else ())
    async with hub.subscribe(*channels) as wake:
        while True:
            if presence is not None and not await presence.still_signed_in():
                yield _sse({"signed_out": True})
                return
            update: live.ConversationUpdate = await read(
                factory, live.conversation_update, conversation_id=conversation_id, after=after, now=clock(),
                case_id=case_id)
            # Only a waiting conversation cares about the queue moving (its place and wait).
            if update.state == "queued":
                hub.watch(wake, QUEUE_CHANNEL)
            else:
                hub.unwatch(wake, QUEUE_CHANNEL)
            for message in update.messages:
                yield _sse(message_json(message), message.id)
                after = message.id
            current = (update.state, json.dumps(update.queue, sort_keys=True), update.case_status)
            if current != last_sent:
                payload: dict[str, Any] = {"state": update.state}
                if update.queue is not None:
                    payload["queue"] = update.queue
                if case_id is not None:
                    payload["case_status"] = update.case_status
                yield _sse(payload)
                last_sent = current
            if await request.is_disconnected():
                return
            if not await wake.wait(SAFETY_POLL_SECONDS):
                yield ": ping\n\n"


async def queue_events(request: Request, *, hub: EventHub, factory: SessionFactory,
                       clock: Callable[[], datetime], staff: StaffContext) -> AsyncIterator[str]:
    """The waiting and active case ids whenever the queue or its conversations change."""
    previous: tuple[Any, ...] | None = None
    presence = _Presence(factory, staff, clock)
    yield "retry: 2000\n\n"
    async with hub.subscribe(QUEUE_CHANNEL, SESSIONS_CHANNEL) as wake:
        while True:
            if not await presence.still_signed_in():
                yield _sse({"signed_out": True})
                return
            snapshot = await read(factory, live.queue_snapshot)
            if snapshot != previous:
                waiting, active, _ = snapshot
                new = [i for i in waiting if previous is not None and i not in previous[0]]
                yield _sse({"waiting": list(waiting), "active": list(active), "new": new})
                previous = snapshot
            if await request.is_disconnected():
                return
            if not await wake.wait(SAFETY_POLL_SECONDS):
                yield ": ping\n\n"


async def holding(slots: StreamSlots, held: tuple[str, str], events: AsyncIterator[str]) -> AsyncIterator[str]:
    """The stream, keeping its slot until it ends (also when the client goes away)."""
    try:
        async for chunk in events:
            yield chunk
    finally:
        slots.release(held)
