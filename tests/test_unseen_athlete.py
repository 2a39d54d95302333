"""An athlete no other test has seen, as a user brings them: a watch's activity files, a
Garmin Connect export (sleep, daily summaries, HRV) and the watch's own wellness FIT files,
imported together through the real command into a real store, and diagnosed exactly.

Every week plants one cause (1, 2, 5, 6 or 10) or none; the week of the body's signals
takes its sleep from the export and its resting HR and HRV from the watch's files, which
outrank the export's values for the same days.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from _gen_garmin_wellness import Export, Night, members, write_zip
from _gen_plan import (
    INTERVALS_50,
    INTERVALS_56,
    LEGS,
    LONG_FAST_FINISH,
    MIXED,
    TEMPO_42,
    UPPER,
    Planned,
    easy,
    render,
    run,
    strength,
    yoga,
)
from gen_wellness_fit import BERLIN, Day, hrv_status_fit, monitoring_fit
from gen_wellness_fit import Night as WatchNight

from tests.conftest import heavylegs_cli

FIRST = date(2026, 6, 1)  # a Monday; wellness from two months before
WELLNESS_FROM = FIRST - timedelta(days=63)
N_WEEKS = 8
SIGNAL_WEEK = 7  # the week of short nights, resting HR up and HRV down


def _week(n: int) -> list[Planned]:
    """Week n: the clean template (rest on Monday, two strength sessions after easy runs,
    4.5% hard, one long run) with the week's planted problem."""
    d = [FIRST + timedelta(weeks=n, days=i) for i in range(7)]
    week: dict[int, list[Planned]] = {
        0: [yoga(d[0])],
        1: [run(d[1], "07:00", INTERVALS_50)],
        2: [run(d[2], "07:00", easy(40)), strength(d[2], "18:30", 45, UPPER)],
        3: [run(d[3], "07:00", easy(45))],
        4: [strength(d[4], "18:30", 40, MIXED)],
        5: [run(d[5], "08:00", easy(35))],
        6: [run(d[6], "08:30", easy(95))],
    }
    if n == 3:  # cause 2: 67 of 278 minutes hard (24%); no strength the day before one
        week[1] = [run(d[1], "07:00", INTERVALS_56)]
        week[3] = [run(d[3], "07:00", easy(45)), strength(d[3], "18:30", 40, MIXED)]
        week[4] = []
        week[5] = [run(d[5], "08:00", TEMPO_42)]
        week[6] = [run(d[6], "08:30", LONG_FAST_FINISH)]
    if n == 4:  # cause 5: no strength at all (off-season)
        week[2] = [run(d[2], "07:00", easy(40))]
        week[4] = []
    if n == 5:  # cause 6: leg-heavy strength the evening before the long run
        week[4] = []
        week[5] = [run(d[5], "08:00", easy(35)), strength(d[5], "18:00", 45, LEGS)]
    if n == 6:  # cause 1: no rest day (Monday runs too)
        week[0] = [run(d[0], "07:00", easy(30))]
    return [_recorded(a) for day in week.values() for a in day]


def _recorded(a: Planned) -> Planned:
    """How the watch records each kind (smart recording for the runs, as older watches)."""
    if a.kind == "run":
        return replace(a, recording="smart", sub_sport="generic")
    sub = "yoga" if a.kind == "yoga" else "strength_training"
    return replace(a, recording="4-6s", sub_sport=sub)


def _export() -> Export:
    """Sleep, resting HR and HRV every day from two months before the first week: an
    ordinary 7.5 h, 46-50 bpm, 55-70 ms; the signal week's nights 6 h."""
    export = Export()
    signal_start = FIRST + timedelta(weeks=SIGNAL_WEEK)
    day = WELLNESS_FROM
    i = 0
    while day < FIRST + timedelta(weeks=N_WEEKS):
        short = signal_start <= day < signal_start + timedelta(days=7)
        light = (3 if short else 4.5) * 3600
        export.nights.append(Night(day, 5400, int(light), 5400, awake_s=600))
        export.resting[day] = 46 + i % 5
        export.hrv[day] = 55.0 + (i * 7) % 16
        day += timedelta(days=1)
        i += 1
    return export


def _watch_files(folder: Path) -> None:
    """The signal week as the watch saw it: resting HR 56 bpm every day (the export's say
    48), HRV 38 ms every night (the export's say 55-70)."""
    start = FIRST + timedelta(weeks=SIGNAL_WEEK)
    for i in range(7):
        day = start + timedelta(days=i)
        name = day.strftime("%Y%m%d")
        monitor = folder / "GARMIN" / "Monitor" / f"M{name}.FIT"
        monitor.parent.mkdir(parents=True, exist_ok=True)
        monitor.write_bytes(monitoring_fit(Day(day.isoformat(), 55, 56, 50), day.isoformat()))
        bed = datetime.combine(day - timedelta(days=1), datetime.min.time(), BERLIN)
        night = WatchNight(name, bed + timedelta(hours=23), "light 200, deep 90, rem 70", 38, 60)
        hrv = folder / "GARMIN" / "HRVStatus" / f"H{name}.FIT"
        hrv.parent.mkdir(parents=True, exist_ok=True)
        hrv.write_bytes(hrv_status_fit(night))


@pytest.fixture(scope="module")
def athlete(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The athlete's files imported with the real command into a real store."""
    root = tmp_path_factory.mktemp("unseen")
    inbox = root / "inbox"
    (inbox / "activities").mkdir(parents=True)
    for n in range(N_WEEKS):
        for planned in _week(n):
            (inbox / "activities" / planned.filename).write_bytes(render(planned))
    write_zip(inbox / "garmin-export.zip", members(_export(), span="2026-03-30_2026-07-27"))
    _watch_files(inbox / "watch")
    settings = root / "heavylegs.toml"
    settings.write_text('[athlete]\ntimezone = "Europe/Berlin"\n')
    env = {"HEAVYLEGS_DB": str(root / "store.sqlite"), "HEAVYLEGS_CONFIG": str(settings)}
    done = heavylegs_cli("import", str(inbox), env=env)
    assert done.returncode == 0, done.stderr
    assert "0 failed" in done.stdout, done.stdout
    yield env


def _report(env: dict[str, str]) -> dict[str, object]:
    last = FIRST + timedelta(weeks=N_WEEKS, days=-1)
    out = heavylegs_cli(
        "report", "--since", FIRST.isoformat(), "--until", last.isoformat(),
        "--format", "json", env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data: dict[str, object] = json.loads(out.stdout)
    return data


def test_every_week_shows_exactly_its_planted_cause(athlete: dict[str, str]) -> None:
    findings = _report(athlete)["findings"]
    assert isinstance(findings, list)
    by_week: dict[int, set[int]] = {n: set() for n in range(N_WEEKS)}
    for f in findings:
        n = (date.fromisoformat(f["week_start"]) - FIRST).days // 7
        by_week[n].add(f["cause"])
    assert by_week == {0: set(), 1: set(), 2: set(), 3: {2}, 4: {5}, 5: {6}, 6: {1}, 7: {1, 10}}


def test_the_signal_week_names_both_body_signals_from_the_watch(athlete: dict[str, str]) -> None:
    findings = _report(athlete)["findings"]
    assert isinstance(findings, list)
    week = (FIRST + timedelta(weeks=SIGNAL_WEEK)).isoformat()
    codes = {f["code"] for f in findings if f["week_start"] == week}
    assert {"resting-hr-up", "hrv-down"} <= codes
    assert codes & {"short-sleep", "short-sleep-before-key-runs"}
    listing = heavylegs_cli(
        "wellness", "--since", week, "--until", week, "--format", "json", env=athlete
    )
    assert listing.returncode == 0, listing.stderr
    (day,) = json.loads(listing.stdout)
    # the watch's resting HR and HRV outrank the export's for the same day
    assert (day["resting_hr"], day["hrv_ms"]) == (56, 38)
    assert day["sleep_hours"] == pytest.approx(6.0, abs=0.01)


def test_today_on_the_signal_weeks_sunday_says_sleep_and_the_body(athlete: dict[str, str]) -> None:
    sunday = FIRST + timedelta(weeks=SIGNAL_WEEK, days=6)
    out = heavylegs_cli("today", "--date", sunday.isoformat(), "--format", "json", env=athlete)
    assert out.returncode == 0, out.stderr
    causes = json.loads(out.stdout)["causes"]
    assert {c["cause"] for c in causes} == {1, 10}
    (recovery,) = [c for c in causes if c["cause"] == 1]
    assert set(recovery["evidence"]["signals"]) == {"resting-hr-up", "hrv-down"}
