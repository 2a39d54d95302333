"""A Garmin Connect data export's wellness files (nights, resting HR, HRV), read for real.

Exports are written by ``fixtures/_gen_garmin_wellness.py`` in the shapes real exports
have, imported through the real command into a real SQLite store, zipped and unpacked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from _gen_garmin_wellness import (
    AGGREGATOR,
    WELLNESS,
    Export,
    Night,
    members,
    weeks,
    write_folder,
    write_zip,
)

from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.importers.garmin_wellness import read_garmin_wellness
from heavylegs_sync.importers.wellness_read import reader_for
from heavylegs_sync.model import WellnessRecord, WellnessSource
from heavylegs_sync.store import Store
from heavylegs_sync.wellness import merge_days
from tests.conftest import BERLIN, SAMPLE, heavylegs_cli

FIRST = date(2026, 11, 2)
DAYS = 14
SPAN = "2026-09-01_2026-12-09_123456789"
SLEEP = f"{WELLNESS}{SPAN}_sleepData.json"
UDS = f"{AGGREGATOR}UDSFile_2026-09-01_2026-12-09.json"
HEALTH = f"{WELLNESS}{SPAN}_healthStatusData.json"


def run(db: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(config or SAMPLE / "heavylegs.toml")}
    return heavylegs_cli(*args, env=env, timeout=180)


def stored(db: Path) -> dict[date, tuple[float | None, float | None, float | None]]:
    with Store.open(db, read_only=True) as store:
        return {
            r.day: (r.sleep_s, r.resting_hr, r.hrv_ms)
            for r in store.wellness()
            if r.source is WellnessSource.GARMIN
        }


def read(name: str, entries: object) -> tuple[list[WellnessRecord], list[str]]:
    path = Path(f"export.zip!{name}")
    result = read_garmin_wellness(path, json.dumps(entries).encode(), DecodeOptions(zone=BERLIN))
    return list(result.records), result.problems


# -- the shapes --------------------------------------------------------------------------


def test_a_night_is_its_stages_asleep_on_its_wake_date_in_utc() -> None:
    night = Night(FIRST, deep_s=5400, light_s=14_400, rem_s=5400, awake_s=1200)
    entries = json.loads(members(Export(nights=[night]))[SLEEP])
    records, problems = read(SLEEP, entries)
    assert problems == []
    # {"retro": false}, the night off the wrist and the unconfirmed window are no nights.
    (record,) = records
    assert record.day == FIRST
    assert record.sleep_s == 25_200  # awake time excluded
    assert (record.deep_s, record.light_s, record.rem_s, record.awake_s) == (
        5400,
        14_400,
        5400,
        1200,
    )
    assert record.sleep_start == datetime(2026, 11, 1, 22, 0, tzinfo=UTC)
    assert record.sleep_end == datetime(2026, 11, 2, 5, 20, tzinfo=UTC)


def test_connects_api_form_and_older_exports_are_read_too() -> None:
    start = datetime(2026, 11, 3, 21, 30, tzinfo=UTC)
    entries = [
        {  # Connect's API form: epoch milliseconds, a total without stages
            "calendarDate": "2026-11-04",
            "sleepTimeSeconds": 26_000,
            "sleepStartTimestampGMT": int(start.timestamp() * 1000),
            "sleepEndTimestampGMT": int((start + timedelta(hours=8)).timestamp() * 1000),
            "somethingNew": {"nested": [1, 2]},
        },
        {"calendarDate": {"date": "Nov 5, 2026 12:00:00 AM"}, "deepSleepSeconds": 3600},
    ]
    records, problems = read(SLEEP, entries)
    assert problems == []
    assert [(r.day, r.sleep_s, r.sleep_start) for r in records] == [
        (date(2026, 11, 4), 26_000, start),
        (date(2026, 11, 5), 3600, None),
    ]


def test_resting_hr_is_the_days_value_and_hrv_the_metric_of_its_type() -> None:
    export = Export(resting={FIRST: 47}, hrv={FIRST: 61.0, FIRST + timedelta(days=1): None})
    files = members(export)
    (day,), problems = read(UDS, json.loads(files[UDS]))
    assert problems == [] and day.resting_hr == 47  # not 99
    (night,), problems = read(HEALTH, json.loads(files[HEALTH]))
    # The onboarding day's HRV has no value: no record for it.
    assert problems == [] and (night.day, night.hrv_ms) == (FIRST, 61.0)


def test_a_day_given_twice_in_one_file_is_one_record_the_later_winning() -> None:
    entries = [
        {"calendarDate": "2026-11-02", "restingHeartRate": 50},
        {"calendarDate": "2026-11-02", "restingHeartRate": 48},
    ]
    (record,), _ = read(UDS, entries)
    assert record.resting_hr == 48


def test_only_the_exports_wellness_files_are_taken() -> None:
    for name in (SLEEP, UDS, HEALTH, "x_SLEEPDATA.JSON"):
        assert reader_for(Path(name), b"[]") is read_garmin_wellness, name
    for name in (f"{WELLNESS}123_fitnessAgeData.json", "sleepData.csv", "UDSFile.txt"):
        assert reader_for(Path(name), b"[]") is not read_garmin_wellness, name


# -- the export, end to end --------------------------------------------------------------


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("garmin")
    files = members(weeks(FIRST, DAYS))
    return write_zip(folder / "export.zip", files), write_folder(folder / "unpacked", files)


def test_the_zipped_export_gives_its_days_and_a_second_import_nothing(
    tmp_path: Path, export: tuple[Path, Path]
) -> None:
    archive, _ = export
    db = tmp_path / "store.sqlite"
    first = run(db, "-v", "import", str(archive))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        f"3 new ({DAYS} wellness days), 0 already imported, 0 skipped, 0 failed"
    )
    assert f"imported {archive}!{SLEEP} ({DAYS} wellness days)" in first.stderr
    expected = weeks(FIRST, DAYS)
    days = stored(db)
    assert sorted(days) == [FIRST + timedelta(days=i) for i in range(DAYS)]
    for night in expected.nights:
        assert days[night.wake] == (
            night.asleep_s,
            expected.resting[night.wake],
            expected.hrv[night.wake],
        )
    again = run(db, "import", str(archive))
    assert again.returncode == 0
    assert again.stdout.strip() == "0 new, 3 already imported, 0 skipped, 0 failed"
    info = run(db, "info")
    wellness = next(x for x in info.stdout.splitlines() if x.startswith("wellness:"))
    last = FIRST + timedelta(days=DAYS - 1)
    assert wellness.split(":", 1)[1].strip() == f"garmin {DAYS} days ({FIRST} .. {last})"


def test_the_unpacked_export_is_read_like_the_zip(
    tmp_path: Path, export: tuple[Path, Path]
) -> None:
    archive, folder = export
    from_folder, from_zip = tmp_path / "folder.sqlite", tmp_path / "zip.sqlite"
    done = run(from_folder, "import", str(folder))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"3 new ({DAYS} wellness days), 0 already imported, 0 skipped, 0 failed"
    )
    run(from_zip, "import", str(archive))
    assert stored(from_folder) == stored(from_zip)
    # The same files again, zipped: known by their content.
    assert run(from_folder, "import", str(archive)).stdout.startswith("0 new, 3 already")


def test_the_watcher_takes_an_unpacked_export(tmp_path: Path, export: tuple[Path, Path]) -> None:
    _, unpacked = export
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_folder(inbox / "garmin", members(weeks(FIRST, DAYS)))
    db = tmp_path / "store.sqlite"
    env = {
        **os.environ,
        "HEAVYLEGS_DB": str(db),
        "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "heavylegs_sync", "-v", "watch", str(inbox), "--once",
         "--settle", "0.2"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"_sleepData.json ({DAYS} wellness days)" in result.stderr
    assert "fitnessAgeData" not in result.stderr and "course.fit" not in result.stderr
    assert stored(db) == stored_from(unpacked, tmp_path)


def stored_from(folder: Path, tmp_path: Path) -> dict[date, tuple[float | None, ...]]:
    db = tmp_path / "reference.sqlite"
    run(db, "import", str(folder))
    return dict(stored(db))


def test_the_same_night_from_garmin_and_a_csv_is_one_value_the_richer_winning(
    tmp_path: Path, export: tuple[Path, Path]
) -> None:
    archive, _ = export
    csv = tmp_path / "oura-wellness.csv"
    csv.write_text(
        "date,sleep_hours,resting_hr,hrv_ms\n"
        f"{FIRST},8.5,60,40\n"
        f"{FIRST - timedelta(days=1)},6.0,52,\n"
    )
    db = tmp_path / "store.sqlite"
    done = run(db, "import", str(archive), str(csv))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"4 new ({DAYS + 1} wellness days)")
    with Store.open(db, read_only=True) as store:
        days = merge_days(store.wellness())
    garmin = weeks(FIRST, DAYS)
    first = days[FIRST]
    # Garmin's night has stages; its export outranks the CSV for resting HR and HRV too.
    assert (first.sleep_s, first.sleep_source) == (garmin.nights[0].asleep_s, "garmin")
    assert (first.resting_hr, first.resting_hr_source) == (garmin.resting[FIRST], "garmin")
    assert (first.hrv_ms, first.hrv_source) == (garmin.hrv[FIRST], "garmin")
    only_csv = days[FIRST - timedelta(days=1)]
    assert (only_csv.sleep_s, only_csv.resting_hr, only_csv.hrv_ms) == (6 * 3600, 52, None)


# -- hostile input -----------------------------------------------------------------------


def test_bad_entries_and_files_are_one_line_each_and_nothing_wrong_is_stored(
    tmp_path: Path,
) -> None:
    export = weeks(FIRST, 7)
    old = date(1900, 1, 1)
    export.extra_sleep = [
        {"calendarDate": "2026-11-20", "deepSleepSeconds": -3600, "lightSleepSeconds": 7200},
        {"calendarDate": old.isoformat(), "deepSleepSeconds": 3600, "lightSleepSeconds": 7200},
        {"calendarDate": "2026-11-21", "remSleepSeconds": "lots"},
    ]
    export.extra_days = [
        {"calendarDate": "2026-11-22", "restingHeartRate": 0},
        {"calendarDate": "2026-11-23", "restingHeartRate": 300},
        "not a day",
    ]
    inbox = write_folder(tmp_path / "in", members(export))
    wellness = inbox / "DI_CONNECT" / "DI-Connect-Wellness"
    (wellness / "broken_sleepData.json").write_text('[{"calendarDate": "2026-11-02", ')
    (wellness / "deep_healthStatusData.json").write_text("[" * 100_000 + "]" * 100_000)
    huge = wellness / "huge_sleepData.json"
    with huge.open("wb") as handle:  # 1 GB on paper, no space on disk
        handle.truncate(1024**3)
    big = wellness / "big_healthStatusData.json"
    big.write_text(json.dumps([{"calendarDate": "2026-11-02", "pad": "x" * 17 * 1024**2}]))
    csv = inbox / "oura-wellness.csv"
    csv.write_text("date,sleep_hours,resting_hr\n2026-11-24,7.0,0\n2026-11-25,7.5,51\n")
    db = tmp_path / "store.sqlite"
    done = run(db, "import", str(inbox))
    assert done.returncode == 1
    sleep = inbox / SLEEP
    uds = inbox / UDS
    entries = len(export.nights) + 3  # {"retro": false}, off the wrist, unconfirmed
    assert sorted(done.stderr.splitlines()) == sorted(
        [
            f"error: {wellness}/big_healthStatusData.json: larger than 16 MB: no Garmin"
            " wellness file is",
            f"error: {wellness}/broken_sleepData.json: not valid JSON (Expecting property"
            " name enclosed in double quotes at line 1 column 33)",
            f"error: {wellness}/deep_healthStatusData.json: JSON nested too deeply to read",
            f"error: {huge}: larger than 100 MB (setting [import] max_file_mb)",
            f'error: {sleep}: entry {entries + 3} (2026-11-21): remSleepSeconds "lots" is'
            " not a number",
            f"error: {sleep}: entry {entries + 1}: deep sleep of -3600.0 s on 2026-11-20 is"
            " not a night's",
            f"error: {sleep}: entry {entries + 2}: date 1900-01-01 is outside 2000-01-01..today",
            f"error: {uds}: entry 10: not an object but a string",
            # Garmin writes 0 for a day without a value: a warning, nothing stored.
            f"warning: {uds}: restingHeartRate 0 on 1 day (2026-11-22): Garmin's mark for a"
            " day without a measurement, not stored",
            f"error: {uds}: entry 9: resting heart rate 300 bpm on 2026-11-23 is not a person's",
            f"error: {csv}: line 2: resting heart rate 0 bpm on 2026-11-24 is not a person's",
        ]
    )
    assert done.stdout.strip() == (
        "4 new (8 wellness days), 0 already imported, 0 skipped, 4 failed, 6 rows left out"
    )
    days = stored(db)
    assert sorted(days) == [FIRST + timedelta(days=i) for i in range(7)]
    assert all(s is None or s > 0 for s, _, _ in days.values())
    with Store.open(db, read_only=True) as store:
        rows = store.wellness()
    assert {r.day for r in rows if r.source is WellnessSource.CSV} == {date(2026, 11, 25)}
    assert all(r.resting_hr is None or 25 <= r.resting_hr <= 120 for r in rows)
    assert all(r.day.year > 2000 for r in rows)


def test_a_json_over_a_lowered_cap_is_refused_in_the_zip_too(tmp_path: Path) -> None:
    files = members(weeks(FIRST, 3))
    files[f"{WELLNESS}big_sleepData.json"] = b"[" + b" " * (2 * 1024**2) + b"]"
    archive = write_zip(tmp_path / "export.zip", files)
    config = tmp_path / "config.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\n[import]\nmax_file_mb = 1\n')
    done = run(tmp_path / "store.sqlite", "import", str(archive), config=config)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {archive}!{WELLNESS}big_sleepData.json: larger than 1 MB once decompressed"
        " (setting [import] max_file_mb)"
    ]
    assert done.stdout.startswith("3 new (3 wellness days)")


def test_a_csv_row_the_checks_refuse_is_named_by_its_line(tmp_path: Path) -> None:
    csv = tmp_path / "wellness.csv"
    csv.write_text(
        f"date,sleep_hours,resting_hr\n{FIRST},7.5,48\n{FIRST + timedelta(days=1)},-1,49\n"
    )
    done = run(tmp_path / "store.sqlite", "import", str(csv))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {csv}: line 3: sleep of -3600.0 s on {FIRST + timedelta(days=1)} is not a night's"
    ]
    assert done.stdout.strip() == (
        "1 new (1 wellness day), 0 already imported, 0 skipped, 0 failed, 1 row left out"
    )


def test_an_empty_wellness_file_is_skipped_not_failed(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "2026_healthStatusData.json").write_text("[]")
    done = run(tmp_path / "store.sqlite", "-vv", "import", str(inbox))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 new, 0 already imported, 1 skipped, 0 failed"
    assert "no sleep, resting heart rate or HRV in it" in done.stderr


# -- forget ------------------------------------------------------------------------------


def test_forgetting_a_file_takes_its_days_and_says_whose_values_went_with_them(
    tmp_path: Path, export: tuple[Path, Path]
) -> None:
    archive, _ = export
    db = tmp_path / "store.sqlite"
    run(db, "import", str(archive))
    sleep = f"{archive}!{SLEEP}"
    done = run(db, "forget", "--yes", "--source", sleep)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    last = FIRST + timedelta(days=DAYS - 1)
    assert lines[0] == "wellness days of 1 file to forget:"
    assert lines[1] == f"  {sleep}: {DAYS} garmin days, {FIRST} .. {last}"
    assert [x.strip() for x in lines[3:5]] == [f"{archive}!{UDS}", f"{archive}!{HEALTH}"]
    assert lines[-1] == f"forgot {DAYS} wellness days (3 file records)"
    assert stored(db) == {}
    # Nothing is left behind: the export imports again, whole.
    again = run(db, "import", str(archive))
    assert again.stdout.startswith(f"3 new ({DAYS} wellness days)")
    assert len(stored(db)) == DAYS
    # The whole export, named by its archive.
    whole = run(db, "forget", "--yes", "--source", str(archive))
    assert whole.returncode == 0
    assert whole.stdout.splitlines()[0] == "wellness days of 3 files to forget:"
    assert stored(db) == {}
    unknown = run(db, "forget", "--yes", "--source", str(tmp_path / "nothing.json"))
    assert unknown.returncode == 1
    assert f"error: {tmp_path / 'nothing.json'}: no such activity in the store" in unknown.stderr


def test_a_csv_that_stops_being_csv_keeps_the_rows_before(tmp_path: Path) -> None:
    csv = tmp_path / "wellness.csv"
    csv.write_text(f"date,sleep_hours\n{FIRST},7.5\n{FIRST + timedelta(days=1)},{'9' * 200_000}\n")
    done = run(tmp_path / "store.sqlite", "import", str(csv))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {csv}: line 3: not CSV (field larger than field limit (131072)); the rest"
        " of the file was not read"
    ]
    with Store.open(tmp_path / "store.sqlite", read_only=True) as store:
        assert [(r.day, r.sleep_s) for r in store.wellness()] == [(FIRST, 7.5 * 3600)]


def test_rows_stored_before_migration_9_know_their_file(tmp_path: Path) -> None:
    """A store whose wellness rows were written at schema 8 learns which file wrote each."""
    import sqlite3

    from heavylegs_sync.categories import sport_name
    from heavylegs_sync.store import MIGRATIONS, _statements

    path = tmp_path / "old.sqlite"
    raw = sqlite3.connect(path)
    raw.create_function("heavylegs_sport_name", 2, sport_name)
    for script in MIGRATIONS[:8]:
        for statement in _statements(script):
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 8")
    raw.execute(
        "INSERT INTO files (sha256, path, size, activities, imported_at)"
        " VALUES ('a1', '/x/UDSFile_1.json', 10, 0, '2026-12-01T00:00:00.000000Z')"
    )
    raw.execute(
        "INSERT INTO wellness (day, source, origin, file_sha256, resting_hr, imported_at)"
        " VALUES ('2026-11-02', 'garmin', '/x/UDSFile_1.json', 'a1', 48,"
        " '2026-12-01T00:00:00.000000Z')"
    )
    raw.commit()
    raw.close()
    with Store.open(path) as store:
        (file,), unknown = store.wellness_of_files([("/x/UDSFile_1.json", None)])
        assert unknown == [] and file.days == ((FIRST, WellnessSource.GARMIN),)
        assert store.forget_wellness([file]) == (1, 1)
        assert store.wellness() == [] and store.known_file("a1") is None


def test_a_file_with_no_row_to_keep_fails_with_a_line_per_row(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    bad = inbox / "2026_sleepData.json"
    bad.write_text(
        json.dumps(
            [
                {"calendarDate": "1900-01-02", "deepSleepSeconds": 3600},
                {"calendarDate": "2026-11-03", "lightSleepSeconds": -60},
            ]
        )
    )
    done = run(tmp_path / "store.sqlite", "import", str(inbox))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {bad}: nothing in it could be kept (2 rows left out)",
        f"error: {bad}: entry 1: date 1900-01-02 is outside 2000-01-01..today",
        f"error: {bad}: entry 2: sleep of -60.0 s on 2026-11-03 is not a night's",
    ]
    assert done.stdout.strip() == (
        "0 new, 0 already imported, 0 skipped, 1 failed, 2 rows left out"
    )


def test_a_nights_times_must_be_that_night() -> None:
    entries = [
        {
            "calendarDate": "2026-11-02",
            "deepSleepSeconds": 3600,
            "sleepStartTimestampGMT": "1995-03-01T22:00:00.0",
        },
        {
            "calendarDate": "2026-11-03",
            "deepSleepSeconds": 3600,
            "sleepStartTimestampGMT": "2026-11-02T22:00:00.0",
            "sleepEndTimestampGMT": "2026-11-03T06:00:00.0",
        },
    ]
    records, problems = read(SLEEP, entries)
    assert problems == [
        "entry 1 (2026-11-02): sleepStartTimestampGMT 1995-03-01 22:00 UTC is not the night"
        " before 2026-11-02"
    ]
    assert [r.day for r in records] == [date(2026, 11, 3)]
