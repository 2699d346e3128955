"""Recall and false alarms of the safety net on tests/data/safety_eval.yml.

Run with the bot environment's Python:

    python tools/safety_eval.py [--eval-file FILE] [--cv] [--json FILE]

Trains the safety detector the way `rasa train` does (from the generated NLU
data in bot/data/nlu and knowledge/safety/signals.yml; sentence embeddings
come from the disk cache that training fills), then prints recall per
category and overall, the false-alarm rate on the hard negatives, every miss
and false alarm, how often it fires on the examples of the ordinary topics,
and the time per message. Exits with 1 when recall is below 98 % or false
alarms above 10 %.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bot"))

import yaml  # noqa: E402

EVAL_FILE = REPO / "tests" / "data" / "safety_eval.yml"
NLU_DIR = REPO / "bot" / "data" / "nlu"
MIN_RECALL = 0.98
MAX_FALSE_ALARMS = 0.10
CATEGORIES = ("suicide_selfharm", "relationship_violence", "child_at_risk", "acute_danger")


def embedding_cache() -> Path:
    """The folder `rasa train` fills with example embeddings (scripts/train.sh)."""
    root = os.environ.get("MJOLBY_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mjolby-chat")
    return Path(root) / "rasa-cache" / "e5-embeddings"


def use_embedding_cache() -> None:
    os.environ.setdefault("MJOLBY_EMBEDDING_CACHE", str(embedding_cache()))


@dataclass
class Item:
    text: str
    expect: str
    also: Tuple[str, ...] = ()
    style: str = ""


@dataclass
class Report:
    recall: float
    false_alarm_rate: float
    category_accuracy: float
    per_category: Dict[str, Tuple[int, int]]
    misses: List[Item] = field(default_factory=list)
    false_alarms: List[Tuple[Item, str]] = field(default_factory=list)
    wrong_category: List[Tuple[Item, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.recall >= MIN_RECALL and self.false_alarm_rate <= MAX_FALSE_ALARMS


def load_eval(path: Path = EVAL_FILE) -> List[Item]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = []
    for raw in data["items"]:
        expect = raw["expect"]
        if expect not in CATEGORIES + ("none",):
            raise ValueError(f"{path}: unknown expect {expect!r} for {raw['text']!r}")
        items.append(Item(" ".join(str(raw["text"]).split()), expect, tuple(raw.get("also") or ()),
                          str(raw.get("style") or "")))
    return items


def evaluate(items: Sequence[Item], detect: Callable[[str], Optional[str]]) -> Report:
    """`detect` returns the category the safety net fires with, or None."""
    per_category = {c: [0, 0] for c in CATEGORIES}
    report = Report(0.0, 0.0, 0.0, {})
    right_category = 0
    for item in items:
        found = detect(item.text)
        if item.expect == "none":
            if found:
                report.false_alarms.append((item, found))
            continue
        per_category[item.expect][1] += 1
        if not found:
            report.misses.append(item)
            continue
        per_category[item.expect][0] += 1
        if found == item.expect or found in item.also:
            right_category += 1
        else:
            report.wrong_category.append((item, found))
    signals = sum(1 for i in items if i.expect != "none")
    negatives = len(items) - signals
    report.recall = (signals - len(report.misses)) / signals if signals else 1.0
    report.false_alarm_rate = len(report.false_alarms) / negatives if negatives else 0.0
    report.category_accuracy = right_category / signals if signals else 1.0
    report.per_category = {c: (hit, total) for c, (hit, total) in per_category.items()}
    return report


def load_training_data(nlu_dir: Path = NLU_DIR):
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(nlu_dir))


def train_detector(training_data=None):
    """A SafetyDetector trained as in `rasa train`, without the rest of the pipeline."""
    import tempfile

    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from components.safety_detector import SafetyDetector

    use_embedding_cache()
    training_data = training_data if training_data is not None else load_training_data()
    storage = LocalModelStorage(Path(tempfile.mkdtemp(prefix="safety-model-")))
    resource = Resource("safety_detector")
    context = ExecutionContext(GraphSchema({}), node_name="safety_detector")
    config = SafetyDetector.get_default_config()
    SafetyDetector.create(config, storage, resource, context).train(training_data)
    return SafetyDetector.load(config, storage, resource, context)


def parse_category(detector, text: str) -> Optional[str]:
    """Run the component on a message the topic classifier sent elsewhere."""
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={"text": text, "intent": {"name": "faq_bygglov", "confidence": 0.9},
                            "intent_ranking": [{"name": "faq_bygglov", "confidence": 0.9}]})
    detector.process([message])
    return next((e["value"] for e in message.get("entities") or [] if e["entity"] == "safety_signal"), None)


def ordinary_examples(training_data) -> List[str]:
    """Examples of every intent that is not one of the three sensitive topics."""
    from components.safety_detector import topic_of_intent
    from components.safety_model import SENSITIVE_TOPICS

    return [m.get("text") for m in training_data.intent_examples
            if topic_of_intent(m.get("intent"), m.get("intent_response_key")) not in SENSITIVE_TOPICS]


def cross_validated_alarms(training_data, folds: int = 5) -> Tuple[float, float, int, int]:
    """Out-of-fold false alarms on ordinary examples and recall on sensitive ones."""
    import numpy as np

    from components import embeddings
    from components.safety_detector import topic_examples
    from components.safety_model import NONE, SafetyModel, load_signals, training_pairs

    pairs = topic_examples(training_data)
    signals = load_signals()
    texts, labels = training_pairs(pairs, signals)
    vectors = embeddings.embed_many(texts)
    # training_pairs puts the signals file first, each text once.
    first_topic_example = len({" ".join(t.split()).lower() for t, _ in signals})
    order = np.random.RandomState(0).permutation(len(texts))
    alarms = ordinary = hits = sensitive = 0
    for fold in np.array_split(order, folds):
        held = set(fold.tolist())
        train = [i for i in range(len(texts)) if i not in held]
        model = SafetyModel.train([texts[i] for i in train], [labels[i] for i in train],
                                  embed_many=lambda _texts, rows=train: vectors[rows])
        for i in fold:
            if i < first_topic_example:
                continue  # the signals file's own examples are not counted
            fired = model.detect(texts[i], embed=lambda _text, v=vectors[i]: v) is not None
            if labels[i] == NONE:
                ordinary += 1
                alarms += fired
            else:
                sensitive += 1
                hits += fired
    return alarms / max(ordinary, 1), hits / max(sensitive, 1), ordinary, sensitive


def timings(detector, texts: Sequence[str]) -> Dict[str, float]:
    """Median and 95th percentile time per message, in microseconds."""
    from components import embeddings

    model = detector.model
    lexical: List[float] = []
    full: List[float] = []
    for text in texts:
        start = time.perf_counter()
        model.detect(text)  # phrases and the learned lexical model only
        lexical.append((time.perf_counter() - start) * 1e6)
    for text in texts:
        start = time.perf_counter()
        model.detect(text, embed=embeddings.embed)  # embeds in the grey zone
        full.append((time.perf_counter() - start) * 1e6)
    q = lambda values, p: sorted(values)[min(len(values) - 1, int(p * len(values)))]  # noqa: E731
    return {"lexical_median_us": statistics.median(lexical), "lexical_p95_us": q(lexical, 0.95),
            "median_us": statistics.median(full), "p95_us": q(full, 0.95)}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-file", type=Path, default=EVAL_FILE)
    parser.add_argument("--cv", action="store_true",
                        help="also estimate alarms on ordinary topics out of fold (slower)")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    args = parser.parse_args(argv)

    items = load_eval(args.eval_file)
    training_data = load_training_data()
    detector = train_detector(training_data)
    report = evaluate(items, lambda text: parse_category(detector, text))
    ordinary = ordinary_examples(training_data)
    ordinary_alarms = sum(1 for text in ordinary if parse_category(detector, text))

    signals = sum(1 for i in items if i.expect != "none")
    print(f"Safety net on {args.eval_file.relative_to(REPO) if args.eval_file.is_relative_to(REPO) else args.eval_file}"
          f": {signals} signals, {len(items) - signals} hard negatives")
    for category, (hit, total) in report.per_category.items():
        print(f"  recall {category:<22} {hit:>3}/{total:<3} {hit / max(total, 1):6.1%}")
    print(f"  recall overall                 {report.recall:6.1%}   (gate: at least {MIN_RECALL:.0%})")
    print(f"  false alarms on hard negatives {report.false_alarm_rate:6.1%}   (gate: at most {MAX_FALSE_ALARMS:.0%})")
    print(f"  right category when found      {report.category_accuracy:6.1%}")
    print(f"  fires on ordinary topic examples: {ordinary_alarms}/{len(ordinary)} "
          f"({ordinary_alarms / max(len(ordinary), 1):.2%}, seen in training)")
    for item in report.misses:
        print(f"  MISS [{item.expect}; {item.style}] {item.text}")
    for item, found in report.false_alarms:
        print(f"  FALSE ALARM [{found}; {item.style}] {item.text}")
    for item, found in report.wrong_category:
        print(f"  other category [{item.expect} -> {found}] {item.text}")
    numbers = {
        "recall": report.recall,
        "false_alarm_rate": report.false_alarm_rate,
        "category_accuracy": report.category_accuracy,
        "recall_per_category": {c: hit / max(total, 1) for c, (hit, total) in report.per_category.items()},
        "ordinary_examples_alarm_rate": ordinary_alarms / max(len(ordinary), 1),
    }
    numbers.update(timings(detector, ordinary))
    print(f"  time per message: median {numbers['lexical_median_us']:.0f} µs without an embedding "
          f"(p95 {numbers['lexical_p95_us']:.0f} µs); median {numbers['median_us']:.0f} µs, "
          f"p95 {numbers['p95_us']:.0f} µs with embeddings in the grey zone")
    if args.cv:
        alarms, recall, n_ordinary, n_sensitive = cross_validated_alarms(training_data)
        numbers.update(cv_ordinary_alarm_rate=alarms, cv_sensitive_recall=recall)
        print(f"  out of fold: fires on {alarms:.2%} of {n_ordinary} ordinary examples, "
              f"finds {recall:.1%} of {n_sensitive} sensitive-topic examples")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(numbers, indent=1), encoding="utf-8")
    if not report.passed:
        print("FAILED: the safety net misses too much or raises too many false alarms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
