"""A stand-in bot for the inbox tests: it answers with the signals the real
actions put in a reply's custom payload (bot/actions/faq.py, fallback.py)."""
from __future__ import annotations

from typing import Any

from api_support import FakeRasa

CHOOSE_BYGGLOV = '/choose_topic{"topic":"bygglov"}'


class SignallingRasa(FakeRasa):
    """Answers bygglov questions with a confidence, greets, and falls back otherwise."""

    def replies(self, message: str) -> list[dict[str, Any]]:
        lowered = message.lower()
        if message == CHOOSE_BYGGLOV:
            return [self.message(self.BYGGLOV, "bygglov")]
        if "bygglov" in lowered:
            confidence = 0.41 if "kanske" in lowered else 0.93
            return [self.message(self.BYGGLOV, "bygglov",
                                 custom={"confidence": confidence, "guesses": ["bygglov", "detaljplan_karta"]})]
        if lowered.startswith("hej"):
            return [self.message("Hej! Vad kan jag hjälpa dig med?", "greet")]
        return [self.message(
            "Jag är inte säker på att jag förstod din fråga. Menade du något av det här?", None,
            buttons=[{"title": "Bygglov", "payload": CHOOSE_BYGGLOV},
                     {"title": "Prata med Medborgarservice", "payload": "/handover_request"}],
            custom={"fallback": True, "guesses": ["bygglov", "detaljplan_karta"]},
        )]
