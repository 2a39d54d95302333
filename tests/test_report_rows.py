"""Issue 24 items 11 and 12: the weeks table says what its legend promises, in every format,
and the sentences count right. Histories are real activities in a real SQLite store."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from heavylegs_sync.analysis import Analysis
from heavylegs_sync.analysis.grouping import group_findings
from heavylegs_sync.config import load_settings
from heavylegs_sync.diagnosis import analyse_store, today_store
from heavylegs_sync.model import Activity, Category, Samples
from heavylegs_sync.report.activities import activity_notes
from heavylegs_sync.report.findings import finding_message, group_headline
from heavylegs_sync.report.html import to_html
from heavylegs_sync.report.json import to_dict
from heavylegs_sync.report.text import to_text
from heavylegs_sync.report.today import today_text
from heavylegs_sync.store import Store
from tests.conftest import heavylegs_cli
from tests.histories import activity, settings_file, store_history

MONDAY = date(2026, 1, 5)


def week(n: int, weekday: int = 0) -> date:
    return MONDAY + timedelta(weeks=n, days=weekday)


def without_hr(a: Activity) -> Activity:
    assert a.samples is not None
    return replace(a, samples=Samples(t=a.samples.t, distance=a.samples.distance))


def sound_week(n: int, *, hr: bool = True) -> list[Activity]:
    """Runs Tue Thu Sat, strength after the Tue and Thu runs."""
    runs = [activity(Category.RUN, week(n, d), 45) for d in (1, 3, 5)]
    runs = runs if hr else [without_hr(r) for r in runs]
    lifts = [activity(Category.STRENGTH, week(n, d), 30, hhmm="18:00") for d in (1, 3)]
    return runs + lifts


def analysis_of(tmp_path: Path, history: list[Activity], first: date, last: date) -> Analysis:
    db = tmp_path / "store.sqlite"
    store_history(db, history)
    settings = load_settings(config=settings_file(tmp_path), db=db)
    with Store.open(db) as store:
        return analyse_store(store, settings, last, first)


def rows(text: str) -> dict[str, str]:
    """Week rows of a text report by their first cell."""
    return {
        line.split()[0]: line
        for line in text.splitlines()
        if re.match(r"\d{4}-\d\d-\d\d ", line) and " to " not in line[:14]
    }


def test_a_week_with_runs_but_no_heart_rate_shows_a_question_mark(tmp_path: Path) -> None:
    history = sound_week(0) + sound_week(1, hr=False) + sound_week(2)
    analysis = analysis_of(tmp_path, history, week(0), week(2, 6))
    text = to_text(analysis, width=100)
    cells = rows(text)[str(week(1))].split()
    assert cells[4] == "?"  # week, season, h:mm, km, hard %
    assert "?: too little heart-rate data" in text.replace("\n", " ")
    html = to_html(analysis)
    assert f"<td>{week(1)}</td><td>off</td><td>2:15</td><td>24.3</td><td>?</td>" in html


def test_an_empty_week_shows_no_load_ratio(tmp_path: Path) -> None:
    history = [*sound_week(0), *sound_week(1), *sound_week(2), *sound_week(3), *sound_week(5)]
    analysis = analysis_of(tmp_path, history, week(0), week(5, 6))
    data = to_dict(analysis)
    empty = next(w for w in data["weeks"] if w["week_start"] == str(week(4)))
    assert (empty["load"], empty["load_ratio"]) == (0.0, None)
    text = to_text(analysis, width=100)
    header = next(line for line in text.splitlines() if line.startswith("week "))
    row = rows(text)[str(week(4))]
    ratio_at = header.index("ratio") + len("ratio")
    assert row[ratio_at - 5 : ratio_at].strip() == ""  # blank under "load ratio"
    assert rows(text)[str(week(5))][ratio_at - 5 : ratio_at].strip() == "1.0"
    back = next(w for w in data["weeks"] if w["week_start"] == str(week(5)))
    assert back["load_ratio"] == 1.0  # the week off does not lower the usual week


def test_the_run_of_empty_weeks_stops_at_until(tmp_path: Path) -> None:
    history = sound_week(0)
    until = week(3, 2)  # a Wednesday
    analysis = analysis_of(tmp_path, history, week(0), until)
    text = to_text(analysis, width=100)
    assert f"{week(1)} to {until}: 3 weeks without any activity" in text
    assert str(week(3, 6)) not in text


def test_the_html_weeks_table_has_the_text_columns_and_collapses_empty_weeks(
    tmp_path: Path,
) -> None:
    history = sound_week(0) + sound_week(30)
    analysis = analysis_of(tmp_path, history, week(0), week(30, 6))
    html = to_html(analysis)
    table = html[html.index('<section id="weeks">') :]
    table = table[: table.index("</section>")]
    for header in ("heart rate %", "monotony", "load ratio", "season", "hard %"):
        assert f"<th>{header}</th>" in table
    assert table.count("<tr") == 1 + 3  # the header, two weeks and one collapsed run
    assert f"{week(1)} to {week(29, 6)}: 29 weeks without any activity" in table


def test_counts_read_as_english(tmp_path: Path) -> None:
    # week 0: one strength session (cause 5: one short); week 1: no strength; then a
    # week with training every day (no rest day)
    history = [activity(Category.RUN, week(0, d), 45) for d in (1, 3, 5)]
    history.append(activity(Category.STRENGTH, week(0, 1), 30, hhmm="18:00"))
    history += [activity(Category.RUN, week(1, d), 45) for d in (1, 3, 5)]
    history += [activity(Category.RUN, week(2, d), 40) for d in range(7)]
    analysis = analysis_of(tmp_path, history, week(0), week(2, 6))
    text = to_text(analysis, width=100)
    messages = {f.week_start: finding_message(f) for f in analysis.findings if f.cause == 5}
    assert "1 strength session; at least 2 are needed" in messages[week(0)]
    assert "no strength session; at least 2 are needed" in messages[week(1)]
    assert "(s)" not in text and "fewest 0" not in text
    assert re.search(r"(?<!to )\b1 sessions", text) is None
    assert "No rest day in the week of 2026-01-19 (at least 1 rest day a week needed)" in text
    assert "(7 activities)" in text
    groups = group_findings(analysis.findings, analysis.weeks, analysis.rules)
    strength = next(g for g in groups if g.code == "too-little-strength")
    assert "0 to 1 sessions a week" in group_headline(strength)
    a = replace(history[0], points_dropped=1)
    assert activity_notes(a)[-1] == "1 GPS point dropped"


def test_a_past_date_is_named_not_called_today(tmp_path: Path) -> None:
    history = [activity(Category.RUN, week(0) + timedelta(days=d), 40) for d in range(20)]
    db = tmp_path / "store.sqlite"
    store_history(db, history)
    settings = load_settings(config=settings_file(tmp_path), db=db)
    day = week(2, 6)
    with Store.open(db) as store:
        past = today_store(store, settings, day, current=day + timedelta(days=30))
        now = today_store(store, settings, day, current=day)
    past_text, now_text = today_text(past), today_text(now)
    assert "before today" not in past_text and "today would be" not in past_text
    assert f"before {day:%a %d %b %Y}" in past_text.replace("\n   ", " ")
    assert "days before today" in now_text.replace("\n   ", " ")
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(settings_file(tmp_path))}
    done = heavylegs_cli("today", "--date", str(day), "--format", "json", env=env)
    messages = " ".join(c["message"] for c in json.loads(done.stdout)["causes"])
    assert messages and "today" not in messages
