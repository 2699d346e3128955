"""Facts that steer what the assistant says are sourced, or marked as assumptions and not stated.

The knowledge brief (facts.yml) has no Mjölby source for the early closing
before holidays, and describes SEFOS only from the vendor's guide and Gnesta
kommun's routine. The answers must not present either as Mjölby's practice.
"""
from __future__ import annotations

from pathlib import Path

import yaml

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def load(name: str) -> dict:
    return yaml.safe_load((KNOWLEDGE / name).read_text(encoding="utf-8"))


def test_the_early_closing_before_holidays_is_marked_as_an_assumption_with_a_note() -> None:
    short = load("organisation.yml")["opening_hours"]["day_before_holiday"]
    assert short["assumption"] is True
    assert short["hours"] and len(short["source"]) > 40


def test_the_sefos_answer_claims_nothing_only_another_municipality_does() -> None:
    answer = " ".join(load("sakert_meddelande_sefos.yml")["answer"].split()).lower()
    # Gnesta kommun's routine, not confirmed for Mjölby (facts.yml: confidence low).
    assert "kan inte själv starta" not in answer
    assert "raderas" not in answer and "30 dagar" not in answer
    # What the guideline (KS/2024:73, 3.6) does say.
    assert "e-post" in answer and "sefos" in answer
