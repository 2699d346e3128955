"""50 staff members claim the same case at the same moment: exactly one wins.

Runs on SQLite (WAL, one writer at a time) and on PostgreSQL (row locks),
each claim in its own thread, session and connection.
"""
from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from mjolby.conversations import service as conversations
from mjolby.conversations.models import Conversation, Message, State
from mjolby.db import utcnow
from mjolby.handover import service
from mjolby.errors import Conflict
from mjolby.handover.models import HandoverCase
from mjolby.staff import service as staff_service
from mjolby.staff.service import StaffContext

CLAIMS = 50


def test_fifty_concurrent_claims_have_exactly_one_winner(session_factory, backend):
    now = utcnow()
    with session_factory() as db:
        conversation, _ = conversations.create_conversation(
            db=db, conversation_id="c0ffee00-0000-4000-8000-000000000001", locale="sv", client_key=None,
            greeting=[], now=now)
        case = HandoverCase(conversation_id=conversation.id, status="queued", reason="user_request", created_at=now)
        db.add(case)
        conversations.set_state(db=db, conversation_id=conversation.id, state=State.QUEUED, now=now)
        db.commit()
        staff = []
        for n in range(CLAIMS):
            user = staff_service.create_user(db=db, email=f"agent{n}@mjolby.se", password="ett-långt-lösenord",
                                             role="agent", display_name=f"Agent{n}")
            staff.append(StaffContext(user.id, user.email, user.display_name, "agent", "csrf", f"hash{n}"))

    barrier = threading.Barrier(CLAIMS)
    winners: list[int] = []
    losers: list[str] = []
    errors: list[BaseException] = []

    def claim(who: StaffContext) -> None:
        try:
            with session_factory() as db:
                barrier.wait()
                service.claim(db=db, case_id=case.id, staff=who, now=utcnow())
                winners.append(who.staff_id)
        except Conflict as exc:
            losers.append(exc.code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(who,)) for who in staff]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    elapsed = time.perf_counter() - started

    assert errors == []
    assert len(winners) == 1
    assert losers == ["already_claimed"] * (CLAIMS - 1)
    with session_factory() as db:
        stored = db.get(HandoverCase, case.id)
        assert stored.status == "active" and stored.claimed_by == winners[0]
        joined = db.scalar(select(func.count()).select_from(Message).where(
            Message.conversation_id == conversation.id, Message.sender == "system"))
        assert joined == 1  # one "Du chattar nu med ..." notice, not fifty
        assert db.scalar(select(Conversation.state)) == "agent"
    print(f"\n[{backend}] {CLAIMS} concurrent claims: 1 winner, {len(losers)} refused, {elapsed * 1000:.0f} ms")
