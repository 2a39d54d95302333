"""The training calendar: local days, Monday-Sunday weeks, rest days, long runs.

Days are the activities' own local calendar days (fixed at import from their UTC offset),
so a run at 00:30 on Tuesday is Tuesday's and a daylight-saving change moves nothing.
Pure: facts and explicit dates in, week summaries out.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.config import RuleSettings, SeasonSettings
from heavylegs_sync.model import Category

#: Categories that make a day a training day; light activity keeps it a rest day.
TRAINING = frozenset({Category.RUN, Category.STRENGTH, Category.CROSS, Category.OTHER})


@functools.lru_cache(maxsize=4096)
def monday(day: date) -> date:
    """The Monday of the week a day belongs to (kept: a squad's rows ask it of the same
    few weeks' days some forty thousand times)."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class WeekSummary:
    """One Monday-Sunday week and everything the checks read from it."""

    week_start: date
    season: str  # "off" or "peak"
    complete: bool  # all seven days inside the reported range
    activity_count: int
    run_seconds: float
    run_distance_m: float
    easy_seconds: float
    hard_seconds: float
    easy_distance_m: float
    hard_distance_m: float
    hr_seconds: float
    rest_days: int
    rest_day_dates: tuple[date, ...]
    days_in_range: int
    run_ids: tuple[int, ...]
    hard_run_ids: tuple[int, ...]
    long_run_ids: tuple[int, ...]
    strength_ids: tuple[int, ...]
    activity_ids: tuple[int, ...] = field(default=())
    recorded_seconds: float = 0.0  # running time the recordings cover (pauses left out)

    @property
    def hard_share(self) -> float | None:
        """Hard share of running time with heart rate; None without any."""
        total = self.easy_seconds + self.hard_seconds
        return self.hard_seconds / total if total > 0 else None

    @property
    def hard_share_distance(self) -> float | None:
        """Hard share of running distance covered with heart rate (80/20 by mileage)."""
        total = self.easy_distance_m + self.hard_distance_m
        return self.hard_distance_m / total if total > 0 else None

    @property
    def hr_coverage(self) -> float | None:
        """Running time with heart-rate data over recorded running time (pauses count on
        neither side); None without runs."""
        recorded = self.recorded_seconds or self.run_seconds
        if recorded <= 0:
            return None
        return min(1.0, self.hr_seconds / recorded)

    @property
    def strength_sessions(self) -> int:
        """Number of strength sessions in the week."""
        return len(self.strength_ids)

    @property
    def flaggable(self) -> bool:
        """Causes 2, 5 and 6 are judged only on complete weeks that hold any activity."""
        return self.complete and self.activity_count > 0


def training_days(facts: Sequence[ActivityFacts]) -> set[date]:
    """Local days that hold training (anything but light activity)."""
    return {f.day for f in facts if f.category in TRAINING}


def long_run_ids(runs: Sequence[ActivityFacts], rules: RuleSettings) -> set[int]:
    """Long runs of one week: 75 min or more, or the week's clear longest.

    The week's longest run also counts when it lasts at least an hour and at least 1.5
    times the week's median run, so a runner whose runs are all short still has one.
    """
    result = {r.id for r in runs if r.duration_s >= rules.long_run_min_seconds}
    if runs:
        longest = max(runs, key=lambda r: (r.duration_s, -r.id))
        median = statistics.median(r.duration_s for r in runs)
        if (
            longest.duration_s >= rules.long_run_week_min_seconds
            and longest.duration_s >= rules.long_run_median_factor * median
        ):
            result.add(longest.id)
    return result


def summarize_weeks(
    facts: Sequence[ActivityFacts],
    first: date,
    last: date,
    rules: RuleSettings,
    season: SeasonSettings,
) -> list[WeekSummary]:
    """A summary for every week that touches [first, last], in order."""
    busy = training_days(facts)
    by_week: dict[date, list[ActivityFacts]] = {}
    for f in facts:
        if first <= f.day <= last:
            by_week.setdefault(monday(f.day), []).append(f)
    weeks: list[WeekSummary] = []
    start = monday(first)
    while start <= last:
        in_week = by_week.get(start, [])
        runs = [f for f in in_week if f.category is Category.RUN]
        days = [start + timedelta(days=i) for i in range(7)]
        days_in_range = [d for d in days if first <= d <= last]
        rest = tuple(d for d in days_in_range if d not in busy)
        peak_days = sum(1 for d in days if season.is_peak(d))
        weeks.append(
            WeekSummary(
                week_start=start,
                season="peak" if peak_days >= 4 else "off",
                complete=len(days_in_range) == 7,
                activity_count=len(in_week),
                run_seconds=sum(r.duration_s for r in runs),
                run_distance_m=sum(r.distance_m or 0.0 for r in runs),
                easy_seconds=sum(r.zones.easy_seconds for r in runs),
                hard_seconds=sum(r.zones.hard_seconds for r in runs),
                easy_distance_m=sum(r.zones.easy_distance_m for r in runs),
                hard_distance_m=sum(r.zones.hard_distance_m for r in runs),
                hr_seconds=sum(r.zones.hr_seconds for r in runs),
                rest_days=len(rest),
                rest_day_dates=rest,
                days_in_range=len(days_in_range),
                run_ids=tuple(r.id for r in runs),
                hard_run_ids=tuple(r.id for r in runs if r.hard),
                long_run_ids=tuple(sorted(long_run_ids(runs, rules))),
                strength_ids=tuple(f.id for f in in_week if f.category is Category.STRENGTH),
                activity_ids=tuple(f.id for f in in_week),
                recorded_seconds=sum(r.recorded_seconds for r in runs),
            )
        )
        start += timedelta(days=7)
    return weeks


def streak_breaches(
    facts: Sequence[ActivityFacts], first: date, last: date, limit: int
) -> list[tuple[date, date]]:
    """Days in [first, last] on which a run of consecutive training days first exceeds
    ``limit``, each with the day that run began.

    Streaks are counted from the earliest activity given, so one that began before the
    reported range still counts.
    """
    training = training_days(facts)
    if not training:
        return []
    breaches: list[tuple[date, date]] = []
    day = min(training)
    streak_start: date | None = None
    length = 0
    while day <= last:
        if day in training:
            if length == 0:
                streak_start = day
            length += 1
            if length == limit + 1 and first <= day and streak_start is not None:
                breaches.append((day, streak_start))
        else:
            length = 0
            streak_start = None
        day += timedelta(days=1)
    return breaches
