"""Alembic revisions: an empty database upgrades to the models, and back."""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from api_support import FakeRasa, fresh_database, make_settings
from mjolby.db import create_db_engine
from mjolby.main import create_app
from mjolby.migrate import alembic_config, upgrade_head
from mjolby.models import Base  # every model, as Alembic sees them

BACKENDS = ["sqlite", "postgresql"]


def head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_upgrade_an_empty_database(tmp_path: Path, backend_name: str) -> None:
    with fresh_database(backend_name, tmp_path) as url:
        engine = create_db_engine(url)
        try:
            assert inspect(engine).get_table_names() == []
            upgrade_head(url)
            inspector = inspect(engine)
            assert set(inspector.get_table_names()) >= {
                "alembic_version", "conversations", "messages", "conversation_stats",
            }
            assert {c["name"] for c in inspector.get_columns("conversations")} == {
                "id", "state", "locale", "last_topic", "created_at", "updated_at", "client_key",
            }
            assert {c["name"] for c in inspector.get_columns("messages")} >= {
                "id", "conversation_id", "sender", "text", "topic", "extra_topics", "links",
                "buttons", "pii_masked", "created_at",
            }
            assert current_revision(engine) == head()
            upgrade_head(url)  # a second start changes nothing
            assert current_revision(engine) == head()
        finally:
            engine.dispose()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_models_and_migrations_agree(tmp_path: Path, backend_name: str) -> None:
    with fresh_database(backend_name, tmp_path) as url:
        upgrade_head(url)
        engine = create_db_engine(url)
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                assert compare_metadata(context, Base.metadata) == []
        finally:
            engine.dispose()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_downgrade_to_base_and_up_again(tmp_path: Path, backend_name: str) -> None:
    with fresh_database(backend_name, tmp_path) as url:
        config = alembic_config(url)
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        engine = create_db_engine(url)
        try:
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
            command.upgrade(config, "head")
            assert current_revision(engine) == head()
        finally:
            engine.dispose()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_app_start_upgrades_the_database(tmp_path: Path, backend_name: str) -> None:
    with fresh_database(backend_name, tmp_path) as url:
        settings = make_settings(tmp_path / "var", database_url=url)
        app = create_app(settings, rasa_transport=FakeRasa().transport)
        with TestClient(app) as client:
            response = client.post("/api/v1/conversations", json={})
            assert response.status_code == 201
            conversation_id = response.json()["conversation_id"]
            messages = client.get(f"/api/v1/conversations/{conversation_id}/messages")
            assert messages.status_code == 200
        engine = create_db_engine(url)
        try:
            assert current_revision(engine) == head()
        finally:
            engine.dispose()


def test_sqlite_default_lives_in_data_dir_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var", database_url="")
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'app.db'}"
    upgrade_head(settings.database_url)
    assert (tmp_path / "var" / "app.db").is_file()
    engine = create_db_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO messages (conversation_id, sender, text, extra_topics, links, "
                "buttons, pii_masked, created_at) VALUES ('missing', 'user', 'hej', '[]', '[]', "
                "'[]', 0, '2026-01-01 00:00:00')"
            ))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_database_rejects_unknown_states(tmp_path: Path, backend_name: str) -> None:
    with fresh_database(backend_name, tmp_path) as url:
        upgrade_head(url)
        engine = create_db_engine(url)
        try:
            with pytest.raises(IntegrityError), engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO conversations (id, state, locale, created_at, updated_at) "
                    "VALUES ('x', 'waiting', 'sv', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ))
        finally:
            engine.dispose()
