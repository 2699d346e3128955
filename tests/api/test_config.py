"""Settings: production unless told otherwise, defaults for a local run, refusals outside development."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from mjolby.config import DEV_INTERNAL_API_TOKEN, DEV_SECRET_KEY, REPO_ROOT, Settings

STRONG = "x" * 40
ENV_VARS = ["ENVIRONMENT", "DATA_DIR", "DATABASE_URL", "SECRET_KEY", "INTERNAL_API_TOKEN",
            "RASA_URL", "ACTION_SERVER_URL", "API_PORT", "PUBLIC_BASE_URL", "REDIS_URL",
            "RATE_LIMIT_CONVERSATION_PER_MINUTE", "RATE_LIMIT_CLIENT_PER_MINUTE", "LOG_LEVEL",
            "RETENTION_DAYS", "CORS_ALLOW_ORIGINS", "TRACKER_DATABASE_URL", "FRAME_ANCESTORS",
            "FORWARDED_ALLOW_IPS", "STAFF_IDLE_MINUTES"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def test_a_forgotten_environment_means_production_and_refuses_default_secrets() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert "SECRET_KEY must be set" in str(raised.value) and "ENVIRONMENT=production" in str(raised.value)


def test_a_forgotten_environment_with_real_secrets_runs_as_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("INTERNAL_API_TOKEN", "y" * 40)
    settings = Settings()
    assert settings.environment == "production"
    assert settings.forwarded_allow_ips == "127.0.0.1" and settings.frame_ancestors == []
    assert settings.staff_idle_minutes == 30


@pytest.fixture
def development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "development")


def test_development_defaults(development: None) -> None:
    settings = Settings()
    assert settings.environment == "development"
    assert settings.data_dir == (REPO_ROOT / "var").resolve()
    assert settings.database_url == f"sqlite:///{REPO_ROOT.resolve() / 'var' / 'app.db'}"
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.action_server_url == "http://127.0.0.1:5055"
    assert settings.api_port == 8000
    assert settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.rate_limit_conversation_per_minute == 20
    assert settings.rate_limit_client_per_minute == 120
    assert settings.retention_days == 30
    assert settings.redis_url is None
    assert settings.tracker_database_url is None
    assert settings.secret_key is not None and settings.internal_api_token is not None


def test_environment_overrides(development: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("API_PORT", "9001")
    monkeypatch.setenv("RETENTION_DAYS", "7")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://www.mjolby.se, https://test.mjolby.se")
    monkeypatch.setenv("REDIS_URL", "")
    settings = Settings()
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'app.db'}"
    assert settings.public_base_url == "http://127.0.0.1:9001"
    assert settings.retention_days == 7
    assert settings.log_level == "WARNING"
    assert settings.cors_allow_origins == ["https://www.mjolby.se", "https://test.mjolby.se"]
    assert settings.redis_url is None


@pytest.mark.parametrize("url", ["postgres://u:p@db/app", "postgresql://u:p@db/app"])
def test_plain_postgres_urls_use_psycopg(development: None, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_DATABASE_URL", url.replace("/app", "/rasa_tracker"))
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u:p@db/app"
    assert settings.tracker_database_url == "postgresql+psycopg://u:p@db/rasa_tracker"


def test_empty_tracker_database_url_is_unset(development: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_DATABASE_URL", "")
    assert Settings().tracker_database_url is None


@pytest.mark.parametrize(("secret_key", "token"), [
    (None, None),
    (STRONG, None),
    (None, STRONG),
    (DEV_SECRET_KEY, STRONG),
    (STRONG, DEV_INTERNAL_API_TOKEN),
    ("short", STRONG),
    ("", STRONG),
])
def test_production_refuses_missing_default_or_weak_secrets(
        monkeypatch: pytest.MonkeyPatch, secret_key: str | None, token: str | None) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    if secret_key is not None:
        monkeypatch.setenv("SECRET_KEY", secret_key)
    if token is not None:
        monkeypatch.setenv("INTERNAL_API_TOKEN", token)
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert "must be set" in str(raised.value)


def test_production_with_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("INTERNAL_API_TOKEN", "y" * 40)
    settings = Settings()
    assert settings.secret_key is not None and settings.secret_key.get_secret_value() == STRONG


def test_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "staging")
    with pytest.raises(ValidationError):
        Settings()


def test_secrets_do_not_show_in_repr(development: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", STRONG)
    assert STRONG not in repr(Settings())


def test_frame_ancestors_are_origins(development: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAME_ANCESTORS", "https://www.mjolby.se, https://*.mjolby.se")
    assert Settings().frame_ancestors == ["https://www.mjolby.se", "https://*.mjolby.se"]
    monkeypatch.setenv("FRAME_ANCESTORS", "https://www.mjolby.se; script-src *")
    with pytest.raises(ValidationError):
        Settings()
