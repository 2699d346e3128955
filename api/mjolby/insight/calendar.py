"""Working days and opening hours as the insight figures count them.

Medborgarservice's hours are the phone's hours in knowledge/organisation.yml
(the chat's handover follows them too); Swedish public holidays and the listed
closed days come from mjolby.hours. The guideline's promise for contact
requests, "the same or the next working day", is read as: the day a request
arrives counts as its first day when it is a working day and the request
comes before closing time; otherwise the next working day is its first day.
It must be handled by closing time on the working day after its first day.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from mjolby.hours import MAX_DAYS_AHEAD, ServiceHours

CHANNEL = "phone"


class WorkCalendar:
    def __init__(self, hours: ServiceHours) -> None:
        self.hours = hours
        self.tz = hours.schedule.tz

    def span(self, day: date) -> tuple[datetime, datetime] | None:
        """Opening and closing time of a day, or None when it is not a working day."""
        return self.hours.hours_on(CHANNEL, day)

    def is_working_day(self, day: date) -> bool:
        return self.span(day) is not None

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        for offset in range(1, MAX_DAYS_AHEAD + 1):
            following = day + timedelta(days=offset)
            if self.is_working_day(following):
                return following
        raise ValueError(f"no working day within {MAX_DAYS_AHEAD} days after {day}")

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """A local day as a UTC interval [start, end)."""
        start = datetime.combine(day, time(0), self.tz)
        end = datetime.combine(day + timedelta(days=1), time(0), self.tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def first_day(self, received: datetime) -> date:
        """The working day a contact request counts from."""
        day = self.local_day(received)
        span = self.span(day)
        if span is not None and received < span[1]:
            return day
        return self.next_working_day(day)

    def promise_deadline(self, received: datetime) -> datetime:
        """When a contact request received at `received` must be handled by (UTC)."""
        last = self.next_working_day(self.first_day(received))
        span = self.span(last)
        assert span is not None
        return span[1].astimezone(UTC)

    def is_open(self, moment: datetime) -> bool:
        span = self.span(self.local_day(moment))
        return span is not None and span[0] <= moment < span[1]

    def open_minutes(self, start: datetime, end: datetime) -> float:
        """Minutes of opening hours between two moments (0 when end is not after start)."""
        if end <= start:
            return 0.0
        total = 0.0
        day, last = self.local_day(start), self.local_day(end)
        while day <= last:
            span = self.span(day)
            if span is not None:
                overlap = (min(end, span[1]) - max(start, span[0])).total_seconds()
                total += max(0.0, overlap)
            day += timedelta(days=1)
        return total / 60
