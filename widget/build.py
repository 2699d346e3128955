#!/usr/bin/env python3
"""Build the chat widget into one self-contained script.

Concatenates widget/src/*.js in dependency order into a single IIFE, inlines
styles.css (applied inside the widget's shadow root), optionally applies a
light, string-aware minification, writes dist/widget.js and copies static/
(the accessibility statement and the data handling page) next to it.

    python3 widget/build.py              build and print sizes
    python3 widget/build.py --size       same, and exit 1 if over the limit
    python3 widget/build.py --out DIR    write somewhere else than widget/dist
    python3 widget/build.py --no-minify  keep comments and indentation

Python standard library only.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
STATIC = HERE / "static"
DEFAULT_OUT = HERE / "dist"
# Order matters: later files use functions and constants from earlier ones.
JS_FILES = ["parse.js", "transport.js", "conversation.js", "ui.js", "main.js"]
CSS_FILE = "styles.css"
GZIP_LIMIT = 20 * 1024
VERSION_RE = re.compile(r'var VERSION = "([^"]+)"')

# After one of these characters or keywords a "/" starts a regex literal.
REGEX_AFTER_CHARS = set("(,=:[!&|?{};+-*%<>~^\n")
REGEX_AFTER_WORDS = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw"}
# Whitespace next to these characters can go.
TIGHT = set("{}()[];,:=<>?!&|")


def _ascii(text: str) -> str:
    """Escape non-ASCII characters so the bundle works whatever charset the
    host page or server declares. Only called on string and regex literals."""
    out = []
    for ch in text:
        code = ord(ch)
        if code < 128:
            out.append(ch)
        elif code <= 0xFFFF:
            out.append("\\u%04x" % code)
        else:
            code -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)))
    return "".join(out)


def minify_js(src: str) -> str:
    """Remove comments and redundant whitespace, keep every line break that
    could matter for automatic semicolon insertion. Understands strings,
    template literals (without multi-line content) and regex literals."""
    out: list[str] = []
    i, n = 0, len(src)
    last_sig = "\n"  # last significant character emitted
    last_word = ""
    pending_space = False

    def emit(token: str) -> None:
        nonlocal pending_space, last_sig
        if pending_space and out:
            prev = out[-1][-1]
            if prev not in TIGHT and token[0] not in TIGHT and prev != "\n":
                out.append(" ")
        pending_space = False
        out.append(token)
        last_sig = token[-1]

    while i < n:
        ch = src[i]
        nxt = src[i + 1] if i + 1 < n else ""
        if ch == "/" and nxt == "/":
            while i < n and src[i] != "\n":
                i += 1
            continue
        if ch == "/" and nxt == "*":
            end = src.find("*/", i + 2)
            if end < 0:
                raise ValueError("unterminated comment")
            i = end + 2
            pending_space = True
            continue
        if ch == "\n":
            if out and out[-1] != "\n":
                out.append("\n")
                last_sig = "\n"
            pending_space = False
            i += 1
            continue
        if ch in " \t\r":
            pending_space = True
            i += 1
            continue
        if ch in "'\"`":
            j = i + 1
            while j < n and src[j] != ch:
                if src[j] == "\\":
                    j += 1
                elif src[j] == "\n":
                    raise ValueError("line break inside a string literal at offset %d" % i)
                j += 1
            emit(_ascii(src[i : j + 1]))
            last_word = ""
            i = j + 1
            continue
        if ch == "/" and (last_sig in REGEX_AFTER_CHARS or last_word in REGEX_AFTER_WORDS):
            j, in_class = i + 1, False
            while j < n:
                c = src[j]
                if c == "\\":
                    j += 2
                    continue
                if c == "[":
                    in_class = True
                elif c == "]":
                    in_class = False
                elif c == "/" and not in_class:
                    break
                elif c == "\n":
                    raise ValueError("line break inside a regex literal at offset %d" % i)
                j += 1
            j += 1
            while j < n and src[j].isalpha():
                j += 1
            emit(_ascii(src[i:j]))
            last_word = ""
            i = j
            continue
        if ch.isalnum() or ch in "_$":
            j = i
            while j < n and (src[j].isalnum() or src[j] in "_$"):
                j += 1
            word = src[i:j]
            if not word.isascii():
                raise ValueError("non-ASCII identifier %r" % word)
            emit(word)
            last_word = word
            i = j
            continue
        emit(ch)
        last_word = ""
        i += 1
    return "".join(out).strip() + "\n"


def minify_css(css: str) -> str:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\s+", " ", css)
    css = re.sub(r"\s*([{};,>])\s*", r"\1", css)
    # A colon followed by a space only occurs in declarations, never in a
    # selector's pseudo-class, so that space can go.
    css = re.sub(r":\s+", ":", css)
    return css.replace(";}", "}").strip()


def bundle(minify: bool = True) -> str:
    css = (SRC / CSS_FILE).read_text(encoding="utf-8")
    css = minify_css(css) if minify else css
    parts = []
    for name in JS_FILES:
        code = (SRC / name).read_text(encoding="utf-8")
        parts.append(code if not minify else minify_js(code))
    body = "\n".join(parts)
    version = VERSION_RE.search((SRC / "main.js").read_text(encoding="utf-8"))
    header = "/*! Mjolby kommun chat widget %s */\n" % (version.group(1) if version else "")
    css_literal = json.dumps(css)  # ASCII-only, valid JavaScript string literal
    return header + '(function () {\n"use strict";\nvar CSS = ' + css_literal + ";\n" + body + "})();\n"


def sizes(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return len(data), len(gzip.compress(data, compresslevel=9, mtime=0))


def build(out: Path = DEFAULT_OUT, minify: bool = True) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    target = out / "widget.js"
    # The minified bundle is pure ASCII; the readable one keeps UTF-8.
    target.write_text(bundle(minify), encoding="ascii" if minify else "utf-8")
    for item in STATIC.iterdir():
        if item.is_file():
            shutil.copy2(item, out / item.name)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build widget/dist/widget.js")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default widget/dist)")
    parser.add_argument("--no-minify", action="store_true", help="keep comments and whitespace")
    parser.add_argument("--size", action="store_true", help="exit 1 when the gzip size is over the limit")
    args = parser.parse_args(argv)
    target = build(args.out, minify=not args.no_minify)
    raw, gz = sizes(target)
    print("%s: %d bytes raw, %d bytes gzip (limit %d bytes gzip)" % (target, raw, gz, GZIP_LIMIT))
    if args.size and gz > GZIP_LIMIT:
        print("widget.js is over the size limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
