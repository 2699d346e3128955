"""The editors' topic pages and the live catalogue route, through HTTP.

SQLite and PostgreSQL (tests/editor/conftest.py). The browser tests (axe,
keyboard, live in the chat within 10 s) are in test_topics_browser.py.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mjolby.knowledge_store import service
from mjolby.staff import service as staff_service

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-internal-token-topics"
PASSWORD = "ett-langt-losenord"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def app(app_factory: Callable[..., FastAPI], db: Session) -> FastAPI:
    service.import_knowledge(db, REPO / "knowledge", now=NOW)
    for email, role in (("redaktor@mjolby.se", "editor"), ("annan@mjolby.se", "editor"),
                        ("handlaggare@mjolby.se", "agent")):
        staff_service.create_user(db=db, email=email, password=PASSWORD, role=role, now=NOW)
    return app_factory(internal_api_token=TOKEN)


def signed_in(client: TestClient, email: str) -> str:
    """Sign in on the client; returns the CSRF token the forms carry."""
    client.cookies.clear()
    response = client.post("/api/v1/staff/session", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def form_of(html: str) -> dict[str, str]:
    """The topic form's fields as the page shows them."""
    fields = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', html))
    for name, text in re.findall(r'<textarea[^>]*name="(\w+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields[name] = text.replace("&amp;", "&").replace("&#34;", '"').replace("&#39;", "'")
    selected = re.search(r'name="confidence".*?<option value="(\w*)" selected', html, re.S)
    fields["confidence"] = selected.group(1) if selected else ""
    return fields


def test_the_list_shows_topics_and_filters(client: TestClient):
    signed_in(client, "redaktor@mjolby.se")
    page = client.get("/staff/editor/amnen")
    assert page.status_code == 200
    assert "Bygglov, anmälan och rivningslov" in page.text and 'aria-current="page">Redaktör' in page.text
    found = client.get("/staff/editor/amnen", params={"q": "bygglov"}).text
    assert "Bygglov, anmälan och rivningslov" in found and "Bibliotek" not in found
    referrals = client.get("/staff/editor/amnen", params={"typ": "referral"}).text
    assert "Polisen" in referrals and "Bygglov, anmälan" not in referrals


def test_agents_cannot_open_the_editors_pages(client: TestClient):
    signed_in(client, "handlaggare@mjolby.se")
    assert client.get("/staff/editor/amnen").status_code == 403


def test_editing_an_answer_changes_the_live_catalogue(client: TestClient):
    csrf = signed_in(client, "redaktor@mjolby.se")
    fields = form_of(client.get("/staff/editor/amnen/bygglov").text)
    fields.update(csrf_token=csrf, answer="Sök bygglov i e-tjänsten. Handläggningen tar några veckor.")
    saved = client.post("/staff/editor/amnen/bygglov", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert "Ämnet är sparat" in client.get(saved.headers["location"]).text

    live = client.get("/api/v1/internal/knowledge/catalogue", headers={"Authorization": f"Bearer {TOKEN}"})
    assert live.status_code == 200
    assert live.json()["topics"]["bygglov"]["answer"] == fields["answer"]
    again = client.get("/api/v1/internal/knowledge/catalogue",
                       headers={"Authorization": f"Bearer {TOKEN}", "If-None-Match": live.headers["etag"]})
    assert again.status_code == 304


def test_the_catalogue_route_needs_the_internal_token(client: TestClient):
    assert client.get("/api/v1/internal/knowledge/catalogue").status_code == 401


def test_a_wrong_field_is_named_next_to_it_and_the_text_kept(client: TestClient):
    csrf = signed_in(client, "redaktor@mjolby.se")
    fields = form_of(client.get("/staff/editor/amnen/bygglov").text)
    fields.update(csrf_token=csrf, links="Bygglov | http://www.mjolby.se/bygglov", answer="Mitt nya svar.")
    refused = client.post("/staff/editor/amnen/bygglov", data=fields)
    assert refused.status_code == 422
    assert re.search(r'id="f-links"[^>]*aria-invalid="true"', refused.text)
    assert 'id="links-error"' in refused.text and "måste börja med https://" in refused.text
    assert "Mitt nya svar." in refused.text


def test_two_editors_saving_the_same_topic_get_a_conflict_and_lose_nothing(client: TestClient):
    signed_in(client, "redaktor@mjolby.se")
    form_a = form_of(client.get("/staff/editor/amnen/bibliotek").text)
    csrf_b = signed_in(client, "annan@mjolby.se")
    form_b = form_of(client.get("/staff/editor/amnen/bibliotek").text)

    form_b.update(csrf_token=csrf_b, answer="B:s svar om biblioteket. Sparat först.")
    assert client.post("/staff/editor/amnen/bibliotek", data=form_b, follow_redirects=False).status_code == 303

    csrf_a = signed_in(client, "redaktor@mjolby.se")  # A's page is still the one opened before B saved
    form_a.update(csrf_token=csrf_a, answer="A:s svar om biblioteket. Sparat sent.")
    conflict = client.post("/staff/editor/amnen/bibliotek", data=form_a)
    assert conflict.status_code == 409
    assert "Någon annan (annan@mjolby.se) har sparat ämnet" in conflict.text
    assert "A:s svar om biblioteket. Sparat sent." in form_of(conflict.text)["answer"]
    assert "B:s svar om biblioteket. Sparat först." in conflict.text  # the saved version, to compare

    # Saving again on purpose replaces B's version (the page now carries B's version number).
    retry = form_of(conflict.text)
    retry["csrf_token"] = csrf_a
    assert client.post("/staff/editor/amnen/bibliotek", data=retry, follow_redirects=False).status_code == 303
    assert client.get("/staff/editor/amnen/bibliotek").text.count("A:s svar om biblioteket") >= 1


def test_create_and_retire_a_topic(client: TestClient):
    csrf = signed_in(client, "redaktor@mjolby.se")
    form = client.get("/staff/editor/amnen/nytt")
    assert form.status_code == 200 and 'name="topic_id"' in form.text
    examples = "\n".join(f"när är isbanan öppen vecka {i}" for i in range(20))
    data = {"csrf_token": csrf, "topic_id": "isbana", "kind": "answer", "title": "Isbanan",
            "owner": "Kultur och fritid", "reviewed": "2026-11-24",
            "answer": "Isbanan är öppen på vintern. Tiderna står på webben.",
            "links": "Isbanan | https://www.mjolby.se/isbana", "examples": examples}
    created = client.post("/staff/editor/amnen/nytt", data=data, follow_redirects=False)
    assert created.status_code == 303, created.text
    page = client.get(created.headers["location"]).text
    assert "Ämnet är skapat" in page
    version = form_of(page)["version"]
    retired = client.post("/staff/editor/amnen/isbana/avveckla", data={"csrf_token": csrf, "version": version},
                          follow_redirects=False)
    assert retired.status_code == 303
    assert "Ämnet är avvecklat" in client.get(retired.headers["location"]).text
    again = client.post("/staff/editor/amnen/nytt", data=data)
    assert again.status_code == 422 and "används redan" in again.text


def test_a_form_without_the_csrf_token_is_refused(client: TestClient):
    signed_in(client, "redaktor@mjolby.se")
    fields = form_of(client.get("/staff/editor/amnen/bygglov").text)
    fields.pop("csrf_token")
    assert client.post("/staff/editor/amnen/bygglov", data=fields).status_code == 403


def test_checking_as_the_editor_types(client: TestClient):
    csrf = signed_in(client, "redaktor@mjolby.se")
    fields = form_of(client.get("/staff/editor/amnen/bygglov").text)
    fields.update(csrf_token=csrf, owner="")
    result = client.post("/staff/editor/amnen/bygglov/kontrollera", data=fields).json()
    assert result["errors"] == {"owner": ["Fyll i ansvarig."]}


def test_the_list_shows_accuracy_missed_questions_and_old_reviews(client: TestClient, monkeypatch):
    from mjolby.console import editor_topics

    monkeypatch.setattr(editor_topics, "topic_accuracy", lambda db: {"bygglov": 0.874})
    monkeypatch.setattr(editor_topics, "missed_by_topic", lambda db, since: {"bygglov": 7})
    signed_in(client, "redaktor@mjolby.se")
    row = re.search(r'<tr>\s*<td><a href="/staff/editor/amnen/bygglov">.*?</tr>',
                    client.get("/staff/editor/amnen").text, re.S).group(0)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[-2].strip() == "87 %" and cells[-1].strip() == "7"
    assert "Över 12 månader" not in row  # reviewed 2026-11-24
    old = client.get("/staff/editor/amnen", params={"visa": "granska"}).text
    assert "Bygglov, anmälan" not in old
