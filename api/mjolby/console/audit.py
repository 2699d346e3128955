"""The audit log: who opened, claimed and closed what, and who signed in (admins)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from mjolby.console.pages import page
from mjolby.deps import ConsoleAdminDep, SessionDep
from mjolby.staff import service

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/logg", response_class=HTMLResponse)
async def audit_page(request: Request, staff: ConsoleAdminDep, db: SessionDep) -> HTMLResponse:
    entries = await run_in_threadpool(service.list_audit, db=db, limit=500)
    return page(request, "audit.html", staff, entries=entries)
