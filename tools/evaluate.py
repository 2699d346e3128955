"""Topic accuracy of the running assistant, next to a TF-IDF baseline.

Every message of an evaluation file (the format of shared/eval/sample.yml)
goes through the chat API in a new conversation; the reply's topic is the
topic of its first bot message that carries one (CONTRACT.md). The same
messages also go through a TF-IDF nearest-example baseline built from
knowledge/. Prints overall, per-topic and per-style accuracy and the
confusions, and writes everything as JSON under DATA_DIR/eval/.

Usage: python tools/evaluate.py [EVAL_FILE] [--api-url URL]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from knowledge_loader import REPO, load  # noqa: E402

DEFAULT_EVAL = REPO.parent / "shared" / "eval" / "sample.yml"
WORD = re.compile(r"\w+", re.UNICODE)


class TfidfNearestExample:
    """Cosine similarity over TF-IDF word uni- and bigrams; the nearest example's topic wins."""

    def __init__(self, labelled: list[tuple[str, str]]):
        self.labels = [label for _, label in labelled]
        docs = [self._terms(text) for text, _ in labelled]
        df: Counter = Counter()
        for terms in docs:
            df.update(set(terms))
        n = len(docs)
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}
        self.vectors = [self._vector(terms) for terms in docs]

    @staticmethod
    def _terms(text: str) -> list[str]:
        words = WORD.findall(text.lower())
        return words + [f"{a} {b}" for a, b in zip(words, words[1:])]

    def _vector(self, terms: list[str]) -> dict[str, float]:
        counts = Counter(terms)
        vec = {t: c * self.idf.get(t, 0.0) for t, c in counts.items() if t in self.idf}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def predict(self, text: str) -> str | None:
        query = self._vector(self._terms(text))
        best, best_score = None, 0.0
        for vec, label in zip(self.vectors, self.labels):
            score = sum(w * vec.get(t, 0.0) for t, w in query.items())
            if score > best_score:
                best, best_score = label, score
        return best


def baseline_from_knowledge() -> TfidfNearestExample:
    k = load()
    labelled = [(e, t.id) for t in k.topics.values() for e in t.examples]
    labelled += [(e, t.id) for t in k.behaviours.values() for e in t.examples]
    labelled += [(e, h.topic) for h in k.helpers.values() if h.topic for e in h.examples]
    return TfidfNearestExample(labelled)


def reply_topics(messages: list[dict]) -> list[str]:
    return [m["topic"] for m in messages if m.get("sender") == "bot" and m.get("topic")]


async def post(client: httpx.AsyncClient, url: str, body: dict) -> dict:
    """POST, waiting out rate limits (the API limits one client's pace)."""
    for _ in range(30):
        resp = await client.post(url, json=body)
        if resp.status_code == 429:
            await asyncio.sleep(float(resp.headers.get("Retry-After", "1")))
            continue
        return resp.raise_for_status().json()
    raise RuntimeError(f"rate limited 30 times in a row at {url}")


async def ask(client: httpx.AsyncClient, text: str) -> tuple[list[str], list[dict]]:
    conv = await post(client, "/api/v1/conversations", {"locale": "sv"})
    reply = await post(client, f"/api/v1/conversations/{conv['conversation_id']}/messages", {"text": text})
    messages = reply["messages"]
    return reply_topics(messages), messages


def mask_like_gateway(text: str) -> tuple[str, bool]:
    """The baseline sees what the bot sees: text with personnummer masked."""
    sys.path.insert(0, str(REPO / "api"))
    from mjolby import pii  # noqa: PLC0415

    result = pii.mask(text)
    masked, count = (result.text, result.count) if hasattr(result, "text") else result
    return masked, count > 0


def accuracy(rows: list[dict], key: str) -> float:
    return sum(r[key] for r in rows) / len(rows) if rows else 0.0


def breakdown(rows: list[dict], field: str) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r[field]].append(r)
    return {
        g: {"n": len(rs), "assistant": accuracy(rs, "correct"), "baseline": accuracy(rs, "baseline_correct")}
        for g, rs in sorted(groups.items())
    }


async def run(eval_file: Path, api_url: str, concurrency: int) -> dict:
    items = yaml.safe_load(eval_file.read_text(encoding="utf-8"))["items"]
    baseline = baseline_from_knowledge()
    sem = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:

        async def one(item: dict) -> dict:
            async with sem:
                topics, messages = await ask(client, item["text"])
            masked, had_pnr = mask_like_gateway(item["text"])
            base = baseline.predict(masked)
            base_topics = ["sensitive_data_shared", base] if had_pnr else [base]
            got = topics[0] if topics else None
            row = {
                "text": item["text"],
                "style": item.get("style", "unknown"),
                "expect": item["expect"],
                "also": item.get("also"),
                "got": got,
                "topics": topics,
                "correct": got == item["expect"],
                "baseline": base_topics[0],
                "baseline_correct": base_topics[0] == item["expect"],
                "reply": " | ".join(m["text"] for m in messages if m.get("sender") == "bot")[:300],
            }
            if item.get("also"):
                row["also_correct"] = item["also"] in topics[1:]
                row["baseline_also_correct"] = item["also"] in base_topics[1:]
            return row

        rows = await asyncio.gather(*(one(item) for item in items))
    confusions = Counter((r["expect"], r["got"]) for r in rows if not r["correct"])
    also_rows = [r for r in rows if r.get("also")]
    return {
        "file": str(eval_file),
        "at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "n": len(rows),
        "accuracy": accuracy(rows, "correct"),
        "baseline_accuracy": accuracy(rows, "baseline_correct"),
        "second_topic_accuracy": accuracy(also_rows, "also_correct") if also_rows else None,
        "baseline_second_topic_accuracy": accuracy(also_rows, "baseline_also_correct") if also_rows else None,
        "by_style": breakdown(rows, "style"),
        "by_topic": breakdown(rows, "expect"),
        "confusions": [{"expected": e, "got": g, "count": c} for (e, g), c in confusions.most_common()],
        "rows": rows,
    }


def report(result: dict) -> None:
    pct = lambda x: f"{100 * x:5.1f}%"  # noqa: E731
    print(f"\nEvaluation of {result['n']} messages from {result['file']}")
    print(f"  assistant (chat API):      {pct(result['accuracy'])}")
    print(f"  baseline (TF-IDF nearest): {pct(result['baseline_accuracy'])}")
    if result["second_topic_accuracy"] is not None:
        print(f"  second topic after a masked personnummer: assistant {pct(result['second_topic_accuracy'])}, "
              f"baseline {pct(result['baseline_second_topic_accuracy'])}")
    print("\nBy style:                 n  assistant  baseline")
    for style, s in result["by_style"].items():
        print(f"  {style:<20} {s['n']:>4}  {pct(s['assistant'])}     {pct(s['baseline'])}")
    print("\nBy topic (below 100% only):")
    for topic, s in result["by_topic"].items():
        if s["assistant"] < 1:
            print(f"  {topic:<42} {s['n']:>3}  {pct(s['assistant'])}  baseline {pct(s['baseline'])}")
    print("\nConfusions (expected -> got):")
    for c in result["confusions"]:
        print(f"  {c['expected']} -> {c['got']} ({c['count']})")
    for r in result["rows"]:
        if not r["correct"]:
            print(f"    [{r['style']}] {r['text'][:90]!r} -> {r['got']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_file", nargs="?", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--api-url", default=f"http://127.0.0.1:{os.environ.get('API_PORT', '8000')}")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if not args.eval_file.exists():
        print(f"No evaluation file at {args.eval_file}", file=sys.stderr)
        return 2
    result = asyncio.run(run(args.eval_file, args.api_url, args.concurrency))
    report(result)
    out_dir = Path(os.environ.get("DATA_DIR", REPO / "var")) / "eval"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"eval-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
