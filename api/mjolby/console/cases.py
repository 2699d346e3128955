"""The queue and the case pages: take a case, answer, note, forward, hand back, close."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mjolby.console.pages import OUTCOME_LABELS, back, page
from mjolby.deps import (
    ClockDep,
    ConsoleAgentDep,
    ConsoleAgentWatchingDep,
    ConsoleStaffDep,
    EventsDep,
    HoursDep,
    SessionDep,
)
from mjolby.errors import Conflict, InvalidInput
from mjolby.events import EventHub
from mjolby.handover import service as handover
from mjolby.handover.changes import Changed
from mjolby.handover.schemas import transcript
from mjolby.hours import ServiceHours

router = APIRouter(prefix="/staff", include_in_schema=False)
FormText = Annotated[str, Form(max_length=2000)]


def _queue_context(*, db: Session, hours: ServiceHours, now: datetime) -> dict[str, Any]:
    waiting, active = handover.list_queue(db=db, now=now)
    status_now = handover.service_status(db=db, hours=hours, now=now)
    open_contacts = len(handover.list_contact_requests(db=db, status="open"))
    return {"waiting": waiting, "active": active, "availability": status_now, "open_contacts": open_contacts}


@router.get("/", response_class=HTMLResponse)
async def queue_page(request: Request, staff: ConsoleStaffDep, db: SessionDep, hours: HoursDep,
                     clock: ClockDep) -> Response:
    if not staff.can_handle_cases:
        if staff.can_see_insight:  # a team lead's start page (signing in lands here)
            return RedirectResponse("/staff/insikt", status_code=303)
        return page(request, "no_access.html", staff, status_code=403)
    context = await run_in_threadpool(_queue_context, db=db, hours=hours, now=clock())
    return page(request, "queue.html", staff, **context)


@router.get("/ko", response_class=HTMLResponse)
async def queue_fragment(request: Request, staff: ConsoleAgentWatchingDep, db: SessionDep, hours: HoursDep,
                         clock: ClockDep) -> HTMLResponse:
    context = await run_in_threadpool(_queue_context, db=db, hours=hours, now=clock())
    return page(request, "_queue_tables.html", staff, **context)


@router.post("/arenden/{case_id}/ta")
async def claim_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep,
                       events: EventsDep) -> Response:
    try:
        _, changed = await run_in_threadpool(handover.claim, db=db, case_id=case_id, staff=staff, now=clock())
    except Conflict as exc:
        if exc.code == "already_claimed":
            return back("/staff/", "already_claimed")
        raise
    events.notify(*changed.channels)
    return back(f"/staff/arenden/{case_id}", "claimed")


@router.get("/arenden/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: int, staff: ConsoleAgentDep, db: SessionDep,
                    clock: ClockDep) -> HTMLResponse:
    view = await run_in_threadpool(handover.open_case, db=db, case_id=case_id, staff=staff, now=clock())
    messages = transcript(view)
    return page(request, "case.html", staff, view=view, case=view.case, messages=messages,
                last_id=messages[-1].id if messages else "0", mailboxes=handover.mailboxes(),
                mine=view.case.claimed_by == staff.staff_id or staff.is_admin)


def _done(events: EventHub, case_id: int, notice: str, changed: Changed | None = None) -> Response:
    if changed is not None:
        events.notify(*changed.channels)
    return back(f"/staff/arenden/{case_id}", notice)


@router.post("/arenden/{case_id}/svar")
async def reply_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep, events: EventsDep,
                       text: FormText = "") -> Response:
    _, changed = await run_in_threadpool(handover.reply, db=db, case_id=case_id, staff=staff, text=text,
                                         now=clock())
    return _done(events, case_id, "sent", changed)


@router.post("/arenden/{case_id}/anteckning")
async def note_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep,
                      text: FormText = "") -> Response:
    await run_in_threadpool(handover.add_note, db=db, case_id=case_id, staff=staff, text=text, now=clock())
    return back(f"/staff/arenden/{case_id}", "noted")


@router.post("/arenden/{case_id}/vidarebefordra")
async def forward_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep,
                         mailbox: Annotated[str, Form(max_length=254)] = "",
                         comment: FormText = "") -> Response:
    await run_in_threadpool(handover.forward, db=db, case_id=case_id, staff=staff, mailbox=mailbox,
                            comment=comment, now=clock())
    return back(f"/staff/arenden/{case_id}", "forwarded")


@router.post("/arenden/{case_id}/tillbaka")
async def return_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep,
                        events: EventsDep) -> Response:
    _, changed = await run_in_threadpool(handover.return_to_bot, db=db, case_id=case_id, staff=staff, now=clock())
    return _done(events, case_id, "returned", changed)


@router.post("/arenden/{case_id}/avsluta")
async def close_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep, events: EventsDep,
                       outcome: Annotated[str, Form(max_length=32)] = "") -> Response:
    if outcome not in OUTCOME_LABELS:
        raise InvalidInput("Välj ett utfall: löst, hänvisat vidare eller behöver uppföljning.", "bad_outcome")
    _, changed = await run_in_threadpool(handover.close, db=db, case_id=case_id, staff=staff, outcome=outcome,
                                         now=clock())
    return _done(events, case_id, "closed", changed)
