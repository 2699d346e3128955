"""Working days, opening hours and the contact promise, across Swedish holidays and weekends."""
from __future__ import annotations

from insight_support import local
from mjolby.hours import ServiceHours, load_schedule
from mjolby.insight.calendar import WorkCalendar

CALENDAR = WorkCalendar(ServiceHours(load_schedule()))


def test_a_request_before_closing_counts_from_that_day_and_skips_christmas_and_the_weekend() -> None:
    # Wednesday 23 December 2026 is a working day (short: closes 13:00); then julafton (closed),
    # juldagen, annandag jul (a Saturday) and a Sunday. The next working day is Monday 28th.
    assert CALENDAR.promise_deadline(local("2026-12-23 09:00")) == local("2026-12-28 16:30")


def test_a_request_after_closing_counts_from_the_next_working_day() -> None:
    # After the short day's 13:00 closing, the first day is Monday 28th, so Tuesday 29th is the last.
    assert CALENDAR.promise_deadline(local("2026-12-23 15:00")) == local("2026-12-29 16:30")
    # A Saturday request: Monday is the first day, Tuesday the last.
    assert CALENDAR.promise_deadline(local("2026-11-28 11:00")) == local("2026-12-01 16:30")
    # Friday before closing (16:00): Monday is the next working day.
    assert CALENDAR.promise_deadline(local("2026-11-20 15:00")) == local("2026-11-23 16:30")


def test_working_days_know_holidays_and_closed_days() -> None:
    assert CALENDAR.next_working_day(local("2026-12-23 12:00").date()).isoformat() == "2026-12-28"
    assert not CALENDAR.is_working_day(local("2027-01-06 12:00").date())  # trettondedag jul, a Wednesday
    assert CALENDAR.is_working_day(local("2027-01-07 12:00").date())


def test_waits_count_only_opening_hours() -> None:
    # Friday 15:50 to Monday 07:40: 10 minutes on Friday (closes 16:00) and 10 on Monday.
    assert CALENDAR.open_minutes(local("2026-11-27 15:50"), local("2026-11-30 07:40")) == 20
    # From the evening before julafton to 07:45 on Monday 28th: only Monday's 15 minutes.
    assert CALENDAR.open_minutes(local("2026-12-23 18:00"), local("2026-12-28 07:45")) == 15
    assert CALENDAR.open_minutes(local("2026-11-23 10:00"), local("2026-11-23 10:12")) == 12
    assert CALENDAR.open_minutes(local("2026-11-23 10:12"), local("2026-11-23 10:00")) == 0
