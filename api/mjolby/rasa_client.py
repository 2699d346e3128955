"""Client of the bot: Rasa's gateway channel and the action server.

One pooled httpx.AsyncClient for the life of the app. Callers get parsed
replies or RasaUnavailable; they decide what the citizen sees.
"""
from __future__ import annotations

import asyncio
import enum
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/gateway/webhook"
HEALTH_PATH = "/webhooks/gateway/health"
ACTION_SERVER_HEALTH_PATH = "/health"
PROBE_TIMEOUT_SECONDS = 2.0
# A successful reachability check is trusted this long; a failed one never is.
REACHABLE_TTL_SECONDS = 5.0


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


class RasaClient:
    def __init__(self, *, rasa_url: str, action_server_url: str, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.action_server_url = action_server_url.rstrip("/")
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            transport=transport,
            trust_env=False,  # Rasa is on a private address; never via a proxy
        )
        self._reachable_until = 0.0

    async def reachable(self) -> bool:
        """Whether Rasa answers with a model loaded (cheap: no dialogue turn).

        Used where the gateway answers by itself but the citizen should know
        at once that the bot cannot be reached.
        """
        if time.monotonic() < self._reachable_until:
            return True
        ready = _answers(await self._get_json(self.rasa_url + HEALTH_PATH), "model", True)
        self._reachable_until = time.monotonic() + REACHABLE_TTL_SECONDS if ready else 0.0
        return ready

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, sender: str, message: str,
                   metadata: dict[str, Any] | None = None) -> list[BotReply]:
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        try:
            response = await self._http.post(self.rasa_url + WEBHOOK_PATH, json=body)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"status {response.status_code}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise RasaUnavailable("response is not JSON") from exc
        if not isinstance(payload, list):
            raise RasaUnavailable("response is not a list")
        return [reply for item in payload if (reply := parse_reply(item)) is not None]

    async def probe(self) -> BotStatus:
        """Ready only if a model is loaded and the action server answers."""
        rasa, actions = await asyncio.gather(
            self._get_json(self.rasa_url + HEALTH_PATH),
            self._get_json(self.action_server_url + ACTION_SERVER_HEALTH_PATH),
        )
        if rasa is None:
            return BotStatus.DOWN
        model_loaded = _answers(rasa, "model", True)
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
