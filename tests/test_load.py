"""Training load, the acute:chronic ratio and monotony (pure functions)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.analysis.load import (
    activity_load,
    acute_chronic_ratio,
    daily_loads,
    load_ratio,
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


def test_weeks_off_do_not_lower_the_baseline() -> None:
    """Four weeks of 60-minute runs every day, 33 days off, two easy 30-minute runs."""
    facts = [fact(DAY + timedelta(days=i), Category.RUN, 60, i=i) for i in range(1, 29)]
    back = DAY + timedelta(days=62)
    facts += [fact(back + timedelta(days=i), Category.RUN, 30, i=100 + i) for i in range(2)]
    daily = daily_loads(facts)
    found = load_ratio(daily, back + timedelta(days=2), history_from=DAY)
    assert found is not None
    # 120 against (120 + 3 x 840) / 4 = 660: the three weeks before the break count
    assert (found.acute, found.typical, found.blocks) == (120, 660, 4)
    assert found.ratio == pytest.approx(120 / 660)
    # the plain 7-day over 28-day ratio would be 120 / (120 / 4) = 4.0


def test_a_lone_week_after_a_year_is_its_own_baseline() -> None:
    daily = daily_loads(
        [fact(DAY, Category.RUN, 60), fact(DAY + timedelta(days=400), Category.RUN, 90, i=2)]
    )
    found = load_ratio(daily, DAY + timedelta(days=401), history_from=DAY)
    assert found is not None and (found.ratio, found.blocks) == (1.0, 1)


def test_no_training_in_the_acute_window_is_no_ratio() -> None:
    daily = daily_loads([fact(DAY + timedelta(days=i), Category.RUN, 60, i=i) for i in range(28)])
    assert load_ratio(daily, DAY + timedelta(days=40), history_from=DAY) is None


def test_facts_built_from_activities_have_every_field() -> None:
    """``activity_facts`` builds each fact without the frozen class's ``__init__``: every
    field is there, and the fact equals the one the constructor builds."""
    from dataclasses import fields, replace

    from heavylegs_sync.analysis.facts import activity_facts
    from heavylegs_sync.config import RuleSettings
    from heavylegs_sync.hr.timeline import ZoneTimeline
    from tests.histories import activity

    lift = replace(activity(Category.STRENGTH, date(2026, 3, 2), 40), id=7)
    empty = ZoneTimes.empty()
    (fact,) = activity_facts([lift], ZoneTimeline((), ()), RuleSettings(), {7: empty})
    names = {f.name for f in fields(ActivityFacts)}
    assert set(vars(fact)) == names
    built = ActivityFacts(
        **{f.name: getattr(fact, f.name) for f in fields(ActivityFacts) if f.init}
    )
    assert built == fact and built.day == fact.day == date(2026, 3, 2)
    assert hash(built) == hash(fact)
