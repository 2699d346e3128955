"""The whole handover path with the real bot (Rasa + actions) and the API: `live_stack`.

1. the citizen asks for a person over the chat API;
2. the conversation is queued (place in the queue and wait in the reply);
3. staff sign in, see the case and claim it;
4. staff reply, and the citizen receives the reply through the chat API
   (polling and the live stream; the time is printed);
5. staff close the case;
6. the conversation returns to the bot and the rating is stored.

Also: the contact request form when the chat is closed, and the live
opening-hours answer.
"""
from __future__ import annotations

import time

import httpx
import pytest

from live_support import SseReader, StaffClient, create_staff

pytestmark = pytest.mark.live
AGENT, ADMIN = "e2e.anna@mjolby.se", "e2e.chef@mjolby.se"


@pytest.fixture(scope="module")
def staff(live_stack):
    create_staff(live_stack.env, AGENT, "agent", "Anna")
    create_staff(live_stack.env, ADMIN, "admin", "")
    admin = StaffClient(live_stack.api_url, ADMIN)
    agent = StaffClient(live_stack.api_url, AGENT)
    yield agent, admin
    admin.put("/api/v1/staff/availability", json={"mode": "auto"})
    agent.client.close()
    admin.client.close()


class Citizen:
    def __init__(self, api_url: str) -> None:
        self.api = api_url
        response = httpx.post(api_url + "/api/v1/conversations", json={}, timeout=30)
        assert response.status_code == 201, response.text
        self.id = response.json()["conversation_id"]

    def say(self, text: str, payload: str | None = None) -> dict:
        body = {"text": text} | ({"payload": payload} if payload else {})
        response = httpx.post(f"{self.api}/api/v1/conversations/{self.id}/messages", json=body, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def after(self, message_id: str) -> dict:
        return httpx.get(f"{self.api}/api/v1/conversations/{self.id}/messages?after={message_id}", timeout=10).json()


def test_the_whole_handover_path_with_the_real_bot(live_stack, staff):
    agent, admin = staff
    # Open the chat whatever the time of day; someone (Anna) is signed in.
    assert admin.put("/api/v1/staff/availability", json={"mode": "open"}).json()["chat_available"] is True

    citizen = Citizen(live_stack.api_url)
    reply = citizen.say("Jag vill prata med en människa")
    assert reply["state"] == "queued", reply
    assert reply["queue"]["position"] >= 1 and reply["queue"]["estimated_wait_minutes"] >= 1
    message = reply["messages"][-1]
    assert message["topic"] == "handover_request"
    assert "i kön" in message["text"] and "minut" in message["text"]
    assert {"title": "Avbryt väntan", "payload": "/cancel_handover"} in message["buttons"]

    case_id = agent.case_of(citizen.id)
    detail = agent.get(f"/api/v1/staff/cases/{case_id}").json()
    assert detail["case"]["reason"] == "user_request" and detail["case"]["status"] == "queued"
    assert detail["transcript"][1]["text"] == "Jag vill prata med en människa"
    assert agent.post(f"/api/v1/staff/cases/{case_id}/claim").status_code == 200

    stream = SseReader(f"{live_stack.api_url}/api/v1/conversations/{citizen.id}/events")
    try:
        stream.wait_for(lambda e: e.get("state") == "agent")
        pings = len(stream.pings)
        sent = time.perf_counter()
        assert agent.post(f"/api/v1/staff/cases/{case_id}/messages",
                          json={"text": "Hej, Anna här. Vad kan jag hjälpa till med?"}).status_code == 201
        delivered = stream.wait_for(lambda e: e.get("sender") == "agent", timeout=30)
        arrived, _, event = delivered
        print(f"\n[live stack] staff reply -> citizen's SSE stream: {(arrived - sent) * 1000:.1f} ms")
        assert stream.pushed(pings, delivered), "the reply waited for the stream's periodic re-read"
        assert event["agent_name"] == "Anna"
    finally:
        stream.close()
    polled = citizen.after(reply["messages"][-1]["id"])
    assert polled["state"] == "agent"
    assert [m["text"] for m in polled["messages"] if m["sender"] == "agent"] == [
        "Hej, Anna här. Vad kan jag hjälpa till med?"]

    assert agent.post(f"/api/v1/staff/cases/{case_id}/close", json={"outcome": "resolved"}).status_code == 200
    after_close = citizen.after(polled["messages"][-1]["id"])
    assert after_close["state"] == "bot"
    question = after_close["messages"][-1]
    five = next(b for b in question["buttons"] if b["payload"] == '/rate{"rating":5}')

    thanks = citizen.say(five["title"], payload=five["payload"])
    assert thanks["state"] == "bot"
    assert thanks["messages"][-1]["text"].startswith("Tack för ditt svar!")
    assert agent.get(f"/api/v1/staff/cases/{case_id}").json()["case"]["rating"] == 5


def test_when_closed_the_bot_takes_a_contact_request_and_refuses_a_personal_number(live_stack, staff):
    agent, admin = staff
    admin.put("/api/v1/staff/availability", json={"mode": "closed"})
    try:
        citizen = Citizen(live_stack.api_url)
        offer = citizen.say("kan jag få prata med en handläggare")
        assert offer["state"] == "bot"
        text = offer["messages"][-1]["text"]
        assert "samma eller nästa arbetsdag" in text and "010-234 50 00" in text and "Burensköldsvägen 11-13" in text
        yes = next(b for b in offer["messages"][-1]["buttons"] if b["payload"] == "/affirm")

        ask_name = citizen.say(yes["title"], payload=yes["payload"])
        assert ask_name["messages"][-1]["text"].startswith("Vad heter du?")
        ask_contact = citizen.say("Eva Ek")
        assert ask_contact["messages"][-1]["text"].startswith("Tack, Eva! Vilket telefonnummer")
        refused = citizen.say("mitt nummer är 850709-9805")
        assert "9805" not in str(refused)
        # The API's notice, and the form asks again instead of taking it.
        assert refused["messages"][0]["topic"] == "sensitive_data_shared"
        assert any(m["text"].startswith("Det ser ut som ett personnummer.") for m in refused["messages"])
        done = citizen.say("eva.ek@example.se")
        assert "samma eller nästa arbetsdag" in done["messages"][-1]["text"]
        requests = agent.get("/api/v1/staff/contact-requests?status=open").json()
        mine = [r for r in requests if r["conversation_id"] == citizen.id]
        assert [(r["name"], r["email"], r["phone"], r["reason"]) for r in mine] == [
            ("Eva Ek", "eva.ek@example.se", None, "callback")]
    finally:
        admin.put("/api/v1/staff/availability", json={"mode": "open"})


def test_opening_hours_are_answered_live(live_stack):
    citizen = Citizen(live_stack.api_url)
    reply = citizen.say("har ni öppet nu?")
    message = reply["messages"][-1]
    assert message["topic"] == "kontakt_medborgarservice"
    assert "Växeln (010-234 50 00)" in message["text"] and "Receptionen i Stadshuset" in message["text"]


def test_the_citizen_cancels_the_wait_and_the_bot_answers_again(live_stack, staff):
    agent, admin = staff
    admin.put("/api/v1/staff/availability", json={"mode": "open"})
    citizen = Citizen(live_stack.api_url)
    queued = citizen.say("koppla mig till en människa tack")
    assert queued["state"] == "queued"
    cancelled = citizen.say("Avbryt väntan", payload="/cancel_handover")
    assert cancelled["state"] == "bot"
    assert cancelled["messages"][-1]["text"].startswith("Du har lämnat kön.")
    with pytest.raises(LookupError):
        agent.case_of(citizen.id)
    # The same button pressed again once the wait is over: the bot says so.
    again = citizen.say("Avbryt väntan", payload="/cancel_handover")
    assert again["messages"][-1]["text"].startswith("Du står inte i kö till Medborgarservice just nu.")
