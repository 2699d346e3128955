"""Typed dependencies shared by the routers."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mjolby.config import Settings
from mjolby.health.service import HealthMonitor
from mjolby.rasa_client import RasaClient
from mjolby.ratelimit import RateLimiter, client_key


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


def get_rasa(request: Request) -> RasaClient:
    return request.app.state.rasa


def get_limiter(request: Request) -> RateLimiter:
    return request.app.state.limiter


def get_health_monitor(request: Request) -> HealthMonitor:
    return request.app.state.health


def get_clock(request: Request) -> Callable[[], datetime]:
    return request.app.state.clock


def get_client_key(request: Request) -> str:
    address = request.client.host if request.client else "unknown"
    secret = request.app.state.settings.secret_key.get_secret_value()
    return client_key(secret, address)


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
HealthMonitorDep = Annotated[HealthMonitor, Depends(get_health_monitor)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
ClientKeyDep = Annotated[str, Depends(get_client_key)]
