"""Staff sign-in and administration (JSON under /api/v1/staff) and the console (HTML under /staff).

The console is server-rendered (Jinja2) with plain HTML forms that work
without JavaScript; a little script adds the live queue and live case view
(Server-Sent Events from the staff JSON API).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Form, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from mjolby.deps import ClockDep, SessionDep, SettingsDep
from mjolby.handover import service as handover
from mjolby.handover.errors import ApiError
from mjolby.handover.events import QUEUE_CHANNEL
from mjolby.handover.schemas import ChatModeIn
from mjolby.handover.router import EventsDep, HoursDep, transcript
from mjolby.staff import auth, service
from mjolby.staff.auth import (
    AdminDep,
    AgentDep,
    ConsoleAdminDep,
    ConsoleAgentDep,
    ConsoleSignInRequired,
    ConsoleStaffDep,
    StaffDep,
)
from mjolby.staff.models import Role
from mjolby.staff.schemas import (
    AuditOut,
    AvailabilityOut,
    LoginIn,
    SessionOut,
    StaffAccountOut,
    StaffCreate,
    StaffOut,
)
from mjolby.staff.service import StaffContext, StaffError

STAFF_DIR = Path(__file__).resolve().parent
LOCAL_TZ = ZoneInfo("Europe/Stockholm")
FAILED_LOGIN = "Fel e-postadress eller lösenord."
TOO_MANY_LOGINS = "För många misslyckade inloggningar. Vänta en kvart och försök igen."

api_router = APIRouter(prefix="/staff", tags=["personal: inloggning och administration"])
console = APIRouter(prefix="/staff", include_in_schema=False)
templates = Jinja2Templates(directory=STAFF_DIR / "templates")

REASON_LABELS = {
    "user_request": "Bad om en person",
    "unresolved": "Boten förstod inte",
    "sensitive": "Känsligt ämne",
}
OUTCOME_LABELS = {
    "resolved": "Löst",
    "referred": "Hänvisat vidare",
    "needs_follow_up": "Behöver uppföljning",
}
STATUS_LABELS = {
    "queued": "Väntar", "active": "Pågår", "closed": "Avslutat", "returned": "Tillbaka hos boten",
    "cancelled": "Medborgaren lämnade kön",
}
SENDER_LABELS = {"user": "Medborgaren", "bot": "Chattassistenten", "agent": "Medarbetare", "system": "System"}
ROLE_LABELS = {"agent": "Handläggare", "editor": "Redaktör", "admin": "Administratör"}
ACTION_LABELS = {
    "sign_in": "Loggade in", "sign_in_failed": "Misslyckad inloggning", "sign_out": "Loggade ut",
    "open_case": "Öppnade ärendets logg", "claim": "Tog ärendet", "return_to_bot": "Lämnade tillbaka till boten",
    "close": "Avslutade ärendet", "forward": "Vidarebefordrade", "close_contact_request": "Hanterade kontaktförfrågan",
    "create_staff": "Skapade konto", "set_chat_mode": "Ändrade chattens läge",
}
CHAT_MODE_LABELS = {
    "auto": "Följ öppettiderna",
    "open": "Öppen nu (oavsett öppettider)",
    "closed": "Stängd nu",
}
NOTICES = {
    "claimed": "Du har tagit ärendet.",
    "already_claimed": "Någon annan har redan tagit ärendet.",
    "sent": "Svaret är skickat.",
    "noted": "Anteckningen är sparad.",
    "forwarded": "Vidarebefordran är registrerad. Inget mejl skickas härifrån.",
    "returned": "Samtalet är tillbaka hos chattassistenten.",
    "closed": "Ärendet är avslutat. Medborgaren får frågan om ett betyg.",
    "contact_closed": "Kontaktförfrågan är markerad som hanterad.",
    "created": "Kontot är skapat.",
    "mode": "Chattens läge är ändrat.",
    "signed_out": "Du är utloggad.",
}


def local_time(value: datetime | None, fmt: str = "%H:%M") -> str:
    return value.astimezone(LOCAL_TZ).strftime(fmt) if value else ""


def waited(seconds: int) -> str:
    minutes = seconds // 60
    if minutes < 1:
        return "under en minut"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


templates.env.filters["local_time"] = local_time
templates.env.filters["waited"] = waited
templates.env.globals.update(
    REASON_LABELS=REASON_LABELS, OUTCOME_LABELS=OUTCOME_LABELS, STATUS_LABELS=STATUS_LABELS,
    SENDER_LABELS=SENDER_LABELS, ROLE_LABELS=ROLE_LABELS, ACTION_LABELS=ACTION_LABELS,
    CHAT_MODE_LABELS=CHAT_MODE_LABELS,
)


async def _in_thread(func: Any, /, **kwargs: Any) -> Any:
    return await run_in_threadpool(func, **kwargs)


# -- JSON API -------------------------------------------------------------------
@api_router.post("/session", response_model=SessionOut, summary="Logga in",
                 responses={401: {"description": "Fel e-post eller lösenord"},
                            429: {"description": "För många misslyckade försök"}})
async def sign_in(body: LoginIn, response: Response, db: SessionDep, settings: SettingsDep,
                  clock: ClockDep, events: EventsDep) -> SessionOut:
    now = clock()
    token, csrf, user = await _in_thread(_sign_in, db=db, email=body.email, password=body.password, now=now,
                                         hours=settings.staff_session_hours)
    auth.set_session_cookie(response, token, settings)
    events.notify(QUEUE_CHANNEL)
    return SessionOut(staff=StaffOut.of(user), csrf_token=csrf)


def _sign_in(*, db: Any, email: str, password: str, now: datetime, hours: float) -> tuple[str, str, Any]:
    if service.recent_failed_logins(db=db, email=email, now=now) >= service.MAX_FAILED_LOGINS:
        db.rollback()
        raise ApiError(429, TOO_MANY_LOGINS, "too_many_attempts", headers={"Retry-After": "900"})
    user = service.authenticate(db=db, email=email, password=password, now=now)
    if user is None:
        raise ApiError(401, FAILED_LOGIN, "bad_credentials")
    token, csrf = service.start_session(db=db, user=user, now=now, hours=hours)
    return token, csrf, user


@api_router.delete("/session", status_code=status.HTTP_204_NO_CONTENT, summary="Logga ut")
async def sign_out(staff: StaffDep, db: SessionDep, settings: SettingsDep, clock: ClockDep,
                   events: EventsDep) -> Response:
    await _in_thread(_sign_out, db=db, staff=staff, now=clock())
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    auth.clear_session_cookie(response, settings)
    events.notify(QUEUE_CHANNEL)
    return response


def _sign_out(*, db: Any, staff: StaffContext, now: datetime) -> None:
    service.audit(db=db, staff=staff, action="sign_out", now=now)
    db.commit()
    service.end_session(db=db, hashed=staff.token_hash)


@api_router.get("/me", response_model=SessionOut, summary="Vem är inloggad")
async def me(staff: StaffDep) -> SessionOut:
    return SessionOut(staff=StaffOut.of(staff), csrf_token=staff.csrf_token)


@api_router.get("/users", response_model=list[StaffAccountOut], summary="Personalkonton")
async def list_users(staff: AdminDep, db: SessionDep) -> list[StaffAccountOut]:
    users = await _in_thread(service.list_users, db=db)
    return [StaffAccountOut.of_user(u) for u in users]


@api_router.post("/users", response_model=StaffAccountOut, status_code=status.HTTP_201_CREATED,
                 summary="Skapa ett personalkonto")
async def create_user(body: StaffCreate, staff: AdminDep, db: SessionDep, clock: ClockDep) -> StaffAccountOut:
    user = await _in_thread(_create_user, db=db, staff=staff, email=body.email, password=body.password,
                            role=body.role, display_name=body.display_name, now=clock())
    return StaffAccountOut.of_user(user)


def _create_user(*, db: Any, staff: StaffContext, email: str, password: str, role: str, display_name: str,
                 now: datetime) -> Any:
    try:
        user = service.create_user(db=db, email=email, password=password, role=role, display_name=display_name,
                                   now=now)
    except StaffError as exc:
        raise ApiError(422, str(exc), "bad_account") from exc
    service.audit(db=db, staff=staff, action="create_staff", now=now, detail=f"{user.email} ({user.role})")
    db.commit()
    return user


@api_router.get("/audit", response_model=list[AuditOut], summary="Granskningslogg: vem öppnade vilket ärende")
async def audit_log(staff: AdminDep, db: SessionDep,
                    case_id: Annotated[int | None, Query(ge=1)] = None) -> list[AuditOut]:
    entries = await _in_thread(service.list_audit, db=db, case_id=case_id)
    return [AuditOut.of(e) for e in entries]


def _availability(*, db: Any, hours: Any, now: datetime) -> AvailabilityOut:
    result = handover.service_status(db=db, hours=hours, now=now)
    return AvailabilityOut(chat_mode=result.chat_mode, chat_available=result.chat_available,  # type: ignore[arg-type]
                           open_now=result.open_now, staff_online=result.staff_online)


@api_router.get("/availability", response_model=AvailabilityOut, summary="Kan medborgare chatta med oss nu?")
async def get_availability(staff: AgentDep, db: SessionDep, hours: HoursDep, clock: ClockDep) -> AvailabilityOut:
    return await _in_thread(_availability, db=db, hours=hours, now=clock())


@api_router.put("/availability", response_model=AvailabilityOut,
                summary="Styr chatten: följ öppettiderna, öppna eller stäng nu")
async def set_availability(body: ChatModeIn, staff: AdminDep, db: SessionDep, hours: HoursDep,
                           clock: ClockDep, events: EventsDep) -> AvailabilityOut:
    changed = await _in_thread(handover.set_chat_mode, db=db, mode=body.mode, staff=staff, now=clock())
    events.notify(*changed.channels)
    return await _in_thread(_availability, db=db, hours=hours, now=clock())


# -- console --------------------------------------------------------------------------
def _page(request: Request, name: str, staff: StaffContext | None, status_code: int = 200,
          **context: Any) -> HTMLResponse:
    notice = NOTICES.get(request.query_params.get("klart", ""))
    return templates.TemplateResponse(
        request, name, {"staff": staff, "notice": notice, **context}, status_code=status_code
    )


def _back(path: str, notice: str | None = None) -> RedirectResponse:
    target = path + (("?" + urlencode({"klart": notice})) if notice else "")
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


@console.get("")
async def console_root() -> RedirectResponse:
    return RedirectResponse("/staff/", status_code=status.HTTP_307_TEMPORARY_REDIRECT)


@console.get("/logga-in", response_class=HTMLResponse)
async def login_page(request: Request, settings: SettingsDep, nasta: str = "/staff/") -> HTMLResponse:
    return _login_page(request, settings, next=_safe_next(nasta))


def _login_page(request: Request, settings: Any, *, next: str, error: str | None = None, email: str = "",
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


@console.post("/logga-in", response_class=HTMLResponse)
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
        token, _, _ = await _in_thread(_sign_in, db=db, email=email, password=password, now=clock(),
                                       hours=settings.staff_session_hours)
    except ApiError as exc:
        return _login_page(request, settings, next=target, email=email, status_code=exc.status,
                           error=exc.detail)
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    auth.set_session_cookie(response, token, settings)
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/staff")
    events.notify(QUEUE_CHANNEL)
    return response


@console.post("/logga-ut")
async def logout_submit(staff: ConsoleStaffDep, db: SessionDep, settings: SettingsDep, clock: ClockDep,
                        events: EventsDep) -> Response:
    await _in_thread(_sign_out, db=db, staff=staff, now=clock())
    response = _back("/staff/logga-in", "signed_out")
    auth.clear_session_cookie(response, settings)
    events.notify(QUEUE_CHANNEL)
    return response


def _queue_context(*, db: Any, hours: Any, now: datetime) -> dict[str, Any]:
    waiting, active = handover.list_queue(db=db, now=now)
    status_now = handover.service_status(db=db, hours=hours, now=now)
    open_contacts = len(handover.list_contact_requests(db=db, status="open"))
    return {"waiting": waiting, "active": active, "availability": status_now, "open_contacts": open_contacts}


@console.get("/", response_class=HTMLResponse)
async def queue_page(request: Request, staff: ConsoleStaffDep, db: SessionDep, hours: HoursDep,
                     clock: ClockDep) -> HTMLResponse:
    if not staff.can_handle_cases:
        return _page(request, "no_access.html", staff, status_code=403)
    context = await _in_thread(_queue_context, db=db, hours=hours, now=clock())
    return _page(request, "queue.html", staff, **context)


@console.get("/ko", response_class=HTMLResponse)
async def queue_fragment(request: Request, staff: ConsoleAgentDep, db: SessionDep, hours: HoursDep,
                         clock: ClockDep) -> HTMLResponse:
    context = await _in_thread(_queue_context, db=db, hours=hours, now=clock())
    return _page(request, "_queue_tables.html", staff, **context)


@console.post("/arenden/{case_id}/ta")
async def claim_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep,
                       events: EventsDep) -> Response:
    try:
        _, changed = await _in_thread(handover.claim, db=db, case_id=case_id, staff=staff, now=clock())
    except ApiError as exc:
        if exc.code == "already_claimed":
            return _back("/staff/", "already_claimed")
        raise
    events.notify(*changed.channels)
    return _back(f"/staff/arenden/{case_id}", "claimed")


@console.get("/arenden/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: int, staff: ConsoleAgentDep, db: SessionDep,
                    clock: ClockDep) -> HTMLResponse:
    view = await _in_thread(handover.open_case, db=db, case_id=case_id, staff=staff, now=clock())
    messages = transcript(view)
    return _page(request, "case.html", staff, view=view, case=view.case, messages=messages,
                 last_id=messages[-1].id if messages else "0", mailboxes=handover.mailboxes(),
                 mine=view.case.claimed_by == staff.staff_id or staff.is_admin)


def _case_action(name: str):
    async def handler(case_id: int, staff: StaffContext, db: Any, clock: Any, events: Any, notice: str,
                      **kwargs: Any) -> Response:
        func = getattr(handover, name)
        result = await _in_thread(func, db=db, case_id=case_id, staff=staff, now=clock(), **kwargs)
        changed = result[1] if isinstance(result, tuple) else None
        if changed is not None:
            events.notify(*changed.channels)
        return _back(f"/staff/arenden/{case_id}", notice)

    return handler


@console.post("/arenden/{case_id}/svar")
async def reply_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep, events: EventsDep,
                       text: Annotated[str, Form(max_length=2000)] = "") -> Response:
    return await _case_action("reply")(case_id, staff, db, clock, events, "sent", text=text)


@console.post("/arenden/{case_id}/anteckning")
async def note_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep, events: EventsDep,
                      text: Annotated[str, Form(max_length=2000)] = "") -> Response:
    return await _case_action("add_note")(case_id, staff, db, clock, events, "noted", text=text)


@console.post("/arenden/{case_id}/vidarebefordra")
async def forward_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep, events: EventsDep,
                         mailbox: Annotated[str, Form(max_length=254)] = "",
                         comment: Annotated[str, Form(max_length=2000)] = "") -> Response:
    return await _case_action("forward")(case_id, staff, db, clock, events, "forwarded", mailbox=mailbox,
                                         comment=comment)


@console.post("/arenden/{case_id}/tillbaka")
async def return_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep,
                        events: EventsDep) -> Response:
    return await _case_action("return_to_bot")(case_id, staff, db, clock, events, "returned")


@console.post("/arenden/{case_id}/avsluta")
async def close_submit(case_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep, events: EventsDep,
                       outcome: Annotated[str, Form(max_length=32)] = "") -> Response:
    if outcome not in OUTCOME_LABELS:
        raise ApiError(422, "Välj ett utfall: löst, hänvisat vidare eller behöver uppföljning.", "bad_outcome")
    return await _case_action("close")(case_id, staff, db, clock, events, "closed", outcome=outcome)


@console.get("/kontaktforfragningar", response_class=HTMLResponse)
async def contacts_page(request: Request, staff: ConsoleAgentDep, db: SessionDep) -> HTMLResponse:
    rows = await _in_thread(handover.list_contact_requests, db=db)
    return _page(request, "contacts.html", staff, open_rows=[r for r in rows if r.status == "open"],
                 closed_rows=[r for r in rows if r.status == "closed"])


@console.post("/kontaktforfragningar/{request_id}/hanterad")
async def contact_close_submit(request_id: int, staff: ConsoleAgentDep, db: SessionDep, clock: ClockDep,
                               note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    await _in_thread(handover.close_contact_request, db=db, request_id=request_id, staff=staff, note=note,
                     now=clock())
    return _back("/staff/kontaktforfragningar", "contact_closed")


@console.get("/logg", response_class=HTMLResponse)
async def audit_page(request: Request, staff: ConsoleAdminDep, db: SessionDep) -> HTMLResponse:
    entries = await _in_thread(service.list_audit, db=db, limit=500)
    return _page(request, "audit.html", staff, entries=entries)


@console.get("/personal", response_class=HTMLResponse)
async def users_page(request: Request, staff: ConsoleAdminDep, db: SessionDep) -> HTMLResponse:
    users = await _in_thread(service.list_users, db=db)
    return _page(request, "users.html", staff, users=users, error=None, form={})


@console.post("/personal", response_class=HTMLResponse)
async def users_submit(request: Request, staff: ConsoleAdminDep, db: SessionDep, clock: ClockDep,
                       email: Annotated[str, Form(max_length=254)] = "",
                       display_name: Annotated[str, Form(max_length=80)] = "",
                       role: Annotated[str, Form(max_length=16)] = "agent",
                       password: Annotated[str, Form(max_length=1024)] = "") -> Response:
    if role not in ROLE_LABELS:
        role = Role.AGENT.value
    try:
        await _in_thread(_create_user, db=db, staff=staff, email=email, password=password, role=role,
                         display_name=display_name, now=clock())
    except ApiError as exc:
        users = await _in_thread(service.list_users, db=db)
        return _page(request, "users.html", staff, status_code=422, users=users, error=exc.detail,
                     form={"email": email, "display_name": display_name, "role": role})
    return _back("/staff/personal", "created")


@console.post("/chatten")
async def chat_mode_submit(staff: ConsoleAdminDep, db: SessionDep, clock: ClockDep, events: EventsDep,
                           mode: Annotated[str, Form(max_length=16)] = "auto") -> Response:
    changed = await _in_thread(handover.set_chat_mode, db=db, mode=mode, staff=staff, now=clock())
    events.notify(*changed.channels)
    return _back("/staff/", "mode")


# -- wiring ---------------------------------------------------------------------------
def render_console_error(request: Request, exc: ApiError) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "error.html", {"staff": None, "notice": None, "message": exc.detail, "status": exc.status},
        status_code=exc.status,
    )


async def _on_sign_in_required(request: Request, exc: ConsoleSignInRequired) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/staff/"
    return RedirectResponse(f"/staff/logga-in?nasta={quote(target, safe='/')}", status_code=status.HTTP_303_SEE_OTHER)


def install_console(app: FastAPI) -> None:
    """Mount the console's static files and its error pages."""
    app.mount("/staff/static", StaticFiles(directory=STAFF_DIR / "static"), name="staff-static")
    app.state.console_error_renderer = render_console_error
    app.add_exception_handler(ConsoleSignInRequired, _on_sign_in_required)  # type: ignore[arg-type]

