"""The topic catalogue as the insight page groups it: knowledge topics,
referrals to other authorities, sensitive topics and behaviour."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from mjolby.conversations.payloads import DEFAULT_TOPICS_FILE

# Behaviour topics that are still shown among the sensitive ones (only as counts).
SENSITIVE_BEHAVIOUR = ("sensitive_data_shared",)


@dataclass(frozen=True)
class Topic:
    id: str
    kind: str  # answer, sensitive, referral, behaviour
    title: str

    @property
    def is_knowledge(self) -> bool:
        """A topic the assistant answers from knowledge (not a behaviour such as a greeting)."""
        return self.kind in ("answer", "sensitive", "referral")

    @property
    def authority(self) -> str:
        """For a referral, the authority it sends citizens to ("Skatteverket")."""
        return self.title.split("->", 1)[1].strip() if "->" in self.title else self.title


@dataclass(frozen=True)
class Catalogue:
    topics: dict[str, Topic]

    def title(self, topic_id: str) -> str:
        topic = self.topics.get(topic_id)
        return topic.title if topic else topic_id

    def ids(self, *kinds: str) -> list[str]:
        return sorted(t.id for t in self.topics.values() if t.kind in kinds)

    @property
    def knowledge_ids(self) -> list[str]:
        return sorted(t.id for t in self.topics.values() if t.is_knowledge)

    @property
    def sensitive_ids(self) -> list[str]:
        return self.ids("sensitive") + [t for t in SENSITIVE_BEHAVIOUR if t in self.topics]


@lru_cache(maxsize=4)
def _load(path: Path) -> Catalogue:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    topics = {}
    for entry in data.get("topics", []):
        if isinstance(entry, dict) and "id" in entry:
            topics[str(entry["id"])] = Topic(str(entry["id"]), str(entry.get("kind", "answer")),
                                             str(entry.get("title", entry["id"])))
    return Catalogue(topics)


def load_catalogue(path: Path | None = None) -> Catalogue:
    """knowledge/topics.yml (TOPICS_FILE overrides where it is read from)."""
    return _load(Path(path or os.environ.get("TOPICS_FILE") or DEFAULT_TOPICS_FILE))
