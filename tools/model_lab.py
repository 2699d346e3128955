"""Load Rasa models and ask them for topics: the publish worker's evaluation and
"try it" (bot environment; run from the repository or bot/).

    model_lab.py --model CANDIDATE [--published CURRENT] --heldout FILE --regression FILE
                 --out EVAL.json [--serve-port PORT]

For each model, every held-out and regression message is parsed and written
as {"text", "expect", "predicted", "confidence"} rows to EVAL.json
({"candidate": {...}, "published": {...}}). With --serve-port the candidate
stays loaded afterwards and answers POST /parse {"text": ...} on 127.0.0.1 with
its topic and confidence, until the process is stopped.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bot"))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
FALLBACK_INTENT = "nlu_fallback"
MAX_TEXT = 2000


def topic_of(intent: str | None) -> str | None:
    """The knowledge topic an intent answers with (None: the fallback, "Menade du ...?")."""
    if not intent or intent == FALLBACK_INTENT:
        return None
    return intent[len("faq_"):] if intent.startswith("faq_") else intent


def load_items(path: Path) -> list[dict[str, str]]:
    """{text, expect} items of a YAML or JSON file with `items:` (or a plain list)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("items", []) if isinstance(data, dict) else data
    return [{"text": str(i["text"]), "expect": str(i["expect"])} for i in items or []]


class Model:
    def __init__(self, path: Path) -> None:
        from rasa.core.agent import Agent  # the bot environment only

        self.agent = Agent.load(str(path))

    async def parse(self, text: str) -> dict[str, Any]:
        result = await self.agent.parse_message(text[:MAX_TEXT])
        intent = (result.get("intent") or {})
        ranking = [r for r in result.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
        best = ranking[0] if ranking else intent
        return {
            "predicted": topic_of(intent.get("name")),
            "confidence": round(float(intent.get("confidence") or 0.0), 4),
            "best": topic_of(best.get("name")),
            "best_confidence": round(float(best.get("confidence") or 0.0), 4),
            "ranking": [{"topic": topic_of(r.get("name")), "confidence": round(float(r.get("confidence") or 0), 4)}
                        for r in ranking[:3]],
        }

    async def rows(self, items: list[dict[str, str]]) -> list[dict[str, Any]]:
        out = []
        for item in items:
            parsed = await self.parse(item["text"])
            out.append({**item, "predicted": parsed["predicted"], "confidence": parsed["confidence"]})
        return out


def serve(model: Model, port: int, loop: asyncio.AbstractEventLoop) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._send(200, {"ready": True}) if self.path == "/health" else self._send(404, {})

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/parse":
                self._send(404, {})
                return
            length = min(int(self.headers.get("Content-Length") or 0), 16384)
            try:
                text = str(json.loads(self.rfile.read(length) or b"{}").get("text", ""))
            except ValueError:
                self._send(400, {})
                return
            self._send(200, loop.run_until_complete(model.parse(text)))

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:  # what citizens or editors wrote is not logged
            pass

    server = HTTPServer(("127.0.0.1", port), Handler)
    print(f"serving the candidate on 127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the candidate model")
    parser.add_argument("--published", type=Path, help="the published model, to compare with")
    parser.add_argument("--heldout", type=Path, required=True)
    parser.add_argument("--regression", type=Path, action="append", default=[])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--serve-port", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # Rasa's structured log would print every parsed text at debug level.
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    os.chdir(REPO / "bot")  # the pipeline's components are imported from here

    heldout = load_items(args.heldout)
    regression = [item for path in args.regression for item in load_items(path)]
    loop = asyncio.new_event_loop()
    result: dict[str, Any] = {}
    if args.published:
        published = Model(args.published)
        result["published"] = {"heldout": loop.run_until_complete(published.rows(heldout)),
                               "regression": loop.run_until_complete(published.rows(regression))}
        del published
    candidate = Model(args.model)
    result["candidate"] = {"heldout": loop.run_until_complete(candidate.rows(heldout)),
                           "regression": loop.run_until_complete(candidate.rows(regression))}
    partial = args.out.with_name(args.out.name + ".part")
    partial.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    partial.replace(args.out)
    print(f"evaluated {len(heldout)} held-out and {len(regression)} regression messages", flush=True)
    if args.serve_port is not None:
        serve(candidate, args.serve_port, loop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
