"""Per-conversation and per-client message limits (token buckets).

A limit of N per minute lets a burst of N through and then one message every
60/N seconds. With REDIS_URL set, the buckets live in Redis so that every API
replica counts the same messages; without it they live in this process.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# Buckets idle this long are full again and can be forgotten.
_FORGET_AFTER_SECONDS = 120.0
_PRUNE_EVERY = 10_000


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited, retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    updated: float


class MemoryBuckets:
    """Token buckets in this process. Not shared between replicas."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._checks = 0

    async def take(self, key: str, per_minute: int) -> float:
        """Take one token; return 0 if allowed, else the seconds until one is free."""
        return self.take_now(key, per_minute)

    def take_now(self, key: str, per_minute: int) -> float:
        now = self._clock()
        rate = per_minute / 60.0
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=float(per_minute), updated=now)
        else:
            bucket.tokens = min(float(per_minute), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
        self._checks += 1
        if self._checks % _PRUNE_EVERY == 0:
            self._prune(now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    def _prune(self, now: float) -> None:
        stale = [k for k, b in self._buckets.items() if now - b.updated > _FORGET_AFTER_SECONDS]
        for key in stale:
            del self._buckets[key]

    async def aclose(self) -> None:
        return None


# Atomic token bucket in Redis, on Redis' own clock so replicas agree.
_REDIS_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return tostring(wait)
"""


class RedisBuckets:
    """Token buckets shared by all replicas. Falls back to local buckets if Redis fails."""

    def __init__(self, url: str, *, prefix: str = "mjolby:ratelimit:") -> None:
        import redis.asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._redis.register_script(_REDIS_TAKE)
        self._prefix = prefix
        self._fallback = MemoryBuckets()
        self._failing = False

    async def take(self, key: str, per_minute: int) -> float:
        try:
            wait = float(await self._script(keys=[self._prefix + key],
                                            args=[per_minute, per_minute / 60.0]))
        except Exception as exc:  # noqa: BLE001 - limits must not take the chat down
            if not self._failing:
                logger.warning("Redis rate limiting unavailable (%s); limiting per process",
                               type(exc).__name__)
                self._failing = True
            return self._fallback.take_now(key, per_minute)
        if self._failing:
            logger.info("Redis rate limiting available again")
            self._failing = False
        return wait

    async def aclose(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    def __init__(self, *, conversation_per_minute: int, client_per_minute: int,
                 buckets: MemoryBuckets | RedisBuckets) -> None:
        self.conversation_per_minute = conversation_per_minute
        self.client_per_minute = client_per_minute
        self.buckets = buckets

    async def check_client(self, client_key: str) -> None:
        await self._check(f"client:{client_key}", self.client_per_minute)

    async def check_conversation(self, conversation_id: str) -> None:
        await self._check(f"conversation:{conversation_id}", self.conversation_per_minute)

    async def _check(self, key: str, per_minute: int) -> None:
        if per_minute <= 0:  # 0 disables the limit
            return
        wait = await self.buckets.take(key, per_minute)
        if wait > 0:
            raise RateLimited(retry_after=max(1, math.ceil(wait)))

    async def aclose(self) -> None:
        await self.buckets.aclose()


def client_key(secret: str, address: str) -> str:
    """A keyed hash of the client address, so the address itself is never stored."""
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
