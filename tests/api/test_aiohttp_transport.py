"""The client of Rasa against real sockets: what it sends with (aiohttp) must
answer, fail and time out the way its routing and failover expect."""
from __future__ import annotations

import asyncio
import gzip
import json
import socket

import httpx
import pytest
from aiohttp import web

from mjolby.aiohttp_transport import AiohttpTransport
from mjolby.rasa_client import WEBHOOK_PATH, RasaClient, RasaUnavailable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def serve(routes: web.RouteTableDef) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


def test_a_message_and_its_replies_travel_over_pooled_connections() -> None:
    routes = web.RouteTableDef()
    seen: list[dict] = []
    peers: set = set()

    @routes.post(WEBHOOK_PATH)
    async def webhook(request: web.Request) -> web.Response:
        seen.append(await request.json())
        peers.add(request.transport.get_extra_info("peername"))
        return web.json_response([{"text": f"Svar på {seen[-1]['message']}", "topic": "bibliotek"}])

    async def scenario() -> list[str]:
        runner, url = await serve(routes)
        rasa = RasaClient(rasa_url=url, action_server_url=url)
        try:
            texts = []
            for n in range(5):
                replies = await rasa.send("konv-1", f"fråga {n} åäö", {"locale": "sv"})
                texts.append(replies[0].text)
            return texts
        finally:
            await rasa.aclose()
            await runner.cleanup()

    texts = asyncio.run(scenario())
    assert texts == [f"Svar på fråga {n} åäö" for n in range(5)]
    assert seen[0] == {"sender": "konv-1", "message": "fråga 0 åäö", "metadata": {"locale": "sv"}}
    assert len(peers) == 1, "one kept-alive connection, not one per message"


def test_a_compressed_answer_is_read_as_json() -> None:
    routes = web.RouteTableDef()

    @routes.post(WEBHOOK_PATH)
    async def webhook(request: web.Request) -> web.Response:
        body = gzip.compress(json.dumps([{"text": "Komprimerat svar"}]).encode())
        return web.Response(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

    async def scenario():
        runner, url = await serve(routes)
        rasa = RasaClient(rasa_url=url, action_server_url=url)
        try:
            return await rasa.send("k", "hej")
        finally:
            await rasa.aclose()
            await runner.cleanup()

    assert [r.text for r in asyncio.run(scenario())] == ["Komprimerat svar"]


def test_a_replica_that_refuses_connections_hands_the_message_to_the_next() -> None:
    routes = web.RouteTableDef()

    @routes.post(WEBHOOK_PATH)
    async def webhook(request: web.Request) -> web.Response:
        return web.json_response([{"text": "Från den andra"}])

    async def scenario():
        runner, url = await serve(routes)
        closed = f"http://127.0.0.1:{free_port()}"  # nothing listens here
        rasa = RasaClient(rasa_url=f"{closed},{url}", action_server_url=url)
        try:
            # Whichever owns the conversation, every message is answered.
            return [(await rasa.send(f"konv-{n}", "hej"))[0].text for n in range(6)]
        finally:
            await rasa.aclose()
            await runner.cleanup()

    assert asyncio.run(scenario()) == ["Från den andra"] * 6


def test_a_slow_replica_times_out_and_is_not_retried_elsewhere() -> None:
    routes = web.RouteTableDef()
    calls: list[str] = []

    @routes.post(WEBHOOK_PATH)
    async def webhook(request: web.Request) -> web.Response:
        calls.append("slow")
        await asyncio.sleep(2)
        return web.json_response([])

    async def scenario():
        runner, url = await serve(routes)
        rasa = RasaClient(rasa_url=url, action_server_url=url, timeout=0.3)
        try:
            with pytest.raises(RasaUnavailable, match="ReadTimeout"):
                await rasa.send("k", "hej")
        finally:
            await rasa.aclose()
            await runner.cleanup()

    asyncio.run(scenario())
    assert calls == ["slow"]


def test_transport_errors_are_httpx_errors() -> None:
    async def scenario():
        transport = AiohttpTransport()
        client = httpx.AsyncClient(transport=transport)
        try:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.1:{free_port()}/health")
        finally:
            await client.aclose()

    asyncio.run(scenario())
