"""Every spelling of a personnummer, through every way text enters the product,
leaves no readable number in the database, the data folder or the logs.

The paths: a citizen's message and button payload, the contact form's fields,
a staff reply, a case note, a forward comment, the note on a handled contact
request, URLs and query strings (as the access log writes them), an
exception's traceback and a database error. The search compares digits only,
after decoding what logs and dumps encode (percent-escapes, backslash escapes,
fullwidth and other digits), so a number survives in no spelling.

Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""
from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker
from uvicorn.protocols.utils import get_path_with_query_string

from handover_support import INTERNAL_TOKEN
from mjolby.models import Base
from pii_search import encodings, number_hits, spellings

INTERNAL = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
# Valid by date and check digit; not used by any other test, so a hit is ours.
DIGITS = "6408233184"
MISTYPED = "6408233185"  # one digit wrong: still the citizen's number
SPELLINGS = {**spellings("19", DIGITS), "mistyped": f"{MISTYPED[:6]}-{MISTYPED[6:]}"}


def hits(blob: str) -> list[str]:
    return number_hits(blob, DIGITS, MISTYPED)


def test_the_search_finds_every_spelling() -> None:
    for name, written in SPELLINGS.items():
        for blob in encodings(written):
            assert hits(blob), (name, blob)
    assert hits("[personnummer borttaget] 070-123 45 67") == []


def database_rows(session_factory: sessionmaker[Session]) -> list[str]:
    rows = []
    with session_factory() as db:
        for table in Base.metadata.sorted_tables:
            for row in db.execute(select(table)).all():
                rows.extend(str(value) for value in row)
    return rows


def files_under(*folders: Path) -> dict[Path, str]:
    return {path: path.read_bytes().decode("utf-8", errors="replace")
            for folder in folders if folder.exists() for path in folder.rglob("*") if path.is_file()}


# --------------------------------------------------------------------------


def access_log(path: str, query: str) -> None:
    """The line uvicorn's access log writes for this request (its own path rendering)."""
    scope = {"type": "http", "path": path, "root_path": "", "query_string": query.encode("ascii")}
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                                             get_path_with_query_string(scope), "1.1", 404)


def test_no_spelling_survives_any_path(client, citizen, sign_in, bot, engine: Engine, database_url: str,
                                       session_factory, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    anna = sign_in("anna@mjolby.se", name="Anna")
    mailbox = anna.get("/api/v1/staff/mailboxes").json()[0]["address"]
    log = logging.getLogger("mjolby.every_path")

    for name, written in SPELLINGS.items():
        sentence = f"Hej! Mitt personnummer är {written} och jag undrar om bygglov"
        # The citizen: a message, a button payload, then a person.
        c = citizen()
        replies = c.say(sentence)
        assert replies["messages"][0]["topic"] == "sensitive_data_shared", name
        c.say("Bygglov", payload=f'/faq_bygglov{{"pnr": "{written}"}}')
        c.say("Jag vill prata med en människa")
        case_id = anna.get("/api/v1/staff/queue").json()["waiting"][0]["case"]["id"]
        assert anna.post(f"/api/v1/staff/cases/{case_id}/claim").status_code == 200
        c.say(f"Här är det igen: {written}")

        # Staff: a reply, a note, a forward.
        assert anna.post(f"/api/v1/staff/cases/{case_id}/messages",
                         json={"text": f"Stämmer {written}?"}).status_code == 201, name
        assert anna.post(f"/api/v1/staff/cases/{case_id}/notes",
                         json={"text": f"Ring upp, pnr {written}"}).status_code == 201, name
        assert anna.post(f"/api/v1/staff/cases/{case_id}/forward",
                         json={"mailbox": mailbox, "comment": f"Gäller {written}"}).status_code == 201, name
        shown = anna.get(f"/api/v1/staff/cases/{case_id}").text
        assert hits(shown) == [], name
        assert hits(str(c.messages())) == [], name
        anna.post(f"/api/v1/staff/cases/{case_id}/close", json={"outcome": "resolved"})

        # The contact form, as the bot's action sends it: every field.
        for field in ("name", "phone", "email", "message"):
            body = {"conversation_id": c.id, "name": "Eva Ek", "phone": "070-123 45 67", "reason": "callback",
                    field: written if field != "email" else f"{written}@example.se"}
            response = client.post("/api/v1/internal/contact-requests", headers=INTERNAL, json=body)
            assert response.status_code in (201, 422), (name, field, response.text)
            assert hits(response.text) == [], (name, field)
        created = client.post("/api/v1/internal/contact-requests", headers=INTERNAL, json={
            "conversation_id": c.id, "name": "Eva Ek", "phone": "070-123 45 67", "reason": "callback"})
        assert created.status_code == 201
        closed = anna.post(f"/api/v1/staff/contact-requests/{created.json()['id']}/close",
                           json={"note": f"Ringde, hon sa {written}"})
        assert closed.status_code == 200 and hits(closed.text) == [], name

        # URLs and query strings, percent-encoded as browsers send them.
        path = f"/api/v1/conversations/{written}/messages"
        query = f"after=0&q={quote_plus(sentence)}"
        client.get(quote(path) + "?" + query)
        access_log(path, query)

        # An exception with the number in its message, and a database error
        # with it as a statement parameter.
        try:
            raise ValueError(f"Kunde inte tolka {written!r}")
        except ValueError:
            log.exception("Fel i %s", sentence)
        try:
            with engine.connect() as connection:
                connection.execute(text("INSERT INTO no_such_table (t) VALUES (:t)"), {"t": sentence})
        except Exception as error:  # noqa: BLE001 - whatever the driver raises
            log.exception("Databasfel: %s", error)

    leaks = [row for row in database_rows(session_factory) if hits(row)]
    assert leaks == []
    assert hits(caplog.text) == []
    for record in caplog.records:
        assert hits(record.getMessage()) == [], record.name
    data = tmp_path / "var"
    assert (data / "logs" / "api.log").exists()
    folders = [data]
    if database_url.startswith("sqlite"):
        folders.append(Path(database_url.removeprefix("sqlite:///")).parent)
    for path, content in files_under(*folders).items():
        assert hits(content) == [], path
