"""Settings of the action server, read once from the environment."""
from __future__ import annotations

import os
from pathlib import Path

import yaml


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _fallback_threshold(default: float = 0.3) -> float:
    """The FallbackClassifier threshold in bot/config.yml: the one tuned value
    (tools/crossval.py --tune-fallback) below which the assistant asks to rephrase."""
    config = Path(__file__).resolve().parent.parent / "config.yml"
    try:
        pipeline = yaml.safe_load(config.read_text(encoding="utf-8")).get("pipeline", [])
    except (OSError, yaml.YAMLError, AttributeError):
        return default
    for component in pipeline:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", default))
    return default


# A topic further down the ranking (after another action handed over, e.g. a
# message that also held a masked personnummer) is answered only above the
# same threshold that decides fallback for the message's own intent.
FAQ_MIN_CONFIDENCE = _float("FAQ_MIN_CONFIDENCE", _fallback_threshold())

# The API gateway: handover cases, opening hours and queue status.
API_URL = os.environ.get("API_INTERNAL_URL", "http://127.0.0.1:8000").rstrip("/")
INTERNAL_API_TOKEN = os.environ.get("INTERNAL_API_TOKEN", "")
API_TIMEOUT_SECONDS = _float("API_TIMEOUT_SECONDS", 3.0)
