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
    python tools/tune_fallback.py --config other.yml   (compare a pipeline change)
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
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


def train(k, workdir: Path, config: Path) -> Path:
    import hashlib

    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    fingerprint = hashlib.sha256(
        (nlu_faq(k) + nlu_behaviour(k) + config.read_text()).encode()
    ).hexdigest()[:16]
    model = workdir / "models" / f"tune-{fingerprint}.tar.gz"
    if model.exists():
        return model
    (data / "faq.yml").write_text(nlu_faq(k), encoding="utf-8")
    (data / "behaviour.yml").write_text(nlu_behaviour(k), encoding="utf-8")
    cmd = [str(Path(sys.executable).with_name("rasa")), "train", "nlu", "--config", str(config),
           "--nlu", str(data), "--domain", "domain", "--out", str(workdir / "models"),
           "--fixed-model-name", f"tune-{fingerprint}"]
    subprocess.run(cmd, cwd=REPO / "bot", check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return model


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    os.chdir(REPO / "bot")
    sys.path.insert(0, str(REPO / "bot"))  # custom components live there
    import logging  # noqa: PLC0415

    from rasa.core.agent import Agent  # noqa: PLC0415
    from rasa.utils.log_utils import configure_structlog  # noqa: PLC0415

    configure_structlog(logging.WARNING)  # not one debug line per parsed example

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
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO / "bot/config.yml",
                        help="Rasa config to evaluate (default: the assistant's own)")
    args = parser.parse_args()
    k, held = split(load())
    # The held-out model is kept (keyed by its inputs) so a rerun only parses.
    workdir = Path(os.environ.get("DATA_DIR", REPO / "var")) / "tune"
    print(f"Training on {sum(len(t.examples) for t in k.topics.values())} topic examples, "
          f"holding out {len(held)} ...", flush=True)
    model = train(k, workdir, args.config.resolve())
    parsed = asyncio.run(parse_all(model, [t for t, _ in held]))
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
    print(f"\nThe curve at intent threshold {best[1]:.2f}:")
    for score, it, ft, counts in sorted((r for r in results if r[1] == best[1]), key=lambda r: r[2]):
        print(f"  faq {ft:.2f}  correct {counts.get('correct', 0):4d}  wrong {counts.get('wrong', 0):4d}  "
              f"fallback {counts.get('fallback', 0):4d}  utility {score:4d}")
    print(json.dumps({"intent_threshold": best[1], "faq_min_confidence": best[2], "counts": best[3],
                      "held_out": len(held)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
