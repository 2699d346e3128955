"""Staff accounts (admins): the list, a new account, and an account's page where
its role, password and deactivation are changed.

Every change is written to the audit log and signs the account out everywhere,
so that it takes effect at once.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mjolby.console.pages import ROLE_LABELS, back, page
from mjolby.deps import ClockDep, ConsoleAdminDep, EventsDep, SessionDep
from mjolby.events import QUEUE_CHANNEL, SESSIONS_CHANNEL, EventHub
from mjolby.staff import service
from mjolby.staff.models import Role
from mjolby.staff.service import StaffContext, StaffError

router = APIRouter(prefix="/staff/personal", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def users_page(request: Request, staff: ConsoleAdminDep, db: SessionDep) -> HTMLResponse:
    users = await run_in_threadpool(service.list_users, db=db)
    return page(request, "users.html", staff, users=users, error=None, form={})


@router.post("", response_class=HTMLResponse)
async def users_submit(request: Request, staff: ConsoleAdminDep, db: SessionDep, clock: ClockDep,
                       email: Annotated[str, Form(max_length=254)] = "",
                       display_name: Annotated[str, Form(max_length=80)] = "",
                       role: Annotated[str, Form(max_length=16)] = "agent",
                       password: Annotated[str, Form(max_length=1024)] = "") -> Response:
    if role not in ROLE_LABELS:
        role = Role.AGENT.value
    try:
        await run_in_threadpool(service.create_account, db=db, admin=staff, email=email, password=password,
                                role=role, display_name=display_name, now=clock())
    except StaffError as exc:
        users = await run_in_threadpool(service.list_users, db=db)
        return page(request, "users.html", staff, status_code=422, users=users, error=exc.detail,
                    form={"email": email, "display_name": display_name, "role": role})
    return back("/staff/personal", "created")


async def _account_page(request: Request, staff: StaffContext, db: Session, user_id: int, *,
                        error: str | None = None, status_code: int = 200) -> HTMLResponse:
    user = await run_in_threadpool(service.get_user, db=db, user_id=user_id)  # NotFound: a 404 page
    return page(request, "account.html", staff, status_code=status_code, account=user, error=error,
                is_self=user.id == staff.staff_id)


async def _change(request: Request, staff: StaffContext, db: Session, events: EventHub, user_id: int,
                  notice: str, change: Callable[..., Any], **kwargs: Any) -> Response:
    try:
        await run_in_threadpool(change, db=db, admin=staff, user_id=user_id, **kwargs)
    except StaffError as exc:
        return await _account_page(request, staff, db, user_id, error=str(exc), status_code=422)
    # Its live streams close, and the queue's "staff online" count follows.
    events.notify(SESSIONS_CHANNEL, QUEUE_CHANNEL)
    # Changing one's own account ends one's own session too.
    if user_id == staff.staff_id:
        return back("/staff/logga-in", "signed_out")
    return back(f"/staff/personal/{user_id}", notice)


@router.get("/{user_id}", response_class=HTMLResponse)
async def account_page(request: Request, user_id: int, staff: ConsoleAdminDep, db: SessionDep) -> HTMLResponse:
    return await _account_page(request, staff, db, user_id)


@router.post("/{user_id}/roll")
async def role_submit(request: Request, user_id: int, staff: ConsoleAdminDep, db: SessionDep, clock: ClockDep,
                      events: EventsDep, role: Annotated[str, Form(max_length=16)] = "") -> Response:
    if role not in ROLE_LABELS:
        return await _account_page(request, staff, db, user_id, error="Välj en av rollerna i listan.",
                                   status_code=422)
    return await _change(request, staff, db, events, user_id, "role_changed", service.change_role,
                         role=Role(role), now=clock())


@router.post("/{user_id}/losenord")
async def password_submit(request: Request, user_id: int, staff: ConsoleAdminDep, db: SessionDep, clock: ClockDep,
                          events: EventsDep, password: Annotated[str, Form(max_length=1024)] = "") -> Response:
    return await _change(request, staff, db, events, user_id, "password_reset", service.reset_password,
                         password=password, now=clock())


@router.post("/{user_id}/stang-av")
async def deactivate_submit(request: Request, user_id: int, staff: ConsoleAdminDep, db: SessionDep,
                            clock: ClockDep, events: EventsDep) -> Response:
    return await _change(request, staff, db, events, user_id, "deactivated", service.set_active, active=False,
                         now=clock())


@router.post("/{user_id}/aktivera")
async def activate_submit(request: Request, user_id: int, staff: ConsoleAdminDep, db: SessionDep,
                          clock: ClockDep, events: EventsDep) -> Response:
    return await _change(request, staff, db, events, user_id, "activated", service.set_active, active=True,
                         now=clock())
