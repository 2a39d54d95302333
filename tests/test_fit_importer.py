"""FIT importer on the project's generated files: values match what the generator wrote."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from heavylegs_sync.categories import sport_name
from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import DecodeOptions, decode_file
from heavylegs_sync.model import Activity, Category, OffsetSource
from tests.conftest import FILES, SAMPLE

EXPECTED = json.loads((SAMPLE / "expected.json").read_text())
FILE_FACTS = json.loads((FILES / "expected.json").read_text())
KIND_CATEGORY = {
    "run": Category.RUN,
    "strength": Category.STRENGTH,
    "yoga": Category.LIGHT,
    "ride": Category.CROSS,
}
LEG_EXERCISES = {"squat", "lunge", "deadlift", "leg_press", "calf_raise", "leg_curl"}


def decode(path: Path, options: DecodeOptions) -> list[Activity]:
    return decode_file(path, path.read_bytes(), options)


@pytest.mark.parametrize("facts", EXPECTED["activities"], ids=lambda f: f["file"])
def test_sample_athlete_file(facts: dict[str, Any], options: DecodeOptions) -> None:
    (activity,) = decode(SAMPLE / facts["file"], options)
    assert activity.start_local.isoformat() == facts["local_start"]
    assert activity.utc_offset_s == facts["utc_offset_seconds"]
    if facts["file"].endswith(".fit"):
        assert activity.offset_source is OffsetSource.DEVICE
        assert (activity.sport_raw, activity.sub_sport) == (facts["sport"], facts["sub_sport"])
        assert activity.sport == sport_name(facts["sport"], facts["sub_sport"])
    assert activity.category is KIND_CATEGORY[facts["kind"]]
    assert activity.duration_s == pytest.approx(facts["duration_seconds"], abs=1)
    assert (activity.avg_hr is not None) is facts["has_hr"]
    samples = activity.samples
    assert samples is not None
    assert (samples.hr is not None) is facts["has_hr"]
    assert len(activity.sets) == facts["active_sets"]
    legs = [s for s in activity.sets if s.category in LEG_EXERCISES]
    assert len(legs) == facts["leg_sets"]
    if activity.sets:
        assert any(s.reps and s.reps > 0 for s in activity.sets)
        assert all(s.category for s in activity.sets)


def test_dst_change_keeps_each_activity_on_its_day(options: DecodeOptions) -> None:
    # Sunday 25 Oct 2026 is the day summer time ends in Berlin.
    (sunday,) = decode(SAMPLE / "2026-10-25-0800-run.fit", options)
    assert sunday.start_local.isoformat() == "2026-10-25T08:00:00+01:00"


def test_multisport_gives_one_activity_per_leg(options: DecodeOptions) -> None:
    facts = FILE_FACTS["multisport.fit"]["sessions"]
    run, ride = decode(FILES / "multisport.fit", options)
    assert (run.category, ride.category) == (Category.RUN, Category.CROSS)
    assert run.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ") == facts[0]["utc_start"]
    assert ride.start_utc.strftime("%Y-%m-%dT%H:%M:%SZ") == facts[2]["utc_start"]
    assert run.elapsed_s == pytest.approx(facts[0]["seconds"], abs=1)
    assert ride.elapsed_s == pytest.approx(facts[2]["seconds"], abs=1)
    assert run.source_id != ride.source_id
    assert run.samples is not None and run.samples.t[-1] <= facts[0]["seconds"] + 1


def test_heart_rate_sentinels_are_missing_not_values(options: DecodeOptions) -> None:
    sentinels = FILE_FACTS["hr-sentinels.fit"]["hr_sentinels_by_second"]
    (activity,) = decode(FILES / "hr-sentinels.fit", options)
    samples = activity.samples
    assert samples is not None and samples.hr is not None
    for second in sentinels:
        (index,) = np.flatnonzero(samples.t == float(second))
        assert np.isnan(samples.hr[index])
    finite = samples.hr[np.isfinite(samples.hr)]
    assert finite.min() > 0 and finite.max() < 255
    assert np.isnan(samples.hr).sum() == len(sentinels)
    assert activity.max_hr is not None and activity.max_hr < 255


def test_without_local_timestamp_the_configured_zone_decides() -> None:
    path = FILES / "no-local-timestamp.fit"
    (berlin,) = decode(path, DecodeOptions(zone=ZoneInfo("Europe/Berlin")))
    (tokyo,) = decode(path, DecodeOptions(zone=ZoneInfo("Asia/Tokyo")))
    assert berlin.offset_source is OffsetSource.TIMEZONE
    assert berlin.start_local.isoformat() == FILE_FACTS["no-local-timestamp.fit"]["local_start"]
    assert tokyo.utc_offset_s == 9 * 3600
    assert berlin.start_utc == tokyo.start_utc


def test_gzipped_fit(options: DecodeOptions) -> None:
    (activity,) = decode(FILES / "run-1hz.fit.gz", options)
    assert activity.samples is not None
    assert len(activity.samples) == FILE_FACTS["run-1hz.fit.gz"]["records"]
    local = datetime.fromisoformat(FILE_FACTS["run-1hz.fit.gz"]["local_start"])
    assert activity.start_utc == local


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bad-crc.fit", "corrupt FIT file: CRC Mismatch"),
        ("not-a-fit.fit", "not a FIT file"),
        ("zero-bytes.fit", "empty file"),
    ],
)
def test_broken_fit_files(name: str, reason: str, options: DecodeOptions) -> None:
    with pytest.raises(ImportFailed, match=reason) as caught:
        decode(FILES / name, options)
    assert caught.value.path == FILES / name


def test_truncated_file_keeps_the_records_before_the_break(options: DecodeOptions) -> None:
    (activity,) = decode(FILES / "truncated.fit", options)
    assert activity.notes == ("truncated",)
    assert activity.samples is not None and len(activity.samples) == 155
    assert activity.elapsed_s == 154.0


def test_truncated_before_any_record_still_fails(options: DecodeOptions) -> None:
    data = (FILES / "truncated.fit").read_bytes()[:40]
    with pytest.raises(ImportFailed, match="truncated FIT file"):
        decode_file(Path("cut.fit"), data, options)


def test_any_bytes_give_activities_or_our_error(options: DecodeOptions) -> None:
    """Damage a real file at many places: the importer answers or says why, never crashes."""
    data = (FILES / "run-1hz.fit.gz").read_bytes()
    original = gzip.decompress(data)
    rng = np.random.default_rng(7)
    for _ in range(60):
        damaged = bytearray(original)
        for position in rng.integers(14, len(damaged) - 2, size=3):
            damaged[position] ^= 0xFF
        try:
            decode_file(Path("damaged.fit"), bytes(damaged), options)
        except ImportFailed as exc:
            assert exc.reason
