"""Routes of the handover.

- /api/v1/internal/...: for the bot's actions only (Bearer INTERNAL_API_TOKEN):
  service status (hours, staff online, queue), create a case, store a
  contact request, store a rating.
- /api/v1/conversations/{id}/events: the citizen's live stream (SSE), and
  /api/v1/conversations/{id}/handover/cancel to stop waiting.
- /api/v1/staff/queue, /cases/..., /contact-requests/...: the staff JSON API
  (the console's pages use the same service functions).
"""
from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mjolby.conversations.models import Conversation, Message
from mjolby.conversations.schemas import MessageOut, MessagesOut
from mjolby.conversations.service import ConversationNotFound
from mjolby.deps import ClockDep, SessionDep, SettingsDep
from mjolby.handover import service, texts
from mjolby.handover.errors import ApiError
from mjolby.handover.models import HandoverCase
from mjolby.handover.events import QUEUE_CHANNEL, SAFETY_POLL_SECONDS, EventHub, conversation_channel
from mjolby.handover.schemas import (
    CaseCreate,
    CaseCreated,
    CaseDetailOut,
    CaseOut,
    CloseIn,
    ContactCloseIn,
    ContactRequestCreate,
    ContactRequestCreated,
    ContactRequestOut,
    ForwardIn,
    ForwardOut,
    MailboxOut,
    MessageSent,
    NoteOut,
    Queue,
    QueueEntryOut,
    QueueOut,
    RatingIn,
    RatingOut,
    ServiceStatusOut,
    TextIn,
    TranscriptMessage,
)
from mjolby.hours import ServiceHours, load_schedule
from mjolby.staff import service as staff_service
from mjolby.staff.auth import AgentDep
from mjolby.staff.service import PRESENCE_TOUCH_SECONDS, StaffContext

logger = logging.getLogger(__name__)

internal_router = APIRouter(prefix="/internal", tags=["internt (botens åtgärder)"])
public_router = APIRouter(prefix="/conversations", tags=["conversations"])
staff_cases_router = APIRouter(prefix="/staff", tags=["personal: ärenden"])

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
CaseId = Annotated[int, Path(description="Ärendets id.")]


def get_hours(request: Request) -> ServiceHours:
    hours = getattr(request.app.state, "hours", None)
    if hours is None:
        hours = ServiceHours(load_schedule(), clock=request.app.state.clock)
        request.app.state.hours = hours
    return hours


def get_events(request: Request) -> EventHub:
    hub = getattr(request.app.state, "events", None)
    if hub is None:  # an app without the lifespan hook: in-process only
        hub = EventHub()
        request.app.state.events = hub
    return hub


HoursDep = Annotated[ServiceHours, Depends(get_hours)]
EventsDep = Annotated[EventHub, Depends(get_events)]


def require_internal_token(
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(description="Bearer <INTERNAL_API_TOKEN>")] = None,
) -> None:
    expected = settings.internal_api_token.get_secret_value() if settings.internal_api_token else ""
    scheme, _, token = (authorization or "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        raise ApiError(401, texts.BAD_TOKEN, "bad_internal_token", headers={"WWW-Authenticate": "Bearer"})


InternalDep = Depends(require_internal_token)


async def _in_thread(func: Callable[..., Any], /, **kwargs: Any) -> Any:
    return await run_in_threadpool(func, **kwargs)


# -- internal -----------------------------------------------------------------
@internal_router.get("/service-status", response_model=ServiceStatusOut, dependencies=[InternalDep],
                     summary="Öppettider, inloggad personal och kö just nu")
async def get_service_status(db: SessionDep, hours: HoursDep, clock: ClockDep) -> ServiceStatusOut:
    result = await _in_thread(service.service_status, db=db, hours=hours, now=clock())
    return ServiceStatusOut(**result.__dict__)


@internal_router.post("/handover/cases", response_model=CaseCreated, status_code=status.HTTP_201_CREATED,
                      dependencies=[InternalDep], summary="Ställ konversationen i kö till Medborgarservice",
                      responses={409: {"description": "Ingen kan chatta just nu (code: unavailable)"}})
async def create_case(body: CaseCreate, db: SessionDep, hours: HoursDep, clock: ClockDep,
                      events: EventsDep) -> CaseCreated:
    case, info, changed = await _in_thread(service.create_case, db=db, conversation_id=body.conversation_id,
                                           reason=body.reason, topic=body.topic, hours=hours, now=clock())
    events.notify(*changed.channels)
    queued = case.status == "queued"
    return CaseCreated(case_id=case.id, state="queued" if queued else "agent",
                       queue=Queue(**info.as_dict()) if queued else None)


@internal_router.post("/contact-requests", response_model=ContactRequestCreated,
                      status_code=status.HTTP_201_CREATED, dependencies=[InternalDep],
                      summary="Spara en kontaktförfrågan (återuppringning eller säker kontakt)")
async def create_contact_request(body: ContactRequestCreate, db: SessionDep, clock: ClockDep,
                                 events: EventsDep) -> ContactRequestCreated:
    row = await _in_thread(service.create_contact_request, db=db, conversation_id=body.conversation_id,
                           name=body.name, phone=body.phone, email=body.email, reason=body.reason,
                           topic=body.topic, message=body.message, now=clock())
    events.notify(QUEUE_CHANNEL)
    return ContactRequestCreated(id=row.id, status=row.status)  # type: ignore[arg-type]


@internal_router.post("/conversations/{conversation_id}/rating", response_model=RatingOut,
                      dependencies=[InternalDep], summary="Spara medborgarens betyg (1–5) på ärendet")
async def rate_case(conversation_id: str, body: RatingIn, db: SessionDep, clock: ClockDep) -> RatingOut:
    case = await _in_thread(service.rate, db=db, conversation_id=conversation_id, rating=body.rating,
                            now=clock())
    return RatingOut(case_id=case.id, rating=case.rating or body.rating)


# -- live streams -----------------------------------------------------------------
def message_json(message: Message) -> dict[str, Any]:
    return MessageOut.of(message).model_dump(mode="json")


def _sse(data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def _start_after(last_event_id: str | None, after: int | None) -> int | None:
    if last_event_id and last_event_id.strip().isdigit():
        return int(last_event_id.strip())
    return after


def _read_conversation(session_factory: Callable[[], Session], conversation_id: str, after: int | None,
                       now: datetime, case_id: int | None) -> tuple[str | None, list[Message], dict | None, str | None]:
    with session_factory() as db:
        state, messages = service.messages_after(db=db, conversation_id=conversation_id, after=after)
        queue = None
        if state == "queued":
            info = service.queue_info(db=db, conversation_id=conversation_id, now=now)
            queue = info.as_dict() if info else None
        case_status = None
        if case_id is not None:
            case = db.get(HandoverCase, case_id)
            case_status = case.status if case else None
        db.commit()
        return state, messages, queue, case_status


async def conversation_events(request: Request, conversation_id: str, after: int | None,
                              case_id: int | None = None,
                              staff: StaffContext | None = None) -> AsyncIterator[str]:
    """Every message after `after` as it is stored, then {"state": ...} whenever it changes."""
    hub = get_events(request)
    factory = request.app.state.database.session_factory
    clock = request.app.state.clock
    last_sent: tuple[Any, ...] | None = None
    last_touch = clock()
    yield "retry: 2000\n\n"
    async with hub.subscribe(conversation_channel(conversation_id)) as wake:
        while True:
            state, messages, queue, case_status = await run_in_threadpool(
                _read_conversation, factory, conversation_id, after, clock(), case_id)
            # Only a waiting conversation cares about the queue moving (its place and wait).
            if state == "queued":
                hub.watch(wake, QUEUE_CHANNEL)
            else:
                hub.unwatch(wake, QUEUE_CHANNEL)
            for message in messages:
                yield _sse(message_json(message), message.id)
                after = message.id
            current = (state, json.dumps(queue, sort_keys=True), case_status)
            if current != last_sent:
                payload: dict[str, Any] = {"state": state}
                if queue is not None:
                    payload["queue"] = queue
                if case_id is not None:
                    payload["case_status"] = case_status
                yield _sse(payload)
                last_sent = current
            if staff is not None and (clock() - last_touch).total_seconds() >= PRESENCE_TOUCH_SECONDS:
                last_touch = clock()
                await run_in_threadpool(_touch, factory, staff.token_hash, last_touch)
            if await request.is_disconnected():
                return
            if not await wake.wait(SAFETY_POLL_SECONDS):
                yield ": ping\n\n"


def _touch(factory: Callable[[], Session], hashed: str, now: datetime) -> None:
    with factory() as db:
        staff_service.touch_session(db=db, hashed=hashed, now=now)


def _initial_after(request: Request, conversation_id: str, last_event_id: str | None,
                   after: int | None) -> int | None:
    start = _start_after(last_event_id, after)
    if start is not None:
        return start
    with request.app.state.database.session_factory() as db:
        return service.last_message_id(db=db, conversation_id=conversation_id)


@public_router.get(
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
    responses={200: {"content": {"text/event-stream": {}}}, 404: {"description": "Okänd konversation"}},
)
async def conversation_stream(
    request: Request, conversation_id: str,
    after: Annotated[int | None, Query(ge=0, description="Skicka meddelanden efter detta id.")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    if not await run_in_threadpool(_exists, request, conversation_id):
        raise ConversationNotFound(conversation_id)
    start = await run_in_threadpool(_initial_after, request, conversation_id, last_event_id, after)
    return StreamingResponse(conversation_events(request, conversation_id, start),
                             media_type="text/event-stream", headers=SSE_HEADERS)


def _exists(request: Request, conversation_id: str) -> bool:
    with request.app.state.database.session_factory() as db:
        found = db.get(Conversation, conversation_id) is not None
        db.commit()
        return found


@public_router.post(
    "/{conversation_id}/handover/cancel", response_model=MessagesOut,
    summary="Sluta vänta på Medborgarservice",
    description="Extension. Cancels a waiting handover; the bot answers again. Same as sending "
                "the payload `/cancel_handover`.",
)
async def cancel_waiting(conversation_id: str, db: SessionDep, clock: ClockDep, events: EventsDep) -> MessagesOut:
    state, messages, changed = await _in_thread(service.cancel_waiting, db=db, conversation_id=conversation_id,
                                                now=clock())
    events.notify(*changed.channels)
    return MessagesOut(state=state, messages=[MessageOut.of(m) for m in messages])  # type: ignore[arg-type]


# -- staff: queue and cases ---------------------------------------------------------
def _entry(entry: service.QueueEntry) -> QueueEntryOut:
    return QueueEntryOut(case=CaseOut.of(entry.case), first_message=entry.first_message,
                         waiting_seconds=entry.waiting_seconds)


def _queue(db: Session, hours: ServiceHours, now: datetime) -> QueueOut:
    waiting, active = service.list_queue(db=db, now=now)
    status_now = service.service_status(db=db, hours=hours, now=now)
    return QueueOut(waiting=[_entry(e) for e in waiting], active=[_entry(e) for e in active],
                    staff_online=status_now.staff_online, chat_available=status_now.chat_available)


@staff_cases_router.get("/queue", response_model=QueueOut, summary="Kön: väntande och pågående ärenden")
async def get_queue(staff: AgentDep, db: SessionDep, hours: HoursDep, clock: ClockDep) -> QueueOut:
    return await _in_thread(_queue, db=db, hours=hours, now=clock())


async def queue_events(request: Request, staff: StaffContext) -> AsyncIterator[str]:
    hub = get_events(request)
    factory = request.app.state.database.session_factory
    clock = request.app.state.clock
    previous: tuple[Any, ...] | None = None
    last_touch = clock()
    yield "retry: 2000\n\n"
    async with hub.subscribe(QUEUE_CHANNEL) as wake:
        while True:
            snapshot = await run_in_threadpool(_snapshot, factory)
            if snapshot != previous:
                waiting, active, _ = snapshot
                new = [i for i in waiting if previous is not None and i not in previous[0]]
                yield _sse({"waiting": list(waiting), "active": list(active), "new": new})
                previous = snapshot
            if (clock() - last_touch).total_seconds() >= PRESENCE_TOUCH_SECONDS:
                last_touch = clock()
                await run_in_threadpool(_touch, factory, staff.token_hash, last_touch)
            if await request.is_disconnected():
                return
            if not await wake.wait(SAFETY_POLL_SECONDS):
                yield ": ping\n\n"


def _snapshot(factory: Callable[[], Session]) -> tuple[Any, ...]:
    with factory() as db:
        return service.queue_snapshot(db=db)


@staff_cases_router.get(
    "/queue/events", summary="Kön live (Server-Sent Events)", response_class=StreamingResponse,
    description='Each event: `{"waiting": [case ids], "active": [case ids], "new": [ids that just '
                'arrived]}`, sent whenever the queue or its conversations change. Keeps the signed-in '
                "staff member counted as online while connected.",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def queue_stream(request: Request, staff: AgentDep) -> StreamingResponse:
    return StreamingResponse(queue_events(request, staff), media_type="text/event-stream", headers=SSE_HEADERS)


def transcript(view: service.CaseView) -> list[TranscriptMessage]:
    return [
        TranscriptMessage(
            id=str(m.id), sender=m.sender, text=m.text, topic=m.topic,  # type: ignore[arg-type]
            agent_name=getattr(m, "agent_name", None), created_at=m.created_at,
            before_handover=m.created_at <= view.case.created_at,
        )
        for m in view.messages
    ]


@staff_cases_router.get("/cases/{case_id}", response_model=CaseDetailOut,
                        summary="Ett ärende med maskerad logg, anteckningar och vidarebefordringar",
                        description="Opening a case is recorded in the audit log.")
async def get_case(case_id: CaseId, staff: AgentDep, db: SessionDep, clock: ClockDep) -> CaseDetailOut:
    view = await _in_thread(service.open_case, db=db, case_id=case_id, staff=staff, now=clock())
    return CaseDetailOut(
        case=CaseOut.of(view.case), conversation_state=view.conversation_state,
        claimed_by_email=view.claimed_by_email, transcript=transcript(view),
        notes=[NoteOut.of(n) for n in view.notes], forwards=[ForwardOut.of(f) for f in view.forwards],
    )


@staff_cases_router.get(
    "/cases/{case_id}/events", summary="Ärendets samtal live (Server-Sent Events)",
    response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}},
    description="Like the citizen's stream, plus `case_status` in the state events.",
)
async def case_stream(request: Request, case_id: CaseId, staff: AgentDep,
                      last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                      after: Annotated[int | None, Query(ge=0)] = None) -> StreamingResponse:
    conversation_id = await run_in_threadpool(_conversation_of_case, request, case_id)
    start = await run_in_threadpool(_initial_after, request, conversation_id, last_event_id, after)
    return StreamingResponse(conversation_events(request, conversation_id, start, case_id=case_id, staff=staff),
                             media_type="text/event-stream", headers=SSE_HEADERS)


def _conversation_of_case(request: Request, case_id: int) -> str:
    with request.app.state.database.session_factory() as db:
        case = db.get(HandoverCase, case_id)
        db.commit()
    if case is None or case.conversation_id is None:
        raise ApiError(404, texts.CASE_NOT_FOUND, "case_not_found")
    return case.conversation_id


@staff_cases_router.post("/cases/{case_id}/claim", response_model=CaseOut, summary="Ta ärendet",
                         responses={409: {"description": "Någon annan har redan tagit det (already_claimed)"}})
async def claim_case(case_id: CaseId, staff: AgentDep, db: SessionDep, clock: ClockDep,
                     events: EventsDep) -> CaseOut:
    case, changed = await _in_thread(service.claim, db=db, case_id=case_id, staff=staff, now=clock())
    events.notify(*changed.channels)
    return CaseOut.of(case)


@staff_cases_router.post("/cases/{case_id}/messages", response_model=MessageSent,
                         summary="Svara medborgaren", status_code=status.HTTP_201_CREATED)
async def send_reply(case_id: CaseId, body: TextIn, staff: AgentDep, db: SessionDep, clock: ClockDep,
                     events: EventsDep) -> MessageSent:
    message, changed = await _in_thread(service.reply, db=db, case_id=case_id, staff=staff, text=body.text,
                                        now=clock())
    events.notify(*changed.channels)
    return MessageSent(id=str(message.id), text=message.text, agent_name=getattr(message, "agent_name", None),
                       created_at=message.created_at)


@staff_cases_router.post("/cases/{case_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED,
                         summary="Privat anteckning (syns aldrig för medborgaren)")
async def add_note(case_id: CaseId, body: TextIn, staff: AgentDep, db: SessionDep, clock: ClockDep) -> NoteOut:
    note = await _in_thread(service.add_note, db=db, case_id=case_id, staff=staff, text=body.text, now=clock())
    return NoteOut.of(note)


@staff_cases_router.post("/cases/{case_id}/forward", response_model=ForwardOut,
                         status_code=status.HTTP_201_CREATED,
                         summary="Vidarebefordra till en funktionsbrevlåda (registreras, inget mejl skickas)")
async def forward_case(case_id: CaseId, body: ForwardIn, staff: AgentDep, db: SessionDep,
                       clock: ClockDep) -> ForwardOut:
    record = await _in_thread(service.forward, db=db, case_id=case_id, staff=staff, mailbox=body.mailbox,
                              comment=body.comment, now=clock())
    return ForwardOut.of(record)


@staff_cases_router.post("/cases/{case_id}/return", response_model=CaseOut, summary="Lämna tillbaka till boten")
async def return_case(case_id: CaseId, staff: AgentDep, db: SessionDep, clock: ClockDep,
                      events: EventsDep) -> CaseOut:
    case, changed = await _in_thread(service.return_to_bot, db=db, case_id=case_id, staff=staff, now=clock())
    events.notify(*changed.channels)
    return CaseOut.of(case)


@staff_cases_router.post("/cases/{case_id}/close", response_model=CaseOut,
                         summary="Avsluta med utfall; boten ber om ett betyg 1–5")
async def close_case(case_id: CaseId, body: CloseIn, staff: AgentDep, db: SessionDep, clock: ClockDep,
                     events: EventsDep) -> CaseOut:
    case, changed = await _in_thread(service.close, db=db, case_id=case_id, staff=staff, outcome=body.outcome,
                                     now=clock())
    events.notify(*changed.channels)
    return CaseOut.of(case)


@staff_cases_router.get("/mailboxes", response_model=list[MailboxOut], summary="Funktionsbrevlådor")
async def list_mailboxes(staff: AgentDep) -> list[MailboxOut]:
    return [MailboxOut(address=a, label=label) for a, label in service.mailboxes()]


@staff_cases_router.get("/contact-requests", response_model=list[ContactRequestOut],
                        summary="Kontaktförfrågningar")
async def list_contact_requests(
    staff: AgentDep, db: SessionDep,
    state: Annotated[str | None, Query(alias="status", pattern="^(open|closed)$")] = None,
) -> list[ContactRequestOut]:
    rows = await _in_thread(service.list_contact_requests, db=db, status=state)
    return [ContactRequestOut.of(r) for r in rows]


@staff_cases_router.post("/contact-requests/{request_id}/close", response_model=ContactRequestOut,
                         summary="Markera kontaktförfrågan som hanterad (vem och när sparas)")
async def close_contact_request(request_id: int, body: ContactCloseIn, staff: AgentDep, db: SessionDep,
                                clock: ClockDep) -> ContactRequestOut:
    row = await _in_thread(service.close_contact_request, db=db, request_id=request_id, staff=staff,
                           note=body.note, now=clock())
    return ContactRequestOut.of(row)

