"""Handovers nobody writes in end by themselves, and the citizen is told in the chat.

Every test runs on SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""
from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from handover_support import Citizen, Staff

from mjolby.handover import service, texts
from mjolby.errors import Conflict
from mjolby.handover.models import HandoverCase
from mjolby.main import end_idle_handovers
from mjolby.staff.models import StaffUser
from mjolby.staff.service import StaffContext

PERSON = "Jag vill prata med en människa"


def case_status(session_factory, conversation_id):
    with session_factory() as db:
        return db.scalar(select(HandoverCase.status).where(HandoverCase.conversation_id == conversation_id))


def test_a_queue_nobody_answers_ends_and_the_citizen_gets_the_phone_number(
        client, app, citizen, sign_in, clock, session_factory):
    sign_in("anna@mjolby.se", name="Anna")
    waiting, quiet = citizen(), citizen()
    waiting.say(PERSON)
    quiet.say(PERSON)
    last = int(quiet.messages()["messages"][-1]["id"])

    clock.advance(minutes=50)
    waiting.say("Är det någon där?")  # still waiting, and says so
    clock.advance(minutes=15)
    assert client.portal.call(end_idle_handovers, app) == 1

    told = quiet.messages(after=last)
    assert told["state"] == "bot"
    assert [(m["sender"], m["text"]) for m in told["messages"]] == [
        ("system", texts.IDLE_QUEUED.format(phone=texts.PHONE))]
    assert texts.PHONE in told["messages"][0]["text"]
    assert case_status(session_factory, quiet.id) == "cancelled"
    assert waiting.messages()["state"] == "queued"
    assert case_status(session_factory, waiting.id) == "queued"
    # The bot answers the citizen again.
    assert quiet.say("Hur söker jag bygglov?")["messages"][0]["text"] == "Bygglov söker du i e-tjänsten."

    assert client.portal.call(end_idle_handovers, app) == 0  # nothing twice


def test_an_active_chat_left_silent_is_handed_back_to_the_bot(client, app, citizen, sign_in, clock,
                                                              session_factory):
    sign_in("anna@mjolby.se", name="Anna")
    c = citizen()
    c.say(PERSON)
    with session_factory() as db:
        case_id = db.scalar(select(HandoverCase.id).where(HandoverCase.conversation_id == c.id))
        user = db.scalar(select(StaffUser).where(StaffUser.email == "anna@mjolby.se"))
        anna = StaffContext(staff_id=user.id, email=user.email, display_name="Anna", role="agent",
                            csrf_token="", token_hash="")
        service.claim(db=db, case_id=case_id, staff=anna, now=clock())
        clock.advance(minutes=40)
        service.reply(db=db, case_id=case_id, staff=anna, text="Hej!", now=clock())
    clock.advance(minutes=40)
    assert client.portal.call(end_idle_handovers, app) == 0  # 40 minutes since the reply
    last = int(c.messages()["messages"][-1]["id"])

    clock.advance(minutes=21)
    assert client.portal.call(end_idle_handovers, app) == 1
    told = c.messages(after=last)
    assert told["state"] == "bot"
    assert [(m["sender"], m["text"]) for m in told["messages"]] == [
        ("system", texts.IDLE_ACTIVE.format(phone=texts.PHONE))]
    assert case_status(session_factory, c.id) == "returned"
    # Staff can no longer write into it.
    with session_factory() as db:
        try:
            service.reply(db=db, case_id=case_id, staff=anna, text="Hallå?", now=clock())
        except Conflict as error:
            assert error.code == "case_ended"
        else:
            raise AssertionError("a reply into an ended case was accepted")


def test_the_idle_time_is_a_setting(app_factory, make_staff, clock):
    app = app_factory(handover_idle_minutes=10)
    with TestClient(app) as client:
        make_staff("bo@mjolby.se")
        Staff(client, "bo@mjolby.se")
        c = Citizen(client)
        c.say(PERSON)
        clock.advance(minutes=9)
        assert client.portal.call(end_idle_handovers, app) == 0
        clock.advance(minutes=2)
        assert client.portal.call(end_idle_handovers, app) == 1
        assert c.messages()["state"] == "bot"
