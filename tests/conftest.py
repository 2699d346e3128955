"""Session fixtures shared by the test suites.

`live_stack` starts the whole assistant (action server, Rasa, API) once per
test session, on its own ports and in its own data folder, from the model the
setup step trained. It uses only the standard library so that this file also
loads in the bot's Python 3.10 environment.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The first live test starts the whole assistant (up to start.sh's 400 s).
LIVE_TIMEOUT_SECONDS = 900


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """Live tests get a longer timeout than pytest.ini's, unless they set their own."""
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        if item.get_closest_marker("live") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(LIVE_TIMEOUT_SECONDS))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """In CI (CI=true) every test must run: a skip, for example because PostgreSQL,
    Redis, chromium or node is missing, fails the test and says why."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true, so this test must run, but it was skipped: {reason}"


@dataclass
class LiveStack:
    api_url: str
    data_dir: Path
    env: dict = field(repr=False)
    internal_token: str = ""
    database_url: str | None = None

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        """A JSON request against the API: returns (status, parsed body, headers)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.api_url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None, dict(resp.headers)
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            return err.code, parsed, dict(err.headers)

    def stop(self) -> None:
        subprocess.run([str(REPO / "scripts/stop.sh")], env=self.env, check=False)

    def restart_api(self) -> None:
        """Stop and start only the API (conversations must survive this)."""
        pidfile = self.data_dir / "run" / "api.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text())
            try:
                os.kill(pid, 15)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.1)
            except ProcessLookupError:
                pass
            pidfile.unlink(missing_ok=True)
        _start(self.env)


def _start(env: dict) -> None:
    result = subprocess.run(
        [str(REPO / "scripts/start.sh")], env=env, capture_output=True, text=True, timeout=400
    )
    if result.returncode != 0:
        raise RuntimeError(f"the assistant did not start:\n{result.stdout}\n{result.stderr}")


def _launch(tmp_root: Path, port_base: int, extra_env: dict | None = None) -> LiveStack:
    data_dir = tmp_root / "var"
    (data_dir / "models").mkdir(parents=True)
    env = dict(os.environ)
    env.update(
        DATA_DIR=str(data_dir),
        API_PORT=str(port_base),
        RASA_PORT=str(port_base + 1),
        ACTIONS_PORT=str(port_base + 2),
        ENVIRONMENT="development",
        INTERNAL_API_TOKEN="test-" + uuid.uuid4().hex,
        LOG_LEVEL="DEBUG",
        RATE_LIMIT_CLIENT_PER_MINUTE="0",
    )
    env.update(extra_env or {})
    # The setup step trained (or reused) the model; this copies it in.
    subprocess.run([str(REPO / "scripts/train.sh")], env=env, check=True, capture_output=True)
    _start(env)
    return LiveStack(
        api_url=f"http://127.0.0.1:{port_base}",
        data_dir=data_dir,
        env=env,
        internal_token=env["INTERNAL_API_TOKEN"],
        database_url=env.get("DATABASE_URL"),
    )


@pytest.fixture(scope="session")
def live_stack():
    """The assistant on SQLite (app database and Rasa tracker store) under a temp DATA_DIR."""
    tmp_root = Path(tempfile.mkdtemp(prefix="mjolby-live-"))
    stack = _launch(tmp_root, int(os.environ.get("LIVE_STACK_PORT", "18000")))
    yield stack
    stack.stop()
    shutil.rmtree(tmp_root, ignore_errors=True)


@pytest.fixture(scope="session")
def live_stack_pg():
    """The assistant on PostgreSQL (app database and Rasa tracker store) with a Redis lock store."""
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL is not set: no PostgreSQL configured for this run")
    import re

    match = re.match(r"postgresql(?:\+\w+)?://(?P<user>[^@:/]+)?(?::(?P<pw>[^@]*))?@(?P<host>[^:/]+)(?::(?P<port>\d+))?/(?P<db>\w+)", admin_url)
    if not match:
        pytest.fail(f"TEST_DATABASE_URL is not a PostgreSQL URL")
    user, host, port = match["user"] or "postgres", match["host"], match["port"] or "5432"
    name = "mjolby_e2e_" + uuid.uuid4().hex[:8]
    app_db, tracker_db = name + "_app", name + "_rasa"
    psql = ["psql", "-h", host, "-p", port, "-U", user, "-d", match["db"], "-v", "ON_ERROR_STOP=1", "-q", "-c"]
    for db in (app_db, tracker_db):
        subprocess.run(psql + [f"CREATE DATABASE {db}"], check=True)
    tmp_root = Path(tempfile.mkdtemp(prefix="mjolby-live-pg-"))
    stack = _launch(
        tmp_root,
        int(os.environ.get("LIVE_STACK_PG_PORT", "18100")),
        {
            "DATABASE_URL": f"postgresql+psycopg://{user}@{host}:{port}/{app_db}",
            "RASA_ENDPOINTS": "endpoints.production.yml",
            "TRACKER_DB_HOST": host,
            "TRACKER_DB_PORT": port,
            "TRACKER_DB": tracker_db,
            "TRACKER_DB_USER": user,
            "TRACKER_DB_PASSWORD": "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": "6379",
        },
    )
    stack.tracker_db = tracker_db  # type: ignore[attr-defined]
    stack.pg = {"host": host, "port": port, "user": user}  # type: ignore[attr-defined]
    yield stack
    stack.stop()
    for db in (app_db, tracker_db):
        subprocess.run(psql + [f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], check=False)
    shutil.rmtree(tmp_root, ignore_errors=True)
