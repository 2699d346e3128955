"""Signing in to and out of the console."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from mjolby.config import Settings
from mjolby.console.pages import NOTICES, back, templates
from mjolby.deps import ClockDep, ConsoleStaffDep, EventsDep, SessionDep, SettingsDep
from mjolby.errors import RateLimited, Unauthorized
from mjolby.events import QUEUE_CHANNEL, SESSIONS_CHANNEL
from mjolby.http_errors import status_of
from mjolby.staff import auth, service, throttle

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("")
async def console_root() -> RedirectResponse:
    return RedirectResponse("/staff/", status_code=status.HTTP_307_TEMPORARY_REDIRECT)


@router.get("/logga-in", response_class=HTMLResponse)
async def login_page(request: Request, settings: SettingsDep, nasta: str = "/staff/") -> HTMLResponse:
    return _login_page(request, settings, next=_safe_next(nasta))


def _login_page(request: Request, settings: Settings, *, next: str, error: str | None = None, email: str = "",
                status_code: int = 200) -> HTMLResponse:
    # The double-submit cookie and the form field carry the same fresh value.
    token = auth.new_login_csrf_token()
    response = templates.TemplateResponse(
        request, "login.html",
        {"staff": None, "notice": NOTICES.get(request.query_params.get("klart", "")), "next": next,
         "error": error, "email": email, "csrf_token": token},
        status_code=status_code,
    )
    auth.set_login_csrf_cookie(response, token, settings)
    return response


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/staff/") and "//" not in target[1:] and "\\" not in target:
        return target
    return "/staff/"


@router.post("/logga-in", response_class=HTMLResponse)
async def login_submit(
    request: Request, db: SessionDep, settings: SettingsDep, clock: ClockDep, events: EventsDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=500)] = "/staff/",
) -> Response:
    target = _safe_next(next)
    if not auth.login_csrf_ok(request, csrf_token):
        return _login_page(request, settings, next=target, email=email, status_code=403,
                           error="Sidan hade blivit för gammal. Försök logga in igen.")
    try:
        token, _, _ = await throttle.sign_in(request, db=db, email=email, password=password, now=clock(),
                                             settings=settings)
    except (RateLimited, Unauthorized) as exc:
        return _login_page(request, settings, next=target, email=email, status_code=status_of(exc),
                           error=exc.detail)
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    auth.set_session_cookie(response, token, settings)
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/staff")
    events.notify(QUEUE_CHANNEL)
    return response


@router.post("/logga-ut")
async def logout_submit(staff: ConsoleStaffDep, db: SessionDep, settings: SettingsDep, clock: ClockDep,
                        events: EventsDep) -> Response:
    await run_in_threadpool(service.sign_out, db=db, staff=staff, now=clock())
    response = back("/staff/logga-in", "signed_out")
    auth.clear_session_cookie(response, settings)
    events.notify(QUEUE_CHANNEL, SESSIONS_CHANNEL)
    return response
