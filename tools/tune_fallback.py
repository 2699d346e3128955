"""Tune the fallback thresholds on held-out examples instead of guessing them.

Trains an NLU model on 80 % of the examples in knowledge/ (stratified, fixed
seed), parses the other 20 %, and sweeps the two thresholds the assistant
uses: the FallbackClassifier's intent threshold and the ResponseSelector
confidence below which action_answer_faq asks the citizen to rephrase.

For each pair it counts correct answers, wrong answers and fallbacks; a wrong
answer costs as much as a right one gains (a fallback is neutral), so the
chosen thresholds fall back exactly where the model is more often wrong than
right. Run it in the bot environment:

    python tools/tune_fallback.py            (prints the curve and the best pair)
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import nlu_behaviour, nlu_faq  # noqa: E402
from knowledge_loader import REPO, load  # noqa: E402

SEED = 20261124


def split(k, holdout: float = 0.2):
    rng = random.Random(SEED)
    held = []
    for topic in k.topics.values():
        examples = topic.examples[:]
        rng.shuffle(examples)
        n = max(2, int(len(examples) * holdout))
        held += [(e, topic.id) for e in examples[:n]]
        topic.examples = examples[n:]
    for topic in k.behaviours.values():
        examples = topic.examples[:]
        rng.shuffle(examples)
        n = max(2, int(len(examples) * holdout))
        held += [(e, topic.id) for e in examples[:n]]
        topic.examples = examples[n:]
    return k, held


def train(k, workdir: Path) -> Path:
    data = workdir / "data"
    data.mkdir()
    (data / "faq.yml").write_text(nlu_faq(k), encoding="utf-8")
    (data / "behaviour.yml").write_text(nlu_behaviour(k), encoding="utf-8")
    cmd = [str(Path(sys.executable).with_name("rasa")), "train", "nlu", "--config", "config.yml",
           "--nlu", str(data), "--domain", "domain", "--out", str(workdir / "models"),
           "--fixed-model-name", "tune"]
    subprocess.run(cmd, cwd=REPO / "bot", check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return workdir / "models" / "tune.tar.gz"


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    os.chdir(REPO / "bot")
    from rasa.core.agent import Agent  # noqa: PLC0415

    agent = Agent.load(str(model))
    return [await agent.parse_message(t) for t in texts]


def outcome(parsed: dict, gold: str, intent_t: float, faq_t: float) -> str:
    ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
    top = ranking[0] if ranking else {"name": None, "confidence": 0.0}
    if top["confidence"] < intent_t:
        return "fallback"
    if top["name"] == "faq":
        resp = parsed.get("response_selector", {}).get("faq", {}).get("response", {})
        if resp.get("confidence", 0.0) < faq_t:
            return "fallback"
        predicted = (resp.get("intent_response_key") or "faq/").split("/", 1)[1]
    else:
        predicted = top["name"]
    return "correct" if predicted == gold else "wrong"


def main() -> int:
    k, held = split(load())
    workdir = Path(tempfile.mkdtemp(prefix="tune-"))
    try:
        print(f"Training on {sum(len(t.examples) for t in k.topics.values())} topic examples, "
              f"holding out {len(held)} ...", flush=True)
        model = train(k, workdir)
        parsed = asyncio.run(parse_all(model, [t for t, _ in held]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    grid_i = [round(x * 0.05, 2) for x in range(0, 19)]
    grid_f = [round(x * 0.05, 2) for x in range(0, 19)]
    results = []
    for it in grid_i:
        for ft in grid_f:
            counts = defaultdict(int)
            for p, (_, gold) in zip(parsed, held):
                counts[outcome(p, gold, it, ft)] += 1
            results.append((counts["correct"] - counts["wrong"], it, ft, dict(counts)))
    results.sort(key=lambda r: (-r[0], r[1], r[2]))
    base = next(r for r in results if r[1] == 0 and r[2] == 0)
    best = results[0]
    print(f"\nNo fallback at all: {base[3]}")
    print("Best thresholds (utility = correct - wrong):")
    for score, it, ft, counts in results[:8]:
        print(f"  intent {it:.2f}  faq {ft:.2f}  utility {score:4d}  {counts}")
    print(json.dumps({"intent_threshold": best[1], "faq_min_confidence": best[2], "counts": best[3],
                      "held_out": len(held)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
