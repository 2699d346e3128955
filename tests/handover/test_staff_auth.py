"""Staff sign-in, roles, CSRF, cookies, the first admin and the OpenAPI document."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from handover_support import PASSWORD, Staff
from mjolby.staff import service as staff_service
from mjolby.staff.models import StaffUser

AGENT_ONLY = "agent"
ADMIN_ONLY = "admin"
ANY_SIGNED_IN = "any"
# Every staff API route and who may use it. The test below checks that this
# list covers the OpenAPI document, so a new route cannot be left out.
ROUTES = {
    ("DELETE", "/api/v1/staff/session"): ANY_SIGNED_IN,
    ("GET", "/api/v1/staff/me"): ANY_SIGNED_IN,
    ("GET", "/api/v1/staff/users"): ADMIN_ONLY,
    ("POST", "/api/v1/staff/users"): ADMIN_ONLY,
    ("GET", "/api/v1/staff/audit"): ADMIN_ONLY,
    ("GET", "/api/v1/staff/availability"): AGENT_ONLY,
    ("PUT", "/api/v1/staff/availability"): ADMIN_ONLY,
    ("GET", "/api/v1/staff/queue"): AGENT_ONLY,
    ("GET", "/api/v1/staff/queue/events"): AGENT_ONLY,
    ("GET", "/api/v1/staff/cases/{case_id}"): AGENT_ONLY,
    ("GET", "/api/v1/staff/cases/{case_id}/events"): AGENT_ONLY,
    ("POST", "/api/v1/staff/cases/{case_id}/claim"): AGENT_ONLY,
    ("POST", "/api/v1/staff/cases/{case_id}/messages"): AGENT_ONLY,
    ("POST", "/api/v1/staff/cases/{case_id}/notes"): AGENT_ONLY,
    ("POST", "/api/v1/staff/cases/{case_id}/forward"): AGENT_ONLY,
    ("POST", "/api/v1/staff/cases/{case_id}/return"): AGENT_ONLY,
    ("POST", "/api/v1/staff/cases/{case_id}/close"): AGENT_ONLY,
    ("GET", "/api/v1/staff/mailboxes"): AGENT_ONLY,
    ("GET", "/api/v1/staff/contact-requests"): AGENT_ONLY,
    ("POST", "/api/v1/staff/contact-requests/{request_id}/close"): AGENT_ONLY,
}


def call(client: TestClient, method: str, path: str, headers: dict[str, str] | None = None):
    url = re.sub(r"\{[a-z_]+\}", "1", path)
    body = {"text": "x", "outcome": "resolved", "mailbox": "x", "mode": "auto", "email": "x@y.se",
            "password": "x" * 12} if method in ("POST", "PUT") else None
    return client.request(method, url, json=body, headers=headers or {})


def test_every_staff_route_is_in_the_openapi_document_and_in_this_test(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    documented = {(method.upper(), path) for path, ops in paths.items() if path.startswith("/api/v1/staff/")
                  for method in ops}
    documented.discard(("POST", "/api/v1/staff/session"))  # signing in needs no session
    assert documented == set(ROUTES)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
def test_every_staff_route_answers_401_without_a_session(client, method, path):
    response = call(client, method, path)
    assert response.status_code == 401
    assert response.json()["detail"] == "Du är inte inloggad."


@pytest.mark.parametrize(("method", "path"), sorted(k for k, v in ROUTES.items() if v != ANY_SIGNED_IN))
def test_every_staff_route_answers_403_to_the_wrong_role(client, sign_in, method, path):
    wrong = sign_in("red@mjolby.se", role="editor") if ROUTES[(method, path)] == AGENT_ONLY \
        else sign_in("agent@mjolby.se", role="agent")
    response = call(client, method, path, wrong.headers())
    assert response.status_code == 403
    assert response.json()["code"] == "wrong_role"


def test_posts_without_the_csrf_token_are_refused(client, sign_in):
    admin = sign_in("admin@mjolby.se", role="admin")
    response = client.put("/api/v1/staff/availability", json={"mode": "open"}, headers=admin.headers(csrf=False))
    assert response.status_code == 403 and response.json()["code"] == "bad_csrf_token"
    wrong = dict(admin.headers(), **{"X-CSRF-Token": "not-the-token"})
    assert client.put("/api/v1/staff/availability", json={"mode": "open"}, headers=wrong).status_code == 403
    assert client.put("/api/v1/staff/availability", json={"mode": "open"}, headers=admin.headers()).status_code == 200


def test_the_session_cookie_is_httponly_and_samesite_strict(client, sign_in):
    staff = sign_in("anna@mjolby.se")
    cookie = staff.set_cookie.lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie  # development runs over plain http on 127.0.0.1


def test_the_session_cookie_is_secure_outside_development(app_factory, make_staff):
    app = app_factory(environment="production", secret_key="s" * 40,
                      internal_api_token="handover-test-internal-token-0123456789abcdef")
    make_staff("anna@mjolby.se")
    with TestClient(app, base_url="https://testserver") as client:
        response = client.post("/api/v1/staff/session", json={"email": "anna@mjolby.se", "password": PASSWORD})
        assert response.status_code == 200
        assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_is_refused_and_repeated_failures_must_wait(client, make_staff):
    make_staff("anna@mjolby.se")
    for _ in range(5):
        response = client.post("/api/v1/staff/session", json={"email": "anna@mjolby.se", "password": "fel-lösenord-12"})
        assert response.status_code == 401
        assert response.json()["detail"] == "Fel e-postadress eller lösenord."
    blocked = client.post("/api/v1/staff/session", json={"email": "anna@mjolby.se", "password": PASSWORD})
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 900


def test_unknown_email_gives_the_same_answer_as_a_wrong_password(client):
    response = client.post("/api/v1/staff/session", json={"email": "ingen@mjolby.se", "password": PASSWORD})
    assert response.status_code == 401 and response.json()["detail"] == "Fel e-postadress eller lösenord."


def test_signing_out_ends_the_session(client, sign_in):
    staff = sign_in("anna@mjolby.se")
    assert client.delete("/api/v1/staff/session", headers=staff.headers()).status_code == 204
    assert staff.get("/api/v1/staff/me").status_code == 401


def test_passwords_are_stored_as_argon2_hashes(session_factory, make_staff):
    make_staff("anna@mjolby.se")
    with session_factory() as db:
        stored = db.query(StaffUser).one().password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_short_passwords_are_refused(session_factory):
    with session_factory() as db, pytest.raises(staff_service.StaffError, match="minst 12 tecken"):
        staff_service.create_user(db=db, email="a@mjolby.se", password="kort", role="agent")


def test_the_first_admin_comes_from_the_environment_and_never_from_a_default(session_factory, app_factory):
    with session_factory() as db:
        assert staff_service.ensure_first_admin(db=db, email="chef@mjolby.se", password=None) is None
        assert staff_service.ensure_first_admin(db=db, email="chef@mjolby.se", password="kort") is None
        assert db.query(StaffUser).count() == 0
    app = app_factory(staff_admin_email="chef@mjolby.se", staff_admin_password=PASSWORD)
    with TestClient(app) as client:
        staff = Staff(client, "chef@mjolby.se")
        assert staff.get("/api/v1/staff/me").json()["staff"]["role"] == "admin"
    with session_factory() as db:
        # A second start does not create another.
        assert staff_service.ensure_first_admin(db=db, email="other@mjolby.se", password=PASSWORD) is None


def test_an_admin_creates_accounts(client, sign_in):
    admin = sign_in("admin@mjolby.se", role="admin")
    created = admin.post("/api/v1/staff/users", json={"email": "Bo@Mjolby.se", "display_name": "Bo",
                                                      "role": "agent", "password": PASSWORD})
    assert created.status_code == 201 and created.json()["email"] == "bo@mjolby.se"
    duplicate = admin.post("/api/v1/staff/users", json={"email": "bo@mjolby.se", "role": "agent", "password": PASSWORD})
    assert duplicate.status_code == 422
    assert Staff(client, "bo@mjolby.se").get("/api/v1/staff/me").status_code == 200


def test_console_forms_without_the_csrf_token_are_refused(client, sign_in, citizen):
    staff = sign_in("anna@mjolby.se", name="Anna")
    citizen().say("Jag vill prata med en människa")
    case_id = staff.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
    cookie = {"Cookie": f"mjolby_staff={staff.cookie}"}
    refused = client.post(f"/staff/arenden/{case_id}/ta", data={}, headers=cookie, follow_redirects=False)
    assert refused.status_code == 403
    assert "säkerhetstoken" in refused.text and refused.headers["content-type"].startswith("text/html")
    wrong = client.post(f"/staff/arenden/{case_id}/ta", data={"csrf_token": "fel"}, headers=cookie,
                        follow_redirects=False)
    assert wrong.status_code == 403
    ok = client.post(f"/staff/arenden/{case_id}/ta", data={"csrf_token": staff.csrf}, headers=cookie,
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == f"/staff/arenden/{case_id}?klart=claimed"


def test_the_sign_in_form_needs_its_csrf_cookie(client, make_staff):
    make_staff("anna@mjolby.se")
    page = client.get("/staff/logga-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    assert page.cookies["mjolby_staff_login"] == token
    client.cookies.clear()
    forged = client.post("/staff/logga-in", data={"email": "anna@mjolby.se", "password": PASSWORD,
                                                  "csrf_token": token}, follow_redirects=False)
    assert forged.status_code == 403 and "mjolby_staff=" not in forged.headers.get("set-cookie", "")
    signed_in = client.post("/staff/logga-in", data={"email": "anna@mjolby.se", "password": PASSWORD,
                                                     "csrf_token": token, "next": "https://evil.example/"},
                            headers={"Cookie": f"mjolby_staff_login={token}"}, follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/staff/"


def test_console_pages_send_a_visitor_without_a_session_to_sign_in(client):
    response = client.get("/staff/arenden/3", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/logga-in?nasta=/staff/arenden/3"
