"""Staff sign-in and administration, JSON under /api/v1/staff.

The console's HTML pages are in mjolby.console; chat availability is the
handover's (mjolby.handover.router_staff).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from mjolby.deps import AdminDep, ClockDep, EventsDep, SessionDep, SettingsDep, StaffDep
from mjolby.events import QUEUE_CHANNEL, SESSIONS_CHANNEL
from mjolby.staff import auth, service, throttle
from mjolby.staff.schemas import AuditOut, LoginIn, SessionOut, StaffAccountOut, StaffCreate, StaffOut

TAGS = ["personal: inloggning och administration"]
router = APIRouter(prefix="/staff", tags=TAGS)


@router.post("/session", response_model=SessionOut, summary="Logga in",
             responses={401: {"description": "Fel e-post eller lösenord"},
                        429: {"description": "För många försök: vänta så länge Retry-After säger"}})
async def sign_in(body: LoginIn, request: Request, response: Response, db: SessionDep, settings: SettingsDep,
                  clock: ClockDep, events: EventsDep) -> SessionOut:
    token, csrf, user = await throttle.sign_in(request, db=db, email=body.email, password=body.password,
                                               now=clock(), settings=settings)
    auth.set_session_cookie(response, token, settings)
    events.notify(QUEUE_CHANNEL)  # one more staff member online
    return SessionOut(staff=StaffOut.of(user), csrf_token=csrf)


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT, summary="Logga ut")
async def sign_out(staff: StaffDep, db: SessionDep, settings: SettingsDep, clock: ClockDep,
                   events: EventsDep) -> Response:
    await run_in_threadpool(service.sign_out, db=db, staff=staff, now=clock())
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    auth.clear_session_cookie(response, settings)
    events.notify(QUEUE_CHANNEL, SESSIONS_CHANNEL)
    return response


@router.get("/me", response_model=SessionOut, summary="Vem är inloggad")
async def me(staff: StaffDep) -> SessionOut:
    return SessionOut(staff=StaffOut.of(staff), csrf_token=staff.csrf_token)


@router.get("/users", response_model=list[StaffAccountOut], summary="Personalkonton")
async def list_users(staff: AdminDep, db: SessionDep) -> list[StaffAccountOut]:
    users = await run_in_threadpool(service.list_users, db=db)
    return [StaffAccountOut.of_user(u) for u in users]


@router.post("/users", response_model=StaffAccountOut, status_code=status.HTTP_201_CREATED,
             summary="Skapa ett personalkonto")
async def create_user(body: StaffCreate, staff: AdminDep, db: SessionDep, clock: ClockDep) -> StaffAccountOut:
    user = await run_in_threadpool(service.create_account, db=db, admin=staff, email=body.email,
                                   password=body.password, role=body.role, display_name=body.display_name,
                                   now=clock())
    return StaffAccountOut.of_user(user)


@router.get("/audit", response_model=list[AuditOut], summary="Granskningslogg: vem öppnade vilket ärende")
async def audit_log(staff: AdminDep, db: SessionDep,
                    case_id: Annotated[int | None, Query(ge=1)] = None) -> list[AuditOut]:
    entries = await run_in_threadpool(service.list_audit, db=db, case_id=case_id)
    return [AuditOut.of(e) for e in entries]
