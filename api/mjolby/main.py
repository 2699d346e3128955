"""The FastAPI application: routers, error handlers, demo page and lifespan."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from mjolby.config import Settings, get_settings
from mjolby.console.install import install_console
from mjolby.conversations.router import router as conversations_router
from mjolby.db import Database, utcnow
from mjolby.events import EventHub
from mjolby.feedback.capture import inbox_capture
from mjolby.feedback.router import router as feedback_router
from mjolby.handover import router_citizen, router_internal, router_staff
from mjolby.handover.cases import expire_idle_cases, waiting_line
from mjolby.health.router import router as health_router
from mjolby.publishing import router_internal as publishing_internal
from mjolby.publishing import service as publishing_service
from mjolby.http_errors import install_error_handlers
from mjolby.health.service import HealthMonitor
from mjolby.knowledge_store import router_internal as knowledge_internal
from mjolby.knowledge_store.service import import_on_start as import_knowledge_on_start
from mjolby.logging_setup import configure_logging
from mjolby.middleware import BodySizeLimitMiddleware
from mjolby.migrate import upgrade_head
from mjolby.openapi import install_openapi
from mjolby.organisation import organisation
from mjolby.rasa_client import RasaClient
from mjolby.ratelimit import MemoryBuckets, RateLimiter, RedisBuckets
from mjolby.security_headers import SecurityHeadersMiddleware
from mjolby.staff import service as staff_service
from mjolby.staff.router import router as staff_router
from mjolby.staff.throttle import make_login_throttle

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
API_PREFIX = "/api/v1"
# Large enough for 2,000 characters of any script as JSON, small enough that
# nobody makes us parse megabytes.
MAX_BODY_BYTES = 64 * 1024
# How often the API looks for handovers nobody has written in (HANDOVER_IDLE_MINUTES).
IDLE_CHECK_SECONDS = 60.0


def create_app(settings: Settings | None = None, *, database: Database | None = None,
               rasa_transport: httpx.AsyncBaseTransport | None = None,
               run_migrations: bool = True, import_knowledge: bool | None = None,
               clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """Build the app. Tests pass their own database, a fake bot and a clock."""
    settings = settings or get_settings()
    configure_logging(settings)
    owns_database = database is None
    database = database or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_migrations:
            await run_in_threadpool(upgrade_head, settings.database_url)
        if run_migrations if import_knowledge is None else import_knowledge:
            # knowledge/ into the editors' knowledge store (idempotent).
            await run_in_threadpool(_import_knowledge, database, settings)
            # A model setup trained with new code: published, or retrained by the worker.
            await run_in_threadpool(_release_setup_model, database, settings)
        rasa = RasaClient(rasa_url=settings.rasa_url, action_server_url=settings.action_server_url,
                          timeout=settings.rasa_timeout_seconds, transport=rasa_transport)
        buckets = RedisBuckets(settings.redis_url) if settings.redis_url else MemoryBuckets()
        app.state.rasa = rasa
        app.state.limiter = RateLimiter(
            conversation_per_minute=settings.rate_limit_conversation_per_minute,
            client_per_minute=settings.rate_limit_client_per_minute,
            client_reads_per_minute=settings.rate_limit_client_reads_per_minute,
            buckets=buckets,
        )
        app.state.login_throttle = make_login_throttle(settings, buckets)

        async def probe_database() -> bool:
            return await run_in_threadpool(database.ping)

        app.state.health = HealthMonitor(probe_bot=rasa.probe, probe_database=probe_database)
        # Handover: live notifications (Redis pub/sub across replicas when set)
        # and the first staff admin from the environment.
        app.state.events = EventHub(settings.redis_url)
        await app.state.events.start()
        await run_in_threadpool(_ensure_first_admin, database, settings)
        idle_check = None
        if settings.handover_idle_minutes:
            idle_check = asyncio.create_task(_end_idle_handovers_periodically(app), name="idle-handovers")
        logger.info("Chat API started: demo page %s/, API %s%s (%s)",
                    settings.public_base_url, settings.public_base_url, API_PREFIX,
                    settings.environment)
        try:
            yield
        finally:
            if idle_check is not None:
                idle_check.cancel()
                with suppress(asyncio.CancelledError):
                    await idle_check
            await app.state.events.stop()
            await rasa.aclose()
            await app.state.limiter.aclose()
            if owns_database:
                database.dispose()

    app = FastAPI(
        title="Mjölby kommun: chattassistentens API",
        version="1.0.0",
        description=(
            "Public chat API of the Mjölby kommun assistant (contract version 1). "
            'Errors are always `{"detail": "..."}` in Swedish.'
        ),
        # The OpenAPI document is the reference; no HTML docs, which would load
        # their scripts from a CDN.
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # Off: spans and telemetry logs would carry unmasked request data.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.database = database
    app.state.clock = clock
    # The chat routes learn a conversation's place in the queue, and let a citizen
    # stop waiting, through this; conversations never import the handover.
    app.state.waiting_line = waiting_line
    # Missed and unsure turns land in the editors' inbox through this (mjolby.feedback).
    app.state.turn_observer = inbox_capture

    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            expose_headers=["Retry-After"],
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware, production=settings.environment == "production",
                       frame_ancestors=settings.frame_ancestors, widget_dir=settings.widget_dist_dir)
    # Outermost: the client address every limit counts by is the citizen's, read
    # from X-Forwarded-For only when a trusted proxy (FORWARDED_ALLOW_IPS) sent it.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(health_router)
    api.include_router(conversations_router)
    api.include_router(feedback_router)
    api.include_router(router_citizen.router)
    api.include_router(router_internal.router)
    api.include_router(publishing_internal.router)
    api.include_router(knowledge_internal.router)
    api.include_router(staff_router)
    api.include_router(router_staff.availability_router)
    api.include_router(router_staff.router)
    app.include_router(api)
    install_console(app)
    _mount_demo_page(app, settings)
    return app


async def end_idle_handovers(app: FastAPI) -> int:
    """End the handovers idle for HANDOVER_IDLE_MINUTES and wake their streams, so
    that a citizen still in the chat sees why. Returns how many ended."""
    settings: Settings = app.state.settings
    database: Database = app.state.database
    idle = timedelta(minutes=settings.handover_idle_minutes)

    def run() -> Any:
        with database.session() as db:
            return expire_idle_cases(db=db, now=app.state.clock(), idle=idle)

    changed = await run_in_threadpool(run)
    if changed.channels:
        app.state.events.notify(*changed.channels)
    return len(changed.messages)


async def _end_idle_handovers_periodically(app: FastAPI) -> None:
    while True:
        await asyncio.sleep(IDLE_CHECK_SECONDS)
        try:
            ended = await end_idle_handovers(app)
        except Exception as exc:  # noqa: BLE001 - try again at the next check
            logger.warning("Ending idle handovers failed (%s)", type(exc).__name__)
            continue
        if ended:
            logger.info("Ended %d idle handover(s)", ended)


def _ensure_first_admin(database: Database, settings: Settings) -> None:
    password = settings.staff_admin_password.get_secret_value() if settings.staff_admin_password else None
    with database.session() as db:
        staff_service.ensure_first_admin(db=db, email=settings.staff_admin_email, password=password)


def _import_knowledge(database: Database, settings: Settings) -> None:
    with database.session() as db:
        import_knowledge_on_start(db, settings.knowledge_dir)


def _release_setup_model(database: Database, settings: Settings) -> None:
    with database.session() as db:
        publishing_service.release_on_start(db=db, data_dir=settings.data_dir, now=utcnow())


def _mount_demo_page(app: FastAPI, settings: Settings) -> None:
    templates = Jinja2Templates(directory=PACKAGE_DIR / "templates")
    contact = organisation()
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    widget_available = (settings.widget_dist_dir / "widget.js").is_file()
    if widget_available:
        app.mount("/widget", StaticFiles(directory=settings.widget_dist_dir), name="widget")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def demo_page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(
            request, "index.html",
            {"widget_available": widget_available, "phone": contact.phone,
             "phone_href": contact.phone_href, "email": contact.medborgarservice_email},
        )


def __getattr__(name: str) -> FastAPI:
    # `uvicorn mjolby.main:app` gets the app built from the environment. It is
    # made on first use, so that importing create_app (tests, tools) writes no
    # logs and opens no database.
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
