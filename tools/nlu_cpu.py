"""CPU time of Rasa's NLU alone, per message, for one trained model.

Run with the bot environment's Python of the checkout the model comes from,
from its bot/ folder and with that folder on PYTHONPATH (custom components):

    cd bot && PYTHONPATH=. python ../tools/nlu_cpu.py MODEL MESSAGES_YML

Loads the model with rasa's Agent and parses every message of MESSAGES_YML
(the `items` format of tools/data/bench_messages.yml) with
`agent.parse_message`, timing each parse with time.process_time (CPU of the
whole process, every thread). Prints one JSON object: median, p95 and mean
milliseconds per message, and the seconds it took to load the model.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# As in service (scripts/start.sh): one TensorFlow thread each.
os.environ.setdefault("TF_INTRA_OP_PARALLELISM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TF_INTER_OP_PARALLELISM_THREADS", "1")
WARM_UP = 10


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def measure(model: str, texts: list[str]) -> dict:
    from rasa.core.agent import Agent  # noqa: PLC0415 - slow import, after the settings above
    from rasa.utils.log_utils import configure_structlog  # noqa: PLC0415

    # As `rasa run` does: no debug line per parse (its formatting would be timed too).
    logging.basicConfig(level=logging.WARNING)
    configure_structlog(logging.WARNING)
    began = time.perf_counter()
    agent = Agent.load(model)
    load_s = time.perf_counter() - began
    for text in texts[:WARM_UP]:  # first parses build lazy state
        await agent.parse_message(text)
    cpu_ms = []
    for text in texts:
        start = time.process_time()
        await agent.parse_message(text)
        cpu_ms.append(1000 * (time.process_time() - start))
    return {
        "model": model,
        "messages": len(cpu_ms),
        "median_ms": statistics.median(cpu_ms),
        "p95_ms": percentile(cpu_ms, 95),
        "mean_ms": statistics.fmean(cpu_ms),
        "load_s": load_s,
    }


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    import yaml  # noqa: PLC0415

    items = yaml.safe_load(Path(sys.argv[2]).read_text(encoding="utf-8"))["items"]
    result = asyncio.run(measure(sys.argv[1], [item["text"] for item in items]))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
