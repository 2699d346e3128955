#!/usr/bin/env python3
"""Build the chat widget into one self-contained script.

The sources in widget/src are ES modules with main.js as the entry. esbuild
(pinned in widget/package.json and package-lock.json) bundles them into one
minified IIFE for ES2018 browsers, with styles.css (applied inside the
widget's shadow root) minified and inlined as a string. The bundle goes to
dist/widget.js, and static/ (the accessibility statement and the data
handling page) is copied next to it. Contact details are not written in the
sources: `{{phone}}`, `{{phone_href}}` and `{{email}}` are filled in from
knowledge/organisation.yml at build time.

    python3 widget/build.py              build and print sizes
    python3 widget/build.py --size       same, and exit 1 if over the limit
    python3 widget/build.py --out DIR    write somewhere else than widget/dist
    python3 widget/build.py --no-minify  readable, not minified

Needs Node.js 18 or newer with npm. esbuild is installed with `npm ci` into
widget/node_modules when it is missing or package-lock.json has changed.
"""
from __future__ import annotations

import argparse
import fcntl
import gzip
import hashlib
import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
STATIC = HERE / "static"
ORGANISATION_FILE = HERE.parent / "knowledge" / "organisation.yml"
# The top-level keys of organisation.yml the widget uses ("key: value" lines;
# read without a YAML parser to keep the build on the standard library).
CONTACT_KEYS = ("phone", "phone_href", "email")
PLACEHOLDER_RE = re.compile(r"\{\{(%s)\}\}" % "|".join(CONTACT_KEYS))
DEFAULT_OUT = HERE / "dist"
ENTRY = "main.js"
CSS_FILE = "styles.css"
TARGET = "es2018"
# The browsers of ES2018, so that minifying the CSS brings in no newer syntax.
CSS_TARGET = "chrome64,edge79,firefox62,safari12"
GZIP_LIMIT = 20 * 1024
VERSION_RE = re.compile(r'var VERSION = "([^"]+)"')

PACKAGE_LOCK = HERE / "package-lock.json"
NODE_MODULES = HERE / "node_modules"
ESBUILD = NODE_MODULES / ".bin" / "esbuild"
# The hash of the package-lock.json that node_modules was installed from.
INSTALL_STAMP = NODE_MODULES / ".package-lock.sha256"


def _lock_hash() -> str:
    return hashlib.sha256(PACKAGE_LOCK.read_bytes()).hexdigest()


def _installed() -> bool:
    try:
        return ESBUILD.exists() and INSTALL_STAMP.read_text(encoding="ascii").strip() == _lock_hash()
    except OSError:
        return False


def ensure_esbuild() -> Path:
    """Install the pinned esbuild with `npm ci` unless node_modules already
    matches package-lock.json, and return the path of its binary."""
    if _installed():
        return ESBUILD
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise SystemExit(
            "widget/build.py: npm was not found. The widget is bundled with esbuild from npm: "
            "install Node.js 18 or newer with npm (Debian: apt-get install nodejs npm) and run the build again."
        )
    # One install at a time, also when several builds start together.
    key = hashlib.sha256(bytes(NODE_MODULES)).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"mjolby-widget-npm-{key}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():
            return ESBUILD
        print("Installing esbuild in widget/node_modules (npm ci)", file=sys.stderr)
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PACKAGE_LOCK.parent,
                                capture_output=True, text=True)
        if result.returncode != 0 or not ESBUILD.exists():
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
            raise SystemExit("widget/build.py: `npm ci` in widget/ failed")
        INSTALL_STAMP.write_text(_lock_hash() + "\n", encoding="ascii")
    return ESBUILD


def _esbuild(args: list[str], stdin: str | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run([str(ensure_esbuild()), *args, "--log-level=warning"], input=stdin, cwd=cwd,
                            capture_output=True, text=True, encoding="utf-8")
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit("widget/build.py: esbuild failed")
    if result.stderr:
        sys.stderr.write(result.stderr)
    return result.stdout


def contact_details(path: Path = ORGANISATION_FILE) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^(%s):\s*(.+?)\s*$" % "|".join(CONTACT_KEYS), line)
        if match:
            found[match.group(1)] = match.group(2).strip("\"'")
    missing = [key for key in CONTACT_KEYS if not found.get(key)]
    if missing:
        raise SystemExit(f"{path}: missing {', '.join(missing)}")
    for key, value in found.items():
        if re.search(r"[\"'\\<>&]", value):
            raise SystemExit(f"{path}: {key} has a character the widget cannot embed: {value!r}")
    return found


def fill(text: str, details: dict[str, str]) -> str:
    """Put organisation.yml's contact details in place of their placeholders."""
    return PLACEHOLDER_RE.sub(lambda m: details[m.group(1)], text)


def bundle(minify: bool = True) -> str:
    """The widget as one script: esbuild's bundle of src/main.js and the
    modules it imports, styles.css inlined as a string."""
    details = contact_details()
    version = VERSION_RE.search((SRC / ENTRY).read_text(encoding="utf-8"))
    header = "/*! Mjolby kommun chat widget %s */" % (version.group(1) if version else "")
    with tempfile.TemporaryDirectory(prefix="mjolby-widget-") as tmp:
        # esbuild reads a copy of src/ with the contact details filled in and
        # the stylesheet minified, so main.js imports the CSS as it is shipped.
        stage = Path(tmp)
        for item in SRC.iterdir():
            if item.is_file() and item.suffix == ".js":
                (stage / item.name).write_text(fill(item.read_text(encoding="utf-8"), details), encoding="utf-8")
        css = (SRC / CSS_FILE).read_text(encoding="utf-8")
        if minify:
            css = _esbuild(["--loader=css", "--minify", "--target=" + CSS_TARGET], stdin=css)
        (stage / CSS_FILE).write_text(css, encoding="utf-8")
        args = [
            ENTRY, "--bundle", "--format=iife", "--platform=browser", "--target=" + TARGET,
            "--loader:.css=text", "--legal-comments=none",
            # The minified bundle is pure ASCII, whatever charset the host page
            # or server declares; the readable one keeps UTF-8.
            "--charset=" + ("ascii" if minify else "utf8"),
            "--banner:js=" + header + '\n"use strict";',
        ]
        if minify:
            args.append("--minify")
        return _esbuild(args, cwd=stage)


def sizes(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return len(data), len(gzip.compress(data, compresslevel=9, mtime=0))


def build(out: Path = DEFAULT_OUT, minify: bool = True) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    target = out / "widget.js"
    # The minified bundle is pure ASCII; the readable one keeps UTF-8.
    target.write_text(bundle(minify), encoding="ascii" if minify else "utf-8")
    details = {key: html.escape(value) for key, value in contact_details().items()}
    for item in STATIC.iterdir():
        if item.is_file() and item.suffix == ".html":
            (out / item.name).write_text(fill(item.read_text(encoding="utf-8"), details), encoding="utf-8")
        elif item.is_file():
            shutil.copy2(item, out / item.name)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build widget/dist/widget.js")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default widget/dist)")
    parser.add_argument("--no-minify", action="store_true", help="readable output: indentation and names kept")
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
