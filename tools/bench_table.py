"""Figures of one benchmark run and the table that puts old and new side by side."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Callable

PATHS = {"api": "chat API", "rasa": "Rasa REST"}


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    def merge(self, other: "Result") -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed

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


Row = tuple[str, Callable[[dict], float | None], str | None, float | None]


def _get(*keys: str) -> Callable[[dict], float | None]:
    def read(figures: dict):
        value = figures
        for key in keys:
            if not isinstance(value, dict) or value.get(key) is None:
                return None
            value = value[key]
        return value
    return read


def rows(args) -> list[Row]:
    out: list[Row] = [
        ("NLU CPU per message, median (ms)", _get("nlu_cpu", "median_ms"), "<=", 10),
        ("NLU CPU per message, p95 (ms)", _get("nlu_cpu", "p95_ms"), None, None),
    ]
    for path in ["api", "rasa"] if args.rasa else ["api"]:
        api = path == "api"
        out += [
            (f"Steady {args.rate:g} msg/s via {PATHS[path]}: p50 (ms)", _get(f"steady:{path}", "p50_ms"), None, None),
            ("  p95 (ms)", _get(f"steady:{path}", "p95_ms"), "<=" if api else None, 150 if api else None),
            ("  p99 (ms)", _get(f"steady:{path}", "p99_ms"), None, None),
            ("  errors", _get(f"steady:{path}", "errors"), "<=" if api else None, 0 if api else None),
            (f"Saturation, {args.citizens} citizens via {PATHS[path]} (msg/s)", _get(f"saturation:{path}", "msgs_per_s"),
             ">=" if api else None, 60 if api else None),
            ("  p95 (ms)", _get(f"saturation:{path}", "p95_ms"), None, None),
            ("  errors", _get(f"saturation:{path}", "errors"), "<=" if api else None, 0 if api else None),
        ]
    out += [
        ("Model size (MB)", _get("model_mb"), "<=", 50),
        ("Full retrain (s, from its training)", _get("retrain_s"), "<=", 180),
    ]
    return out


def _fmt(value: float | None) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}"


def print_table(figures: dict, args) -> None:
    old, new = figures.get("old"), figures["new"]
    title = f"{old['name']} against new" if old else "new"
    print(f"\nBenchmark: {title} ({args.rounds} x {args.seconds:g} s per phase and target, "
          f"{args.per_citizen} messages per conversation)")
    header = f"{'':<50} {'old':>9} {'new':>9} {'new/old':>8}   {'target':<9} new meets"
    print(header)
    print("-" * len(header))
    for label, read, op, target in rows(args):
        o, n = (read(old) if old else None), read(new)
        ratio = f"x{n / o:.2f}" if o and n is not None and o == o and n == n else ""
        goal = f"{op} {_fmt(target)}" if op else ""
        met = ""
        if op and n is not None and n == n:
            met = "yes" if (n <= target if op == "<=" else n >= target) else "NO"
        print(f"{label:<50} {_fmt(o):>9} {_fmt(n):>9} {ratio:>8}   {goal:<9} {met}")
    for fig in filter(None, [old, new]):
        print(f"  {fig['name']}: training time {fig.get('retrain_source')}")
        steady = fig.get("steady:api") or {}
        print(f"  {fig['name']}: steady achieved {_fmt(steady.get('msgs_per_s'))} msg/s "
              f"over {steady.get('messages', 0)} answered messages")
