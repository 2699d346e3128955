"""Latency, throughput and NLU cost of this checkout next to an earlier version.

Starts "new" (this checkout) and "old" (BASELINE_REF, today's pipeline by
default; see tools/instances.py) on their own ports and runs the same phases
on both, in alternating order, through the chat API (and with --rasa straight
to Rasa's REST webhook too):
  steady      RATE messages per second in total (open loop: sent on schedule
              whether or not earlier ones are answered); every citizen opens a
              new conversation and sends PER_CITIZEN messages PAUSE s apart
  saturation  CITIZENS citizens, each sending its next message as soon as the
              last is answered, in a new conversation every PER_CITIZEN messages
Messages come from tools/data/bench_messages.yml, which the models were not
trained on. Also measures the CPU time of each model's NLU per message
(tools/nlu_cpu.py) and reads model sizes and training times. Prints one table
with old, new, their ratio and the targets.

Usage: python tools/bench.py [--seconds 40] [--rounds 2] [--rate 20] [--citizens 50] [--rasa]
                             [--baseline-ref REF | --no-baseline] [--json FILE]
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_table import Result, print_table  # noqa: E402
from instances import REPO, Instance, Running, add_arguments, instances_for, model_size_mb, retrain_seconds  # noqa: E402

MESSAGES = REPO / "tools" / "data" / "bench_messages.yml"


class Target:
    """One instance through one path: the chat API or Rasa's REST webhook."""

    def __init__(self, inst: Instance, path: str, client: aiohttp.ClientSession):
        self.inst, self.path, self.client = inst, path, client
        self.key = f"{inst.label}:{path}"

    async def _post(self, url: str, body: dict):
        async with self.client.post(url, json=body) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def new_conversation(self) -> str:
        if self.path == "rasa":
            return "bench-" + uuid.uuid4().hex  # Rasa opens a tracker on the first message
        return (await self._post(f"{self.inst.api_url}/api/v1/conversations", {"locale": "sv"}))["conversation_id"]

    async def send(self, conversation: str, text: str) -> None:
        if self.path == "rasa":
            replied = await self._post(f"{self.inst.rasa_url}/webhooks/rest/webhook",
                                       {"sender": conversation, "message": text})
        else:
            replied = (await self._post(f"{self.inst.api_url}/api/v1/conversations/{conversation}/messages",
                                        {"text": text}))["messages"]
        if not replied:
            raise RuntimeError("no reply")


async def timed_send(target: Target, conv: str, text: str, result: Result) -> None:
    start = time.perf_counter()
    try:
        await target.send(conv, text)
    except Exception:  # noqa: BLE001 - counted, the run goes on
        result.errors += 1
        return
    result.latencies.append(time.perf_counter() - start)


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.perf_counter()))


async def steady(target: Target, texts, rate: float, seconds: float, per_citizen: int, pause: float) -> Result:
    """Open loop at `rate` msg/s from the first second: citizens already under way
    at the start send only their remaining messages, so there is no ramp-up."""
    result, gap = Result(), per_citizen / rate
    begin = time.perf_counter() + 0.2

    async def citizen(k: int) -> None:
        dues = [d for d in (k * gap + j * pause for j in range(per_citizen)) if 0 <= d < seconds]
        if not dues:
            return
        await sleep_until(begin + dues[0])
        try:
            conv = await target.new_conversation()
        except Exception:  # noqa: BLE001
            result.errors += len(dues)
            return
        sends = []
        for due in dues:
            await sleep_until(begin + due)
            sends.append(asyncio.create_task(timed_send(target, conv, next(texts), result)))
        await asyncio.gather(*sends)

    first = -math.ceil((per_citizen - 1) * pause / gap)
    await asyncio.gather(*(citizen(k) for k in range(first, math.ceil(seconds / gap))))
    result.elapsed = seconds
    return result


async def saturation(target: Target, texts, citizens: int, seconds: float, per_citizen: int) -> Result:
    result = Result()
    begin = time.perf_counter()

    async def citizen() -> None:
        while time.perf_counter() - begin < seconds:
            try:
                conv = await target.new_conversation()
            except Exception:  # noqa: BLE001
                result.errors += 1
                await asyncio.sleep(0.1)
                continue
            for _ in range(per_citizen):
                if time.perf_counter() - begin >= seconds:
                    break
                await timed_send(target, conv, next(texts), result)

    await asyncio.gather(*(citizen() for _ in range(citizens)))
    result.elapsed = time.perf_counter() - begin
    return result


def nlu_cpu(inst: Instance) -> dict | None:
    """tools/nlu_cpu.py in the instance's own bot environment, on its own model."""
    bot = inst.repo / "bot"
    done = subprocess.run(
        [inst.bot_python(), str(REPO / "tools" / "nlu_cpu.py"), str(inst.model.resolve()), str(MESSAGES)],
        cwd=bot, env={**os.environ, "PYTHONPATH": str(bot)}, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        print(f"NLU CPU of {inst.name} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(lines[-1])


async def load_phases(instances: list[Instance], texts: list[str], args) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {"steady": {}, "saturation": {}}
    # aiohttp, not httpx: the load runs on the same two cores as what it measures,
    # and httpx needed about four times aiohttp's CPU per request here.
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30),
                                     connector=aiohttp.TCPConnector(limit=300)) as client:
        targets = [Target(i, path, client) for path in (["api", "rasa"] if args.rasa else ["api"]) for i in instances]
        for t in targets:  # warm-up: model, caches and connections, not measured
            for n in range(0, 20, 4):
                conv = await t.new_conversation()
                for text in texts[n:n + 4]:
                    await t.send(conv, text)
        for phase in ("steady", "saturation"):
            merged = {t.key: Result() for t in targets}
            for round_no in range(args.rounds):
                # Alternate the order so that neither always runs first or on a fuller database.
                for t in targets if round_no % 2 == 0 else targets[::-1]:
                    print(f"  {phase} round {round_no + 1}: {t.inst.name} via {t.path}", file=sys.stderr)
                    same_texts = itertools.cycle(texts)  # both get the same messages in the same order
                    if phase == "steady":
                        r = await steady(t, same_texts, args.rate, args.seconds, args.per_citizen, args.pause)
                    else:
                        r = await saturation(t, same_texts, args.citizens, args.seconds, args.per_citizen)
                    merged[t.key].merge(r)
            out[phase] = {key: r.summary() for key, r in merged.items()}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="length of each run of a phase")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each phase per target, alternating order")
    parser.add_argument("--rate", type=float, default=20.0, help="steady load, messages per second")
    parser.add_argument("--per-citizen", type=int, default=3, help="messages per conversation")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between one citizen's messages (steady)")
    parser.add_argument("--citizens", type=int, default=50, help="closed-loop citizens at saturation")
    parser.add_argument("--rasa", action="store_true", help="also measure straight to Rasa's REST webhook")
    parser.add_argument("--no-nlu-cpu", dest="nlu_cpu", action="store_false", help="skip the NLU CPU figure")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "18200")),
                        help="API port of new (+1 Rasa, +2 actions); old uses port + 10")
    parser.add_argument("--old-train-log", type=Path, action="append", default=[],
                        help="a training log of the old model, for its training time")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    add_arguments(parser)
    args = parser.parse_args()

    items = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))["items"]
    texts = [item["text"] for item in items]
    random.Random(7).shuffle(texts)
    instances = instances_for(args, args.port)
    runs = 2 * args.rounds * len(instances) * (2 if args.rasa else 1)
    print(f"Benchmark: {len(texts)} held-out messages, {runs} runs of {args.seconds:g} s "
          f"(about {(runs * (args.seconds + 8) + 240) / 60:.0f} minutes in all)", file=sys.stderr)

    figures: dict = {i.label: {"name": i.name} for i in instances}
    for inst in instances:
        figures[inst.label]["model_mb"] = model_size_mb(inst.model)
        logs = args.old_train_log if inst.label == "old" else []
        figures[inst.label]["retrain_s"], figures[inst.label]["retrain_source"] = retrain_seconds(inst, logs)
        if args.nlu_cpu:
            print(f"Measuring the NLU CPU time of {inst.name}", file=sys.stderr)
            figures[inst.label]["nlu_cpu"] = nlu_cpu(inst)
    with Running(instances):
        phases = asyncio.run(load_phases(instances, texts, args))
    for phase, by_key in phases.items():
        for key, summary in by_key.items():
            label, path = key.split(":")
            figures[label][f"{phase}:{path}"] = summary

    print_table(figures, args)
    out = args.json or REPO / "var" / "bench" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"settings": {k: str(v) for k, v in vars(args).items()}, "figures": figures},
                              indent=1, ensure_ascii=False))
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
