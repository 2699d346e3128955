"""How long publishing takes: a full retrain, a retrain after one added example,
and the held-out accuracy of the result. Prints a table (`make bench-train`).

A full retrain starts from an empty Rasa component cache (the sentence
embeddings of examples stay cached, as on any machine that has trained once);
the added-example retrain reuses that cache, as the publish worker does.
Run with the API environment and BOT_PY set (scripts/common.sh).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
HELDOUT = REPO / "tools/data/bench_messages.yml"
REGRESSION = REPO / "knowledge/regression/messages.yml"
# The example the second training adds (a new way to ask about bygglov).
ADDED_TOPIC, ADDED_EXAMPLE = "bygglov", "måste jag fråga kommunen innan jag bygger en friggebod på tomten"


def build(knowledge: Path, out: Path) -> None:
    for part in ("data", "domain"):
        shutil.copytree(REPO / "bot" / part, out / "bot" / part)
    subprocess.run([sys.executable, str(REPO / "tools/generate.py"), "--knowledge", str(knowledge), "--out", str(out)],
                   check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO / "api")})


def train(bot_python: Path, out: Path, cache: Path) -> float:
    started = time.monotonic()
    subprocess.run([str(bot_python.parent / "rasa"), "train", "--config", "config.yml",
                    "--domain", str(out / "bot/domain"), "--data", str(out / "bot/data"), "--out", str(out),
                    "--fixed-model-name", "model"], cwd=REPO / "bot", check=True, capture_output=True,
                   env={**os.environ, "RASA_CACHE_DIRECTORY": str(cache), "RASA_TELEMETRY_ENABLED": "false"})
    return time.monotonic() - started


def accuracy(bot_python: Path, model: Path, out: Path) -> tuple[float, int, int]:
    result = out / "evaluation.json"
    subprocess.run([str(bot_python), str(REPO / "tools/model_lab.py"), "--model", str(model), "--heldout",
                    str(HELDOUT), "--regression", str(REGRESSION), "--out", str(result)],
                   check=True, capture_output=True)
    rows = json.loads(result.read_text(encoding="utf-8"))["candidate"]
    held, regression = rows["heldout"], rows["regression"]
    right = sum(r["predicted"] == r["expect"] for r in held)
    return right / len(held), sum(r["predicted"] == r["expect"] for r in regression), len(regression)


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    bot_python = Path(os.environ.get("BOT_PY", ""))
    if not bot_python.is_file():
        print("BOT_PY must point at the bot environment's python (source scripts/common.sh)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        root = Path(tmp)
        cache = root / "rasa-cache"
        build(REPO / "knowledge", root / "full")
        print("full retrain (empty component cache) ...", flush=True)
        full = train(bot_python, root / "full", cache)

        knowledge = root / "knowledge"
        shutil.copytree(REPO / "knowledge", knowledge)
        topic_file = knowledge / f"{ADDED_TOPIC}.yml"
        topic = yaml.safe_load(topic_file.read_text(encoding="utf-8"))
        topic["examples"].append(ADDED_EXAMPLE)
        topic_file.write_text(yaml.safe_dump(topic, allow_unicode=True, sort_keys=False), encoding="utf-8")
        build(knowledge, root / "plus")
        print("retrain after one added example ...", flush=True)
        plus = train(bot_python, root / "plus", cache)
        share, kept, regression = accuracy(bot_python, root / "plus/model.tar.gz", root / "plus")

    print()
    print(f"{'full retrain':<38}{full:8.1f} s   (target: under 180 s)")
    print(f"{'retrain after one added example':<38}{plus:8.1f} s   (target: under 60 s)")
    print(f"{'held-out accuracy':<38}{share * 100:8.1f} %   ({HELDOUT.relative_to(REPO)})")
    print(f"{'regression set':<38}{kept:>6} of {regression} right")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
