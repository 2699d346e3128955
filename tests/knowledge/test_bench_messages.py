"""The benchmark's messages are held out: never training data, and they cover
every topic in the styles citizens write in."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

import knowledge_loader as knowledge
from knowledge_loader import normalise_example

REPO = Path(__file__).resolve().parents[2]
BENCH_FILE = REPO / "tools" / "data" / "bench_messages.yml"


def bench_items() -> list[dict]:
    return yaml.safe_load(BENCH_FILE.read_text(encoding="utf-8"))["items"]


def strings_in(node) -> list[str]:
    """Every text in a YAML tree (the safety file groups its examples by category)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings_in(value)]
    if isinstance(node, list):
        return [s for value in node for s in strings_in(value)]
    return []


def training_texts() -> set[str]:
    k = knowledge.load()
    texts = [e for t in [*k.topics.values(), *k.behaviours.values()] for e in t.examples]
    texts += [e for h in k.helpers.values() for e in h.examples]
    for path in sorted((REPO / "knowledge" / "safety").glob("*.y*ml")):
        texts += strings_in(yaml.safe_load(path.read_text(encoding="utf-8")))
    return {normalise_example(t) for t in texts}


def test_no_bench_message_is_a_training_example():
    training = training_texts()
    assert len(training) > 1000  # the examples were really read
    copied = [i["text"] for i in bench_items() if normalise_example(i["text"]) in training]
    assert copied == [], f"these benchmark messages are training examples in knowledge/: {copied}"


def test_bench_messages_are_distinct():
    counts = Counter(normalise_example(i["text"]) for i in bench_items())
    assert [t for t, n in counts.items() if n > 1] == []


def test_every_topic_is_covered_with_known_ids():
    catalogue = knowledge.load_catalogue()
    expected = Counter(i["expect"] for i in bench_items())
    assert set(expected) - set(catalogue) == set(), "unknown topic ids"
    assert set(catalogue) - set(expected) == set(), "topics without a benchmark message"
    thin = {t: n for t, n in expected.items() if catalogue[t]["kind"] != "behaviour" and n < 4}
    assert thin == {}, "every knowledge topic needs at least 4 messages"


def test_realistic_mix_of_lengths_and_styles():
    items = bench_items()
    assert len(items) >= 300
    words = [len(i["text"].split()) for i in items]
    long_share = sum(40 <= n <= 120 for n in words) / len(items)
    assert long_share >= 0.18, f"only {long_share:.0%} long messages (40-120 words)"
    assert max(words) <= 120
    styles = Counter(i["style"] for i in items)
    for style in ("english", "dialect", "typo", "no_diacritics", "indirect", "keyword", "child", "long"):
        assert styles[style] >= 5, f"too few {style} messages"
    # The dialect words citizens really use.
    text = " ".join(i["text"].lower() for i in items)
    for word in ("tippen", "dagis", "soc"):
        assert f" {word}" in f" {text}", word
