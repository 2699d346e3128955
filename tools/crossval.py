"""Cross-validated accuracy of the topic model on the knowledge examples.

Run with the bot environment's Python:

    python tools/crossval.py [--folds 5] [--min-accuracy 0.9] [--json out.json]

Every example of every knowledge topic and behaviour intent is held out once
(stratified folds); the model is trained on the rest and the held-out example
is classified as a fresh message. Accuracy is printed overall, per style (a
style is guessed from the text: English, long, keyword, without å/ä/ö ...),
and for the lexical model alone next to the full cascade, with the share of
messages that needed an embedding. With `--min-accuracy` the exit status is
non-zero below that accuracy, which is how CI gates on understanding.

`--tune-fallback` sweeps the FallbackClassifier threshold over the same
out-of-fold predictions: a wrong answer costs as much as a right one gains
and a "Menade du …?" is neutral, so the best threshold falls back exactly
where the model is more often wrong than right. Put the value it prints in
bot/config.yml (the one place the threshold lives).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "bot"), str(REPO / "tools")]

import numpy as np  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from components import embeddings  # noqa: E402
from components.topic_model import TopicModel, TopicModelConfig  # noqa: E402
from knowledge_loader import load  # noqa: E402

ENGLISH = re.compile(r"\b(the|is|are|how|what|where|can|do|does|my|i|you|to|of|for|with|want|need)\b")
SWEDISH_LETTERS = re.compile(r"[åäöÅÄÖ]")
SWEDISH_WORDS_WITH_LETTERS = re.compile(r"\b(nar|nagon|nagot|har|far|ar|manga|for|oppet|sa|sjalv|hamta|barn)\b")


def style_of(text: str) -> str:
    """A rough style label for reporting, from the text alone."""
    words = text.split()
    lower = text.lower()
    if len(words) > 25:
        return "long"
    if len(ENGLISH.findall(lower)) >= 2 and not SWEDISH_LETTERS.search(text):
        return "english"
    if len(words) <= 3:
        return "keyword"
    if not SWEDISH_LETTERS.search(text) and SWEDISH_WORDS_WITH_LETTERS.search(lower):
        return "no_diacritics"
    return "sentence"


def knowledge_examples(repo: Path = REPO) -> Tuple[List[str], List[str]]:
    """(texts, labels): knowledge topics as faq_<id>, behaviours and helpers as themselves."""
    k = load(repo / "knowledge")
    texts: List[str] = []
    labels: List[str] = []
    for topic in k.topics.values():
        texts += topic.examples
        labels += [f"faq_{topic.id}"] * len(topic.examples)
    for topic in k.behaviours.values():
        texts += topic.examples
        labels += [topic.id] * len(topic.examples)
    for helper in k.helpers.values():
        texts += helper.examples
        labels += [helper.intent] * len(helper.examples)
    return texts, labels


def cross_validate(texts: List[str], labels: List[str], config: TopicModelConfig,
                   folds: int, vectors: np.ndarray | None) -> Dict:
    y = np.array(labels)
    lexical_pred = np.empty(len(texts), dtype=object)
    full_pred = np.empty(len(texts), dtype=object)
    full_conf = np.zeros(len(texts))
    used_embedding = np.zeros(len(texts), dtype=bool)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=20261202)
    started = time.perf_counter()
    for train, test in splitter.split(texts, y):
        model = TopicModel(config=config)
        model.fit([texts[i] for i in train], [labels[i] for i in train],
                  vectors[train] if vectors is not None else None)
        test_texts = [texts[i] for i in test]
        lexical = model.lexical_probabilities(test_texts)
        probabilities, used = model.predict_many(test_texts, vectors[test] if vectors is not None else None)
        names = np.array(model.labels, dtype=object)
        lexical_pred[test] = names[lexical.argmax(axis=1)]
        full_pred[test] = names[probabilities.argmax(axis=1)]
        full_conf[test] = probabilities.max(axis=1)
        used_embedding[test] = used
    return {
        "seconds": time.perf_counter() - started,
        "lexical": lexical_pred,
        "full": full_pred,
        "confidence": full_conf,
        "used_embedding": used_embedding,
    }


def report(texts: List[str], labels: List[str], result: Dict) -> Dict:
    y = np.array(labels, dtype=object)
    styles = np.array([style_of(t) for t in texts], dtype=object)
    summary = {
        "examples": len(texts),
        "accuracy": float((result["full"] == y).mean()),
        "lexical_accuracy": float((result["lexical"] == y).mean()),
        "embedding_share": float(result["used_embedding"].mean()),
        "per_style": {},
        "per_label": {},
    }
    for style in sorted(set(styles)):
        mask = styles == style
        summary["per_style"][style] = {
            "n": int(mask.sum()),
            "accuracy": float((result["full"][mask] == y[mask]).mean()),
            "lexical_accuracy": float((result["lexical"][mask] == y[mask]).mean()),
        }
    for label in sorted(set(labels)):
        mask = y == label
        summary["per_label"][label] = float((result["full"][mask] == y[mask]).mean())
    return summary


def tune_fallback(labels: List[str], result: Dict) -> Dict:
    """Utility (correct minus wrong) of each fallback threshold, best first."""
    y = np.array(labels, dtype=object)
    right = result["full"] == y
    rows = []
    for threshold in np.round(np.arange(0.0, 0.81, 0.025), 3):
        answered = result["confidence"] >= threshold
        correct, wrong = int((answered & right).sum()), int((answered & ~right).sum())
        rows.append({"threshold": float(threshold), "correct": correct, "wrong": wrong,
                     "fallback": int((~answered).sum()), "utility": correct - wrong})
    best = max(rows, key=lambda r: (r["utility"], -r["threshold"]))
    return {"best": best, "curve": rows}


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--min-accuracy", type=float, default=None)
    parser.add_argument("--no-embeddings", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a topic model setting, e.g. --set blend=0.6")
    parser.add_argument("--tune-fallback", action="store_true",
                        help="also sweep the fallback threshold over the out-of-fold predictions")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    config = TopicModelConfig.from_dict(_classifier_settings())
    for item in args.set:
        key, value = item.split("=", 1)
        setattr(config, key, type(getattr(config, key))(value))
    if args.no_embeddings:
        config.use_embeddings = False
    texts, labels = knowledge_examples()
    vectors = None
    if config.use_embeddings:
        started = time.perf_counter()
        vectors = embeddings.embed_many(texts)
        print(f"embeddings of {len(texts)} examples: {time.perf_counter() - started:.1f} s (cached per text)")
    result = cross_validate(texts, labels, config, args.folds, vectors)
    summary = report(texts, labels, result)
    print(f"{args.folds}-fold cross-validation over {summary['examples']} knowledge examples "
          f"({result['seconds']:.1f} s)")
    print(f"  cascade (lexical + meaning when unsure): {summary['accuracy']:.1%}")
    print(f"  lexical model alone:                     {summary['lexical_accuracy']:.1%}")
    print(f"  messages that needed an embedding:       {summary['embedding_share']:.1%}")
    print("  per style            n   cascade  lexical")
    for style, row in summary["per_style"].items():
        print(f"    {style:<15} {row['n']:>5}   {row['accuracy']:6.1%}   {row['lexical_accuracy']:6.1%}")
    worst = sorted(summary["per_label"].items(), key=lambda item: item[1])[:8]
    print("  weakest labels: " + ", ".join(f"{label} {acc:.0%}" for label, acc in worst))
    if args.tune_fallback:
        tuned = tune_fallback(labels, result)
        summary["fallback"] = tuned
        print("  fallback threshold   correct  wrong  fallback  utility")
        for row in tuned["curve"][::2]:
            print(f"    {row['threshold']:.3f}             {row['correct']:5d}  {row['wrong']:5d}  "
                  f"{row['fallback']:8d}  {row['utility']:7d}")
        print(f"  best threshold: {tuned['best']['threshold']:.3f} (utility {tuned['best']['utility']})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    if args.min_accuracy is not None and summary["accuracy"] < args.min_accuracy:
        print(f"FAILED: cross-validated accuracy {summary['accuracy']:.1%} is below "
              f"the required {args.min_accuracy:.1%}", file=sys.stderr)
        return 1
    return 0


def _classifier_settings() -> Dict:
    """The topic classifier's settings from bot/config.yml, so CV measures what ships."""
    import yaml

    config = yaml.safe_load((REPO / "bot/config.yml").read_text(encoding="utf-8"))
    for component in config.get("pipeline", []):
        if component.get("name", "").endswith("TopicClassifier"):
            return component
    return {}


if __name__ == "__main__":
    raise SystemExit(main())
