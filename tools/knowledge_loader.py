"""Load and validate the knowledge folder.

The knowledge folder is what editors maintain: one YAML file per topic plus
behaviour training data. Everything that reads it goes through `load()`, so a
mistake an editor makes is reported once, clearly, with the file it is in.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = REPO / "knowledge"
CATALOGUE_FILE = "topics.yml"
NON_TOPIC_FILES = {CATALOGUE_FILE, "organisation.yml"}
MIN_EXAMPLES = 20
TOPIC_KINDS = ("answer", "sensitive", "referral")
REQUIRED_TOPIC_FIELDS = ("id", "title", "answer", "links", "owner", "reviewed", "examples")
URL_RE = re.compile(r"^https://[a-z0-9.-]+\.[a-z]{2,}(/[^\s]*)?$", re.IGNORECASE)


class KnowledgeError(Exception):
    """Raised with every problem found, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Topic:
    id: str
    kind: str
    title: str
    examples: list[str]
    answer: str | None = None
    child_answer: str | None = None
    links: list[dict[str, str]] = field(default_factory=list)
    buttons: list[dict[str, str]] = field(default_factory=list)
    owner: str | None = None
    reviewed: str | None = None
    source: str = ""


@dataclass
class HelperIntent:
    """A training intent that is not a catalogue topic (yes, no, opening hours)."""

    intent: str
    examples: list[str]
    topic: str | None
    source: str


@dataclass
class Knowledge:
    catalogue: dict[str, dict[str, Any]]
    topics: dict[str, Topic]          # answer, sensitive and referral topics
    behaviours: dict[str, Topic]      # behaviour topics with training data
    helpers: dict[str, HelperIntent]


def normalise_example(text: str) -> str:
    return " ".join(text.casefold().split())


def _label(path: Path) -> str:
    """How editors know the file: knowledge/x.yml or knowledge/behaviour/x.yml."""
    if path.parent.name == "behaviour":
        return f"knowledge/behaviour/{path.name}"
    return f"knowledge/{path.name}"


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        problems.append(f"{_label(path)}: is not valid YAML ({' '.join(str(exc).split())})")
    except OSError as exc:
        problems.append(f"{_label(path)}: cannot be read ({exc.strerror})")
    return None


def load_catalogue(knowledge_dir: Path = KNOWLEDGE_DIR) -> dict[str, dict[str, Any]]:
    problems: list[str] = []
    data = _read_yaml(knowledge_dir / CATALOGUE_FILE, problems)
    if problems:
        raise KnowledgeError(problems)
    return {t["id"]: t for t in data["topics"]}


def _check_examples(label: str, examples: Any, problems: list[str]) -> list[str]:
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        problems.append(f"{label}: 'examples' must be a list of texts")
        return []
    cleaned = [e.strip() for e in examples if e and e.strip()]
    if len(cleaned) < MIN_EXAMPLES:
        problems.append(
            f"{label}: has {len(cleaned)} examples; at least {MIN_EXAMPLES} are needed "
            "so the assistant can recognise the topic"
        )
    seen: set[str] = set()
    for example in cleaned:
        if re.search(r"[\[\]{}]", example):
            problems.append(
                f"{label}: the example {example!r} contains [ ] {{ }} which the training "
                "format reads as entity markup; rephrase it without them"
            )
        key = normalise_example(example)
        if key in seen:
            problems.append(f"{label}: the example {example!r} is listed twice")
        seen.add(key)
    return cleaned


def _check_links(label: str, links: Any, problems: list[str]) -> list[dict[str, str]]:
    if not isinstance(links, list) or not links:
        problems.append(f"{label}: 'links' must list at least one link with a title and a url")
        return []
    good = []
    for i, link in enumerate(links, 1):
        if not isinstance(link, dict) or not link.get("title") or not link.get("url"):
            problems.append(f"{label}: link {i} needs both 'title' and 'url'")
            continue
        url = str(link["url"]).strip()
        if not URL_RE.match(url):
            problems.append(
                f"{label}: link {i} has a malformed url {url!r} "
                "(it must be an absolute https:// address without spaces)"
            )
            continue
        good.append({"title": str(link["title"]).strip(), "url": url})
    return good


def _check_buttons(label: str, buttons: Any, problems: list[str]) -> list[dict[str, str]]:
    """Optional quick replies: a title and a payload the bot understands ("/intent")."""
    if buttons is None:
        return []
    if not isinstance(buttons, list):
        problems.append(f"{label}: 'buttons' must be a list of title and payload")
        return []
    good = []
    for i, button in enumerate(buttons, 1):
        if not isinstance(button, dict) or not button.get("title") or not str(button.get("payload", "")).startswith("/"):
            problems.append(f"{label}: button {i} needs a 'title' and a 'payload' starting with /")
            continue
        good.append({"title": str(button["title"]).strip(), "payload": str(button["payload"]).strip()})
    return good


def _load_topic(path: Path, catalogue: dict, problems: list[str]) -> Topic | None:
    label = _label(path)
    data = _read_yaml(path, problems)
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(f"{label}: must be a mapping of fields (id, title, answer, ...)")
        return None
    missing = [f for f in REQUIRED_TOPIC_FIELDS if data.get(f) in (None, "", [])]
    if missing:
        problems.append(f"{label}: missing field(s): {', '.join(missing)}")
    topic_id = data.get("id")
    if topic_id is None:
        return None
    if topic_id not in catalogue:
        problems.append(f"{label}: unknown topic id {topic_id!r} (not in knowledge/{CATALOGUE_FILE})")
        return None
    kind = catalogue[topic_id]["kind"]
    if kind not in TOPIC_KINDS:
        problems.append(
            f"{label}: {topic_id!r} is a {kind} topic; its examples belong in knowledge/behaviour/"
        )
        return None
    if path.stem != topic_id:
        problems.append(f"{label}: the file must be named {topic_id}.yml after its id")
    reviewed = data.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, dt.date):
        try:
            dt.date.fromisoformat(str(reviewed))
        except ValueError:
            problems.append(f"{label}: 'reviewed' must be a date like 2026-11-24")
    answer = data.get("answer")
    if answer is not None and not isinstance(answer, str):
        problems.append(f"{label}: 'answer' must be text")
        answer = None
    return Topic(
        id=topic_id,
        kind=kind,
        title=str(data.get("title") or catalogue[topic_id]["title"]),
        examples=_check_examples(label, data.get("examples"), problems),
        answer=" ".join(answer.split()) if answer else None,
        child_answer=" ".join(data["child_answer"].split()) if data.get("child_answer") else None,
        links=_check_links(label, data.get("links"), problems),
        buttons=_check_buttons(label, data.get("buttons"), problems),
        owner=data.get("owner"),
        reviewed=str(reviewed) if reviewed else None,
        source=label,
    )


def _load_behaviour(path: Path, catalogue: dict, problems: list[str]):
    label = _label(path)
    data = _read_yaml(path, problems)
    if not isinstance(data, dict):
        if data is not None:
            problems.append(f"{label}: must be a mapping with 'id' or 'intent' and 'examples'")
        return None
    if "id" in data:
        topic_id = data["id"]
        if topic_id not in catalogue:
            problems.append(f"{label}: unknown topic id {topic_id!r} (not in knowledge/{CATALOGUE_FILE})")
            return None
        if catalogue[topic_id]["kind"] != "behaviour":
            problems.append(f"{label}: {topic_id!r} is not a behaviour topic; move it to knowledge/")
            return None
        answer = data.get("answer")
        return Topic(
            id=topic_id,
            kind="behaviour",
            title=catalogue[topic_id]["title"],
            examples=_check_examples(label, data.get("examples"), problems),
            answer=" ".join(answer.split()) if isinstance(answer, str) else None,
            source=label,
        )
    intent = data.get("intent")
    if not intent or not re.fullmatch(r"[a-z][a-z0-9_]*", str(intent)):
        problems.append(f"{label}: needs an 'id' from the catalogue or an 'intent' name in snake_case")
        return None
    if intent in catalogue:
        problems.append(f"{label}: {intent!r} is a catalogue topic; use 'id:' instead of 'intent:'")
        return None
    topic = data.get("topic")
    if topic is not None and topic not in catalogue:
        problems.append(f"{label}: unknown topic id {topic!r}")
    return HelperIntent(
        intent=intent,
        examples=_check_examples(label, data.get("examples"), problems),
        topic=topic,
        source=label,
    )


def load(knowledge_dir: Path = KNOWLEDGE_DIR, require_all: bool = True) -> Knowledge:
    """Load and validate everything; raise KnowledgeError listing every problem."""
    problems: list[str] = []
    catalogue = load_catalogue(knowledge_dir)
    topics: dict[str, Topic] = {}
    for path in sorted(knowledge_dir.glob("*.y*ml")):
        if path.name in NON_TOPIC_FILES:
            continue
        topic = _load_topic(path, catalogue, problems)
        if topic is None:
            continue
        if topic.id in topics:
            problems.append(f"{topic.source}: topic {topic.id!r} is already defined in {topics[topic.id].source}")
            continue
        topics[topic.id] = topic

    behaviours: dict[str, Topic] = {}
    helpers: dict[str, HelperIntent] = {}
    for path in sorted((knowledge_dir / "behaviour").glob("*.y*ml")):
        item = _load_behaviour(path, catalogue, problems)
        if isinstance(item, Topic):
            behaviours[item.id] = item
        elif isinstance(item, HelperIntent):
            helpers[item.intent] = item

    if require_all:
        for topic_id, entry in catalogue.items():
            if entry["kind"] in TOPIC_KINDS and topic_id not in topics:
                problems.append(f"knowledge/{topic_id}.yml: missing; every {entry['kind']} topic needs a file")

    # The same example under two topics would teach the model two answers.
    owners: dict[str, str] = {}
    labelled = [(t.id, t.source, t.examples) for t in [*topics.values(), *behaviours.values()]]
    labelled += [(h.intent, h.source, h.examples) for h in helpers.values()]
    for name, source, examples in labelled:
        for example in examples:
            key = normalise_example(example)
            if key in owners and owners[key] != name:
                problems.append(
                    f"{source}: the example {example!r} is also an example of {owners[key]!r}; "
                    "an example can belong to one topic only"
                )
            owners.setdefault(key, name)

    if problems:
        raise KnowledgeError(problems)
    return Knowledge(catalogue=catalogue, topics=topics, behaviours=behaviours, helpers=helpers)


def main(knowledge_dir: Path = KNOWLEDGE_DIR) -> int:
    import sys

    try:
        knowledge = load(knowledge_dir)
    except KnowledgeError as exc:
        print(f"The knowledge folder has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    n_examples = sum(len(t.examples) for t in knowledge.topics.values())
    print(
        f"Knowledge OK: {len(knowledge.topics)} topics with {n_examples} examples, "
        f"{len(knowledge.behaviours)} behaviours, {len(knowledge.helpers)} helper intents."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
