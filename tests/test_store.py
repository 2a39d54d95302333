"""The SQLite store: schema, idempotent writes, atomic files, concurrent writers."""

from __future__ import annotations

import multiprocessing
import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bench import store_dump
from heavylegs_sync.errors import StoreError
from heavylegs_sync.model import Activity, Category, OffsetSource, Samples, StrengthSet
from heavylegs_sync.store import SCHEMA_VERSION, Store


def make_activity(
    source_id: str = "a",
    start: datetime = datetime(2026, 10, 6, 5, 0, tzinfo=UTC),
    offset: int = 7200,
    category: Category = Category.RUN,
) -> Activity:
    t = np.arange(0.0, 600.0, 1.0)
    return Activity(
        source="fit",
        source_id=source_id,
        category=category,
        start_utc=start,
        utc_offset_s=offset,
        offset_source=OffsetSource.DEVICE,
        sport="running",
        sport_raw="running",
        timer_s=600.0,
        elapsed_s=600.0,
        distance_m=1800.0,
        avg_hr=140.0,
        max_hr=150.0,
        samples=Samples(t=t, hr=np.full(len(t), 140.0), distance=t * 3.0),
    )


def test_new_store_is_migrated_and_in_wal_mode(db_path: Path) -> None:
    with Store.open(db_path) as store:
        assert store.schema_version() == SCHEMA_VERSION
    raw = sqlite3.connect(db_path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_data_survives_reopening(db_path: Path) -> None:
    with Store.open(db_path) as store:
        outcome = store.add_file("/x/a.fit", "sha-a", 10, [make_activity()])
    with Store.open(db_path) as store:
        (stored,) = store.activities(with_samples=True)
    assert stored.id == outcome.new_ids[0]
    assert stored.start_utc == datetime(2026, 10, 6, 5, 0, tzinfo=UTC)
    assert stored.utc_offset_s == 7200
    assert stored.samples is not None and len(stored.samples) == 600
    assert stored.sources == ["fit"]


def test_newer_schema_is_refused(db_path: Path) -> None:
    Store.open(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError, match="newer heavylegs"):
        Store.open(db_path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="not a usable heavylegs store"):
        Store.open(path)
    assert path.read_text().startswith("these are my notes")


def test_same_source_identity_is_stored_once(store: Store) -> None:
    first = store.add_file("/x/a.fit", "sha-a", 10, [make_activity("same")])
    second = store.add_file("/x/copy-resaved.fit", "sha-b", 10, [make_activity("same")])
    assert len(first.new_ids) == 1
    assert second.new_ids == () and second.duplicates == 1
    assert store.count() == 1
    assert store.known_file("sha-a") is not None
    assert store.known_file("sha-b") is not None  # the copy is known too: not decoded again
    outcomes = [entry.outcome for entry in store.import_log()]
    assert outcomes == ["duplicate", "new"]


def test_a_failing_file_is_rolled_back_whole(store: Store) -> None:
    store.add_file("/x/kept.fit", "sha-kept", 10, [make_activity("kept")])
    bad = make_activity("second")
    bad.sets = [StrengthSet(0, "squat"), StrengthSet(0, "squat")]  # duplicate key
    with pytest.raises(StoreError, match=r"UNIQUE constraint failed|duplicate key") as caught:
        store.add_file("/x/multi.fit", "sha-multi", 10, [make_activity("first"), bad])
    assert type(caught.value.__cause__).__name__ in ("IntegrityError", "UniqueViolation")
    assert [a.source_id for a in store.activities()] == ["kept"]
    assert store.known_file("sha-multi") is None


def test_days_are_local_days(store: Store) -> None:
    # 00:30 on Tuesday in Berlin (CEST) is 22:30 UTC on Monday.
    tuesday_early = datetime(2026, 10, 5, 22, 30, tzinfo=UTC)
    store.add_file("/x/a.fit", "sha", 1, [make_activity("late", tuesday_early, 7200)])
    assert store.activities_on_days(date(2026, 10, 5), date(2026, 10, 5)) == []
    (found,) = store.activities_on_days(date(2026, 10, 6), date(2026, 10, 6))
    assert found.start_local.date() == date(2026, 10, 6)
    assert found.start_local.hour == 0 and found.start_local.minute == 30


def _writer(db: str, prefix: str, count: int) -> None:
    with Store.open(db) as store:
        base = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(count):
            activity = make_activity(f"{prefix}-{i}", base + timedelta(hours=i))
            store.add_file(f"/x/{prefix}-{i}.fit", f"{prefix}-{i}", 1, [activity])


def test_concurrent_writers_lose_nothing(db_path: Path) -> None:
    Store.open(db_path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(db_path), p, 40)) for p in "abc"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    with Store.open(db_path) as store:
        assert store.count() == 120
        assert len(store.import_log()) == 120


def test_samples_packed_by_a_decoding_worker_are_stored_as_decoded(tmp_path: Path) -> None:
    """Workers compress samples so the one writer only writes; nothing may change."""
    from heavylegs_sync.decoding import Decoded, DecodePool
    from heavylegs_sync.importers import DecodeOptions
    from heavylegs_sync.ingest import import_paths
    from tests.conftest import SAMPLE

    options = DecodeOptions(zone=ZoneInfo("Europe/Berlin"))
    now = datetime(2026, 11, 26, tzinfo=UTC)
    files = sorted(SAMPLE.glob("*-run.fit"))[:3]
    with DecodePool(1) as pool:
        decoded = [pool.outcome(pool.submit(p, options, now), p, options, now) for p in files]
    assert all(isinstance(d, Decoded) and d.packed and all(d.packed) for d in decoded)
    with Store.open(tmp_path / "workers.sqlite") as store:
        assert import_paths(store, files, options, now=now, workers=2).failed == 0
        by_worker = {a.source_id: store.samples(a.id) for a in store.activities() if a.id}
    with Store.open(tmp_path / "here.sqlite") as store:
        for path, outcome in zip(files, decoded, strict=True):
            assert isinstance(outcome, Decoded)
            store.add_file(path, path.name, 1, outcome.activities)  # encoded by the store
        here = {a.source_id: store.samples(a.id) for a in store.activities() if a.id}
    assert by_worker.keys() == here.keys() and len(here) == 3
    for key, samples in here.items():
        assert samples is not None and len(samples) > 100
        assert samples.equals(by_worker[key])  # type: ignore[arg-type]


def test_packed_samples_must_match_the_activities(store: Store) -> None:
    with pytest.raises(ValueError, match="1 packed samples for 2 activities"):
        store.add_file("f.fit", "0" * 64, 1, [make_activity("a"), make_activity("b")], [None])


@pytest.mark.parametrize("peaks", [True, False])
def test_decoding_workers_find_each_runs_peak_when_asked(tmp_path: Path, peaks: bool) -> None:
    """The max-HR estimate needs every run's sustained peak: the workers find it while
    decoding (settings without a max HR ask for it), exactly as the analysis would."""
    import json

    from heavylegs_sync.hr.trace import sustained_peak
    from heavylegs_sync.importers import DecodeOptions
    from heavylegs_sync.ingest import import_paths
    from heavylegs_sync.limits import PEAK_KIND, PEAK_WINDOW_S
    from tests.conftest import SAMPLE

    options = DecodeOptions(zone=ZoneInfo("Europe/Berlin"), peaks=peaks)
    files = sorted(SAMPLE.glob("2026-10-0*.fit"))
    with Store.open(tmp_path / "store.sqlite") as store:
        summary = import_paths(store, files, options, workers=2)
        assert summary.failed == 0
        stored = store.activities()
        runs = [a.id for a in stored if a.category is Category.RUN and a.id is not None]
        others = [a.id for a in stored if a.category is not Category.RUN and a.id is not None]
        assert runs and others
        saved = store.derived(PEAK_KIND, runs + others)
        if not peaks:
            assert saved == {}
            return
        assert sorted(saved) == sorted(runs)
        for activity_id in runs:
            samples = store.samples(activity_id)
            assert samples is not None
            expected = sustained_peak(samples, PEAK_WINDOW_S)
            assert expected is not None and json.loads(saved[activity_id]) == expected


def test_a_runs_peak_is_found_from_the_samples_as_stored(tmp_path: Path) -> None:
    """Decimal HR and sub-second times: the worker's peak equals the one the analysis
    computes from the store (float32 values, millisecond times), not a hair beside it."""
    import json
    import re

    from heavylegs_sync.hr.trace import sustained_peak
    from heavylegs_sync.importers import DecodeOptions
    from heavylegs_sync.ingest import import_paths
    from heavylegs_sync.limits import PEAK_KIND, PEAK_WINDOW_S
    from tests.conftest import SAMPLE

    text = (SAMPLE / "2026-10-15-0700-run.gpx").read_text()
    counter = iter(range(10**6))
    text = re.sub(r"<ns3:hr>(\d+)</ns3:hr>", lambda m: f"<ns3:hr>{m[1]}.3</ns3:hr>", text)
    text = re.sub(r"\.000Z</time>", lambda m: f".{next(counter) % 7 * 111 + 1:03d}4Z</time>", text)
    gpx = tmp_path / "decimal.gpx"
    gpx.write_text(text)
    with Store.open(tmp_path / "store.sqlite") as store:
        options = DecodeOptions(zone=ZoneInfo("Europe/Berlin"), gpx_sport="running")
        assert import_paths(store, [gpx], options).failed == 0
        (run,) = store.activities()
        assert run.id is not None and run.category is Category.RUN
        samples = store.samples(run.id)
        assert samples is not None and samples.hr is not None
        assert samples.hr[0] != 140.3  # float32: the stored value is not the decimal read
        saved = json.loads(store.derived(PEAK_KIND, [run.id])[run.id])
        assert saved == sustained_peak(samples, PEAK_WINDOW_S)


def test_stores_dump_alike_whatever_the_order_records_arrived(tmp_path: Path) -> None:
    """bench.store_dump names records by source identity, so two stores holding the same
    records dump alike; the linking plan is the same whichever copy arrived first."""
    fit = make_activity("fit-1")
    strava = replace(make_activity("123", start=fit.start_utc + timedelta(seconds=20)),
                     source="strava", sport_raw="Run", samples=None)  # fmt: skip
    other = make_activity("fit-2", start=fit.start_utc + timedelta(days=1))
    dumps = []
    for name, order in (("a", (fit, strava, other)), ("b", (other, strava, fit))):
        with Store.open(tmp_path / f"{name}.sqlite") as store:
            for activity in order:
                store.add_activity(activity)
        dumps.append(store_dump.dump(tmp_path / f"{name}.sqlite"))
    assert dumps[0] == dumps[1]
    assert "'fit:fit-1'" in dumps[0]  # the Strava copy points to the FIT record
    with Store.open(tmp_path / "b.sqlite") as store:
        store.add_activity(make_activity("fit-3", start=fit.start_utc + timedelta(days=2)))
    assert store_dump.dump(tmp_path / "b.sqlite") != dumps[0]
