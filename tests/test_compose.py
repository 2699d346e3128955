"""docker-compose.yml describes production; it must stay valid and keep its secrets required."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SECRETS = {"POSTGRES_PASSWORD": "x", "SECRET_KEY": "y", "INTERNAL_API_TOKEN": "z", "PUBLIC_BASE_URL": "https://chat.example",
           "APP_DB_PASSWORD": "a", "TRACKER_DB_PASSWORD": "t", "FORWARDED_ALLOW_IPS": "172.18.0.1"}
PARTS = ("postgres", "redis", "rasa-1", "rasa-2", "actions-1", "actions-2", "api-1", "api-2", "proxy")


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
    assert set(PARTS) <= set(services)
    for name in PARTS:
        assert "healthcheck" in services[name], name
    # Only the proxy is published; the API processes, Rasa and actions stay internal.
    assert [s for s, v in services.items() if v.get("ports")] == ["proxy"]
    for name in ("rasa-1", "rasa-2"):
        assert "endpoints.production.yml" in services[name]["command"]
    prod = yaml.safe_load((REPO / "bot/endpoints.production.yml").read_text())
    assert prod["tracker_store"]["type"] == "stores.lean_sql.LeanSQLTrackerStore"
    assert prod["tracker_store"]["dialect"] == "postgresql"
    assert prod["lock_store"]["type"] == "redis"
    assert "mjolby.retention" in " ".join(services["purge"]["command"])
    # The purge also clears Rasa's tracker store: the same database the rasa service uses.
    rasa_env = services["rasa-1"]["environment"]
    url = services["purge"]["environment"]["TRACKER_DATABASE_URL"]
    assert url.endswith(f"@{rasa_env['TRACKER_DB_HOST']}:{rasa_env['TRACKER_DB_PORT']}/{rasa_env['TRACKER_DB']}")
    assert url.startswith(f"postgresql+psycopg://{rasa_env['TRACKER_DB_USER']}:${{TRACKER_DB_PASSWORD:?")
    # The public API never purges: it gets no access to Rasa's database.
    for name in ("api-1", "api-2"):
        assert "TRACKER_DATABASE_URL" not in services[name]["environment"]


def test_the_app_and_the_tracker_store_use_separate_database_roles():
    spec = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = spec["services"]
    superuser = services["postgres"]["environment"]["POSTGRES_USER"]
    app_url = services["api-1"]["environment"]["DATABASE_URL"]
    app_user = app_url.split("://", 1)[1].split(":", 1)[0]
    tracker_user = services["rasa-1"]["environment"]["TRACKER_DB_USER"]
    assert len({superuser, app_user, tracker_user}) == 3
    assert services["purge"]["environment"]["DATABASE_URL"] == app_url
    # Each role has its own password; no service gets the superuser's.
    assert "APP_DB_PASSWORD" in app_url
    assert "TRACKER_DB_PASSWORD" in services["rasa-1"]["environment"]["TRACKER_DB_PASSWORD"]
    for name, service in services.items():
        if name != "postgres":
            assert "POSTGRES_PASSWORD" not in yaml.safe_dump(service.get("environment", {})), name
    # The roles and their databases are created when the volume is.
    init = (REPO / "deploy/postgres-init.sh").read_text()
    mounted = [v for v in services["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert mounted and mounted[0].startswith("./deploy/postgres-init.sh:")
    database = app_url.rsplit("/", 1)[1]
    tracker_db = services["rasa-1"]["environment"]["TRACKER_DB"]
    assert f"CREATE ROLE {app_user} LOGIN" in init and f"CREATE ROLE {tracker_user} LOGIN" in init
    assert f"CREATE DATABASE {database} OWNER {app_user}" in init
    assert f"CREATE DATABASE {tracker_db} OWNER {tracker_user}" in init


def test_the_api_trusts_forwarded_addresses_only_from_the_configured_proxy():
    spec = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    api_env = spec["services"]["api-1"]["environment"]
    assert api_env["FORWARDED_ALLOW_IPS"].startswith("${FORWARDED_ALLOW_IPS:?")
    result = run_config({k: v for k, v in SECRETS.items() if k != "FORWARDED_ALLOW_IPS"})
    assert result.returncode != 0 and "FORWARDED_ALLOW_IPS" in result.stderr


def test_the_scaled_out_topology_is_the_one_make_run_cluster_runs():
    spec = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = spec["services"]
    # Two API processes and two Rasa replicas, alike but for their names.
    assert services["api-1"] == services["api-2"] and services["rasa-1"] == services["rasa-2"]
    assert services["actions-1"] == services["actions-2"]
    rasa_urls = services["api-1"]["environment"]["RASA_URL"].split(",")
    assert rasa_urls == ["http://rasa-1:5005", "http://rasa-2:5005"]
    # The proxy runs the same configuration file as scripts/cluster.sh, in front of
    # both API processes and both action servers.
    proxy = services["proxy"]
    assert proxy["image"].startswith("haproxy:")
    assert any(v.startswith("./deploy/haproxy.cfg:") for v in proxy["volumes"])
    assert "deploy/haproxy.cfg" in (REPO / "scripts/cluster.sh").read_text()
    config = (REPO / "deploy/haproxy.cfg").read_text()
    for variable, value in proxy["environment"].items():
        assert f'"${{{variable}}}"' in config
        if variable.startswith(("API_", "ACTIONS_")) and not variable.endswith("BIND"):
            assert value.split(":")[0] in services, value
    # Rasa calls the actions, and the API probes them, through the proxy.
    assert services["rasa-1"]["environment"]["ACTION_ENDPOINT_URL"].startswith("http://proxy:")
    assert services["api-1"]["environment"]["ACTION_SERVER_URL"].startswith("http://proxy:")
    # Every replica pulls the published model from the API: no model is baked in.
    prod = yaml.safe_load((REPO / "bot/endpoints.production.yml").read_text())
    assert prod["models"]["url"].startswith("${API_INTERNAL_URL}/api/v1/internal/models/current")
    assert prod["models"]["wait_time_between_pulls"] <= 10
    assert "--model" not in services["rasa-1"]["command"]
    assert services["rasa-1"]["environment"]["API_INTERNAL_URL"] == "http://proxy:8000"
    # Both API processes serve the models from one shared volume.
    assert services["api-1"]["volumes"] == ["models:/app/var/models"]
