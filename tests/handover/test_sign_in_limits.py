"""Staff sign-in under attack, idle sessions, and live streams that end with the session.

Addresses are set with X-Forwarded-For from a trusted proxy (the test client's
own address is listed in FORWARDED_ALLOW_IPS), as behind the production proxy.
"""
from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from handover_support import PASSWORD, Citizen, Staff
from mjolby.events import EventHub
from mjolby.staff import passwords as staff_passwords
from mjolby.staff import service as staff_service

PROXY = ("10.0.0.2", 50000)
ADMIN = "chef@mjolby.se"
ADMIN_HOME = "198.51.100.10"
ATTACKER = "203.0.113.66"
WRONG = "fel-lösenord-gissning"


def attempt(client: TestClient, address: str, email: str = ADMIN, password: str = WRONG) -> httpx.Response:
    return client.post("/api/v1/staff/session", json={"email": email, "password": password},
                       headers={"X-Forwarded-For": address})


@pytest.fixture
def proxied(app_factory, make_staff):
    """A client behind the trusted proxy, and the admin account."""
    app = app_factory(forwarded_allow_ips=PROXY[0])
    make_staff(ADMIN, role="admin")
    with TestClient(app, client=PROXY) as client:
        yield client


class CountingHasher(PasswordHasher):
    """Counts the passwords that reach argon2; each check takes a moment so that
    parallel attempts really overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.verified = 0
        self._lock = threading.Lock()

    def verify(self, hash, password):  # noqa: A002 - argon2's own parameter name
        with self._lock:
            self.verified += 1
        time.sleep(0.05)
        return super().verify(hash, password)


def test_failures_bring_a_growing_wait_not_a_lockout(proxied):
    answers = [attempt(proxied, ATTACKER) for _ in range(8)]
    assert [a.status_code for a in answers[:5]] == [401] * 5
    assert all(a.json()["detail"] == "Fel e-postadress eller lösenord." for a in answers[:5])
    waiting = answers[5]
    assert waiting.status_code == 429
    assert waiting.json()["detail"].startswith("För många inloggningsförsök. Vänta")
    assert int(waiting.headers["Retry-After"]) >= 1


def test_an_attacker_elsewhere_does_not_keep_the_admin_out(proxied):
    for _ in range(40):
        attempt(proxied, ATTACKER)
    assert attempt(proxied, ATTACKER, password=PASSWORD).status_code == 429  # the attacker waits
    signed_in = attempt(proxied, ADMIN_HOME, password=PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["staff"]["email"] == ADMIN


def test_guessing_many_accounts_from_one_address_slows_that_address(proxied):
    answers = [attempt(proxied, ATTACKER, email=f"gissning{i}@mjolby.se").status_code for i in range(40)]
    assert 429 in answers and answers.count(401) <= 30
    assert attempt(proxied, ADMIN_HOME, password=PASSWORD).status_code == 200


def test_parallel_attempts_reach_the_password_check_at_most_the_allowed_number(proxied, monkeypatch):
    hasher = CountingHasher()
    monkeypatch.setattr(staff_passwords, "_hasher", hasher)
    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(lambda _: attempt(proxied, ATTACKER).status_code, range(30)))
    assert hasher.verified <= 5
    assert answers.count(401) == hasher.verified and answers.count(429) == 30 - hasher.verified


def test_a_spoofed_forwarded_address_from_an_untrusted_client_changes_nothing(app_factory, make_staff):
    app = app_factory()  # trusts only 127.0.0.1: the test client is not a proxy
    make_staff(ADMIN, role="admin")
    with TestClient(app, client=("192.0.2.50", 40000)) as client:
        answers = [attempt(client, f"203.0.113.{i}").status_code for i in range(8)]
    assert answers[:5] == [401] * 5 and answers[5:] == [429] * 3


def test_a_session_times_out_after_idle_minutes_and_use_keeps_it(client, sign_in, clock):
    staff = sign_in("anna@mjolby.se")
    clock.advance(minutes=20)
    assert staff.get("/api/v1/staff/me").status_code == 200
    clock.advance(minutes=20)  # 40 minutes after sign-in, 20 after the last use
    assert staff.get("/api/v1/staff/me").status_code == 200
    clock.advance(minutes=31)
    assert staff.get("/api/v1/staff/me").status_code == 401


def test_the_console_refreshing_itself_does_not_count_as_use(client, sign_in, clock):
    staff = sign_in("anna@mjolby.se")
    clock.advance(minutes=20)
    assert staff.get("/staff/ko").status_code == 200
    clock.advance(minutes=15)
    assert staff.get("/api/v1/staff/me").status_code == 401


def test_the_idle_timeout_is_a_setting(app_factory, make_staff, clock):
    app = app_factory(staff_idle_minutes=5)
    make_staff("anna@mjolby.se")
    with TestClient(app) as client:
        staff = Staff(client, "anna@mjolby.se")
        clock.advance(minutes=6)
        assert staff.get("/api/v1/staff/me").status_code == 401


def _stream_until_closed(app, path: str, *, end_session) -> str:
    """Open a staff stream, end the session, and return what the stream sent before it closed."""

    async def scenario() -> str:
        app.state.events = EventHub()
        await app.state.events.start()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            login = await http.post("/api/v1/staff/session", json={"email": "anna@mjolby.se", "password": PASSWORD})
            assert login.status_code == 200
            csrf = login.json()["csrf_token"]
            stream = asyncio.create_task(http.get(path))
            await asyncio.sleep(0.3)
            assert not stream.done()
            await end_session(http, csrf)
            response = await asyncio.wait_for(stream, timeout=8)
        await app.state.events.stop()
        return response.text

    return asyncio.run(scenario())


def test_the_queue_stream_closes_when_staff_sign_out(app_factory, make_staff):
    app = app_factory()
    make_staff("anna@mjolby.se")

    async def sign_out(http: httpx.AsyncClient, csrf: str) -> None:
        assert (await http.delete("/api/v1/staff/session", headers={"X-CSRF-Token": csrf})).status_code == 204

    sent = _stream_until_closed(app, "/api/v1/staff/queue/events", end_session=sign_out)
    assert sent.rstrip().endswith('data: {"signed_out":true}')


def test_the_queue_stream_closes_when_the_session_expires(app_factory, make_staff, clock):
    app = app_factory()
    make_staff("anna@mjolby.se")

    async def expire(http: httpx.AsyncClient, csrf: str) -> None:
        clock.advance(minutes=31)
        app.state.events.notify("queue")  # any wake-up; the stream re-checks the session

    sent = _stream_until_closed(app, "/api/v1/staff/queue/events", end_session=expire)
    assert '"signed_out":true' in sent


def test_the_case_stream_closes_when_the_account_is_deactivated(app_factory, make_staff, session_factory):
    app = app_factory()
    make_staff("anna@mjolby.se")
    make_staff(ADMIN, role="admin")
    with TestClient(app) as client:
        admin = Staff(client, ADMIN)
        Citizen(client).say("Jag vill prata med en människa")
        case_id = admin.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]

    async def deactivate(http: httpx.AsyncClient, csrf: str) -> None:
        login = await http.post("/api/v1/staff/session", json={"email": ADMIN, "password": PASSWORD})
        with session_factory() as db:
            anna = db.query(staff_service.StaffUser).filter_by(email="anna@mjolby.se").one()
        form = {"csrf_token": login.json()["csrf_token"]}
        done = await http.post(f"/staff/personal/{anna.id}/stang-av", data=form)
        assert done.status_code == 303

    sent = _stream_until_closed(app, f"/api/v1/staff/cases/{case_id}/events", end_session=deactivate)
    assert sent.rstrip().endswith('data: {"signed_out":true}')
