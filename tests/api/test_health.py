"""GET /api/v1/health: ready only when the model is loaded and actions answer."""
from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api_support import FakeRasa
from mjolby.health.service import HealthMonitor
from mjolby.rasa_client import BotStatus

HEALTH = "/api/v1/health"


def test_ready(client: TestClient) -> None:
    response = client.get(HEALTH)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "bot": "ready"}


@pytest.mark.parametrize(("model_loaded", "action_server_up"), [(False, True), (True, False), (False, False)])
def test_starting_while_model_or_actions_missing(client: TestClient, fake_rasa: FakeRasa,
                                                 model_loaded: bool, action_server_up: bool) -> None:
    fake_rasa.model_loaded = model_loaded
    fake_rasa.action_server_up = action_server_up
    response = client.get(HEALTH)
    assert response.status_code == 503
    assert response.json() == {"status": "ok", "bot": "starting"}


def test_down_when_rasa_does_not_answer(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.mode = "down"
    response = client.get(HEALTH)
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "bot": "down"}
    assert "internal" not in response.text


def test_database_failure_is_503_degraded(app: FastAPI) -> None:
    with TestClient(app) as client:
        app.state.database.ping = lambda: False
        response = client.get(HEALTH)
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "bot": "ready"}


def test_probe_result_is_cached_briefly(client: TestClient, fake_rasa: FakeRasa) -> None:
    assert client.get(HEALTH).status_code == 200
    fake_rasa.model_loaded = False
    for _ in range(5):
        assert client.get(HEALTH).status_code == 200  # still the cached answer
    assert fake_rasa.health_probes == 1


def test_cache_expires_after_two_seconds() -> None:
    now = [100.0]
    results = [BotStatus.READY, BotStatus.STARTING]
    calls = []

    async def probe_bot() -> BotStatus:
        calls.append(now[0])
        return results[min(len(calls), len(results)) - 1]

    async def probe_database() -> bool:
        return True

    monitor = HealthMonitor(probe_bot=probe_bot, probe_database=probe_database, clock=lambda: now[0])

    async def scenario() -> list[bool]:
        seen = [(await monitor.check()).ready]
        now[0] += 1.9
        seen.append((await monitor.check()).ready)
        now[0] += 0.2
        seen.append((await monitor.check()).ready)
        return seen

    assert asyncio.run(scenario()) == [True, True, False]
    assert len(calls) == 2


def test_concurrent_checks_probe_once() -> None:
    calls = []

    async def probe_bot() -> BotStatus:
        calls.append(1)
        await asyncio.sleep(0.05)
        return BotStatus.READY

    async def probe_database() -> bool:
        return True

    monitor = HealthMonitor(probe_bot=probe_bot, probe_database=probe_database)

    async def scenario() -> None:
        await asyncio.gather(*(monitor.check() for _ in range(20)))

    asyncio.run(scenario())
    assert len(calls) == 1
