"""docker-compose.yml describes production; it must stay valid and keep its secrets required."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SECRETS = {"POSTGRES_PASSWORD": "x", "SECRET_KEY": "y", "INTERNAL_API_TOKEN": "z", "PUBLIC_BASE_URL": "https://chat.example"}


def compose_command() -> list[str]:
    """`docker compose` (v2 plugin) where it exists, else the standalone docker-compose."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("neither `docker compose` nor `docker-compose` is installed (scripts/test.sh installs it)")


def run_config(env_extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.update(env_extra)
    return subprocess.run(compose_command() + ["config", "-q"], cwd=REPO, env=env, capture_output=True, text=True)


def test_compose_file_is_valid():
    result = run_config(SECRETS)
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_run_without_secrets():
    result = run_config({})
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "SECRET_KEY" in result.stderr


def test_production_services_and_healthchecks():
    spec = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = spec["services"]
    assert {"postgres", "redis", "rasa", "actions", "api"} <= set(services)
    for name in ("postgres", "redis", "rasa", "actions", "api"):
        assert "healthcheck" in services[name], name
    # Only the API is published; Rasa and actions stay internal.
    assert [s for s, v in services.items() if v.get("ports")] == ["api"]
    assert "endpoints.production.yml" in services["rasa"]["command"]
    prod = yaml.safe_load((REPO / "bot/endpoints.production.yml").read_text())
    assert prod["tracker_store"]["type"] == "SQL" and prod["tracker_store"]["dialect"] == "postgresql"
    assert prod["lock_store"]["type"] == "redis"
    assert "mjolby.retention" in " ".join(services["purge"]["command"])
    # The purge also clears Rasa's tracker store: the same database the rasa service uses.
    rasa_env = services["rasa"]["environment"]
    url = services["purge"]["environment"]["TRACKER_DATABASE_URL"]
    assert url.endswith(f"@{rasa_env['TRACKER_DB_HOST']}:{rasa_env['TRACKER_DB_PORT']}/{rasa_env['TRACKER_DB']}")
    assert url.startswith(f"postgresql+psycopg://{rasa_env['TRACKER_DB_USER']}:${{POSTGRES_PASSWORD:?")
    # The public API never purges: it gets no access to Rasa's database.
    assert "TRACKER_DATABASE_URL" not in services["api"]["environment"]
