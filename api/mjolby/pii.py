"""Find and mask Swedish personal identity numbers in free text.

Covers personnummer and samordningsnummer (day of birth + 60), 10 digits
(YYMMDD-NNNN, YYMMDD+NNNN, YYMMDDNNNN, "YYMMDD NNNN") and 12 digits
(YYYYMMDD-NNNN, YYYYMMDDNNNN, "YYYYMMDD NNNN"). A candidate counts only when
its date exists and its check digit passes the Luhn test, so phone numbers,
case numbers, amounts and most invoice numbers pass through unchanged.

The gateway runs every citizen text through `mask` before the text reaches
Rasa, the database or a log line.
"""
from __future__ import annotations

import calendar
import re
from datetime import date

MASK = "[personnummer borttaget]"

# Dashes people actually type (phones turn "-" into en dash or minus) and spaces
# including the no-break ones that copy-paste brings along.
_DASHES = "-\u2010\u2011\u2012\u2013\u2212"
_SPACES = " \u00a0\u202f"
_SEP = (
    f"(?:[{_SPACES}]?[+{re.escape(_DASHES)}][{_SPACES}]?"  # 850315-1234, 850315 - 1234
    f"|[{_SPACES}])?"  # 850315 1234, or no separator at all
)
_CANDIDATE = re.compile(
    # Not glued to other digits, nor the tail of a decimal/grouped number.
    r"(?<!\d)(?<!\d[.,])"
    r"(?P<century>\d\d)?(?P<ymd>\d{6})"
    + _SEP
    + r"(?P<serial>\d{4})"
    r"(?!\d)(?![.,]\d)"
)
_WORD = re.compile(r"[^\W\d_]+")
_CENTURIES = (18, 19, 20)


def _digits(text: str) -> list[int]:
    # int() also reads non-ASCII decimal digits, which \d matches.
    return [int(ch) for ch in text]


def luhn_valid(digits: list[int]) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _date_exists(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def is_identity_number(century: str | None, ymd: str, serial: str) -> bool:
    """True for a valid personnummer or samordningsnummer split into its parts."""
    digits = _digits(ymd + serial)
    if not luhn_valid(digits):
        return False
    yy = digits[0] * 10 + digits[1]
    month = digits[2] * 10 + digits[3]
    day = digits[4] * 10 + digits[5]
    if day > 60:  # samordningsnummer
        day -= 60
    if century is not None:
        c = int(century)
        if c not in _CENTURIES:
            return False
        year = c * 100 + yy
        return year <= date.today().year and _date_exists(year, month, day)
    # Ten digits do not say the century (the separator only hints at it):
    # accept a date that exists in either, so 29 February is never missed.
    return _date_exists(1900 + yy, month, day) or _date_exists(2000 + yy, month, day)


def mask(text: str) -> tuple[str, int]:
    """Replace every identity number in `text` with MASK; return text and count."""
    count = 0

    def _replace(match: re.Match[str]) -> str:
        nonlocal count
        if is_identity_number(match["century"], match["ymd"], match["serial"]):
            count += 1
            return MASK
        return match[0]

    masked = _CANDIDATE.sub(_replace, text)
    return (masked, count) if count else (text, 0)


def mask_text(text: str) -> str:
    return mask(text)[0]


def contains_identity_number(text: str) -> bool:
    return mask(text)[1] > 0


def words_besides_masks(masked_text: str) -> int:
    """How many words the citizen wrote apart from the masked numbers."""
    return len(_WORD.findall(masked_text.replace(MASK, " ")))
