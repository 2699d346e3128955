"""Client of the bot: Rasa's gateway channel and the action server.

One pooled httpx.AsyncClient for the life of the app, sending with aiohttp
(mjolby/aiohttp_transport.py). Callers get parsed replies or RasaUnavailable;
they decide what the citizen sees.

Several Rasa replicas (RASA_URL is a comma-separated list) share one tracker
store (PostgreSQL) and one lock store (Redis). Every message of a conversation
goes to the same replica, its owner, chosen by consistent hashing of the
conversation id, so adding or losing a replica moves only that replica's
conversations. Only when the owner cannot be connected to does a message go
to the next replica on the ring.

Why this matters: Rasa Open Source's RedisLockStore issues a ticket by
reading the lock from Redis, changing it and writing it back, which is not
atomic across processes (issue #9213, PR #11256). When two replicas take the
same conversation at the same moment, both can believe they hold the lock and
write the tracker out of order. Inside one replica those steps are synchronous
calls on one event loop, so they cannot interleave. With one owner per
conversation the lock is therefore only contended inside one replica; another
replica takes over only after a failed connection, that is when the owner is
down and handles nothing (a lock it held when it died expires after Rasa's
TICKET_LOCK_LIFETIME, which the cluster sets to 3 s). A timeout or a broken
answer is never retried on another replica: the owner may still be handling
that message.
"""
from __future__ import annotations

import asyncio
import bisect
import enum
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from mjolby.aiohttp_transport import AiohttpTransport

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/gateway/webhook"
HEALTH_PATH = "/webhooks/gateway/health"
ACTION_SERVER_HEALTH_PATH = "/health"
PROBE_TIMEOUT_SECONDS = 2.0
# A successful reachability check is trusted this long; a failed one never is.
REACHABLE_TTL_SECONDS = 5.0
# Points per replica on the hash ring: enough for an even share of conversations.
VIRTUAL_NODES = 64
# A replica that refused a connection gets no messages until its health check,
# made this often in the background, says its model is loaded again. A restarted
# replica may accept connections while it still loads its model, and would hold
# messages until they time out.
DOWN_PROBE_SECONDS = 1.0


class BotStatus(enum.StrEnum):
    READY = "ready"
    STARTING = "starting"
    DOWN = "down"


class RasaUnavailable(Exception):
    """Rasa did not answer usefully (down, timeout, error status, bad body)."""


@dataclass(frozen=True)
class BotReply:
    text: str | None
    topic: str | None = None
    links: list[dict[str, str]] = field(default_factory=list)
    buttons: list[dict[str, str]] = field(default_factory=list)
    custom: dict[str, Any] | None = None

    @property
    def has_content(self) -> bool:
        return bool(self.text or self.buttons or self.links)


def _ring_hash(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


class ReplicaRing:
    """Consistent hashing of conversation ids onto Rasa replicas."""

    def __init__(self, urls: list[str]) -> None:
        if not urls:
            raise ValueError("at least one Rasa URL is needed")
        self.urls = list(dict.fromkeys(urls))
        points = sorted((_ring_hash(f"{url}#{i}"), url) for url in self.urls for i in range(VIRTUAL_NODES))
        self._hashes = [point for point, _ in points]
        self._owners = [url for _, url in points]

    def preference(self, key: str) -> list[str]:
        """Every replica once: the owner of `key` first, then the next ones on the ring."""
        if len(self.urls) == 1:
            return list(self.urls)
        start = bisect.bisect(self._hashes, _ring_hash(key))
        order: list[str] = []
        for i in range(len(self._owners)):
            url = self._owners[(start + i) % len(self._owners)]
            if url not in order:
                order.append(url)
                if len(order) == len(self.urls):
                    break
        return order


def split_urls(value: str) -> list[str]:
    """RASA_URL: one URL or several separated by commas."""
    return [url.strip().rstrip("/") for url in value.split(",") if url.strip()]


class RasaClient:
    def __init__(self, *, rasa_url: str, action_server_url: str, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 down_probe_seconds: float = DOWN_PROBE_SECONDS) -> None:
        self.ring = ReplicaRing(split_urls(rasa_url))
        self.rasa_urls = self.ring.urls
        self.rasa_url = self.rasa_urls[0]
        self.action_server_url = action_server_url.rstrip("/")
        self._clock = clock
        self._down_probe_seconds = down_probe_seconds
        # Replicas that refused a connection, each with the task that watches for its return.
        self._down: dict[str, asyncio.Task[None]] = {}
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport or AiohttpTransport(max_connections=100),
            trust_env=False,  # Rasa is on a private address; never via a proxy
        )
        self._reachable_until = 0.0

    async def reachable(self) -> bool:
        """Whether Rasa answers with a model loaded (cheap: no dialogue turn).

        Used where the gateway answers by itself but the citizen should know
        at once that the bot cannot be reached.
        """
        if self._clock() < self._reachable_until:
            return True
        answers = await asyncio.gather(*(self._get_json(url + HEALTH_PATH) for url in self.rasa_urls))
        ready = any(_answers(answer, "model", True) for answer in answers)
        self._reachable_until = self._clock() + REACHABLE_TTL_SECONDS if ready else 0.0
        return ready

    async def aclose(self) -> None:
        for task in self._down.values():
            task.cancel()
        self._down.clear()
        await self._http.aclose()

    async def send(self, sender: str, message: str,
                   metadata: dict[str, Any] | None = None) -> list[BotReply]:
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        response = await self._post_to_owner(sender, body)
        if response.status_code != 200:
            raise RasaUnavailable(f"status {response.status_code}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise RasaUnavailable("response is not JSON") from exc
        if not isinstance(payload, list):
            raise RasaUnavailable("response is not a list")
        replies = [reply for item in payload if (reply := parse_reply(item)) is not None]
        if not any(reply.has_content for reply in replies) and not await self._actions_answer():
            # Rasa carries on without the events of an action it could not run,
            # so a silent bot whose action server is down is an unreachable bot,
            # not one without an answer.
            raise RasaUnavailable("action server down")
        return replies

    def route(self, conversation_id: str) -> list[str]:
        """The replicas to try for this conversation, in order: its owner first
        unless the owner is down (then all of them, in case one is back)."""
        order = self.ring.preference(conversation_id)
        return [url for url in order if url not in self._down] or order

    def _mark_down(self, url: str) -> None:
        if url not in self._down:
            self._down[url] = asyncio.create_task(self._watch_until_ready(url), name=f"rasa-down {url}")

    def _mark_up(self, url: str) -> None:
        task = self._down.pop(url, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _watch_until_ready(self, url: str) -> None:
        while True:
            await asyncio.sleep(self._down_probe_seconds)
            if _answers(await self._get_json(url + HEALTH_PATH), "model", True):
                logger.info("Rasa replica %s is back; its conversations return to it", url)
                self._mark_up(url)
                return

    async def _post_to_owner(self, conversation_id: str, body: dict[str, Any]) -> httpx.Response:
        failure = "no replica"
        for url in self.route(conversation_id):
            try:
                response = await self._http.post(url + WEBHOOK_PATH, json=body)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached this replica, so it holds no lock and wrote
                # nothing: the next replica on the ring may take the message.
                self._mark_down(url)
                failure = type(exc).__name__
                logger.warning("Rasa replica %s cannot be reached (%s); trying the next one", url, failure)
                continue
            except httpx.HTTPError as exc:
                # The replica may be handling the message still: another one must
                # not take the same conversation now, so the citizen tries again.
                raise RasaUnavailable(type(exc).__name__) from exc
            self._mark_up(url)
            return response
        raise RasaUnavailable(failure)

    async def _actions_answer(self) -> bool:
        health = await self._get_json(self.action_server_url + ACTION_SERVER_HEALTH_PATH)
        return _answers(health, "status", "ok")

    async def probe(self) -> BotStatus:
        """Ready only if a model is loaded on some replica and the action server answers."""
        *replicas, actions = await asyncio.gather(
            *(self._get_json(url + HEALTH_PATH) for url in self.rasa_urls),
            self._get_json(self.action_server_url + ACTION_SERVER_HEALTH_PATH),
        )
        if all(answer is None for answer in replicas):
            return BotStatus.DOWN
        model_loaded = any(_answers(answer, "model", True) for answer in replicas)
        actions_ok = _answers(actions, "status", "ok")
        return BotStatus.READY if model_loaded and actions_ok else BotStatus.STARTING

    async def _get_json(self, url: str) -> tuple[int, Any] | None:
        """(status, body) of a GET, or None when nothing answered at all."""
        try:
            response = await self._http.get(url, timeout=PROBE_TIMEOUT_SECONDS)
        except httpx.HTTPError:
            return None
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None


def _answers(result: tuple[int, Any] | None, key: str, value: Any) -> bool:
    """A health check answered 200 with `key` set to `value` in its JSON body."""
    if result is None or result[0] != 200 or not isinstance(result[1], dict):
        return False
    got = result[1].get(key)
    return type(got) is type(value) and got == value  # `1` is not `True`


def _pairs(items: Any, first: str, second: str) -> list[dict[str, str]]:
    if not isinstance(items, list):
        return []
    return [
        {first: item[first], second: item[second]}
        for item in items
        if isinstance(item, dict)
        and isinstance(item.get(first), str)
        and isinstance(item.get(second), str)
    ]


def parse_reply(item: Any) -> BotReply | None:
    """One bot message from the gateway channel; None if it is not one."""
    if not isinstance(item, dict):
        logger.warning("Ignoring a bot message that is not an object")
        return None
    text = item.get("text")
    topic = item.get("topic")
    custom = item.get("custom")
    links = _pairs(item.get("links"), "title", "url")
    https_links = [link for link in links if link["url"].startswith("https://")]
    if len(https_links) != len(links):
        # The contract promises absolute https links; a bad one is a knowledge bug.
        logger.warning("Dropped %d non-https link(s) from a bot message (topic %s)",
                       len(links) - len(https_links), topic)
    return BotReply(
        text=text if isinstance(text, str) else None,
        topic=topic if isinstance(topic, str) and topic else None,
        links=https_links,
        buttons=_pairs(item.get("buttons"), "title", "payload"),
        custom=custom if isinstance(custom, dict) else None,
    )
