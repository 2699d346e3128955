"""Staff sign-in: limits that hold before any password is checked.

Checking a password costs 64 MiB of memory and real CPU time (argon2), so every
attempt passes three limits first, each counted atomically (in Redis when
REDIS_URL is set, see mjolby.ratelimit):

- per address: a growing delay once one address has failed many times;
- per account and address: a growing delay after a few failures, reset by a
  successful sign-in. A stranger guessing the admin's password from elsewhere
  slows down only themselves: the admin signs in from their own address as usual;
- for everyone together: a ceiling of checks per minute, and only a few checks
  at the same time in one process.

Nothing locks an account; waits double up to a quarter of an hour and are
forgotten an hour after the last attempt.
"""
from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from mjolby.config import Settings
from mjolby.errors import RateLimited, Unauthorized
from mjolby.ratelimit import Backoff, MemoryBuckets, RedisBuckets, client_key
from mjolby.staff import service
from mjolby.staff.models import StaffUser

ACCOUNT_AND_ADDRESS = Backoff(free=5, base_seconds=2.0, max_seconds=900.0, forget_seconds=3600.0)
ADDRESS = Backoff(free=30, base_seconds=2.0, max_seconds=900.0, forget_seconds=3600.0)
EVERYONE_KEY = "login:everyone"

FAILED_LOGIN = "Fel e-postadress eller lösenord."


class LoginThrottled(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"sign-in throttled for {retry_after:.0f} s")
        self.retry_after = max(1, math.ceil(retry_after))


def too_many_attempts(seconds: int) -> str:
    if seconds < 60:
        wait = "en liten stund" if seconds <= 10 else f"{seconds} sekunder"
    else:
        minutes = math.ceil(seconds / 60)
        wait = "en minut" if minutes == 1 else f"{minutes} minuter"
    return f"För många inloggningsförsök. Vänta {wait} och försök igen."


class LoginThrottle:
    def __init__(self, *, buckets: MemoryBuckets | RedisBuckets, secret: str, per_minute: int,
                 concurrency: int) -> None:
        self._buckets = buckets
        self._secret = secret
        self._per_minute = per_minute
        self._checking = asyncio.Semaphore(concurrency)

    def _keys(self, email: str, address: str) -> tuple[str, str]:
        # Keyed hashes: neither the address nor the e-mail is kept in Redis.
        account = client_key(self._secret, f"{service.normalise_email(email)}\n{address}")
        return f"login:account:{account}", f"login:address:{client_key(self._secret, address)}"

    async def admit(self, email: str, address: str) -> None:
        """Count an attempt, or raise LoginThrottled if it must wait."""
        account, by_address = self._keys(email, address)
        wait = await self._buckets.attempt(by_address, ADDRESS)
        if wait > 0:
            raise LoginThrottled(wait)
        wait = await self._buckets.attempt(account, ACCOUNT_AND_ADDRESS)
        if wait > 0:
            await self._buckets.forgive(by_address, ADDRESS)
            raise LoginThrottled(wait)
        wait = await self._buckets.take(EVERYONE_KEY, self._per_minute)
        if wait > 0:
            await self._buckets.forgive(by_address, ADDRESS)
            await self._buckets.forgive(account, ACCOUNT_AND_ADDRESS)
            raise LoginThrottled(wait)

    async def succeeded(self, email: str, address: str) -> None:
        account, by_address = self._keys(email, address)
        await self._buckets.reset(account)
        await self._buckets.forgive(by_address, ADDRESS)

    @property
    def checking(self) -> asyncio.Semaphore:
        """Held while a password is checked: bounds the memory argon2 takes."""
        return self._checking


def get_login_throttle(request: Request) -> LoginThrottle:
    throttle = getattr(request.app.state, "login_throttle", None)
    if throttle is None:  # an app without the lifespan hook: limits in this process
        request.app.state.login_throttle = throttle = make_login_throttle(request.app.state.settings,
                                                                          MemoryBuckets())
    return throttle


def make_login_throttle(settings: Settings, buckets: MemoryBuckets | RedisBuckets) -> LoginThrottle:
    assert settings.secret_key is not None
    return LoginThrottle(buckets=buckets, secret=settings.secret_key.get_secret_value(),
                         per_minute=settings.staff_login_per_minute,
                         concurrency=settings.staff_login_concurrency)


async def sign_in(request: Request, *, db: Any, email: str, password: str, now: datetime,
                  settings: Settings) -> tuple[str, str, StaffUser]:
    """Check the limits, then the password; start a session. (token, CSRF token, user)."""
    throttle = get_login_throttle(request)
    address = request.client.host if request.client else "unknown"
    try:
        await throttle.admit(email, address)
    except LoginThrottled as exc:
        raise RateLimited(exc.retry_after, too_many_attempts(exc.retry_after), "too_many_attempts") from None
    async with throttle.checking:
        user = await run_in_threadpool(service.authenticate, db=db, email=email, password=password, now=now)
    if user is None:
        raise Unauthorized(FAILED_LOGIN, "bad_credentials")
    await throttle.succeeded(email, address)
    token, csrf = await run_in_threadpool(service.start_session, db=db, user=user, now=now,
                                          hours=settings.staff_session_hours,
                                          idle_minutes=settings.staff_idle_minutes)
    return token, csrf, user
