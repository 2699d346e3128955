"""Spelling folding shared by the NLU components and the actions.

Citizens often type without å, ä and ö ("forskola", "atervinning"), with
stretched letters ("heeej") or in capitals. Folding the training examples and
the incoming text to one spelling lets "forskola" match "förskola". This
module has no Rasa imports, so the action server can use it too.
"""
from __future__ import annotations

import unicodedata
from typing import List

_TABLE = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", "æ": "a", "ø": "o"})


def fold(text: str) -> str:
    """Lowercase, map Swedish letters to ASCII and squeeze letter runs of 3+."""
    text = text.lower().translate(_TABLE)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    out: List[str] = []
    for ch in text:
        if len(out) >= 2 and ch.isalpha() and out[-1] == ch and out[-2] == ch:
            continue
        out.append(ch)
    return "".join(out)
