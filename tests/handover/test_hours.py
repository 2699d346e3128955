"""Opening hours of Medborgarservice with a fixed clock (knowledge/organisation.yml + Swedish holidays)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from mjolby.hours import DEFAULT_ORGANISATION_FILE as ORGANISATION_FILE
from mjolby.hours import HoursConfigError, Schedule, ServiceHours, load_schedule

TZ = ZoneInfo("Europe/Stockholm")
UTC = ZoneInfo("UTC")


def at(text: str) -> datetime:
    """A Stockholm wall-clock time, e.g. '2026-11-25 10:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture(scope="module")
def hours() -> ServiceHours:
    return ServiceHours(load_schedule())


def test_an_ordinary_weekday_is_open_until_half_past_four(hours):
    status = hours.status("phone", at("2026-11-25 10:00"))  # a Wednesday
    assert status.open_now
    assert status.closes_at == at("2026-11-25 16:30")
    assert status.opens_next is None
    assert hours.describe("phone", at("2026-11-25 10:00")) == \
        "Växeln (010-234 50 00) har öppet nu, till kl. 16.30 i dag."
    assert hours.describe("reception", at("2026-11-25 10:00")) == \
        "Receptionen i Stadshuset på Burensköldsvägen 11-13 har öppet nu, till kl. 16.30 i dag."


def test_friday_closes_at_four(hours):
    assert hours.status("phone", at("2026-11-27 15:59")).open_now
    assert not hours.status("phone", at("2026-11-27 16:00")).open_now


def test_an_evening_is_closed_until_tomorrow_morning(hours):
    status = hours.status("phone", at("2026-11-25 18:00"))
    assert not status.open_now
    assert status.opens_next == at("2026-11-26 07:30")
    assert hours.describe("phone", at("2026-11-25 18:00")) == \
        "Växeln (010-234 50 00) har stängt för i dag och öppnar igen i morgon, torsdag, kl. 7.30."


def test_the_early_morning_says_we_open_today(hours):
    assert hours.describe("phone", at("2026-11-25 07:00")) == \
        "Växeln (010-234 50 00) har inte öppnat än. Vi öppnar i dag kl. 7.30."


def test_a_saturday_is_closed_until_monday(hours):
    status = hours.status("reception", at("2026-11-28 11:00"))
    assert not status.open_now
    assert status.opens_next == at("2026-11-30 07:30")
    assert hours.describe("reception", at("2026-11-28 11:00")).endswith(
        "har stängt under helgen och öppnar igen på måndag kl. 7.30.")


def test_midsommarafton_is_closed(hours):
    now = at("2026-06-19 10:00")  # a Friday, a de facto holiday listed in closed_days
    assert hours.day(now.date()).kind == "closed"
    status = hours.status("phone", now)
    assert not status.open_now
    assert status.opens_next == at("2026-06-22 07:30")
    assert hours.describe("phone", now) == (
        "I dag är det midsommarafton och växeln (010-234 50 00) har stängt. "
        "Vi öppnar igen måndag 22 juni kl. 7.30."
    )


def test_juldagen_is_closed_and_the_next_opening_skips_annandag_jul_and_the_weekend(hours):
    now = at("2026-12-25 09:00")
    assert hours.day(now.date()).kind == "holiday"
    assert hours.status("phone", now).opens_next == at("2026-12-28 07:30")
    assert "I dag är det juldagen" in hours.describe("phone", now)


def test_the_day_before_a_holiday_closes_at_one(hours):
    now = at("2026-05-13 12:59")  # Wednesday before Kristi himmelsfärdsdag
    status = hours.status("phone", now)
    assert status.open_now and status.closes_at == at("2026-05-13 13:00")
    # The 13:00 closing is an assumption in organisation.yml: the answer does not promise it.
    assert hours.describe("phone", now) == (
        "Växeln (010-234 50 00) har öppet nu. "
        "Inför Kristi himmelsfärdsdag kan vi stänga tidigare än vanligt i dag."
    )
    later = hours.status("phone", at("2026-05-13 13:30"))
    assert not later.open_now
    assert later.opens_next == at("2026-05-15 07:30")  # the Friday after (klämdag, a working day)
    assert hours.describe("phone", at("2026-05-13 13:30")) == (
        "Växeln (010-234 50 00) kan ha stängt tidigare i dag inför Kristi himmelsfärdsdag. "
        "Vi öppnar igen fredag 15 maj kl. 7.30."
    )


def test_a_confirmed_short_day_states_its_closing_time(tmp_path):
    data = yaml.safe_load(ORGANISATION_FILE.read_text(encoding="utf-8"))
    data["opening_hours"]["day_before_holiday"] = {"hours": "07:30-13:00", "assumption": False,
                                                   "source": "https://www.mjolby.se/"}
    confirmed = ServiceHours(Schedule.from_mapping(data))
    assert confirmed.describe("phone", at("2026-05-13 12:59")) == (
        "Växeln (010-234 50 00) har öppet nu, till kl. 13 i dag. "
        "I dag stänger vi tidigare inför Kristi himmelsfärdsdag."
    )


@pytest.mark.parametrize("day", ["2026-12-23", "2026-12-30", "2026-04-30", "2026-04-02", "2026-06-18", "2026-10-30"])
def test_days_before_holidays_and_closed_days_are_short(hours, day):
    assert hours.day(date.fromisoformat(day)).kind == "short"
    assert hours.hours_on("phone", date.fromisoformat(day))[1].hour == 13


def test_an_ordinary_friday_before_an_ordinary_weekend_is_not_short(hours):
    assert hours.day(date(2026, 11, 27)).kind == "open"


def test_the_friday_before_a_monday_holiday_is_short(hours):
    # Nationaldagen 2033 is a Monday.
    assert hours.day(date(2033, 6, 3)).kind == "short"


def test_sundays_are_not_taken_for_holidays(hours):
    # The holidays package can count every Sunday as a holiday; that must not
    # make an ordinary Saturday "the day before a holiday".
    assert hours.holiday_name(date(2026, 11, 29)) is None


def test_summer_and_winter_time_both_use_stockholm_wall_clock(hours):
    summer = datetime(2026, 7, 1, 5, 29, tzinfo=UTC)  # 07:29 CEST
    winter = datetime(2026, 1, 14, 6, 29, tzinfo=UTC)  # 07:29 CET
    assert not hours.status("phone", summer).open_now
    assert hours.status("phone", summer.replace(minute=30)).open_now
    assert not hours.status("phone", winter).open_now
    assert hours.status("phone", winter.replace(minute=30)).open_now


def test_the_clock_is_injected():
    fixed = ServiceHours(load_schedule(), clock=lambda: at("2026-12-25 12:00"))
    assert fixed.status("phone").open_now is False


def test_an_unknown_closed_day_is_refused():
    with pytest.raises(HoursConfigError, match="lillejulafton"):
        Schedule.from_mapping({
            "opening_hours": {
                "phone": {"monday": "08:00-16:00"}, "reception": {"monday": "08:00-16:00"},
                "closed_days": ["lillejulafton"],
            }
        })


def test_a_backwards_span_is_refused():
    with pytest.raises(HoursConfigError, match="opens at or after"):
        Schedule.from_mapping({"opening_hours": {"phone": {"monday": "16:00-08:00"},
                                                 "reception": {"monday": "08:00-16:00"}}})
