"""Where wellness shows (issue 22): the sample athlete's planted weeks in the report,
``heavylegs wellness`` in text, JSON and CSV, the notebook's ``wellness()`` and the
``wellness_days`` view: real stores, the CLI end to end."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from heavylegs_sync import api
from heavylegs_sync.causes import CAUSES
from heavylegs_sync.model import WELLNESS_RANK, WellnessRecord, WellnessSource
from heavylegs_sync.store import Store
from heavylegs_sync.wellness import merge_days
from tests.conftest import SAMPLE, heavylegs_cli

EXPECTED = json.loads((SAMPLE / "expected.json").read_text())["wellness"]
SPAN = ("--since", "2026-09-28", "--until", "2026-11-22")
CONFIG = SAMPLE / "heavylegs.toml"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    db = tmp_path_factory.mktemp("wellness") / "store.sqlite"
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(CONFIG), "COLUMNS": "80"}
    done = heavylegs_cli("import", str(SAMPLE), env=env)
    assert done.returncode == 0, done.stderr
    return env


@pytest.fixture(scope="module")
def report(env: dict[str, str]) -> dict[str, Any]:
    done = heavylegs_cli("report", *SPAN, "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_the_planted_weeks_are_flagged_and_the_clean_ones_stay_clean(
    report: dict[str, Any],
) -> None:
    body = {"short-sleep", "short-sleep-before-key-runs", "resting-hr-up", "hrv-down"}
    got = sorted(
        (f["week_start"], f["cause"], f["code"]) for f in report["findings"] if f["code"] in body
    )
    want = sorted((f["week_start"], f["cause"], f["code"]) for f in EXPECTED["findings"])
    assert got == want
    flagged = {w for w, _, _ in got}
    assert flagged.isdisjoint(EXPECTED["clean_weeks"])
    # At the edges: W2's nights average exactly 7.0 h, W3's resting HR exactly 5.0 bpm up
    # (flagged: "at least"), W5's 4.9 bpm; W7's HRV 1% above the limit, W8's 1% below.
    weeks = {w["week_start"]: w for w in report["wellness"]["weeks"]}
    assert weeks["2026-10-05"]["sleep"]["mean_hours"] == 7.0
    assert weeks["2026-10-12"]["resting_hr"]["mean"] - weeks["2026-10-12"]["resting_hr"][
        "baseline"
    ] == pytest.approx(5.0)
    assert weeks["2026-10-26"]["resting_hr"]["flagged"] is False
    assert weeks["2026-10-26"]["resting_hr"]["mean"] == pytest.approx(
        weeks["2026-10-26"]["resting_hr"]["baseline"] + 4.9
    )
    assert weeks["2026-11-09"]["hrv"]["flagged"] is False
    assert weeks["2026-11-16"]["hrv"]["flagged"] is True
    assert weeks["2026-10-19"]["sleep"]["nights"] == 4  # exactly enough to judge
    # Monotony and strain per week, strain = load x monotony (Foster).
    for w in weeks.values():
        assert w["strain"] == pytest.approx(w["load"] * w["monotony"], rel=0.01)


def test_too_thin_is_said_once_and_names_its_weeks(
    report: dict[str, Any], env: dict[str, str]
) -> None:
    thin = [n for n in report["not_judged"] if n.get("measure")]
    assert [(n["cause"], n["measure"], n["weeks"]) for n in thin] == [
        (10, m, weeks) for m, weeks in EXPECTED["not_judged"].items()
    ]
    text = heavylegs_cli("report", *SPAN, env=env).stdout
    assert text.count("Not judged: sleep (cause 10) in the week of 2026-09-28") == 1
    assert "Sleep and recovery, complete weeks:" in text
    assert "[cause 10: Sleep deprivation]" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_the_cause_10_fix_is_the_articles(report: dict[str, Any]) -> None:
    fixes = {f["fix"] for f in report["findings"] if f["cause"] == 10}
    assert fixes == {CAUSES[10].fix}
    assert CAUSES[10].fix == (
        "Aim for 7\N{EN DASH}9 hours of sleep per night, especially before and after hard workouts."
    )


def test_the_wellness_listing_in_every_format(env: dict[str, str], tmp_path: Path) -> None:
    text = heavylegs_cli("wellness", "--since", "2026-09-28", "--until", "2026-09-30", env=env)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[1] == "2026-09-28 Mon      7.30 csv        49 csv        64 csv"
    assert lines[2].startswith("2026-09-29 Tue     ")  # no sleep recorded: blank
    assert max(len(line) for line in lines) <= 80
    as_json = heavylegs_cli("wellness", "--since", "2026-09-29", "--until", "2026-09-29",
                            "--format", "json", env=env)  # fmt: skip
    assert json.loads(as_json.stdout) == [
        {"date": "2026-09-29", "sleep_hours": None, "resting_hr": 47.0, "hrv_ms": 70.0,
         "sleep_source": None, "resting_hr_source": "csv", "hrv_source": "csv"}
    ]  # fmt: skip
    out = tmp_path / "days.csv"
    done = heavylegs_cli("wellness", "-o", str(out), env=env)
    assert done.returncode == 0 and "listing written to" in done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == len((SAMPLE / "wellness.csv").read_text().splitlines()) - 1
    assert rows[0]["date"] == "2026-08-03" and rows[0]["sleep_source"] == "csv"
    # The listing is a wellness CSV itself: it reads back into another store unchanged.
    other = dict(env, HEAVYLEGS_DB=str(tmp_path / "other.sqlite"))
    assert heavylegs_cli("import", str(out), env=other).returncode == 0
    again = heavylegs_cli("wellness", "--format", "csv", env=other)
    assert again.stdout == out.read_text()


def test_the_wellness_listing_says_when_there_is_nothing(env: dict[str, str]) -> None:
    none = heavylegs_cli("wellness", "--since", "2020-01-01", "--until", "2020-01-31", env=env)
    assert none.returncode == 0 and none.stdout == "no wellness data stored in that range\n"
    bad = heavylegs_cli("wellness", "--since", "2026-10-02", "--until", "2026-10-01", env=env)
    assert bad.returncode == 2 and "is after" in bad.stderr
    wrong = heavylegs_cli("wellness", "-o", "days.html", env=env)
    assert wrong.returncode == 2


def test_a_store_without_wellness_reports_as_before(tmp_path: Path) -> None:
    env = {"HEAVYLEGS_DB": str(tmp_path / "s.sqlite"), "HEAVYLEGS_CONFIG": str(CONFIG)}
    fits = sorted(SAMPLE.glob("2026-10-*.fit"))
    assert heavylegs_cli("import", *map(str, fits), env=env).returncode == 0
    text = heavylegs_cli("report", "--since", "2026-10-05", "--until", "2026-10-25", env=env)
    assert "sleep" not in text.stdout.lower() and "cause 10" not in text.stdout
    data = json.loads(heavylegs_cli("report", "--since", "2026-10-05", "--until",
                                    "2026-10-25", "--format", "json", env=env).stdout)  # fmt: skip
    assert "wellness" not in data and data["not_judged"] == []
    assert heavylegs_cli("wellness", env=env).stdout == "no wellness data stored\n"


def test_the_notebook_wellness_frame(env: dict[str, str]) -> None:
    frame = api.wellness(env["HEAVYLEGS_DB"], "2026-09-28", "2026-10-04", config=CONFIG)
    assert frame.index.name == "date" and pd.api.types.is_datetime64_dtype(frame.index)
    assert [d.strftime("%Y-%m-%d") for d in frame.index] == [f"2026-{d}" for d in (
        "09-28", "09-29", "09-30", "10-01", "10-02", "10-03", "10-04")]  # fmt: skip
    assert frame.loc["2026-09-28", "sleep_hours"] == 7.3
    assert frame["sleep_hours"].isna().tolist()[1:4:2] == [True, True]  # 29 Sep, 1 Oct
    assert set(frame["resting_hr_source"]) == {"csv"}
    empty = api.wellness(env["HEAVYLEGS_DB"], "2020-01-01", "2020-01-02", config=CONFIG)
    assert empty.empty and list(empty.columns) == list(frame.columns)
    with pytest.raises(ValueError, match="is after"):
        api.wellness(env["HEAVYLEGS_DB"], "2026-10-02", "2026-10-01", config=CONFIG)


def test_the_view_gives_what_merge_days_gives(tmp_path: Path) -> None:
    day = date(2026, 11, 2)
    records = [
        WellnessRecord(day, WellnessSource.CSV, "w.csv", sleep_s=8 * 3600, resting_hr=50,
                       hrv_ms=70),
        WellnessRecord(day, WellnessSource.GARMIN, "s.json", sleep_s=6 * 3600, deep_s=3600,
                       hrv_ms=60),
        WellnessRecord(day, WellnessSource.FIT, "h.fit", hrv_ms=55, sleep_s=5 * 3600,
                       sleep_start=datetime(2026, 11, 1, 22, tzinfo=UTC)),
        WellnessRecord(date(2026, 11, 3), WellnessSource.CSV, "w.csv", resting_hr=49),
    ]  # fmt: skip
    db = tmp_path / "s.sqlite"
    with Store.open(db) as store:
        for r in records:
            store.add_wellness([r], None)
    merged = merge_days(records)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as raw:
        rows = raw.execute(
            "SELECT date, sleep_hours, resting_hr, hrv_ms, sleep_source, resting_hr_source,"
            " hrv_source FROM wellness_days"
        ).fetchall()
    assert rows == [
        (d.isoformat(), None if m.sleep_s is None else round(m.sleep_s / 3600, 2), m.resting_hr,
         m.hrv_ms, m.sleep_source and m.sleep_source.value,
         m.resting_hr_source and m.resting_hr_source.value, m.hrv_source and m.hrv_source.value)
        for d, m in merged.items()
    ]  # fmt: skip
    # The view's ranking is the model's: fit, garmin, csv.
    assert [s.value for s in WELLNESS_RANK] == ["fit", "garmin", "csv"]


def test_the_watcher_rewrites_its_report_when_wellness_arrives(tmp_path: Path) -> None:
    env = {"HEAVYLEGS_DB": str(tmp_path / "s.sqlite"), "HEAVYLEGS_CONFIG": str(CONFIG)}
    fits = [p for p in SAMPLE.iterdir() if p.suffix in (".fit", ".gpx")]
    assert heavylegs_cli("import", *map(str, fits), env=env).returncode == 0
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "sleep.csv").write_bytes((SAMPLE / "wellness.csv").read_bytes())
    report = tmp_path / "report.json"
    done = heavylegs_cli(
        "watch", str(inbox), "--once", "--settle", "0.2", "--report", str(report), env=env
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(report.read_text())
    assert "wellness" in data
    assert {f["cause"] for f in data["findings"]} >= {10}
