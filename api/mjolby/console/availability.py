"""Admins open or close the chat, or let it follow the opening hours."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Response
from starlette.concurrency import run_in_threadpool

from mjolby.console.pages import back
from mjolby.deps import ClockDep, ConsoleAdminDep, EventsDep, SessionDep
from mjolby.handover import service as handover

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.post("/chatten")
async def chat_mode_submit(staff: ConsoleAdminDep, db: SessionDep, clock: ClockDep, events: EventsDep,
                           mode: Annotated[str, Form(max_length=16)] = "auto") -> Response:
    changed = await run_in_threadpool(handover.set_chat_mode, db=db, mode=mode, staff=staff, now=clock())
    events.notify(*changed.channels)
    return back("/staff/", "mode")
