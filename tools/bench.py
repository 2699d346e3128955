"""Latency and throughput through the chat API and straight to Rasa.

Both targets get the same simulated citizens in the same run:
  steady      about RATE messages per second in total, spread over many
              conversations, each citizen pausing between messages (open loop:
              messages are sent on schedule whether or not earlier ones are done)
  saturation  N citizens, each sending its next message as soon as the last
              one is answered (closed loop)
Prints p50/p95/p99 latency, messages per second and errors for each, and the
ratio between the API and Rasa alone.

Usage: python tools/bench.py --api-url URL --rasa-url URL [--rate 20] [--seconds 30] [--citizens 20] [--rounds 2]
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from knowledge_loader import load  # noqa: E402


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    sent_at: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        lat = sorted(self.latencies)

        def pct(p: float) -> float:
            return 1000 * lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] if lat else float("nan")

        return {
            "messages": len(lat),
            "errors": self.errors,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
            "mean_ms": 1000 * statistics.fmean(lat) if lat else float("nan"),
            "msgs_per_s": len(lat) / self.elapsed if self.elapsed else 0.0,
        }


class Target:
    name = ""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def new_conversation(self) -> str:
        raise NotImplementedError

    async def send(self, conversation: str, text: str) -> None:
        raise NotImplementedError


class ApiTarget(Target):
    name = "chat API"

    async def new_conversation(self) -> str:
        resp = await self.client.post("/api/v1/conversations", json={})
        resp.raise_for_status()
        return resp.json()["conversation_id"]

    async def send(self, conversation: str, text: str) -> None:
        resp = await self.client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text})
        resp.raise_for_status()
        if not resp.json()["messages"]:
            raise RuntimeError("no reply")


class RasaTarget(Target):
    name = "Rasa REST"

    async def new_conversation(self) -> str:
        sender = "bench-" + uuid.uuid4().hex
        resp = await self.client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "/greet"})
        resp.raise_for_status()
        return sender

    async def send(self, conversation: str, text: str) -> None:
        resp = await self.client.post("/webhooks/rest/webhook", json={"sender": conversation, "message": text})
        resp.raise_for_status()
        if not resp.json():
            raise RuntimeError("no reply")


async def timed_send(target: Target, conv: str, text: str, result: Result) -> None:
    start = time.perf_counter()
    result.sent_at.append(start)
    try:
        await target.send(conv, text)
    except Exception:  # noqa: BLE001 - counted, the run goes on
        result.errors += 1
        return
    result.latencies.append(time.perf_counter() - start)


async def steady(target: Target, messages: list[str], rate: float, seconds: float,
                 per_citizen: int, pause: float) -> Result:
    """Open loop at `rate` msgs/s; each citizen sends `per_citizen` messages `pause` s apart."""
    result = Result()
    texts = itertools.cycle(messages)
    citizens_needed = int(rate * seconds / per_citizen) + 1
    interval = pause / 1.0  # each citizen: one message every `pause` seconds
    # Start a new citizen every per_citizen/rate seconds so the total is `rate`.
    start_gap = per_citizen / rate
    tasks: list[asyncio.Task] = []
    begin = time.perf_counter()

    async def citizen(offset: float) -> None:
        await asyncio.sleep(offset)
        try:
            conv = await target.new_conversation()
        except Exception:  # noqa: BLE001
            result.errors += per_citizen
            return
        sends = []
        for i in range(per_citizen):
            due = begin + offset + (i + 1) * interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if time.perf_counter() - begin > seconds + per_citizen * interval:
                break
            sends.append(asyncio.create_task(timed_send(target, conv, next(texts), result)))
        await asyncio.gather(*sends)

    for n in range(citizens_needed):
        tasks.append(asyncio.create_task(citizen(n * start_gap)))
    await asyncio.gather(*tasks)
    # Messages per second while every citizen slot is busy: after the ramp-up
    # (the first citizens' last messages) and before the last citizen starts.
    full_from, full_to = begin + per_citizen * interval, begin + seconds
    in_window = sum(1 for t in result.sent_at if full_from <= t < full_to)
    result.elapsed = len(result.latencies) * (full_to - full_from) / max(in_window, 1)
    return result


async def saturation(target: Target, messages: list[str], citizens: int, seconds: float) -> Result:
    result = Result()
    stop_at = time.perf_counter() + seconds
    texts = itertools.cycle(messages)

    async def citizen() -> None:
        conv = await target.new_conversation()
        sent = 0
        while time.perf_counter() < stop_at:
            if sent and sent % 10 == 0:
                conv = await target.new_conversation()  # a new citizen takes the seat
            await timed_send(target, conv, next(texts), result)
            sent += 1

    begin = time.perf_counter()
    await asyncio.gather(*(citizen() for _ in range(citizens)))
    result.elapsed = time.perf_counter() - begin
    return result


def sample_messages(n: int = 400, seed: int = 7) -> list[str]:
    k = load()
    pool = [e for t in k.topics.values() for e in t.examples]
    random.Random(seed).shuffle(pool)
    return pool[:n]


def line(name: str, s: dict) -> str:
    return (f"  {name:<10} p50 {s['p50_ms']:7.1f} ms  p95 {s['p95_ms']:7.1f} ms  p99 {s['p99_ms']:7.1f} ms  "
            f"{s['msgs_per_s']:6.1f} msg/s  errors {s['errors']}  (n={s['messages']})")


async def main_async(args) -> dict:
    messages = sample_messages()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    out: dict = {}
    async with httpx.AsyncClient(base_url=args.api_url, timeout=30, limits=limits) as api_client, \
            httpx.AsyncClient(base_url=args.rasa_url, timeout=30, limits=limits) as rasa_client:
        targets = [RasaTarget(rasa_client), ApiTarget(api_client)]
        # Warm both up so model and connection set-up are not measured.
        for t in targets:
            conv = await t.new_conversation()
            for text in messages[:10]:
                await t.send(conv, text)
        for phase in ("steady", "saturation"):
            merged = {t.name: Result() for t in targets}
            # Alternate the order (Rasa, API, API, Rasa, ...) so that neither
            # target always runs on a fresher or a fuller tracker store.
            for round_no in range(args.rounds):
                for t in (targets if round_no % 2 == 0 else targets[::-1]):
                    if phase == "steady":
                        r = await steady(t, messages, args.rate, args.seconds, args.per_citizen, args.pause)
                    else:
                        r = await saturation(t, messages, args.citizens, args.seconds)
                    total = merged[t.name]
                    total.latencies += r.latencies
                    total.errors += r.errors
                    total.elapsed += r.elapsed
            out[phase] = {name: r.summary() for name, r in merged.items()}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", default="http://127.0.0.1:8000")
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    parser.add_argument("--rate", type=float, default=20.0, help="steady load, messages per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--per-citizen", type=int, default=4)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between one citizen's messages")
    parser.add_argument("--citizens", type=int, default=20, help="closed-loop citizens at saturation")
    parser.add_argument("--rounds", type=int, default=2,
                        help="runs of each phase per target, in alternating order")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    out = asyncio.run(main_async(args))
    print(f"\nSteady load (~{args.rate:g} msg/s, {args.rounds} x {args.seconds:g} s, citizens pause {args.pause:g} s):")
    for name, s in out["steady"].items():
        print(line(name, s))
    r, a = out["steady"]["Rasa REST"], out["steady"]["chat API"]
    print(f"  API / Rasa: p50 x{a['p50_ms'] / r['p50_ms']:.2f}, p95 x{a['p95_ms'] / r['p95_ms']:.2f} "
          f"(gateway adds {a['p50_ms'] - r['p50_ms']:+.1f} ms at p50, {a['p95_ms'] - r['p95_ms']:+.1f} ms at p95)")
    print(f"\nSaturation ({args.citizens} citizens, closed loop, {args.rounds} x {args.seconds:g} s):")
    for name, s in out["saturation"].items():
        print(line(name, s))
    r, a = out["saturation"]["Rasa REST"], out["saturation"]["chat API"]
    print(f"  API / Rasa throughput: x{a['msgs_per_s'] / r['msgs_per_s']:.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
        print(f"\nWrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
