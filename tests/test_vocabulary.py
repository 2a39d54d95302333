"""One sport vocabulary whatever the source; the raw value is kept beside it."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from heavylegs_sync.categories import (
    FIT_SPORT,
    FIT_SUB_SPORT,
    STRAVA_GPX_CODE,
    STRAVA_SPORT,
    STRAVA_TYPE,
    fit_category,
    gpx_category,
    sport_name,
    strava_category,
)
from heavylegs_sync.importers import DecodeOptions, decode_file
from heavylegs_sync.model import Category
from heavylegs_sync.store import MIGRATIONS, Store, _statements
from heavylegs_sync.strava.mapping import to_activity
from tests.test_gpx_importer import gpx_text
from tests.test_store import make_activity
from tests.test_strava_units import SUMMARY

GPX_WORDS = [
    "run", "running", "jogging", "Trail Running", "street-running", "walk", "walking",
    "strength", "strength_training", "bike", "biking", "ride", "road_biking",
    "mountain_biking", "hike", "swim", "cycling", "yoga",
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "sub_sport", "expected"),
    [
        ("running", "generic", "running"),  # FIT
        ("run", None, "running"),  # GPX from most apps
        ("Run", None, "running"),  # Strava
        ("TrailRun", None, "running"),
        ("Trail Running", None, "running"),
        ("running", "treadmill", "running"),
        ("WeightTraining", None, "strength_training"),
        ("training", "strength_training", "strength_training"),
        ("training", "yoga", "yoga"),
        ("Yoga", None, "yoga"),
        ("training", "cardio_training", "training"),
        ("Workout", None, "training"),
        ("cycling", "virtual_activity", "cycling"),  # not a virtual run
        ("Ride", None, "cycling"),
        ("VirtualRide", None, "cycling"),
        ("NordicSki", None, "cross_country_skiing"),
        ("fitness_equipment", "elliptical", "elliptical"),
        ("Elliptical", None, "elliptical"),
        ("9", None, "running"),  # Strava's numeric GPX code
        ("SomethingNew", None, "something_new"),
        ("62", None, "62"),  # a FIT sport number fitparse does not name
        (None, None, None),
        ("", None, None),
    ],
)
def test_every_spelling_lands_on_one_name(
    raw: str | None, sub_sport: str | None, expected: str | None
) -> None:
    assert sport_name(raw, sub_sport) == expected


def _all_inputs() -> list[tuple[str, str | None, Category]]:
    """Every sport the mapping tables know, with the category its source gives it."""
    cases: list[tuple[str, str | None, Category]] = []
    for sport in FIT_SPORT:
        cases.append((sport, None, fit_category(sport, None)))
        for sub in FIT_SUB_SPORT:
            cases.append((sport, sub, fit_category(sport, sub)))
    cases += [(t, None, strava_category(t)) for t in STRAVA_TYPE]
    for word in [*GPX_WORDS, *STRAVA_GPX_CODE]:
        found = gpx_category(word)
        assert found is not None, word
        cases.append((word, None, found[1]))
    return cases


def test_each_name_means_one_category() -> None:
    """A name never stands for a run in one source and a ride in another."""
    categories: dict[str | None, set[Category]] = defaultdict(set)
    for raw, sub, category in _all_inputs():
        categories[sport_name(raw, sub)].add(category)
    mixed = {name: found for name, found in categories.items() if len(found) > 1}
    assert not mixed


def test_names_map_to_themselves() -> None:
    names = {sport_name(raw, sub) for raw, sub, _ in _all_inputs()} | set(STRAVA_SPORT.values())
    for name in names - {None}:
        assert sport_name(name) == name, name


def test_records_are_filed_under_the_vocabulary_where_they_are_built(
    db_path: Path, tmp_path: Path
) -> None:
    """Each importer (and Strava's mapping) names the sport in the vocabulary and keeps the
    source's spelling; the store keeps both as given."""
    options = DecodeOptions(zone=ZoneInfo("UTC"))
    built = [make_activity("s0", start=datetime(2026, 10, 1, 6, 0, tzinfo=UTC))]
    for i, raw in enumerate(("run", "Trail Running")):
        path = tmp_path / f"{i}.gpx"
        path.write_text(gpx_text(sport=raw, seconds=600 * (i + 1)))
        built += decode_file(path, path.read_bytes(), options)
    built.append(to_activity({**SUMMARY, "id": 7, "sport_type": "Run"}, None))
    assert [(a.sport, a.sport_raw) for a in built] == [
        ("running", "running"), ("running", "run"), ("running", "Trail Running"),
        ("running", "Run"),
    ]  # fmt: skip
    with Store.open(db_path) as store:
        for activity in built:
            store.add_activity(activity)
        stored = store.activities()
    assert sorted((a.source, a.sport, a.sport_raw) for a in stored) == [
        ("fit", "running", "running"), ("gpx", "running", "Trail Running"),
        ("gpx", "running", "run"), ("strava", "running", "Run"),
    ]  # fmt: skip


def test_migration_renames_existing_rows_and_keeps_the_raw_value(tmp_path: Path) -> None:
    """A store written before the vocabulary (schema 2) is migrated in place."""
    path = tmp_path / "old.sqlite"
    raw = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        for statement in _statements(script):
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 2")
    rows = [
        (1, "fit", "running", "generic", "run"),
        (2, "gpx", "run", None, "run"),
        (3, "strava", "Run", None, "run"),
        (4, "strava", "WeightTraining", None, "strength"),
        (5, "fit", "training", "strength_training", "strength"),
        (6, "gpx", None, None, "other"),
    ]
    for id_, source, sport, sub, category in rows:
        raw.execute(
            "INSERT INTO activities (id, source, source_id, sport, sub_sport, category, "
            "start_utc, utc_offset_s, offset_source, imported_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, 3600, 'device', '2026-01-01T00:00:00.000000Z')",
            (id_, source, f"x{id_}", sport, sub, category, f"2026-01-0{id_}T06:00:00.000000Z"),
        )
    raw.commit()
    raw.close()
    with Store.open(path) as store:
        assert store.schema_version() == len(MIGRATIONS)
    check = sqlite3.connect(path)
    migrated = check.execute("SELECT id, sport, sport_raw FROM activities ORDER BY id").fetchall()
    check.close()
    assert migrated == [
        (1, "running", "running"),
        (2, "running", "run"),
        (3, "running", "Run"),
        (4, "strength_training", "WeightTraining"),
        (5, "strength_training", "training"),
        (6, None, None),
    ]


def test_strava_fit_and_gpx_runs_share_one_name(tmp_path: Path) -> None:
    """End to end: a quiet nightly sync from a Strava server on 127.0.0.1, then files."""
    from datetime import UTC, datetime

    from tests.conftest import FILES, SAMPLE, heavylegs_cli
    from tests.strava_server import FakeStrava, make_history

    history = make_history(6, start=datetime(2025, 3, 3, 6, tzinfo=UTC),
                           kinds=("Run", "TrailRun", "WeightTraining"))  # fmt: skip
    with FakeStrava(history) as fake:
        env = {"HEAVYLEGS_DB": str(tmp_path / "store.sqlite"),
               "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
               "HEAVYLEGS_STRAVA_API_URL": fake.url, "STRAVA_CLIENT_ID": "1234",
               "STRAVA_CLIENT_SECRET": "s3cret", "NO_PROXY": "127.0.0.1,localhost"}  # fmt: skip
        connect = heavylegs_cli("strava", "connect", "--code", fake.issue_code(), env=env)
        assert connect.returncode == 0, connect.stderr
        synced = heavylegs_cli("-q", "strava", "sync", env=env)
        assert synced.returncode == 0 and synced.stdout == "" and synced.stderr == ""
    files = [SAMPLE / "2026-09-29-0700-run.fit", FILES / "strava-style.gpx"]
    imported = heavylegs_cli("import", *map(str, files), env=env)
    assert imported.returncode == 0, imported.stderr
    raw = sqlite3.connect(tmp_path / "store.sqlite")
    rows = raw.execute("SELECT source, sport_raw, sport, category FROM activities").fetchall()
    raw.close()
    by_raw = {(source, sport_raw): (sport, category) for source, sport_raw, sport, category in rows}
    assert by_raw[("strava", "Run")] == ("running", "run")
    assert by_raw[("strava", "TrailRun")] == ("running", "run")
    assert by_raw[("strava", "WeightTraining")] == ("strength_training", "strength")
    assert by_raw[("fit", "running")] == ("running", "run")
    assert {sport for (source, _), (sport, _) in by_raw.items() if source == "gpx"} == {"running"}
