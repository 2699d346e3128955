"""Settings of the action server, read once from the environment."""
from __future__ import annotations

import os


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


# Below this ResponseSelector confidence the assistant asks the citizen to
# rephrase instead of answering. Tuned with tools/tune_fallback.py on 423
# held-out examples: at 0.20, 299 right, 39 wrong, 85 "Menade du ...?";
# without it, 317 right and 105 wrong. The curve is flat from 0.20 to 0.30.
FAQ_MIN_CONFIDENCE = _float("FAQ_MIN_CONFIDENCE", 0.20)

# The API gateway: handover cases, opening hours and queue status.
API_URL = os.environ.get("API_INTERNAL_URL", "http://127.0.0.1:8000").rstrip("/")
INTERNAL_API_TOKEN = os.environ.get("INTERNAL_API_TOKEN", "")
API_TIMEOUT_SECONDS = _float("API_TIMEOUT_SECONDS", 3.0)
