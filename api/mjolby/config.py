"""Settings of the chat API, read once from the environment."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# api/mjolby/config.py -> the repository root
REPO_ROOT = Path(__file__).resolve().parents[2]

# Development-only fallbacks. Anything but ENVIRONMENT=development refuses them.
DEV_SECRET_KEY = "development-secret-key-do-not-use-in-production"
DEV_INTERNAL_API_TOKEN = "development-internal-token-do-not-use-in-production"
MIN_SECRET_LENGTH = 32
DEFAULT_LOG_RETENTION_DAYS = 14
# An origin as a Content-Security-Policy source: scheme, host (or *.host), port.
_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    # Production unless told otherwise: a forgotten setting fails closed
    # (no development secrets, Secure cookies, HSTS).
    environment: Literal["development", "production"] = "production"
    data_dir: Path = REPO_ROOT / "var"
    database_url: str = ""  # empty: SQLite under DATA_DIR

    rasa_url: str = "http://127.0.0.1:5005"
    action_server_url: str = "http://127.0.0.1:5055"
    rasa_timeout_seconds: float = Field(default=10.0, gt=0)

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    public_base_url: str = ""  # empty: http://127.0.0.1:API_PORT

    secret_key: SecretStr | None = None
    internal_api_token: SecretStr | None = None

    redis_url: str | None = None
    rate_limit_conversation_per_minute: int = Field(default=20, ge=0)
    rate_limit_client_per_minute: int = Field(default=120, ge=0)
    # Reading: polling for messages, opening a live stream (0 disables each limit).
    rate_limit_client_reads_per_minute: int = Field(default=600, ge=0)
    stream_max_per_client: int = Field(default=10, ge=0)
    stream_max_per_conversation: int = Field(default=3, ge=0)
    # Addresses (or networks) of the reverse proxies whose X-Forwarded-For is
    # believed; the same variable uvicorn reads. Anyone else's header is ignored,
    # so the per-citizen limits cannot be dodged by sending a made-up address.
    forwarded_allow_ips: str = "127.0.0.1"

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # Conversations, handover cases with their notes and forwards, contact
    # requests and Rasa's copy: deleted or anonymised this many days after
    # their last activity.
    retention_days: int = Field(default=30, ge=1)
    # Log files rotate at midnight and are kept this many days at most; never
    # longer than RETENTION_DAYS. Unset: 14, or RETENTION_DAYS if shorter.
    log_retention_days: int | None = Field(default=None, ge=2)
    # The staff audit log (who opened which case, signed in, ...) has its own period.
    audit_retention_days: int = Field(default=365, ge=1)
    # A queued or active handover with no message for this long is ended and
    # the citizen told so in the chat. 0: never.
    handover_idle_minutes: int = Field(default=60, ge=0)
    # Rasa's SQL tracker store (its `events` table). When set, the retention
    # purge deletes the bot's copy of expired conversations there too.
    tracker_database_url: str | None = None

    # Origins allowed to call the API from a browser (the pages that embed the
    # widget), comma separated. Empty: same origin only.
    cors_allow_origins: Annotated[list[str], NoDecode] = []
    # Pages that may show the widget's own pages in a frame (CSP frame-ancestors),
    # comma separated, e.g. https://www.mjolby.se. Nothing else may be framed.
    frame_ancestors: Annotated[list[str], NoDecode] = []
    widget_dist_dir: Path = REPO_ROOT / "widget" / "dist"
    # The reviewed knowledge folder, imported into the knowledge store when the API starts.
    knowledge_dir: Path = REPO_ROOT / "knowledge"

    # Staff console (handover): the first admin is created at start from these
    # two when no admin exists yet; nothing is created without both.
    staff_admin_email: str | None = None
    staff_admin_password: SecretStr | None = None
    staff_session_hours: float = Field(default=10.0, gt=0, le=24 * 14)
    # A console nobody has used for this long is signed out.
    staff_idle_minutes: float = Field(default=30.0, gt=0, le=24 * 60)
    # Sign-in attempts checked per minute in all (each costs 64 MiB of argon2),
    # and how many are checked at the same time in one process.
    staff_login_per_minute: int = Field(default=60, ge=1)
    staff_login_concurrency: int = Field(default=2, ge=1)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("cors_allow_origins", "frame_ancestors", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("frame_ancestors")
    @classmethod
    def _check_ancestors(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(f"FRAME_ANCESTORS: {origin!r} is not an origin such as https://www.mjolby.se")
        return value

    @field_validator("redis_url", "tracker_database_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return value or None

    @model_validator(mode="after")
    def _derive_and_check(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'app.db'}"
        self.database_url = normalise_database_url(self.database_url)
        if self.tracker_database_url:
            self.tracker_database_url = normalise_database_url(self.tracker_database_url)
        if self.log_retention_days is None:
            self.log_retention_days = max(2, min(DEFAULT_LOG_RETENTION_DAYS, self.retention_days))
        elif self.log_retention_days > max(2, self.retention_days):
            raise ValueError("LOG_RETENTION_DAYS must not be longer than RETENTION_DAYS")
        if not self.public_base_url:
            self.public_base_url = f"http://127.0.0.1:{self.api_port}"
        self.rasa_url = self.rasa_url.rstrip("/")
        self.action_server_url = self.action_server_url.rstrip("/")

        if self.environment == "development":
            if self.secret_key is None:
                self.secret_key = SecretStr(DEV_SECRET_KEY)
            if self.internal_api_token is None:
                self.internal_api_token = SecretStr(DEV_INTERNAL_API_TOKEN)
        else:
            for name, default in (
                ("SECRET_KEY", DEV_SECRET_KEY),
                ("INTERNAL_API_TOKEN", DEV_INTERNAL_API_TOKEN),
            ):
                secret = getattr(self, name.lower())
                value = secret.get_secret_value() if secret is not None else ""
                if not value or value == default or len(value) < MIN_SECRET_LENGTH:
                    raise ValueError(
                        f"{name} must be set to a random value of at least "
                        f"{MIN_SECRET_LENGTH} characters when ENVIRONMENT={self.environment}"
                    )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs (as compose files write them) at psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
