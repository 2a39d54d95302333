"""Training load per reported week, as evidence for cause 1 (not enough recovery).

Uses the one definition of load (:mod:`heavylegs_sync.analysis.load`): each week's total,
the acute:chronic ratio at its end (its 7 days against the athlete's typical active week,
weeks off skipped) and its monotony. Pure: facts and weeks in, numbers out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.analysis.load import acute_chronic_ratio, daily_loads, monotony
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
        ratio = None if start is None else acute_chronic_ratio(daily, end, history_from=start)
        result.append(
            WeekLoad(
                week_start=w.week_start,
                load=sum(daily.get(w.week_start + timedelta(days=i), 0.0) for i in range(7)),
                ratio=ratio,  # None for a week without load: nothing to compare
                monotony=monotony(daily, w.week_start),
            )
        )
    return result
