"""The SQL views other tools read (Datasette, sqlite3), queried in a real SQLite file with
a plain connection: no heavylegs code, no custom SQL functions."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from heavylegs_sync.config import load_settings
from heavylegs_sync.diagnosis import analyse_store
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.ingest import import_paths
from heavylegs_sync.model import Category
from heavylegs_sync.report.json import to_dict
from heavylegs_sync.store import Store
from tests.conftest import BERLIN, SAMPLE
from tests.test_store import make_activity

FIRST, LAST = date(2026, 9, 28), date(2026, 11, 22)


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("views") / "heavylegs.sqlite"
    with Store.open(path) as store:
        summary = import_paths(store, [SAMPLE], DecodeOptions(zone=BERLIN))
    assert summary.failed == 0 and summary.new > 40
    return path


def query(path: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    raw.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in raw.execute(sql, params)]
    finally:
        raw.close()


def test_weekly_matches_the_report(sample_store: Path) -> None:
    settings = load_settings(config=SAMPLE / "heavylegs.toml", db=sample_store)
    with Store.open(sample_store, read_only=True) as store:
        report = to_dict(analyse_store(store, settings, LAST, FIRST))
    weekly = query(sample_store, "SELECT * FROM weekly")
    assert [w["week_start"] for w in weekly] == [w["week_start"] for w in report["weeks"]]
    for row, week in zip(weekly, report["weeks"], strict=True):
        assert row["run_seconds"] == pytest.approx(week["run_seconds"], abs=0.5)
        assert row["run_distance_m"] == pytest.approx(week["run_distance_m"], abs=0.1)
        assert row["strength_sessions"] == week["strength_sessions"]
        assert row["rest_days"] == week["rest_days"]
        assert row["activities"] == week["activities"]
        iso = date.fromisoformat(row["week_start"]).isocalendar()
        assert row["iso_week"] == f"{iso.year}-W{iso.week:02d}"
    # The planted week without rest days (2026-10-05) is visible in plain SQL.
    assert [w["week_start"] for w in weekly if w["rest_days"] == 0] == ["2026-10-05"]


def test_activities_local_gives_the_local_day(sample_store: Path) -> None:
    rows = query(sample_store, "SELECT * FROM activities_local WHERE local_date = '2026-10-14'")
    midnight = [r for r in rows if r["local_time"] == "00:20:00"]
    assert len(midnight) == 1  # Tuesday 22:20 UTC is Wednesday 00:20 in Berlin
    run = midnight[0]
    assert (run["weekday"], run["utc_offset"], run["category"], run["sport"]) == (
        "Wed", "+02:00", "run", "running",
    )  # fmt: skip
    assert run["start_utc"].startswith("2026-10-13T22:20")
    assert run["iso_week"] == "2026-W42" and run["week_start"] == "2026-10-12"
    assert run["source_path"].endswith("2026-10-14-0020-run.fit")
    assert Path(run["source_path"]).is_absolute()
    winter = query(sample_store, "SELECT utc_offset FROM activities_local WHERE local_date = ?",
                   "2026-11-03")  # fmt: skip
    assert {r["utc_offset"] for r in winter} == {"+01:00"}
    count = query(sample_store, "SELECT count(*) AS n FROM activities_local")[0]["n"]
    assert count == len([p for p in SAMPLE.iterdir() if p.suffix in (".fit", ".gpx")])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "s.sqlite") as opened:
        yield opened


@pytest.mark.parametrize(
    ("start_utc", "offset_s"),
    [
        (datetime(2027, 1, 1, 9, 0, tzinfo=UTC), 3600),  # Friday of 2026-W53
        (datetime(2024, 12, 30, 9, 0, tzinfo=UTC), 0),  # Monday of 2025-W01
        (datetime(2026, 10, 6, 2, 0, tzinfo=UTC), -5 * 3600),  # Monday evening in New York
        (datetime(2026, 10, 5, 23, 30, tzinfo=UTC), 5 * 3600 + 1800),  # Tuesday in India
    ],
)
def test_local_day_and_iso_week_agree_with_python(
    store: Store, start_utc: datetime, offset_s: int
) -> None:
    activity = replace(make_activity("x", start=start_utc, offset=offset_s), samples=None)
    store.add_activity(activity)
    (row,) = query(Path(store.path), "SELECT * FROM activities_local")
    local = activity.start_local
    iso = local.isocalendar()
    assert row["local_date"] == local.date().isoformat()
    assert row["local_time"] == local.strftime("%H:%M:%S")
    assert row["weekday"] == local.strftime("%a")
    assert row["iso_week"] == f"{iso.year}-W{iso.week:02d}"
    assert row["week_start"] == (local.date() - timedelta(days=local.weekday())).isoformat()
    hours, minutes = divmod(abs(offset_s) // 60, 60)
    assert row["utc_offset"] == f"{'-' if offset_s < 0 else '+'}{hours:02d}:{minutes:02d}"


def test_a_copy_from_another_source_is_one_row(store: Store) -> None:
    fit = make_activity("fit-1")
    strava = replace(make_activity("123", start=fit.start_utc + timedelta(seconds=20)),
                     source="strava", sport="running", sport_raw="Run",
                     samples=None)  # fmt: skip
    store.add_file("/data/run.fit", "sha", 100, [fit])
    store.add_activity(strava)
    rows = query(Path(store.path), "SELECT sources, sport, sport_raw FROM activities_local")
    assert rows == [{"sources": "fit,strava", "sport": "running", "sport_raw": "running"}]


def test_weekly_holds_empty_weeks_between(store: Store) -> None:
    monday = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    store.add_activity(replace(make_activity("a", start=monday, offset=0), samples=None))
    later = monday + timedelta(weeks=2, days=2)
    strength = replace(make_activity("b", start=later, offset=0, category=Category.STRENGTH),
                       sport="strength_training", sport_raw="WeightTraining",
                       samples=None)  # fmt: skip
    store.add_activity(strength)
    weekly = query(
        Path(store.path), "SELECT week_start, runs, strength_sessions, rest_days FROM weekly"
    )
    assert weekly == [
        {"week_start": "2026-03-02", "runs": 1, "strength_sessions": 0, "rest_days": 6},
        {"week_start": "2026-03-09", "runs": 0, "strength_sessions": 0, "rest_days": 7},
        {"week_start": "2026-03-16", "runs": 0, "strength_sessions": 1, "rest_days": 6},
    ]


def test_views_are_empty_on_an_empty_store(store: Store) -> None:
    assert query(Path(store.path), "SELECT * FROM weekly") == []
    assert query(Path(store.path), "SELECT * FROM activities_local") == []


def doc_blocks(language: str) -> list[str]:
    text = (Path(__file__).resolve().parent.parent / "docs" / "store.md").read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_the_documented_sql_runs(sample_store: Path) -> None:
    (sql,) = doc_blocks("sql")
    statements = [s.strip() for s in sql.split(";") if s.strip()]
    assert len(statements) == 4
    results = [query(sample_store, statement) for statement in statements]
    assert len(results[0]) == 8 and results[1] == [{"week_start": "2026-10-05", "training_days": 7}]
    assert results[2] and all(r["local_date"].startswith("2026-10") for r in results[2])
    assert {(r["sport"], r["sport_raw"]) for r in results[3]} >= {("running", "running")}


def test_the_documented_blob_decoder(sample_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python in docs/store.md decodes a blob exactly as the store does."""
    (code,) = doc_blocks("python")
    monkeypatch.chdir(sample_store.parent)
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/store.md", "exec"), namespace)
    with Store.open(sample_store, read_only=True) as store:
        samples = store.samples(2)
    assert samples is not None and samples.hr is not None
    assert namespace["t_s"] == pytest.approx(samples.t)
    assert set(namespace["channels"]) == {"hr", "speed", "distance", "cadence"} - {
        name for name in ("hr", "speed", "distance", "cadence") if samples.channel(name) is None
    }
    assert namespace["channels"]["hr"] == pytest.approx(samples.hr, nan_ok=True)
