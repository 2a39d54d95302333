"""The athlete's time zone per date, found in the data (docs/timezones.md).

The pure timeline first (:mod:`heavylegs_sync.localtime`), then end to end through the
real ``heavylegs`` command: the sample athlete living in Los Angeles, as a Strava export
(manual rows, GPX and TCX files with UTC times, FIT files that say UTC-7 and UTC-8), read
on a server whose clock is UTC and on a laptop in Los Angeles, with no settings.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from heavylegs_sync.config import load_settings
from heavylegs_sync.diagnosis import athlete_zones
from heavylegs_sync.localtime import (
    AthleteZones,
    ZoneEvidence,
    ZoneKind,
    offset_label,
    strava_zone_name,
)
from heavylegs_sync.model import Activity, Category, OffsetSource
from heavylegs_sync.store import Store
from heavylegs_sync.strava.mapping import to_activity
from tests.archive_builder import rows_for, strava_export
from tests.conftest import ROOT, SAMPLE

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
EXPECTED = json.loads((SAMPLE / "expected.json").read_text())
FIRST, LAST = "2026-09-28", "2026-11-22"
#: Logged by hand in Strava (rows of the list, no file): evening yoga and strength.
MANUAL = ("2026-09-28-1900-yoga.fit", "2026-10-24-1700-strength.fit")
#: The evening run, uploaded as TCX (UTC times only).
AS_TCX = "2026-11-04-1800-run.fit"
#: Days ``today`` is asked about: each the day after an evening session.
TODAY_DAYS = ("2026-10-01", "2026-10-08", "2026-10-25", "2026-11-05", "2026-11-19")


def at(zone: ZoneInfo, day: str, hhmm: str) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime.combine(date.fromisoformat(day), time(h, m), tzinfo=zone).astimezone(UTC)


def evidence(
    zone: ZoneInfo, day: str, hhmm: str, source: str, name: str | None = None
) -> ZoneEvidence:
    start = at(zone, day, hhmm)
    offset = start.astimezone(zone).utcoffset()
    assert offset is not None
    return ZoneEvidence(start, int(offset.total_seconds()), source, name)


# -- the pure timeline ------------------------------------------------------------------


def test_without_evidence_the_machine_and_with_a_setting_the_setting() -> None:
    instant = at(LA, "2026-10-02", "18:30")
    alone = AthleteZones([], setting=None, machine=ZoneInfo("UTC"))
    choice = alone.at(instant)
    assert (choice.offset_s, choice.kind, choice.text) == (
        0, ZoneKind.MACHINE, "UTC (this machine; no activity says)",
    )  # fmt: skip
    told = [evidence(LA, "2026-10-02", "07:00", "FIT file a.fit")]
    setting = AthleteZones(told, setting=BERLIN, machine=ZoneInfo("UTC")).at(instant)
    assert (setting.offset_s, setting.text) == (7200, "Europe/Berlin (setting)")


def test_the_nearest_evidence_dates_an_instant_and_says_so() -> None:
    zones = AthleteZones(
        [
            evidence(LA, "2026-10-02", "07:00", "FIT file a.fit"),
            evidence(BERLIN, "2026-10-20", "07:00", "FIT file b.fit"),
        ],
        setting=None,
        machine=ZoneInfo("UTC"),
    )
    early = zones.at(at(LA, "2026-10-05", "18:30"))
    assert early.text == "-07:00 (FIT file a.fit on 2026-10-02)"
    late = zones.at(at(BERLIN, "2026-10-18", "00:30"))
    assert late.text == "+02:00 (FIT file b.fit on 2026-10-20)"
    assert zones.today(at(LA, "2026-10-05", "23:00")) == date(2026, 10, 5)


def test_a_named_zone_keeps_dst_right_and_a_wrong_name_is_left_out() -> None:
    strava = evidence(LA, "2026-10-02", "07:00", "Strava activity 123", "America/Los_Angeles")
    zones = AthleteZones([strava], setting=None, machine=ZoneInfo("UTC"))
    after_dst = zones.at(at(LA, "2026-11-20", "23:30"))  # PST by then
    assert (after_dst.offset_s, after_dst.text) == (
        -8 * 3600, "America/Los_Angeles (Strava activity 123 on 2026-10-02)",
    )  # fmt: skip
    wrong = evidence(LA, "2026-10-02", "07:00", "Strava activity 9", "Europe/Berlin")
    fixed = AthleteZones([wrong], setting=None, machine=ZoneInfo("UTC"))
    assert fixed.at(at(LA, "2026-11-20", "23:30")).label == "-07:00"
    assert strava_zone_name("(GMT-08:00) America/Los_Angeles") == "America/Los_Angeles"
    assert strava_zone_name("(GMT+01:00) Nowhere/Atlantis") is None
    assert strava_zone_name(None) is None


def test_dst_between_two_fixed_offsets_is_found_a_trip_is_not() -> None:
    pdt = evidence(LA, "2026-10-28", "07:00", "FIT file a.fit")  # -07:00
    pst = evidence(LA, "2026-11-10", "07:00", "FIT file b.fit")  # -08:00
    zones = AthleteZones([pdt, pst], setting=None, machine=ZoneInfo("UTC"))
    # Nearer the PDT file, but after the change: the zones with both offsets say -08:00.
    choice = zones.at(at(LA, "2026-11-02", "23:30"))
    assert choice.offset_s == -8 * 3600
    assert choice.reason.startswith("DST between FIT file a.fit on 2026-10-28 (-07:00)")
    assert zones.at(at(LA, "2026-10-31", "23:30")).offset_s == -7 * 3600
    # LA, then Berlin: no zone has both offsets then, so the nearest decides.
    trip = AthleteZones(
        [pdt, evidence(BERLIN, "2026-10-30", "07:00", "FIT file c.fit")],
        setting=None,
        machine=ZoneInfo("UTC"),
    )
    assert trip.at(at(BERLIN, "2026-10-29", "22:00")).label == "+01:00"
    assert offset_label(19800) == "+05:30"


# -- end to end: a Strava export of an athlete in Los Angeles --------------------------


def _tcx(path_name: str, planned: Any) -> bytes:
    """The planned run as a TCX file (UTC times, HR and distance per point)."""
    from _gen_plan import session_for
    from _gen_tcx import TcxActivity, TcxLap, TcxPoint, write_tcx

    series = session_for(planned).series
    assert series.hr is not None and series.distance is not None
    points = [
        TcxPoint(seconds=t, distance=series.distance[i], hr=series.hr[i])
        for i, t in enumerate(series.t)
    ]
    lap = TcxLap(0.0, points, total_time_s=float(series.t[-1]), distance_m=series.distance[-1])
    return write_tcx([TcxActivity("Running", planned.utc_start, [lap])]).encode()


def sample_in_los_angeles(folder: Path) -> tuple[list[Path], dict[str, str]]:
    """The sample athlete's plan lived in Los Angeles: its files, and each file's planned
    local start (``YYYY-MM-DDTHH:MM``) by name."""
    import _gen_plan

    saved = _gen_plan.TZ
    _gen_plan.TZ = LA
    try:
        planned = [a for week in _gen_plan.plan() for a in week.activities]
        files, starts = [], {}
        for a in planned:
            name = a.filename
            data = _gen_plan.render(a)
            if name == AS_TCX:
                name, data = name.replace(".fit", ".tcx"), _tcx(name, a)
            path = folder / name
            path.write_bytes(data)
            files.append(path)
            starts[name] = f"{a.local_start:%Y-%m-%dT%H:%M}"
    finally:
        _gen_plan.TZ = saved
    return sorted(files), starts


@pytest.fixture(scope="module")
def la_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("la")
    files_dir = folder / "files"
    files_dir.mkdir()
    files, starts = sample_in_los_angeles(files_dir)
    export = strava_export(folder / "export_1.zip", rows_for(files, MANUAL))
    config = folder / "heavylegs.toml"  # the sample's settings, but no time zone
    config.write_text('[season]\npeak = [["2026-11-09", "2026-11-22"]]\n')
    return export, config, starts


def command(db: Path, config: Path, *args: str) -> dict[str, Any]:
    """One ``heavylegs`` command for :func:`one_machine`: its store, settings, arguments."""
    return {"env": {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(config)}, "args": args}


def one_machine(zone: str, commands: list[dict[str, Any]], folder: Path) -> list[str]:
    """Each command's stdout, the commands run in order in ONE new process whose clock is
    in ``zone`` (tests/cli_batch.py): the zone of the machine is read at its start, as
    in each process ``heavylegs`` runs in."""
    out = folder / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "tests.cli_batch", str(out)],
        input=json.dumps(commands), capture_output=True, text=True,
        env={**os.environ, "TZ": zone}, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    batch = json.loads(out.read_text())
    assert batch["machine"] == zone  # the commands ran on a machine in that zone
    results = batch["results"]
    assert len(results) == len(commands)
    for sent, result in zip(commands, results, strict=True):
        assert result["returncode"] == 0, (sent["args"], result["stderr"])
    return [result["stdout"] for result in results]


@pytest.fixture(scope="module")
def both_machines(
    la_export: tuple[Path, Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, dict[str, Any]]]:
    """The export imported and read on a UTC server and on a laptop in Los Angeles."""
    export, config, starts = la_export
    seen: dict[str, dict[str, Any]] = {}
    for zone in ("UTC", "America/Los_Angeles"):
        folder = tmp_path_factory.mktemp("machine")
        db = folder / "store.sqlite"
        commands = [
            command(db, config, "import", str(export)),
            command(db, config, "report", "--since", FIRST, "--until", LAST, "--format", "json"),
            *(
                command(db, config, "today", "--date", day, "--format", "json")
                for day in TODAY_DAYS
            ),
            command(db, config, "activities", "--format", "json"),
            command(db, config, "info"),
        ]
        imported, report, *today, listing, info = one_machine(zone, commands, folder)
        # The real import command: every activity of the export stored, none failed.
        assert f" new ({len(starts)} activities), 0 already imported, 0 skipped, 0 failed" in (
            imported
        )
        with sqlite3.connect(db) as connection:
            view = connection.execute(
                "SELECT local_date, local_time FROM activities_local ORDER BY start_utc, id"
            ).fetchall()
        seen[zone] = {
            "report": report, "today": dict(zip(TODAY_DAYS, today, strict=True)),
            "listing": json.loads(listing), "view": view, "info": info,
        }  # fmt: skip
    yield seen


def test_a_utc_server_and_a_laptop_give_the_same_answers(
    both_machines: dict[str, dict[str, Any]],
) -> None:
    server, laptop = both_machines["UTC"], both_machines["America/Los_Angeles"]
    assert server["report"] == laptop["report"]
    assert server["today"] == laptop["today"]
    dates = [(a["start_local"], a["zone"]) for a in server["listing"]]
    assert dates == [(a["start_local"], a["zone"]) for a in laptop["listing"]]
    # The store's own local-time view was re-dated too: other tools see the same days.
    assert server["view"] == laptop["view"]


def test_every_activity_is_on_its_planned_local_day(
    la_export: tuple[Path, Path, dict[str, str]], both_machines: dict[str, dict[str, Any]]
) -> None:
    _, _, starts = la_export
    listing = both_machines["UTC"]["listing"]
    assert sorted(a["start_local"][:16] for a in listing) == sorted(starts.values())
    by_start = {a["start_local"][:16]: a for a in listing}
    # The evening strength session logged by hand: 17:00 in LA is 00:00 UTC the next day.
    manual = by_start["2026-10-24T17:00"]
    assert manual["sources"][0].startswith("strava:") and manual["category"] == "strength"
    assert manual["start_local"] == "2026-10-24T17:00:00-07:00"
    assert manual["zone"] == "-07:00"
    assert manual["zone_reason"].startswith("FIT file ")
    tcx = by_start["2026-11-04T18:00"]  # 02:00 UTC on the 5th
    assert tcx["start_local"] == "2026-11-04T18:00:00-08:00"
    assert tcx["sources"][0].endswith(".tcx.gz")
    fit = next(a for a in listing if a["sources"][0].endswith(".fit.gz"))
    name = fit["sources"][0].rsplit("/", 1)[-1]
    assert fit["zone_reason"] == f"its own: FIT file {name}"


def test_the_planted_verdicts_hold_on_the_utc_server(
    both_machines: dict[str, dict[str, Any]],
) -> None:
    data = json.loads(both_machines["UTC"]["report"])
    got = sorted((f["week_start"], f["code"], f["date"]) for f in data["findings"])
    want = sorted(
        (w["week_start"], f["code"], f["date"]) for w in EXPECTED["weeks"] for f in w["findings"]
    )
    assert got == want
    weeks = {w["week_start"]: w for w in data["weeks"]}
    for planned in EXPECTED["weeks"]:
        week = weeks[planned["week_start"]]
        assert week["rest_day_dates"] == planned["rest_day_dates"], planned["week_start"]
        assert week["strength_sessions"] == planned["strength_sessions"]
        assert week["run_seconds"] == planned["run_seconds"]


def test_info_says_which_zone_the_dates_used(both_machines: dict[str, dict[str, Any]]) -> None:
    info = both_machines["UTC"]["info"]
    assert "time zones:" in info
    assert "-07:00: " in info and "-08:00: " in info
    assert "this machine" not in info
    laptop = both_machines["America/Los_Angeles"]["info"]
    assert info.split("settings:")[1] == laptop.split("settings:")[1]  # all but the path


# -- a traveller, re-dating, Strava's named zone -----------------------------------------


def write_gpx_run(path: Path, start_utc: datetime, minutes: int = 30) -> Path:
    from _gen_fit import GARMIN_CONNECT, Series, with_gps, write_gpx

    t = list(range(0, minutes * 60 + 1, 5))
    series = with_gps(
        Series(t=t, hr=[140] * len(t), speed=[3.0] * len(t), distance=[3.0 * x for x in t])
    )
    path.write_text(write_gpx(GARMIN_CONNECT, start_utc, series, "Run", "running"))
    return path


def write_fit_run(path: Path, start_utc: datetime, zone: ZoneInfo, minutes: int = 30) -> Path:
    from _gen_fit import Series, SessionSpec, write_fit

    t = list(range(0, minutes * 60 + 1, 5))
    series = Series(t=t, hr=[140] * len(t), speed=[3.0] * len(t), distance=[3.0 * x for x in t])
    path.write_bytes(write_fit([SessionSpec("running", "generic", start_utc, series)], zone))
    return path


def test_a_traveller_gets_each_trips_dates_in_the_trips_zone(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    # Home in Los Angeles, then a week in Berlin; the watch's FIT files say where.
    write_fit_run(files / "la-1.fit", at(LA, "2026-10-05", "07:00"), LA)
    write_fit_run(files / "la-2.fit", at(LA, "2026-10-07", "07:00"), LA)
    write_fit_run(files / "berlin-1.fit", at(BERLIN, "2026-10-12", "08:00"), BERLIN)
    write_fit_run(files / "berlin-2.fit", at(BERLIN, "2026-10-14", "08:00"), BERLIN)
    # Phone recordings (GPX, UTC only) late in the evening and just after midnight.
    write_gpx_run(files / "la-evening.gpx", at(LA, "2026-10-06", "21:30"))  # 04:30Z on the 7th
    write_gpx_run(files / "berlin-night.gpx", at(BERLIN, "2026-10-13", "00:30"))  # 22:30Z the 12th
    config = tmp_path / "empty.toml"
    config.write_text("")
    told = tmp_path / "berlin.toml"  # the setting, for the last command
    told.write_text('[athlete]\ntimezone = "Europe/Berlin"\n')
    db = tmp_path / "store.sqlite"
    _, listed, text, listed_told = one_machine(
        "UTC",
        [
            command(db, config, "import", str(files)),
            command(db, config, "activities", "--format", "json"),
            command(db, config, "activities"),
            command(db, told, "activities", "--format", "json"),
        ],
        tmp_path,
    )
    listing = json.loads(listed)
    by_name = {Path(a["sources"][0]).name: a for a in listing}
    evening, night = by_name["la-evening.gpx"], by_name["berlin-night.gpx"]
    assert evening["start_local"] == "2026-10-06T21:30:00-07:00"
    assert evening["zone_reason"] in (
        "FIT file la-1.fit on 2026-10-05",
        "FIT file la-2.fit on 2026-10-07",
    )
    assert night["start_local"] == "2026-10-13T00:30:00+02:00"
    assert night["zone_reason"] == "FIT file berlin-1.fit on 2026-10-12"
    assert "2026-10-05 .. 2026-10-07  -07:00: 2 by their own offset, 1 by -07:00 (FIT file" in text
    assert "2026-10-12 .. 2026-10-14  +02:00: 2 by their own offset, 1 by +02:00 (FIT file" in text

    # The setting, when given, wins for files without an offset of their own.
    listing = json.loads(listed_told)
    evening = next(a for a in listing if a["sources"][0].endswith("la-evening.gpx"))
    assert (evening["start_local"], evening["zone"], evening["zone_reason"]) == (
        "2026-10-07T06:30:00+02:00", "Europe/Berlin", "setting",
    )  # fmt: skip


def test_a_store_is_re_dated_when_evidence_arrives(tmp_path: Path) -> None:
    gpx, fit = tmp_path / "phone", tmp_path / "watch"
    gpx.mkdir()
    fit.mkdir()
    write_gpx_run(gpx / "evening.gpx", at(LA, "2026-10-06", "21:30"))
    write_fit_run(fit / "run.fit", at(LA, "2026-10-08", "07:00"), LA)  # imported second
    config = tmp_path / "empty.toml"
    config.write_text("")
    db = tmp_path / "store.sqlite"
    _, listed, info, imported, relisted = one_machine(
        "UTC",
        [
            command(db, config, "import", str(gpx)),
            command(db, config, "activities", "--format", "json"),
            command(db, config, "info"),
            command(db, config, "import", str(fit)),
            command(db, config, "activities", "--format", "json"),
        ],
        tmp_path,
    )
    (before,) = json.loads(listed)
    assert before["start_local"] == "2026-10-07T04:30:00+00:00"
    assert (before["zone"], before["zone_reason"]) == ("UTC", "this machine; no activity says")
    assert "UTC (this machine; no activity says)" in info

    assert imported.startswith("1 new,")  # the GPX file is not imported again
    listing = json.loads(relisted)
    after = next(a for a in listing if a["id"] == before["id"])
    assert after["start_local"] == "2026-10-06T21:30:00-07:00"
    assert after["zone_reason"] == "FIT file run.fit on 2026-10-08"
    with sqlite3.connect(db) as connection:
        stored = connection.execute(
            "SELECT local_date, local_time FROM activities_local WHERE id = ?", (before["id"],)
        ).fetchone()
    assert stored == ("2026-10-06", "21:30:00")


def test_stravas_named_zone_dates_the_activities_around_it(tmp_path: Path) -> None:
    summary = {
        "id": 123,
        "sport_type": "Run",
        "start_date": "2026-10-02T14:00:00Z",
        "start_date_local": "2026-10-02T07:00:00Z",
        "timezone": "(GMT-08:00) America/Los_Angeles",
        "elapsed_time": 1800,
        "moving_time": 1800,
        "distance": 5400.0,
    }
    phone = Activity(
        source="gpx",
        source_id="phone-1",
        category=Category.RUN,
        start_utc=at(LA, "2026-11-20", "23:30"),  # PST by then: 07:30Z on the 21st
        utc_offset_s=0,
        offset_source=OffsetSource.TIMEZONE,
        elapsed_s=1800.0,
    )
    db = tmp_path / "store.sqlite"
    settings = load_settings(config=_empty(tmp_path), db=db, env={})
    with Store.open(db) as store:
        store.add_strava(123, to_activity(summary, None), json.dumps(summary))
        store.add_activity(phone)
        zones = athlete_zones(store, settings)
        (strava, local) = zones.localise(store.activities())
    assert zones.of(strava).text == "-07:00 (its own: Strava activity 123)"
    assert local.start_local.isoformat() == "2026-11-20T23:30:00-08:00"
    assert zones.of(local).text == "America/Los_Angeles (Strava activity 123 on 2026-10-02)"


def _empty(folder: Path) -> Path:
    path = folder / "empty.toml"
    path.write_text("")
    return path


def test_a_strava_record_without_a_local_start_is_no_evidence(tmp_path: Path) -> None:
    summary = {"id": 7, "sport_type": "Run", "start_date": "2026-10-02T14:00:00Z",
               "elapsed_time": 1800}  # fmt: skip
    db = tmp_path / "store.sqlite"
    settings = load_settings(config=_empty(tmp_path), db=db, env={})
    with Store.open(db) as store:
        store.add_strava(7, to_activity(summary, None), json.dumps(summary))
        assert store.offsets_from_sources() == []
        zones = athlete_zones(store, settings)
    assert zones.at(at(LA, "2026-10-03", "07:00")).kind is ZoneKind.MACHINE
