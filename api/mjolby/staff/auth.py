"""Who is signed in: session cookie, roles and CSRF checks for the staff routes.

- The cookie (HttpOnly, SameSite=Strict, Secure outside development) holds a
  random token; the database keeps only its SHA-256.
- Every state-changing staff request proves it comes from our own page: the
  JSON API with the header X-CSRF-Token, the console's forms with a hidden
  field, both equal to the session's CSRF token. The sign-in form, which has
  no session yet, uses a double-submit cookie.
- The JSON API answers 401 without a session and 403 with the wrong role;
  the console redirects to its sign-in page instead of answering 401.
"""
from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from mjolby.config import Settings
from mjolby.handover.errors import ApiError
from mjolby.staff import service
from mjolby.staff.models import Role
from mjolby.staff.service import StaffContext

COOKIE_NAME = "mjolby_staff"
LOGIN_CSRF_COOKIE = "mjolby_staff_login"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

NOT_SIGNED_IN = "Du är inte inloggad."
WRONG_ROLE = "Din roll har inte behörighet till det här."
BAD_CSRF = "Förfrågan saknar en giltig säkerhetstoken. Ladda om sidan och försök igen."


class ConsoleSignInRequired(Exception):
    """Raised by console pages without a session; answered with a redirect."""


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME, token, max_age=int(settings.staff_session_hours * 3600), path="/",
        httponly=True, secure=settings.environment != "development", samesite="strict",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True,
                           secure=settings.environment != "development", samesite="strict")


def set_login_csrf_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path="/staff", httponly=True,
                        secure=settings.environment != "development", samesite="strict")


def new_login_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def login_csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    return bool(expected and submitted and hmac.compare_digest(expected, submitted))


async def _session(request: Request) -> StaffContext | None:
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    now = request.app.state.clock()
    db = request.app.state.database.session_factory()
    try:
        return await run_in_threadpool(service.load_session, db=db, token=token, now=now)
    finally:
        db.close()


def _csrf_matches(ctx: StaffContext, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(ctx.csrf_token, submitted or "")


async def api_staff(request: Request) -> StaffContext:
    """The signed-in staff member of a JSON API request (401 without, 403 on a bad CSRF token)."""
    ctx = await _session(request)
    if ctx is None:
        raise ApiError(401, NOT_SIGNED_IN, "not_signed_in")
    if request.method in UNSAFE_METHODS and not _csrf_matches(ctx, request.headers.get(CSRF_HEADER)):
        raise ApiError(403, BAD_CSRF, "bad_csrf_token")
    return ctx


def api_roles(*roles: Role):
    allowed = {r.value for r in roles}

    async def dependency(ctx: Annotated[StaffContext, Depends(api_staff)]) -> StaffContext:
        if ctx.role not in allowed:
            raise ApiError(403, WRONG_ROLE, "wrong_role")
        return ctx

    return dependency


async def console_staff(request: Request) -> StaffContext:
    """The signed-in staff member of a console page; redirects to sign-in without one.

    Form posts must carry the session's CSRF token in the hidden field."""
    ctx = await _session(request)
    if ctx is None:
        raise ConsoleSignInRequired()
    if request.method in UNSAFE_METHODS:
        form = await request.form()
        submitted = form.get(CSRF_FIELD)
        if not _csrf_matches(ctx, submitted if isinstance(submitted, str) else None):
            raise ApiError(403, BAD_CSRF, "bad_csrf_token")
    return ctx


def console_roles(*roles: Role):
    allowed = {r.value for r in roles}

    async def dependency(ctx: Annotated[StaffContext, Depends(console_staff)]) -> StaffContext:
        if ctx.role not in allowed:
            raise ApiError(403, WRONG_ROLE, "wrong_role")
        return ctx

    return dependency


StaffDep = Annotated[StaffContext, Depends(api_staff)]
AgentDep = Annotated[StaffContext, Depends(api_roles(Role.AGENT, Role.ADMIN))]
AdminDep = Annotated[StaffContext, Depends(api_roles(Role.ADMIN))]
ConsoleStaffDep = Annotated[StaffContext, Depends(console_staff)]
ConsoleAgentDep = Annotated[StaffContext, Depends(console_roles(Role.AGENT, Role.ADMIN))]
ConsoleAdminDep = Annotated[StaffContext, Depends(console_roles(Role.ADMIN))]
