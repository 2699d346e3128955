"""Benchmark of the insight page on PostgreSQL: how long the page takes for a 30-day range.

Generates a realistic data set with SQL (generate_series) in a schema of its own,
which it drops at the end: by default 1,000,000 conversations over 90 days with
five messages each (about 5 million), 5 % handed over to a person, 1 % contact
requests, written in time order as the app writes them. Then it prints how long
generating, the nightly roll-up and the page take. The page is measured as a
signed-in administrator over HTTP (the app in process), cold (days not yet rolled
up: the page rolls them up), warm (stored days plus today counted live), and on a
busy day: today filled to twice an average day's volume (--peak), all counted
live. Also the CSV of every table.

    python tools/bench_insight.py                       # the full data set
    python tools/bench_insight.py --conversations 20000 # a quick run
    make bench-insight BENCH_INSIGHT_ARGS="--conversations 20000"

DATABASE: --database-url, else TEST_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/test. Run with the API environment.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "api"))
sys.path.insert(0, str(ROOT / "tests" / "api"))

from api_support import postgres_schema  # noqa: E402  (a schema of its own, dropped at the end)

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from mjolby.config import Settings  # noqa: E402
from mjolby.db import Database, utcnow  # noqa: E402
from mjolby.hours import ServiceHours, load_schedule  # noqa: E402
from mjolby.insight import service  # noqa: E402
from mjolby.insight.calendar import WorkCalendar  # noqa: E402
from mjolby.insight.catalogue import load_catalogue  # noqa: E402
from mjolby.insight.models import InsightDay  # noqa: E402
from mjolby.insight.rollup import compute_day  # noqa: E402
from mjolby.main import create_app  # noqa: E402
from mjolby.migrate import upgrade_head  # noqa: E402
from mjolby.staff import service as staff_service  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "Gul-kanot-93-vinter"
MESSAGES = 5  # per conversation: greeting, question, answer (or "Menade du …?"), question, answer


# When the generated conversations start: busier by day, half of them between 08 and
# 17 local time, over the `days` days up to now.
SPREAD = """
    SELECT date_trunc('day', now() - (random() * ({days} - 1)) * interval '1 day')
           + CASE WHEN random() < 0.5 THEN interval '7 hours' + random() * interval '9 hours'
                  ELSE random() * interval '24 hours' END AS t
    FROM generate_series(1, :n)
"""
# Evenly between :first and :last (today's busy day).
BETWEEN = "SELECT :first + random() * (:last - :first) AS t FROM generate_series(1, :n)"


def generate(url: str, conversations: int, times: str, **params: object) -> None:
    """Add `conversations` conversations started at `times` (a query of `t` values,
    the later than now left out), with their messages, handovers and contact requests.
    Rows are written in time order, as the app writes them: a day's rows lie together."""
    catalogue = load_catalogue()
    answers = catalogue.ids("answer") + catalogue.ids("referral") + catalogue.ids("sensitive")
    topics = "ARRAY[" + ",".join(f"'{t}'" for t in answers) + "]"
    engine = create_engine(url, poolclass=NullPool)
    fallback = ('[[{"title":"Skolmat","payload":"/choose_topic{\\"topic\\":\\"skolmat\\"}"},'
                '{"title":"Prata med Medborgarservice","payload":"/handover_request"}]]')
    with engine.begin() as c:
        c.execute(text("SET LOCAL synchronous_commit = off"))
        c.execute(text("SET LOCAL work_mem = '256MB'"))
        c.execute(text(f"""
            CREATE TEMP TABLE plan ON COMMIT DROP AS
            SELECT gen_random_uuid()::text AS id, t AS created_at, random() < 0.12 AS fell_back,
                   random() < 0.6 AS picked,
                   ({topics})[1 + floor(random() * {len(answers)})::int] AS topic,
                   ({topics})[1 + floor(random() * {len(answers)})::int] AS topic2
            FROM ({times}) AS g
            WHERE t < now()
        """), {"n": conversations, **params})
        c.execute(text("""
            INSERT INTO conversations (id, state, locale, last_topic, client_key, created_at, updated_at)
            SELECT id, 'closed', 'sv', NULL, NULL, created_at, created_at + interval '4 minutes'
            FROM plan ORDER BY created_at
        """))
        c.execute(text(f"""
            INSERT INTO messages (conversation_id, sender, text, topic, extra_topics, links, buttons, pii_masked,
                                  created_at, agent_name, payload)
            SELECT p.id, m.sender, m.body, m.topic, '[]', '[]', m.buttons, false,
                   p.created_at + (m.n * interval '20 seconds'), NULL, m.payload
            FROM plan p CROSS JOIN LATERAL (VALUES
                (0, 'bot', 'Hej! Vad kan jag hjälpa dig med?', 'greet', '[]'::json, NULL),
                (1, 'user', 'En fråga', NULL, '[]'::json, NULL),
                (2, 'bot', 'Ett svar', CASE WHEN p.fell_back THEN NULL ELSE p.topic END,
                    CASE WHEN p.fell_back THEN '{fallback}'::json ELSE '[]'::json END, NULL),
                (3, 'user', 'En fråga till', NULL, '[]'::json,
                    CASE WHEN p.fell_back AND p.picked THEN '/choose_topic{{"topic":"skolmat"}}' END),
                (4, 'bot', 'Ett svar till', p.topic2, '[]'::json, NULL)
            ) AS m(n, sender, body, topic, buttons, payload)
            ORDER BY p.created_at + (m.n * interval '20 seconds'), p.id, m.n
        """))
        c.execute(text("""
            INSERT INTO handover_cases (conversation_id, status, reason, topic, created_at, claimed_at, outcome,
                                        rating, rated_at)
            SELECT id, CASE WHEN r < 0.1 THEN 'cancelled' ELSE 'closed' END,
                   (ARRAY['user_request', 'unresolved', 'sensitive'])[1 + floor(random() * 3)::int], topic,
                   created_at + interval '2 minutes',
                   CASE WHEN r < 0.1 THEN NULL ELSE created_at + interval '2 minutes' + random() * interval '40 minutes' END,
                   CASE WHEN r < 0.1 THEN NULL
                        ELSE (ARRAY['resolved', 'referred', 'needs_follow_up'])[1 + floor(random() * 3)::int] END,
                   CASE WHEN r >= 0.1 AND random() < 0.5 THEN 1 + floor(random() * 5)::int END, NULL
            FROM (SELECT id, topic, created_at, random() AS r FROM plan WHERE random() < 0.05) AS h
            ORDER BY created_at
        """))
        c.execute(text("""
            INSERT INTO contact_requests (conversation_id, reason, name, phone, topic, status, created_at, handled_at)
            SELECT id, 'callback', 'Namn', '0700000000', topic,
                   CASE WHEN handled IS NULL THEN 'open' ELSE 'closed' END, created_at + interval '3 minutes', handled
            FROM (SELECT id, topic, created_at,
                         CASE WHEN random() < 0.9 THEN created_at + random() * interval '3 days' END AS handled
                  FROM plan WHERE random() < 0.01) AS r
            WHERE handled IS NULL OR handled < now()
            ORDER BY created_at
        """))
    engine.dispose()


def analyse_and_count(url: str, since: datetime | None = None) -> dict[str, int]:
    """ANALYZE (what autovacuum does after a bulk load) and count the rows, from `since` if given."""
    engine = create_engine(url, poolclass=NullPool)
    where = "WHERE created_at >= :since" if since else ""
    with engine.connect() as c:
        if since is None:
            c.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        counts = {t: c.scalar(text(f"SELECT count(*) FROM {t} {where}"), {"since": since}) for t in
                  ("conversations", "messages", "handover_cases", "contact_requests")}
    engine.dispose()
    return counts


def spaced(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {t}".replace(",", " ") for t, n in counts.items())


def timed_gets(client: TestClient, path: str, cookie: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers={"Cookie": f"mjolby_staff={cookie}"})
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text[:300]
    return times


def fill_today(url: str, calendar: WorkCalendar, peak: int) -> dict[str, int]:
    """Bring today up to `peak` conversations, started between midnight and now:
    late in a busy day, when the page counts all of today live."""
    now = utcnow()
    first = calendar.day_bounds(calendar.local_day(now))[0]
    already = analyse_and_count(url, first)["conversations"]
    if peak > already:
        generate(url, peak - already, BETWEEN, first=first, last=now)
    return analyse_and_count(url, first)


def timed_count(database: Database, calendar: WorkCalendar, runs: int) -> float:
    """The median time of counting today from the live tables (what the page does for today)."""
    now = utcnow()
    times = []
    for _ in range(runs):
        with database.session() as db:
            started = time.perf_counter()
            compute_day(db=db, calendar=calendar, catalogue=load_catalogue(), day=calendar.local_day(now), now=now)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def loads(times: list[float]) -> str:
    return f"median {statistics.median(times):.3f} s, max {max(times):.3f} s over {len(times)} loads"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90, help="spread over this many days up to now")
    parser.add_argument("--peak", type=float, default=2.0,
                        help="today's volume in the busy-day measurement, times an average day's")
    parser.add_argument("--runs", type=int, default=5, help="warm page loads to measure")
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL") or DEFAULT_URL)
    args = parser.parse_args()
    calendar = WorkCalendar(ServiceHours(load_schedule()))
    target = 1.0

    with postgres_schema(args.database_url) as url, tempfile.TemporaryDirectory() as data_dir:
        upgrade_head(url)
        started = time.perf_counter()
        generate(url, args.conversations, SPREAD.format(days=args.days))
        print(f"Generated: {spaced(analyse_and_count(url))} in {time.perf_counter() - started:.1f} s")

        settings = Settings(_env_file=None, environment="development", data_dir=Path(data_dir),  # type: ignore[call-arg]
                            database_url=url, redis_url=None, log_level="WARNING")
        database = Database(url)
        with database.session() as db:
            staff_service.create_user(db=db, email="chef@mjolby.se", password=PASSWORD, role="admin")
        app = create_app(settings, database=database, run_migrations=False, import_knowledge=False)
        with TestClient(app) as client:
            signed_in = client.post("/api/v1/staff/session", json={"email": "chef@mjolby.se", "password": PASSWORD})
            assert signed_in.status_code == 200, signed_in.text
            cookie = signed_in.cookies["mjolby_staff"]
            client.cookies.clear()
            page = "/staff/insikt?period=30"
            cold = timed_gets(client, page, cookie, 1)[0]
            with database.session() as db:
                stored = db.scalar(select(func.count()).select_from(InsightDay))
            print(f"Page, 30 days, cold (rolls up the {stored} stored days of this and the previous period): "
                  f"{cold:.1f} s, {cold / max(stored, 1):.3f} s a day")
            # The nightly job for everything else, as the retention purge runs it.
            started = time.perf_counter()
            with database.session() as db:
                rolled = service.roll_up_days(db=db, hours=calendar.hours, now=utcnow())
            took = time.perf_counter() - started
            print(f"Nightly roll-up of the other {rolled} day(s): {took:.1f} s, {took / max(rolled, 1):.3f} s a day")
            warm = timed_gets(client, page, cookie, args.runs)
            print(f"Page, 30 days, warm (stored days + today live, as generated): {loads(warm)}")
            csv = timed_gets(client, "/staff/insikt/export.csv?period=30&tabell=alla", cookie, args.runs)
            print(f"CSV of every table, 30 days: median {statistics.median(csv):.3f} s")

            peak = round(args.peak * args.conversations / args.days)
            print(f"Today filled to {args.peak:g} times an average day: {spaced(fill_today(url, calendar, peak))}")
            print(f"Counting today live: median {timed_count(database, calendar, args.runs):.3f} s")
            busy = timed_gets(client, page, cookie, args.runs)
            print(f"Page, 30 days, busy day (stored days + the whole busy day live): {loads(busy)}")
            for name, times in (("warm page", warm), ("page on a busy day", busy)):
                print(f"Target: under {target:.0f} s for the {name}: "
                      f"{'met' if statistics.median(times) < target else 'NOT met'}")
        database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
