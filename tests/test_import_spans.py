"""Issue 20, the import side: files that span days, GPS teleports, summaries that lie.

Every file is generated (fit-tool for FIT, the GPX and TCX writers, the phone-track
generator in fixtures/_gen_phone.py), written to disk and read through the real decoders,
the real store and the CLI.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from _gen_fit import Series, SessionSpec, write_fit
from _gen_phone import phone_activity
from _gen_tcx import run_activity, write_tcx
from fit_tool.fit_file import FitFile
from fit_tool.profile.messages.session_message import SessionMessage

from heavylegs_sync.importers import DecodeOptions, Decoder, decode_file
from heavylegs_sync.importers.gpx_read import read_gpx
from heavylegs_sync.importers.parts import split, stub_note
from heavylegs_sync.importers.plausible import vet
from heavylegs_sync.importers.summary import Figures, contradicts, reconcile
from heavylegs_sync.importers.track import MAX_WHEEL_SPEED, clean_track, infer_sport
from heavylegs_sync.ingest import import_paths
from heavylegs_sync.limits import SPLIT_PAUSE_S, STUB_S, SUMMARY_FLOOR_M
from heavylegs_sync.model import Activity, Category, Samples
from heavylegs_sync.store import Store
from heavylegs_sync.strava.mapping import to_activity
from tests.conftest import BERLIN, heavylegs_cli

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
START = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
DAYS_27 = 27 * 86400


def decode(path: Path, decoder: Decoder = Decoder.AUTO) -> list[Activity]:
    options = DecodeOptions(zone=UTC_ZONE, decoder=decoder)
    return vet(decode_file(path, path.read_bytes(), options), NOW).activities


def ride(t: list[int], *, offset: float = 0.0, speed: float = 8.0) -> Series:
    return Series(
        t=t,
        hr=[135] * len(t),
        speed=[speed] * len(t),
        distance=[offset + speed * (s - t[0]) for s in t],
    )


def stub_then_ride(tmp_path: Path) -> Path:
    """The issue's FIT ride: 4 s of records, 27 days of nothing, then a 2-hour ride."""
    t = [0, 1, 2, 3, 4] + [DAYS_27 + s for s in range(0, 7201, 5)]
    series = ride(t)
    stub = [0.0] * 5
    series = Series(
        t=t,
        hr=series.hr,
        speed=series.speed,
        distance=stub + [2.0 + 8.0 * s for s in range(0, 7201, 5)],
    )
    path = tmp_path / "stub-then-ride.fit"
    path.write_bytes(write_fit([SessionSpec("cycling", "road", START, series)], BERLIN))
    return path


# --- parts: the pure splitting -------------------------------------------------------------


def test_split_cuts_at_pauses_and_drops_stubs_beside_real_parts() -> None:
    hour = 3600.0
    t = np.array([0.0, 4.0, 30 * hour, 30 * hour + 1800, 60 * hour, 60 * hour + 2 * hour])
    result = split(t)
    assert [(p.start, p.stop) for p in result.parts] == [(2, 4), (4, 6)]
    assert result.stubs == [4.0]
    notes = result.notes()
    assert notes[0] == "split from a file spanning days (3 parts, pauses over 3 h)"
    assert notes[1] == stub_note([4.0]) == "1 stub under 60 s in the file dropped (4 s)"


def test_split_keeps_a_pause_shorter_than_the_bound_and_never_empties_a_file() -> None:
    lunch = np.array([0.0, 3600.0, 3600.0 + SPLIT_PAUSE_S - 1, 3600.0 * 6])
    assert split(lunch).whole
    only_stubs = np.array([0.0, 5.0, 10.0, 5.0 + 2 * SPLIT_PAUSE_S, 8.0 + 2 * SPLIT_PAUSE_S])
    result = split(only_stubs)
    assert [(p.start, p.stop) for p in result.parts] == [(0, 3)]  # the most samples stay
    assert result.stubs == [3.0]
    # A gap longer than the device's own elapsed time is a clock jump, not a pause.
    assert split(np.array([0.0, 600.0, 86400.0, 87000.0]), lasted=1200.0).whole


# --- FIT ----------------------------------------------------------------------------------


@pytest.mark.parametrize("decoder", [Decoder.FAST, Decoder.REFERENCE])
def test_a_fit_file_spanning_27_days_stores_its_ride(tmp_path: Path, decoder: Decoder) -> None:
    (activity,) = decode(stub_then_ride(tmp_path), decoder)
    assert activity.start_utc == START + timedelta(seconds=DAYS_27)
    assert activity.elapsed_s == 7200.0 and activity.timer_s == 7200.0
    assert activity.distance_m == pytest.approx(8.0 * 7200)
    assert activity.avg_hr == 135.0 and activity.category is Category.CROSS
    assert activity.samples is not None and activity.samples.t[0] == 0.0
    assert activity.samples.distance is not None and activity.samples.distance[0] == 0.0
    assert activity.notes == (
        "split from a file spanning days (2 parts, pauses over 3 h)",
        "1 stub under 60 s in the file dropped (4 s)",
    )
    assert activity.decoder == ("fitfast" if decoder is Decoder.FAST else "fitparse")


def test_both_fit_decoders_split_alike_and_identities_are_stable(tmp_path: Path) -> None:
    morning = list(range(0, 3601, 2))
    evening = [11 * 3600 + s for s in range(0, 2401, 2)]
    series = ride([*morning, *evening], speed=3.0)
    path = tmp_path / "left-running.fit"
    path.write_bytes(write_fit([SessionSpec("running", "generic", START, series)], BERLIN))
    fast = decode(path, Decoder.FAST)
    reference = decode(path, Decoder.REFERENCE)
    assert [a.source_id for a in fast] == [a.source_id for a in reference]
    assert [a.source_id for a in decode(path)] == [a.source_id for a in fast]  # again
    assert [a.start_utc for a in fast] == [START, START + timedelta(hours=11)]
    for a, b in zip(fast, reference, strict=True):
        assert (a.elapsed_s, a.distance_m, a.avg_hr) == (b.elapsed_s, b.distance_m, b.avg_hr)
        assert a.samples is not None and b.samples is not None and a.samples.equals(b.samples)
    assert [a.elapsed_s for a in fast] == [3600.0, 2400.0]
    assert [a.distance_m for a in fast] == pytest.approx([10_800.0, 7_200.0])
    assert all(a.notes == ("split from a file spanning days (2 parts, pauses over 3 h)",)
               for a in fast)  # fmt: skip


def test_a_clock_jump_inside_a_session_is_not_a_second_activity(tmp_path: Path) -> None:
    """Records jump 20 days ahead and go on where they left off; the device counted
    only the hour it recorded (Runalyze's time-jump.fit has this shape)."""
    t = [*range(0, 1801, 5), *[20 * 86400 + 1805 + s for s in range(0, 1801, 5)]]
    series = ride(t, speed=3.0)
    series = Series(
        t=t, hr=series.hr, speed=series.speed, distance=[3.0 * i * 5 for i in range(len(t))]
    )
    data = write_fit([SessionSpec("running", "generic", START, series)], BERLIN)
    fit = FitFile.from_bytes(data)
    for record in fit.records:
        if isinstance(record.message, SessionMessage):
            record.message.total_elapsed_time = 3605.0
            record.message.total_timer_time = 3605.0
    path = tmp_path / "time-jump.fit"
    path.write_bytes(fit.to_bytes())
    (activity,) = decode(path)
    assert activity.start_utc == START and activity.elapsed_s == 3605.0
    assert not any(note.startswith("split") for note in activity.notes)


def test_the_cli_imports_a_multi_day_fit_once_and_lists_its_note(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    stub_then_ride(folder)
    env = {"HEAVYLEGS_DB": str(tmp_path / "s.sqlite"), "HEAVYLEGS_CONFIG": str(tmp_path / "c")}
    (tmp_path / "c").write_text('[athlete]\ntimezone = "Europe/Berlin"\n')
    first = heavylegs_cli("import", str(folder), env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "1 new, 0 already imported, 0 skipped, 0 failed"
    again = heavylegs_cli("import", str(folder), env=env)
    assert again.stdout.strip() == "0 new, 1 already imported, 0 skipped, 0 failed"
    listing = heavylegs_cli("activities", "--format", "json", env=env)
    assert listing.returncode == 0, listing.stderr
    (row,) = json.loads(listing.stdout)
    assert row["notes"] == [
        "split from a file spanning days (2 parts, pauses over 3 h)",
        "1 stub under 60 s in the file dropped (4 s)",
    ]
    assert row["distance_m"] == pytest.approx(57_600.0)


# --- GPX and TCX ----------------------------------------------------------------------------


def track_xml(name: str, kind: str, start: datetime, minutes: int, speed: float) -> str:
    points = []
    for i in range(0, minutes * 60 + 1, 5):
        when = (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lat = 52.5 + speed * i / 111_195.0
        points.append(
            f'<trkpt lat="{lat:.7f}" lon="13.4"><time>{when}</time><extensions>'
            f"<gpxtpx:TrackPointExtension><gpxtpx:hr>{140 + i % 7}</gpxtpx:hr>"
            "</gpxtpx:TrackPointExtension></extensions></trkpt>"
        )
    return f"<trk><name>{name}</name><type>{kind}</type><trkseg>{''.join(points)}</trkseg></trk>"


def three_day_gpx(folder: Path) -> Path:
    tracks = [
        track_xml("Monday run", "running", START, 40, 3.0),
        track_xml("Tuesday ride", "cycling", START + timedelta(days=1, hours=10), 60, 7.0),
        track_xml("Wednesday run", "running", START + timedelta(days=2), 30, 3.2),
    ]
    path = folder / "three-days.gpx"
    path.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        + "".join(tracks)
        + "</gpx>"
    )
    return path


def test_a_gpx_with_three_tracks_on_three_days_is_three_activities(tmp_path: Path) -> None:
    path = three_day_gpx(tmp_path)
    activities = decode(path)
    assert [(a.name, a.sport, a.category) for a in activities] == [
        ("Monday run", "running", Category.RUN),
        ("Tuesday ride", "cycling", Category.CROSS),
        ("Wednesday run", "running", Category.RUN),
    ]
    assert [a.elapsed_s for a in activities] == [2400.0, 3600.0, 1800.0]
    assert [a.distance_m for a in activities] == pytest.approx([7200, 25_200, 5760], rel=0.01)
    assert [a.start_utc for a in activities] == [
        START,
        START + timedelta(days=1, hours=10),
        START + timedelta(days=2),
    ]
    with Store.open(tmp_path / "s.sqlite") as store:
        options = DecodeOptions(zone=UTC_ZONE)
        first = import_paths(store, [path], options, now=NOW)
        assert (first.new, first.new_activities, first.failed) == (1, 3, 0)
        ids = sorted(a.source_id for a in store.activities())
        second = import_paths(store, [path], options, now=NOW)
        assert (second.new, second.duplicate) == (0, 1)
        assert sorted(a.source_id for a in store.activities()) == ids


def test_a_gpx_part_that_is_unusable_is_left_out_with_a_note(tmp_path: Path) -> None:
    good = track_xml("run", "running", START, 30, 3.0)
    later = START + timedelta(days=3)
    poles = "".join(  # ten minutes alternating between the poles: no track at all
        f'<trkpt lat="{89.9 if i % 2 else -89.9}" lon="0"><time>'
        f"{later + timedelta(seconds=i):%Y-%m-%dT%H:%M:%SZ}</time></trkpt>"
        for i in range(600)
    )
    lonely = f"<trk><trkseg>{poles}</trkseg></trk>"
    path = tmp_path / "odd.gpx"
    path.write_text(f'<gpx version="1.1" creator="t">{good}{lonely}</gpx>')
    (activity,) = decode(path)
    assert activity.elapsed_s == 1800.0
    assert activity.notes[-1] == "1 other part unusable"


def test_a_tcx_activity_spanning_two_days_splits_with_its_laps(tmp_path: Path) -> None:
    first = run_activity(START, minutes=30, laps=2)
    second = run_activity(START + timedelta(days=1), minutes=20, laps=1)
    merged = type(first)(sport="Running", start=START, laps=[*first.laps, *[
        type(lap)(start_s=lap.start_s + 86400, points=[
            type(p)(**{**p.__dict__, "seconds": p.seconds + 86400}) for p in lap.points
        ], total_time_s=lap.total_time_s, distance_m=lap.distance_m, avg_hr=lap.avg_hr,
           max_hr=lap.max_hr)
        for lap in second.laps
    ]])  # fmt: skip
    path = tmp_path / "two-days.tcx"
    path.write_text(write_tcx([merged]))
    activities = decode(path)
    assert [a.start_utc for a in activities] == [START, START + timedelta(days=1)]
    assert [a.timer_s for a in activities] == pytest.approx([1800.0, 1200.0])
    assert [a.distance_m for a in activities] == pytest.approx([5400.0, 3600.0])
    assert all(a.notes[0].startswith("split from a file spanning days") for a in activities)


# --- summaries that contradict the samples -------------------------------------------------


def test_samples_win_over_a_summary_that_contradicts_them(tmp_path: Path) -> None:
    series = ride(list(range(0, 2501, 1)), speed=8.0)  # 20 km of records
    data = write_fit([SessionSpec("multisport", "generic", START, series)], BERLIN)
    fit = FitFile.from_bytes(data)
    for record in fit.records:
        if isinstance(record.message, SessionMessage):
            record.message.total_distance = 1_990_000.0
    path = tmp_path / "multisport.fit"
    path.write_bytes(fit.to_bytes())
    (activity,) = decode(path)
    assert activity.distance_m == pytest.approx(20_000.0)
    assert activity.notes == (
        "summary distance 1990.0 km contradicts the samples (20.0 km): samples kept",
    )


def test_reconcile_defines_contradict_with_a_named_tolerance() -> None:
    t = np.arange(0.0, 3601.0, 5.0)
    samples = Samples(t=t, distance=3.0 * t)  # 10.8 km in an hour
    agree = Figures(elapsed_s=3600.0, timer_s=3500.0, distance_m=11_000.0)
    assert reconcile(agree, samples) == agree
    assert not contradicts(11_000.0, 10_800.0, SUMMARY_FLOOR_M)
    assert not contradicts(1_400.0, 600.0, SUMMARY_FLOOR_M)  # within the floor
    # The records run an hour past the summary's end: they win, for duration too.
    short = reconcile(Figures(elapsed_s=1200.0, timer_s=1200.0, distance_m=10_800.0), samples)
    assert (short.elapsed_s, short.timer_s) == (3600.0, 3600.0)
    assert short.notes == (
        "summary duration 0:20 h contradicts the samples (1:00 h): samples kept",
    )
    # Records that stop early (a sensor dropped out) contradict nothing.
    partial = Samples(t=t[:100], distance=3.0 * t[:100])
    cut = Figures(elapsed_s=3600.0, timer_s=3600.0, distance_m=10_800.0)
    assert reconcile(cut, partial) == cut
    # A stuck distance counter proves nothing.
    stuck = Samples(t=t, distance=np.full(t.size, 405.0))
    assert reconcile(Figures(3600.0, 3600.0, 32_000.0), stuck).distance_m == 32_000.0


# --- sport inference on phone tracks -------------------------------------------------------


def phone_season(folder: Path, count: int = 68) -> dict[str, float]:
    """A runner's phone-recorded runs (the first ``count`` of 68, over 12 weeks): name ->
    true distance."""
    rng = random.Random(20)
    truth: dict[str, float] = {}
    when = datetime(2026, 1, 5, 6, 30, tzinfo=UTC)
    for index in range(count):
        track = phone_activity(
            rng,
            when,
            minutes=rng.uniform(25, 75),
            speed=rng.uniform(2.6, 3.8),
            teleports=rng.randint(0, 4),
            spikes=rng.choice((0, 0, 1, 1, 2, 3)),
            glitch_rate=rng.choice((0.0, 0.02, 0.04, 0.08)),
        )
        name = f"run-{index:02d}.gpx"
        (folder / name).write_text(track.gpx)
        truth[name] = track.true_distance_m
        when += timedelta(hours=rng.choice((24, 24, 30, 36)))
    return truth


def phone_runs_hold(folder: Path, count: int) -> tuple[int, int]:
    """Import the first ``count`` runs of the season: every one must be stored as a run,
    and every week's stored distance within 5% of the truth. Returns the number of weeks,
    and how many runs the step speeds alone (no cleaning) would misread."""
    truth = phone_season(folder, count)
    with Store.open(folder.parent / "s.sqlite") as store:
        summary = import_paths(store, [folder], DecodeOptions(zone=UTC_ZONE), now=NOW)
        assert (summary.new, summary.failed) == (count, 0)
        stored = store.activities()
    assert [a.category for a in stored] == [Category.RUN] * count
    assert all(a.sport == "running" and a.sport_inferred for a in stored)
    weeks_true: dict[tuple[int, int], float] = defaultdict(float)
    weeks_stored: dict[tuple[int, int], float] = defaultdict(float)
    by_start = {a.start_utc: a for a in stored}
    misread = 0
    for name, distance in truth.items():
        points = read_gpx(folder / name, (folder / name).read_bytes())
        week = points.times[0].isocalendar()[:2]
        weeks_true[week] += distance
        weeks_stored[week] += by_start[points.times[0]].distance_m or 0.0
        # The generator is hard enough: the step speeds alone misread some runs.
        t = np.array([(ts - points.times[0]).total_seconds() for ts in points.times])
        track = clean_track(t, points.lat, points.lon, MAX_WHEEL_SPEED)
        assert track is not None
        misread += infer_sport(track.speed, None, 0.0)[1] is not Category.RUN
    for week, distance in weeks_true.items():
        assert weeks_stored[week] == pytest.approx(distance, rel=0.05), week
    return len(weeks_true), misread


def test_a_phone_runners_runs_are_runs_and_every_week_keeps_its_distance(tmp_path: Path) -> None:
    """The quick part: the season's first 24 runs, five weeks (6 of them misread by the
    step speeds alone)."""
    folder = tmp_path / "phone"
    folder.mkdir()
    weeks, misread = phone_runs_hold(folder, 24)
    assert weeks >= 5
    assert misread >= 5


@pytest.mark.exhaustive  # quick part: the test above, the season's first 24 runs
def test_a_phone_runners_whole_season_is_runs_and_every_week_keeps_its_distance(
    tmp_path: Path,
) -> None:
    """All 68 runs over 12 weeks (18 of them misread by the step speeds alone)."""
    folder = tmp_path / "phone"
    folder.mkdir()
    weeks, misread = phone_runs_hold(folder, 68)
    assert weeks >= 12
    assert misread >= 15


def test_rides_with_the_same_glitches_stay_rides(tmp_path: Path) -> None:
    rng = random.Random(7)
    for index in range(8):
        track = phone_activity(
            rng,
            START + timedelta(days=index),
            minutes=60,
            speed=rng.uniform(6.5, 9.0),
            hr=(125, 150),
            teleports=2,
            spikes=1,
            glitch_rate=0.05,
        )
        path = tmp_path / f"ride-{index}.gpx"
        path.write_text(track.gpx)
        (activity,) = decode(path)
        assert activity.category is Category.CROSS, index


def test_the_store_keeps_split_parts_as_separate_rows(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    three_day_gpx(folder)
    stub_then_ride(folder)
    db = tmp_path / "s.sqlite"
    with Store.open(db) as store:
        summary = import_paths(store, [folder], DecodeOptions(zone=UTC_ZONE), now=NOW)
        assert (summary.new, summary.new_activities) == (2, 4)
    with sqlite3.connect(db) as raw:
        rows = raw.execute("SELECT source, elapsed_s FROM activities ORDER BY start_utc").fetchall()
    assert rows == [("gpx", 2400.0), ("gpx", 3600.0), ("gpx", 1800.0), ("fit", 7200.0)]
    assert STUB_S == 60.0


def test_strava_streams_win_over_a_summary_they_contradict() -> None:
    summary = {
        "id": 99,
        "sport_type": "Ride",
        "start_date": "2026-03-01T07:00:00Z",
        "start_date_local": "2026-03-01T08:00:00Z",
        "elapsed_time": 2500,
        "moving_time": 2500,
        "distance": 1_990_000.0,
    }
    t = list(range(0, 2501, 5))
    streams = {"time": {"data": t}, "distance": {"data": [8.0 * s for s in t]}}
    activity = to_activity(summary, streams)
    assert activity.distance_m == pytest.approx(20_000.0)
    assert activity.notes == (
        "summary distance 1990.0 km contradicts the samples (20.0 km): samples kept",
    )
    assert to_activity({**summary, "distance": 20_300.0}, streams).distance_m == 20_300.0


def test_a_session_started_hours_before_its_records_starts_at_its_records(
    tmp_path: Path,
) -> None:
    later = 5 * 3600
    series = ride([later + s for s in range(0, 3601, 5)], speed=3.0)
    path = tmp_path / "late.fit"
    path.write_bytes(write_fit([SessionSpec("running", "generic", START, series)], BERLIN))
    (activity,) = decode(path)
    assert activity.start_utc == START + timedelta(seconds=later)
    assert activity.elapsed_s == 3600.0 and activity.distance_m == pytest.approx(10_800.0)
    assert activity.notes == ("session start hours before its records",)
