"""Per-conversation and per-client limits (token buckets) and growing delays.

A limit of N per minute lets a burst of N through and then one request every
60/N seconds. A growing delay (`Backoff`) lets a few attempts through and then
doubles the wait after each further one; staff sign-in uses it. With REDIS_URL
set, both live in Redis so that every API replica counts the same requests;
without it they live in this process. Every check is atomic: a Lua script in
Redis, plain code without an `await` in the event loop otherwise.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from mjolby.errors import RateLimited

logger = logging.getLogger(__name__)

# Buckets idle this long are full again and can be forgotten.
_FORGET_AFTER_SECONDS = 120.0
_PRUNE_EVERY = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True)
class Backoff:
    """A growing delay: `free` attempts pass at once; each one from then on makes
    the next wait `base_seconds`, then twice as long, up to `max_seconds`.
    Everything is forgotten `forget_seconds` after the last attempt."""

    free: int
    base_seconds: float
    max_seconds: float
    forget_seconds: float

    def delay(self, attempts: int) -> float:
        over = attempts - self.free
        if over < 0:
            return 0.0
        return min(self.max_seconds, self.base_seconds * 2.0 ** min(over, 62))


@dataclass
class _Attempts:
    count: int
    blocked_until: float
    forget_at: float


class MemoryBuckets:
    """Token buckets in this process. Not shared between replicas."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._attempts: dict[str, _Attempts] = {}
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
        for key in [k for k, a in self._attempts.items() if a.forget_at <= now]:
            del self._attempts[key]

    # -- growing delays ------------------------------------------------------
    async def attempt(self, key: str, policy: Backoff) -> float:
        """Count an attempt; return 0 if it may go ahead, else the seconds to wait."""
        return self.attempt_now(key, policy)

    def attempt_now(self, key: str, policy: Backoff) -> float:
        now = self._clock()
        state = self._attempts.get(key)
        if state is None or state.forget_at <= now:
            state = self._attempts[key] = _Attempts(count=0, blocked_until=0.0, forget_at=now)
        if now < state.blocked_until:
            return state.blocked_until - now
        state.count += 1
        delay = policy.delay(state.count)
        state.blocked_until = now + delay if delay > 0 else 0.0
        state.forget_at = now + delay + policy.forget_seconds
        self._checks += 1
        if self._checks % _PRUNE_EVERY == 0:
            self._prune(now)
        return 0.0

    async def forgive(self, key: str, policy: Backoff) -> None:
        """Take back one counted attempt (it turned out fine)."""
        self.forgive_now(key, policy)

    def forgive_now(self, key: str, policy: Backoff) -> None:
        state = self._attempts.get(key)
        if state is None:
            return
        state.count = max(0, state.count - 1)
        if state.count < policy.free:
            state.blocked_until = 0.0

    async def reset(self, key: str) -> None:
        self.reset_now(key)

    def reset_now(self, key: str) -> None:
        self._attempts.pop(key, None)

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


# The same growing delay in Redis. KEYS[1]: the attempts hash.
_REDIS_ATTEMPT = """
local free = tonumber(ARGV[1])
local base = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local forget = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'count', 'until')
local count = tonumber(state[1]) or 0
local blocked = tonumber(state[2]) or 0
if now < blocked then
  return tostring(blocked - now)
end
count = count + 1
local delay = 0
if count >= free then
  delay = math.min(cap, base * 2 ^ math.min(count - free, 62))
end
if delay > 0 then blocked = now + delay else blocked = 0 end
redis.call('HSET', KEYS[1], 'count', tostring(count), 'until', tostring(blocked))
redis.call('EXPIRE', KEYS[1], math.ceil(delay + forget))
return '0'
"""

_REDIS_FORGIVE = """
local free = tonumber(ARGV[1])
local count = tonumber(redis.call('HGET', KEYS[1], 'count'))
if not count then return 0 end
count = math.max(0, count - 1)
redis.call('HSET', KEYS[1], 'count', tostring(count))
if count < free then redis.call('HSET', KEYS[1], 'until', '0') end
return 0
"""


class RedisBuckets:
    """Token buckets shared by all replicas. Falls back to local buckets if Redis fails."""

    def __init__(self, url: str, *, prefix: str = "mjolby:ratelimit:") -> None:
        import redis.asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._redis.register_script(_REDIS_TAKE)
        self._attempt_script = self._redis.register_script(_REDIS_ATTEMPT)
        self._forgive_script = self._redis.register_script(_REDIS_FORGIVE)
        self._prefix = prefix
        self._fallback = MemoryBuckets()
        self._failing = False

    async def take(self, key: str, per_minute: int) -> float:
        try:
            wait = float(await self._script(keys=[self._prefix + key],
                                            args=[per_minute, per_minute / 60.0]))
        except Exception as exc:  # noqa: BLE001 - limits must not take the chat down
            self._unavailable(exc)
            return self._fallback.take_now(key, per_minute)
        self._recovered()
        return wait

    def _unavailable(self, exc: Exception) -> None:
        if not self._failing:
            logger.warning("Redis rate limiting unavailable (%s); limiting per process",
                           type(exc).__name__)
            self._failing = True

    def _recovered(self) -> None:
        if self._failing:
            logger.info("Redis rate limiting available again")
            self._failing = False

    async def attempt(self, key: str, policy: Backoff) -> float:
        try:
            wait = float(await self._attempt_script(
                keys=[self._prefix + key],
                args=[policy.free, policy.base_seconds, policy.max_seconds, policy.forget_seconds]))
        except Exception as exc:  # noqa: BLE001 - limits must not take the service down
            self._unavailable(exc)
            return self._fallback.attempt_now(key, policy)
        self._recovered()
        return wait

    async def forgive(self, key: str, policy: Backoff) -> None:
        try:
            await self._forgive_script(keys=[self._prefix + key], args=[policy.free])
        except Exception as exc:  # noqa: BLE001
            self._unavailable(exc)
            self._fallback.forgive_now(key, policy)

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except Exception as exc:  # noqa: BLE001
            self._unavailable(exc)
        self._fallback.reset_now(key)

    async def aclose(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    def __init__(self, *, conversation_per_minute: int, client_per_minute: int,
                 buckets: MemoryBuckets | RedisBuckets, client_reads_per_minute: int = 0) -> None:
        self.conversation_per_minute = conversation_per_minute
        self.client_per_minute = client_per_minute
        self.client_reads_per_minute = client_reads_per_minute
        self.buckets = buckets

    async def check_client(self, client_key: str) -> None:
        await self._check(f"client:{client_key}", self.client_per_minute)

    async def check_client_read(self, client_key: str, detail: str | None = None) -> None:
        """Reads (polling, opening a live stream) have their own, larger allowance."""
        await self._check(f"read:{client_key}", self.client_reads_per_minute, detail)

    async def check_conversation(self, conversation_id: str) -> None:
        await self._check(f"conversation:{conversation_id}", self.conversation_per_minute)

    async def _check(self, key: str, per_minute: int, detail: str | None = None) -> None:
        if per_minute <= 0:  # 0 disables the limit
            return
        wait = await self.buckets.take(key, per_minute)
        if wait > 0:
            raise RateLimited(retry_after=max(1, math.ceil(wait)), detail=detail)

    async def aclose(self) -> None:
        await self.buckets.aclose()


class TooManyStreams(Exception):
    """A client or a conversation already has as many live streams open as allowed."""


class StreamSlots:
    """Counts the live streams open in this process, per client and per conversation.

    Open streams hold a connection and a task each; they are capped per process,
    which is where they cost. A cap of 0 disables that cap.
    """

    def __init__(self, *, per_client: int, per_conversation: int) -> None:
        self.per_client = per_client
        self.per_conversation = per_conversation
        self._open: dict[str, int] = {}

    def acquire(self, *, client: str, conversation: str) -> tuple[str, str]:
        keys = (f"client:{client}", f"conversation:{conversation}")
        for key, cap in zip(keys, (self.per_client, self.per_conversation), strict=True):
            if cap > 0 and self._open.get(key, 0) >= cap:
                raise TooManyStreams()
        for key in keys:
            self._open[key] = self._open.get(key, 0) + 1
        return keys

    def release(self, keys: tuple[str, str]) -> None:
        for key in keys:
            left = self._open.get(key, 0) - 1
            if left > 0:
                self._open[key] = left
            else:
                self._open.pop(key, None)

    def open_count(self, *, client: str | None = None, conversation: str | None = None) -> int:
        key = f"client:{client}" if client is not None else f"conversation:{conversation}"
        return self._open.get(key, 0)


def client_key(secret: str, address: str) -> str:
    """A keyed hash of the client address, so the address itself is never stored."""
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
