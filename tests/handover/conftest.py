"""Fixtures of the handover tests.

Each test session gets its own SQLite file and (with TEST_DATABASE_URL) its own
PostgreSQL schema, migrated with the committed Alembic revisions. Unlike the
API tests these run with real commits on their own connections, because
claiming under concurrency and live streams need separate transactions; the
tables are emptied before each test.

The bot is a stand-in that does what the handover actions do: it calls the
API's internal routes (with the bearer token) from inside its answer.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_support import PG_SKIP_REASON, TEST_DATABASE_URL, FakeClock, fresh_database, make_settings  # noqa: E402

from mjolby.db import Database, create_db_engine  # noqa: E402
from mjolby.main import create_app  # noqa: E402
from mjolby.migrate import upgrade_head  # noqa: E402
from mjolby.models import Base  # noqa: E402
from mjolby.staff import service as staff_service  # noqa: E402

from handover_support import INTERNAL_TOKEN, PASSWORD, Citizen, HandoverBot, Staff  # noqa: E402

@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not TEST_DATABASE_URL:
        pytest.skip(PG_SKIP_REASON)
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(backend, tmp_path_factory.mktemp("handover-db")) as url:
        upgrade_head(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url, **({} if database_url.startswith("sqlite") else
                                               {"pool_size": 60, "max_overflow": 10}))
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def clock() -> FakeClock:
    # Tuesday 24 November 2026, 13:00 in Stockholm: Medborgarservice is open.
    return FakeClock()


@pytest.fixture
def bot() -> HandoverBot:
    return HandoverBot()


@pytest.fixture
def app_factory(database_url: str, engine: Engine, session_factory: sessionmaker[Session], bot: HandoverBot,
                clock: FakeClock, tmp_path: Path) -> Callable[..., FastAPI]:
    def factory(**overrides: Any) -> FastAPI:
        values = {"database_url": database_url, "internal_api_token": INTERNAL_TOKEN, **overrides}
        settings = make_settings(tmp_path / "var", **values)
        database = Database(database_url, engine=engine, session_factory=session_factory)
        app = create_app(settings, database=database, rasa_transport=bot.transport, run_migrations=False,
                         clock=clock)
        bot.app = app
        return app

    return factory


@pytest.fixture
def app(app_factory: Callable[..., FastAPI]) -> FastAPI:
    return app_factory()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def make_staff(session_factory: sessionmaker[Session], clock: FakeClock) -> Callable[..., None]:
    def make(email: str, role: str = "agent", name: str = "") -> None:
        with session_factory() as db:
            staff_service.create_user(db=db, email=email, password=PASSWORD, role=role, display_name=name,
                                      now=clock())

    return make


@pytest.fixture
def sign_in(client: TestClient, make_staff: Callable[..., None]) -> Callable[..., Staff]:
    def sign_in(email: str, role: str = "agent", name: str = "") -> Staff:
        make_staff(email, role, name)
        return Staff(client, email)

    return sign_in


@pytest.fixture
def citizen(client: TestClient) -> Callable[[], Citizen]:
    return lambda: Citizen(client)
