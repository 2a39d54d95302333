"""Wellness records in a real store, and one value a day from many sources."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from heavylegs_sync.model import WellnessRecord, WellnessSource
from heavylegs_sync.store import Store
from heavylegs_sync.wellness import merge_days, vet

DAY = date(2026, 11, 2)
TODAY = date(2026, 12, 7)


def test_a_second_file_of_a_source_fills_the_row_without_erasing_it(store: Store) -> None:
    night = WellnessRecord(
        DAY,
        WellnessSource.FIT,
        "sleep.fit",
        sleep_s=7 * 3600,
        deep_s=3600,
        light_s=4 * 3600,
        rem_s=2 * 3600,
        sleep_start=datetime(2026, 11, 1, 22, tzinfo=UTC),
        sleep_end=datetime(2026, 11, 2, 5, 30, tzinfo=UTC),
    )
    monitoring = WellnessRecord(DAY, WellnessSource.FIT, "monitor.fit", resting_hr=48)
    assert store.add_wellness([night], "a" * 64) == 1
    assert store.add_wellness([monitoring], "b" * 64) == 1
    (row,) = store.wellness()
    assert row.sleep_s == 7 * 3600 and row.deep_s == 3600 and row.resting_hr == 48
    assert row.sleep_start == datetime(2026, 11, 1, 22, tzinfo=UTC)
    assert store.wellness_count() == 1


def test_the_rows_survive_reopening_and_are_read_by_day(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.add_wellness(
            [
                WellnessRecord(date(2026, 11, d), WellnessSource.CSV, "w.csv", sleep_s=6 * 3600)
                for d in range(1, 11)
            ],
            None,
        )
    with Store.open(db_path) as store:
        days = [r.day.day for r in store.wellness(date(2026, 11, 3), date(2026, 11, 5))]
    assert days == [3, 4, 5]


def test_the_richer_source_gives_each_value() -> None:
    csv = WellnessRecord(DAY, WellnessSource.CSV, "w.csv", sleep_s=8 * 3600, resting_hr=50)
    garmin = WellnessRecord(
        DAY, WellnessSource.GARMIN, "sleep.json", sleep_s=6 * 3600, deep_s=3600, hrv_ms=60
    )
    fit = WellnessRecord(DAY, WellnessSource.FIT, "hrv.fit", hrv_ms=55, sleep_s=5 * 3600)
    day = merge_days([csv, garmin, fit])[DAY]
    # sleep: the night with stages (Garmin) beats the watch's hours-only night
    assert (day.sleep_s, day.sleep_source) == (6 * 3600, WellnessSource.GARMIN)
    assert (day.hrv_ms, day.hrv_source) == (55, WellnessSource.FIT)
    assert (day.resting_hr, day.resting_hr_source) == (50, WellnessSource.CSV)


def test_values_no_person_has_are_refused_with_the_reason() -> None:
    def record(**values: float) -> WellnessRecord:
        return WellnessRecord(DAY, WellnessSource.CSV, "w.csv", **values)  # type: ignore[arg-type]

    assert vet(record(sleep_s=7 * 3600, resting_hr=45, hrv_ms=70), TODAY) is None
    assert "sleep of -60" in str(vet(record(sleep_s=-60), TODAY))
    assert "resting heart rate 0" in str(vet(record(resting_hr=0), TODAY))
    assert "resting heart rate 300" in str(vet(record(resting_hr=300), TODAY))
    assert "HRV" in str(vet(record(hrv_ms=float("nan")), TODAY))
    old = WellnessRecord(date(1900, 1, 1), WellnessSource.CSV, "w.csv", sleep_s=3600)
    assert "1900-01-01" in str(vet(old, TODAY))
    ahead = WellnessRecord(date(2026, 12, 20), WellnessSource.CSV, "w.csv", sleep_s=3600)
    assert vet(ahead, TODAY) is not None


def test_a_wellness_file_is_stored_with_its_records_and_known_after(store: Store) -> None:
    records = [
        WellnessRecord(date(2026, 11, d), WellnessSource.GARMIN, "x_sleepData.json", sleep_s=7e3)
        for d in (1, 2)
    ]
    outcome = store.add_file("x_sleepData.json", "c" * 64, 120, [], wellness=records)
    assert (outcome.new_ids, outcome.wellness) == ((), 2)
    known = store.known_file("c" * 64)
    assert known is not None and known.path.endswith("x_sleepData.json")
    assert store.import_log(1)[0].outcome == "new"
    assert store.wellness_count() == 2
