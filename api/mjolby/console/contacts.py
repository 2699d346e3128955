"""Contact requests: the list, and marking one handled."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from mjolby.console.pages import back, page
from mjolby.deps import ClockDep, ConsoleAgentDep, SessionDep
from mjolby.handover import service as handover

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/kontaktforfragningar", response_class=HTMLResponse)
async def contacts_page(request: Request, staff: ConsoleAgentDep, db: SessionDep) -> HTMLResponse:
    rows = await run_in_threadpool(handover.list_contact_requests, db=db)
    return page(request, "contacts.html", staff, open_rows=[r for r in rows if r.status == "open"],
                closed_rows=[r for r in rows if r.status == "closed"])


@router.post("/kontaktforfragningar/{request_id}/hanterad")
async def contact_close_submit(request_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep,
                               note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    await run_in_threadpool(handover.close_contact_request, db=db, request_id=request_id, staff=staff, note=note,
                            now=clock())
    return back("/staff/kontaktforfragningar", "contact_closed")
