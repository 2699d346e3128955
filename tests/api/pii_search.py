"""Spellings of a personnummer, and a search for one that compares digits only.

Shared by the tests that send numbers through the product and then look for
them in databases, files and logs. Written independently of the masking
(mjolby_pii), so that a gap there is not repeated here.
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, quote_plus, unquote

_BACKSLASH = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|U([0-9a-fA-F]{8}))")


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c == "-" else c for c in text)


def spellings(century: str, ten: str) -> dict[str, str]:
    """The spellings a citizen or a member of staff may use for one number
    (`century` "19", `ten` the ten digits YYMMDDNNNN)."""
    ymd, serial = ten[:6], ten[6:]
    return {
        "fullwidth": _fullwidth(f"{ymd}-{serial}"),
        "dot": f"{ymd}.{serial}",
        "slash": f"{ymd}/{serial}",
        "two spaces": f"{ymd}  {serial}",
        "tab": f"{ymd}\t{serial}",
        "newline": f"{ymd}\n{serial}",
        "thin space": f"{ymd}\u2009{serial}",
        "figure space": f"{ymd}\u2007{serial}",
        "em dash": f"{ymd}\u2014{serial}",
        "soft hyphen": f"{ymd}\u00ad{serial}",
        "zero-width": f"{ymd[:2]}\u200b{ymd[2:]}-{serial[:2]}\u2060{serial[2:]}\ufeff",
        "grouped date": f"{ymd[:2]} {ymd[2:4]} {ymd[4:]}-{serial}",
        "split serial": f"{ymd}-{serial[:2]} {serial[2:]}",
        "ISO": f"{century}{ymd[:2]}-{ymd[2:4]}-{ymd[4:]}-{serial}",
        "twelve digits": f"{century}{ten}",
        "plain": f"{ymd}-{serial}",
    }


def _readable(blob: str) -> str:
    for _ in range(3):
        decoded = _BACKSLASH.sub(lambda m: chr(int(m[1] or m[2] or m[3], 16)), unquote(blob))
        if decoded == blob:
            break
        blob = decoded
    return unicodedata.normalize("NFKC", blob)


def number_hits(blob: str, *numbers: str) -> list[str]:
    """Lines of `blob` (each with the next, for a number split by a line break)
    whose digits, in order, hold one of `numbers` (ten digits each).

    Percent-escapes and backslash escapes are decoded first, and every
    decimal digit counts (fullwidth included), so a number is found in any
    spelling, in a URL, a repr or a JSON dump."""
    lines = _readable(blob).splitlines() or [""]
    found = []
    for line, following in zip(lines, lines[1:] + [""]):
        digits = "".join(str(unicodedata.decimal(ch)) for ch in line + following if ch.isdecimal())
        if any(number in digits for number in numbers):
            found.append(line[:200])
    return found


def encodings(written: str) -> list[str]:
    """How logs and URLs may carry `written`."""
    return [written, quote(written), quote_plus(written), repr(written), f"x {quote(quote(written))} y"]
