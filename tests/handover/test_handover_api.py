"""The handover over the chat API and the staff API, with a stand-in bot.

Every test runs on SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""
from __future__ import annotations

from sqlalchemy import select

from handover_support import INTERNAL_TOKEN
from mjolby.handover.models import ContactRequest, HandoverCase
from mjolby.staff.models import AuditEntry

INTERNAL = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
PERSON = "Jag vill prata med en människa"


def queue_for_person(citizen):
    c = citizen()
    reply = c.say(PERSON)
    return c, reply


# -- internal routes -----------------------------------------------------------------
def test_internal_routes_refuse_a_missing_or_wrong_token(client):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": INTERNAL_TOKEN}):
        response = client.get("/api/v1/internal/service-status", headers=headers)
        assert response.status_code == 401
        assert response.json()["detail"] == "Ogiltig eller saknad intern token."
    response = client.post("/api/v1/internal/handover/cases",
                           json={"conversation_id": "x", "reason": "user_request"})
    assert response.status_code == 401


def test_service_status_without_anyone_signed_in(client):
    body = client.get("/api/v1/internal/service-status", headers=INTERNAL).json()
    assert body["open_now"] is True  # Tuesday 13:00
    assert body["staff_online"] == 0
    assert body["chat_available"] is False
    assert body["text_chat"] == (
        "Ingen medarbetare kan chatta just nu, men växeln (010-234 50 00) har öppet till kl. 16.30 i dag.")
    assert body["text_phone"] == "Växeln (010-234 50 00) har öppet nu, till kl. 16.30 i dag."


def test_service_status_with_an_agent_signed_in(client, sign_in):
    sign_in("anna@mjolby.se", name="Anna")
    body = client.get("/api/v1/internal/service-status", headers=INTERNAL).json()
    assert (body["staff_online"], body["chat_available"], body["queue_length"]) == (1, True, 0)
    assert body["estimated_wait_minutes"] == 2  # two minutes to pick up, no history yet


def test_in_the_evening_the_chat_is_closed_and_says_when_it_opens(client, sign_in, clock):
    sign_in("anna@mjolby.se")
    clock.advance(hours=6)  # 19:00
    body = client.get("/api/v1/internal/service-status", headers=INTERNAL).json()
    assert body["open_now"] is False and body["chat_available"] is False
    assert body["opens_next"] == "2026-11-25T07:30:00+01:00"
    assert body["text_chat"] == "Medborgarservice har stängt just nu och öppnar igen i morgon, onsdag, kl. 7.30."


def test_presence_expires_when_the_console_is_closed(client, sign_in, clock):
    sign_in("anna@mjolby.se")
    clock.advance(minutes=3)
    body = client.get("/api/v1/internal/service-status", headers=INTERNAL).json()
    assert body["staff_online"] == 0 and body["chat_available"] is False


def test_an_editor_does_not_count_as_someone_who_can_chat(client, sign_in):
    sign_in("red@mjolby.se", role="editor")
    assert client.get("/api/v1/internal/service-status", headers=INTERNAL).json()["chat_available"] is False


# -- the citizen's side ------------------------------------------------------------------
def test_asking_for_a_person_queues_the_conversation_with_place_and_wait(client, citizen, sign_in):
    sign_in("anna@mjolby.se", name="Anna")
    first, reply = queue_for_person(citizen)
    assert reply["state"] == "queued"
    assert reply["queue"] == {"position": 1, "estimated_wait_minutes": 2}
    (bot,) = reply["messages"]
    assert bot["sender"] == "bot" and bot["topic"] == "handover_request"
    assert "nummer 1 i kön" in bot["text"]

    second, reply = queue_for_person(citizen)
    assert reply["queue"]["position"] == 2
    # One chat ahead (six minutes by default) shared by one person, plus the pickup.
    assert reply["queue"]["estimated_wait_minutes"] == 8
    assert "nummer 2 i kön" in reply["messages"][0]["text"]

    polled = first.messages()
    assert polled["state"] == "queued" and polled["queue"]["position"] == 1


def test_nobody_signed_in_means_no_case_but_a_contact_offer(client, citizen, session_factory):
    c = citizen()
    reply = c.say(PERSON)
    assert reply["state"] == "bot"
    assert reply["messages"][0]["text"].startswith("Ingen kan chatta just nu.")
    with session_factory() as db:
        assert db.scalars(select(HandoverCase)).all() == []


def test_while_queued_the_bot_is_not_asked_and_the_message_waits_for_staff(client, citizen, sign_in, bot):
    agent = sign_in("anna@mjolby.se", name="Anna")
    c, _ = queue_for_person(citizen)
    asked = len(bot.received)
    reply = c.say("Det gäller mitt bygglov på Storgatan")
    assert reply == {"state": "queued", "messages": [], "queue": reply["queue"]}
    assert len(bot.received) == asked
    case_id = agent.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
    texts = [m["text"] for m in agent.get(f"/api/v1/staff/cases/{case_id}").json()["transcript"]]
    assert texts[-1] == "Det gäller mitt bygglov på Storgatan"


def test_the_citizen_can_stop_waiting(client, citizen, sign_in, session_factory):
    agent = sign_in("anna@mjolby.se")
    c, _ = queue_for_person(citizen)
    reply = c.say("Avbryt väntan", payload="/cancel_handover")
    assert reply["state"] == "bot"
    assert reply["messages"][-1]["sender"] == "system"
    assert reply["messages"][-1]["text"].startswith("Du har lämnat kön.")
    assert "queue" not in reply or reply["queue"] is None
    assert agent.get("/api/v1/staff/queue").json()["waiting"] == []
    with session_factory() as db:
        assert db.scalar(select(HandoverCase.status)) == "cancelled"
    # The bot answers again.
    assert c.say("bygglov?")["messages"][0]["topic"] == "bygglov"


def test_the_cancel_route_does_the_same(client, citizen, sign_in):
    sign_in("anna@mjolby.se")
    c, _ = queue_for_person(citizen)
    response = client.post(f"/api/v1/conversations/{c.id}/handover/cancel")
    assert response.status_code == 200
    assert response.json()["state"] == "bot"
    assert c.messages()["state"] == "bot"


# -- the staff side --------------------------------------------------------------------------
def test_the_whole_path_claim_reply_close_and_rating(client, citizen, sign_in, session_factory):
    anna = sign_in("anna@mjolby.se", name="Anna")
    c, reply = queue_for_person(citizen)
    last = int(reply["messages"][-1]["id"])

    queue = anna.get("/api/v1/staff/queue").json()
    (entry,) = queue["waiting"]
    assert entry["case"]["reason"] == "user_request" and entry["case"]["topic"] == "bygglov"
    assert entry["first_message"] == PERSON
    case_id = entry["case"]["id"]

    claimed = anna.post(f"/api/v1/staff/cases/{case_id}/claim")
    assert claimed.status_code == 200 and claimed.json()["status"] == "active"
    joined = c.messages(after=last)
    assert joined["state"] == "agent"
    assert [(m["sender"], m["text"]) for m in joined["messages"]] == [
        ("system", "Du chattar nu med Anna på Medborgarservice.")]

    sent = anna.post(f"/api/v1/staff/cases/{case_id}/messages", json={"text": "Hej! Vad gäller ditt bygglov?"})
    assert sent.status_code == 201
    got = c.messages(after=int(joined["messages"][-1]["id"]))["messages"]
    assert [(m["sender"], m["text"], m.get("agent_name")) for m in got] == [
        ("agent", "Hej! Vad gäller ditt bygglov?", "Anna")]

    # A private note never reaches the citizen.
    assert anna.post(f"/api/v1/staff/cases/{case_id}/notes", json={"text": "Ringer upp i morgon"}).status_code == 201
    assert "Ringer upp" not in str(c.messages())

    closed = anna.post(f"/api/v1/staff/cases/{case_id}/close", json={"outcome": "resolved"})
    assert closed.status_code == 200 and closed.json()["outcome"] == "resolved"
    after_close = c.messages(after=int(got[-1]["id"]))
    assert after_close["state"] == "bot"
    notice, question = after_close["messages"]
    assert (notice["sender"], notice["text"]) == ("system", "Anna har avslutat chatten. Tack för att du kontaktade Medborgarservice!")
    assert question["sender"] == "bot" and question["topic"] == "handover_request"
    assert [b["payload"] for b in question["buttons"]] == [f'/rate{{"rating":{n}}}' for n in range(1, 6)]

    c.say("4", payload='/rate{"rating":4}')
    detail = anna.get(f"/api/v1/staff/cases/{case_id}").json()
    assert detail["case"]["rating"] == 4 and detail["case"]["status"] == "closed"


def test_only_one_of_two_staff_gets_the_case(client, citizen, sign_in):
    anna = sign_in("anna@mjolby.se", name="Anna")
    bo = sign_in("bo@mjolby.se", name="Bo")
    queue_for_person(citizen)
    case_id = anna.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
    assert anna.post(f"/api/v1/staff/cases/{case_id}/claim").status_code == 200
    second = bo.post(f"/api/v1/staff/cases/{case_id}/claim")
    assert second.status_code == 409
    assert second.json() == {"detail": "Någon annan har redan tagit ärendet.", "code": "already_claimed"}
    # Bo cannot write in Anna's case either.
    assert bo.post(f"/api/v1/staff/cases/{case_id}/messages", json={"text": "Hej"}).status_code == 409


def test_staff_replies_are_masked_too(client, citizen, sign_in):
    anna = sign_in("anna@mjolby.se", name="Anna")
    c, _ = queue_for_person(citizen)
    case_id = anna.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
    anna.post(f"/api/v1/staff/cases/{case_id}/claim")
    anna.post(f"/api/v1/staff/cases/{case_id}/messages", json={"text": "Stämmer 19850709-9805?"})
    texts = [m["text"] for m in c.messages()["messages"]]
    assert "Stämmer [personnummer borttaget]?" in texts
    assert "9805" not in str(texts)


def test_handing_back_to_the_bot(client, citizen, sign_in, bot):
    anna = sign_in("anna@mjolby.se", name="Anna")
    c, _ = queue_for_person(citizen)
    case_id = anna.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
    anna.post(f"/api/v1/staff/cases/{case_id}/claim")
    returned = anna.post(f"/api/v1/staff/cases/{case_id}/return")
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    state = c.messages()
    assert state["state"] == "bot"
    assert state["messages"][-1]["text"].startswith("Anna har lämnat chatten. Nu svarar chattassistenten igen")
    assert all(not m["buttons"] for m in state["messages"][-1:])  # no rating question
    assert c.say("bygglov")["messages"][0]["topic"] == "bygglov"


def test_forward_is_recorded_and_unknown_mailboxes_refused(client, citizen, sign_in):
    anna = sign_in("anna@mjolby.se", name="Anna")
    queue_for_person(citizen)
    case_id = anna.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
    mailboxes = [m["address"] for m in anna.get("/api/v1/staff/mailboxes").json()]
    assert "byggnad@mjolby.se" in mailboxes
    ok = anna.post(f"/api/v1/staff/cases/{case_id}/forward",
                   json={"mailbox": "byggnad@mjolby.se", "comment": "Fråga om bygglov"})
    assert ok.status_code == 201
    bad = anna.post(f"/api/v1/staff/cases/{case_id}/forward", json={"mailbox": "someone@example.com"})
    assert bad.status_code == 422
    forwards = anna.get(f"/api/v1/staff/cases/{case_id}").json()["forwards"]
    assert [(f["mailbox"], f["author"]) for f in forwards] == [("byggnad@mjolby.se", "anna@mjolby.se")]


def test_opening_a_transcript_is_audited(client, citizen, sign_in, session_factory):
    anna = sign_in("anna@mjolby.se", name="Anna")
    admin = sign_in("admin@mjolby.se", role="admin")
    queue_for_person(citizen)
    case_id = anna.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
    anna.get(f"/api/v1/staff/cases/{case_id}")
    log = admin.get(f"/api/v1/staff/audit?case_id={case_id}").json()
    assert [(e["staff_email"], e["action"]) for e in log] == [("anna@mjolby.se", "open_case")]
    with session_factory() as db:
        assert db.scalar(select(AuditEntry.conversation_id).where(AuditEntry.action == "open_case"))


def test_the_transcript_marks_what_came_before_the_handover(client, citizen, sign_in, clock):
    anna = sign_in("anna@mjolby.se", name="Anna")
    c = citizen()
    c.say("bygglov för altan")
    clock.advance(seconds=5)
    c.say(PERSON)
    case_id = anna.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
    clock.advance(seconds=5)
    anna.post(f"/api/v1/staff/cases/{case_id}/claim")
    transcript = anna.get(f"/api/v1/staff/cases/{case_id}").json()["transcript"]
    assert [m["sender"] for m in transcript][:3] == ["bot", "user", "bot"]
    assert transcript[1]["text"] == "bygglov för altan" and transcript[1]["before_handover"] is True
    assert transcript[-1]["sender"] == "system" and transcript[-1]["before_handover"] is False


def test_the_wait_estimate_learns_from_recent_cases(client, citizen, sign_in, clock):
    anna = sign_in("anna@mjolby.se", name="Anna")
    for _ in range(3):  # three chats: picked up after 4 minutes, 10 minutes long
        queue_for_person(citizen)
        case_id = anna.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
        clock.advance(minutes=4)
        anna.post(f"/api/v1/staff/cases/{case_id}/claim")
        clock.advance(minutes=10)
        anna.post(f"/api/v1/staff/cases/{case_id}/close", json={"outcome": "resolved"})
        anna.get("/api/v1/staff/me")  # the console stays open
    _, reply = queue_for_person(citizen)
    assert reply["queue"] == {"position": 1, "estimated_wait_minutes": 4}
    _, reply = queue_for_person(citizen)
    assert reply["queue"] == {"position": 2, "estimated_wait_minutes": 14}


# -- contact requests -----------------------------------------------------------------------
def test_contact_requests_are_stored_listed_and_closed_with_who_and_when(client, citizen, sign_in, clock):
    c = citizen()
    created = client.post("/api/v1/internal/contact-requests", headers=INTERNAL, json={
        "conversation_id": c.id, "name": "Eva Ek", "phone": "070-123 45 67", "reason": "callback",
        "topic": "bygglov"})
    assert created.status_code == 201
    anna = sign_in("anna@mjolby.se", name="Anna")
    (row,) = anna.get("/api/v1/staff/contact-requests?status=open").json()
    assert (row["name"], row["phone"], row["reason"], row["status"]) == ("Eva Ek", "070-123 45 67", "callback", "open")
    closed = anna.post(f"/api/v1/staff/contact-requests/{row['id']}/close", json={"note": "Ringde upp"})
    assert closed.status_code == 200
    body = closed.json()
    assert (body["status"], body["handled_by_email"], body["handled_note"]) == ("closed", "anna@mjolby.se", "Ringde upp")
    assert body["handled_at"] is not None
    again = anna.post(f"/api/v1/staff/contact-requests/{row['id']}/close", json={})
    assert again.status_code == 409
    assert anna.get("/api/v1/staff/contact-requests?status=open").json() == []


def test_a_contact_request_with_a_personal_number_is_refused_and_not_stored(client, session_factory):
    for field, value in (("name", "Eva 850709-9805"), ("email", "198507099805@example.se"),
                         ("message", "mitt personnummer är 850709-9805")):
        body = {"name": "Eva", "email": "eva@example.se", "reason": "callback", field: value}
        response = client.post("/api/v1/internal/contact-requests", headers=INTERNAL, json=body)
        assert response.status_code == 422, field
        assert "9805" not in response.text
        assert response.json()["detail"].startswith("Det ser ut som ett personnummer.")
    with session_factory() as db:
        assert db.scalars(select(ContactRequest)).all() == []


def test_a_contact_request_needs_a_phone_number_or_an_email(client):
    response = client.post("/api/v1/internal/contact-requests", headers=INTERNAL,
                           json={"name": "Eva", "reason": "callback"})
    assert response.status_code == 422
    assert response.json()["detail"] == "Ange ett telefonnummer eller en e-postadress."
    bad = client.post("/api/v1/internal/contact-requests", headers=INTERNAL,
                      json={"name": "Eva", "phone": "ring mig", "reason": "callback"})
    assert bad.status_code == 422


def test_a_secure_contact_request_can_be_stored_for_issue_4(client):
    response = client.post("/api/v1/internal/contact-requests", headers=INTERNAL, json={
        "name": "Eva", "email": "eva@example.se", "reason": "sensitive_data", "message": "Gäller min ansökan"})
    assert response.status_code == 201


# -- availability -------------------------------------------------------------------------
def test_an_admin_can_open_the_chat_outside_the_hours_and_close_it(client, citizen, sign_in, clock):
    clock.advance(hours=8)  # 21:00
    admin = sign_in("admin@mjolby.se", role="admin", name="Ada")
    admin.get("/api/v1/staff/me")
    assert queue_for_person(citizen)[1]["state"] == "bot"
    assert admin.put("/api/v1/staff/availability", json={"mode": "open"}).json()["chat_available"] is True
    assert queue_for_person(citizen)[1]["state"] == "queued"
    assert admin.put("/api/v1/staff/availability", json={"mode": "closed"}).json()["chat_available"] is False
    assert queue_for_person(citizen)[1]["state"] == "bot"
