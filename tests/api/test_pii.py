"""Detection and masking of personnummer and samordningsnummer (mjolby.pii)."""
from __future__ import annotations

import string
from datetime import date
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from personnummer import personnummer as reference

from mjolby.pii import MASK, mask, words_besides_masks

LOOKALIKES = Path(__file__).parent / "data" / "lookalikes.txt"


def check_digit(nine: str) -> int:
    """Luhn check digit, written independently of the code under test."""
    total = 0
    for i, ch in enumerate(nine):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def number(born: date, serial: int, *, coordination: bool = False) -> tuple[str, str]:
    """(YYMMDD, NNNC) of a valid identity number."""
    day = born.day + (60 if coordination else 0)
    ymd = f"{born.year % 100:02d}{born.month:02d}{day:02d}"
    nine = f"{ymd}{serial:03d}"
    return ymd, f"{serial:03d}{check_digit(nine)}"


def formats(born: date, ymd: str, tail: str) -> list[str]:
    century = f"{born.year // 100}"
    return [
        f"{ymd}-{tail}", f"{ymd}+{tail}", f"{ymd}{tail}", f"{ymd} {tail}",
        f"{century}{ymd}-{tail}", f"{century}{ymd}{tail}", f"{century}{ymd} {tail}",
    ]


FORMAT_NAMES = ["YYMMDD-NNNN", "YYMMDD+NNNN", "YYMMDDNNNN", "YYMMDD NNNN",
                "YYYYMMDD-NNNN", "YYYYMMDDNNNN", "YYYYMMDD NNNN"]


@st.composite
def identity_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(written number, its 12 digits) in any supported format."""
    born = draw(st.dates(min_value=date(1880, 1, 1), max_value=date.today()))
    coordination = draw(st.booleans())
    serial = draw(st.integers(min_value=0, max_value=999))
    ymd, tail = number(born, serial, coordination=coordination)
    written = draw(st.sampled_from(formats(born, ymd, tail)))
    return written, f"{born.year // 100}{ymd}{tail}"


# Text around a number: anything but digits, so nothing glues onto it.
surrounding = st.text(
    alphabet=st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters=".,"),
    max_size=40,
)


# --------------------------------------------------------------------------
# Properties


@settings(max_examples=400)
@given(identity_numbers())
def test_every_valid_number_alone_is_masked(case: tuple[str, str]) -> None:
    written, _ = case
    assert mask(written) == (MASK, 1)


@settings(max_examples=300)
@given(identity_numbers(), surrounding, surrounding)
def test_every_valid_number_in_text_is_masked(case: tuple[str, str], before: str, after: str) -> None:
    written, digits = case
    masked, count = mask(f"{before} {written} {after}")
    assert count == 1
    assert masked == f"{before} {MASK} {after}"
    assert digits[2:] not in "".join(ch for ch in masked if ch.isdigit())


@settings(max_examples=100)
@given(st.lists(identity_numbers(), min_size=2, max_size=4))
def test_several_numbers_are_all_masked(cases: list[tuple[str, str]]) -> None:
    text = " och ".join(written for written, _ in cases)
    masked, count = mask(text)
    assert count == len(cases)
    assert not any(ch.isdigit() for ch in masked)


@settings(max_examples=300)
@given(
    st.dates(min_value=date(1800, 1, 1), max_value=date.today()),
    st.integers(min_value=1, max_value=999),
    st.integers(min_value=0, max_value=9),
    st.booleans(),
)
def test_agrees_with_the_personnummer_package_on_12_digits(
        born: date, serial: int, check: int, coordination: bool) -> None:
    # Any check digit: about one in ten is valid, the rest must pass unchanged.
    day = born.day + (60 if coordination else 0)
    text = f"{born.year}{born.month:02d}{day:02d}{serial:03d}{check}"
    assert (mask(text)[1] == 1) == reference.valid(text)


@settings(max_examples=300)
@given(st.text(alphabet=string.digits, min_size=10, max_size=10).filter(lambda s: s[6:9] != "000"))
def test_agrees_with_the_personnummer_package_on_random_10_digits(text: str) -> None:
    # The package resolves the century from today's date; we accept a date that
    # exists in either century, which only differs for 29 February of year 00.
    if text[:6].endswith("0229") and text.startswith("00"):
        return
    assert (mask(text)[1] == 1) == reference.valid(text)


@given(st.text(max_size=200))
@example("811228-9874 811228-9874")
def test_masking_is_idempotent_and_leaves_no_valid_number(text: str) -> None:
    once, _ = mask(text)
    assert mask(once) == (once, 0)


# --------------------------------------------------------------------------
# Look-alikes


def lookalikes() -> list[str]:
    lines = LOOKALIKES.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_corpus_has_at_least_200_lookalikes() -> None:
    assert len(lookalikes()) >= 200


def test_at_most_one_percent_of_lookalikes_change() -> None:
    cases = lookalikes()
    changed = [case for case in cases if mask(case)[0] != case]
    assert len(changed) <= len(cases) // 100, changed


@pytest.mark.parametrize("text", [
    "0142-850 00", "010-234 50 00", "070-512 33 90", "+46 70 123 45 67", "KS/2024:73",
    "2024-03-15", "20240315", "1 250 000 kr", "212000-0480",
])
def test_lookalikes_named_in_the_brief_pass(text: str) -> None:
    assert mask(text) == (text, 0)


# --------------------------------------------------------------------------
# Edge cases

BORN = date(1981, 12, 28)
YMD, TAIL = number(BORN, 987)  # 811228-9874


@pytest.mark.parametrize("written", formats(BORN, YMD, TAIL), ids=FORMAT_NAMES)
def test_each_format(written: str) -> None:
    assert mask(f"Mitt nummer är {written}.") == (f"Mitt nummer är {MASK}.", 1)


def test_samordningsnummer() -> None:
    ymd, tail = number(date(1970, 10, 3), 239, coordination=True)
    assert ymd == "701063"
    assert mask(f"{ymd}-{tail}")[1] == 1
    assert mask(f"19{ymd}{tail}")[1] == 1


def test_wrong_check_digit_passes() -> None:
    wrong = str((int(TAIL[-1]) + 1) % 10)
    text = f"{YMD}-{TAIL[:3]}{wrong}"
    assert mask(text) == (text, 0)


@pytest.mark.parametrize("ymd", ["811328", "811200", "811232", "810230", "810000", "819228"])
def test_impossible_dates_pass_even_with_a_good_check_digit(ymd: str) -> None:
    nine = ymd + "123"
    text = f"{ymd}-123{check_digit(nine)}"
    assert mask(text) == (text, 0)


def test_29_february() -> None:
    leap = f"000229-123{check_digit('000229123')}"  # 2000 was a leap year
    assert mask(leap)[1] == 1
    assert mask("2" + "0" + leap.replace("-", ""))[1] == 1  # 20000229...
    not_leap = f"010229-123{check_digit('010229123')}"  # neither 1901 nor 2001
    assert mask(not_leap)[1] == 0


def test_twelve_digits_need_a_plausible_century_and_past_year() -> None:
    nine = "991231123"
    tail = f"123{check_digit(nine)}"
    assert mask(f"1999 1231{tail}".replace(" ", ""))[1] == 1
    assert mask(f"21991231{tail}")[1] == 0  # century 21
    assert mask(f"17991231{tail}")[1] == 0  # century 17
    future = date.today().year + 1
    nine = f"{future % 100:02d}0101123"
    assert mask(f"{future}0101123{check_digit(nine)}")[1] == 0


@pytest.mark.parametrize("text", [
    f"1{YMD}-{TAIL}",            # a digit glued in front
    f"{YMD}-{TAIL}5",            # a digit glued behind
    f"12{YMD}{TAIL}",            # twelve digits with century 12
    f"3,{YMD}{TAIL}",            # the decimals of a number
    f"{YMD}{TAIL},50",           # an amount with decimals
    f"{YMD}--{TAIL}",            # two separators
    f"{YMD[:3]} {YMD[3:]}-{TAIL}",
])
def test_digits_glued_to_others_do_not_partly_match(text: str) -> None:
    assert mask(text) == (text, 0)


@pytest.mark.parametrize("written", [
    f"{YMD}\u2013{TAIL}",         # en dash, as phones write it
    f"{YMD}\u00a0{TAIL}",         # no-break space
    f"{YMD} - {TAIL}",
    f"19{YMD}\u2212{TAIL}",       # minus sign
    "".join(chr(ord(c) + 0xFEE0) for c in YMD) + "-" + "".join(chr(ord(c) + 0xFEE0) for c in TAIL),
])
def test_other_dashes_spaces_and_digits(written: str) -> None:
    assert mask(written) == (MASK, 1)


def test_number_between_letters_and_punctuation() -> None:
    assert mask(f"pnr:{YMD}-{TAIL}!") == (f"pnr:{MASK}!", 1)
    assert mask(f"({YMD}{TAIL})") == (f"({MASK})", 1)


def test_text_without_numbers_is_returned_as_is() -> None:
    text = "Hej! Hur ansöker jag om bygglov?"
    assert mask(text) == (text, 0)


@pytest.mark.parametrize(("text", "words"), [
    (MASK, 0),
    (f"pnr {MASK}", 1),
    (f"Hej, {MASK}!", 1),
    (f"Mitt personnummer är {MASK}", 3),
    (f"{MASK} bygglov garage", 2),
    (f"{MASK} 070-123 45 67", 0),
])
def test_words_besides_masks(text: str, words: int) -> None:
    assert words_besides_masks(text) == words
