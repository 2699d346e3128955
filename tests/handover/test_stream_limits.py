"""Live streams per client and per conversation are capped: 429 in Swedish, and a
closed stream frees its place. (Here, because open streams need their own
database connections.)"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from handover_support import Citizen
from mjolby import texts

API = "/api/v1/conversations"


def test_live_streams_are_capped_per_conversation_and_per_client(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(stream_max_per_conversation=2, stream_max_per_client=3)

    with TestClient(app) as client:
        first, second = Citizen(client).id, Citizen(client).id

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            held = [asyncio.create_task(http.get(f"{API}/{first}/events")) for _ in range(2)]
            await asyncio.sleep(0.3)
            assert not any(task.done() for task in held)
            refused = await http.get(f"{API}/{first}/events")
            assert refused.status_code == 429
            assert refused.json() == {"detail": texts.ERROR_TOO_MANY_STREAMS}
            assert int(refused.headers["Retry-After"]) >= 1
            # Another conversation of the same client: one more, then the client's cap.
            held.append(asyncio.create_task(http.get(f"{API}/{second}/events")))
            await asyncio.sleep(0.3)
            assert not held[-1].done()
            assert (await http.get(f"{API}/{second}/events")).status_code == 429
            # A closed stream frees its place.
            held[0].cancel()
            await asyncio.sleep(0.1)
            held.append(asyncio.create_task(http.get(f"{API}/{first}/events")))
            await asyncio.sleep(0.3)
            assert not held[-1].done()
            for task in held:
                task.cancel()
            await asyncio.gather(*held, return_exceptions=True)

    asyncio.run(scenario())
