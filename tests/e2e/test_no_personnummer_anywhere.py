"""Issue: a personnummer written in the chat must not survive anywhere.

Messages with numbers in every format go through the chat API to the real
bot; then every file under the data folder (the app database, Rasa's tracker
store, logs) and, on PostgreSQL, both databases are searched for the digits.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from pii_search import number_hits, spellings  # noqa: E402

pytestmark = pytest.mark.live

# Valid by date and Luhn: a personnummer and a samordningsnummer (day + 60).
NUMBERS = {"198112289874": "personnummer", "197010632391": "samordningsnummer"}


def written_forms(digits: str) -> list[str]:
    ten = digits[2:]
    return [digits, ten, f"{ten[:6]}-{ten[6:]}", f"{ten[:6]}+{ten[6:]}", f"{ten[:6]} {ten[6:]}",
            f"{digits[:8]}-{digits[8:]}", f"{digits[:8]} {digits[8:]}"]


def messages_with_numbers() -> list[str]:
    out = []
    for digits in NUMBERS:
        for form in written_forms(digits):
            out.append(f"Hej, mitt nummer är {form} och jag undrar hur jag ansöker om förskoleplats")
        out.append(written_forms(digits)[2])  # only the number
        # Fullwidth, dots, slashes, tabs, line breaks, thin spaces, dashes,
        # invisible characters, grouped dates.
        for form in spellings(digits[:2], digits[2:]).values():
            out.append(f"Jag heter Eva och mitt nummer är {form}. Hur söker jag bygglov?")
    return out


def needles() -> list[bytes]:
    # The 10-digit core is in every form; search with and without separators.
    found = []
    for digits in NUMBERS:
        ten = digits[2:]
        found += [ten.encode(), f"{ten[:6]}-{ten[6:]}".encode(), f"{ten[:6]} {ten[6:]}".encode(),
                  ten.encode("utf-16-le")]
    return found


MESSAGES_PER_CONVERSATION = 15  # below the per-conversation rate limit (20 a minute)


def send_all(stack) -> str:
    """Send every spelling, a new conversation every few messages; returns the last one."""
    for n, text in enumerate(messages_with_numbers()):
        if n % MESSAGES_PER_CONVERSATION == 0:
            status, body, _ = stack.request("POST", "/api/v1/conversations", {})
            assert status == 201
            conv = body["conversation_id"]
        status, reply, _ = stack.request("POST", f"/api/v1/conversations/{conv}/messages", {"text": text})
        assert status == 200, reply
        assert reply["messages"][0]["topic"] == "sensitive_data_shared"
    return conv


def scan_files(root: Path) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if not path.is_file() or path.suffix == ".gz":  # the trained model is not written by a chat
            continue
        data = path.read_bytes()
        for needle in needles():
            if needle in data:
                hits.append(f"{path.relative_to(root)} contains {needle!r}")
        # In any spelling: digits compared after decoding escapes and widths.
        for line in number_hits(data.decode("utf-8", errors="replace"), *(d[2:] for d in NUMBERS)):
            hits.append(f"{path.relative_to(root)} contains {line!r}")
    return hits


def test_sqlite_stack_keeps_no_number(live_stack):
    conv = send_all(live_stack)
    # The tracker store really is where Rasa wrote this conversation (in WAL
    # mode some of it may still be in rasa_tracker.db-wal, which is scanned too).
    tracker = live_stack.data_dir / "rasa_tracker.db"
    with sqlite3.connect(tracker) as db:
        stored = db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (conv,)).fetchone()[0]
    assert stored > 0
    assert scan_files(live_stack.data_dir) == []


def test_postgres_stack_keeps_no_number(live_stack_pg):
    conv = send_all(live_stack_pg)
    assert scan_files(live_stack_pg.data_dir) == []
    pg = live_stack_pg.pg
    app_db = live_stack_pg.database_url.rsplit("/", 1)[1]
    for db in (app_db, live_stack_pg.tracker_db):
        dump = subprocess.run(
            ["pg_dump", "-h", pg["host"], "-p", pg["port"], "-U", pg["user"], "--data-only", db],
            capture_output=True, check=True,
        ).stdout
        assert dump, db
        for needle in needles():
            assert needle not in dump, f"{db} contains {needle!r}"
        assert number_hits(dump.decode("utf-8", errors="replace"), *(d[2:] for d in NUMBERS)) == [], db
    dump = subprocess.run(["pg_dump", "-h", pg["host"], "-p", pg["port"], "-U", pg["user"], "--data-only",
                           live_stack_pg.tracker_db], capture_output=True, check=True).stdout
    assert conv.encode() in dump  # Rasa really stored this conversation in PostgreSQL
