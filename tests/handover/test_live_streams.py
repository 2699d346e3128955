"""Live delivery over real HTTP: the API runs in uvicorn processes, the bot is a stand-in.

- a staff reply reaches the citizen's Server-Sent Events stream when it is
  written, not on the stream's periodic re-read (latency measured and printed);
- with REDIS_URL, a reply written through one API process reaches a stream held
  by another;
- queued cases, messages and contact requests survive an API restart, and a
  stream that reconnects with Last-Event-ID gets exactly what it missed.
"""
from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api_support import TEST_DATABASE_URL, postgres_schema
from live_support import (
    INTERNAL_TOKEN,
    ApiProcess,
    FakeBot,
    SseReader,
    StaffClient,
    api_env,
    create_staff,
    free_port,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REPLIES = 20


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('live') / 'app.db'}"
        return
    if not TEST_DATABASE_URL:
        pytest.skip("PostgreSQL variant skipped: TEST_DATABASE_URL is not set")
    with postgres_schema(TEST_DATABASE_URL) as url:
        yield url


@pytest.fixture(scope="module")
def bot() -> Iterator[FakeBot]:
    bot = FakeBot()
    yield bot
    bot.close()


@pytest.fixture(scope="module")
def stack(database_url: str, bot: FakeBot, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    data_dir = tmp_path_factory.mktemp("live-data")
    env = api_env(data_dir, database_url, bot)
    api = ApiProcess(env, free_port(), data_dir / "api.out")
    api.start()
    bot.api_url = api.url
    create_staff(env, "anna@mjolby.se", "agent", "Anna")
    create_staff(env, "chef@mjolby.se", "admin", "")
    # Open the chat whatever the time of day, so these tests do not depend on the clock.
    admin = StaffClient(api.url, "chef@mjolby.se")
    assert admin.put("/api/v1/staff/availability", json={"mode": "open"}).status_code == 200
    yield api
    api.stop()


def start_conversation(api_url: str) -> str:
    response = httpx.post(api_url + "/api/v1/conversations", json={}, timeout=10)
    assert response.status_code == 201
    return response.json()["conversation_id"]


def say(api_url: str, conversation_id: str, text: str, payload: str | None = None) -> dict:
    body = {"text": text} | ({"payload": payload} if payload else {})
    response = httpx.post(f"{api_url}/api/v1/conversations/{conversation_id}/messages", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def queued_and_claimed(api_url: str, staff: StaffClient) -> tuple[str, int]:
    conversation_id = start_conversation(api_url)
    assert say(api_url, conversation_id, "Jag vill prata med en människa")["state"] == "queued"
    waiting = staff.get("/api/v1/staff/queue").json()["waiting"]
    case_id = next(e["case"]["id"] for e in waiting if e["case"]["conversation_id"] == conversation_id)
    assert staff.post(f"/api/v1/staff/cases/{case_id}/claim").status_code == 200
    return conversation_id, case_id


def measure(api_url_reply: str, api_url_stream: str, staff: StaffClient, conversation_id: str,
            case_id: int) -> list[float]:
    stream = SseReader(f"{api_url_stream}/api/v1/conversations/{conversation_id}/events")
    try:
        stream.wait_for(lambda e: e.get("state") == "agent")
        latencies = []
        for n in range(REPLIES):
            text = f"Svar nummer {n} {uuid.uuid4().hex[:6]}"
            pings = len(stream.pings)
            sent = time.perf_counter()
            response = staff.post(f"/api/v1/staff/cases/{case_id}/messages", json={"text": text})
            assert response.status_code == 201
            delivered = stream.wait_for(lambda e, t=text: e.get("text") == t, timeout=30)
            arrived, event_id, event = delivered
            assert stream.pushed(pings, delivered), f"reply {n} waited for the stream's periodic re-read"
            assert event["sender"] == "agent" and event["agent_name"] == "Anna"
            assert event_id == event["id"]
            latencies.append(arrived - sent)
        return latencies
    finally:
        stream.close()


def report(label: str, latencies: list[float]) -> None:
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    print(f"\n[{label}] staff reply -> citizen's SSE stream, {len(ms)} replies: "
          f"median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms")


def test_a_staff_reply_is_pushed_to_the_citizen_stream_as_it_is_written(stack, database_url):
    staff = StaffClient(stack.url, "anna@mjolby.se")
    conversation_id, case_id = queued_and_claimed(stack.url, staff)
    latencies = measure(stack.url, stack.url, staff, conversation_id, case_id)
    report(f"one process, {database_url.split(':')[0]}", latencies)
    assert len(latencies) == REPLIES


def test_the_stream_carries_state_changes_and_the_queue_place(stack):
    staff = StaffClient(stack.url, "anna@mjolby.se")
    conversation_id = start_conversation(stack.url)
    stream = SseReader(f"{stack.url}/api/v1/conversations/{conversation_id}/events")
    try:
        say(stack.url, conversation_id, "Jag vill prata med en människa")
        _, _, queued = stream.wait_for(lambda e: e.get("state") == "queued")
        assert queued["queue"]["position"] >= 1 and queued["queue"]["estimated_wait_minutes"] >= 1
        waiting = staff.get("/api/v1/staff/queue").json()["waiting"]
        case_id = next(e["case"]["id"] for e in waiting if e["case"]["conversation_id"] == conversation_id)
        staff.post(f"/api/v1/staff/cases/{case_id}/claim")
        stream.wait_for(lambda e: e.get("state") == "agent")
        stream.wait_for(lambda e: e.get("text") == "Du chattar nu med Anna på Medborgarservice.")
        staff.post(f"/api/v1/staff/cases/{case_id}/close", json={"outcome": "resolved"})
        stream.wait_for(lambda e: e.get("state") == "bot")
        _, _, question = stream.wait_for(lambda e: e.get("sender") == "bot" and len(e.get("buttons", [])) == 5)
        assert question["buttons"][3]["payload"] == '/rate{"rating":4}'
    finally:
        stream.close()


@pytest.mark.skipif(not redis_available(), reason="no Redis at TEST_REDIS_URL / 127.0.0.1:6379")
def test_with_redis_a_reply_through_one_process_reaches_a_stream_on_another(database_url, bot, tmp_path):
    env = api_env(tmp_path, database_url, bot, REDIS_URL=REDIS_URL)
    first = ApiProcess(env, free_port(), tmp_path / "api1.out")
    second = ApiProcess(env, free_port(), tmp_path / "api2.out")
    first.start()
    second.start()
    previous = bot.api_url
    bot.api_url = first.url
    try:
        create_staff(env, "anna@mjolby.se", "agent", "Anna")
        staff = StaffClient(second.url, "anna@mjolby.se")
        conversation_id, case_id = queued_and_claimed(first.url, staff)
        latencies = measure(second.url, first.url, staff, conversation_id, case_id)
        report(f"two processes over Redis, {database_url.split(':')[0]}", latencies)
        assert len(latencies) == REPLIES
    finally:
        bot.api_url = previous
        first.stop()
        second.stop()


def test_queued_cases_messages_and_contact_requests_survive_a_restart(stack, bot):
    staff = StaffClient(stack.url, "anna@mjolby.se")
    waiting_id = start_conversation(stack.url)
    say(stack.url, waiting_id, "Jag vill prata med en människa")
    say(stack.url, waiting_id, "Det gäller min faktura")
    talking_id, case_id = queued_and_claimed(stack.url, staff)
    staff.post(f"/api/v1/staff/cases/{case_id}/messages", json={"text": "Hej, jag heter Anna."})
    contact = httpx.post(stack.url + "/api/v1/internal/contact-requests", timeout=10,
                         headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"},
                         json={"conversation_id": waiting_id, "name": "Eva Ek", "phone": "070-123 45 67",
                               "reason": "callback"})
    assert contact.status_code == 201
    before = httpx.get(f"{stack.url}/api/v1/conversations/{talking_id}/messages").json()
    waiting_before = httpx.get(f"{stack.url}/api/v1/conversations/{waiting_id}/messages").json()
    last_id = before["messages"][-1]["id"]

    stack.stop()
    stack.start()

    after = httpx.get(f"{stack.url}/api/v1/conversations/{talking_id}/messages").json()
    assert after == before
    assert httpx.get(f"{stack.url}/api/v1/conversations/{waiting_id}/messages").json() == waiting_before
    staff = StaffClient(stack.url, "anna@mjolby.se")  # sessions survive too, but sign in fresh
    waiting = staff.get("/api/v1/staff/queue").json()["waiting"]
    assert waiting_id in [e["case"]["conversation_id"] for e in waiting]
    requests = staff.get("/api/v1/staff/contact-requests?status=open").json()
    assert "Eva Ek" in [r["name"] for r in requests]

    # The citizen's widget reconnects with the last message id it had.
    stream = SseReader(f"{stack.url}/api/v1/conversations/{talking_id}/events",
                       headers={"Last-Event-ID": last_id})
    try:
        staff.post(f"/api/v1/staff/cases/{case_id}/messages", json={"text": "Är du kvar?"})
        stream.wait_for(lambda e: e.get("text") == "Är du kvar?")
        ids = [event_id for _, event_id, _ in stream.events if event_id]
        assert int(ids[0]) > int(last_id) and len(ids) == len(set(ids))
    finally:
        stream.close()


def test_a_stream_reconnecting_after_messages_it_missed_gets_them_in_order(stack):
    staff = StaffClient(stack.url, "anna@mjolby.se")
    conversation_id, case_id = queued_and_claimed(stack.url, staff)
    first = httpx.get(f"{stack.url}/api/v1/conversations/{conversation_id}/messages").json()["messages"]
    for text in ("ett", "två", "tre"):
        staff.post(f"/api/v1/staff/cases/{case_id}/messages", json={"text": text})
    stream = SseReader(f"{stack.url}/api/v1/conversations/{conversation_id}/events",
                       headers={"Last-Event-ID": first[-1]["id"]})
    try:
        stream.wait_for(lambda e: e.get("text") == "tre")
        assert [e["text"] for _, _, e in stream.events if "text" in e] == ["ett", "två", "tre"]
    finally:
        stream.close()


def test_unknown_conversation_stream_is_404(stack):
    assert httpx.get(f"{stack.url}/api/v1/conversations/nope/events", timeout=5).status_code == 404
