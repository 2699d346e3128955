"""The welcome message every conversation starts with.

It is the same for every citizen, so the gateway sends it itself instead of
asking the bot for it: a new conversation opens at once and costs the bot a
health check instead of a whole dialogue turn. Editors write it once, in
knowledge/behaviour/greet.yml; the bot gives the same answer when a citizen
says "hej" later on.
"""
from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

import yaml

from mjolby import texts

logger = logging.getLogger(__name__)

DEFAULT_GREET_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "behaviour" / "greet.yml"


@lru_cache(maxsize=4)
def _load(path: Path) -> str:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        answer = data.get("answer") if isinstance(data, dict) else None
    except (OSError, yaml.YAMLError) as exc:
        logger.warning("Cannot read the greeting from %s (%s); using the built-in one", path,
                       type(exc).__name__)
        return texts.GREETING
    if not isinstance(answer, str) or not answer.strip():
        logger.warning("%s has no answer; using the built-in greeting", path)
        return texts.GREETING
    return " ".join(answer.split())


def greeting_text(path: Path | None = None) -> str:
    """The greeting editors wrote (GREET_FILE overrides where it is read from)."""
    return _load(Path(path or os.environ.get("GREET_FILE") or DEFAULT_GREET_FILE))
