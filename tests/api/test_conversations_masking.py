"""Identity numbers through the API: never stored, logged, returned or sent on."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api_support import FakeRasa, fresh_database
from pii_search import number_hits, spellings
from mjolby import texts
from mjolby.conversations import service
from mjolby.conversations.models import State
from mjolby.db import Base
from mjolby_pii import MASK

API = "/api/v1/conversations"
API_DIR = Path(__file__).resolve().parents[2] / "api"

# 811228-9874 and a samordningsnummer (day 63): valid by date and Luhn.
PNR_DIGITS = "198112289874"
SAMORDNING_DIGITS = "197010632391"
WRITTEN = {
    "YYMMDD-NNNN": "811228-9874",
    "YYMMDD+NNNN": "811228+9874",
    "YYMMDDNNNN": "8112289874",
    "YYMMDD NNNN": "811228 9874",
    "YYYYMMDD-NNNN": "19811228-9874",
    "YYYYMMDDNNNN": "198112289874",
    "YYYYMMDD NNNN": "19811228 9874",
    "samordningsnummer": "701063-2391",
}
SPELLINGS = spellings("19", PNR_DIGITS[2:])


def leaks(text: str) -> list[str]:
    """Every way one of the test numbers could appear in `text`."""
    found = []
    for digits in (PNR_DIGITS, SAMORDNING_DIGITS):
        ten = digits[2:]
        for form in (digits, ten, f"{ten[:6]}-{ten[6:]}", f"{ten[:6]}+{ten[6:]}",
                     f"{ten[:6]} {ten[6:]}", f"{digits[:8]}-{digits[8:]}", f"{digits[:8]} {digits[8:]}"):
            if form in text:
                found.append(form)
    return found


def database_dump(db: Session) -> str:
    return "\n".join(repr(db.execute(select(table)).all()) for table in Base.metadata.sorted_tables)


def post(client: TestClient, conversation_id: str, text: str, **extra: object):
    return client.post(f"{API}/{conversation_id}/messages", json={"text": text, **extra})


@pytest.mark.parametrize("written", WRITTEN.values(), ids=WRITTEN.keys())
def test_number_is_masked_everywhere_and_the_question_still_answered(
        client: TestClient, start: Callable[[], str], fake_rasa: FakeRasa, db: Session,
        caplog: pytest.LogCaptureFixture, data_dir: Path, written: str) -> None:
    caplog.set_level("DEBUG")
    conversation_id = start()
    text = f"Hej, jag har personnummer {written} och undrar om bygglov för en altan"
    response = post(client, conversation_id, text)

    assert response.status_code == 200
    replies = response.json()["messages"]
    # The notice first, then the answer to the rest of the question.
    assert [(m["sender"], m["topic"]) for m in replies] == [
        ("bot", "sensitive_data_shared"), ("bot", "bygglov"),
    ]
    assert replies[0]["text"] == texts.SENSITIVE_DATA_REMOVED
    # The notice offers the secure way: Medborgarservice starts a SEFOS message.
    assert replies[0]["buttons"] == [{"title": "Be om ett säkert meddelande",
                                      "payload": "/secure_contact_request"}]
    assert replies[1]["text"] == FakeRasa.BYGGLOV

    masked = f"Hej, jag har personnummer {MASK} och undrar om bygglov för en altan"
    assert fake_rasa.webhook_requests[-1] == {
        "sender": conversation_id, "message": masked,
        "metadata": {"locale": "sv", "pii_masked": True},
    }
    stored = client.get(f"{API}/{conversation_id}/messages").json()["messages"]
    assert [m["text"] for m in stored if m["sender"] == "user"] == [masked]

    assert leaks(response.text) == []
    assert leaks(repr(fake_rasa.webhook_requests)) == []
    assert leaks(database_dump(db)) == []
    assert leaks(caplog.text) == []
    assert leaks((data_dir / "logs" / "api.log").read_text(encoding="utf-8")) == []


def test_masked_message_is_flagged_in_the_database(client: TestClient, start: Callable[[], str],
                                                   db: Session) -> None:
    conversation_id = start()
    post(client, conversation_id, "Mitt nummer är 811228-9874, hur söker jag bygglov?")
    post(client, conversation_id, "Och en altan?")
    _, messages = service.list_messages(db=db, conversation_id=conversation_id)
    users = [m for m in messages if m.sender == "user"]
    assert [m.pii_masked for m in users] == [True, False]


def test_only_a_number_gets_a_follow_up_and_no_bot_call(client: TestClient,
                                                        start: Callable[[], str],
                                                        fake_rasa: FakeRasa) -> None:
    conversation_id = start()
    calls = len(fake_rasa.webhook_requests)
    response = post(client, conversation_id, "pnr 19811228-9874")
    replies = response.json()["messages"]
    assert [(m["text"], m["topic"]) for m in replies] == [
        (texts.SENSITIVE_DATA_REMOVED, "sensitive_data_shared"),
        (texts.WHAT_CAN_I_HELP_WITH, "sensitive_data_shared"),
    ]
    assert len(fake_rasa.webhook_requests) == calls


def test_two_words_besides_the_number_go_to_the_bot(client: TestClient, start: Callable[[], str],
                                                    fake_rasa: FakeRasa) -> None:
    conversation_id = start()
    replies = post(client, conversation_id, "811228-9874 bygglov altan").json()["messages"]
    assert [m["topic"] for m in replies] == ["sensitive_data_shared", "bygglov"]
    assert fake_rasa.messages_received[-1] == f"{MASK} bygglov altan"


def test_number_in_a_payload_is_masked_before_the_bot(client: TestClient, start: Callable[[], str],
                                                      fake_rasa: FakeRasa, db: Session) -> None:
    conversation_id = start()
    for payload in ("/faq_bygglov{\"x\": \"8112289874\"}", "/faq_bygglov{\"x\": \"811228.9874\"}",
                    "/faq_bygglov{\"x\": \"\uff18\uff11\uff11\uff12\uff12\uff18\uff0d\uff19\uff18\uff17\uff14\"}"):
        response = post(client, conversation_id, "Bygglov om altan", payload=payload)
        assert response.status_code == 200
        assert response.json()["messages"][0]["topic"] == "sensitive_data_shared"
    assert number_hits(repr(fake_rasa.webhook_requests), PNR_DIGITS[2:]) == []
    assert leaks(database_dump(db)) == []
    assert number_hits(database_dump(db), PNR_DIGITS[2:]) == []


@pytest.mark.parametrize("state", [State.AGENT, State.QUEUED, State.CLOSED])
def test_number_sent_to_a_person_is_masked_and_the_citizen_told(
        client: TestClient, start: Callable[[], str], db: Session, state: State) -> None:
    conversation_id = start()
    service.set_state(db=db, conversation_id=conversation_id, state=state)
    db.commit()
    response = post(client, conversation_id, "Här är mitt personnummer: 701063-2391")
    notices = response.json()["messages"]
    assert notices[0]["sender"] == "system"
    assert notices[0]["topic"] == "sensitive_data_shared"
    assert leaks(database_dump(db)) == []
    assert leaks(response.text) == []


def test_bot_failure_logs_no_number(client: TestClient, start: Callable[[], str],
                                    fake_rasa: FakeRasa, caplog: pytest.LogCaptureFixture,
                                    data_dir: Path) -> None:
    conversation_id = start()
    fake_rasa.mode = "error"
    response = post(client, conversation_id, "Jag är 19811228-9874, hjälp med bygglov")
    assert [m["topic"] for m in response.json()["messages"]] == ["sensitive_data_shared", None]
    assert leaks(caplog.text) == []
    assert leaks((data_dir / "logs" / "api.log").read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("body", [
    {"text": {"pnr": "811228-9874"}},
    {"text": 8112289874},
    {"txt": "811228-9874"},
    {"text": "811228-9874 " + "x" * 2000},
    {"text": "Hej", "payload": ["811228-9874"]},
])
def test_rejected_bodies_do_not_echo_or_log_the_number(
        client: TestClient, start: Callable[[], str], body: dict,
        caplog: pytest.LogCaptureFixture, data_dir: Path) -> None:
    caplog.set_level("DEBUG")
    response = client.post(f"{API}/{start()}/messages", json=body)
    assert response.status_code in (413, 422)
    assert set(response.json()) == {"detail"}
    assert leaks(response.text) == []
    assert leaks(caplog.text) == []
    assert leaks((data_dir / "logs" / "api.log").read_text(encoding="utf-8")) == []


def test_malformed_json_with_a_number_is_not_echoed(client: TestClient,
                                                    start: Callable[[], str]) -> None:
    response = client.post(f"{API}/{start()}/messages", content=b'{"text": "811228-9874',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400  # CONTRACT.md: malformed JSON
    assert leaks(response.text) == []


# --------------------------------------------------------------------------
# End to end: a real server process, then every file under DATA_DIR


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_server_process_leaves_no_number_in_data_dir_or_output(tmp_path: Path,
                                                               backend_name: str) -> None:
    data_dir = tmp_path / "var"
    with fresh_database(backend_name, tmp_path) as database_url:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(API_DIR),
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url if backend_name == "postgresql" else "",
            "API_PORT": str(port),
            "RASA_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: the bot is down
            "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
            "LOG_LEVEL": "DEBUG",
            "ENVIRONMENT": "development",
            "REDIS_URL": "",
            "RATE_LIMIT_CONVERSATION_PER_MINUTE": "1000",
            "RATE_LIMIT_CLIENT_PER_MINUTE": "1000",
        }
        server = subprocess.Popen([sys.executable, "-m", "mjolby"], env=env, cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            http = httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=15)
            deadline = time.monotonic() + 30
            while True:
                try:
                    http.get("/api/v1/health", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.1)
            conversation_id = http.post(API, json={}).json()["conversation_id"]
            for written in WRITTEN.values():
                response = http.post(f"{API}/{conversation_id}/messages",
                                     json={"text": f"Mitt nummer är {written}, hjälp mig"})
                assert response.status_code == 200
                assert leaks(response.text) == []
            http.post(f"{API}/{conversation_id}/messages", json={"text": {"x": "811228-9874"}})
            http.get(f"{API}/{conversation_id}/messages", params={"after": "0", "q": "8112289874"})
            http.get(f"{API}/19811228-9874/messages")
            # Every spelling in a message, in the path and in the query string
            # (percent-encoded, as uvicorn's access log writes them).
            for written in SPELLINGS.values():
                response = http.post(f"{API}/{conversation_id}/messages",
                                     json={"text": f"Mitt nummer är {written}, hjälp mig"})
                assert response.status_code == 200
                assert number_hits(response.text, PNR_DIGITS[2:]) == []
                http.get(f"{API}/{quote(written, safe='')}/messages",
                         params={"after": "0", "q": f"pnr {written}"})
            http.close()
        finally:
            server.terminate()
            output, _ = server.communicate(timeout=15)

        console = output.decode("utf-8", errors="replace")
        assert "POST /api/v1/conversations" in console  # the access log was on
        assert MASK in console  # the path with the number was logged, masked
        assert leaks(console) == []
        assert number_hits(console, PNR_DIGITS[2:]) == []
        files = [p for p in data_dir.rglob("*") if p.is_file()]
        assert any(p.name == "api.log" for p in files)
        for path in files:
            assert leaks(path.read_bytes().decode("latin-1")) == [], path
            assert number_hits(path.read_bytes().decode("utf-8", errors="replace"), PNR_DIGITS[2:]) == [], path
