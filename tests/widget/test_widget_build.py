"""The build: the widget's ES modules bundled by the pinned esbuild into one
self-contained script under the size limit, installed from the project's own
package-lock.json."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from widget_steps import REPO, build

WIDGET = REPO / "widget"
# An import or export statement left in the bundle would be a syntax error in
# a classic <script>.
MODULE_SYNTAX = re.compile(r"(?:^|[;{}\s])(?:import\s*[\w{*\"'(]|export\s*[\w{*])")


def test_bundle_is_under_20_kb_gzip(tmp_path):
    result = subprocess.run([sys.executable, str(WIDGET / "build.py"), "--size", "--out", str(tmp_path)],
                            capture_output=True, text=True, check=True)
    match = re.search(r"widget\.js: (\d+) bytes raw, (\d+) bytes gzip", result.stdout)
    assert match, result.stdout
    raw, gz = int(match.group(1)), int(match.group(2))
    assert gz <= 20 * 1024, result.stdout
    assert raw > gz > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["om-chatten.html", "tillganglighet.html", "widget.js"]


def test_bundle_is_one_iife_with_its_css_and_plain_ascii(tmp_path):
    target = build.build(tmp_path)
    code = target.read_text(encoding="ascii")
    assert code.startswith('/*! Mjolby kommun chat widget 1.0.0 */\n"use strict";\n(()=>{')
    assert code.rstrip().endswith("})();")
    assert ".launcher{" in code  # the CSS travels inside the script, minified
    assert not MODULE_SYNTAX.search(code) and "require(" not in code
    # The only absolute URL in the bundle is the SVG namespace, never fetched.
    assert re.findall(r"https?://[^\s\"']+", code) == ["http://www.w3.org/2000/svg"]
    # Swedish text is escaped, regular expressions are kept as written.
    assert r"Jag vill prata med en m\xE4nniska" in code
    assert r"/^\/rate\b/" in code


def test_the_sources_are_es_modules_bundled_by_the_pinned_esbuild(tmp_path):
    package = json.loads((WIDGET / "package.json").read_text(encoding="utf-8"))
    pinned = package["devDependencies"]["esbuild"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "esbuild must be pinned to an exact version"
    lock = json.loads((WIDGET / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/esbuild"]["version"] == pinned

    build.build(tmp_path)
    installed = json.loads((WIDGET / "node_modules/esbuild/package.json").read_text(encoding="utf-8"))
    assert installed["version"] == pinned
    version = subprocess.run([str(build.ESBUILD), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == pinned

    # One entry module; every other module exports what it offers and is
    # imported by name, so no file relies on a scope shared with another.
    sources = {p.name: p.read_text(encoding="utf-8") for p in (WIDGET / "src").glob("*.js")}
    imported = set()
    for text in sources.values():
        imported |= set(re.findall(r'^import .* from "\./([\w.]+)";$', text, flags=re.M))
    assert imported == set(sources) - {"main.js"} | {"styles.css"}
    for name, text in sources.items():
        assert (name == "main.js") != bool(re.search(r"^export ", text, flags=re.M)), name


def test_minified_and_readable_bundles_both_parse(tmp_path):
    node = shutil.which("node")
    assert node, "the widget's build needs Node.js"
    for minify, name in ((True, "min"), (False, "full")):
        out = tmp_path / name
        target = build.build(out, minify=minify)
        subprocess.run([node, "--check", str(target)], check=True)


def test_esbuild_is_installed_from_package_lock_and_again_when_it_changes(tmp_path, monkeypatch, capsys):
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(WIDGET / name, tmp_path / name)
    monkeypatch.setattr(build, "PACKAGE_LOCK", tmp_path / "package-lock.json")
    monkeypatch.setattr(build, "NODE_MODULES", tmp_path / "node_modules")
    monkeypatch.setattr(build, "ESBUILD", tmp_path / "node_modules/.bin/esbuild")
    monkeypatch.setattr(build, "INSTALL_STAMP", tmp_path / "node_modules/.package-lock.sha256")

    def installs() -> int:
        return capsys.readouterr().err.count("npm ci")

    assert build.ensure_esbuild() == tmp_path / "node_modules/.bin/esbuild"
    assert installs() == 1
    assert build.ensure_esbuild().is_file()
    assert installs() == 0
    # A changed lock file (here only its layout) means a fresh install.
    lock = tmp_path / "package-lock.json"
    lock.write_text(lock.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    build.ensure_esbuild()
    assert installs() == 1

    (tmp_path / "node_modules/.package-lock.sha256").unlink()
    monkeypatch.setattr(build.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="npm was not found"):
        build.ensure_esbuild()
