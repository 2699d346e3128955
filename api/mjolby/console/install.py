"""Mount the console on the app: its pages, static files and error pages."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mjolby.console import accounts, audit, availability, cases, contacts, editor_publish, pages, sign_in
from mjolby.console import editor_inbox
from mjolby.console import editor_topics
from mjolby.console import insight
from mjolby.deps import ConsoleSignInRequired

ROUTERS = (sign_in.router, cases.router, contacts.router, availability.router, audit.router, accounts.router,
           editor_topics.router, editor_inbox.router, editor_publish.router, insight.router)


def install_console(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/staff/static", StaticFiles(directory=pages.CONSOLE_DIR / "static"), name="staff-static")
    # http_errors shows domain errors under /staff/ with this page.
    app.state.console_error_renderer = pages.render_error
    app.add_exception_handler(ConsoleSignInRequired, pages.on_sign_in_required)  # type: ignore[arg-type]
