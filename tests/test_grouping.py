"""Grouping and ranking of findings (pure): one problem per code, its numbers kept, the
strongest and most current first."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from heavylegs_sync.analysis import Analysis, analyse
from heavylegs_sync.analysis.grouping import group_findings, severity
from heavylegs_sync.config import load_settings
from heavylegs_sync.model import Activity, Category
from heavylegs_sync.report.findings import group_headline, group_title
from heavylegs_sync.report.view import build_view, verdict, week_ranges
from tests.histories import activity, settings_file

MONDAY = date(2026, 1, 5)


def analysis_of(acts: list[Activity], tmp_path: Path, weeks: int, extra_days: int = 0) -> Analysis:
    settings = load_settings(config=settings_file(tmp_path), db=tmp_path / "unused.sqlite")
    return analyse(
        acts, first=MONDAY, last=MONDAY + timedelta(weeks=weeks, days=extra_days - 1),
        athlete=settings.athlete, zones=settings.zones, rules=settings.rules,
        season=settings.season,
    )  # fmt: skip


def runs(week: int, hard_share: float = 0.0, days: tuple[int, ...] = (1, 3, 5)) -> list[Activity]:
    start = MONDAY + timedelta(weeks=week)
    return [activity(Category.RUN, start + timedelta(days=d), 45, hard_share=hard_share)
            for d in days]  # fmt: skip


def strength(week: int, day: int) -> Activity:
    return activity(Category.STRENGTH, MONDAY + timedelta(weeks=week, days=day), 40,
                    hhmm="18:00")  # fmt: skip


def test_one_group_per_problem_with_every_finding(tmp_path: Path) -> None:
    acts = [a for w in range(6) for a in runs(w, hard_share=0.9)]
    a = analysis_of(acts, tmp_path, 6)
    groups = group_findings(a.findings, a.weeks, a.rules)
    assert sorted(g.code for g in groups) == ["too-little-strength", "too-much-hard"]
    assert sum(len(g.findings) for g in groups) == len(a.findings) == 12
    hard = groups[0]
    # 90% hard against a 20% limit outranks missing strength, and keeps its numbers.
    assert hard.code == "too-much-hard" and hard.weeks == tuple(w.week_start for w in a.weeks)
    assert severity(hard.findings[0], a.rules) == pytest.approx(4.5, abs=0.05)
    assert "in 6 of the 6 weeks with running" in group_headline(hard)
    assert "90% of running time hard (median), up to 90%" in group_headline(hard)
    strength_group = groups[1]
    assert group_title(strength_group) == "no strength training"
    assert group_headline(strength_group).startswith("No strength training in 6 of the 6 weeks")


def test_a_current_problem_outranks_the_same_problem_long_ago(tmp_path: Path) -> None:
    # Enough strength everywhere; strength the evening before a hard run in week 0, and on
    # the day of a hard run in the last week: the same severity, one is current.
    acts = [a for w in range(5) for a in runs(w)] + [s for w in range(5) for s in
            (strength(w, 1), strength(w, 3))]  # fmt: skip
    acts += [activity(Category.RUN, MONDAY + timedelta(days=2), 50, hard_share=0.5)]
    acts += [activity(Category.RUN, MONDAY + timedelta(weeks=4, days=3), 50, hard_share=0.5,
                      hhmm="06:00")]  # fmt: skip
    a = analysis_of(acts, tmp_path, 5)
    groups = group_findings(a.findings, a.weeks, a.rules)
    codes = [g.code for g in groups]
    assert "strength-before-hard-run" in codes and "strength-same-day-hard" in codes
    current = next(g for g in groups if g.code == "strength-same-day-hard")
    old = next(g for g in groups if g.code == "strength-before-hard-run")
    assert current.in_latest_week and not old.in_latest_week
    assert current.score > old.score and codes.index(current.code) < codes.index(old.code)


def test_the_verdict_names_the_latest_week_and_this_week_so_far(tmp_path: Path) -> None:
    # Three weeks with running but no strength, then a partial week trained every day.
    acts = [a for w in range(3) for a in runs(w)]
    acts += runs(3, days=(0, 1, 2, 3, 4, 5, 6)) + runs(4, days=(0, 1))
    a = analysis_of(acts, tmp_path, 4, extra_days=2)
    lines = verdict(build_view(a))
    assert lines[0] == (
        f"Week of {MONDAY + timedelta(weeks=3)} (the latest complete week): 2 problems:"
        " no rest day; no strength training."
    )
    assert lines[1] == (
        f"This week so far (from {MONDAY + timedelta(weeks=4)}): too many days in a row"
        " without rest."
    )


def test_week_ranges_join_consecutive_weeks() -> None:
    weeks = tuple(MONDAY + timedelta(weeks=w) for w in (0, 1, 2, 4, 6, 7))
    assert week_ranges(weeks) == [
        "2026-01-05 to 2026-01-25 (3 weeks)",
        "2026-02-02",
        "2026-02-16 to 2026-03-01 (2 weeks)",
    ]
