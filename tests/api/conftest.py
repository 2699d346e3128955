"""Fixtures of the API tests.

Every test that touches the database runs twice: on SQLite and on PostgreSQL
(TEST_DATABASE_URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test;
without it the PostgreSQL variants skip and say why). Each test session gets
its own SQLite file and its own PostgreSQL schema (random name, dropped at the
end), migrated with the committed Alembic revisions; each test runs inside a
transaction that is rolled back. The bot is a fake that answers like Rasa's
gateway channel, so no Rasa needs to run.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from api_support import (
    PG_SKIP_REASON,
    TEST_DATABASE_URL,
    FakeClock,
    FakeRasa,
    fresh_database,
    make_settings,
)
from mjolby.db import Database, create_db_engine
from mjolby.main import create_app
from mjolby.migrate import upgrade_head

# --------------------------------------------------------------------------
# Databases


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not TEST_DATABASE_URL:
        pytest.skip(PG_SKIP_REASON)
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(backend, tmp_path_factory.mktemp("db")) as url:
        upgrade_head(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection per test, in a transaction rolled back at the end."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Commits in the code under test only release a savepoint.
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


# --------------------------------------------------------------------------
# The fake bot


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


# --------------------------------------------------------------------------
# The app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def app_factory(database_url: str, engine: Engine, session_factory: sessionmaker[Session],
                fake_rasa: FakeRasa, clock: FakeClock,
                data_dir: Path) -> Callable[..., FastAPI]:
    def factory(**settings_overrides: Any) -> FastAPI:
        settings = make_settings(data_dir, database_url=database_url, **settings_overrides)
        database = Database(database_url, engine=engine, session_factory=session_factory)
        return create_app(settings, database=database, rasa_transport=fake_rasa.transport,
                          run_migrations=False, clock=clock)

    return factory


@pytest.fixture
def app(app_factory: Callable[..., FastAPI]) -> FastAPI:
    return app_factory()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def start(client: TestClient) -> Callable[[], str]:
    """Start a conversation through the API; returns its id."""
    def start() -> str:
        response = client.post("/api/v1/conversations", json={})
        assert response.status_code == 201, response.text
        return response.json()["conversation_id"]

    return start
