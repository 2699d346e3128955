"""The staff JSON API of the handover under /api/v1/staff: queue, cases, contact
requests, mailboxes and chat availability (the console's pages use the same
service functions)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mjolby.conversations.models import MAX_MESSAGE_ID
from mjolby.deps import (
    AdminDep,
    AgentDep,
    AgentWatchingDep,
    ClockDep,
    EventsDep,
    HoursDep,
    SessionDep,
    SessionFactoryDep,
)
from mjolby.handover import live, service, sse
from mjolby.handover.schemas import (
    AvailabilityOut,
    CaseDetailOut,
    CaseOut,
    ChatModeIn,
    CloseIn,
    ContactCloseIn,
    ContactRequestOut,
    ForwardIn,
    ForwardOut,
    MailboxOut,
    MessageSent,
    NoteOut,
    QueueEntryOut,
    QueueOut,
    TextIn,
    transcript,
)
from mjolby.hours import ServiceHours

router = APIRouter(prefix="/staff", tags=["personal: ärenden"])
# Listed with sign-in and administration in the API document: admins set it.
availability_router = APIRouter(prefix="/staff", tags=["personal: inloggning och administration"])
CaseId = Annotated[int, Path(description="Ärendets id.")]


def _entry(entry: service.QueueEntry) -> QueueEntryOut:
    return QueueEntryOut(case=CaseOut.of(entry.case), first_message=entry.first_message,
                         waiting_seconds=entry.waiting_seconds)


def _queue(*, db: Session, hours: ServiceHours, now: datetime) -> QueueOut:
    waiting, active = service.list_queue(db=db, now=now)
    status_now = service.service_status(db=db, hours=hours, now=now)
    return QueueOut(waiting=[_entry(e) for e in waiting], active=[_entry(e) for e in active],
                    staff_online=status_now.staff_online, chat_available=status_now.chat_available)


@router.get("/queue", response_model=QueueOut, summary="Kön: väntande och pågående ärenden")
async def get_queue(staff: AgentDep, db: SessionDep, hours: HoursDep, clock: ClockDep) -> QueueOut:
    return await run_in_threadpool(_queue, db=db, hours=hours, now=clock())


@router.get(
    "/queue/events", summary="Kön live (Server-Sent Events)", response_class=StreamingResponse,
    description='Each event: `{"waiting": [case ids], "active": [case ids], "new": [ids that just '
                'arrived]}`, sent whenever the queue or its conversations change. Keeps the signed-in '
                "staff member counted as online while connected. When the session ends (signed out, expired, "
                'idle, account changed) the stream sends `{"signed_out": true}` and closes.',
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def queue_stream(request: Request, staff: AgentWatchingDep, events: EventsDep, factory: SessionFactoryDep,
                       clock: ClockDep) -> StreamingResponse:
    stream = sse.queue_events(request, hub=events, factory=factory, clock=clock, staff=staff)
    return StreamingResponse(stream, media_type="text/event-stream", headers=sse.SSE_HEADERS)


@router.get("/cases/{case_id}", response_model=CaseDetailOut,
            summary="Ett ärende med maskerad logg, anteckningar och vidarebefordringar",
            description="Opening a case is recorded in the audit log.")
async def get_case(case_id: CaseId, staff: AgentDep, db: SessionDep, clock: ClockDep) -> CaseDetailOut:
    view = await run_in_threadpool(service.open_case, db=db, case_id=case_id, staff=staff, now=clock())
    return CaseDetailOut(
        case=CaseOut.of(view.case), conversation_state=view.conversation_state,
        claimed_by_email=view.claimed_by_email, transcript=transcript(view),
        notes=[NoteOut.of(n) for n in view.notes], forwards=[ForwardOut.of(f) for f in view.forwards],
    )


@router.get(
    "/cases/{case_id}/events", summary="Ärendets samtal live (Server-Sent Events)",
    response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}},
    description="Like the citizen's stream, plus `case_status` in the state events. When the session "
                'ends the stream sends `{"signed_out": true}` and closes.',
)
async def case_stream(request: Request, case_id: CaseId, staff: AgentWatchingDep, events: EventsDep,
                      factory: SessionFactoryDep, clock: ClockDep,
                      last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                      after: Annotated[int | None, Query(ge=0, le=MAX_MESSAGE_ID)] = None) -> StreamingResponse:
    sse.start_after(last_event_id, after)
    conversation_id = await sse.read(factory, live.conversation_of_case, case_id=case_id)
    start = await sse.initial_after(factory, conversation_id, last_event_id, after)
    stream = sse.conversation_events(request, hub=events, factory=factory, clock=clock,
                                     conversation_id=conversation_id, after=start, case_id=case_id, staff=staff)
    return StreamingResponse(stream, media_type="text/event-stream", headers=sse.SSE_HEADERS)


@router.post("/cases/{case_id}/claim", response_model=CaseOut, summary="Ta ärendet",
             responses={409: {"description": "Någon annan har redan tagit det (already_claimed)"}})
async def claim_case(case_id: CaseId, staff: AgentDep, db: SessionDep, clock: ClockDep,
                     events: EventsDep) -> CaseOut:
    case, changed = await run_in_threadpool(service.claim, db=db, case_id=case_id, staff=staff, now=clock())
    events.notify(*changed.channels)
    return CaseOut.of(case)


@router.post("/cases/{case_id}/messages", response_model=MessageSent,
             summary="Svara medborgaren", status_code=status.HTTP_201_CREATED)
async def send_reply(case_id: CaseId, body: TextIn, staff: AgentDep, db: SessionDep, clock: ClockDep,
                     events: EventsDep) -> MessageSent:
    message, changed = await run_in_threadpool(service.reply, db=db, case_id=case_id, staff=staff,
                                               text=body.text, now=clock())
    events.notify(*changed.channels)
    return MessageSent(id=str(message.id), text=message.text, agent_name=getattr(message, "agent_name", None),
                       created_at=message.created_at)


@router.post("/cases/{case_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED,
             summary="Privat anteckning (syns aldrig för medborgaren)")
async def add_note(case_id: CaseId, body: TextIn, staff: AgentDep, db: SessionDep, clock: ClockDep) -> NoteOut:
    note = await run_in_threadpool(service.add_note, db=db, case_id=case_id, staff=staff, text=body.text,
                                   now=clock())
    return NoteOut.of(note)


@router.post("/cases/{case_id}/forward", response_model=ForwardOut, status_code=status.HTTP_201_CREATED,
             summary="Vidarebefordra till en funktionsbrevlåda (registreras, inget mejl skickas)")
async def forward_case(case_id: CaseId, body: ForwardIn, staff: AgentDep, db: SessionDep,
                       clock: ClockDep) -> ForwardOut:
    record = await run_in_threadpool(service.forward, db=db, case_id=case_id, staff=staff, mailbox=body.mailbox,
                                     comment=body.comment, now=clock())
    return ForwardOut.of(record)


@router.post("/cases/{case_id}/return", response_model=CaseOut, summary="Lämna tillbaka till boten")
async def return_case(case_id: CaseId, staff: AgentDep, db: SessionDep, clock: ClockDep,
                      events: EventsDep) -> CaseOut:
    case, changed = await run_in_threadpool(service.return_to_bot, db=db, case_id=case_id, staff=staff,
                                            now=clock())
    events.notify(*changed.channels)
    return CaseOut.of(case)


@router.post("/cases/{case_id}/close", response_model=CaseOut,
             summary="Avsluta med utfall; boten ber om ett betyg 1–5")
async def close_case(case_id: CaseId, body: CloseIn, staff: AgentDep, db: SessionDep, clock: ClockDep,
                     events: EventsDep) -> CaseOut:
    case, changed = await run_in_threadpool(service.close, db=db, case_id=case_id, staff=staff,
                                            outcome=body.outcome, now=clock())
    events.notify(*changed.channels)
    return CaseOut.of(case)


@router.get("/mailboxes", response_model=list[MailboxOut], summary="Funktionsbrevlådor")
async def list_mailboxes(staff: AgentDep) -> list[MailboxOut]:
    return [MailboxOut(address=a, label=label) for a, label in service.mailboxes()]


@router.get("/contact-requests", response_model=list[ContactRequestOut], summary="Kontaktförfrågningar")
async def list_contact_requests(
    staff: AgentDep, db: SessionDep,
    state: Annotated[str | None, Query(alias="status", pattern="^(open|closed)$")] = None,
) -> list[ContactRequestOut]:
    rows = await run_in_threadpool(service.list_contact_requests, db=db, status=state)
    return [ContactRequestOut.of(r) for r in rows]


@router.post("/contact-requests/{request_id}/close", response_model=ContactRequestOut,
             summary="Markera kontaktförfrågan som hanterad (vem och när sparas)")
async def close_contact_request(request_id: int, body: ContactCloseIn, staff: AgentDep, db: SessionDep,
                                clock: ClockDep) -> ContactRequestOut:
    row = await run_in_threadpool(service.close_contact_request, db=db, request_id=request_id, staff=staff,
                                  note=body.note, now=clock())
    return ContactRequestOut.of(row)


# -- availability (admins open or close the chat) ------------------------------------
def _availability(*, db: Session, hours: ServiceHours, now: datetime) -> AvailabilityOut:
    result = service.service_status(db=db, hours=hours, now=now)
    return AvailabilityOut(chat_mode=result.chat_mode, chat_available=result.chat_available,  # type: ignore[arg-type]
                           open_now=result.open_now, staff_online=result.staff_online)


@availability_router.get("/availability", response_model=AvailabilityOut,
                         summary="Kan medborgare chatta med oss nu?")
async def get_availability(staff: AgentDep, db: SessionDep, hours: HoursDep, clock: ClockDep) -> AvailabilityOut:
    return await run_in_threadpool(_availability, db=db, hours=hours, now=clock())


@availability_router.put("/availability", response_model=AvailabilityOut,
                         summary="Styr chatten: följ öppettiderna, öppna eller stäng nu")
async def set_availability(body: ChatModeIn, staff: AdminDep, db: SessionDep, hours: HoursDep,
                           clock: ClockDep, events: EventsDep) -> AvailabilityOut:
    changed = await run_in_threadpool(service.set_chat_mode, db=db, mode=body.mode, staff=staff, now=clock())
    events.notify(*changed.channels)
    return await run_in_threadpool(_availability, db=db, hours=hours, now=clock())
