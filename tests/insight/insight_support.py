"""A small hand-made data set whose figures are known (see test_definitions.py)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from mjolby.conversations.models import Conversation, Message
from mjolby.handover.models import ContactRequest, HandoverCase

LOCAL = ZoneInfo("Europe/Stockholm")
# The FakeClock's "now": Tuesday 24 November 2026, 13:00 in Stockholm.
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SUGGESTIONS = [{"title": "Skolmat", "payload": '/choose_topic{"topic":"skolmat"}'},
               {"title": "Prata med Medborgarservice", "payload": "/handover_request"}]


def local(text: str) -> datetime:
    """'2026-11-23 10:00' in Stockholm as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL).astimezone(UTC)


class Builder:
    def __init__(self, db: Session) -> None:
        self.db = db

    def conversation(self, at: str, *turns: tuple[str, str | None], picks: int = 0) -> str:
        """A conversation started at local time `at`: the greeting, then per turn a
        citizen message and the bot's reply with the topic (None: the fallback
        with "Menade du …?" suggestions); `picks` citizen messages pick a suggestion."""
        created = local(at)
        conversation = Conversation(id=str(uuid.uuid4()), created_at=created,
                                    updated_at=created + timedelta(minutes=5))
        self.db.add(conversation)
        moment = created
        messages = [Message(sender="bot", text="Hej!", topic="greet", created_at=moment)]
        for question, topic in turns:
            moment += timedelta(seconds=20)
            payload = question if question.startswith("/choose_topic") else None
            messages.append(Message(sender="user", text=question, payload=payload, created_at=moment))
            buttons = [] if topic else [SUGGESTIONS]
            messages.append(Message(sender="bot", text="Svar", topic=topic, buttons=buttons, created_at=moment))
        for message in messages:
            message.conversation_id = conversation.id
            self.db.add(message)
        self.db.flush()
        return conversation.id

    def case(self, at: str, reason: str, *, conversation_id: str | None = None, claimed: str | None = None,
             status: str = "closed", outcome: str | None = None, rating: int | None = None,
             topic: str | None = None) -> None:
        self.db.add(HandoverCase(conversation_id=conversation_id, reason=reason, created_at=local(at),
                                 claimed_at=local(claimed) if claimed else None, status=status,
                                 outcome=outcome, rating=rating, topic=topic))

    def contact(self, at: str, *, handled: str | None = None, conversation_id: str | None = None,
                reason: str = "callback") -> None:
        self.db.add(ContactRequest(conversation_id=conversation_id, reason=reason, name="Test", phone="0700000000",
                                   created_at=local(at), status="closed" if handled else "open",
                                   handled_at=local(handled) if handled else None))


def build(db: Session) -> None:
    """Monday 23 November 2026 (and a few days around it); the figures are in test_definitions.py."""
    b = Builder(db)
    for _ in range(6):  # answered from knowledge, nothing else: self-served
        b.conversation("2026-11-23 10:00", ("Hur söker jag bygglov?", "bygglov"))
    # "Menade du …?" and a pick: answered, but after a fallback
    b.conversation("2026-11-23 10:05", ("bygg", None), ('/choose_topic{"topic":"bygglov"}', "bygglov"))
    for _ in range(3):
        b.conversation("2026-11-23 11:00", ("mat", None), ('/choose_topic{"topic":"skolmat"}', "skolmat"))
    c8 = b.conversation("2026-11-23 10:10", ("asdf", None))  # fallback, then a person
    b.conversation("2026-11-23 12:00", ("Ändra adress", "hanvisning_skatteverket"))  # a referral: self-served
    c10 = b.conversation("2026-11-23 16:15", ("Han slår mig", "vald_nara_relation"))
    b.conversation("2026-11-23 20:00")  # only the greeting, outside opening hours
    c12 = b.conversation("2026-11-23 18:00", ("Bygglov för altan", "bygglov"))  # then a contact request
    for _ in range(5):  # today, not rolled up yet
        b.conversation("2026-11-24 09:00", ("Bibliotekets öppettider", "bibliotek"))
    for _ in range(6):  # the previous period
        b.conversation("2026-10-20 10:00", ("Låna böcker", "bibliotek"))

    b.case("2026-11-23 10:00", "unresolved", conversation_id=c8, claimed="2026-11-23 10:12",
           outcome="resolved", rating=2, topic="bygglov")
    # Claimed 10 minutes before closing and 5 after opening the next day: 15 minutes of opening hours.
    b.case("2026-11-23 16:20", "sensitive", conversation_id=c10, claimed="2026-11-24 07:35", status="active",
           topic="vald_nara_relation")
    b.case("2026-11-23 11:00", "user_request", claimed="2026-11-23 11:02", outcome="referred", rating=5,
           topic="bygglov")
    b.case("2026-11-23 11:00", "user_request", claimed="2026-11-23 11:04", outcome="referred", rating=4,
           topic="skolmat")
    b.case("2026-11-23 11:00", "user_request", claimed="2026-11-23 11:30", outcome="resolved", rating=4,
           topic="skolmat")
    b.case("2026-11-23 11:00", "user_request", claimed="2026-11-23 12:00", outcome="resolved", rating=5,
           topic="skolmat")
    b.case("2026-11-23 11:00", "user_request", status="cancelled")  # left the queue unclaimed

    b.contact("2026-11-23 18:00", conversation_id=c12, handled="2026-11-24 09:00")  # after closing: in time
    b.contact("2026-11-23 09:00", handled="2026-11-24 12:00")  # next working day: in time
    b.contact("2026-11-23 09:00")  # open, due today 16:30: pending
    b.contact("2026-11-19 09:00", handled="2026-11-23 09:00")  # due Friday 20th: late
    b.contact("2026-11-20 15:00")  # open, was due Monday 23rd 16:30: late
    b.contact("2026-11-17 10:00", handled="2026-11-17 14:00", reason="sensitive_data")  # in time
    db.commit()
