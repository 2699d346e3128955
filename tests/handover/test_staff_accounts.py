"""Admins manage accounts from the console: deactivate, change role, reset password.

Each change is audited and signs the account out everywhere. Passwords that
are common or built from the e-mail address are refused in Swedish.
"""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from handover_support import PASSWORD, Staff
from mjolby.staff import service as staff_service
from mjolby.staff.models import AuditEntry, StaffUser

NEW_PASSWORD = "kanelbulle-regnar-i-juni"


def account_id(session_factory, email: str) -> int:
    with session_factory() as db:
        return db.query(StaffUser).filter_by(email=email).one().id


def submit(client: TestClient, admin: Staff, path: str, **fields: str):
    return client.post(path, data={"csrf_token": admin.csrf, **fields},
                       headers={"Cookie": f"mjolby_staff={admin.cookie}"}, follow_redirects=False)


def audit_actions(session_factory) -> list[tuple[str, str | None]]:
    with session_factory() as db:
        return [(e.action, e.detail) for e in db.query(AuditEntry).order_by(AuditEntry.id)]


@pytest.fixture
def admin(sign_in) -> Staff:
    return sign_in("chef@mjolby.se", role="admin")


def test_the_staff_page_links_to_each_account_and_its_page_has_the_three_forms(client, admin, sign_in,
                                                                               session_factory):
    sign_in("anna@mjolby.se")
    anna = account_id(session_factory, "anna@mjolby.se")
    listing = admin.get("/staff/personal")
    assert f'href="/staff/personal/{anna}"' in listing.text
    page = admin.get(f"/staff/personal/{anna}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for action in ("roll", "losenord", "stang-av"):
        assert f'action="/staff/personal/{anna}/{action}"' in page.text
    assert page.text.count(f'name="csrf_token" value="{admin.csrf}"') >= 4  # sign-out form too
    assert '<label for="account-password">' in page.text and '<label for="account-role">' in page.text


def test_deactivating_signs_the_account_out_and_keeps_it_out(client, admin, sign_in, session_factory):
    anna = sign_in("anna@mjolby.se")
    anna_id = account_id(session_factory, "anna@mjolby.se")
    done = submit(client, admin, f"/staff/personal/{anna_id}/stang-av")
    assert done.status_code == 303 and done.headers["location"] == f"/staff/personal/{anna_id}?klart=deactivated"
    assert anna.get("/api/v1/staff/me").status_code == 401
    refused = client.post("/api/v1/staff/session", json={"email": "anna@mjolby.se", "password": PASSWORD})
    assert refused.status_code == 401
    assert ("deactivate_staff", "anna@mjolby.se") in audit_actions(session_factory)
    assert "Avstängt" in admin.get(f"/staff/personal/{anna_id}").text
    # And back again.
    assert submit(client, admin, f"/staff/personal/{anna_id}/aktivera").status_code == 303
    assert Staff(client, "anna@mjolby.se").get("/api/v1/staff/me").status_code == 200
    assert ("activate_staff", "anna@mjolby.se") in audit_actions(session_factory)


def test_changing_the_role_signs_the_account_out_and_takes_effect(client, admin, sign_in, session_factory):
    anna = sign_in("anna@mjolby.se")
    anna_id = account_id(session_factory, "anna@mjolby.se")
    assert anna.get("/api/v1/staff/queue").status_code == 200
    done = submit(client, admin, f"/staff/personal/{anna_id}/roll", role="editor")
    assert done.status_code == 303
    assert anna.get("/api/v1/staff/me").status_code == 401
    again = Staff(client, "anna@mjolby.se")
    assert again.get("/api/v1/staff/me").json()["staff"]["role"] == "editor"
    assert again.get("/api/v1/staff/queue").status_code == 403
    assert ("change_role", "anna@mjolby.se: agent -> editor") in audit_actions(session_factory)


def test_resetting_the_password_signs_the_account_out(client, admin, sign_in, session_factory):
    anna = sign_in("anna@mjolby.se")
    anna_id = account_id(session_factory, "anna@mjolby.se")
    done = submit(client, admin, f"/staff/personal/{anna_id}/losenord", password=NEW_PASSWORD)
    assert done.status_code == 303
    assert anna.get("/api/v1/staff/me").status_code == 401
    old = client.post("/api/v1/staff/session", json={"email": "anna@mjolby.se", "password": PASSWORD})
    assert old.status_code == 401
    assert Staff(client, "anna@mjolby.se", password=NEW_PASSWORD).get("/api/v1/staff/me").status_code == 200
    assert ("reset_password", "anna@mjolby.se") in audit_actions(session_factory)


def test_a_common_password_is_refused_with_a_swedish_message(client, admin, sign_in, session_factory):
    sign_in("anna.svensson@mjolby.se")
    anna_id = account_id(session_factory, "anna.svensson@mjolby.se")
    common = submit(client, admin, f"/staff/personal/{anna_id}/losenord", password="Sommar2024!!!")
    assert common.status_code == 422
    assert "för vanligt" in common.text and 'role="alert"' in common.text
    own_name = submit(client, admin, f"/staff/personal/{anna_id}/losenord", password="Svensson-hej-99")
    assert own_name.status_code == 422 and "e-postadressen" in own_name.text
    assert "reset_password" not in [a for a, _ in audit_actions(session_factory)]


def test_account_changes_need_the_csrf_token(client, admin, sign_in, session_factory):
    anna = sign_in("anna@mjolby.se")
    anna_id = account_id(session_factory, "anna@mjolby.se")
    refused = client.post(f"/staff/personal/{anna_id}/stang-av", data={},
                          headers={"Cookie": f"mjolby_staff={admin.cookie}"}, follow_redirects=False)
    assert refused.status_code == 403
    assert anna.get("/api/v1/staff/me").status_code == 200


def test_only_admins_manage_accounts(client, sign_in, session_factory):
    agent = sign_in("anna@mjolby.se")
    sign_in("bo@mjolby.se")
    bo_id = account_id(session_factory, "bo@mjolby.se")
    assert submit(client, agent, f"/staff/personal/{bo_id}/stang-av").status_code == 403
    assert agent.get(f"/staff/personal/{bo_id}").status_code == 403


def test_the_last_admin_cannot_be_deactivated_or_demoted(client, admin, session_factory):
    own_id = account_id(session_factory, "chef@mjolby.se")
    for path, fields in ((f"/staff/personal/{own_id}/stang-av", {}),
                         (f"/staff/personal/{own_id}/roll", {"role": "agent"})):
        refused = submit(client, admin, path, **fields)
        assert refused.status_code == 422
        assert "minst en aktiv administratör" in refused.text
    assert admin.get("/api/v1/staff/me").json()["staff"]["role"] == "admin"


@pytest.mark.parametrize("password", [
    "password1234", "Qwertyuiop123", "123456789012", "Lösenord2024!", "sommarsommar", "Mjolby-12345",
])
def test_common_passwords_are_refused(session_factory, password):
    with session_factory() as db, pytest.raises(staff_service.StaffError, match="för vanligt"):
        staff_service.create_user(db=db, email="ny@mjolby.se", password=password, role="agent")


def test_a_password_with_the_email_name_is_refused(session_factory):
    with session_factory() as db, pytest.raises(staff_service.StaffError, match="e-postadressen"):
        staff_service.create_user(db=db, email="karin.berg@mjolby.se", password="karin.berg-2026-x", role="agent")


def test_the_new_account_form_shows_the_password_rule_in_swedish(client, admin):
    response = client.post("/staff/personal", data={"csrf_token": admin.csrf, "email": "ny@mjolby.se",
                                                    "role": "agent", "password": "Password123456"},
                           headers={"Cookie": f"mjolby_staff={admin.cookie}"})
    assert response.status_code == 422 and "för vanligt" in response.text
