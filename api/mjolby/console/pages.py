"""What every console page shares: the templates, Swedish labels, the notice
after an action, and how errors and a missing sign-in are shown.

The console is server-rendered (Jinja2) with plain HTML forms that work
without JavaScript; a little script adds the live queue and live case view
(Server-Sent Events from the staff JSON API).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from mjolby.deps import ConsoleSignInRequired
from mjolby.errors import DomainError
from mjolby.staff.service import StaffContext

CONSOLE_DIR = Path(__file__).resolve().parent
LOCAL_TZ = ZoneInfo("Europe/Stockholm")

templates = Jinja2Templates(directory=CONSOLE_DIR / "templates")

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
ROLE_LABELS = {"agent": "Handläggare", "editor": "Redaktör", "admin": "Administratör", "lead": "Gruppledare"}
ACTION_LABELS = {
    "sign_in": "Loggade in", "sign_in_failed": "Misslyckad inloggning", "sign_out": "Loggade ut",
    "open_case": "Öppnade ärendets logg", "claim": "Tog ärendet", "return_to_bot": "Lämnade tillbaka till boten",
    "close": "Avslutade ärendet", "forward": "Vidarebefordrade", "close_contact_request": "Hanterade kontaktförfrågan",
    "create_staff": "Skapade konto", "set_chat_mode": "Ändrade chattens läge",
    "deactivate_staff": "Stängde av konto", "activate_staff": "Aktiverade konto",
    "change_role": "Ändrade roll", "reset_password": "Bytte lösenord åt konto",
    "request_publish": "Startade träning av en ny modell", "publish_model": "Publicerade en ny modell",
    "publish_override": "Publicerade en modell trots kvalitetskontrollen", "discard_model": "Kastade en ny modell",
    "rollback_model": "Återställde en tidigare modellversion",
    "publish_release": "Publicerade en ny version av assistenten",
    "queue_release": "Startade omträning med en ny version av assistenten",
    "inbox_added": "La till exempel från inkorgen", "inbox_new_topic": "Markerade att nytt ämne behövs",
    "inbox_dismissed": "Avfärdade meddelande i inkorgen",
    "create_topic": "Skapade ämne", "edit_topic": "Ändrade ämne", "retire_topic": "Avvecklade ämne",
    "add_example_topic": "La till exempelfråga i ämne",
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
    "deactivated": "Kontot är avstängt och utloggat överallt.",
    "activated": "Kontot är aktiverat igen.",
    "role_changed": "Rollen är ändrad. Kontot är utloggat och får logga in igen.",
    "password_reset": "Lösenordet är bytt. Kontot är utloggat överallt.",
    "mode": "Chattens läge är ändrat.",
    "signed_out": "Du är utloggad.",
    "training_started": "Träningen har börjat. Du kan lämna sidan och komma tillbaka.",
    "model_published": "Modellen är publicerad. Boten byter till den inom tio sekunder.",
    "model_discarded": "Den nya modellen är kastad.",
    "rolled_back": "Versionen är återställd. Boten byter till den inom tio sekunder.",
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


def page(request: Request, name: str, staff: StaffContext | None, status_code: int = 200,
         **context: Any) -> HTMLResponse:
    notice = NOTICES.get(request.query_params.get("klart", ""))
    return templates.TemplateResponse(
        request, name, {"staff": staff, "notice": notice, **context}, status_code=status_code
    )


def back(path: str, notice: str | None = None) -> RedirectResponse:
    """After a form post: see the page again, with what was done (303, so a reload posts nothing)."""
    target = path + (("?" + urlencode({"klart": notice})) if notice else "")
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


def render_error(request: Request, exc: DomainError, status_code: int) -> HTMLResponse:
    """A domain error under /staff/ as a page (http_errors decided the status)."""
    return templates.TemplateResponse(
        request, "error.html", {"staff": None, "notice": None, "message": exc.detail, "status": status_code},
        status_code=status_code,
    )


async def on_sign_in_required(request: Request, exc: ConsoleSignInRequired) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/staff/"
    return RedirectResponse(f"/staff/logga-in?nasta={quote(target, safe='/')}", status_code=status.HTTP_303_SEE_OTHER)
