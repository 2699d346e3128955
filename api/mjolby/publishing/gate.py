"""The quality gate: a candidate model against the published one.

Both models answer the same held-out messages (never trained on) and the
regression set (messages that must keep their topic). The candidate is refused
when its overall held-out accuracy is more than MAX_DROP_POINTS below the
published model's, or when it gets a regression message wrong. Plain data in,
plain data out: the worker computes it, the page shows it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_DROP_POINTS = 2.0


@dataclass(frozen=True)
class TopicResult:
    topic_id: str
    count: int
    published: float | None  # share right, 0..1; None without a published model
    candidate: float

    @property
    def change(self) -> str:
        if self.published is None or abs(self.candidate - self.published) < 1e-9:
            return "same"
        return "better" if self.candidate > self.published else "worse"


@dataclass
class Comparison:
    heldout_count: int
    published_accuracy: float | None
    candidate_accuracy: float
    topics: list[TopicResult]
    broken: list[dict[str, Any]] = field(default_factory=list)  # regression items the candidate gets wrong
    regression_count: int = 0

    @property
    def drop_points(self) -> float:
        if self.published_accuracy is None:
            return 0.0
        return round((self.published_accuracy - self.candidate_accuracy) * 100, 2)

    @property
    def reasons(self) -> list[str]:
        """Why the gate refuses the candidate, in Swedish; empty when it passes."""
        reasons = []
        if self.drop_points > MAX_DROP_POINTS:
            reasons.append(f"Träffsäkerheten sjunker med {self.drop_points:.1f} procentenheter "
                           f"(högst {MAX_DROP_POINTS:.0f} är tillåtet).")
        if self.broken:
            reasons.append(f"{len(self.broken)} meddelande(n) i regressionsuppsättningen får fel ämne.")
        return reasons

    @property
    def passed(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict[str, Any]:
        return {
            "heldout_count": self.heldout_count,
            "published_accuracy": self.published_accuracy,
            "candidate_accuracy": self.candidate_accuracy,
            "drop_points": self.drop_points,
            "topics": [{**asdict(t), "change": t.change} for t in self.topics],
            "broken": self.broken,
            "regression_count": self.regression_count,
            "reasons": self.reasons,
            "passed": self.passed,
        }


def _right(row: dict[str, Any]) -> bool:
    return row.get("predicted") == row.get("expect")


def _accuracy(rows: list[dict[str, Any]]) -> float:
    return sum(_right(r) for r in rows) / len(rows) if rows else 0.0


def per_topic(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Share of held-out messages answered with their topic, per expected topic."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["expect"]].append(row)
    return {topic: _accuracy(items) for topic, items in groups.items()}


def compare(candidate: dict[str, Any], published: dict[str, Any] | None) -> Comparison:
    """`candidate` / `published`: {"heldout": [rows], "regression": [rows]} where a row
    is {"text", "expect", "predicted", "confidence"} (what the model lab writes)."""
    held = candidate.get("heldout", [])
    old_held = published.get("heldout", []) if published else None
    new_topics = per_topic(held)
    old_topics = per_topic(old_held) if old_held is not None else {}
    counts: dict[str, int] = defaultdict(int)
    for row in held:
        counts[row["expect"]] += 1
    topics = [
        TopicResult(topic_id=topic, count=counts[topic], candidate=round(new_topics[topic], 4),
                    published=round(old_topics[topic], 4) if topic in old_topics else None)
        for topic in sorted(new_topics)
    ]
    regression = candidate.get("regression", [])
    broken = [{"text": r["text"], "expect": r["expect"], "predicted": r.get("predicted")}
              for r in regression if not _right(r)]
    return Comparison(
        heldout_count=len(held),
        published_accuracy=round(_accuracy(old_held), 4) if old_held else None,
        candidate_accuracy=round(_accuracy(held), 4),
        topics=topics,
        broken=broken,
        regression_count=len(regression),
    )
