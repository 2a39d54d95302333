"""The report a runner reads in a minute (issue 13): verdict first, each problem once,
ranked, every line within the terminal's width, and "no data" never read as "no problem"."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from heavylegs_sync.model import Category
from tests.conftest import heavylegs_cli
from tests.histories import activity, runs_only_year, settings_file, store_history

FIRST = date(2025, 1, 6)  # a Monday
LAST = FIRST + timedelta(weeks=52, days=-1)


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A year of runs without strength, stored in a real store: the environment."""
    tmp = tmp_path_factory.mktemp("year")
    db = tmp / "store.sqlite"
    store_history(db, runs_only_year(FIRST))
    return {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(settings_file(tmp))}


def report(env: dict[str, str], *args: str, columns: int = 80) -> str:
    result = heavylegs_cli(
        "report", "--since", str(FIRST), "--until", str(LAST), *args,
        env={**env, "COLUMNS": str(columns)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_year_of_runs_reads_in_a_minute(year: dict[str, str]) -> None:
    text = report(year)
    data = json.loads(report(year, "--format", "json"))
    # 52 weeks of no strength, 26 of too much speed work, 13 without rest: grouped.
    assert len(data["findings"]) > 80
    blocks = [line for line in text.splitlines() if line.startswith("[cause ")]
    assert 1 <= len(blocks) <= 12
    assert len(blocks) == len(data["groups"])
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "No strength training in 52 of the 52 weeks with running, since 2025-01-06" in (
        " ".join(text.split())
    )
    # The verdict comes first: the latest week, then what matters most.
    head = text.splitlines()[1]
    assert head.startswith(f"Week of {LAST - timedelta(days=6)} (the latest complete week):")
    # Codes stay in the JSON; the text says them in words.
    assert "too-little-strength" not in text and "too-much-hard" not in text


def test_groups_keep_every_finding_and_rank_by_severity(year: dict[str, str]) -> None:
    data = json.loads(report(year, "--format", "json"))
    counted = {g["code"]: g["count"] for g in data["groups"]}
    by_code: dict[str, int] = {}
    for f in data["findings"]:
        by_code[f["code"]] = by_code.get(f["code"], 0) + 1
    assert counted == by_code
    scores = [g["score"] for g in data["groups"]]
    assert scores == sorted(scores, reverse=True)
    hard = next(g for g in data["groups"] if g["code"] == "too-much-hard")
    assert len(hard["weeks"]) == 26 and hard["eligible_weeks"] == 52
    assert hard["stats"]["max_hard_share"] == pytest.approx(0.35, abs=0.01)
    # Load per week is evidence for cause 1: ratio and monotony once four weeks are known.
    weeks = data["weeks"]
    assert all(w["load"] > 0 for w in weeks)
    assert weeks[0]["load_ratio"] is None and weeks[5]["load_ratio"] is not None
    assert data["verdict"][0].startswith("Week of ")


def test_week_rows_mark_findings_and_collapse_empty_weeks(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    # Two weeks of training, ten empty weeks, one more week.
    days = [FIRST + timedelta(days=d) for d in (1, 2, 3, 5, 6, 8, 9, 10, 12, 13)]
    late = FIRST + timedelta(weeks=12)
    days += [late + timedelta(days=d) for d in (1, 2, 3, 5, 6)]
    store_history(db, [activity(Category.RUN, d, 45) for d in days])
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(settings_file(tmp_path))}
    result = heavylegs_cli("report", "--since", str(FIRST), "--until",
                           str(late + timedelta(days=6)), env={**env, "COLUMNS": "80"})  # fmt: skip
    lines = result.stdout.splitlines()
    empty = FIRST + timedelta(weeks=2)
    collapsed = [line for line in lines if "10 weeks without any activity" in line]
    assert collapsed == [f"{empty} to {late - timedelta(days=1)}: 10 weeks without any activity"]
    # Every week with a finding (no strength here) carries its cause in the row.
    rows = [line for line in lines if line[:10] in {str(FIRST), str(late)}]
    assert len(rows) == 2 and all(row.rstrip().endswith("5") for row in rows)


def test_a_problem_that_is_really_there_keeps_its_numbers(tmp_path: Path) -> None:
    """A runner whose running is 90% hard: grouped, but the 90% stays on the page."""
    db = tmp_path / "store.sqlite"
    runs = [
        activity(Category.RUN, FIRST + timedelta(weeks=w, days=d), 45, hard_share=0.9)
        for w in range(8)
        for d in (1, 3, 5)
    ]
    store_history(db, runs)
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(settings_file(tmp_path))}
    args = ("report", "--since", str(FIRST), "--until", str(FIRST + timedelta(weeks=8, days=-1)))
    text = " ".join(heavylegs_cli(*args, env={**env, "COLUMNS": "80"}).stdout.split())
    assert "Too much hard running in 8 of the 8 weeks with running" in text
    assert "90% of running time hard (median), up to 90%" in text
    first_problem = text.split("What matters most", 1)[1].split(" 1. ", 1)[1]
    assert first_problem.startswith("Too much hard running")


def test_no_data_in_the_range_is_said_as_such(year: dict[str, str]) -> None:
    later = LAST + timedelta(weeks=30)
    result = heavylegs_cli("report", "--until", str(later), env=year)
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stdout.split())
    assert "No data in this range" in said
    assert f"newest activity before it is from {LAST}" in said
    assert "No training causes" not in said
    data = json.loads(
        heavylegs_cli("report", "--until", str(later), "--format", "json", env=year).stdout
    )
    assert data["note"].startswith("No data in this range") and data["findings"] == []
    # A range that ends weeks after the newest activity says so too.
    text = heavylegs_cli(
        "report", "--since", str(LAST - timedelta(weeks=4)), "--until",
        str(LAST + timedelta(weeks=3)), env=year,
    ).stdout  # fmt: skip
    assert f"Your newest activity is from {LAST}: the days after it hold no data" in " ".join(
        text.split()
    )


def test_activities_fit_80_columns_and_keep_the_id(tmp_path: Path, year: dict[str, str]) -> None:
    result = heavylegs_cli("activities", "--since", str(LAST - timedelta(days=6)),
                           env={**year, "COLUMNS": "80"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    ids = [line.split()[0] for line in lines if line.strip() and line.split()[0].isdigit()]
    assert len(ids) == 7  # the last week: a run every day
    wide = heavylegs_cli("activities", "--since", str(LAST - timedelta(days=6)),
                         env={**year, "COLUMNS": "160"}).stdout  # fmt: skip
    assert max(len(line) for line in wide.splitlines()) <= 160
