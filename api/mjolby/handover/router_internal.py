"""/api/v1/internal/...: for the bot's actions only (Bearer INTERNAL_API_TOKEN).

Service status (hours, staff online, queue), create a case, store a contact
request, store a rating.
"""
from __future__ import annotations

from fastapi import APIRouter, status
from starlette.concurrency import run_in_threadpool

from mjolby.deps import ClockDep, EventsDep, HoursDep, InternalDep, SessionDep
from mjolby.events import QUEUE_CHANNEL
from mjolby.handover import service
from mjolby.handover.schemas import (
    CaseCreate,
    CaseCreated,
    ContactRequestCreate,
    ContactRequestCreated,
    Queue,
    RatingIn,
    RatingOut,
    ServiceStatusOut,
)

router = APIRouter(prefix="/internal", tags=["internt (botens åtgärder)"])


@router.get("/service-status", response_model=ServiceStatusOut, dependencies=[InternalDep],
            summary="Öppettider, inloggad personal och kö just nu")
async def get_service_status(db: SessionDep, hours: HoursDep, clock: ClockDep) -> ServiceStatusOut:
    result = await run_in_threadpool(service.service_status, db=db, hours=hours, now=clock())
    return ServiceStatusOut(**result.__dict__)


@router.post("/handover/cases", response_model=CaseCreated, status_code=status.HTTP_201_CREATED,
             dependencies=[InternalDep], summary="Ställ konversationen i kö till Medborgarservice",
             responses={409: {"description": "Ingen kan chatta just nu (code: unavailable)"}})
async def create_case(body: CaseCreate, db: SessionDep, hours: HoursDep, clock: ClockDep,
                      events: EventsDep) -> CaseCreated:
    case, info, changed = await run_in_threadpool(
        service.create_case, db=db, conversation_id=body.conversation_id, reason=body.reason, topic=body.topic,
        hours=hours, now=clock())
    events.notify(*changed.channels)
    queued = case.status == "queued"
    return CaseCreated(case_id=case.id, state="queued" if queued else "agent",
                       queue=Queue(**info.as_dict()) if queued else None)


@router.post("/contact-requests", response_model=ContactRequestCreated,
             status_code=status.HTTP_201_CREATED, dependencies=[InternalDep],
             summary="Spara en kontaktförfrågan (återuppringning eller säker kontakt)")
async def create_contact_request(body: ContactRequestCreate, db: SessionDep, clock: ClockDep,
                                 events: EventsDep) -> ContactRequestCreated:
    row = await run_in_threadpool(
        service.create_contact_request, db=db, conversation_id=body.conversation_id, name=body.name,
        phone=body.phone, email=body.email, reason=body.reason, topic=body.topic, message=body.message,
        now=clock())
    events.notify(QUEUE_CHANNEL)
    return ContactRequestCreated(id=row.id, status=row.status)  # type: ignore[arg-type]


@router.post("/conversations/{conversation_id}/rating", response_model=RatingOut,
             dependencies=[InternalDep], summary="Spara medborgarens betyg (1–5) på ärendet")
async def rate_case(conversation_id: str, body: RatingIn, db: SessionDep, clock: ClockDep) -> RatingOut:
    case = await run_in_threadpool(service.rate, db=db, conversation_id=conversation_id, rating=body.rating,
                                   now=clock())
    return RatingOut(case_id=case.id, rating=case.rating or body.rating)
