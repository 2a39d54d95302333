"""Plausibility at the door: impossible files are refused and claim nothing; the genuine
file still gets in, and a whole record wins over a flawed one of the same activity."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fit_tool.fit_file import FitFile
from fit_tool.profile.messages.session_message import SessionMessage

from heavylegs_sync.importers import DecodeOptions, decode_file
from heavylegs_sync.importers.plausible import Implausible, vet, vet_one
from heavylegs_sync.ingest import import_paths
from heavylegs_sync.model import Activity, Category, OffsetSource, Samples
from heavylegs_sync.store import Store
from tests.conftest import BERLIN as SAMPLE_ZONE
from tests.conftest import SAMPLE

RUN = SAMPLE / "2026-09-29-0700-run.fit"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def with_session(path: Path, **values: Any) -> bytes:
    """The file re-encoded by fit-tool with session fields changed (valid CRCs)."""
    fit = FitFile.from_bytes(path.read_bytes())
    for record in fit.records:
        if isinstance(record.message, SessionMessage):
            for name, value in values.items():
                setattr(record.message, name, value)
    data: bytes = fit.to_bytes()
    return data


def activity(**changes: Any) -> Activity:
    t = np.arange(0.0, 3600.0, 10.0)
    base = Activity(
        source="fit",
        source_id="x/1",
        category=Category.RUN,
        start_utc=datetime(2026, 10, 1, 6, 0, tzinfo=UTC),
        utc_offset_s=7200,
        offset_source=OffsetSource.DEVICE,
        sport="running",
        timer_s=3600.0,
        elapsed_s=3600.0,
        distance_m=10_000.0,
        avg_hr=150.0,
        max_hr=170.0,
        samples=Samples(t=t, hr=np.full(t.size, 150.0), speed=np.full(t.size, 2.8)),
    )
    return dataclasses.replace(base, **changes)


def test_corrupted_copy_first_then_the_genuine_file(tmp_path: Path, store: Store) -> None:
    genuine = tmp_path / "genuine.fit"
    genuine.write_bytes(RUN.read_bytes())
    corrupt = tmp_path / "copy-of-run.fit"
    corrupt.write_bytes(with_session(RUN, total_distance=1_990_000.0))

    # The records contradict the summary's 1,990 km: the samples win, with a note (issue 20).
    first = import_paths(store, [corrupt], DecodeOptions(zone=SAMPLE_ZONE), now=NOW)
    assert first.failed == 0 and first.new == 1
    (flawed,) = store.activities()
    assert flawed.distance_m is not None and 5_000 < flawed.distance_m < 20_000
    (note,) = flawed.notes
    assert note.startswith("summary distance 1990.0 km contradicts the samples (")

    # The genuine file is the same activity, whole: it replaces the flawed copy.
    second = import_paths(store, [genuine], DecodeOptions(zone=SAMPLE_ZONE), now=NOW)
    assert second.failed == 0
    (stored,) = store.activities()
    reference = decode_file(genuine, genuine.read_bytes(), DecodeOptions(zone=SAMPLE_ZONE))[0]
    assert stored.distance_m == pytest.approx(reference.distance_m)
    assert stored.distance_m is not None and 5_000 < stored.distance_m < 20_000
    assert stored.notes == ()


def test_a_whole_file_replaces_a_truncated_copy_of_the_same_activity(
    tmp_path: Path, store: Store
) -> None:
    data = RUN.read_bytes()
    cut = tmp_path / "cut.fit"
    cut.write_bytes(data[: len(data) * 2 // 3])
    whole = tmp_path / "whole.fit"
    whole.write_bytes(data)

    import_paths(store, [cut], DecodeOptions(zone=SAMPLE_ZONE), now=NOW)
    (partial,) = store.activities(with_samples=True)
    assert partial.notes == ("truncated",)
    assert partial.samples is not None
    partial_count = len(partial.samples)

    result = import_paths(store, [whole], DecodeOptions(zone=SAMPLE_ZONE), now=NOW)
    assert result.new == 1
    (replaced,) = store.activities(with_samples=True)
    assert replaced.id == partial.id and replaced.notes == ()
    assert replaced.samples is not None and len(replaced.samples) > partial_count
    assert store.count() == 1
    # ... and a truncated copy arriving after the whole file changes nothing.
    again = tmp_path / "cut-again.fit"
    again.write_bytes(data[: len(data) // 2])
    import_paths(store, [again], DecodeOptions(zone=SAMPLE_ZONE), now=NOW)
    (kept,) = store.activities(with_samples=True)
    assert (
        kept.notes == () and kept.samples is not None and len(kept.samples) == len(replaced.samples)
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"start_utc": datetime(1989, 12, 31, 0, 0, 5, tzinfo=UTC)}, "before 1990"),
        ({"start_utc": datetime(2090, 1, 1, tzinfo=UTC)}, "more than a day in the future"),
        ({"start_utc": NOW + timedelta(days=1, minutes=5)}, "more than a day in the future"),
        ({"elapsed_s": 49 * 86400.0}, "implausible duration 49 days"),
        ({"timer_s": 48 * 3600.0 + 1}, "more than 48 h"),
        ({"distance_m": 1_990_000.0}, "implausible distance 1990.0 km"),
        ({"sport": "cycling", "distance_m": 100_000.0, "elapsed_s": 1800.0}, "for cycling"),
    ],
)
def test_impossible_activities_are_refused(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(Implausible, match=reason):
        vet([activity(**changes)], NOW)


def test_possible_extremes_pass() -> None:
    ultra = activity(elapsed_s=47 * 3600.0, timer_s=40 * 3600.0, distance_m=250_000.0)
    ride = activity(sport="cycling", distance_m=100_000.0)  # 100 km/h for an hour: no
    fast_ride = activity(sport="cycling", distance_m=60_000.0)
    tomorrow = activity(start_utc=NOW + timedelta(hours=20))
    for item in (ultra, fast_ride, tomorrow):
        assert vet([item], NOW).warnings == []
    with pytest.raises(Implausible):
        vet([ride], NOW)


def test_a_record_decades_later_is_dropped_with_a_warning() -> None:
    t = np.array([0.0, 10.0, 20.0, 30.0, 1.7e9])  # the last one: some 54 years on
    samples = Samples(t=t, hr=np.array([140.0, 141, 142, 143, 144]))
    checked, warnings = vet_one(activity(samples=samples), NOW)
    assert checked.samples is not None and list(checked.samples.t) == [0.0, 10.0, 20.0, 30.0]
    assert warnings == ["1 samples outside the activity's time dropped"]
    assert "samples outside its time dropped" in checked.notes


def test_impossible_speeds_and_heart_rates_are_dropped() -> None:
    t = np.arange(5.0)
    samples = Samples(
        t=t, speed=np.array([3.0, 3.1, 40.0, 3.2, np.nan]), hr=np.array([150.0, 20, 300, 151, 152])
    )
    checked, warnings = vet_one(activity(samples=samples, max_hr=320.0), NOW)
    assert checked.samples is not None and checked.samples.speed is not None
    assert np.isnan(checked.samples.speed[2]) and checked.samples.speed[3] == 3.2
    assert checked.samples.hr is not None
    assert list(np.isnan(checked.samples.hr)) == [False, True, True, False, False]
    assert checked.max_hr is None and checked.avg_hr == 150.0
    assert "1 speed samples over 45 km/h dropped" in warnings
    assert "max hr 320 bpm dropped (not 25-250)" in warnings


def test_gpx_at_the_poles_and_four_years_apart_are_refused(
    tmp_path: Path, options: DecodeOptions
) -> None:
    start = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
    poles = "".join(
        f'<trkpt lat="{89.9 if i % 2 else -89.9}" lon="0"><time>'
        f"{(start + timedelta(seconds=i)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for i in range(600)
    )
    apart = (
        f'<trkpt lat="52.5" lon="13.4"><time>{start:%Y-%m-%dT%H:%M:%SZ}</time></trkpt>'
        f'<trkpt lat="52.5001" lon="13.4"><time>{start.replace(year=2030):%Y-%m-%dT%H:%M:%SZ}'
        "</time></trkpt>"
    )
    results = {}
    for name, points in (("poles", poles), ("apart", apart)):
        path = tmp_path / f"{name}.gpx"
        path.write_text(
            f'<?xml version="1.0"?><gpx version="1.1" creator="t"><trk><trkseg>{points}'
            "</trkseg></trk></gpx>"
        )
        with Store.open(tmp_path / f"{name}.sqlite") as store:
            summary = import_paths(store, [path], options, now=NOW)
            assert store.count() == 0
        (failure,) = summary.failures
        results[name] = failure.message
    assert results["poles"] is not None and "implausible distance" in results["poles"]
    # Four years apart is a pause: two single points, neither of them an activity.
    assert results["apart"] is not None
    assert results["apart"].startswith("no usable activity between its pauses of over 3 h")
    assert "only one timed track point" in results["apart"]
