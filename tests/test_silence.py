"""Issue 20, items 5 and 6: runs without heart rate are judged, and silence is not evidence.

Every history here is written as FIT files with the fixture writer, imported through the
real pipeline into a real SQLite store, and judged by the CLI end to end.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _gen_fit import Series, SessionSpec, write_fit

from heavylegs_sync.config import load_settings
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.store import Store
from heavylegs_sync.watch import FolderWatcher, WatchOptions
from tests.conftest import BERLIN, heavylegs_cli

MONDAY = date(2026, 3, 2)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN).astimezone(UTC)


def run(folder: Path, day: date, minutes: float, *, hr: int | None = None, hour: int = 7) -> None:
    """A run recorded by a phone (no heart rate) unless ``hr`` is given."""
    seconds = round(minutes * 60)
    t = list(range(0, seconds + 1, 10 if seconds > 300 else 1))
    series = Series(
        t=t,
        hr=None if hr is None else [hr] * len(t),
        speed=[2.8] * len(t),
        distance=[2.8 * s for s in t],
    )
    spec = SessionSpec("running", "generic", at(day, hour), series)
    (folder / f"{day}-{hour:02d}-run.fit").write_bytes(write_fit([spec], BERLIN))


def strength(folder: Path, day: date, hour: int = 18) -> None:
    t = list(range(0, 30 * 60 + 1, 30))
    spec = SessionSpec("training", "strength_training", at(day, hour), Series(t=t))
    (folder / f"{day}-{hour:02d}-strength.fit").write_bytes(write_fit([spec], BERLIN))


def env_for(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "heavylegs.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\n')
    return {"HEAVYLEGS_DB": str(tmp_path / "store.sqlite"), "HEAVYLEGS_CONFIG": str(config)}


def day(week: int, weekday: int) -> date:
    return MONDAY + timedelta(weeks=week, days=weekday)


def no_hr_history(folder: Path) -> None:
    """Four weeks from a phone, no heart rate anywhere, one planted problem a week:
    week 0 sound (runs Tue Thu Sat Sun, strength after Tue and Thu runs), week 1 no
    strength (cause 5), week 2 strength on Friday before Saturday's 95-minute long run
    (cause 6), week 3 a run every day and strength Tue Thu (cause 1)."""
    for week in range(4):
        days = range(7) if week == 3 else (1, 3, 5, 6)
        for weekday in days:
            run(folder, day(week, weekday), 95 if weekday == 5 else 40)
        if week in (0, 3):
            strength(folder, day(week, 1))
            strength(folder, day(week, 3))
        if week == 2:
            strength(folder, day(week, 1))
            strength(folder, day(week, 4))


def test_a_store_without_heart_rate_gets_causes_1_5_and_6(tmp_path: Path) -> None:
    files = tmp_path / "phone"
    files.mkdir()
    no_hr_history(files)
    env = env_for(tmp_path)
    assert heavylegs_cli("import", str(files), env=env).returncode == 0
    span = ("--since", str(MONDAY), "--until", str(day(3, 6)))
    done = heavylegs_cli("report", *span, "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    found = {(f["week_start"], f["cause"], f["code"]) for f in data["findings"]}
    assert found == {
        (str(day(1, 0)), 5, "too-little-strength"),
        (str(day(2, 0)), 6, "strength-before-long-run"),
        (str(day(3, 0)), 1, "no-rest-day"),
        (str(day(3, 0)), 1, "too-many-days-without-rest"),  # from week 2's Sunday on
    }
    assert data["not_judged"] == [{"cause": 2, "reason": data["not_judged"][0]["reason"]}]
    assert "no heart-rate zones" in data["not_judged"][0]["reason"]
    assert data["athlete"]["zones"] == [] and data["athlete"]["max_hr"] is None
    assert all(w["hard_share"] is None for w in data["weeks"])
    text = heavylegs_cli("report", *span, env=env)
    assert text.returncode == 0, text.stderr
    assert text.stdout.count("Speed work (cause 2) not judged: no heart-rate zones") == 1
    for cause in ("[cause 1:", "[cause 5:", "[cause 6:"):
        assert cause in text.stdout
    assert "[cause 2:" not in text.stdout
    html = heavylegs_cli("report", *span, "-o", str(tmp_path / "r.html"), env=env)
    assert html.returncode == 0, html.stderr
    page = (tmp_path / "r.html").read_text()
    assert "Speed work (cause 2) not judged" in page


def test_the_watcher_writes_its_report_without_heart_rate(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    no_hr_history(inbox)
    env = env_for(tmp_path)
    settings = load_settings(config=Path(env["HEAVYLEGS_CONFIG"]), db=Path(env["HEAVYLEGS_DB"]))
    report = tmp_path / "report.txt"
    options = WatchOptions(folders=[inbox], once=True, report=report, report_format="text")
    with Store.open(settings.db_path) as store:
        watcher = FolderWatcher(
            store,
            settings,
            DecodeOptions(zone=BERLIN),
            options,
            today=lambda: datetime(2026, 3, 29, 20, tzinfo=BERLIN),
        )
        assert watcher.run() == 0
    text = report.read_text()
    assert text.count("Speed work (cause 2) not judged") == 1
    assert "[cause 1:" in text and "[cause 6:" in text  # judged without heart rate


def test_a_week_whose_only_run_is_a_70_second_recording_is_not_judged(tmp_path: Path) -> None:
    files = tmp_path / "watch"
    files.mkdir()
    for week in (0, 2):  # sound weeks around it
        for weekday in (1, 3, 5, 6):
            run(files, day(week, weekday), 40, hr=140)
        strength(files, day(week, 1))
        strength(files, day(week, 3))
    run(files, day(1, 2), 70 / 60, hr=120)  # week 1: a pocket start, 70 seconds
    env = env_for(tmp_path)
    assert heavylegs_cli("import", str(files), env=env).returncode == 0
    span = ("--since", str(MONDAY), "--until", str(day(2, 6)))
    data = json.loads(heavylegs_cli("report", *span, "--format", "json", env=env).stdout)
    assert data["findings"] == []  # no cause 5 from a week with no real running
    (stub,) = data["short_activities"]
    assert stub["date"] == str(day(1, 2)) and stub["duration_s"] == 70
    week1 = next(w for w in data["weeks"] if w["week_start"] == str(day(1, 0)))
    assert week1["rest_days"] == 7 and week1["activities"] == 0
    text = heavylegs_cli("report", *span, env=env).stdout
    assert f"#{stub['id']}" in text and "shorter than 5 min" in text


def test_today_45_days_after_the_last_activity_judges_nothing(tmp_path: Path) -> None:
    files = tmp_path / "watch"
    files.mkdir()
    for week in range(3):
        for weekday in (1, 3, 5):
            run(files, day(week, weekday), 40, hr=140)
    env = env_for(tmp_path)
    assert heavylegs_cli("import", str(files), env=env).returncode == 0
    when = day(2, 5) + timedelta(days=45)
    done = heavylegs_cli("today", "--date", str(when), env=env)
    assert done.returncode == 0, done.stderr
    assert "nothing recent to judge" in done.stdout
    assert "strength" not in done.stdout
    data = heavylegs_cli("today", "--date", str(when), "--format", "json", env=env)
    assert json.loads(data.stdout) == {"date": str(when), "causes": []}
    assert "nothing recent to judge" in data.stderr
