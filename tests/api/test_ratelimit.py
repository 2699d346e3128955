"""Limits per conversation and per client: 429 with Retry-After."""
from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mjolby import texts
from mjolby.ratelimit import Backoff, MemoryBuckets, RateLimited, RateLimiter, RedisBuckets

API = "/api/v1/conversations"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()


def say(client: TestClient, conversation_id: str, text: str = "Hej"):
    return client.post(f"{API}/{conversation_id}/messages", json={"text": text})


def test_conversation_limit(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(rate_limit_conversation_per_minute=3)
    with TestClient(app) as client:
        conversation_id = client.post(API, json={}).json()["conversation_id"]
        for i in range(3):
            assert say(client, conversation_id, f"meddelande {i}").status_code == 200
        response = say(client, conversation_id, "ett för mycket")
        assert response.status_code == 429
        assert response.json() == {"detail": texts.ERROR_TOO_MANY_REQUESTS}
        # 3 per minute: the next token comes after 20 seconds.
        assert 1 <= int(response.headers["Retry-After"]) <= 20
        stored = client.get(f"{API}/{conversation_id}/messages").json()["messages"]
        assert "ett för mycket" not in [m["text"] for m in stored]
        # Another conversation has its own allowance.
        other = client.post(API, json={}).json()["conversation_id"]
        assert say(client, other).status_code == 200


def test_client_limit_counts_new_conversations_and_messages(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(rate_limit_client_per_minute=3)
    with TestClient(app) as client:
        conversation_id = client.post(API, json={}).json()["conversation_id"]
        assert say(client, conversation_id).status_code == 200
        assert client.post(API, json={}).status_code == 201
        response = client.post(API, json={})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert say(client, conversation_id).status_code == 429


def test_zero_disables_the_limits(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(rate_limit_client_per_minute=0, rate_limit_conversation_per_minute=0)
    with TestClient(app) as client:
        conversation_id = client.post(API, json={}).json()["conversation_id"]
        for _ in range(40):
            assert say(client, conversation_id).status_code == 200


def test_defaults_allow_a_normal_conversation(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(rate_limit_client_per_minute=120, rate_limit_conversation_per_minute=20)
    with TestClient(app) as client:
        conversation_id = client.post(API, json={}).json()["conversation_id"]
        for _ in range(20):
            assert say(client, conversation_id).status_code == 200
        assert say(client, conversation_id).status_code == 429


def test_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(conversation_per_minute=3, client_per_minute=0,
                          buckets=MemoryBuckets(clock=lambda: now[0]))

    async def scenario() -> None:
        for _ in range(3):
            await limiter.check_conversation("c")
        with pytest.raises(RateLimited) as raised:
            await limiter.check_conversation("c")
        assert raised.value.retry_after == 20
        now[0] += 19.0
        with pytest.raises(RateLimited) as raised:
            await limiter.check_conversation("c")
        assert raised.value.retry_after == 1
        now[0] += 1.0
        await limiter.check_conversation("c")  # one token back after 20 s
        await limiter.check_client("anyone")   # client limit 0: never limited

    asyncio.run(scenario())


@pytest.mark.skipif(not TEST_REDIS_URL, reason="Redis variant skipped: TEST_REDIS_URL is not set")
def test_redis_buckets_are_shared_by_replicas() -> None:
    prefix = f"test:mjolby:{uuid.uuid4().hex}:"

    async def scenario() -> None:
        replica_a = RedisBuckets(TEST_REDIS_URL, prefix=prefix)
        replica_b = RedisBuckets(TEST_REDIS_URL, prefix=prefix)
        try:
            assert await replica_a.take("conversation:x", 2) == 0
            assert await replica_b.take("conversation:x", 2) == 0
            wait = await replica_a.take("conversation:x", 2)
            assert 0 < wait <= 30
            assert await replica_b.take("conversation:y", 2) == 0
        finally:
            keys = [k async for k in replica_a._redis.scan_iter(match=prefix + "*")]
            if keys:
                await replica_a._redis.delete(*keys)
            await replica_a.aclose()
            await replica_b.aclose()

    asyncio.run(scenario())


def test_unreachable_redis_falls_back_to_local_limits() -> None:
    async def scenario() -> None:
        buckets = RedisBuckets("redis://127.0.0.1:1/0")
        limiter = RateLimiter(conversation_per_minute=1, client_per_minute=0, buckets=buckets)
        try:
            await limiter.check_conversation("c")
            with pytest.raises(RateLimited):
                await limiter.check_conversation("c")
        finally:
            await buckets.aclose()

    asyncio.run(scenario())


@pytest.mark.skipif(not TEST_REDIS_URL, reason="Redis variant skipped: TEST_REDIS_URL is not set")
def test_conversation_limit_with_redis(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(redis_url=TEST_REDIS_URL, rate_limit_conversation_per_minute=2,
                      rate_limit_client_per_minute=0)
    with TestClient(app) as client:
        conversation_id = client.post(API, json={}).json()["conversation_id"]
        assert say(client, conversation_id).status_code == 200
        assert say(client, conversation_id).status_code == 200
        response = say(client, conversation_id)
        assert response.status_code == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 30


# -- reads, live streams, cancelling -------------------------------------------------
def test_reading_is_limited_per_client(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(rate_limit_client_reads_per_minute=3)
    with TestClient(app) as client:
        conversation_id = client.post(API, json={}).json()["conversation_id"]
        assert client.get(f"{API}/{conversation_id}/messages").status_code == 200
        assert client.get(f"{API}/{conversation_id}").status_code == 200
        assert client.get(f"{API}/{conversation_id}/messages").status_code == 200
        for path in (f"{API}/{conversation_id}/messages", f"{API}/{conversation_id}",
                     f"{API}/{conversation_id}/events"):
            response = client.get(path)
            assert response.status_code == 429, path
            assert response.json() == {"detail": texts.ERROR_TOO_MANY_READS}
            assert int(response.headers["Retry-After"]) >= 1
        # Reading does not use up the allowance for writing.
        assert say(client, conversation_id).status_code == 200


def test_cancelling_counts_like_a_message(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(rate_limit_conversation_per_minute=2)
    with TestClient(app) as client:
        conversation_id = client.post(API, json={}).json()["conversation_id"]
        assert say(client, conversation_id).status_code == 200
        assert client.post(f"{API}/{conversation_id}/handover/cancel").status_code == 200
        response = client.post(f"{API}/{conversation_id}/handover/cancel")
        assert response.status_code == 429
        assert response.json() == {"detail": texts.ERROR_TOO_MANY_REQUESTS}


def test_the_openapi_document_lists_the_429s(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path, method in ((f"{API}/{{conversation_id}}/messages", "get"), (f"{API}/{{conversation_id}}", "get"),
                         (f"{API}/{{conversation_id}}/events", "get"),
                         (f"{API}/{{conversation_id}}/handover/cancel", "post")):
        assert "429" in paths[path][method]["responses"], (path, method)


# -- the client address behind the proxy -----------------------------------------------
PROXY = ("10.0.0.2", 50000)


def test_behind_the_trusted_proxy_each_citizen_has_an_own_limit(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(rate_limit_client_per_minute=2, forwarded_allow_ips=PROXY[0])
    with TestClient(app, client=PROXY) as client:
        anna = {"X-Forwarded-For": "203.0.113.5"}
        assert client.post(API, json={}, headers=anna).status_code == 201
        assert client.post(API, json={}, headers=anna).status_code == 201
        assert client.post(API, json={}, headers=anna).status_code == 429
        bo = {"X-Forwarded-For": "203.0.113.6"}
        assert client.post(API, json={}, headers=bo).status_code == 201
        # A citizen cannot pick a new address: the proxy appends the real one last.
        spoofed = {"X-Forwarded-For": "198.51.100.77, 203.0.113.5"}
        assert client.post(API, json={}, headers=spoofed).status_code == 429


def test_a_spoofed_forwarded_for_from_an_untrusted_client_is_ignored(app_factory: Callable[..., FastAPI]) -> None:
    app = app_factory(rate_limit_client_per_minute=2, forwarded_allow_ips=PROXY[0])
    with TestClient(app, client=("192.0.2.50", 40000)) as client:
        answers = [client.post(API, json={}, headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                   for i in range(4)]
    assert answers == [201, 201, 429, 429]


# -- growing delays ---------------------------------------------------------------------
def test_backoff_lets_a_few_through_then_doubles_the_wait() -> None:
    now = [0.0]
    buckets = MemoryBuckets(clock=lambda: now[0])
    policy = Backoff(free=3, base_seconds=2.0, max_seconds=10.0, forget_seconds=60.0)

    async def scenario() -> None:
        assert [await buckets.attempt("k", policy) for _ in range(3)] == [0.0, 0.0, 0.0]
        assert await buckets.attempt("k", policy) == 2.0  # the 3rd attempt set a wait of 2 s
        now[0] += 2.0
        assert await buckets.attempt("k", policy) == 0.0
        assert await buckets.attempt("k", policy) == 4.0
        now[0] += 4.0
        assert await buckets.attempt("k", policy) == 0.0
        assert await buckets.attempt("k", policy) == 8.0
        now[0] += 8.0
        assert await buckets.attempt("k", policy) == 0.0
        assert await buckets.attempt("k", policy) == 10.0  # capped
        assert await buckets.attempt("other", policy) == 0.0  # keys are separate
        await buckets.reset("k")
        assert await buckets.attempt("k", policy) == 0.0
        now[0] += 1000.0  # forgotten after a quiet while
        assert [await buckets.attempt("k", policy) for _ in range(3)] == [0.0, 0.0, 0.0]

    asyncio.run(scenario())


@pytest.mark.skipif(not TEST_REDIS_URL, reason="Redis variant skipped: TEST_REDIS_URL is not set")
def test_redis_backoff_is_atomic_and_shared_by_replicas() -> None:
    prefix = f"test:mjolby:{uuid.uuid4().hex}:"
    policy = Backoff(free=5, base_seconds=30.0, max_seconds=900.0, forget_seconds=60.0)

    async def scenario() -> None:
        replicas = [RedisBuckets(TEST_REDIS_URL, prefix=prefix) for _ in range(3)]
        try:
            waits = await asyncio.gather(*(replicas[i % 3].attempt("login", policy) for i in range(30)))
            assert sum(1 for w in waits if w == 0) == 5
            await replicas[0].forgive("login", policy)
            assert await replicas[1].attempt("login", policy) == 0  # back under the free attempts
            await replicas[2].reset("login")
            assert await replicas[0].attempt("login", policy) == 0
        finally:
            keys = [k async for k in replicas[0]._redis.scan_iter(match=prefix + "*")]
            if keys:
                await replicas[0]._redis.delete(*keys)
            for replica in replicas:
                await replica.aclose()

    asyncio.run(scenario())
