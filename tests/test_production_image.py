"""The production image installs what the API needs to run, and no test tools."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_TOOLS = {"pytest", "hypothesis", "playwright", "axe-playwright-python", "schemathesis", "pytest-timeout"}
sys.path.insert(0, str(REPO / "tools"))

import runtime_requirements  # noqa: E402


def names(path: Path) -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {re.split(r"[=<>\[ ]", line, maxsplit=1)[0].lower().replace("_", "-")
            for line in lines if line and not line.startswith("-")}


def test_the_image_installs_the_runtime_requirements_only():
    dockerfile = (REPO / "api/Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert installs and all("requirements.lock" not in line for line in installs)
    assert "COPY api/requirements-runtime.txt" in dockerfile
    runtime = names(REPO / "api/requirements-runtime.txt")
    assert not runtime & TEST_TOOLS
    assert not names(REPO / "api/requirements.in") & TEST_TOOLS
    assert TEST_TOOLS <= names(REPO / "api/requirements-test.in") | {"pytest-timeout", "schemathesis"}


def test_the_runtime_requirements_are_the_locks_pins_and_up_to_date():
    lock = {line.strip() for line in (REPO / "api/requirements.lock").read_text().splitlines() if line.strip()}
    pinned = [line for line in (REPO / "api/requirements-runtime.txt").read_text().splitlines()
              if line and not line.startswith("#")]
    assert pinned and set(pinned) <= lock
    assert (REPO / "api/requirements-runtime.txt").read_text() == runtime_requirements.render()


# Imports everything the services start, refusing any module that only the
# test tools' packages provide.
_BLOCKED_IMPORT = r'''
import importlib.abc, importlib.metadata as md, sys
allowed = {l.split("==")[0].lower().replace("_", "-") for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")}
blocked = set()
for module, dists in md.packages_distributions().items():
    if not any(d.lower().replace("_", "-") in allowed for d in dists):
        blocked.add(module)
blocked -= set(sys.stdlib_module_names) | {"_distutils_hack", "pip", "setuptools", "pkg_resources"}
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"{name} is not in the production image")
sys.meta_path.insert(0, Refuse())
import mjolby.main, mjolby.retention, mjolby.staff.cli, mjolby.migrate, mjolby.__main__
from mjolby.config import Settings
app = mjolby.main.create_app(Settings(environment="development", data_dir=sys.argv[2]), run_migrations=False)
print("ok", len(app.routes))
'''


def test_the_api_starts_with_the_runtime_packages_only(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(REPO / "api")
    result = subprocess.run([sys.executable, "-c", _BLOCKED_IMPORT, str(REPO / "api/requirements-runtime.txt"),
                             str(tmp_path / "var")], cwd=REPO / "api", env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok")


@pytest.mark.parametrize("tool", sorted(TEST_TOOLS - {"pytest-timeout"}))
def test_no_test_tool_is_reachable_from_the_runtime_requirements(tool):
    assert tool not in runtime_requirements.closure(runtime_requirements.top_level(REPO / "api/requirements.in"))
