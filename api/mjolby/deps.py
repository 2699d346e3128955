"""Typed dependencies of every router and console page, in one place.

Each reads what the app built at start (app.state) or who is signed in; the
routers only name them (`db: SessionDep`, `staff: AgentDep`).
"""
from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mjolby import texts
from mjolby.config import Settings
from mjolby.conversations.observers import TurnObserver
from mjolby.conversations.waiting import WaitingLine
from mjolby.errors import Forbidden, Unauthorized
from mjolby.events import EventHub
from mjolby.health.service import HealthMonitor
from mjolby.hours import ServiceHours, load_schedule
from mjolby.rasa_client import RasaClient
from mjolby.ratelimit import RateLimiter, StreamSlots, client_key
from mjolby.staff import auth, service as staff_service
from mjolby.staff.models import Role
from mjolby.staff.service import StaffContext

BAD_INTERNAL_TOKEN = "Ogiltig eller saknad intern token."


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request) -> AsyncIterator[Session]:
    # Creating a session does no I/O; services end their transactions, so
    # closing usually does none either and needs no worker thread.
    session = request.app.state.database.session_factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


def get_session_factory(request: Request) -> Callable[[], Session]:
    """For live streams, which open a short session for every read."""
    return request.app.state.database.session_factory


def get_rasa(request: Request) -> RasaClient:
    return request.app.state.rasa


def get_limiter(request: Request) -> RateLimiter:
    return request.app.state.limiter


def get_health_monitor(request: Request) -> HealthMonitor:
    return request.app.state.health


def get_clock(request: Request) -> Callable[[], datetime]:
    return request.app.state.clock


def get_client_key(request: Request) -> str:
    # The connecting address; behind a reverse proxy listed in FORWARDED_ALLOW_IPS
    # the proxy's X-Forwarded-For has already replaced it (see main.py).
    address = request.client.host if request.client else "unknown"
    secret = request.app.state.settings.secret_key.get_secret_value()
    return client_key(secret, address)


async def limit_reads(request: Request) -> None:
    """Reads count against the client's allowance for reads (429 with Retry-After)."""
    await get_limiter(request).check_client_read(get_client_key(request), texts.ERROR_TOO_MANY_READS)


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


def get_stream_slots(request: Request) -> StreamSlots:
    slots = getattr(request.app.state, "stream_slots", None)
    if slots is None:
        settings = request.app.state.settings
        slots = StreamSlots(per_client=settings.stream_max_per_client,
                            per_conversation=settings.stream_max_per_conversation)
        request.app.state.stream_slots = slots
    return slots


def get_waiting_line(request: Request) -> WaitingLine:
    """The queue a conversation can wait in (the handover's, set in main.py)."""
    return request.app.state.waiting_line


def get_turn_observer(request: Request) -> TurnObserver | None:
    """What learns from answered turns (the editors' inbox, set in main.py)."""
    return getattr(request.app.state, "turn_observer", None)


def require_internal_token(
    settings: Annotated[Settings, Depends(get_settings)],
    authorization: Annotated[str | None, Header(description="Bearer <INTERNAL_API_TOKEN>")] = None,
) -> None:
    expected = settings.internal_api_token.get_secret_value() if settings.internal_api_token else ""
    scheme, _, token = (authorization or "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        raise Unauthorized(BAD_INTERNAL_TOKEN, "bad_internal_token", challenge="Bearer")


# -- who is signed in (staff) ------------------------------------------------------
class ConsoleSignInRequired(Exception):
    """Raised by console pages without a session; the console answers with a redirect."""


async def _session(request: Request, *, counts_as_use: bool = True) -> StaffContext | None:
    token = request.cookies.get(auth.COOKIE_NAME)
    if not token:
        return None
    now = request.app.state.clock()
    settings: Settings = request.app.state.settings
    use = {"hours": settings.staff_session_hours, "idle_minutes": settings.staff_idle_minutes} \
        if counts_as_use else {}
    db = request.app.state.database.session_factory()
    try:
        return await run_in_threadpool(staff_service.load_session, db=db, token=token, now=now, **use)
    finally:
        db.close()


async def api_staff(request: Request) -> StaffContext:
    """The signed-in staff member of a JSON API request (401 without, 403 on a bad CSRF token)."""
    return await _api_staff(request, counts_as_use=True)


async def api_staff_watching(request: Request) -> StaffContext:
    """Like api_staff, for live streams: opening one does not count as use."""
    return await _api_staff(request, counts_as_use=False)


async def _api_staff(request: Request, *, counts_as_use: bool) -> StaffContext:
    ctx = await _session(request, counts_as_use=counts_as_use)
    if ctx is None:
        raise Unauthorized(auth.NOT_SIGNED_IN, "not_signed_in")
    if request.method in auth.UNSAFE_METHODS and not auth.csrf_matches(ctx, request.headers.get(auth.CSRF_HEADER)):
        raise Forbidden(auth.BAD_CSRF, "bad_csrf_token")
    return ctx


async def console_staff(request: Request) -> StaffContext:
    """The signed-in staff member of a console page; redirects to sign-in without one.

    Form posts must carry the session's CSRF token in the hidden field."""
    return await _console_staff(request, counts_as_use=True)


async def console_staff_watching(request: Request) -> StaffContext:
    """Like console_staff, for what the console's script fetches by itself."""
    return await _console_staff(request, counts_as_use=False)


async def _console_staff(request: Request, *, counts_as_use: bool) -> StaffContext:
    ctx = await _session(request, counts_as_use=counts_as_use)
    if ctx is None:
        raise ConsoleSignInRequired()
    if request.method in auth.UNSAFE_METHODS:
        form = await request.form()
        submitted = form.get(auth.CSRF_FIELD)
        if not auth.csrf_matches(ctx, submitted if isinstance(submitted, str) else None):
            raise Forbidden(auth.BAD_CSRF, "bad_csrf_token")
    return ctx


def _roles(signed_in: Callable[[Request], object], *roles: Role) -> Callable[..., object]:
    allowed = {r.value for r in roles}
    signed_in_dep = Depends(signed_in)

    async def dependency(ctx: StaffContext = signed_in_dep) -> StaffContext:
        if ctx.role not in allowed:
            raise Forbidden(auth.WRONG_ROLE, "wrong_role")
        return ctx

    return dependency


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db)]
SessionFactoryDep = Annotated[Callable[[], Session], Depends(get_session_factory)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
HealthMonitorDep = Annotated[HealthMonitor, Depends(get_health_monitor)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
ClientKeyDep = Annotated[str, Depends(get_client_key)]
HoursDep = Annotated[ServiceHours, Depends(get_hours)]
EventsDep = Annotated[EventHub, Depends(get_events)]
StreamSlotsDep = Annotated[StreamSlots, Depends(get_stream_slots)]
WaitingLineDep = Annotated[WaitingLine, Depends(get_waiting_line)]
TurnObserverDep = Annotated[TurnObserver | None, Depends(get_turn_observer)]
ReadLimit = Depends(limit_reads)
InternalDep = Depends(require_internal_token)

StaffDep = Annotated[StaffContext, Depends(api_staff)]
AgentDep = Annotated[StaffContext, Depends(_roles(api_staff, Role.AGENT, Role.ADMIN))]
AgentWatchingDep = Annotated[StaffContext, Depends(_roles(api_staff_watching, Role.AGENT, Role.ADMIN))]
AdminDep = Annotated[StaffContext, Depends(_roles(api_staff, Role.ADMIN))]
ConsoleStaffDep = Annotated[StaffContext, Depends(console_staff)]
ConsoleAgentDep = Annotated[StaffContext, Depends(_roles(console_staff, Role.AGENT, Role.ADMIN))]
ConsoleAgentWatchingDep = Annotated[StaffContext,
                                    Depends(_roles(console_staff_watching, Role.AGENT, Role.ADMIN))]
ConsoleAdminDep = Annotated[StaffContext, Depends(_roles(console_staff, Role.ADMIN))]
ConsoleInsightDep = Annotated[StaffContext, Depends(_roles(console_staff, Role.ADMIN, Role.LEAD))]
ConsoleEditorDep = Annotated[StaffContext, Depends(_roles(console_staff, Role.EDITOR, Role.ADMIN))]
