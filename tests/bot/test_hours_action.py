"""action_opening_hours answers live from the API, or with the regular hours without it."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import yaml
from rasa_sdk.events import SlotSet

from actions import catalogue
from actions.hours import PHONE, REGULAR_HOURS, VISITING_ADDRESS, ActionOpeningHours
from conftest import make_tracker
from fake_internal_api import api_down, internal_api  # noqa: F401 (fixtures)

STATUS = "/api/v1/internal/service-status"
ORGANISATION = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "knowledge/organisation.yml").read_text(encoding="utf-8")
)
TOPIC_METADATA = {"topic": "kontakt_medborgarservice", "links": catalogue.topic("kontakt_medborgarservice")["links"]}


def run(dispatcher, tracker):
    return asyncio.run(ActionOpeningHours().run(dispatcher, tracker, {}))


def test_open_now_answers_for_phone_and_reception(internal_api, dispatcher):
    internal_api.answer("GET", STATUS, 200, {
        "open_now": True, "chat_available": True,
        "text_phone": "Växeln (010-234 50 00) har öppet nu, till kl. 16.30 i dag.",
        "text_reception": "Receptionen i Stadshuset har öppet nu, till kl. 16.30 i dag.",
    })
    events = run(dispatcher, make_tracker("har ni öppet nu?", intent="ask_opening_hours"))
    (message,) = dispatcher.messages
    assert message["text"] == (
        "Växeln (010-234 50 00) har öppet nu, till kl. 16.30 i dag. "
        "Receptionen i Stadshuset har öppet nu, till kl. 16.30 i dag. "
        "Du kan också chatta med en medarbetare här, skriv bara att du vill prata med en människa."
    )
    assert message["metadata"] == TOPIC_METADATA
    assert events == [SlotSet("last_topic", "kontakt_medborgarservice"), SlotSet("consecutive_fallbacks", 0.0)]


def test_closed_says_when_we_open(internal_api, dispatcher):
    internal_api.answer("GET", STATUS, 200, {
        "open_now": False, "chat_available": False,
        "text_phone": "I dag är det juldagen och växeln (010-234 50 00) har stängt. Vi öppnar igen måndag 28 december kl. 7.30.",
        "text_reception": "I dag är det juldagen och receptionen i Stadshuset har stängt. Vi öppnar igen måndag 28 december kl. 7.30.",
    })
    run(dispatcher, make_tracker("när öppnar ni?", intent="ask_opening_hours"))
    text = dispatcher.messages[0]["text"]
    assert "juldagen" in text and "måndag 28 december kl. 7.30" in text
    assert "chatta" not in text


@pytest.mark.usefixtures("api_down")
def test_without_the_api_it_gives_the_regular_hours(dispatcher):
    run(dispatcher, make_tracker("har ni öppet nu?", intent="ask_opening_hours"))
    (message,) = dispatcher.messages
    assert REGULAR_HOURS in message["text"] and PHONE in message["text"] and VISITING_ADDRESS in message["text"]
    assert message["metadata"] == TOPIC_METADATA


def _clock(text: str) -> str:
    """'07:30' -> '7.30', '16:00' -> '16' (how the answers write times)."""
    hour, minute = text.split(":")
    return f"{int(hour)}.{minute}" if minute != "00" else str(int(hour))


def test_the_offline_texts_match_organisation_yml():
    """The fallback text must not drift from the hours editors keep in knowledge/."""
    phone_hours = ORGANISATION["opening_hours"]["phone"]
    assert ORGANISATION["opening_hours"]["reception"] == phone_hours
    mon_thu = {phone_hours[d] for d in ("monday", "tuesday", "wednesday", "thursday")}
    assert len(mon_thu) == 1
    start, end = mon_thu.pop().split("-")
    assert f"måndag–torsdag kl. {_clock(start)}–{_clock(end)}" in REGULAR_HOURS
    start, end = phone_hours["friday"].split("-")
    assert f"fredag kl. {_clock(start)}–{_clock(end)}" in REGULAR_HOURS
    short = ORGANISATION["opening_hours"]["day_before_holiday"]
    if short["assumption"]:
        # Not sourced: the answer says the day may be shorter, never the time.
        assert "kan vi stänga tidigare" in REGULAR_HOURS
        assert _clock(short["hours"].split("-")[1]) not in REGULAR_HOURS.split("fredag")[1]
    else:
        assert f"stänger vi kl. {_clock(short['hours'].split('-')[1])}" in REGULAR_HOURS
    assert PHONE == ORGANISATION["phone"]
    assert VISITING_ADDRESS == ORGANISATION["visiting_address"]
    assert re.search(r"lördag|söndag", str(phone_hours)) is None
