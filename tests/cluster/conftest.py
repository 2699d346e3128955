"""The production topology (scripts/cluster.sh) started once for the fault tests.

It runs on a PostgreSQL and a Redis of its own (started here, in a temporary
folder, on their own ports), so that restarting them under load disturbs no
other test and nothing else on the machine. Everything else is what
`make run-cluster` starts: HAProxy, two API processes, two Rasa replicas on
bot/endpoints.production.yml, two action servers, and the watchdog that
restarts what stops.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from cluster_support import Cluster, PostgresServer, RedisServer

REPO = Path(__file__).resolve().parents[2]
PORT_BASE = int(os.environ.get("CLUSTER_TEST_PORT_BASE", "18480"))


def _require(tool: str) -> str:
    found = shutil.which(tool) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), reverse=True)), None)
    if not found:
        pytest.fail(f"{tool} is not installed; the cluster tests start their own PostgreSQL and Redis")
    return found


@pytest.fixture(scope="session")
def cluster():
    data_dir = Path(os.environ.get("DATA_DIR", REPO / "var"))
    model = data_dir / "models" / "current.tar.gz"
    if not model.is_file():
        pytest.fail(f"no trained model at {model}; run scripts/setup.sh first")
    root = Path(tempfile.mkdtemp(prefix="mjolby-cluster-"))
    postgres = PostgresServer(_require("pg_ctl"), _require("initdb"), root / "pg", PORT_BASE + 13)
    redis = RedisServer(_require("redis-server"), PORT_BASE + 14)
    postgres.start()
    redis.start()
    env = dict(os.environ)
    env.update(
        CLUSTER_DIR=str(root / "cluster"),
        CLUSTER_MODEL=str(model),
        CLUSTER_PROXY_PORT=str(PORT_BASE),
        CLUSTER_API_PORT_BASE=str(PORT_BASE + 1),
        CLUSTER_RASA_PORT_BASE=str(PORT_BASE + 5),
        CLUSTER_ACTIONS_PROXY_PORT=str(PORT_BASE + 9),
        CLUSTER_ACTIONS_PORT_BASE=str(PORT_BASE + 10),
        CLUSTER_PG_PORT=str(postgres.port),
        CLUSTER_REDIS_PORT=str(redis.port),
        CLUSTER_REDIS_DB="0",
        RASA_REPLICAS="2",
        ENVIRONMENT="development",
        # Every citizen of the load comes from 127.0.0.1: no per-client limits here.
        RATE_LIMIT_CLIENT_PER_MINUTE="0",
        RATE_LIMIT_CONVERSATION_PER_MINUTE="0",
        RATE_LIMIT_CLIENT_READS_PER_MINUTE="0",
        STREAM_MAX_PER_CLIENT="0",
    )
    started = time.monotonic()
    result = subprocess.run([str(REPO / "scripts/cluster.sh"), "start"], env=env, capture_output=True,
                            text=True, timeout=400)
    handle = Cluster(env=env, root=root, postgres=postgres, redis=redis, port_base=PORT_BASE)
    if result.returncode != 0:
        handle.stop()
        pytest.fail(f"the cluster did not start:\n{result.stdout}\n{result.stderr}\n{handle.logs_tail()}")
    print(f"cluster ready after {time.monotonic() - started:.0f} s")
    yield handle
    handle.stop()
    if not os.environ.get("CLUSTER_TEST_KEEP"):  # set it to read the logs afterwards
        shutil.rmtree(root, ignore_errors=True)
