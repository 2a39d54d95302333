"""The same store on both backends: PostgreSQL gives the figures SQLite gives (issue 23).

The sample athlete imported by the real command into an SQLite file and into a real
PostgreSQL database: the report, today's answer, the listings and the views other tools
read are the same, value for value.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from heavylegs_sync.model import Category
from heavylegs_sync.store import SCHEMA_VERSION, Store
from heavylegs_sync.store.postgres import PgConnection
from tests.conftest import SAMPLE, SAMPLE_CONFIG, copy_sample, heavylegs_cli
from tests.histories import activity

pytestmark = pytest.mark.postgresql
UNTIL = "2026-11-30"


def run(target: str | Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = heavylegs_cli("--db", str(target), "--config", str(SAMPLE_CONFIG), *args, env={})
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def both(sample_template: Path, tmp_path: Path, pg_url: str) -> tuple[Path, str]:
    run(pg_url, "import", str(SAMPLE))
    return copy_sample(sample_template, tmp_path), pg_url


@pytest.mark.parametrize(
    "command",
    [
        ("report", "--format", "json", "--until", UNTIL),
        ("report", "--until", UNTIL),
        ("today", "--date", "2026-11-20", "--format", "json"),
        ("activities", "--format", "json"),
        ("wellness", "--format", "json"),
    ],
    ids=["report-json", "report-text", "today", "activities", "wellness"],
)
def test_the_same_answers_from_either_backend(
    both: tuple[Path, str], command: tuple[str, ...]
) -> None:
    sqlite_store, url = both
    assert run(sqlite_store, *command).stdout == run(url, *command).stdout


def _rows(fetched: list[Any], names: list[str]) -> list[dict[str, Any]]:
    return [dict(zip(names, row, strict=True)) for row in fetched]


@pytest.mark.parametrize("view", ["activities_local", "weekly", "wellness_days"])
def test_the_views_agree(both: tuple[Path, str], view: str) -> None:
    """The views other tools read: PostgreSQL's spelling (store/dialect.py) gives SQLite's
    rows, column for column."""
    sqlite_store, url = both
    order = {"activities_local": "id", "weekly": "week_start", "wellness_days": "date"}[view]
    sql = f"SELECT * FROM {view} ORDER BY athlete_id, {order}"
    raw = sqlite3.connect(f"file:{sqlite_store}?mode=ro", uri=True)
    cursor = raw.execute(sql)
    lite = _rows(cursor.fetchall(), [d[0] for d in cursor.description])
    raw.close()
    with psycopg.connect(url) as server:
        found = server.execute(sql)
        names = [d.name for d in found.description or ()]
        pg = _rows(found.fetchall(), names)
    assert list(pg[0]) == list(lite[0])  # the same columns, in the same order
    assert len(pg) == len(lite) >= 8  # eight weeks at least
    for mine, theirs in zip(pg, lite, strict=True):
        for key, value in theirs.items():
            if isinstance(value, float):
                assert mine[key] == pytest.approx(value), (key, mine, theirs)
            else:
                assert mine[key] == value, (key, mine, theirs)


def test_an_athletes_listing_names_them_on_both(both: tuple[Path, str]) -> None:
    _, url = both
    for target in both:
        listed = run(target, "athletes", "list").stdout.splitlines()
        assert [line.split()[0] for line in listed] == ["athlete", "me"]
    assert json.loads(run(url, "activities", "--format", "json").stdout)


def test_a_server_that_fails_is_one_line_without_the_password(pg_url: str) -> None:
    closed = "postgresql://heavy:s3cret-pw@127.0.0.1:1/nowhere"
    for args in (("report",), ("import", str(SAMPLE / "heavylegs.toml")), ("info",)):
        done = heavylegs_cli("--db", closed, *args, env={})
        assert done.returncode == 1, done.stdout
        assert "cannot reach the database" in done.stderr and "Traceback" not in done.stderr
        assert "s3cret-pw" not in done.stderr + done.stdout and "heavy:***@" in done.stderr
    missing = pg_url.rsplit("/", 1)[0] + "/no_such_database"
    done = heavylegs_cli("--db", missing, "report", env={})
    assert done.returncode == 1 and 'database "no_such_database" does not exist' in done.stderr
    empty = heavylegs_cli("--db", pg_url, "info", env={})
    assert empty.returncode == 0 and "does not exist yet" in empty.stdout
    report = heavylegs_cli("--db", pg_url, "report", env={})
    assert report.returncode == 1 and "no heavylegs store in this database yet" in report.stderr
    check = heavylegs_cli("--db", pg_url, "check", env={})
    assert check.returncode == 1 and "reads SQLite files" in check.stderr


def test_the_schema_version_in_and_out_of_a_transaction(pg_url: str) -> None:
    """Between transactions one statement reads it: a database without the table answers
    0 ("no store yet"), the error taking nothing with it. In a transaction, which an error
    would end, the table is looked for first: the transaction goes on."""
    with psycopg.connect(pg_url, autocommit=True) as raw:
        bare = PgConnection(raw, "bare")
        assert bare.schema_version() == 0
        with bare.write() as db:
            assert bare.schema_version() == 0
            assert db.execute("SELECT 1 AS one").fetchone()["one"] == 1
    run(pg_url, "athletes", "add", "ana")  # a command that writes creates the store
    with Store.open(pg_url, unscoped=True) as store:
        assert store.schema_version() == SCHEMA_VERSION
        with store.connection.write() as db:
            assert store.schema_version() == SCHEMA_VERSION
            assert db.execute("SELECT count(*) AS n FROM athletes").fetchone()["n"] == 1


def _schema_12(target: str) -> None:
    """A store as schema 12 left it, on either backend: one athlete and one Strava
    activity with Strava's JSON in the record (its zone names where the athlete was)."""
    from heavylegs_sync.categories import sport_name
    from heavylegs_sync.store import dialect
    from heavylegs_sync.store.schema import MIGRATIONS, _statements

    athlete = (
        "INSERT INTO athletes (id, name, created_at) VALUES (1, 'ana', '2026-01-01T00:00:00Z')"
    )
    activity = (
        "INSERT INTO activities (athlete_id, source, source_id, category, start_utc,"
        " utc_offset_s, offset_source, imported_at, raw_json) VALUES (1, 'strava', '42',"
        " 'run', '2026-10-01T05:00:00.000000Z', 7200, 'device', '2026-10-02T00:00:00Z', ?)"
    )
    summary = json.dumps({"id": 42, "timezone": "(GMT+01:00) Europe/Berlin",
                          "start_date_local": "2026-10-01T07:00:00Z"})  # fmt: skip
    if target.startswith("postgresql"):
        with psycopg.connect(target, autocommit=True) as raw, raw.transaction():
            for number in range(12):
                for sql in _statements(dialect.migration(number)):
                    raw.execute(sql)
            raw.execute("CREATE TABLE heavylegs_schema (version INTEGER NOT NULL)")
            raw.execute("INSERT INTO heavylegs_schema (version) VALUES (12)")
            raw.execute(athlete)
            raw.execute(activity.replace("?", "%s"), (summary,))
        return
    with closing(sqlite3.connect(target)) as file:
        file.create_function("heavylegs_sport_name", 2, sport_name)  # as Store.open does
        for script in MIGRATIONS[:12]:
            for sql in _statements(script):
                file.execute(sql)
        file.execute("PRAGMA user_version = 12")
        file.execute(athlete)
        file.execute(activity, (summary,))
        file.commit()


def test_schema_13_keeps_stravas_json_beside_the_record(backend: str) -> None:
    """Migrating moves Strava's JSON out of the activities table into ``strava_json``
    (nothing lost: the zone it names still places the athlete), on either backend; a
    sync then keeps a summary there too, and purging the activities takes it along."""
    _schema_12(backend)
    with Store.open(backend) as store:
        assert store.schema_version() == SCHEMA_VERSION
        evidence = store.offsets_from_sources()
        assert [(e[3], e[5]) for e in evidence] == [("42", "(GMT+01:00) Europe/Berlin")]
        (first,) = store.activities()
        assert store.add_strava(43, replace(first, source_id="43", id=None), '{"id": 43}')
        with store.connection.write() as db:
            kept = db.execute("SELECT activity_id, raw_json FROM strava_json").fetchall()
            if backend.startswith("postgresql"):  # dropped, the table rewritten without it
                dropped = db.execute(
                    "SELECT count(*) FROM information_schema.columns"
                    " WHERE table_name = 'activities' AND column_name = 'raw_json'"
                ).fetchone()[0]
                assert dropped == 0
            else:  # SQLite keeps the column, emptied
                assert [r[0] for r in db.execute("SELECT raw_json FROM activities")] == [
                    None,
                    None,
                ]
        ids = {a.source_id: a.id for a in store.activities()}
        assert sorted((r[0], json.loads(r[1])["id"]) for r in kept) == [
            (ids["42"], 42),
            (ids["43"], 43),
        ]
        assert store.purge_source("strava") == 2
        with store.connection.write() as db:
            assert db.execute("SELECT count(*) FROM strava_json").fetchone()[0] == 0


def test_a_part_of_the_coachs_view_runs_its_queries_alone(backend: str) -> None:
    """The coach's view in parts turns the server's parallel workers off for each part's
    session and prices an index lookup as a read from memory, keeping a server's lower
    price (PostgreSQL); on SQLite, which has neither, the call changes nothing."""
    with Store.open(backend) as store:
        store.add_activity(activity(Category.RUN, date(2026, 3, 2), 30))
    for server_price, price in (("4", "1.1"), ("0.9", "0.9")):
        with Store.open(backend, read_only=True) as store:
            pg = backend.startswith("postgresql")
            if pg:
                store.connection.db.execute(f"SET random_page_cost = {server_price}")
            store.connection.for_a_part()
            assert len(store.activities()) == 1
            if pg:
                assert _part_settings(store) == ("0", price)
                # A connection lost and made again runs with them too, not the server's.
                pid = store.connection.db.execute("SELECT pg_backend_pid()").fetchone()[0]
                with psycopg.connect(backend, autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                assert len(store.activities()) == 1
                assert store.connection.db.execute("SELECT pg_backend_pid()").fetchone()[0] != pid
                # (The "server's" 0.9 was this session's own: a new one starts at 4.)
                assert _part_settings(store) == ("0", "1.1")


def _part_settings(store: Store) -> tuple[str, str]:
    """The session's parallel workers per gather and random page cost, as SHOW says."""
    db = store.connection.db
    workers = db.execute("SHOW max_parallel_workers_per_gather").fetchone()[0]
    return str(workers), str(db.execute("SHOW random_page_cost").fetchone()[0])
