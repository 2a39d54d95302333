"""Right verdicts on real-shaped data with no settings (issue 9).

Every file here is generated with the fixture writers (fit-tool for FIT, the GPX writer),
written to disk and imported through the real pipeline into a real SQLite store.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _gen_fit import GENERIC, Series, SessionSpec, WatchSettings, write_fit, write_gpx

from heavylegs_sync.config import load_settings
from heavylegs_sync.diagnosis import analyse_store
from heavylegs_sync.importers import DecodeOptions, decode_file
from heavylegs_sync.ingest import import_paths
from heavylegs_sync.model import Category, HrSettings
from heavylegs_sync.store import Store
from heavylegs_sync.watch import FolderWatcher, WatchOptions
from tests.conftest import BERLIN, heavylegs_cli

WATCH = WatchSettings(max_hr=190, lthr=172, resting_hr=50)


def run_series(minutes: int, hr: int | list[int], *, step: int = 5, speed: float = 3.0) -> Series:
    """A steady run sampled every ``step`` seconds."""
    t = list(range(0, minutes * 60 + 1, step))
    hrs = hr if isinstance(hr, list) else [hr] * len(t)
    return Series(
        t=t,
        hr=hrs,
        speed=[speed] * len(t),
        distance=[speed * s for s in t],
    )


def berlin(day: date, hhmm: str) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def fit_run(folder: Path, name: str, start: datetime, series: Series, **kwargs: Any) -> Path:
    path = folder / name
    path.write_bytes(
        write_fit([SessionSpec("running", "generic", start, series)], BERLIN, **kwargs)
    )
    return path


def fit_strength(folder: Path, name: str, start: datetime, minutes: int = 40) -> Path:
    t = list(range(0, minutes * 60 + 1, 10))
    series = Series(t=t, hr=[110] * len(t))
    spec = SessionSpec("training", "strength_training", start, series)
    path = folder / name
    path.write_bytes(write_fit([spec], BERLIN, watch=WATCH))
    return path


def settings_file(folder: Path, text: str = "") -> Path:
    path = folder / "heavylegs.toml"
    path.write_text('[athlete]\ntimezone = "Europe/Berlin"\n' + text)
    return path


# --- 1. zones from the watch's own settings ---------------------------------------------


def test_a_fit_file_carries_the_watchs_heart_rate_settings(tmp_path: Path) -> None:
    path = fit_run(tmp_path, "run.fit", berlin(date(2026, 3, 2), "07:00"), run_series(30, 140),
                   watch=WATCH)  # fmt: skip
    (activity,) = decode_file(path, path.read_bytes(), DecodeOptions(zone=BERLIN))
    assert activity.hr_settings == HrSettings(max_hr=190, lthr=172, resting_hr=50,
                                              zone_method="lthr")  # fmt: skip


def test_unset_watch_values_are_not_values(tmp_path: Path) -> None:
    """Garmin writes resting HR 0 and threshold 0 for "not set"; they must not count."""
    unset = WatchSettings(max_hr=185, lthr=0, resting_hr=0, calc="percent_max_hr")
    path = fit_run(tmp_path, "run.fit", berlin(date(2026, 3, 2), "07:00"), run_series(30, 140),
                   watch=unset)  # fmt: skip
    (activity,) = decode_file(path, path.read_bytes(), DecodeOptions(zone=BERLIN))
    assert activity.hr_settings == HrSettings(max_hr=185, zone_method="hrmax")


def import_folder(db: Path, folder: Path) -> None:
    with Store.open(db) as store:
        summary = import_paths(store, [folder], DecodeOptions(zone=BERLIN))
    assert summary.failed == 0


def test_a_change_of_max_hr_on_the_watch_applies_from_that_day(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    old = WatchSettings(max_hr=200, lthr=180, resting_hr=50, calc="percent_max_hr")
    new = replace(old, max_hr=180)
    fit_run(files, "a.fit", berlin(date(2026, 3, 2), "07:00"), run_series(40, 150), watch=old)
    fit_run(files, "b.fit", berlin(date(2026, 3, 16), "07:00"), run_series(40, 150), watch=new)
    db = tmp_path / "store.sqlite"
    import_folder(db, files)
    settings = load_settings(config=settings_file(tmp_path), db=db)
    with Store.open(db) as store:
        analysis = analyse_store(store, settings, date(2026, 3, 22), date(2026, 3, 2))
    assert analysis.timeline is not None
    assert [m.max_hr for m in analysis.timeline.models] == [200.0, 180.0]
    assert analysis.timeline.starts[1] == date(2026, 3, 16)
    assert analysis.model is not None
    assert analysis.model.max_hr_source == "watch" and analysis.model.since == date(2026, 3, 16)
    facts = {f.day: f for f in analysis.facts}
    # 150 bpm: zone 2 under 200 bpm max (bound 162), zone 3 under 180 bpm max (bound 145).
    assert facts[date(2026, 3, 2)].zones.hard_seconds == 0
    assert facts[date(2026, 3, 16)].zones.hard_seconds == pytest.approx(40 * 60)


def test_settings_beat_the_watch_and_the_report_says_where_max_hr_came_from(
    tmp_path: Path,
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    fit_run(files, "a.fit", berlin(date(2026, 3, 2), "07:00"), run_series(40, 150), watch=WATCH)
    db = str(tmp_path / "store.sqlite")
    config = settings_file(tmp_path, "max_hr = 200\n")
    env = {"HEAVYLEGS_DB": db, "HEAVYLEGS_CONFIG": str(config)}
    assert heavylegs_cli("import", str(files), env=env).returncode == 0
    args = ("report", "--since", "2026-03-02", "--until", "2026-03-08")
    data = json.loads(heavylegs_cli(*args, "--format", "json", env=env).stdout)
    assert (data["athlete"]["max_hr"], data["athlete"]["max_hr_source"]) == (200, "settings")
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\n')
    data = json.loads(heavylegs_cli(*args, "--format", "json", env=env).stdout)
    assert (data["athlete"]["max_hr"], data["athlete"]["max_hr_source"]) == (190, "watch")
    assert data["athlete"]["max_hr_date"] == "2026-03-02"
    text = " ".join(heavylegs_cli(*args, env=env).stdout.split())
    assert "maximum heart rate 190 bpm, from your watch's settings (as of 2026-03-02)" in text


def test_estimated_zones_say_so_in_the_first_lines_and_in_every_speed_finding(
    tmp_path: Path,
) -> None:
    """No settings, no watch values: every run hard (90% of time at the sustained peak)."""
    files = tmp_path / "files"
    files.mkdir()
    monday = date(2026, 3, 2)
    for i in range(6):
        hr = [150] * 60 + [178] * 301  # 5 min easy, 25 min at 178
        fit_run(files, f"r{i}.fit", berlin(monday + timedelta(days=i), "07:00"),
                run_series(30, hr))  # fmt: skip
    db = str(tmp_path / "store.sqlite")
    env = {"HEAVYLEGS_DB": db, "HEAVYLEGS_CONFIG": str(settings_file(tmp_path))}
    assert heavylegs_cli("import", str(files), env=env).returncode == 0
    args = ("report", "--since", "2026-03-02", "--until", "2026-03-08")
    data = json.loads(heavylegs_cli(*args, "--format", "json", env=env).stdout)
    assert data["athlete"]["max_hr_source"] == "estimate"
    assert data["athlete"]["max_hr"] >= 178  # never below what was sustained
    speed = [f for f in data["findings"] if f["cause"] == 2]
    assert speed and all(f["evidence"]["zones_estimated"] for f in speed)
    text = heavylegs_cli(*args, env=env).stdout
    head = " ".join(text.splitlines()[:4])
    assert "estimated" in head and "max_hr" in head


# --- 2. interleaved heart rate --------------------------------------------------------


def gpx_track(series: Series, start: datetime, type_text: str | None = "running") -> bytes:
    """A GPX track along a straight line north from Berlin at the series' distances."""
    assert series.distance is not None
    lat = [52.5 + d / 111_320.0 for d in series.distance]
    lon = [13.4] * len(series.t)
    shaped = replace(series, lat=lat, lon=lon, ele=[35.0] * len(series.t))
    return write_gpx(GENERIC, start, shaped, "run", type_text).encode()


def test_interleaved_hr_counts_as_continuous(tmp_path: Path) -> None:
    """A phone app: HR on every other point, 2-3 s apart; 68% of points carry HR."""
    series = run_series(40, 140, step=2)
    hrs: list[Any] = [140 if i % 3 != 2 else None for i in range(len(series.t))]
    text = gpx_track(replace(series, hr=None), berlin(date(2026, 3, 3), "07:00"))
    # Put HR back on two points out of three, as the app wrote it.
    lines = text.decode().split("<trkpt ")
    rebuilt = [lines[0]]
    for i, chunk in enumerate(lines[1:]):
        if hrs[i] is not None:
            chunk = chunk.replace(
                "</trkpt>",
                "<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>140</gpxtpx:hr>"
                "</gpxtpx:TrackPointExtension></extensions></trkpt>",
            )
        rebuilt.append(chunk)
    path = tmp_path / "phone.gpx"
    path.write_text("<trkpt ".join(rebuilt))
    (activity,) = decode_file(path, path.read_bytes(), DecodeOptions(zone=BERLIN))
    assert activity.samples is not None and activity.samples.hr is not None
    assert 0.6 < sum(1 for v in activity.samples.hr if v == v) / len(activity.samples) < 0.7
    assert activity.hr_coverage == pytest.approx(1.0, abs=0.001)


# --- 3. GPS glitches -------------------------------------------------------------------


def test_teleports_and_a_clock_jump_do_not_inflate_distance_or_change_the_sport(
    tmp_path: Path,
) -> None:
    # 8 km at 3 m/s over 44:27, then 15 min without points, then 1 km more.
    series = run_series(44, 140, step=3)
    assert series.distance is not None
    start = berlin(date(2026, 3, 4), "07:00")
    text = gpx_track(series, start, type_text=None).decode()
    points = text.split("<trkpt ")
    # Teleports: three single fixes 14 km east of the track.
    for index in (100, 400, 700):
        points[index] = points[index].replace('lon="13.4000000"', 'lon="13.6000000"', 1)
    after = run_series(6, 140, step=3)
    tail_start = start + timedelta(seconds=series.t[-1] + 15 * 60)
    tail = gpx_track(
        replace(after, distance=[series.distance[-1] + d for d in after.distance or []]),
        tail_start,
        type_text=None,
    ).decode()
    tail_points = tail.split("<trkpt ")[1:]
    tail_points[-1] = tail_points[-1].split("</trkseg>")[0]
    body = "<trkpt ".join(points)
    head, _, end = body.rpartition("</trkseg>")
    path = tmp_path / "glitchy.gpx"
    path.write_text(head + "<trkpt " + "<trkpt ".join(tail_points) + "</trkseg>" + end)

    (activity,) = decode_file(path, path.read_bytes(), DecodeOptions(zone=BERLIN))
    expected = series.distance[-1] + 6 * 60 * 3.0
    assert activity.distance_m == pytest.approx(expected, rel=0.01)  # not 8 + 3 x 28 km
    assert activity.category is Category.RUN and activity.sport_inferred
    assert activity.points_dropped == 3
    assert activity.timer_s == pytest.approx(50 * 60, abs=10)  # the 15-min jump is a pause
    assert activity.samples is not None and len(activity.samples) == len(series.t) + len(after.t)


# --- 4. one activity, however many files -------------------------------------------------


def resaved(original: bytes, start: datetime, series: Series) -> bytes:
    """What a program that re-saves a file writes: local time as UTC, no local_timestamp,
    maker 0, one more record at the end."""
    shifted = start + timedelta(hours=1)  # Berlin in March: UTC+1 written as UTC
    longer = replace(
        series,
        t=[*series.t, series.t[-1] + 1],
        hr=[*(series.hr or []), (series.hr or [0])[-1]],
        speed=[*(series.speed or []), 3.0],
        distance=[*(series.distance or []), (series.distance or [0.0])[-1] + 3.0],
    )
    spec = SessionSpec("running", "generic", shifted, longer)
    return write_fit([spec], BERLIN, local_timestamp=False, maker=0)


@pytest.mark.parametrize("order", ["original first", "copy first"])
def test_a_file_and_its_resaved_copy_are_one_activity(tmp_path: Path, order: str) -> None:
    start = berlin(date(2026, 3, 5), "07:00")
    hr = [130 + (i * 7) % 30 for i in range(30 * 12 + 1)]  # a trace with a shape
    series = run_series(30, hr)
    files = tmp_path / "files"
    files.mkdir()
    original = fit_run(files, "watch.fit", start, series, watch=WATCH)
    copy = files / "exported-by-another-program.fit"
    copy.write_bytes(resaved(original.read_bytes(), start, series))
    db = tmp_path / "store.sqlite"
    paths = [original, copy] if order == "original first" else [copy, original]
    with Store.open(db) as store:
        summary = import_paths(store, paths, DecodeOptions(zone=BERLIN))
        assert summary.failed == 0 and summary.new == 2
        (activity,) = store.activities()
    assert activity.start_utc == start  # the device's clock decides
    assert activity.start_local.hour == 7
    assert sorted(Path(ref).name for ref in activity.source_refs) == [
        "exported-by-another-program.fit",
        "watch.fit",
    ]


def test_two_different_runs_at_the_same_time_of_day_stay_two(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    first = berlin(date(2026, 3, 5), "07:00")
    fit_run(files, "a.fit", first, run_series(30, [130 + i % 20 for i in range(361)]))
    fit_run(files, "b.fit", first + timedelta(hours=2),
            run_series(30, [150 - i % 15 for i in range(361)]))  # fmt: skip
    with Store.open(tmp_path / "store.sqlite") as store:
        import_paths(store, [files], DecodeOptions(zone=BERLIN))
        assert len(store.activities()) == 2


# --- 5. window edges ---------------------------------------------------------------------


def edge_files(folder: Path) -> tuple[Path, Path]:
    """Strength on Sunday 8 March, a 95-minute long run on Monday 9 March."""
    sunday, monday = date(2026, 3, 8), date(2026, 3, 9)
    strength = fit_strength(folder, "strength.fit", berlin(sunday, "18:30"))
    long_run = fit_run(folder, "long.fit", berlin(monday, "08:00"), run_series(95, 135, step=10),
                       watch=WATCH)  # fmt: skip
    return strength, long_run


def test_strength_on_the_last_day_is_judged_against_the_next_days_run(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    edge_files(files)
    db = str(tmp_path / "store.sqlite")
    env = {"HEAVYLEGS_DB": db, "HEAVYLEGS_CONFIG": str(settings_file(tmp_path))}
    assert heavylegs_cli("import", str(files), env=env).returncode == 0
    result = heavylegs_cli(
        "report", "--since", "2026-03-02", "--until", "2026-03-08", "--format", "json", env=env
    )
    codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    assert "strength-before-long-run" in codes


def test_the_watcher_reports_sunday_strength_when_monday_long_run_arrives(tmp_path: Path) -> None:
    files = tmp_path / "inbox"
    files.mkdir()
    strength, long_run = edge_files(tmp_path)
    db = tmp_path / "store.sqlite"
    settings = load_settings(config=settings_file(tmp_path), db=db)
    with Store.open(db) as store:
        import_paths(store, [strength], DecodeOptions(zone=BERLIN))
        arrived = files / long_run.name
        long_run.rename(arrived)
        watcher = FolderWatcher(
            store,
            settings,
            DecodeOptions(zone=BERLIN),
            WatchOptions(folders=[files], once=True),
            today=lambda: datetime(2026, 3, 10, 12, 0, tzinfo=BERLIN),
        )
        burst = watcher.import_burst([arrived])
    assert [(f.code, f.date) for f in burst.findings if f.cause == 6] == [
        ("strength-before-long-run", date(2026, 3, 8))
    ]


# --- 6. activities as data ---------------------------------------------------------------


def test_activities_as_json_and_csv(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    edge_files(files)
    db = str(tmp_path / "store.sqlite")
    env = {"HEAVYLEGS_DB": db, "HEAVYLEGS_CONFIG": str(settings_file(tmp_path))}
    assert heavylegs_cli("import", str(files), env=env).returncode == 0
    result = heavylegs_cli("activities", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["category"] for r in records] == ["strength", "run"]
    run = records[1]
    assert {
        "id", "start_utc", "start_local", "category", "sport", "duration_s", "moving_s",
        "distance_m", "avg_hr", "max_hr", "hr_coverage", "sources", "points_dropped",
    } <= set(run)  # fmt: skip
    assert run["start_local"] == "2026-03-09T08:00:00+01:00"
    assert run["start_utc"] == "2026-03-09T07:00:00Z"
    assert run["duration_s"] == 95 * 60 and run["hr_coverage"] == 1.0
    assert run["sources"] == [str(files / "long.fit")]
    assert (run["decoder"], run["decoder_note"]) == ("fitfast", None)  # the fast path read it
    assert math.isclose(run["distance_m"], 95 * 60 * 3.0)
    out = tmp_path / "list.csv"
    assert heavylegs_cli("activities", "-o", str(out), env=env).returncode == 0
    header, *rows = out.read_text().splitlines()
    assert header.split(",")[:3] == ["id", "start_utc", "start_local"] and len(rows) == 2
