"""A watch's own wellness FIT files: monitoring (resting HR), sleep stages, HRV status.

Real files from a fenix 6S (the corpus, rgmf/fit_data_whiz) checked against an
independent reading with fitparse's raw messages, and generated files shaped like them
(fixtures/gen_wellness_fit.py) imported through the CLI and the watcher into a real store.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import fitparse
import pytest
from gen_wellness_fit import DAYS, NIGHTS, hrv_status_fit, monitoring_fit, sleep_fit
from hypothesis import given, settings
from hypothesis import strategies as st

from heavylegs_sync.errors import ImportFailed, NotAnActivity
from heavylegs_sync.importers import DecodeOptions, Decoder, decode_file
from heavylegs_sync.importers.fit_wellness import file_type, read_fit_wellness, recognises
from heavylegs_sync.importers.wellness_read import reader_for
from heavylegs_sync.model import WellnessRecord, WellnessSource
from tests.conftest import FILES, FIXTURES, SAMPLE, corpus_dir, heavylegs_cli
from tests.test_fuzz import fix_crc
from tests.test_watch import Service, wait_for

WHIZ = "fit/fit_data_whiz"
OUT = FIXTURES / "wellness-fit"
UTC_OPTIONS = DecodeOptions(zone=ZoneInfo("UTC"))
FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)


def read(path: Path, options: DecodeOptions = UTC_OPTIONS) -> list[WellnessRecord]:
    data = path.read_bytes()
    reader = reader_for(path, data)
    assert reader is not None, f"{path.name} is not taken as a wellness file"
    result = reader(path, data, options)
    assert result.problems == []
    return result.records


# -- the real files ------------------------------------------------------------------------


def fitparse_stages(path: Path) -> dict[str, float]:
    """Seconds per stage from fitparse's raw messages (its profile has no names for
    them): sleep_level is message 275 (field 0: 1 awake, 2 light, 3 deep, 4 rem), each
    lasting until the next; the sleep stop event (21, event 74, type 1) ends the last."""
    names = {1: "awake", 2: "light", 3: "deep", 4: "rem"}
    levels: list[tuple[int, int]] = []
    stop = 0
    for message in fitparse.FitFile(str(path)).get_messages():
        raw = {f.def_num: f.raw_value for f in message.fields}
        if message.mesg_num == 275:
            levels.append((raw[253], raw[0]))
        elif message.mesg_num == 21 and raw.get(0) == 74 and raw.get(1) == 1:
            stop = raw[253]
    assert stop, "no sleep stop event"
    levels.sort()
    ends = [t for t, _ in levels[1:]] + [stop]
    seconds: dict[str, float] = {}
    for (t, level), end in zip(levels, ends, strict=True):
        seconds[names[level]] = seconds.get(names[level], 0.0) + float(end - t)
    return seconds


def fitparse_raw(path: Path, mesg_num: int, field: int) -> list[Any]:
    return [
        {f.def_num: f.raw_value for f in m.fields}.get(field)
        for m in fitparse.FitFile(str(path)).get_messages()
        if m.mesg_num == mesg_num
    ]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "day", "asleep", "deep", "light", "rem", "awake", "start", "end"),
    [
        # 21:47 start, first stage 21:50, stop 05:49 UTC (07:49 CEST, the wake date)
        ("sleep1", date(2023, 9, 27), 407, 51, 156, 200, 72, "09-26 21:47", "09-27 05:49"),
        ("sleep2", date(2023, 9, 28), 322, 10, 136, 176, 161, "09-27 21:40", "09-28 05:53"),
    ],
)
def test_a_real_night_is_its_stages_on_its_wake_date(
    name: str,
    day: date,
    asleep: int,
    deep: int,
    light: int,
    rem: int,
    awake: int,
    start: str,
    end: str,
) -> None:
    path = corpus_dir() / WHIZ / f"{name}.fit"
    [night] = read(path)
    minutes = {"deep": deep, "light": light, "rem": rem, "awake": awake}
    assert {k: v * 60.0 for k, v in minutes.items()} == fitparse_stages(path)
    assert night == WellnessRecord(
        day=day,
        source=WellnessSource.FIT,
        origin=str(path),
        sleep_s=asleep * 60.0,
        deep_s=deep * 60.0,
        light_s=light * 60.0,
        rem_s=rem * 60.0,
        awake_s=awake * 60.0,
        sleep_start=at(f"2023-{start}"),
        sleep_end=at(f"2023-{end}"),
    )
    assert asleep == deep + light + rem  # awake time excluded


@pytest.mark.parametrize(("name", "day", "hrv"), [("hrv1", 27, 92.0), ("hrv2", 28, 85.0)])
def test_a_real_hrv_status_gives_last_nights_average(name: str, day: int, hrv: float) -> None:
    path = corpus_dir() / WHIZ / f"{name}.fit"
    assert [v / 128 for v in fitparse_raw(path, 370, 1)] == [hrv]  # scale 128, in ms
    assert read(path) == [
        WellnessRecord(date(2023, 9, day), WellnessSource.FIT, str(path), hrv_ms=hrv)
    ]


@pytest.mark.parametrize(
    ("name", "day", "resting", "seven_day"),
    [
        ("monitor1_with_all", date(2023, 9, 26), [35, 35], [35, 35]),
        ("monitor2_with_all", date(2023, 9, 27), [33, 33], [35, 35]),
        # one value, stamped 2023-10-02 22:00 UTC: the local midnight closing 2 October
        ("monitor_with_intensities", date(2023, 10, 2), [35], [34]),
    ],
)
def test_a_real_monitoring_day_gives_its_own_resting_hr(
    name: str, day: date, resting: list[int], seven_day: list[int]
) -> None:
    path = corpus_dir() / WHIZ / f"{name}.fit"
    # monitoring_hr_data (211): field 1 is the day's own, field 0 the 7-day average
    assert fitparse_raw(path, 211, 1) == resting
    assert fitparse_raw(path, 211, 0) == seven_day
    for zone in ("UTC", "Europe/Madrid", "America/Los_Angeles"):  # the file's clock decides
        assert read(path, DecodeOptions(zone=ZoneInfo(zone))) == [
            WellnessRecord(day, WellnessSource.FIT, str(path), resting_hr=float(resting[-1]))
        ]


def test_the_real_files_go_through_the_cli_into_the_store(tmp_path: Path) -> None:
    folder = corpus_dir() / WHIZ
    old = corpus_dir() / "fit/python-fitparse/MonitoringFile.fit"  # a vivofit: no resting HR
    result = run_cli(tmp_path, "import", str(folder), str(old))
    assert result.returncode == 0, result.stderr
    # 7 day rows written by the files, on 4 days: the line counts days, once each
    assert result.stdout.startswith("9 new (2 activities, 4 wellness days)")
    assert "1 skipped, 0 failed" in result.stdout
    assert rows(tmp_path) == {
        "2023-09-26": (None, None, 35.0, None),
        "2023-09-27": (407 * 60.0, 51 * 60.0, 33.0, 92.0),
        "2023-09-28": (322 * 60.0, 10 * 60.0, None, 85.0),
        "2023-10-02": (None, None, 35.0, None),
    }
    why = "a FIT monitoring_b file with no resting heart rate in it"
    assert outcome(tmp_path, old) == ("skipped", why)


@pytest.mark.parametrize("decoder", [Decoder.FAST, Decoder.REFERENCE])
@pytest.mark.parametrize("name", ["hrv1", "monitor1_with_all", "sleep1"])
def test_the_activity_decoders_find_no_activity_in_them(name: str, decoder: Decoder) -> None:
    path = corpus_dir() / WHIZ / f"{name}.fit"
    with pytest.raises(NotAnActivity, match="not an activity file"):
        decode_file(path, path.read_bytes(), DecodeOptions(zone=ZoneInfo("UTC"), decoder=decoder))


def test_no_real_activity_file_is_taken_for_wellness() -> None:
    corpus = corpus_dir()
    taken = {
        p.relative_to(corpus).as_posix()
        for p in (corpus / "fit").rglob("*")
        if p.is_file() and recognises(p, p.read_bytes()[:4096])
    }
    assert taken == {
        f"{WHIZ}/{n}.fit"
        for n in ("hrv1", "hrv2", "monitor1_with_all", "monitor2_with_all",
                  "monitor_with_intensities", "sleep1", "sleep2")
    } | {"fit/python-fitparse/MonitoringFile.fit"}  # fmt: skip


# -- the generated files -------------------------------------------------------------------


def run_cli(
    tmp_path: Path, *args: str, zone: str = "Europe/Berlin"
) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(f'[athlete]\ntimezone = "{zone}"\n')
    env = {"HEAVYLEGS_DB": str(tmp_path / "store.sqlite"), "HEAVYLEGS_CONFIG": str(config)}
    return heavylegs_cli(*args, env=env)


def rows(tmp_path: Path) -> dict[str, tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        found = raw.execute(
            "SELECT day, sleep_s, deep_s, resting_hr, hrv_ms FROM wellness WHERE source = 'fit'"
        ).fetchall()
    return {day: tuple(values) for day, *values in found}


def outcome(tmp_path: Path, path: Path) -> tuple[str, str | None]:
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        found = raw.execute(
            "SELECT outcome, message FROM import_log WHERE path = ?", (str(path),)
        ).fetchall()
    assert len(found) == 1, found
    return str(found[0][0]), found[0][1]


#: What fixtures/wellness-fit must give, worked out by hand from gen_wellness_fit's plan:
#: day -> (time asleep, deep, light, REM, awake, in minutes; start, end UTC; resting HR; HRV)
EXPECTED = {
    # 22:30 CEST start, 3 minutes to the first stage, 440 minutes of stages
    "2026-10-24": (425, 90, 215, 120, 15, "2026-10-23 20:30", "2026-10-24 03:53", 45.0, 61.0),
    # 23:15 CEST to 06:43 CET: the clock went back an hour in between
    "2026-10-25": (470, 85, 275, 110, 35, "2026-10-24 21:15", "2026-10-25 05:43", 44.0, 48.0),
    # 00:40 CET (23:40 UTC the day before), 10 minutes unmeasurable counted nowhere; the
    # day's resting HR is the midnight figure (52), not noon's (50)
    "2026-10-26": (230, 50, 140, 40, 30, "2026-10-25 23:40", "2026-10-26 04:13", 52.0, 55.0),
}  # fmt: skip


def full_rows(tmp_path: Path) -> dict[str, tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        found = raw.execute(
            "SELECT day, sleep_s, deep_s, light_s, rem_s, awake_s, sleep_start, sleep_end, "
            "resting_hr, hrv_ms FROM wellness WHERE source = 'fit' ORDER BY day"
        ).fetchall()
    return {day: tuple(values) for day, *values in found}


def expected_rows() -> dict[str, tuple[Any, ...]]:
    def stamp(text: str) -> str:
        return at(text).strftime("%Y-%m-%dT%H:%M:%S.000000Z")

    return {
        day: (*(m * 60.0 for m in minutes), stamp(start), stamp(end), rhr, hrv)
        for day, (*minutes, start, end, rhr, hrv) in EXPECTED.items()
    }


def test_the_plan_matches_the_expected_values() -> None:
    """The hand-worked numbers above and the generator's plan say the same nights."""
    for night in NIGHTS:
        asleep, deep, light, rem, awake, *_ = EXPECTED[night.name]
        by_stage: dict[str, int] = {}
        for level, minutes in night.stages:
            by_stage[level] = by_stage.get(level, 0) + minutes
        assert (deep, light, rem, awake) == tuple(
            by_stage.get(s, 0) for s in ("deep", "light", "rem", "awake")
        )
        assert asleep == deep + light + rem
    assert {d.day: float(d.final_rhr) for d in DAYS} == {k: v[7] for k, v in EXPECTED.items()}


def test_a_watch_drive_imports_through_the_cli(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "import", str(OUT))
    assert first.returncode == 0, first.stderr
    # 3 sleep + 3 HRV + 3 monitoring files and the run; the monitoring file with no
    # resting HR is skipped, not failed
    line = first.stdout.strip()
    # 9 files fill 3 days (each day's row by its sleep, HRV and monitoring file)
    assert line.startswith("10 new (1 activity, 3 wellness days)")
    assert line.endswith(", 0 already imported, 1 skipped, 0 failed")
    assert first.stderr == ""
    assert full_rows(tmp_path) == expected_rows()
    skipped = OUT / "GARMIN/Monitor/M20261027.FIT"
    assert outcome(tmp_path, skipped) == (
        "skipped",
        "a FIT monitoring_b file with no resting heart rate in it",
    )
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        activities = raw.execute("SELECT sport, source_path FROM activities").fetchall()
    assert activities == [("running", str(OUT / "GARMIN/Activity/A20261024.FIT"))]
    second = run_cli(tmp_path, "import", str(OUT))
    assert second.stdout.strip() == "0 new, 10 already imported, 1 skipped, 0 failed"
    assert full_rows(tmp_path) == expected_rows()


def test_a_zipped_copy_of_the_drive_gives_the_same_days(tmp_path: Path) -> None:
    archive = tmp_path / "garmin-drive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(OUT.rglob("*.FIT")):
            zipped.write(path, path.relative_to(OUT).as_posix())
    result = run_cli(tmp_path, "import", str(archive))
    assert result.returncode == 0, result.stderr
    assert full_rows(tmp_path) == expected_rows()


def test_the_days_are_the_watchs_own_wherever_the_athlete_is_set(tmp_path: Path) -> None:
    """The files carry the watch's local clock (monitoring_info, timestamp_correlation,
    the sleep stop event): an athlete set to New York gets Berlin's dates for them."""
    result = run_cli(tmp_path, "import", str(OUT / "GARMIN"), zone="America/New_York")
    assert result.returncode == 0, result.stderr
    assert full_rows(tmp_path) == expected_rows()


def test_without_the_watchs_clock_the_athletes_zone_places_the_night(tmp_path: Path) -> None:
    night = NIGHTS[2]  # stop 04:13 UTC: 26 October in Berlin, 25 October in Los Angeles
    path = tmp_path / "S.FIT"
    path.write_bytes(sleep_fit(night))
    [berlin] = read(path, DecodeOptions(zone=ZoneInfo("America/Los_Angeles")))
    assert berlin.day == date(2026, 10, 26)  # the stop event's local time decides
    path.write_bytes(sleep_fit(night, local_times=False))
    [placed] = read(path, DecodeOptions(zone=ZoneInfo("America/Los_Angeles")))
    assert placed.day == date(2026, 10, 25)
    assert placed.sleep_s == berlin.sleep_s == 230 * 60.0


@pytest.mark.parametrize("day", DAYS)
def test_without_the_watchs_clock_a_midnight_value_closes_the_day_before(
    tmp_path: Path, day: Any
) -> None:
    """No local time in monitoring_info: the athlete's zone places each value, and the
    final one, stamped at the next local midnight (a 25-hour day on 25 October), is the
    day's, not the next day's."""
    path = write(tmp_path, "M.FIT", monitoring_fit(day, day.day, local_times=False))
    berlin = DecodeOptions(zone=ZoneInfo("Europe/Berlin"))
    assert read(path, berlin) == [
        WellnessRecord(
            date.fromisoformat(day.day),
            WellnessSource.FIT,
            str(path),
            resting_hr=float(day.final_rhr),
        )
    ]


def test_the_watcher_imports_wellness_files_dropped_in(tmp_path: Path) -> None:
    folder = tmp_path / "GARMIN"
    folder.mkdir()
    service = Service(tmp_path, folder)
    try:
        shutil.copytree(OUT / "GARMIN" / "Sleep", folder / "Sleep")
        shutil.copytree(OUT / "GARMIN" / "HRVStatus", folder / "HRVStatus")
        wait_for(lambda: len(rows(tmp_path)) == 3 and _all_hrv(tmp_path), 60, "3 nights")
    finally:
        assert service.stop() == 0
    assert {d: (v[0], v[3]) for d, v in rows(tmp_path).items()} == {
        day: (exp[0] * 60.0, exp[8]) for day, exp in EXPECTED.items()
    }


def _all_hrv(tmp_path: Path) -> bool:
    try:
        return all(v[3] is not None and v[0] is not None for v in rows(tmp_path).values())
    except sqlite3.OperationalError:
        return False


def test_the_generator_reproduces_the_committed_files() -> None:
    result = subprocess.run(
        [sys.executable, str(FIXTURES / "gen_wellness_fit.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- what is not a wellness file, and what is broken ---------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        *sorted(SAMPLE.glob("*.fit"))[:5],
        FILES / "multisport.fit",
        OUT / "GARMIN/Activity/A20261024.FIT",
    ],
)
def test_an_activity_file_is_never_taken(path: Path) -> None:
    head = path.read_bytes()[:4096]
    assert file_type(head) == 4  # activity
    assert not recognises(path, head)
    assert reader_for(path, path.read_bytes()) is None


def test_a_name_alone_is_not_enough() -> None:
    night = OUT / "GARMIN/Sleep/S20261024.FIT"
    assert not recognises(night, b"")
    assert recognises(night, night.read_bytes()[:4096])


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_truncated_night_fails_whole_with_the_reason(tmp_path: Path) -> None:
    data = sleep_fit(NIGHTS[0])
    path = write(tmp_path, "S.FIT", data[: len(data) - 40])
    with pytest.raises(ImportFailed, match=r"truncated FIT file: its header announces \d+ bytes"):
        read_fit_wellness(path, path.read_bytes(), UTC_OPTIONS)


def test_a_checksum_mismatch_is_the_sdks_error_in_words(tmp_path: Path) -> None:
    data = bytearray(hrv_status_fit(NIGHTS[0]))
    data[-1] ^= 0xFF
    path = write(tmp_path, "H.FIT", bytes(data))
    with pytest.raises(ImportFailed) as caught:
        read_fit_wellness(path, bytes(data), UTC_OPTIONS)
    assert (
        caught.value.reason == f"corrupt FIT file: CRC Error at byte {len(data)} (garmin-fit-sdk)"
    )


def test_a_chained_file_cut_short_or_followed_by_junk_fails_in_words(tmp_path: Path) -> None:
    whole = sleep_fit(NIGHTS[0])
    cut = write(tmp_path, "cut.FIT", whole + whole[:100])
    with pytest.raises(ImportFailed) as caught:
        read_fit_wellness(cut, cut.read_bytes(), UTC_OPTIONS)
    assert caught.value.reason == (
        "truncated FIT file: the data ends inside a message (TypeError) (garmin-fit-sdk)"
    )
    junk = write(tmp_path, "junk.FIT", whole + b"\x00\x01")
    with pytest.raises(ImportFailed) as caught:
        read_fit_wellness(junk, junk.read_bytes(), UTC_OPTIONS)
    assert caught.value.reason == (
        f"corrupt FIT file: The file is not a fit file at byte {len(whole)} (garmin-fit-sdk)"
    )


def test_broken_and_empty_files_among_good_ones_are_one_line_each(tmp_path: Path) -> None:
    drive = tmp_path / "drive"
    drive.mkdir()
    good = sleep_fit(NIGHTS[1])
    write(drive, "good.FIT", good)
    write(drive, "cut.FIT", good[:200])
    flipped = bytearray(hrv_status_fit(NIGHTS[1]))
    flipped[-1] ^= 0xFF
    write(drive, "crc.FIT", bytes(flipped))
    write(drive, "nothing.FIT", monitoring_fit(None, "2026-10-27"))
    result = run_cli(tmp_path, "import", str(drive))
    assert result.returncode == 1
    errors = sorted(line for line in result.stderr.splitlines())
    assert errors == [
        f"error: {drive / 'crc.FIT'}: corrupt FIT file: CRC Error at byte {len(flipped)} "
        "(garmin-fit-sdk)",
        f"error: {drive / 'cut.FIT'}: truncated FIT file: its header announces {len(good)} "
        "bytes, the file has 200",
    ]
    line = result.stdout.strip()
    assert line.startswith("1 new ") and "(1 wellness day)" in line
    assert line.endswith(", 0 already imported, 1 skipped, 2 failed")
    assert set(rows(tmp_path)) == {"2026-10-25"}


def test_values_no_person_has_are_error_lines_and_the_rest_kept(tmp_path: Path) -> None:
    from gen_wellness_fit import Day, Night

    wild = Night("2026-10-24", NIGHTS[0].bed, NIGHTS[0].plan, hrv_average=400.0, hrv_weekly=60)
    hrv = write(tmp_path, "H.FIT", hrv_status_fit(wild))
    monitor = write(tmp_path, "M.FIT", monitoring_fit(Day("2026-10-24", 20, 20, 20), "2026-10-24"))
    sleep = write(tmp_path, "S.FIT", sleep_fit(NIGHTS[0]))
    result = run_cli(tmp_path, "import", str(hrv), str(monitor), str(sleep))
    assert result.returncode == 1
    assert sorted(result.stderr.splitlines()) == [
        f"error: {hrv}: HRV 400 ms on 2026-10-24 is outside 5..300 ms",
        f"error: {monitor}: resting heart rate 20 bpm on 2026-10-24 is not a person's",
    ]
    assert rows(tmp_path) == {"2026-10-24": (425 * 60.0, 90 * 60.0, None, None)}


def test_a_night_without_time_asleep_holds_nothing(tmp_path: Path) -> None:
    from gen_wellness_fit import Night

    blank = Night("x", NIGHTS[0].bed, "unmeasurable 300, awake 20", 60.0, 60.0)
    path = write(tmp_path, "S.FIT", sleep_fit(blank))
    with pytest.raises(NotAnActivity, match="a FIT sleep file with no time asleep in it"):
        read_fit_wellness(path, path.read_bytes(), UTC_OPTIONS)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_head_is_judged_without_an_exception(head: bytes) -> None:
    for candidate in (head, b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT\x00\x00" + head):
        found = file_type(candidate)
        assert found is None or 0 <= found <= 255


SEEDS = {
    "sleep": sleep_fit(NIGHTS[1]),
    "hrv": hrv_status_fit(NIGHTS[1]),
    "monitoring": monitoring_fit(DAYS[1], DAYS[1].day),
}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(SEEDS)),
    st.lists(st.tuples(st.integers(min_value=12), st.integers(1, 255)), min_size=1, max_size=4),
)
def test_any_damage_is_a_result_or_our_error(seed: str, changes: list[tuple[int, int]]) -> None:
    """Bytes changed and the checksums made right again, so the damage reaches the SDK
    and this reader: days, or ImportFailed in one line, never another exception."""
    data = bytearray(SEEDS[seed])
    for position, xor in changes:
        data[12 + position % (len(data) - 14)] ^= xor
    path = Path("W.FIT")
    try:
        read = read_fit_wellness(path, fix_crc(data), UTC_OPTIONS)
    except ImportFailed as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in exc.reason
    else:
        assert read.records and all(r.source is WellnessSource.FIT for r in read.records)


def test_a_relative_timestamp_is_no_date() -> None:
    """FIT date_time values under 0x10000000 count from the device's power-on."""
    from heavylegs_sync.importers.fit_wellness import _instant

    assert _instant(FIT_EPOCH + timedelta(seconds=1000)) is None
    first = FIT_EPOCH + timedelta(seconds=0x10000000)
    assert _instant(first) == first
