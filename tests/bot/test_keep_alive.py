"""Rasa's calls to the action server reuse one connection, and survive its restart."""
from __future__ import annotations

import asyncio

from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from channels import keep_alive


async def _serve(peers: list) -> web.AppRunner:
    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _port(runner: web.AppRunner) -> int:
    return runner.addresses[0][1]


def test_action_calls_share_one_connection_and_reconnect_after_a_restart() -> None:
    keep_alive.install()

    async def scenario() -> None:
        peers: list = []
        runner = await _serve(peers)
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{_port(runner)}/webhook")
        for _ in range(5):
            assert await endpoint.request(json={"next_action": "x"}, method="post") == {"events": [], "responses": []}
        assert len(set(peers)) == 1, "every call opened a new connection"
        await runner.cleanup()

        # The action server comes back on another port: the same endpoint object works again.
        restarted = await _serve(peers)
        endpoint.url = f"http://127.0.0.1:{_port(restarted)}/webhook"
        assert await endpoint.request(json={"next_action": "x"}, method="post") == {"events": [], "responses": []}
        await restarted.cleanup()
        await endpoint._kept_session.close()

    asyncio.run(scenario())
