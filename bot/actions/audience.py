"""Recognise messages that are likely written by a child about themselves.

The guideline asks for information suited to a child's age. We only use this
to choose simpler wording and put BRIS first; it never blocks an answer.
"""
from __future__ import annotations

import re

_AGE = re.compile(r"\bjag (?:är|e|ar) (\d{1,2})(?: år)?\b|\bi'?m (\d{1,2})\b", re.IGNORECASE)
_CHILD_CUES = re.compile(
    r"\b(mamma|pappa|morsan|farsan|min fröken|min lärare|mina föräldrar|"
    r"jag går i (?:\w+ )?(?:klass|trean|fyran|femman|sexan|sjuan|åttan|nian|ettan|tvåan)|"
    r"på rasten|mellanstadiet|lågstadiet|högstadiet|my mom|my dad|my parents)\b",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(jag|mig|mej|min|mitt|mina|i|me|my)\b", re.IGNORECASE)


def looks_like_child(text: str) -> bool:
    if not text:
        return False
    for match in _AGE.finditer(text):
        age = int(match.group(1) or match.group(2))
        if 6 <= age <= 15:
            return True
    return bool(_CHILD_CUES.search(text) and _FIRST_PERSON.search(text))
