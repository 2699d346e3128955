"""Opening hours of Medborgarservice: is it open now, when does it open next.

The weekly hours, the extra closed days and the short day before a holiday
come from knowledge/organisation.yml; Swedish public holidays come from the
`holidays` package. All times are in Europe/Stockholm (the file's
`timezone`). The clock is injected so that tests can fix "now".

Rules:
- a public holiday (Sundays as such not counted) or a listed closed day
  (midsommarafton, julafton, nyårsafton; matched by name against the
  package's de facto holidays) is closed, as are Saturdays and Sundays;
- the last working day before a public holiday or closed day closes early
  (`day_before_holiday`, for example 07:30-13:00). "Before" skips ordinary
  weekend days, so the Friday before a Monday holiday is a short day too, but
  an ordinary Friday before an ordinary weekend is not. While that rule is
  marked `assumption: true`, the texts say only that the day may be shorter,
  never the closing time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Callable, Literal, Optional
from zoneinfo import ZoneInfo

import holidays
import yaml

Channel = Literal["phone", "reception"]
CHANNELS: tuple[Channel, ...] = ("phone", "reception")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_NAMES_SV = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
MONTH_NAMES_SV = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)
DEFAULT_ORGANISATION_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "organisation.yml"
# Looking further ahead than this for the next opening means the file is wrong.
MAX_DAYS_AHEAD = 21


class HoursConfigError(ValueError):
    """organisation.yml does not describe usable opening hours."""


def _parse_span(value: str, where: str) -> tuple[time, time]:
    try:
        start, end = (part.strip() for part in str(value).split("-"))
        opens, closes = time.fromisoformat(start), time.fromisoformat(end)
    except ValueError as exc:
        raise HoursConfigError(f"{where}: expected 'HH:MM-HH:MM', got {value!r}") from exc
    if opens >= closes:
        raise HoursConfigError(f"{where}: opens at or after it closes ({value!r})")
    return opens, closes


@dataclass(frozen=True)
class Schedule:
    """The parsed hours of organisation.yml."""

    tz: ZoneInfo
    weekly: dict[str, dict[int, tuple[time, time]]]
    closed_day_names: tuple[str, ...]
    day_before_holiday: tuple[time, time]
    phone_number: str
    visiting_address: str
    # The short day is an assumption, not a sourced fact: texts do not state its hours.
    day_before_holiday_assumed: bool = False

    @classmethod
    def from_mapping(cls, data: dict) -> "Schedule":
        hours = data.get("opening_hours") or {}
        weekly: dict[str, dict[int, tuple[time, time]]] = {}
        for channel in CHANNELS:
            days = hours.get(channel) or {}
            unknown = set(days) - set(WEEKDAYS)
            if unknown:
                raise HoursConfigError(f"opening_hours.{channel}: unknown day(s) {sorted(unknown)}")
            weekly[channel] = {
                WEEKDAYS.index(day): _parse_span(span, f"opening_hours.{channel}.{day}")
                for day, span in days.items()
            }
            if not weekly[channel]:
                raise HoursConfigError(f"opening_hours.{channel} has no days")
        closed = tuple(str(name).strip().lower() for name in hours.get("closed_days") or ())
        known = {name.lower() for name in _de_facto_names()}
        missing = [name for name in closed if name not in known]
        if missing:
            raise HoursConfigError(
                f"opening_hours.closed_days: {missing} are not Swedish de facto holidays "
                f"known to the holidays package ({sorted(known)})"
            )
        short = hours.get("day_before_holiday")
        if not isinstance(short, dict):
            short = {"hours": short, "assumption": False}
        if not short.get("hours"):
            raise HoursConfigError("opening_hours.day_before_holiday: no hours")
        if not data.get("phone"):
            raise HoursConfigError("organisation.yml has no phone number")
        return cls(
            tz=ZoneInfo(data.get("timezone") or "Europe/Stockholm"),
            weekly=weekly,
            closed_day_names=closed,
            day_before_holiday=_parse_span(short["hours"], "opening_hours.day_before_holiday"),
            phone_number=str(data["phone"]),
            visiting_address=str(data.get("visiting_address") or ""),
            day_before_holiday_assumed=bool(short.get("assumption")),
        )


@lru_cache(maxsize=1)
def _de_facto_names() -> tuple[str, ...]:
    sample = holidays.country_holidays("SE", years=[2024, 2025], categories=("de_facto",), language="sv")
    return tuple(sorted(set(sample.values())))


def load_schedule(path: Optional[Path] = None) -> Schedule:
    path = Path(path or os.environ.get("ORGANISATION_FILE") or DEFAULT_ORGANISATION_FILE)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise HoursConfigError(f"cannot read {path}: {exc}") from exc
    return Schedule.from_mapping(data)


@dataclass(frozen=True)
class Day:
    """What kind of day a date is for Medborgarservice."""

    day: date
    kind: Literal["open", "short", "weekend", "holiday", "closed"]
    name: Optional[str] = None  # the holiday's Swedish name, or the one a short day precedes


@dataclass(frozen=True)
class ChannelStatus:
    channel: Channel
    now: datetime
    open_now: bool
    opens_at: Optional[datetime]  # today's opening, when open today
    closes_at: Optional[datetime]  # the closing time of the current opening, when open
    opens_next: Optional[datetime]  # the next opening after now, when closed
    today: Day


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ServiceHours:
    """Answers "is it open?" for the phone and the visitor reception."""

    def __init__(self, schedule: Schedule, clock: Callable[[], datetime] = utc_now) -> None:
        self.schedule = schedule
        self.clock = clock
        self._holiday_years: dict[int, dict[date, str]] = {}

    # -- calendar -----------------------------------------------------------
    def _holidays(self, year: int) -> dict[date, str]:
        """Public holidays and the listed closed days of a year, by date."""
        if year not in self._holiday_years:
            public = holidays.country_holidays(
                "SE", years=year, categories=("public",), language="sv", include_sundays=False
            )
            de_facto = holidays.country_holidays("SE", years=year, categories=("de_facto",), language="sv")
            days = {d: name for d, name in public.items()}
            for d, name in de_facto.items():
                if name.lower() in self.schedule.closed_day_names:
                    days.setdefault(d, name)
            self._holiday_years[year] = days
        return self._holiday_years[year]

    def holiday_name(self, day: date) -> Optional[str]:
        return self._holidays(day.year).get(day)

    def _is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def day(self, day: date) -> Day:
        name = self.holiday_name(day)
        if name is not None:
            return Day(day, "holiday" if name.lower() not in self.schedule.closed_day_names else "closed", name)
        if day.weekday() >= 5:
            return Day(day, "weekend")
        # Short day: a holiday or closed day comes before the next working day.
        following = day + timedelta(days=1)
        while not self._is_working_day(following):
            upcoming = self.holiday_name(following)
            if upcoming is not None:
                return Day(day, "short", upcoming)
            following += timedelta(days=1)
        return Day(day, "open")

    def hours_on(self, channel: Channel, day: date) -> Optional[tuple[datetime, datetime]]:
        """The opening span of a channel on a date, or None when closed all day."""
        info = self.day(day)
        if info.kind in ("weekend", "holiday", "closed"):
            return None
        span = self.schedule.weekly[channel].get(day.weekday())
        if span is None:
            return None
        opens, closes = span
        if info.kind == "short":
            short_open, short_close = self.schedule.day_before_holiday
            opens, closes = max(opens, short_open), min(closes, short_close)
            if opens >= closes:
                return None
        tz = self.schedule.tz
        return datetime.combine(day, opens, tz), datetime.combine(day, closes, tz)

    # -- now ----------------------------------------------------------------
    def local_now(self, now: Optional[datetime] = None) -> datetime:
        now = now or self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return now.astimezone(self.schedule.tz)

    def status(self, channel: Channel = "phone", now: Optional[datetime] = None) -> ChannelStatus:
        local = self.local_now(now)
        today = local.date()
        span = self.hours_on(channel, today)
        if span and span[0] <= local < span[1]:
            return ChannelStatus(channel, local, True, span[0], span[1], None, self.day(today))
        return ChannelStatus(
            channel, local, False, span[0] if span else None, None, self._next_opening(channel, local), self.day(today)
        )

    def _next_opening(self, channel: Channel, local: datetime) -> Optional[datetime]:
        for offset in range(MAX_DAYS_AHEAD + 1):
            span = self.hours_on(channel, local.date() + timedelta(days=offset))
            if span and span[0] > local:
                return span[0]
        return None

    # -- Swedish text -------------------------------------------------------
    def describe(self, channel: Channel, now: Optional[datetime] = None) -> str:
        """One or two plain Swedish sentences about the channel right now."""
        status = self.status(channel, now)
        if channel == "phone":
            subject = f"Växeln ({self.schedule.phone_number})"
        else:
            subject = "Receptionen i Stadshuset"
            if self.schedule.visiting_address:
                street = self.schedule.visiting_address.split(",")[1:2]
                if street:
                    subject += f" på {street[0].strip()}"
        today = status.today
        assumed_short = today.kind == "short" and self.schedule.day_before_holiday_assumed
        if status.open_now and assumed_short:
            text = f"{subject} har öppet nu."
            if today.name:
                text += f" Inför {holiday_in_text(today.name)} kan vi stänga tidigare än vanligt i dag."
            return text
        if status.open_now:
            text = f"{subject} har öppet nu, till kl. {format_clock(status.closes_at)} i dag."
            if today.kind == "short" and today.name:
                text += f" I dag stänger vi tidigare inför {holiday_in_text(today.name)}."
            return text
        if status.opens_next is None:
            return f"{subject} har stängt nu."
        when = when_phrase(status.opens_next, status.now, with_date=self._closed_day_between(status))
        if today.kind in ("holiday", "closed") and today.name:
            return f"I dag är det {holiday_in_text(today.name)} och {lower_first(subject)} har stängt. Vi öppnar igen {when}."
        if today.kind == "weekend":
            return f"{subject} har stängt under helgen och öppnar igen {when}."
        if status.opens_at and status.now < status.opens_at:
            return f"{subject} har inte öppnat än. Vi öppnar {when}."
        if assumed_short and today.name and status.opens_at:
            return (
                f"{subject} kan ha stängt tidigare i dag inför {holiday_in_text(today.name)}. "
                f"Vi öppnar igen {when}."
            )
        if today.kind == "short" and today.name and status.opens_at:
            closed_at = self.hours_on(channel, today.day)[1]  # type: ignore[index]
            return (
                f"{subject} har stängt för i dag (vi stängde kl. {format_clock(closed_at)} inför "
                f"{holiday_in_text(today.name)}) och öppnar igen {when}."
            )
        return f"{subject} har stängt för i dag och öppnar igen {when}."

    def opens_again(self, channel: Channel = "phone", now: Optional[datetime] = None) -> Optional[str]:
        """'i morgon, torsdag, kl. 7.30' (when closed), None when open now."""
        status = self.status(channel, now)
        if status.open_now or status.opens_next is None:
            return None
        return when_phrase(status.opens_next, status.now, with_date=self._closed_day_between(status))

    def _closed_day_between(self, status: ChannelStatus) -> bool:
        """Whether a holiday or closed day falls between now and the next opening."""
        if status.opens_next is None:
            return False
        day = status.now.date()
        while day <= status.opens_next.date():
            if self.holiday_name(day) is not None:
                return True
            day += timedelta(days=1)
        return False


def lower_first(text: str) -> str:
    """'Växeln' at the start of a sentence, 'växeln' in the middle of one."""
    return text[:1].lower() + text[1:] if text else text


def holiday_in_text(name: str) -> str:
    """Holiday names are written in lower case in running Swedish text ("juldagen"),
    except where they start with a proper noun ("Kristi himmelsfärdsdag")."""
    return name if name.startswith("Kristi") else lower_first(name)


def format_clock(moment: Optional[datetime]) -> str:
    if moment is None:
        return ""
    return f"{moment.hour}.{moment.minute:02d}" if moment.minute else f"{moment.hour}"


def when_phrase(moment: datetime, now: datetime, with_date: bool = False) -> str:
    """'i dag kl. 7.30', 'i morgon, onsdag, kl. 7.30', 'på måndag kl. 7.30' or
    'måndag 28 december kl. 7.30' (the date is given across holidays, where
    "på måndag" could be misread)."""
    moment = moment.astimezone(now.tzinfo)
    days = (moment.date() - now.date()).days
    weekday = WEEKDAY_NAMES_SV[moment.weekday()]
    clock = f"kl. {format_clock(moment)}"
    if days == 0:
        return f"i dag {clock}"
    if days == 1:
        return f"i morgon, {weekday}, {clock}"
    if days < 7 and not with_date:
        return f"på {weekday} {clock}"
    return f"{weekday} {moment.day} {MONTH_NAMES_SV[moment.month - 1]} {clock}"


_default: Optional[ServiceHours] = None


def service_hours() -> ServiceHours:
    """The process-wide instance, on the real clock."""
    global _default
    if _default is None:
        _default = ServiceHours(load_schedule())
    return _default
