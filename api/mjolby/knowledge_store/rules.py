"""The rules of the knowledge folder, shared by the tools and the editors' console.

The knowledge folder is what editors maintain: one YAML file per topic plus
behaviour training data. Everything that reads it goes through `load()`, so a
mistake an editor makes is reported once, clearly, with the file it is in.
The console checks a topic it is about to save with the same functions
(`check_topic`), which name the field a problem is in and say it in Swedish.

This module needs only the standard library and PyYAML: tools/knowledge_loader.py
and tools/generate.py load it without the rest of the application.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
KNOWLEDGE_DIR = REPO / "knowledge"
CATALOGUE_FILE = "topics.yml"
NON_TOPIC_FILES = {CATALOGUE_FILE, "organisation.yml"}
MIN_EXAMPLES = 20
TOPIC_KINDS = ("answer", "sensitive", "referral")
CONFIDENCE_LEVELS = ("high", "medium", "low")
REQUIRED_TOPIC_FIELDS = ("id", "title", "answer", "links", "owner", "reviewed", "examples")
# The order fields are written in when a topic is saved as a file.
FIELD_ORDER = ("id", "title", "owner", "reviewed", "confidence", "retired", "answer", "child_answer",
               "links", "buttons", "sources", "examples")
URL_RE = re.compile(r"^https://[a-z0-9.-]+\.[a-z]{2,}(/[^\s]*)?$", re.IGNORECASE)
ID_RE = re.compile(r"^[a-z][a-z0-9_]{2,59}$")
GENERATED_NOTE = ("Generated from knowledge/ by tools/generate.py. Do not edit by hand: "
                  "edit knowledge/ and run `make generate`.")

FIELD_LABELS_SV = {
    "id": "id", "title": "rubrik", "answer": "svar", "links": "länkar", "owner": "ansvarig",
    "reviewed": "granskad", "examples": "exempelfrågor",
}


class KnowledgeError(Exception):
    """Raised with every problem found, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Problem:
    """One problem in one field: in English for the tools, in Swedish for the console."""

    field: str
    en: str
    sv: str


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
    sources: list[str] = field(default_factory=list)
    confidence: str | None = None
    retired: bool = False
    source: str = ""

    def as_data(self) -> dict[str, Any]:
        """The topic as the fields of its file (what the store keeps and exports)."""
        data: dict[str, Any] = {
            "id": self.id, "title": self.title, "owner": self.owner, "reviewed": self.reviewed,
            "confidence": self.confidence, "retired": self.retired or None, "answer": self.answer,
            "child_answer": self.child_answer, "links": self.links, "buttons": self.buttons,
            "sources": self.sources, "examples": self.examples,
        }
        return {k: data[k] for k in FIELD_ORDER if data[k] not in (None, [], "")}


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
    topics: dict[str, Topic]          # answer, sensitive and referral topics that answer
    behaviours: dict[str, Topic]      # behaviour topics with training data
    helpers: dict[str, HelperIntent]
    retired: dict[str, Topic] = field(default_factory=dict)  # topics that no longer answer


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


def parse_catalogue(text: str) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in (yaml.safe_load(text) or {}).get("topics", [])}


def load_catalogue(knowledge_dir: Path = KNOWLEDGE_DIR) -> dict[str, dict[str, Any]]:
    problems: list[str] = []
    data = _read_yaml(knowledge_dir / CATALOGUE_FILE, problems)
    if problems:
        raise KnowledgeError(problems)
    return {t["id"]: t for t in data["topics"]}


def check_examples(examples: Any, problems: list[Problem]) -> list[str]:
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        problems.append(Problem("examples", "'examples' must be a list of texts",
                                "Exempelfrågorna måste vara en lista med texter."))
        return []
    cleaned = [e.strip() for e in examples if e and e.strip()]
    if len(cleaned) < MIN_EXAMPLES:
        problems.append(Problem(
            "examples",
            f"has {len(cleaned)} examples; at least {MIN_EXAMPLES} are needed "
            "so the assistant can recognise the topic",
            f"Ämnet har {len(cleaned)} exempelfrågor. Det behövs minst {MIN_EXAMPLES} "
            "för att chattassistenten ska känna igen ämnet.",
        ))
    seen: set[str] = set()
    for example in cleaned:
        if re.search(r"[\[\]{}]", example):
            problems.append(Problem(
                "examples",
                f"the example {example!r} contains [ ] {{ }} which the training "
                "format reads as entity markup; rephrase it without them",
                f"Exempelfrågan ”{example}” innehåller [ ] {{ }}. Skriv om den utan de tecknen.",
            ))
        key = normalise_example(example)
        if key in seen:
            problems.append(Problem("examples", f"the example {example!r} is listed twice",
                                    f"Exempelfrågan ”{example}” står med två gånger."))
        seen.add(key)
    return cleaned


def check_links(links: Any, problems: list[Problem]) -> list[dict[str, str]]:
    if not isinstance(links, list) or not links:
        problems.append(Problem("links", "'links' must list at least one link with a title and a url",
                                "Lägg till minst en länk med rubrik och adress."))
        return []
    good = []
    for i, link in enumerate(links, 1):
        if not isinstance(link, dict) or not link.get("title") or not link.get("url"):
            problems.append(Problem("links", f"link {i} needs both 'title' and 'url'",
                                    f"Länk {i} behöver både en rubrik och en adress."))
            continue
        url = str(link["url"]).strip()
        if not URL_RE.match(url):
            problems.append(Problem(
                "links",
                f"link {i} has a malformed url {url!r} "
                "(it must be an absolute https:// address without spaces)",
                f"Länk {i} har en felaktig adress ({url}). Den måste börja med https:// "
                "och får inte innehålla mellanslag.",
            ))
            continue
        good.append({"title": str(link["title"]).strip(), "url": url})
    return good


def check_buttons(buttons: Any, problems: list[Problem]) -> list[dict[str, str]]:
    """Optional quick replies: a title and a payload the bot understands ("/intent")."""
    if buttons is None:
        return []
    if not isinstance(buttons, list):
        problems.append(Problem("buttons", "'buttons' must be a list of title and payload",
                                "Knapparna måste vara en lista med rubrik och kommando."))
        return []
    good = []
    for i, button in enumerate(buttons, 1):
        if not isinstance(button, dict) or not button.get("title") or not str(button.get("payload", "")).startswith("/"):
            problems.append(Problem("buttons", f"button {i} needs a 'title' and a 'payload' starting with /",
                                    f"Knapp {i} behöver en rubrik och ett kommando som börjar med /."))
            continue
        good.append({"title": str(button["title"]).strip(), "payload": str(button["payload"]).strip()})
    return good


def check_sources(sources: Any, problems: list[Problem]) -> list[str]:
    """Optional: where the answer's facts come from (a page address or a short note)."""
    if sources in (None, ""):
        return []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        problems.append(Problem("sources", "'sources' must be a list of texts",
                                "Källorna måste vara en lista med texter."))
        return []
    good = []
    for i, source in enumerate(s.strip() for s in sources):
        if not source:
            continue
        if source.lower().startswith(("http:", "https:", "www.")) and not URL_RE.match(source):
            problems.append(Problem(
                "sources", f"source {i + 1} has a malformed url {source!r} (it must be an https:// address)",
                f"Källa {i + 1} har en felaktig adress ({source}). Den måste börja med https://.",
            ))
            continue
        good.append(source)
    return good


def check_topic(data: Any, catalogue: dict[str, dict[str, Any]],
                problems: list[Problem], *, expected_id: str | None = None) -> Topic | None:
    """Check one topic's fields; add what is wrong to `problems`; the topic when it has a known id."""
    if not isinstance(data, dict):
        problems.append(Problem("", "must be a mapping of fields (id, title, answer, ...)",
                                "Ämnet måste bestå av fält (id, rubrik, svar, ...)."))
        return None
    retired = bool(data.get("retired"))
    required = ("id", "title", "owner", "reviewed") if retired else REQUIRED_TOPIC_FIELDS
    missing = [f for f in required if data.get(f) in (None, "", [])]
    if missing:
        problems.append(Problem(
            missing[0], f"missing field(s): {', '.join(missing)}",
            "Fyll i " + ", ".join(FIELD_LABELS_SV[f] for f in missing) + ".",
        ))
        for extra in missing[1:]:
            problems.append(Problem(extra, "", f"Fyll i {FIELD_LABELS_SV[extra]}."))
    topic_id = data.get("id")
    if topic_id is None:
        return None
    if topic_id not in catalogue:
        problems.append(Problem("id", f"unknown topic id {topic_id!r} (not in knowledge/{CATALOGUE_FILE})",
                                f"Det finns inget ämne med id ”{topic_id}”."))
        return None
    if expected_id is not None and topic_id != expected_id:
        problems.append(Problem("id", f"the file must be named {topic_id}.yml after its id",
                                f"Id ”{topic_id}” stämmer inte med ämnet ”{expected_id}”."))
    kind = catalogue[topic_id]["kind"]
    if kind not in TOPIC_KINDS:
        problems.append(Problem(
            "id", f"{topic_id!r} is a {kind} topic; its examples belong in knowledge/behaviour/",
            f"”{topic_id}” är ett beteende, inte ett kunskapsämne.",
        ))
        return None
    reviewed = data.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, dt.date):
        try:
            dt.date.fromisoformat(str(reviewed))
        except ValueError:
            problems.append(Problem("reviewed", "'reviewed' must be a date like 2026-11-24",
                                    "Granskad måste vara ett datum som 2026-11-24."))
            reviewed = None
    answer = data.get("answer")
    if answer is not None and not isinstance(answer, str):
        problems.append(Problem("answer", "'answer' must be text", "Svaret måste vara text."))
        answer = None
    confidence = data.get("confidence")
    if confidence not in (None, "") and confidence not in CONFIDENCE_LEVELS:
        problems.append(Problem("confidence", "'confidence' must be high, medium or low",
                                "Säkerheten måste vara hög, medel eller låg."))
        confidence = None
    child_answer = data.get("child_answer")
    return Topic(
        id=topic_id,
        kind=kind,
        title=str(data.get("title") or catalogue[topic_id]["title"]),
        # A retired topic no longer trains the model: its examples are kept as they are.
        examples=[e for e in data.get("examples") or [] if isinstance(e, str)] if retired
        else check_examples(data.get("examples"), problems),
        answer=" ".join(answer.split()) if answer else None,
        child_answer=" ".join(child_answer.split()) if isinstance(child_answer, str) and child_answer.strip() else None,
        links=[] if retired and not data.get("links") else check_links(data.get("links"), problems),
        buttons=check_buttons(data.get("buttons"), problems),
        owner=data.get("owner"),
        reviewed=str(reviewed) if reviewed else None,
        sources=check_sources(data.get("sources"), problems),
        confidence=confidence or None,
        retired=retired,
    )


def _load_topic(path: Path, catalogue: dict, problems: list[str]) -> Topic | None:
    label = _label(path)
    data = _read_yaml(path, problems)
    if data is None:
        return None
    found: list[Problem] = []
    topic = check_topic(data, catalogue, found, expected_id=path.stem if isinstance(data, dict) else None)
    problems.extend(f"{label}: {p.en}" for p in found if p.en)
    if topic is not None:
        topic.source = label
    return topic


def _load_behaviour(path: Path, catalogue: dict, problems: list[str]) -> Topic | HelperIntent | None:
    data = _read_yaml(path, problems)
    if data is None:
        return None
    return check_behaviour(data, catalogue, _label(path), problems)


def check_behaviour(data: Any, catalogue: dict, label: str, problems: list[str]) -> Topic | HelperIntent | None:
    """A file of knowledge/behaviour/: a behaviour topic or a helper intent."""
    found: list[Problem] = []
    if not isinstance(data, dict):
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
        examples = check_examples(data.get("examples"), found)
        problems.extend(f"{label}: {p.en}" for p in found)
        return Topic(
            id=topic_id,
            kind="behaviour",
            title=catalogue[topic_id]["title"],
            examples=examples,
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
    examples = check_examples(data.get("examples"), found)
    problems.extend(f"{label}: {p.en}" for p in found)
    return HelperIntent(intent=intent, examples=examples, topic=topic, source=label)


def example_owners(knowledge: Knowledge) -> dict[str, str]:
    """Every training example (normalised) and the topic or intent it belongs to."""
    owners: dict[str, str] = {}
    for name, examples in _labelled(knowledge):
        for example in examples:
            owners.setdefault(normalise_example(example), name)
    return owners


def _labelled(knowledge: Knowledge) -> list[tuple[str, list[str]]]:
    labelled = [(t.id, t.examples) for t in [*knowledge.topics.values(), *knowledge.behaviours.values()]]
    return labelled + [(h.intent, h.examples) for h in knowledge.helpers.values()]


def load(knowledge_dir: Path = KNOWLEDGE_DIR, require_all: bool = True) -> Knowledge:
    """Load and validate everything; raise KnowledgeError listing every problem."""
    problems: list[str] = []
    catalogue = load_catalogue(knowledge_dir)
    topics: dict[str, Topic] = {}
    retired: dict[str, Topic] = {}
    for path in sorted(knowledge_dir.glob("*.y*ml")):
        if path.name in NON_TOPIC_FILES:
            continue
        topic = _load_topic(path, catalogue, problems)
        if topic is None:
            continue
        if topic.id in topics or topic.id in retired:
            first = (topics.get(topic.id) or retired[topic.id]).source
            problems.append(f"{topic.source}: topic {topic.id!r} is already defined in {first}")
            continue
        (retired if topic.retired else topics)[topic.id] = topic

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
            if entry["kind"] in TOPIC_KINDS and topic_id not in topics and topic_id not in retired:
                problems.append(f"knowledge/{topic_id}.yml: missing; every {entry['kind']} topic needs a file")

    # The same example under two topics would teach the model two answers.
    owners: dict[str, str] = {}
    sources = {t.id: t.source for t in [*topics.values(), *behaviours.values()]}
    sources.update({h.intent: h.source for h in helpers.values()})
    knowledge = Knowledge(catalogue=catalogue, topics=topics, behaviours=behaviours, helpers=helpers,
                          retired=retired)
    for name, examples in _labelled(knowledge):
        for example in examples:
            key = normalise_example(example)
            if key in owners and owners[key] != name:
                problems.append(
                    f"{sources[name]}: the example {example!r} is also an example of {owners[key]!r}; "
                    "an example can belong to one topic only"
                )
            owners.setdefault(key, name)

    if problems:
        raise KnowledgeError(problems)
    return knowledge


def build_catalogue(k: Knowledge, organisation: dict[str, Any]) -> dict[str, Any]:
    """What the bot's actions read at run time (bot/actions/catalogue.json)."""
    topics = {}
    for topic_id, entry in k.catalogue.items():
        topic = k.topics.get(topic_id)
        topics[topic_id] = {
            "kind": entry["kind"],
            "title": topic.title if topic else entry["title"],
            "answer": topic.answer if topic else None,
            "child_answer": topic.child_answer if topic else None,
            "links": topic.links if topic else [],
            "buttons": topic.buttons if topic else [],
            # For the fallback's word-overlap suggestions (bot/actions/lexical.py).
            "examples": topic.examples if topic else [],
        }
        if topic_id in k.retired:
            # The actions answer a retired topic like a question they did not understand.
            topics[topic_id]["retired"] = True
    helper_topics = {h.intent: h.topic for h in k.helpers.values() if h.topic}
    # Contact details, opening hours and support lines: actions read them from
    # here so that no number is written into the bot's code.
    return {"_generated": GENERATED_NOTE, "topics": topics, "intent_topics": helper_topics,
            "organisation": organisation}


def catalogue_json(catalogue: dict[str, Any]) -> str:
    return json.dumps(catalogue, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def print_problems(exc: KnowledgeError, heading: str = "The knowledge folder has") -> None:
    """The problems as the tools print them, one per line on stderr."""
    print(f"{heading} {len(exc.problems)} problem(s):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)


def main(knowledge_dir: Path = KNOWLEDGE_DIR) -> int:
    try:
        knowledge = load(knowledge_dir)
    except KnowledgeError as exc:
        print_problems(exc)
        return 1
    n_examples = sum(len(t.examples) for t in knowledge.topics.values())
    print(
        f"Knowledge OK: {len(knowledge.topics)} topics with {n_examples} examples, "
        f"{len(knowledge.behaviours)} behaviours, {len(knowledge.helpers)} helper intents."
    )
    return 0
