"""The build script: one self-contained file under the size limit, and a
minifier that leaves strings and regular expressions alone."""
from __future__ import annotations

import re
import subprocess
import sys

from widget_steps import REPO, build


def test_bundle_is_under_20_kb_gzip(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "widget" / "build.py"), "--size", "--out", str(tmp_path)],
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
    assert code.startswith("/*! Mjolby kommun chat widget")
    assert "(function () {" in code and code.rstrip().endswith("})();")
    assert ".launcher{" in code  # the CSS travels inside the script
    assert "import " not in code and "require(" not in code
    # The only absolute URL in the bundle is the SVG namespace, never fetched.
    assert re.findall(r"https?://[^\s\"']+", code) == ["http://www.w3.org/2000/svg"]


def test_minifier_keeps_strings_and_regexes():
    src = r"""
    // drop me
    var a = "http://x // not a comment";  /* block */
    var b = 'it\'s';
    var r = /\/rate\b[/]/g;
    var c = x / 2 / y;
    function f() {
      return /^\d+$/.test(a);
    }
    var s = "åäö";
    """
    out = build.minify_js(src)
    assert "drop me" not in out and "block" not in out
    assert '"http://x // not a comment"' in out
    assert r"'it\'s'" in out
    assert r"/\/rate\b[/]/g" in out
    assert "x / 2 / y" in out
    assert r"return /^\d+$/.test(a)" in out
    assert r'"\u00e5\u00e4\u00f6"' in out


def test_minified_and_readable_bundles_both_parse(tmp_path):
    node = subprocess.run(["which", "node"], capture_output=True, text=True).stdout.strip()
    if not node:
        import pytest
        pytest.skip("node is not installed; the browser tests still load the bundle")
    for minify, name in ((True, "min"), (False, "full")):
        out = tmp_path / name
        target = build.build(out, minify=minify)
        subprocess.run([node, "--check", str(target)], check=True)
