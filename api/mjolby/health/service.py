"""Readiness probe of the API, the database and the bot, cached briefly."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mjolby.rasa_client import BotStatus

CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class Health:
    database_ok: bool
    bot: BotStatus

    @property
    def ready(self) -> bool:
        return self.database_ok and self.bot is BotStatus.READY

    @property
    def status(self) -> str:
        # "degraded": something that should run does not (the database, or the
        # bot is unreachable). A bot that is still loading its model is normal.
        return "ok" if self.database_ok and self.bot is not BotStatus.DOWN else "degraded"


class HealthMonitor:
    """Probes at most once per CACHE_SECONDS, however often health is asked."""

    def __init__(self, *, probe_bot: Callable[[], Awaitable[BotStatus]],
                 probe_database: Callable[[], Awaitable[bool]],
                 clock: Callable[[], float] = time.monotonic,
                 cache_seconds: float = CACHE_SECONDS) -> None:
        self._probe_bot = probe_bot
        self._probe_database = probe_database
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._lock = asyncio.Lock()
        self._last: Health | None = None
        self._last_at = 0.0

    async def check(self) -> Health:
        if self._fresh():
            assert self._last is not None
            return self._last
        async with self._lock:
            if self._fresh():  # another request probed while we waited
                assert self._last is not None
                return self._last
            bot, database_ok = await asyncio.gather(self._probe_bot(), self._probe_database())
            self._last, self._last_at = Health(database_ok=database_ok, bot=bot), self._clock()
            return self._last

    def _fresh(self) -> bool:
        return self._last is not None and self._clock() - self._last_at < self._cache_seconds
