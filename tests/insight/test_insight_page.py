"""The insight page over HTTP: who may see it, the page, the CSV, and no personal data."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from handover_support import PASSWORD
from insight_support import build
from mjolby.conversations.models import Conversation


@pytest.fixture
def data(session_factory) -> list[str]:  # noqa: ANN001
    with session_factory() as db:
        build(db)
        return list(db.scalars(select(Conversation.id)))


def test_anonymous_is_sent_to_sign_in(client) -> None:  # noqa: ANN001
    response = client.get("/staff/insikt?period=7", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/logga-in?nasta=/staff/insikt%3Fperiod%3D7"
    assert client.get("/staff/insikt/export.csv", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("role", ["agent", "editor"])
def test_other_roles_get_403(client, sign_in, role) -> None:  # noqa: ANN001
    staff = sign_in(f"{role}@mjolby.se", role)
    page = staff.get("/staff/insikt")
    assert page.status_code == 403
    assert "Insikt för Medborgarservice" not in page.text
    assert staff.get("/staff/insikt/export.csv").status_code == 403


@pytest.mark.parametrize("role", ["admin", "lead"])
def test_admins_and_team_leads_see_the_page_and_the_csv(client, sign_in, data, role) -> None:  # noqa: ANN001
    staff = sign_in(f"{role}@mjolby.se", role)
    page = staff.get("/staff/insikt")
    assert page.status_code == 200
    assert "Insikt för Medborgarservice" in page.text
    assert 'href="/staff/insikt" aria-current="page"' in page.text
    csv = staff.get("/staff/insikt/export.csv?period=30&tabell=oversikt")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Mått;Perioden;Föregående period;Förändring"
    assert "Samtal;20;6;+14" in lines
    everything = staff.get("/staff/insikt/export.csv?period=egen&fran=2026-11-23&till=2026-11-23&tabell=alla")
    assert "Samtal;15;" in everything.text and "Betyg per ämne, lägst först" in everything.text
    # Aggregates only: no conversation id, no message text, no names or numbers.
    for text in (page.text, csv.text, everything.text):
        assert not any(cid in text for cid in data)
        assert "Han slår mig" not in text and "0700000000" not in text


def test_a_bad_period_is_explained(client, sign_in) -> None:  # noqa: ANN001
    staff = sign_in("admin@mjolby.se", "admin")
    page = staff.get("/staff/insikt?period=egen&fran=2026-11-30&till=2026-11-01")
    assert page.status_code == 422
    assert "Slutdatumet kommer före startdatumet." in page.text
    assert staff.get("/staff/insikt/export.csv?tabell=finns-inte").status_code == 404


def test_the_team_lead_role_can_be_given_in_the_console(client, sign_in) -> None:  # noqa: ANN001
    admin = sign_in("admin@mjolby.se", "admin")
    assert "Gruppledare" in admin.get("/staff/personal").text


def sign_in_with_the_form(client, email: str) -> str:  # noqa: ANN001
    """Sign in on the console's sign-in page as a person would; returns where it lands."""
    form = client.get("/staff/logga-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    signed_in = client.post("/staff/logga-in", data={"email": email, "password": PASSWORD, "csrf_token": token},
                            headers={"Cookie": f"mjolby_staff_login={token}"}, follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/staff/"
    cookie = {"Cookie": f"mjolby_staff={signed_in.cookies['mjolby_staff']}"}
    client.cookies.clear()
    landing = client.get("/staff/", headers=cookie, follow_redirects=False)
    if landing.status_code != 303:
        return f"{landing.status_code} /staff/: {landing.text}"
    target = client.get(landing.headers["location"], headers=cookie)
    return f"{target.status_code} {landing.headers['location']}: {target.text}"


def test_a_team_lead_lands_on_the_insight_page_after_signing_in(client, make_staff) -> None:  # noqa: ANN001
    make_staff("lead@mjolby.se", "lead")
    landed = sign_in_with_the_form(client, "lead@mjolby.se")
    assert landed.startswith("200 /staff/insikt:") and "Insikt för Medborgarservice" in landed


@pytest.mark.parametrize(("role", "lands_on"), [("agent", "200 /staff/:"), ("admin", "200 /staff/:"),
                                                ("editor", "403 /staff/:")])
def test_other_roles_still_land_on_the_queue_page(client, make_staff, role, lands_on) -> None:  # noqa: ANN001
    make_staff(f"{role}@mjolby.se", role)
    landed = sign_in_with_the_form(client, f"{role}@mjolby.se")
    assert landed.startswith(lands_on) and "Insikt för Medborgarservice" not in landed
