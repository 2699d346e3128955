"""Staff add notes and forwards only to cases that are open or that they held,
and text no database can store is refused with a 422, not a 500.

Every test runs on SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""
from __future__ import annotations

import pytest

from mjolby.handover import texts

PERSON = "Jag vill prata med en människa"


def closed_case(citizen, anna) -> int:
    citizen().say(PERSON)
    case_id = anna.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
    assert anna.post(f"/api/v1/staff/cases/{case_id}/claim").status_code == 200
    assert anna.post(f"/api/v1/staff/cases/{case_id}/close", json={"outcome": "resolved"}).status_code == 200
    return case_id


def test_a_queued_case_takes_notes_and_forwards_from_any_agent(client, citizen, sign_in):
    bo = sign_in("bo@mjolby.se", name="Bo")
    citizen().say(PERSON)
    case_id = bo.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
    assert bo.post(f"/api/v1/staff/cases/{case_id}/notes", json={"text": "Gäller bygglov"}).status_code == 201
    forwarded = bo.post(f"/api/v1/staff/cases/{case_id}/forward",
                        json={"mailbox": "byggnad@mjolby.se", "comment": "Bygglov"})
    assert forwarded.status_code == 201


def test_only_the_one_who_held_a_closed_case_adds_to_it(client, citizen, sign_in):
    anna = sign_in("anna@mjolby.se", name="Anna")
    bo = sign_in("bo@mjolby.se", name="Bo")
    case_id = closed_case(citizen, anna)

    note = bo.post(f"/api/v1/staff/cases/{case_id}/notes", json={"text": "Smyganteckning"})
    assert note.status_code == 409
    assert note.json() == {"detail": texts.CASE_ENDED_NOT_YOURS, "code": "case_ended_not_yours"}
    forward = bo.post(f"/api/v1/staff/cases/{case_id}/forward",
                      json={"mailbox": "byggnad@mjolby.se", "comment": "Skickar vidare"})
    assert forward.status_code == 409
    detail = anna.get(f"/api/v1/staff/cases/{case_id}").json()
    assert detail["notes"] == [] and detail["forwards"] == []

    # The one who handled it can still write down what happened afterwards.
    assert anna.post(f"/api/v1/staff/cases/{case_id}/notes",
                     json={"text": "Ringde upp efteråt"}).status_code == 201
    assert anna.post(f"/api/v1/staff/cases/{case_id}/forward",
                     json={"mailbox": "byggnad@mjolby.se", "comment": "Uppföljning"}).status_code == 201


@pytest.mark.parametrize("route, body", [
    ("notes", {"text": "Anteckning\u0000"}),
    ("messages", {"text": "Hej\u0000"}),
    ("forward", {"mailbox": "byggnad@mjolby.se", "comment": "Se\u0000"}),
])
def test_a_nul_in_staff_text_is_422(client, citizen, sign_in, route, body):
    anna = sign_in("anna@mjolby.se", name="Anna")
    citizen().say(PERSON)
    case_id = anna.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
    assert anna.post(f"/api/v1/staff/cases/{case_id}/claim").status_code == 200
    response = anna.post(f"/api/v1/staff/cases/{case_id}/{route}", json=body)
    assert response.status_code == 422
    assert response.json() == {"detail": texts.UNSTORABLE_TEXT, "code": "unstorable_text"}
    # The case is still usable.
    assert anna.post(f"/api/v1/staff/cases/{case_id}/messages", json={"text": "Hej!"}).status_code == 201
