"""Which answer a safety signal gets.

The safety detector (bot/components/safety_detector.py) marks a message that
shows signs of suicide or self-harm, violence in a close relationship, a
child at risk or acute danger with the entity `safety_signal`. The reply is
then the knowledge answer of the matching sensitive topic, whatever the topic
classifier thought: those answers, kept by editors in knowledge/, open with
112 and the support line for the situation (BRIS first for a child), and the
answer action offers a person afterwards. The support lines themselves, with
their sources, are in knowledge/organisation.yml (`support_lines`); the tests
check that each answer names the lines of its situation.
"""
from __future__ import annotations

from typing import Dict, List, Optional

from . import catalogue

SUICIDE = "suicide_selfharm"
VIOLENCE = "relationship_violence"
CHILD = "child_at_risk"
ACUTE = "acute_danger"

# The knowledge topic that answers each category.
TOPICS: Dict[str, str] = {
    SUICIDE: "kris_akut_hjalp",
    ACUTE: "kris_akut_hjalp",
    VIOLENCE: "vald_nara_relation",
    CHILD: "orosanmalan_barn",
}

# The support lines (keys of support_lines) each answer must name, after 112.
ADULT_LINES: Dict[str, List[str]] = {
    SUICIDE: ["suicide"],
    ACUTE: [],
    VIOLENCE: ["women", "social_emergency"],
    CHILD: ["children_adults", "social_emergency"],
}
CHILD_LINES: Dict[str, List[str]] = {category: ["children"] for category in TOPICS}


def topic_for_signal(category: str, classified_topic: Optional[str]) -> str:
    """The sensitive topic to answer: the classifier's own when it chose one."""
    if classified_topic in TOPICS.values():
        return classified_topic  # more specific, e.g. violence rather than a crisis in general
    return TOPICS.get(category, TOPICS[SUICIDE])


def support_lines() -> Dict[str, Dict]:
    """The support lines of organisation.yml, by key."""
    return catalogue.organisation().get("support_lines") or {}
