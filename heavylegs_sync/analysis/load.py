"""Training load: how much a day asked of the legs, as one number per day.

Running counts by heart-rate zone (Edwards' summated zones: a minute in zone n counts n),
so an hour easy weighs less than an hour of intervals; a run without heart rate counts as
zone 2. Strength and cross-training count by duration as zone 2 (:data:`OTHER_WEIGHT`);
light activity (yoga, stretching, walking) counts nothing, as a rest day allows it.

Pure: activity facts in, numbers out. The acute:chronic ratio compares the last 7 days
with the weekly average of the last 28; monotony (Foster) is a week's mean daily load over
its standard deviation, high when every day is the same.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.model import Category

#: Load per minute in zones 1-5.
ZONE_WEIGHTS = (1.0, 2.0, 3.0, 4.0, 5.0)
#: Load per minute of running without heart rate, strength and cross-training.
OTHER_WEIGHT = 2.0
ACUTE_DAYS = 7
CHRONIC_DAYS = 28


def activity_load(fact: ActivityFacts) -> float:
    """The load of one activity (see the module)."""
    if fact.category is Category.LIGHT:
        return 0.0
    if fact.category is Category.RUN and fact.zones.hr_seconds > 0:
        zoned = sum(w * s for w, s in zip(ZONE_WEIGHTS, fact.zones.seconds, strict=True))
        # Time of the run without heart rate still counts, as zone 2.
        rest = max(0.0, fact.duration_s - fact.zones.hr_seconds)
        return (zoned + OTHER_WEIGHT * rest) / 60.0
    return OTHER_WEIGHT * fact.duration_s / 60.0


def daily_loads(facts: Iterable[ActivityFacts]) -> dict[date, float]:
    """Load per local day (days without training are absent)."""
    result: dict[date, float] = {}
    for fact in facts:
        load = activity_load(fact)
        if load > 0:
            result[fact.day] = result.get(fact.day, 0.0) + load
    return result


def window_load(daily: Mapping[date, float], first: date, last: date) -> float:
    """Total load of the days first..last (inclusive)."""
    return sum(v for d, v in daily.items() if first <= d <= last)


def acute_chronic_ratio(
    daily: Mapping[date, float],
    day: date,
    *,
    history_from: date,
    acute_days: int = ACUTE_DAYS,
    chronic_days: int = CHRONIC_DAYS,
) -> float | None:
    """Load of the ``acute_days`` before ``day`` over the weekly average of the
    ``chronic_days`` before it; None with less history than ``chronic_days`` (counted from
    ``history_from``, the first day with data) or without any chronic load."""
    if (day - history_from).days < chronic_days:
        return None
    acute = window_load(daily, day - timedelta(days=acute_days), day - timedelta(days=1))
    chronic = window_load(daily, day - timedelta(days=chronic_days), day - timedelta(days=1))
    weekly = chronic / (chronic_days / acute_days)
    if weekly <= 0:
        return None
    return acute / weekly


def monotony(daily: Mapping[date, float], first: date, days: int = 7) -> float | None:
    """Mean daily load over its standard deviation for ``days`` days from ``first``;
    None when the load never varies (no training, or the same every day)."""
    values = [daily.get(first + timedelta(days=i), 0.0) for i in range(days)]
    if not any(values):
        return None
    spread = statistics.pstdev(values)
    if spread == 0:
        return None
    return statistics.fmean(values) / spread
