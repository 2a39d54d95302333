"""The linking policy on plain records, no store: which copy is primary, which clock wins,
which record replaces which, how metadata merges (on reading: linked.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from heavylegs_sync import linked, linking
from heavylegs_sync.matching import Candidate
from heavylegs_sync.model import Activity, Category, OffsetSource, Samples

START = datetime(2026, 10, 6, 5, 0, tzinfo=UTC)


def trace(seconds: int = 1800) -> Samples:
    """A heart-rate trace with enough shape to be a fingerprint."""
    t = np.arange(0.0, float(seconds), 1.0)
    return Samples(t=t, hr=140.0 + 12.0 * np.sin(t / 90.0), distance=t * 3.0)


def record(**changes: object) -> Activity:
    """A watch's FIT run: samples with heart rate, the device's own local time."""
    base = Activity(
        source="fit",
        source_id="watch/1",
        category=Category.RUN,
        start_utc=START,
        utc_offset_s=7200,
        offset_source=OffsetSource.DEVICE,
        sport="running",
        sport_raw="running",
        timer_s=1800.0,
        elapsed_s=1800.0,
        distance_m=5400.0,
        avg_hr=140.0,
        device="garmin fr55",
        samples=trace(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def stored(id_: int = 7, **changes: object) -> Candidate:
    """A stored Strava summary of the same run: no samples, heart rate, its own clock."""
    base = Candidate(
        id=id_,
        source="strava",
        start_utc=START + timedelta(seconds=20),
        elapsed_s=1805.0,
        timer_s=1790.0,
        distance_m=5400.0,
        offset_source=OffsetSource.DEVICE,
        sample_count=0,
        has_hr=True,
        device="Garmin Forerunner 55",
        utc_offset_s=7200,
        file_sha256=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def no_samples(activity_id: int) -> Samples | None:
    raise AssertionError(f"samples of {activity_id} read, but no clock was in doubt")


def test_the_richer_new_record_becomes_primary() -> None:
    plan = linking.plan_link(record(), "sha-a", [stored()], no_samples)
    assert plan == linking.LinkPlan(other_id=7, new_is_primary=True, primary_clock=None)


def test_a_poorer_new_record_points_to_the_stored_one() -> None:
    gpx = record(source="gpx", samples=None, avg_hr=None, offset_source=OffsetSource.TIMEZONE)
    richer = stored(source="fit", sample_count=1800)
    plan = linking.plan_link(gpx, "sha-b", [richer], no_samples)
    assert plan == linking.LinkPlan(other_id=7, new_is_primary=False, primary_clock=None)


def test_the_primary_takes_the_trusted_clock_of_its_copy() -> None:
    # A re-saved FIT (maker 0, zone placed) is richer than the Strava summary, whose local
    # start the device wrote: the primary keeps its data and takes the copy's clock.
    resaved = record(device="0 0", offset_source=OffsetSource.TIMEZONE, utc_offset_s=3600)
    strava = stored(utc_offset_s=7200)
    plan = linking.plan_link(resaved, "sha-c", [strava], no_samples)
    assert plan is not None and plan.new_is_primary
    assert plan.primary_clock == linking.Clock(
        strava.start_utc, 7200, OffsetSource.DEVICE, "Garmin Forerunner 55"
    )
    # The other way round: the stored primary takes the newcomer's trusted clock.
    doubted = stored(source="fit", sample_count=5000, offset_source=OffsetSource.TIMEZONE)
    plan = linking.plan_link(record(samples=None), "sha-d", [doubted], no_samples)
    assert plan is not None and not plan.new_is_primary
    assert plan.primary_clock == linking.clock_of(record())


def test_a_tie_keeps_the_record_stored_first() -> None:
    assert not linking.newcomer_wins((1, 1800, 4), (1, 1800, 4))
    assert linking.newcomer_wins((1, 1801, 1), (1, 1800, 4))
    twin = stored(source="fit", sample_count=1800)
    plan = linking.plan_link(record(), "sha", [twin], no_samples)
    assert plan is not None and not plan.new_is_primary


def test_equal_trust_keeps_the_primary_clock() -> None:
    clock = linking.Clock(START, 0, OffsetSource.DEVICE, "garmin")
    other = linking.Clock(START + timedelta(seconds=5), 3600, OffsetSource.DEVICE, "wahoo")
    assert linking.clock_for_primary(clock, other) is None


def test_records_of_one_file_are_never_copies() -> None:
    same_file = stored(file_sha256="sha-a", source="fit", sample_count=10)
    assert linking.plan_link(record(), "sha-a", [same_file], no_samples) is None
    # A record without a file may be a copy of a stored record without one.
    assert linking.plan_link(record(), None, [stored()], no_samples) is not None


def test_the_closest_start_is_asked_first() -> None:
    far = stored(id_=1, start_utc=START - timedelta(seconds=50))
    near = stored(id_=2, start_utc=START + timedelta(seconds=10))
    plan = linking.plan_link(record(), "sha", [far, near], no_samples)
    assert plan is not None and plan.other_id == 2


def test_a_shifted_copy_is_linked_by_its_samples_only_when_a_clock_is_in_doubt() -> None:
    two_hours = START + timedelta(hours=2)
    asked: list[int] = []

    def samples_of(activity_id: int) -> Samples | None:
        asked.append(activity_id)
        return trace()

    resaved = stored(
        source="fit", start_utc=two_hours, elapsed_s=1800.0, timer_s=1800.0, device="0 0",
        offset_source=OffsetSource.TIMEZONE, sample_count=1800,
    )  # fmt: skip
    plan = linking.plan_link(record(), "sha", [resaved], samples_of)
    assert plan is not None and plan.other_id == 7 and asked == [7]
    # Both clocks set by devices: two hours apart is two activities, samples unread.
    trusted = replace(resaved, device="garmin fr55", offset_source=OffsetSource.DEVICE)
    assert linking.plan_link(record(), "sha", [trusted], no_samples) is None
    # A different heart-rate trace: no copy.
    flat_other = Samples(t=np.arange(0.0, 1800.0), hr=150.0 - 12.0 * np.cos(np.arange(1800) / 40))
    assert linking.plan_link(record(), "sha", [resaved], lambda _: flat_other) is None


def test_nothing_close_enough_is_new() -> None:
    longer = stored(elapsed_s=3600.0, timer_s=3600.0)
    assert linking.plan_link(record(), "sha", [longer], no_samples) is None
    assert linking.plan_link(record(), "sha", [], no_samples) is None


def test_candidate_window_covers_the_widest_shift() -> None:
    since, until = linking.candidate_window(record())
    assert until - START == START - since == timedelta(hours=14, seconds=60)


@pytest.mark.parametrize(
    ("stored_notes", "new_notes", "replaces"),
    [
        (("truncated",), (), True),  # the whole file arrives after the cut copy
        (("truncated",), ("truncated",), False),
        ((), (), False),  # first stays
        ((), ("impossible speeds dropped",), False),
    ],
)
def test_a_whole_record_replaces_a_flawed_one(
    stored_notes: tuple[str, ...], new_notes: tuple[str, ...], replaces: bool
) -> None:
    held = linking.StoredRecord(7, stored_notes, None, None, None)
    assert linking.plan_duplicate(held, record(notes=new_notes)).replace is replaces


def test_a_later_list_fills_missing_metadata_and_keeps_what_is_there() -> None:
    held = linking.StoredRecord(7, (), None, 50.0, None)
    plan = linking.plan_duplicate(held, record(perceived_exertion=7.0, relative_effort=60.0))
    assert plan.metadata == (7.0, 50.0, None)
    assert linking.plan_duplicate(held, record()).metadata is None  # nothing new
    full = linking.StoredRecord(7, (), 6.0, 50.0, 900.0)
    assert linking.plan_duplicate(full, record(perceived_exertion=7.0)).metadata is None


def test_metadata_shown_is_the_primary_own_else_the_first_copy() -> None:
    own: dict[str, object] = {"name": None, "perceived_exertion": 3.0, "relative_effort": None}
    copies: list[dict[str, object]] = [
        {"name": None, "perceived_exertion": 9.0, "relative_effort": None},
        {"name": "Lunch Run", "perceived_exertion": 8.0, "relative_effort": 44.0},
        {"name": "Later name", "perceived_exertion": None, "relative_effort": 12.0},
    ]
    assert linked.merged_metadata(own, copies) == {
        "name": "Lunch Run", "perceived_exertion": 3.0, "relative_effort": 44.0,
    }  # fmt: skip
    assert linked.merged_metadata({"name": None}, []) == {}


def test_sources_list_the_primary_first() -> None:
    copies = [("strava", "strava:1"), ("gpx", "/b.gpx"), ("fit", "/c.fit"), ("gpx", "/d.gpx")]
    sources, refs = linked.sources_of(("fit", "/a.fit"), copies)
    assert sources == ["fit", "gpx", "strava"]
    assert refs == ["/a.fit", "strava:1", "/b.gpx", "/c.fit", "/d.gpx"]
