"""Routing by conversation across several Rasa replicas (consistent hashing, failover)."""
from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

import httpx
import pytest

from mjolby.rasa_client import BotStatus, RasaClient, RasaUnavailable, ReplicaRing

REPLICAS = ["http://rasa-1:5005", "http://rasa-2:5005", "http://rasa-3:5005"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(handler, urls=REPLICAS, clock=None) -> RasaClient:
    return RasaClient(rasa_url=",".join(urls), action_server_url="http://actions:5055",
                      transport=httpx.MockTransport(handler), clock=clock or Clock(), down_probe_seconds=0.01)


def host(request: httpx.Request) -> str:
    return f"http://{request.url.host}:{request.url.port}"


def run(coroutine):
    return asyncio.run(coroutine)


def send_once(handler, text: str = "Hej"):
    """The replies to one message of conversation "abc", or "unavailable"."""
    async def scenario():
        rasa = client(handler)
        try:
            return await rasa.send("abc", text)
        except RasaUnavailable:
            return "unavailable"
        finally:
            await rasa.aclose()

    return run(scenario())


def test_every_message_of_a_conversation_goes_to_the_same_replica() -> None:
    seen: dict[str, set[str]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        sender = json.loads(request.content)["sender"]
        seen.setdefault(sender, set()).add(host(request))
        return httpx.Response(200, json=[{"text": "Svar"}])

    async def scenario() -> None:
        rasa = client(handler)
        try:
            for _ in range(3):
                for n in range(60):
                    await rasa.send(f"conversation-{n}", "Hej")
        finally:
            await rasa.aclose()

    run(scenario())
    assert all(len(replicas) == 1 for replicas in seen.values())
    # And the conversations are spread over all three replicas.
    shares = Counter(next(iter(replicas)) for replicas in seen.values())
    assert set(shares) == set(REPLICAS)


def test_losing_a_replica_moves_only_its_own_conversations() -> None:
    ids = [str(uuid.uuid4()) for _ in range(600)]
    full = ReplicaRing(REPLICAS)
    without = ReplicaRing([url for url in REPLICAS if url != REPLICAS[1]])
    for conversation_id in ids:
        owner = full.preference(conversation_id)[0]
        if owner != REPLICAS[1]:
            assert without.preference(conversation_id)[0] == owner
        else:
            # The replacement is the next replica on the ring.
            assert without.preference(conversation_id)[0] == full.preference(conversation_id)[1]
    shares = Counter(full.preference(i)[0] for i in ids)
    assert min(shares.values()) > len(ids) / len(REPLICAS) / 2


def test_a_down_owner_fails_over_and_gets_its_conversations_back_once_its_model_is_loaded() -> None:
    conversation_id = "abc"
    owner, second = ReplicaRing(REPLICAS).preference(conversation_id)[:2]
    state = {"owner": "down"}  # down | loading | ready
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/health"):
            ready = host(request) != owner or state["owner"] == "ready"
            return httpx.Response(200 if ready else 503, json={"status": "ok", "model": ready})
        calls.append(host(request))
        if host(request) == owner and state["owner"] == "down":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=[{"text": f"från {host(request)}"}])

    async def scenario() -> list[str]:
        rasa = client(handler)

        async def say(text: str) -> str:
            return (await rasa.send(conversation_id, text))[0].text or ""

        try:
            texts = [await say("Hej")]
            # Restarted: it listens again but is still loading its model.
            state["owner"] = "loading"
            await asyncio.sleep(0.05)
            texts.append(await say("Hej igen"))
            state["owner"] = "ready"
            await asyncio.sleep(0.05)
            texts.append(await say("Och nu?"))
            return texts
        finally:
            await rasa.aclose()

    texts = run(scenario())
    assert texts == [f"från {second}", f"från {second}", f"från {owner}"]
    # Only the first message tried the owner while it was down or loading.
    assert calls == [owner, second, second, owner]


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
def test_a_message_the_owner_may_be_handling_is_never_sent_to_another_replica(failure) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(host(request))
        raise failure("lost mid-answer", request=request)

    assert send_once(handler) == "unavailable"
    assert calls == [ReplicaRing(REPLICAS).preference("abc")[0]]


def test_all_replicas_down_is_unavailable_after_trying_each_once() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(host(request))
        raise httpx.ConnectError("refused", request=request)

    assert send_once(handler) == "unavailable"
    assert sorted(calls) == sorted(REPLICAS)


def test_the_bot_is_ready_while_any_replica_has_its_model() -> None:
    answering = {REPLICAS[2]}
    clock = Clock()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "actions":
            return httpx.Response(200, json={"status": "ok"})
        if host(request) in answering:
            return httpx.Response(200, json={"status": "ok", "model": True})
        raise httpx.ConnectError("refused", request=request)

    async def scenario() -> list[object]:
        rasa = client(handler, clock=clock)
        try:
            ready = [await rasa.probe(), await rasa.reachable()]
            answering.clear()
            clock.now += 60
            return ready + [await rasa.probe(), await rasa.reachable()]
        finally:
            await rasa.aclose()

    assert run(scenario()) == [BotStatus.READY, True, BotStatus.DOWN, False]


@pytest.mark.parametrize(("actions_up", "outcome"), [(True, "no answer"), (False, "unavailable")])
def test_a_silent_bot_is_unavailable_only_when_its_action_server_is_down(actions_up, outcome) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "actions":
            if actions_up:
                return httpx.Response(200, json={"status": "ok"})
            return httpx.Response(503, text="no server is available")  # the proxy, with none behind it
        return httpx.Response(200, json=[])  # Rasa dropped the action's events

    replies = send_once(handler, "Hur söker jag bygglov?")
    assert ("no answer" if replies == [] else replies) == outcome
