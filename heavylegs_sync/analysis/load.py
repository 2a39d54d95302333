"""Training load: how much a day asked of the legs, as one number per day.

Running counts by heart-rate zone (Edwards' summated zones: a minute in zone n counts n),
so an hour easy weighs less than an hour of intervals; a run without heart rate counts as
zone 2. Strength and cross-training count by duration as zone 2 (:data:`OTHER_WEIGHT`);
light activity (yoga, stretching, walking) counts nothing, as a rest day allows it.

Pure: activity facts in, numbers out. The acute:chronic ratio compares the last 7 days
with the athlete's typical active week: the average of the last four 7-day blocks that
hold any training (the latest one included), looking back up to a year. Blocks without
training are skipped, so a return after a break at or below one's usual week is never a
spike (a plain 7-day over 28-day ratio is 4.0 whenever the 28 days hold nothing else, and
an exponentially weighted ratio decays through a break the same way); docs/rules.md gives
the reasoning and the references. Monotony (Foster) is a week's mean daily load over its
standard deviation, high when every day is the same.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from operator import mul

from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.model import Category

#: Load per minute in zones 1-5.
ZONE_WEIGHTS = (1.0, 2.0, 3.0, 4.0, 5.0)
#: Load per minute of running without heart rate, strength and cross-training.
OTHER_WEIGHT = 2.0
ACUTE_DAYS = 7
CHRONIC_DAYS = 28
#: How far back the typical active week is looked for: training a year ago says little.
BASELINE_HORIZON_DAYS = 364


def activity_load(fact: ActivityFacts) -> float:
    """The load of one activity (see the module)."""
    if fact.category is Category.LIGHT:
        return 0.0
    if fact.category is Category.RUN and fact.zones.hr_seconds > 0:
        zoned: float = sum(map(mul, ZONE_WEIGHTS, fact.zones.seconds))  # five each
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


@dataclass(frozen=True)
class LoadRatio:
    """The acute load against the typical active week, and what the latter rests on."""

    ratio: float
    acute: float  # load of the acute window
    typical: float  # the typical active block's load (same length as the acute window)
    blocks: int  # active blocks averaged (the acute one included)
    baseline_from: date  # first day of the oldest block averaged


def load_ratio(
    daily: Mapping[date, float],
    day: date,
    *,
    history_from: date,
    acute_days: int = ACUTE_DAYS,
    chronic_days: int = CHRONIC_DAYS,
) -> LoadRatio | None:
    """Load of the ``acute_days`` before ``day`` over the athlete's typical active block.

    Days before ``day`` are cut into blocks of ``acute_days``; the typical block is the
    average of the latest ``chronic_days / acute_days`` blocks (rounded, at least 1) that
    hold any load, the acute block included, within :data:`BASELINE_HORIZON_DAYS`. An
    athlete who trains every week gets exactly the classic ratio (the acute week over the
    weekly average of the last 28 days); weeks off do not count as a low baseline.

    None with less history than ``chronic_days`` (counted from ``history_from``, the first
    day with data) or without any load in the acute window: no training, nothing to judge.
    """
    if (day - history_from).days < chronic_days:
        return None
    acute = _block(daily, day, acute_days)
    if acute <= 0:
        return None
    wanted = max(1, round(chronic_days / acute_days))
    oldest = max(history_from, day - timedelta(days=BASELINE_HORIZON_DAYS))
    loads = [acute]
    first = end = day - timedelta(days=acute_days)
    while len(loads) < wanted and end > oldest:
        load = _block(daily, end, acute_days)
        end -= timedelta(days=acute_days)
        if load > 0:
            loads.append(load)
            first = end
    typical = statistics.fmean(loads)
    return LoadRatio(acute / typical, acute, typical, len(loads), max(first, history_from))


def _block(daily: Mapping[date, float], end: date, days: int) -> float:
    """Total load of the ``days`` days before ``end``, read day by day (years of history
    cost nothing), latest first (the same sum, in the same order, every time)."""
    total = 0.0
    current = end
    for _ in range(days):  # a squad's rows ask this some hundred thousand times
        current -= _ONE_DAY
        total += daily.get(current, 0.0)
    return total


_ONE_DAY = timedelta(days=1)


def acute_chronic_ratio(
    daily: Mapping[date, float],
    day: date,
    *,
    history_from: date,
    acute_days: int = ACUTE_DAYS,
    chronic_days: int = CHRONIC_DAYS,
) -> float | None:
    """Just the ratio of :func:`load_ratio`."""
    found = load_ratio(
        daily, day, history_from=history_from, acute_days=acute_days, chronic_days=chronic_days
    )
    return None if found is None else found.ratio


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
