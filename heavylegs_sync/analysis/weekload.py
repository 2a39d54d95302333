"""Training load per reported week, as evidence for cause 1 (not enough recovery).

Uses the one definition of load (:mod:`heavylegs_sync.analysis.load`): each week's total,
the acute:chronic ratio at its end (its 7 days against the weekly average of the 28 days
ending with it) and its monotony. Pure: facts and weeks in, numbers out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.analysis.load import (
    CHRONIC_DAYS,
    acute_chronic_ratio,
    daily_loads,
    monotony,
    window_load,
)
from heavylegs_sync.analysis.weeks import WeekSummary


@dataclass(frozen=True)
class WeekLoad:
    """One week's load figures (ratio and monotony None when not defined)."""

    week_start: date
    load: float
    ratio: float | None
    monotony: float | None


def week_loads(facts: Sequence[ActivityFacts], weeks: Sequence[WeekSummary]) -> list[WeekLoad]:
    """Load figures for each week, counting history from the first activity given."""
    daily = daily_loads(facts)
    start = min(daily) if daily else None
    result = []
    for w in weeks:
        end = w.week_start + timedelta(days=7)
        # Only the 28 days the figures read, so years of history cost no more per week.
        near = {
            day: daily[day]
            for i in range(1, CHRONIC_DAYS + 1)
            if (day := end - timedelta(days=i)) in daily
        }
        ratio = None if start is None else acute_chronic_ratio(near, end, history_from=start)
        result.append(
            WeekLoad(
                week_start=w.week_start,
                load=window_load(near, w.week_start, end - timedelta(days=1)),
                ratio=ratio,
                monotony=monotony(near, w.week_start),
            )
        )
    return result
