"""Topic accuracy of this checkout next to an earlier version and a TF-IDF baseline.

Starts "new" (this checkout) and "old" (BASELINE_REF, today's pipeline by
default; see tools/instances.py) on their own ports, each in a fresh data
folder. Every message of an evaluation file (the format of
shared/eval/sample.yml) goes to both through the chat API, each in a new
conversation; the reply's topic is the topic of its first bot message that
carries one (CONTRACT.md), the same for both versions. The same messages also
go through a TF-IDF nearest-example baseline built from knowledge/. Prints
overall, per-style and per-topic accuracy side by side, new's confusions, and
writes everything as JSON under DATA_DIR/eval/.

Usage: python tools/evaluate.py [EVAL_FILE] [--baseline-ref REF | --no-baseline] [--api-url URL]
  --api-url  evaluate an assistant that is already running there as "new"
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
from instances import Running, add_arguments, instances_for  # noqa: E402
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


async def ask(client: httpx.AsyncClient, api_url: str, text: str) -> tuple[list[str], list[dict]]:
    conv = await post(client, f"{api_url}/api/v1/conversations", {"locale": "sv"})
    reply = await post(client, f"{api_url}/api/v1/conversations/{conv['conversation_id']}/messages", {"text": text})
    messages = reply["messages"]
    return reply_topics(messages), messages


def mask_like_gateway(text: str) -> tuple[str, bool]:
    """The baseline sees what the bot sees: text with personnummer masked."""
    sys.path.insert(0, str(REPO / "api"))
    import mjolby_pii as pii  # noqa: PLC0415

    result = pii.mask(text)
    masked, count = (result.text, result.count) if hasattr(result, "text") else result
    return masked, count > 0




def accuracy(rows: list[dict], system: str, key: str = "correct") -> float:
    return sum(r[key][system] for r in rows) / len(rows) if rows else 0.0


def breakdown(rows: list[dict], field: str, systems: list[str]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r[field]].append(r)
    return {g: {"n": len(rs), **{s: accuracy(rs, s) for s in systems}} for g, rs in sorted(groups.items())}


async def run(eval_file: Path, assistants: dict[str, str], concurrency: int) -> dict:
    """assistants: system name -> chat API URL; every item goes to each of them."""
    items = yaml.safe_load(eval_file.read_text(encoding="utf-8"))["items"]
    baseline = baseline_from_knowledge()
    sem = asyncio.Semaphore(concurrency)
    systems = [*assistants, "tfidf"]
    async with httpx.AsyncClient(timeout=60) as client:

        async def answer(api_url: str, text: str) -> tuple[list[str], list[dict]]:
            async with sem:
                return await ask(client, api_url, text)

        async def one(item: dict) -> dict:
            replies = await asyncio.gather(*(answer(url, item["text"]) for url in assistants.values()))
            topics = {name: reply[0] for name, reply in zip(assistants, replies)}
            masked, had_pnr = mask_like_gateway(item["text"])
            base = baseline.predict(masked)
            topics["tfidf"] = ["sensitive_data_shared", base] if had_pnr else [base]
            got = {s: (topics[s][0] if topics[s] else None) for s in systems}
            row = {
                "text": item["text"], "style": item.get("style", "unknown"), "expect": item["expect"],
                "also": item.get("also"), "got": got, "topics": topics,
                "correct": {s: got[s] == item["expect"] for s in systems},
                "reply": {name: " | ".join(m["text"] for m in reply[1] if m.get("sender") == "bot")[:300]
                          for name, reply in zip(assistants, replies)},
            }
            if item.get("also"):
                row["also_correct"] = {s: item["also"] in topics[s][1:] for s in systems}
            return row

        rows = await asyncio.gather(*(one(item) for item in items))
    confusions = {s: Counter((r["expect"], r["got"][s]) for r in rows if not r["correct"][s]) for s in assistants}
    also_rows = [r for r in rows if r.get("also")]
    return {
        "file": str(eval_file),
        "at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "systems": systems,
        "n": len(rows),
        "accuracy": {s: accuracy(rows, s) for s in systems},
        "second_topic_accuracy": {s: accuracy(also_rows, s, "also_correct") for s in systems} if also_rows else None,
        "by_style": breakdown(rows, "style", systems),
        "by_topic": breakdown(rows, "expect", systems),
        "confusions": {s: [{"expected": e, "got": g, "count": c} for (e, g), c in conf.most_common()]
                       for s, conf in confusions.items()},
        "rows": rows,
    }


def report(result: dict, names: dict[str, str]) -> None:
    systems = result["systems"]
    names = {**names, "tfidf": "TF-IDF nearest"}
    pct = lambda x: f"{100 * x:5.1f}%"  # noqa: E731
    cols = lambda values: "".join(f"{v:>16}" for v in values)  # noqa: E731
    print(f"\nEvaluation of {result['n']} messages from {result['file']}")
    print(f"{'':<28}{'n':>5}{cols(names[s] for s in systems)}")
    print(f"{'overall':<28}{result['n']:>5}{cols(pct(result['accuracy'][s]) for s in systems)}")
    if result["second_topic_accuracy"]:
        print(f"{'second topic after a pnr':<28}{'':>5}{cols(pct(result['second_topic_accuracy'][s]) for s in systems)}")
    print("\nBy style:")
    for style, s in result["by_style"].items():
        print(f"  {style:<26}{s['n']:>5}{cols(pct(s[x]) for x in systems)}")
    print("\nBy topic (where an assistant is below 100 %):")
    for topic, s in result["by_topic"].items():
        if any(s[x] < 1 for x in systems if x != "tfidf"):
            print(f"  {topic:<26}{s['n']:>5}{cols(pct(s[x]) for x in systems)}")
    others = [s for s in systems if s not in ("new", "tfidf")]
    print("\nConfusions of new (expected -> got):")
    for c in result["confusions"].get("new", []):
        print(f"  {c['expected']} -> {c['got']} ({c['count']})")
    for r in result["rows"]:
        if not r["correct"]["new"]:
            also = "".join(f", {names[s]}: {r['got'][s]}" for s in others)
            print(f"    [{r['style']}] {r['text'][:80]!r} -> {r['got']['new']}{also}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_file", nargs="?", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--api-url", help="evaluate the assistant running there as new (nothing is started for it)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EVAL_PORT", "18220")),
                        help="API port of new (+1 Rasa, +2 actions); old uses port + 10")
    parser.add_argument("--concurrency", type=int, default=4, help="messages in flight per assistant")
    add_arguments(parser)
    args = parser.parse_args()
    if not args.eval_file.exists():
        print(f"No evaluation file at {args.eval_file}", file=sys.stderr)
        return 2
    started = instances_for(args, args.port, new=not args.api_url)
    with Running(started):
        assistants = {i.label: i.api_url for i in started}
        if args.api_url:
            assistants = {"new": args.api_url, **assistants}
        assistants = dict(sorted(assistants.items(), key=lambda kv: kv[0] != "old"))  # old, then new
        result = asyncio.run(run(args.eval_file, assistants, args.concurrency))
    report(result, {"new": "new", **{i.label: i.name for i in started}})
    out_dir = Path(os.environ.get("DATA_DIR", REPO / "var")) / "eval"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"eval-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
