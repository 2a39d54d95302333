"""TCX importer on real files written to disk: laps, extensions, several activities, bad input."""

from __future__ import annotations

import gzip
import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from _gen_tcx import TcxActivity, TcxLap, TcxPoint, run_activity, write_tcx

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import DecodeOptions, decode_file, decode_path
from heavylegs_sync.importers.xml_read import MAX_DEPTH
from heavylegs_sync.model import Activity, Category, OffsetSource
from tests.conftest import FILES, heavylegs_cli

START = datetime(2026, 10, 15, 5, 0, tzinfo=UTC)  # 07:00 in Berlin (CEST)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def decode(path: Path, options: DecodeOptions) -> list[Activity]:
    return decode_path(path, options)


def test_a_garmin_run_with_laps_and_extensions(tmp_path: Path, options: DecodeOptions) -> None:
    act = run_activity(START, minutes=20, step=5, speed=3.0, hr=145, laps=2)
    path = write(tmp_path, "run.tcx", write_tcx([act]))
    (activity,) = decode(path, options)
    assert activity.source == "tcx"
    assert activity.source_id == "20261015T050000.000000Z/241"
    assert activity.start_utc == START
    assert activity.offset_source is OffsetSource.TIMEZONE
    assert activity.utc_offset_s == 7200  # CEST: the configured zone places it
    assert activity.sport == "running"  # the vocabulary, the file's spelling beside it
    assert (activity.sport_raw, activity.category, activity.sport_inferred) == (
        "Running",
        Category.RUN,
        False,
    )
    assert activity.timer_s == pytest.approx(1200.0)  # the laps' TotalTimeSeconds
    assert activity.elapsed_s == pytest.approx(1200.0)
    assert activity.distance_m == pytest.approx(3600.0)  # the laps' DistanceMeters
    assert activity.avg_hr == 146.0  # the laps' own averages, weighted by time
    assert activity.max_hr == 147.0
    assert activity.device == "Forerunner 245"
    samples = activity.samples
    assert samples is not None and len(samples) == 241
    assert samples.speed is not None and np.allclose(samples.speed, 3.0)  # TPX Speed
    assert samples.cadence is not None and np.all(samples.cadence == 88)  # TPX RunCadence
    assert samples.distance is not None and samples.distance[-1] == pytest.approx(3600.0)
    assert samples.hr is not None and set(np.unique(samples.hr)) == {145.0, 147.0}
    assert activity.hr_coverage == pytest.approx(1.0)


@pytest.mark.parametrize("prefix", ["ns3", "tpx", ""])
def test_extensions_are_found_whatever_their_prefix(
    tmp_path: Path, options: DecodeOptions, prefix: str
) -> None:
    act = run_activity(START, speed=2.5, distances=False)
    (activity,) = decode(write(tmp_path, "run.tcx", write_tcx([act], prefix=prefix)), options)
    assert activity.samples is not None and activity.samples.speed is not None
    assert np.allclose(activity.samples.speed, 2.5)
    assert activity.samples.cadence is not None and np.all(activity.samples.cadence == 88)


def test_strava_leading_whitespace_is_accepted(tmp_path: Path, options: DecodeOptions) -> None:
    text = write_tcx([run_activity(START)], leading="          \n  ")
    assert text.startswith(" ") and "<?xml" in text[:40]
    (activity,) = decode(write(tmp_path, "1234567.tcx", text), options)
    assert activity.start_utc == START
    marked = write(tmp_path, "bom.tcx", b"\xef\xbb\xbf \r\n" + text.encode())
    assert decode(marked, options)[0].source_id == activity.source_id
    gz = write(tmp_path, "1234567.tcx.gz", gzip.compress(text.encode()))
    (again,) = decode(gz, options)
    assert again.source_id == activity.source_id


def test_several_activities_in_one_file(tmp_path: Path, options: DecodeOptions) -> None:
    days = [START + timedelta(days=d) for d in (0, 2, 5)]
    acts = [run_activity(days[0]), run_activity(days[1], sport="Biking", speed=7.0),
            run_activity(days[2], speed=3.3)]  # fmt: skip
    activities = decode(write(tmp_path, "history.tcx", write_tcx(acts)), options)
    assert [a.start_utc for a in activities] == days
    assert [a.category for a in activities] == [Category.RUN, Category.CROSS, Category.RUN]
    assert len({a.source_id for a in activities}) == 3
    assert activities[1].distance_m == pytest.approx(7.0 * 1200)


def test_a_multisport_session_gives_one_activity_per_sport(
    tmp_path: Path, options: DecodeOptions
) -> None:
    ride = run_activity(START, sport="Biking", minutes=30, speed=8.0, laps=1)
    run = run_activity(START + timedelta(minutes=32), minutes=20, speed=3.2, laps=3)
    path = write(tmp_path, "duathlon.tcx", write_tcx([ride, run], multisport=True))
    activities = decode(path, options)
    assert [(a.sport_raw, a.category) for a in activities] == [
        ("Biking", Category.CROSS),
        ("Running", Category.RUN),
    ]
    assert activities[1].start_utc == START + timedelta(minutes=32)
    assert activities[1].distance_m == pytest.approx(3.2 * 1200)


def test_positions_without_distances_go_through_the_glitch_proof_track(
    tmp_path: Path, options: DecodeOptions
) -> None:
    act = run_activity(START, minutes=10, step=5, speed=3.0, laps=1, distances=False, tpx=False)
    lap = act.laps[0]
    points = list(lap.points)
    teleport = points[40]
    points[40] = replace(teleport, lat=(teleport.lat or 0) + 0.05)  # 5.5 km away for one point
    lap = replace(lap, points=points, distance_m=None)
    path = write(tmp_path, "gps.tcx", write_tcx([replace(act, laps=[lap])]))
    (activity,) = decode(path, options)
    assert activity.points_dropped == 1
    assert activity.distance_m == pytest.approx(1800.0, rel=0.01)  # not 12 km
    samples = activity.samples
    assert samples is not None and samples.speed is not None
    assert float(np.nanmedian(samples.speed)) == pytest.approx(3.0, rel=0.01)


def test_distances_without_speed_give_speed(tmp_path: Path, options: DecodeOptions) -> None:
    act = run_activity(START, minutes=10, speed=2.8, laps=1, positions=False, tpx=False)
    (activity,) = decode(write(tmp_path, "indoor.tcx", write_tcx([act])), options)
    samples = activity.samples
    assert samples is not None and samples.speed is not None
    assert np.isnan(samples.speed[0]) and np.allclose(samples.speed[1:], 2.8)
    assert activity.distance_m == pytest.approx(2.8 * 600)


def test_other_sport_is_inferred_from_the_track(tmp_path: Path, options: DecodeOptions) -> None:
    act = run_activity(START, sport="Other", speed=3.0, distances=False, tpx=False)
    (activity,) = decode(write(tmp_path, "other.tcx", write_tcx([act])), options)
    assert (activity.sport, activity.category, activity.sport_inferred) == (
        "running",
        Category.RUN,
        True,
    )
    still = run_activity(START, sport="Other", positions=False, distances=False, tpx=False)
    (gym,) = decode(write(tmp_path, "gym.tcx", write_tcx([still])), options)
    assert (gym.sport_raw, gym.category, gym.sport_inferred) == ("Other", Category.OTHER, False)


def test_a_first_trackpoint_without_data(tmp_path: Path, options: DecodeOptions) -> None:
    act = run_activity(START, minutes=5, laps=1)
    lap = act.laps[0]
    points = [TcxPoint(seconds=0), *lap.points[1:]]  # only a <Time>, as some devices write
    path = write(
        tmp_path, "first-empty.tcx", write_tcx([replace(act, laps=[replace(lap, points=points)])])
    )
    (activity,) = decode(path, options)
    assert activity.start_utc == START
    samples = activity.samples
    assert samples is not None and samples.hr is not None
    assert np.isnan(samples.hr[0]) and np.isfinite(samples.hr[1:]).all()


def test_trackpoints_without_time_leave_the_laps(tmp_path: Path, options: DecodeOptions) -> None:
    """A pool swim: laps with totals, trackpoints without times: stored from the laps."""
    laps = [
        TcxLap(start_s=i * 70.0, points=[TcxPoint(0, timed=False, hr=120)], total_time_s=60.0,
               distance_m=100.0, avg_hr=120 + i, max_hr=130)
        for i in range(5)
    ]  # fmt: skip
    act = TcxActivity(sport="Other", start=START, laps=laps)
    (activity,) = decode(write(tmp_path, "swim.tcx", write_tcx([act])), options)
    assert activity.samples is None
    assert activity.timer_s == 300.0 and activity.elapsed_s == 340.0
    assert activity.distance_m == 500.0
    assert activity.avg_hr == 122.0
    assert activity.notes == ("from lap totals (no timed trackpoints)",)


def test_one_unusable_activity_is_left_out_with_a_note(
    tmp_path: Path, options: DecodeOptions
) -> None:
    good = run_activity(START)
    empty = TcxActivity(sport="Running", start=START + timedelta(days=1), laps=[])
    activities = decode(write(tmp_path, "two.tcx", write_tcx([good, empty])), options)
    assert len(activities) == 1
    assert activities[0].notes == ("1 other activity in the file unusable",)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty file (0 bytes)"),
        ("   \n", "empty file"),
        ("this is no XML", "not a TCX file (not XML: syntax error)"),
        ('<?xml version="1.0"?><gpx version="1.1"></gpx>',
         "not a TCX file (its root element is <gpx>)"),
        ('<TrainingCenterDatabase xmlns="x"><Courses><Course><Name>r</Name></Course></Courses>'
         "</TrainingCenterDatabase>", "no activities (only courses, workouts or other data)"),
        ('<TrainingCenterDatabase><Activities><Activity Sport="Running"><Id>2026-01-01T00:00:00Z'
         "</Id></Activity></Activities></TrainingCenterDatabase>",
         "no timed trackpoints and no lap times"),
        ('<!DOCTYPE t [<!ENTITY a "aaaa">]><TrainingCenterDatabase>&a;</TrainingCenterDatabase>',
         "XML entity declarations are not accepted (entity 'a')"),
        ("<TrainingCenterDatabase>" + "<a>" * MAX_DEPTH + "</a>" * MAX_DEPTH
         + "</TrainingCenterDatabase>", f"XML nested more than {MAX_DEPTH} levels deep"),
        ('<TrainingCenterDatabase><Activities><Activity Sport="Running"><Lap><Track><Trackpoint>'
         "<Time>yesterday</Time></Trackpoint></Track></Lap></Activity></Activities>"
         "</TrainingCenterDatabase>", "invalid time 'yesterday' in a track point"),
    ],
)  # fmt: skip
def test_bad_input_fails_in_one_line(
    tmp_path: Path, options: DecodeOptions, text: str, reason: str
) -> None:
    path = write(tmp_path, "bad.tcx", text)
    with pytest.raises(ImportFailed) as caught:
        decode(path, options)
    assert caught.value.reason == reason
    assert "\n" not in str(caught.value)


def test_a_gzip_bomb_is_refused_while_inflating(tmp_path: Path) -> None:
    text = write_tcx([run_activity(START)]).replace(
        "<Activities>", "<Activities>" + " " * 3_000_000
    )
    path = write(tmp_path, "bomb.tcx.gz", gzip.compress(text.encode()))
    small = DecodeOptions(zone=ZoneInfo("UTC"), max_bytes=1_000_000)
    with pytest.raises(ImportFailed) as caught:
        decode_file(path, path.read_bytes(), small)
    assert "once decompressed" in caught.value.reason


def test_the_cli_imports_tcx_and_finds_it_imported_again(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    write(folder, "MORNING.TCX", write_tcx([run_activity(START)], leading="  \n"))
    text = write_tcx([run_activity(START + timedelta(days=1), sport="Biking", speed=7.0)])
    write(folder, "Ride.Tcx.GZ", gzip.compress(text.encode()))
    silly = run_activity(START + timedelta(days=2), speed=3.0)
    # 900 km run in 20 minutes, from laps alone: no samples to contradict the laps.
    lap = replace(silly.laps[0], distance_m=900_000.0, points=[])
    write(folder, "broken.tcx", write_tcx([replace(silly, laps=[lap])]))
    db = tmp_path / "store.sqlite"
    config = tmp_path / "config.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\n')
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(config)}
    first = heavylegs_cli("import", str(folder), env=env)
    assert first.returncode == 1, first.stderr
    assert first.stdout.strip().startswith("2 new")
    assert first.stdout.strip().endswith("1 failed")
    (error,) = first.stderr.splitlines()
    assert error.startswith("error: ") and "broken.tcx: implausible distance" in error
    with sqlite3.connect(db) as raw:
        rows = raw.execute(
            "SELECT source, sport, category, distance_m FROM activities ORDER BY start_utc"
        ).fetchall()
    assert rows == [("tcx", "running", "run", 3600.0), ("tcx", "cycling", "cross", 8400.0)]
    second = heavylegs_cli("import", str(folder), env=env)
    assert second.stdout.strip().startswith("0 new, 2 already imported")


def test_laps_past_the_last_trackpoint_are_believed(tmp_path: Path, options: DecodeOptions) -> None:
    """A cut file: the lap says 55 minutes and 18.7 km, the points hold 5 minutes."""
    act = run_activity(START, minutes=5, step=5, speed=3.0, laps=1)
    lap = replace(act.laps[0], total_time_s=3312.0, distance_m=18_743.8, avg_hr=160)
    (activity,) = decode(write(tmp_path, "cut.tcx", write_tcx([replace(act, laps=[lap])])), options)
    assert activity.timer_s == pytest.approx(3312.0)
    assert activity.elapsed_s == pytest.approx(3312.0)  # to the end of the lap
    assert activity.distance_m == pytest.approx(18_743.8)
    assert activity.avg_hr == 160.0
    assert activity.samples is not None and activity.samples.t[-1] == 300.0
    assert activity.notes == ()


def test_laps_longer_than_their_own_span_are_not_believed(
    tmp_path: Path, options: DecodeOptions
) -> None:
    """Two laps that each claim the whole hour: merged or overlapping, not added up."""
    act = run_activity(START, minutes=10, step=5, speed=3.0, laps=2)
    laps = [replace(lap, total_time_s=3600.0, distance_m=10_000.0, avg_hr=170) for lap in act.laps]
    (activity,) = decode(
        write(tmp_path, "merged.tcx", write_tcx([replace(act, laps=laps)])), options
    )
    assert activity.timer_s == pytest.approx(600.0)  # from the trackpoints
    assert activity.elapsed_s == pytest.approx(600.0)
    assert activity.distance_m == pytest.approx(1800.0)
    assert activity.avg_hr == 146.0  # from the samples, not the laps' 170
    assert activity.notes == ("lap totals ignored (longer than the laps' own span)",)


FILE_FACTS = json.loads((FILES / "expected.json").read_text())


def test_committed_strava_style_tcx(options: DecodeOptions) -> None:
    facts = FILE_FACTS["strava-style.tcx.gz"]
    (activity,) = decode(FILES / "strava-style.tcx.gz", options)
    assert activity.start_local.isoformat() == facts["local_start"]
    assert activity.timer_s == pytest.approx(facts["seconds"])
    assert activity.distance_m == pytest.approx(facts["distance_m"])
    assert activity.category is Category.RUN


def test_committed_duathlon_tcx(options: DecodeOptions) -> None:
    facts = FILE_FACTS["duathlon.tcx"]["activities"]
    activities = decode(FILES / "duathlon.tcx", options)
    assert len(activities) == len(facts) == 2
    for activity, fact in zip(activities, facts, strict=True):
        assert activity.sport_raw == fact["sport"]  # as the file spells it
        assert activity.start_local.isoformat() == fact["local_start"]
        assert activity.timer_s == pytest.approx(fact["seconds"])
        assert activity.distance_m == pytest.approx(fact["distance_m"])
    assert [a.category for a in activities] == [Category.CROSS, Category.RUN]
