"""Each figure of the insight page on the hand-made data set of insight_support.build,
on SQLite and PostgreSQL. The expected numbers are worked out by hand in the comments."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from insight_support import NOW, Builder, build, local
from mjolby.conversations import service as conversations
from mjolby.conversations.models import Conversation, Sender
from mjolby.conversations.service import NewMessage
from mjolby.hours import ServiceHours, load_schedule
from mjolby.insight import service
from mjolby.insight.calendar import WorkCalendar
from mjolby.insight.catalogue import load_catalogue
from mjolby.insight.models import InsightDay
from mjolby.insight.report import Report
from mjolby.insight.rollup import compute_day
from mjolby.retention import purge

HOURS = ServiceHours(load_schedule())


def cells(report: Report, table_id: str) -> dict[str, list[str]]:
    """A table's rows by their first cell."""
    return {row[0].text: [cell.text.replace("\u00a0", " ") for cell in row[1:]]
            for row in report.table(table_id).rows}


def thirty_days(db, now=NOW, **kwargs) -> Report:  # noqa: ANN001
    return service.report(db=db, hours=HOURS, now=now, choice="30", **kwargs)


@pytest.fixture
def db(session_factory):  # noqa: ANN001
    with session_factory() as session:
        build(session)
        yield session


def test_overview(db) -> None:  # noqa: ANN001
    report = thirty_days(db)
    assert (report.period.first.isoformat(), report.period.last.isoformat()) == ("2026-10-26", "2026-11-24")
    overview = cells(report, "oversikt")
    # 15 conversations on the 23rd and 5 today (live); 6 in the previous period.
    assert overview["Samtal"] == ["20", "6", "+14"]
    # 6 + 2 + 3×2 + 1 + 1 + 1 + 0 + 1 + 5 today.
    assert overview["Meddelanden från medborgare"][0] == "23"
    # The greeting-only one at 20:00 and the one at 18:00: 2 of 20.
    assert overview["Samtal som började utanför öppettid"][0] == "10 %"
    # 19 conversations where the citizen wrote; self-served: the 6 bygglov, the referral and
    # today's 5 = 12 (not: fallbacks, the sensitive one handed over, the contact request).
    assert overview["Självbetjäningsgrad"][0] == "63 %"
    # Fallbacks in 5 of 19.
    assert overview["Samtal där chattassistenten inte förstod (reservsvar)"][0] == "26 %"
    # Suggestions shown 5 times, picked 4 times.
    assert overview["Valda förslag av ”Menade du …?”"][0] == "80 %"
    assert overview["Överlämningar till Medborgarservice"][0] == "7"
    assert overview["Kontaktförfrågningar"][0] == "6"
    # In time 3, late 2 (one still pending does not count yet).
    assert overview["Kontaktförfrågningar hanterade inom löftet"][0] == "60 %"
    # Ratings 2, 5, 4, 4, 5.
    assert overview["Genomsnittligt betyg (1–5)"][0] == "4,0"


def test_handovers_waits_and_outcomes(db) -> None:  # noqa: ANN001
    report = thirty_days(db)
    handovers = cells(report, "overlamningar")
    # Waits in opening hours: 12, 15 (over the night), 2, 4, 30, 60. Median (nearest rank) 12, 90th 60.
    assert handovers["Alla"] == ["7", "0", "<5", "12 min", "1 h 0 min"]
    # Four claimed cases asked for a person: too few for a median.
    assert handovers["Bad om en person"] == ["5", "0", "<5", "–", "–"]
    assert handovers["Känsligt ämne"][0] == "<5"
    waits = cells(report, "vantetid")
    assert waits["Under 5 min"] == ["<5"] and waits["15–29 min"] == ["<5"] and waits["Mer än 2 h"] == ["0"]
    outcomes = cells(report, "utfall")
    assert outcomes["Löst"] == ["<5"] and outcomes["Medborgaren lämnade kön"] == ["<5"]


def test_contact_requests_and_those_at_risk_first(db) -> None:  # noqa: ANN001
    report = thirty_days(db)
    contacts = cells(report, "kontaktforfragningar")
    assert contacts["Bli kontaktad"] == ["5"]
    assert contacts["Andel inom löftet"] == ["60 %"]
    risk = report.table("risk").rows
    # The request from Friday 20th was due Monday 23rd and is late; the one from the 23rd is due today.
    assert [(r[0].text, r[1].text) for r in risk] == [("Försenad", "2026-11-23"),
                                                     ("Måste hanteras i dag", "2026-11-24")]


def test_topics_referrals_sensitive_and_ratings(db) -> None:  # noqa: ANN001
    report = thirty_days(db, editor_link=lambda topic: f"/staff/editor/topics/{topic}")
    topics = {row[0].text: row for row in report.table("amnen").rows}
    assert [c.text for c in topics["Bygglov, anmälan och rivningslov"][1:]] == ["8", "0", "+8"]
    assert topics["Bygglov, anmälan och rivningslov"][0].href == "/staff/editor/topics/bygglov"
    assert topics["Skolmat och matsedel, specialkost"][1].text == "<5"
    changes = cells(report, "forandringar")
    assert changes["Bygglov, anmälan och rivningslov"] == ["Ökar", "8", "0", "+8"]
    assert changes["Bibliotek: öppettider, lån, låna om"] == ["Minskar", "5", "6", "−1"]
    assert cells(report, "hanvisningar")["Skatteverket"] == ["<5", "0"]
    sensitive = cells(report, "kansliga")
    assert sensitive["Våld i nära relationer"] == ["<5", "0"]
    assert all(row[0].href is None for row in report.table("kansliga").rows)
    ratings = cells(report, "betyg")
    assert ratings["5 av 5"] == ["<5", "40 %"] and ratings["Genomsnitt"] == ["5", "4,0"]
    per_topic = cells(report, "betyg-per-amne")
    assert per_topic["Skolmat och matsedel, specialkost"] == ["<5", "–"]


def test_today_is_counted_live_and_a_custom_range(db) -> None:  # noqa: ANN001
    today = service.report(db=db, hours=HOURS, now=NOW, choice="idag")
    assert cells(today, "oversikt")["Samtal"][0] == "5"
    assert db.get(InsightDay, NOW.date()) is None  # today is never stored
    one_day = service.report(db=db, hours=HOURS, now=NOW, choice="egen", first="2026-11-23", last="2026-11-23")
    assert cells(one_day, "oversikt")["Samtal"][0] == "15"
    assert cells(one_day, "per-dag")["2026-11-23"] == ["15", "18", "<5", "50 %"]


def test_figures_outlive_the_retention_purge(db) -> None:  # noqa: ANN001
    before = thirty_days(db)
    # A day later with one day of retention: everything up to the 24th is deleted.
    later = NOW + timedelta(days=2)
    purge(db=db, now=later, days=1)
    assert db.scalar(select(func.count()).select_from(Conversation)) == 0
    after = service.report(db=db, hours=HOURS, now=later, choice="egen", first="2026-10-26", last="2026-11-24")
    for table in ("per-dag", "overlamningar", "amnen", "forandringar", "betyg", "kansliga", "hanvisningar"):
        assert cells(after, table) == cells(before, table), table
    assert cells(after, "oversikt")["Samtal"] == ["20", "6", "+14"]


def test_a_day_is_rolled_up_again_until_it_settles(db) -> None:  # noqa: ANN001
    calendar, catalogue = WorkCalendar(HOURS), load_catalogue()
    service.roll_up_days(db=db, hours=HOURS, now=NOW)
    stored = db.get(InsightDay, local("2026-11-23 12:00").date())
    assert stored is not None and not stored.final
    # A late conversation of the 23rd appears in the next roll-up; after SETTLE_DAYS the day is final.
    Builder(db).conversation("2026-11-23 13:00", ("Hej", "bygglov"))
    db.commit()
    service.roll_up_days(db=db, hours=HOURS, now=NOW + timedelta(days=9))
    db.expire_all()
    assert db.get(InsightDay, local("2026-11-23 12:00").date()).final
    day = compute_day(db=db, calendar=calendar, catalogue=catalogue, day=local("2026-11-23 12:00").date(),
                      now=NOW)
    assert day["conversations", "", ""] == 16
    report = service.report(db=db, hours=HOURS, now=NOW + timedelta(days=9), choice="egen",
                            first="2026-11-23", last="2026-11-23")
    assert cells(report, "oversikt")["Samtal"][0] == "16"


def test_contact_promise_across_christmas(session_factory) -> None:  # noqa: ANN001
    with session_factory() as db:
        b = Builder(db)
        b.contact("2026-12-23 09:00", handled="2026-12-28 16:00")  # due Monday 28th: in time
        b.contact("2026-12-23 09:00", handled="2026-12-29 09:00")  # late
        b.contact("2026-12-23 15:00", handled="2026-12-29 16:00")  # after the short day's closing: in time
        b.contact("2026-12-23 15:00")  # never handled: late once Tuesday 29th has closed
        db.commit()
        day = compute_day(db=db, calendar=WorkCalendar(HOURS), catalogue=load_catalogue(),
                          day=local("2026-12-23 12:00").date(), now=local("2027-01-10 12:00"))
        assert day["contact_promise", "", "in_time"] == 2
        assert day["contact_promise", "", "late"] == 2
        early = compute_day(db=db, calendar=WorkCalendar(HOURS), catalogue=load_catalogue(),
                            day=local("2026-12-23 12:00").date(), now=local("2026-12-29 12:00"))
        assert early["contact_promise", "", "pending"] == 1


def test_a_conversation_counts_whole_on_its_first_day(session_factory) -> None:  # noqa: ANN001
    """A day's messages are read by their time: a conversation that goes on past midnight
    and days later still counts whole on the day it started, and only there."""
    with session_factory() as db:
        def say(conversation_id: str, at: str, question: str, topic: str) -> None:
            conversations.add_messages(db=db, conversation_id=conversation_id, now=local(at), messages=[
                NewMessage(Sender.USER, question), NewMessage(Sender.BOT, "Svar", topic=topic)])
            db.commit()

        for conversation_id, at in (("late", "2026-11-23 23:50"), ("next", "2026-11-24 00:05")):
            conversations.create_conversation(db=db, conversation_id=conversation_id, locale="sv", client_key=None,
                                              greeting=[NewMessage(Sender.BOT, "Hej!", topic="greet")],
                                              now=local(at))
        say("late", "2026-11-23 23:55", "Hur söker jag bygglov?", "bygglov")
        say("next", "2026-11-24 00:06", "Vad blir det för mat?", "skolmat")
        say("late", "2026-11-26 10:00", "Och skolmaten?", "skolmat")  # back three days later
        calendar, catalogue = WorkCalendar(HOURS), load_catalogue()
        monday = compute_day(db=db, calendar=calendar, catalogue=catalogue, day=local("2026-11-23 12:00").date(),
                             now=local("2026-11-27 12:00"))
        assert monday["conversations", "", ""] == 1
        assert monday["user_messages", "", ""] == 2
        assert monday["topic", "bygglov", ""] == 1 and monday["topic", "skolmat", ""] == 1
        assert monday["self_served", "", ""] == 1
        tuesday = compute_day(db=db, calendar=calendar, catalogue=catalogue, day=local("2026-11-24 12:00").date(),
                              now=local("2026-11-27 12:00"))
        assert tuesday["user_messages", "", ""] == 1 and tuesday["topic", "skolmat", ""] == 1
        assert tuesday["topic", "bygglov", ""] == 0
