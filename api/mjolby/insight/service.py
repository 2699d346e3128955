"""What the console's insight page asks for: a report for a chosen period."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from mjolby.hours import ServiceHours
from mjolby.insight.calendar import WorkCalendar
from mjolby.insight.catalogue import load_catalogue
from mjolby.insight.report import Report, build_report, choose_period
from mjolby.insight.rollup import before_purge, roll_up


def report(*, db: Session, hours: ServiceHours, now: datetime, choice: str, first: str | None = None,
           last: str | None = None, editor_link: Callable[[str], str | None] = lambda _t: None) -> Report:
    """The report for a period (InvalidInput for a bad one). Rolls up missing past days; commits those."""
    calendar = WorkCalendar(hours)
    period = choose_period(choice, first, last, calendar.local_day(now))
    return build_report(db=db, calendar=calendar, catalogue=load_catalogue(), period=period, now=now,
                        editor_link=editor_link)


def roll_up_days(*, db: Session, hours: ServiceHours, now: datetime, cutoff: datetime | None = None) -> int:
    """The daily job: store every day before today that is not final yet. With
    `cutoff` (the retention purge's), days up to it become final first. Commits."""
    calendar = WorkCalendar(hours)
    if cutoff is not None:
        return before_purge(db=db, calendar=calendar, catalogue=load_catalogue(), now=now, cutoff=cutoff)
    return roll_up(db=db, calendar=calendar, catalogue=load_catalogue(), now=now)
