"""Find and mask Swedish personal identity numbers in free text.

The product's one implementation: the API masks every text it stores, logs or
passes on with it, and the bot's action server refuses numbers in the contact
form with it. Standard library only, and no imports from either application,
so that both environments (Python 3.10 and 3.11+) load it as it is.

Covers personnummer and samordningsnummer (day of birth + 60) with 10 digits
(YYMMDD-NNNN) or 12 (YYYYMMDD-NNNN), however they are written:

- Before matching, the text is folded: format characters (Unicode category
  Cf: soft hyphen, zero-width space and joiner, BOM ...) are dropped, every
  decimal digit (fullwidth, Arabic-Indic ...) becomes its ASCII digit, every
  dash becomes "-", every space, tab and line break becomes " ", and NFKC
  folds the compatibility forms of "+", "." and "/". Masking still replaces
  the exact characters the citizen wrote and leaves the rest untouched.
- The parts may be separated by "-", "+", ".", "/" or up to three spaces, or
  not at all; the date may be grouped (81 12 18-9876, 1981-12-18-9876) and
  the last four digits split in two (811218-98 76).

A candidate counts when its date exists and its check digit passes the Luhn
test. A number with a date that exists and a wrong check digit (one digit
mistyped) is masked too when it is written the way identity numbers are and
other numbers are not: YYMMDD-NNNN or YYMMDD+NNNN, twelve digits starting
with 19 or 20 (the date not grouped), or right after a word such as
"personnummer". Phone numbers, case numbers, amounts, dates and most order
numbers pass through unchanged.

The contact details a citizen may leave instead (a phone number or an e-mail
address) are checked here too, by the same rules in the bot's contact form and
in the API that stores the request.
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date
from functools import lru_cache
from urllib.parse import unquote

__all__ = [
    "MASK", "mask", "mask_text", "mask_encoded", "contains_identity_number", "is_masked",
    "words_besides_masks", "fold", "luhn_valid",
]

MASK = "[personnummer borttaget]"

_SEPARATOR_MARKS = "+./"
# Separators between two digit groups: one mark with at most three spaces on
# either side, or one to three spaces.
_SPAN = re.compile(r"[0-9]+(?:(?: {0,3}[-+./] {0,3}| {1,3})[0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
_WORD = re.compile(r"[^\W\d_]+")
# A word that announces an identity number, right before it ("pnr:", "mitt
# personnummer är").
_ANNOUNCED = re.compile(
    r"\b(?:(?:person|samordnings|födelse|fodelse)\s?-?\s?(?:nummer|numret|nr)|p\s?-?\s?nr|pers\.?\s?nr)"
    r"\s*(?:är|ar|blir|=|:)?\s*$",
    re.IGNORECASE,
)
_CONTEXT_CHARS = 40
_CENTURIES = (18, 19, 20)
_NEAR_MISS_CENTURIES = (19, 20)
_PLUS_AS_SPACE = re.compile(r"\+")
_BACKSLASH_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2})|([ntr]))")
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """One character as the matcher sees it: "" (dropped), a digit, "-", " ",
    "+", "." or "/", or any other single character (a boundary)."""
    if ch < "\x80":
        if ch in "\t\n\r\v\f":
            return " "
        return ch
    category = unicodedata.category(ch)
    if category == "Cf":
        return ""
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    if category == "Pd" or ch in "\u2212\u2043\u2796\ufe63":
        return "-"
    if category in ("Zs", "Zl", "Zp") or ch.isspace():
        return " "
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) == 1 and (folded in _SEPARATOR_MARKS or folded == "-"):
        return folded
    if len(folded) == 1 and not folded.isdigit() and not folded.isspace():
        return folded
    # Superscripts, fractions and the like are not digits here: a boundary.
    return "\ufffd"


def fold(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index in `text`."""
    out: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        folded = _fold_char(ch)
        if folded:
            out.append(folded)
            origin.append(index)
    return "".join(out), origin


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, ch in enumerate(reversed(digits)):
        digit = ord(ch) - 48
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _date_exists(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _date_valid(digits: str) -> bool:
    """Whether the date part of 10 or 12 digits is a day someone was born on."""
    if len(digits) == 12:
        century, digits = int(digits[:2]), digits[2:]
    else:
        century = None
    yy, month, day = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    if day > 60:  # samordningsnummer
        day -= 60
    if century is not None:
        if century not in _CENTURIES:
            return False
        year = century * 100 + yy
        return year <= date.today().year and _date_exists(year, month, day)
    # Ten digits do not say the century (the separator only hints at it):
    # accept a date that exists in either, so 29 February is never missed.
    return _date_exists(1900 + yy, month, day) or _date_exists(2000 + yy, month, day)


def _kind(separator: str) -> str:
    """A separator by its mark: "-", "+", "." or "/", or " " for spaces only."""
    mark = separator.strip(" ")
    return mark or " "


def _shape(lengths: list[int], separators: list[str]) -> str | None:
    """How digit groups of these lengths, with these separators between them,
    spell an identity number: "strong" (written the way only identity numbers
    are), "weak" (possible, the check digit must pass) or None (not one)."""
    total = sum(lengths)
    if total not in (10, 12):
        return None
    offset = total - 10  # 2 for a written century
    cuts: dict[int, str] = {}
    position = 0
    for length, separator in zip(lengths, separators):
        position += length
        cuts[position - offset] = _kind(separator)
    # Positions in YYMMDDNNNN: 2 and 4 group the date, 6 ends it, 8 splits the
    # serial number. A century is never split from its year.
    if any(cut not in (2, 4, 6, 8) for cut in cuts):
        return None
    if (2 in cuts) != (4 in cuts):
        return None
    if 2 in cuts and (cuts[2] != cuts[4] or cuts[2] == "+"):
        return None
    if cuts.get(8, " ") != " ":
        return None
    if 2 in cuts or 8 in cuts:
        return "weak"
    if offset:
        return "strong" if cuts.get(6, "-") in ("-", "+") else "weak"
    return "strong" if cuts.get(6) in ("-", "+") else "weak"


def _announced(folded: str, start: int) -> bool:
    before = folded[max(0, start - _CONTEXT_CHARS - len(MASK)):start].replace(MASK, "\ufffd")
    return bool(_ANNOUNCED.search(before[-_CONTEXT_CHARS:]))


def _is_number(digits: str, shape: str, folded: str, start: int) -> bool:
    if not _date_valid(digits):
        return False
    if luhn_valid(digits[-10:]):
        return True
    # One digit mistyped: still the citizen's identity number when it is
    # written as one or announced as one.
    if len(digits) == 12 and int(digits[:2]) not in _NEAR_MISS_CENTURIES:
        return False
    return shape == "strong" or _announced(folded, start)


def _glued(folded: str, start: int, end: int) -> bool:
    """Part of a decimal number such as 3,8112289874 or 8112289874,50."""
    before = folded[start - 2:start] if start >= 2 else ""
    after = folded[end:end + 2]
    return (len(before) == 2 and before[0].isdigit() and before[1] == ",") or (
        len(after) == 2 and after[0] == "," and after[1].isdigit())


def _punctuated_on(folded: str, groups: list[tuple[int, int]], i: int, j: int) -> bool:
    """Whether groups i..j continue with a mark and more digits on either side,
    like a date in a range (2024-03-15–2024-04-01) or a longer dotted number."""
    before = _kind(folded[groups[i - 1][1]:groups[i][0]]) if i > 0 else " "
    after = _kind(folded[groups[j][1]:groups[j + 1][0]]) if j + 1 < len(groups) else " "
    return before != " " or after != " "


def _find(folded: str) -> list[tuple[int, int]]:
    """(start, end) in the folded text of every identity number."""
    found: list[tuple[int, int]] = []
    for span in _SPAN.finditer(folded):
        groups = [(m.start(), m.end()) for m in _GROUP.finditer(folded, span.start(), span.end())]
        i = 0
        while i < len(groups):
            match = None
            for j in range(i, len(groups)):
                lengths = [e - s for s, e in groups[i:j + 1]]
                if sum(lengths) > 12:
                    break
                if sum(lengths) < 10:
                    continue
                separators = [folded[groups[k][1]:groups[k + 1][0]] for k in range(i, j)]
                shape = _shape(lengths, separators)
                start, end = groups[i][0], groups[j][1]
                if shape is None or _glued(folded, start, end):
                    continue
                if shape == "weak" and _punctuated_on(folded, groups, i, j):
                    continue
                digits = "".join(folded[s:e] for s, e in groups[i:j + 1])
                if _is_number(digits, shape, folded, start):
                    match = (start, end, j)  # keep looking: twelve digits beat ten
            if match:
                found.append(match[:2])
                i = match[2] + 1
            else:
                i += 1
    return found


def mask(text: str) -> tuple[str, int]:
    """Replace every identity number in `text` with MASK; return text and count."""
    if not text or not any(ch.isdecimal() for ch in text):
        return text, 0
    folded, origin = fold(text)
    found = _find(folded)
    if not found:
        return text, 0
    parts: list[str] = []
    last = 0
    for start, end in found:
        parts.append(text[last:origin[start]])
        parts.append(MASK)
        last = origin[end - 1] + 1
    parts.append(text[last:])
    return "".join(parts), len(found)


def mask_text(text: str) -> str:
    return mask(text)[0]


def contains_identity_number(text: str) -> bool:
    return mask(text)[1] > 0


def is_masked(text: str) -> bool:
    """Whether `text` holds a number this module (here or upstream) masked."""
    return MASK.lower() in text.lower()


def _unescape(match: re.Match[str]) -> str:
    code = match[1] or match[2] or match[3]
    if code:
        try:
            return chr(int(code, 16))
        except (ValueError, OverflowError):
            return match[0]
    return {"n": "\n", "t": "\t", "r": "\r"}[match[4]]


def _decoded(text: str) -> str:
    """`text` with percent-escapes (URLs, query strings) and backslash escapes
    (reprs in tracebacks and database errors, JSON) decoded, a few levels deep."""
    for _ in range(3):
        decoded = text
        if _PERCENT_ESCAPE.search(decoded):
            decoded = unquote(decoded, errors="replace")
        if "\\" in decoded:
            decoded = _BACKSLASH_ESCAPE.sub(_unescape, decoded)
        if decoded == text:
            break
        text = decoded
    return text


def mask_encoded(text: str) -> tuple[str, int]:
    """Like `mask`, and also finds numbers written percent-encoded (a URL or
    query string), with "+" for a space, or as escapes in a repr or JSON.

    For log lines: the text comes back unchanged unless it held a number; when
    a number was only visible decoded, the decoded text comes back, masked.
    """
    masked, count = mask(text)
    decoded = _decoded(masked)
    if decoded != masked:
        again, more = mask(decoded)
        if more:
            masked, count = again, count + more
    # "+" for a space, as in a form-encoded query string.
    decoded = _decoded(masked)
    if "+" in decoded:
        again, more = mask(_PLUS_AS_SPACE.sub(" ", decoded))
        if more:
            masked, count = again, count + more
    return masked, count


def words_besides_masks(masked_text: str) -> int:
    """How many words the citizen wrote apart from the masked numbers."""
    return len(_WORD.findall(masked_text.replace(MASK, " ")))


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]{2,}$")
_PHONE_NUMBER = re.compile(r"^(?:0\d{6,10}|(?:\+|00)[1-9]\d{6,13})$")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")


def is_email(value: str) -> bool:
    """An e-mail address (one "@", a dot in the domain, no spaces or angle brackets)."""
    return bool(_EMAIL.match(value))


def is_phone_number(value: str) -> bool:
    """A Swedish (0...) or international (+... or 00...) phone number; spaces,
    dashes, dots and brackets between the digits are allowed."""
    return bool(_PHONE_NUMBER.match(_PHONE_PUNCTUATION.sub("", value)))
