"""Throughput and latency of the set-ups of docs/capacity.md, side by side in one run.

  Rasa alone       Rasa's REST webhook of the embedded default, no API in front
  embedded         the embedded default (scripts/start.sh: one API, one Rasa, SQLite)
  cluster, 1 Rasa  scripts/cluster.sh with RASA_REPLICAS=1 (HAProxy, 2 APIs, PostgreSQL, Redis)
  cluster, 2 Rasa  the same with RASA_REPLICAS=2

Each set-up runs alone on the machine, one after the other, with the phases of
tools/bench.py: a steady RATE messages/s (p50/p95/p99) and saturation with
CITIZENS citizens in a closed loop (messages/s). During saturation it reads
the CPU time of the set-up's processes from /proc and prints how many cores
each part used: the part that uses the most is where the cores run out first.

The cluster set-ups use the machine's PostgreSQL (databases mjolby_bench,
mjolby_bench_tracker) and Redis, whose CPU is counted whoever causes it.

Runs in the bot's environment (aiohttp, as tools/bench.py). Usage: python tools/bench_cluster.py [--seconds 30] [--rate 20] [--citizens 50]
                                     [--setups rasa,embedded,cluster1,cluster2] [--json FILE]
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import MESSAGES, Target, saturation, steady  # noqa: E402
from instances import NOT_INHERITED, REPO, Running, trained  # noqa: E402

SETUPS = {
    "rasa": "Rasa alone",
    "embedded": "embedded default",
    "cluster1": "cluster, 1 Rasa replica",
    "cluster2": "cluster, 2 Rasa replicas",
}
# Which part of the product a process is, by its command line.
PARTS = [("rasa_sdk", "actions"), ("rasa run", "Rasa"), ("uvicorn", "API"), ("haproxy", "proxy"),
         ("postgres", "PostgreSQL"), ("redis-server", "Redis"), ("logging_setup", "log writers"),
         ("bench_cluster", "load client")]
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Endpoint:
    """What tools/bench.py's Target needs of an instance."""
    label: str
    name: str
    api_url: str
    rasa_url: str


def cpu_by_process(marker: str) -> dict[int, tuple[str, float]]:
    """(part, CPU seconds so far) of every process of the set-up under test: those
    whose environment holds `marker` (its data folder), this load client, and
    PostgreSQL and Redis, which are the machine's and counted whoever uses them."""
    used: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            part = next((name for needle, name in PARTS if needle in cmdline), None)
            ours = part in ("PostgreSQL", "Redis") or int(entry.name) == os.getpid() \
                or marker.encode() in (entry / "environ").read_bytes()
        except OSError:
            continue
        if part and ours:
            used[int(entry.name)] = (part, (int(fields[11]) + int(fields[12])) / TICKS)
    return used


def cores_by_part(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]],
                  elapsed: float) -> dict[str, float]:
    """Cores each part used between two readings (processes alive at both)."""
    cores: dict[str, float] = {}
    for pid, (part, seconds) in after.items():
        if pid in before:
            cores[part] = cores.get(part, 0.0) + (seconds - before[pid][1]) / elapsed
    return {k: round(v, 2) for k, v in sorted(cores.items(), key=lambda kv: -kv[1]) if v >= 0.01}


async def measure(target: Target, texts: list[str], args, marker: str) -> dict:
    for n in range(0, 20, 4):  # warm-up, not measured
        conv = await target.new_conversation()
        for text in texts[n:n + 4]:
            await target.send(conv, text)
    calm = await steady(target, itertools.cycle(texts), args.rate, args.seconds, args.per_citizen, args.pause)
    before, began = cpu_by_process(marker), time.monotonic()
    busy = await saturation(target, itertools.cycle(texts), args.citizens, args.seconds, args.per_citizen)
    after, elapsed = cpu_by_process(marker), time.monotonic() - began
    return {"steady": calm.summary(), "saturation": busy.summary(), "cores": cores_by_part(before, after, elapsed)}


async def run_target(endpoint: Endpoint, path: str, texts: list[str], args, marker: str) -> dict:
    # The same client as tools/bench.py, so that the figures compare.
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30),
                                     connector=aiohttp.TCPConnector(limit=300)) as client:
        return await measure(Target(endpoint, path, client), texts, args, marker)  # type: ignore[arg-type]


def cluster_env(args, replicas: int, root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(
        CLUSTER_DIR=str(root), RASA_REPLICAS=str(replicas), CLUSTER_DB="mjolby_bench", CLUSTER_REDIS_DB="4",
        CLUSTER_PROXY_PORT=str(args.port), CLUSTER_API_PORT_BASE=str(args.port + 1),
        CLUSTER_RASA_PORT_BASE=str(args.port + 5), CLUSTER_ACTIONS_PROXY_PORT=str(args.port + 9),
        CLUSTER_ACTIONS_PORT_BASE=str(args.port + 10), ENVIRONMENT="development", LOG_LEVEL="WARNING",
        RATE_LIMIT_CLIENT_PER_MINUTE="0", RATE_LIMIT_CLIENT_READS_PER_MINUTE="0",
        RATE_LIMIT_CONVERSATION_PER_MINUTE="100000", CLUSTER_MODEL=str(args.model),
    )
    return env


def run_cluster(args, replicas: int, texts: list[str]) -> dict:
    root = Path(tempfile.mkdtemp(prefix="mjolby-bench-cluster-"))
    env = cluster_env(args, replicas, root)
    script = str(REPO / "scripts" / "cluster.sh")
    print(f"Starting the cluster with {replicas} Rasa replica(s) on port {args.port}", file=sys.stderr)
    try:
        done = subprocess.run([script, "start"], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"the cluster did not start:\n{done.stderr[-3000:]}")
        endpoint = Endpoint("cluster", SETUPS[f"cluster{replicas}"], f"http://127.0.0.1:{args.port}",
                            f"http://127.0.0.1:{args.port + 5}")
        return asyncio.run(run_target(endpoint, "api", texts, args, str(root)))
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def print_table(figures: dict[str, dict], args) -> None:
    print(f"\nSteady {args.rate:g} msg/s and saturation with {args.citizens} citizens, "
          f"{args.seconds:g} s each, on {os.cpu_count()} cores")
    head = f"{'set-up':<26} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6} {'sat. msg/s':>10} {'errors':>6}  cores used at saturation"
    print(head)
    print("-" * len(head))
    for key, fig in figures.items():
        calm, busy = fig["steady"], fig["saturation"]
        cores = ", ".join(f"{part} {used:.2f}" for part, used in fig["cores"].items())
        print(f"{SETUPS[key]:<26} {calm['p50_ms']:>7.0f} {calm['p95_ms']:>7.0f} {calm['errors']:>6} "
              f"{busy['msgs_per_s']:>10.1f} {busy['errors']:>6}  {cores}")
    print("\nGoal: at least 70 msg/s at saturation with 2 replicas, 0 errors. The part with the most"
          "\ncores at saturation is where the machine runs out first.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--rate", type=float, default=20.0, help="steady load, messages per second")
    parser.add_argument("--per-citizen", type=int, default=3, help="messages per conversation")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between one citizen's messages (steady)")
    parser.add_argument("--citizens", type=int, default=50, help="closed-loop citizens at saturation")
    parser.add_argument("--setups", default=",".join(SETUPS), help="comma separated: " + ", ".join(SETUPS))
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_CLUSTER_PORT", "18300")),
                        help="first port (the embedded default and then the cluster use the ones above it)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.setups.split(",") if s.strip()]
    unknown = set(chosen) - set(SETUPS)
    if unknown:
        parser.error(f"unknown set-up(s): {', '.join(sorted(unknown))}")

    items = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))["items"]
    texts = [item["text"] for item in items]
    random.Random(7).shuffle(texts)
    new = trained("new", REPO, Path(os.environ.get("DATA_DIR") or REPO / "var"), args.port)
    args.model = new.model
    figures: dict[str, dict] = {}
    embedded = [s for s in chosen if s in ("rasa", "embedded")]
    if embedded:
        with Running([new]):
            for key in embedded:
                endpoint = Endpoint("new", SETUPS[key], new.api_url, new.rasa_url)
                print(f"Measuring {SETUPS[key]}", file=sys.stderr)
                figures[key] = asyncio.run(run_target(endpoint, "rasa" if key == "rasa" else "api", texts, args,
                                                      str(new.data_dir)))
    for key in chosen:
        if key.startswith("cluster"):
            figures[key] = run_cluster(args, int(key[-1]), texts)
    figures = {key: figures[key] for key in chosen}
    print_table(figures, args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
