"""Training load, the acute:chronic ratio and monotony (pure functions)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.analysis.load import (
    activity_load,
    acute_chronic_ratio,
    daily_loads,
    monotony,
)
from heavylegs_sync.hr.zones import ZoneTimes
from heavylegs_sync.model import Category
from tests.conftest import BERLIN

DAY = date(2026, 3, 2)


def fact(
    day: date,
    category: Category,
    minutes: float,
    zones: tuple[float, ...] | None = None,
    i: int = 1,
) -> ActivityFacts:
    seconds = tuple(z * 60 for z in zones) if zones else (0.0,) * 5
    times = ZoneTimes(
        (seconds[0], seconds[1], seconds[2], seconds[3], seconds[4]),
        (0.0,) * 5,
        sum(seconds),
        sum(seconds),
    )
    return ActivityFacts(
        id=i,
        category=category,
        start_local=datetime(day.year, day.month, day.day, 7, tzinfo=BERLIN),
        duration_s=minutes * 60,
        distance_m=None,
        zones=times,
        hard=False,
        leg_sets=0,
        sets=0,
        leg_heavy=False,
        label="",
    )


def test_running_counts_by_zone_and_the_rest_by_duration() -> None:
    assert activity_load(fact(DAY, Category.RUN, 60, (10, 40, 10, 0, 0))) == 10 + 80 + 30
    assert activity_load(fact(DAY, Category.RUN, 60)) == 120  # no HR: zone 2
    assert activity_load(fact(DAY, Category.RUN, 60, (0, 30, 0, 0, 0))) == 60 + 60
    assert activity_load(fact(DAY, Category.STRENGTH, 45)) == 90
    assert activity_load(fact(DAY, Category.CROSS, 30)) == 60
    assert activity_load(fact(DAY, Category.LIGHT, 60)) == 0


def test_ratio_needs_four_weeks_of_history() -> None:
    facts = [fact(DAY + timedelta(days=i), Category.RUN, 60, i=i) for i in range(35)]
    daily = daily_loads(facts)
    assert acute_chronic_ratio(daily, DAY + timedelta(days=27), history_from=DAY) is None
    assert acute_chronic_ratio(daily, DAY + timedelta(days=28), history_from=DAY) == 1.0


def test_a_sudden_week_doubles_the_ratio() -> None:
    facts = [fact(DAY + timedelta(days=i), Category.RUN, 30, i=i) for i in range(21)]
    facts += [fact(DAY + timedelta(days=i), Category.RUN, 90, i=i) for i in range(21, 28)]
    ratio = acute_chronic_ratio(daily_loads(facts), DAY + timedelta(days=28), history_from=DAY)
    # 7 x 180 over (21 x 60 + 7 x 180) / 4 = 1260 / 630
    assert ratio == pytest.approx(2.0)


def test_monotony_is_mean_over_spread() -> None:
    same = daily_loads(fact(DAY + timedelta(days=i), Category.RUN, 60, i=i) for i in range(7))
    assert monotony(same, DAY) is None
    varied = daily_loads(
        fact(DAY + timedelta(days=i), Category.RUN, 60, i=i) for i in range(0, 7, 2)
    )
    # loads 120, 0, 120, 0, 120, 0, 120: mean 68.6, spread 59.4
    assert monotony(varied, DAY) == pytest.approx((480 / 7) / 59.385, rel=1e-3)
    assert monotony({}, DAY) is None
