"""Wake-up notifications for the live streams (Server-Sent Events).

A notification only says "channel X changed"; every stream then reads what is
new from the database. So the database stays the one source of truth: a
stream that missed a notification, reconnected after a restart or runs in
another API process still sends every message, in order, exactly once.

Channels: `conversation:<id>` (a message or state change in a conversation),
`queue` (a case was queued, claimed, cancelled or ended; staff presence) and
`staff-sessions` (a staff member signed out or an account was changed).

With REDIS_URL set, notifications also go through Redis pub/sub, so streams
in every API process wake up; without it they stay in this process. Either
way streams re-read the database every SAFETY_POLL_SECONDS, so a lost
notification (or Redis being down) only delays a message, never loses it.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

logger = logging.getLogger(__name__)

REDIS_PREFIX = "mjolby:events:"
SAFETY_POLL_SECONDS = 10.0


def conversation_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


QUEUE_CHANNEL = "queue"
# A staff session ended (signed out, account changed): staff streams re-check theirs.
SESSIONS_CHANNEL = "staff-sessions"


class Subscription:
    """A stream's wake-up flag for one channel."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """True when woken, False on timeout. Clears the flag."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._event.clear()


class EventHub:
    def __init__(self, redis_url: str | None = None) -> None:
        self.redis_url = redis_url
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None
        self._sync_redis: Any = None
        self._redis_retry_at = 0.0

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.redis_url:
            import redis

            self._sync_redis = redis.Redis.from_url(
                self.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
            )
            self._listener = asyncio.create_task(self._listen(), name="event-hub-redis")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        if self._sync_redis is not None:
            with suppress(Exception):
                self._sync_redis.close()
            self._sync_redis = None

    # -- publishing ----------------------------------------------------------
    def notify(self, *channels: str) -> None:
        """Wake the streams of these channels. Safe from any thread; never raises."""
        for channel in channels:
            self._wake_threadsafe(channel)
        if self._sync_redis is None or not channels:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            # Never block the event loop on the network.
            loop.run_in_executor(None, self._publish, channels)
        else:
            self._publish(channels)

    def _publish(self, channels: tuple[str, ...]) -> None:
        client = self._sync_redis
        if client is None or time.monotonic() < self._redis_retry_at:
            return
        try:
            for channel in channels:
                client.publish(REDIS_PREFIX + channel, "1")
        except Exception as exc:  # noqa: BLE001 - local streams are woken anyway
            # Skip Redis for a moment rather than stall every caller on a timeout.
            self._redis_retry_at = time.monotonic() + 5.0
            logger.warning("Could not publish a live notification to Redis: %s", type(exc).__name__)

    def _wake_threadsafe(self, channel: str) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake(channel)
        else:
            loop.call_soon_threadsafe(self._wake, channel)

    def _wake(self, channel: str) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.set()

    # -- subscribing ---------------------------------------------------------
    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[Subscription]:
        """One wake-up flag for any of the channels."""
        subscription = Subscription()
        for channel in channels:
            self._subscribers[channel].add(subscription)
        try:
            yield subscription
        finally:
            for channel in list(self._subscribers):
                self.unwatch(subscription, channel)

    def watch(self, subscription: Subscription, channel: str) -> None:
        """Also wake this subscription for another channel (until unwatch or the end of subscribe)."""
        self._subscribers[channel].add(subscription)

    def unwatch(self, subscription: Subscription, channel: str) -> None:
        subscribers = self._subscribers.get(channel)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(channel, None)

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        delay = 0.5
        while True:
            client = aioredis.Redis.from_url(self.redis_url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(REDIS_PREFIX + "*")
                    delay = 0.5
                    async for message in pubsub.listen():
                        if message.get("type") != "pmessage":
                            continue
                        channel = message["channel"]
                        if isinstance(channel, bytes):
                            channel = channel.decode()
                        self._wake(channel[len(REDIS_PREFIX):])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - retry; streams still poll
                logger.warning("Live notifications from Redis interrupted (%s); retrying", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            finally:
                with suppress(Exception):
                    await client.aclose()
