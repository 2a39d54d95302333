"""Cause 10 and cause 1's body signals (docs/wellness.md): each threshold just at and just
past its edge, the windows and baselines, "not judged" said once, and nothing at all
without wellness data. Pure: real activities and records, explicit dates."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heavylegs_sync.analysis import Analysis, analyse
from heavylegs_sync.analysis.facts import activity_facts
from heavylegs_sync.analysis.today import Today, today
from heavylegs_sync.config import (
    AthleteSettings,
    RuleSettings,
    SeasonSettings,
    ZoneSettings,
    load_settings,
)
from heavylegs_sync.errors import ConfigError
from heavylegs_sync.hr.timeline import zone_timeline
from heavylegs_sync.model import Activity, Category, WellnessRecord, WellnessSource
from heavylegs_sync.report.json import to_dict
from heavylegs_sync.report.text import to_text
from heavylegs_sync.report.today import today_dict, today_text
from tests.histories import activity

MONDAY = date(2026, 3, 2)  # the judged week: 2 to 8 March
SUNDAY = MONDAY + timedelta(days=6)
RULES = RuleSettings()
ATHLETE = AthleteSettings(max_hr=190)
ZONES = ZoneSettings(method="hrmax")


def day(n: int) -> date:
    """A day counted from the judged week's Monday (negative: before it)."""
    return MONDAY + timedelta(days=n)


def csv(d: date, **values: float) -> WellnessRecord:
    hours = values.pop("sleep", None)
    return WellnessRecord(
        d,
        WellnessSource.CSV,
        "w.csv",
        sleep_s=None if hours is None else hours * 3600,
        **values,  # type: ignore[arg-type]
    )


def training() -> list[Activity]:
    """An easy week with a hard run on Tuesday and a long run on Sunday, and the same the
    week before (so the load has a history)."""
    acts = []
    for week in (-7, 0):
        acts += [
            activity(Category.RUN, day(week + 1), 50, hard_share=0.4),
            activity(Category.RUN, day(week + 3), 40),
            activity(Category.RUN, day(week + 4), 40),
            activity(Category.RUN, day(week + 6), 100),
            activity(Category.STRENGTH, day(week + 2), 40, hhmm="18:00"),
            activity(Category.STRENGTH, day(week + 4), 40, hhmm="18:00"),
        ]
    return acts


def report(wellness: Iterable[WellnessRecord], rules: RuleSettings = RULES) -> Analysis:
    return analyse(
        training(), first=day(-7), last=SUNDAY, athlete=ATHLETE, zones=ZONES, rules=rules,
        season=SeasonSettings(), wellness=list(wellness),
    )  # fmt: skip


def codes(analysis: Analysis, week: date = MONDAY) -> set[str]:
    return {f.code for f in analysis.findings if f.week_start == week}


def nights(hours: dict[int, float]) -> list[WellnessRecord]:
    return [csv(day(n), sleep=h) for n, h in hours.items()]


def normal_nights(first: int, last: int) -> list[WellnessRecord]:
    return [csv(day(n), sleep=7.5) for n in range(first, last + 1)]


# Cause 10, weekly: the week's average.


def test_a_week_averaging_exactly_seven_hours_is_not_short() -> None:
    week = nights({0: 6.5, 1: 7.5, 2: 6.8, 3: 7.2, 4: 7.0, 5: 7.0, 6: 7.0})
    assert "short-sleep" not in codes(report(week))


def test_a_week_averaging_just_under_seven_hours_is_cause_10() -> None:
    week = nights({0: 6.5, 1: 7.5, 2: 6.8, 3: 7.2, 4: 7.0, 5: 7.0, 6: 6.9})
    analysis = report(week)
    (finding,) = [f for f in analysis.findings if f.week_start == MONDAY and f.cause == 10]
    assert finding.code == "short-sleep"
    assert finding.evidence["sleep_hours"] == round(48.9 / 7, 2)
    assert finding.evidence["nights"] == 7
    assert finding.evidence["night_hours"]["2026-03-08"] == 6.9
    text = to_text(analysis, width=80)
    assert "[cause 10: Sleep deprivation]" in text
    assert "Aim for 7\N{EN DASH}9 hours of sleep per night" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_four_nights_are_enough_to_judge_a_week_three_are_not() -> None:
    four = report(nights({0: 5.0, 2: 5.0, 4: 5.0, 5: 5.0}))
    assert "short-sleep" in codes(four)
    three = report(nights({0: 5.0, 2: 5.0, 4: 5.0}))
    assert "short-sleep" not in codes(three)
    assert three.wellness is not None
    (gap,) = three.wellness.not_judged
    assert (gap.measure, gap.needed) == ("sleep", 4)
    assert MONDAY in gap.weeks
    # Said once, with every week it covers.
    text = to_text(three, width=80)
    assert text.count("Not judged: sleep (cause 10)") == 1


def test_a_night_of_zero_hours_is_a_watch_not_worn() -> None:
    # Three real nights and four of 0 h: three recorded, too few to judge.
    analysis = report(nights({0: 7.5, 1: 0.0, 2: 7.5, 3: 0.0, 4: 7.5, 5: 0.0, 6: 0.0}))
    assert codes(analysis) & {"short-sleep", "short-sleep-before-key-runs"} == set()
    assert analysis.wellness is not None
    (week,) = [w for w in analysis.wellness.weeks if w.week_start == MONDAY]
    assert week.sleep.recorded == 3


# Cause 10, weekly: hard or long runs after short nights.


def test_two_key_runs_after_short_nights_are_cause_10_one_is_not() -> None:
    base = {0: 7.5, 1: 7.5, 2: 7.5, 3: 7.5, 4: 7.5, 5: 7.5, 6: 7.5}
    one = report(nights({**base, 1: 6.9}))  # Tuesday: the hard run
    assert codes(one) & {"short-sleep", "short-sleep-before-key-runs"} == set()
    two = report(nights({**base, 1: 6.9, 6: 6.99}))  # and Sunday: the long run
    (finding,) = [f for f in two.findings if f.week_start == MONDAY and f.cause == 10]
    assert finding.code == "short-sleep-before-key-runs"
    kinds = [(r["date"], r["kind"]) for r in finding.evidence["short_night_runs"]]
    assert kinds == [("2026-03-03", "hard"), ("2026-03-08", "long")]
    assert len(finding.activities) == 2


def test_a_night_of_exactly_seven_hours_or_an_easy_run_does_not_count() -> None:
    base = {0: 7.8, 1: 7.8, 2: 7.8, 3: 7.8, 4: 7.8, 5: 7.8, 6: 7.8}
    # Tuesday's hard run after 6.9 h, Sunday's long run after exactly 7 h; Thursday's
    # easy run after 6 h (the week averages 7.3 h).
    analysis = report(nights({**base, 1: 6.9, 6: 7.0, 3: 6.0}))
    assert codes(analysis) & {"short-sleep", "short-sleep-before-key-runs"} == set()


# Cause 1: resting heart rate.


def resting(baseline: float, recent: float, *, recent_days: int = 7,
            baseline_days: int = 60) -> list[WellnessRecord]:  # fmt: skip
    """Resting HR over the 60 days before the week (median ``baseline``) and the week."""
    records = [csv(day(-n), resting_hr=baseline + (n % 3) - 1) for n in range(1, baseline_days + 1)]
    records += [csv(day(n), resting_hr=recent) for n in range(recent_days)]
    return records


def test_resting_hr_exactly_five_above_the_median_is_flagged() -> None:
    analysis = report(resting(48.0, 53.0))
    (finding,) = [f for f in analysis.findings if f.code == "resting-hr-up"]
    assert finding.cause == 1 and finding.week_start == MONDAY
    ev = finding.evidence
    assert (ev["resting_hr"], ev["baseline_median"], ev["rise"]) == (53.0, 48.0, 5.0)
    assert (ev["baseline_from"], ev["baseline_to"]) == ("2026-01-01", "2026-03-01")
    # Foster's monotony and strain of the week beside it, as evidence.
    assert ev["strain"] == pytest.approx(ev["monotony"] * _load(analysis), rel=0.01)


def _load(analysis: Analysis) -> float:
    assert analysis.wellness is not None
    (week,) = [w for w in analysis.wellness.weeks if w.week_start == MONDAY]
    assert week.load is not None
    return week.load.load


def test_resting_hr_just_under_five_above_is_not_flagged() -> None:
    assert "resting-hr-up" not in codes(report(resting(48.0, 52.9)))


def test_resting_hr_needs_four_days_and_a_baseline_of_fourteen() -> None:
    three = report(resting(48.0, 60.0, recent_days=3))
    assert "resting-hr-up" not in codes(three)
    assert three.wellness is not None
    assert [g.measure for g in three.wellness.not_judged] == ["resting_hr"]
    four = report(resting(48.0, 60.0, recent_days=4))
    assert "resting-hr-up" in codes(four)
    thin = report(resting(48.0, 60.0, baseline_days=13))
    assert "resting-hr-up" not in codes(thin)
    assert "resting-hr-up" in codes(report(resting(48.0, 60.0, baseline_days=14)))


def test_the_weekly_baseline_is_the_sixty_days_before_the_week() -> None:
    # A high value 61 days before the week is outside the baseline; 60 days before, inside.
    records = resting(48.0, 53.0)
    outside = [*records, csv(day(-61), resting_hr=100.0), csv(day(-62), resting_hr=100.0)]
    assert "resting-hr-up" in codes(report(outside))
    analysis = report(outside)
    (finding,) = [f for f in analysis.findings if f.code == "resting-hr-up"]
    assert finding.evidence["baseline_days"] == 60


# Cause 1: HRV.


def hrv_records(factor: float, recent_nights: int = 7) -> tuple[list[WellnessRecord], float]:
    """A varied baseline of 60 nights and a week at ``factor`` times the limit."""
    base = [csv(day(-n), hrv_ms=(58.0, 64.0, 70.0, 61.0, 67.0)[n % 5]) for n in range(1, 61)]
    logs = [math.log(r.hrv_ms or 0) for r in base]
    limit = statistics.fmean(logs) - statistics.stdev(logs)
    value = math.exp(limit) * factor
    return base + [csv(day(n), hrv_ms=value) for n in range(recent_nights)], limit


def test_hrv_just_below_the_limit_is_flagged_just_above_is_not() -> None:
    below, limit = hrv_records(0.999)
    analysis = report(below)
    (finding,) = [f for f in analysis.findings if f.code == "hrv-down"]
    assert finding.cause == 1
    assert finding.evidence["drop_sd"] > 1.0
    assert finding.evidence["limit_ms"] == round(math.exp(limit), 1)
    above, _ = hrv_records(1.001)
    assert "hrv-down" not in codes(report(above))


def test_a_baseline_that_never_varied_still_reads() -> None:
    flat = [csv(day(-n), hrv_ms=60.0) for n in range(1, 61)]
    same = report([*flat, *(csv(day(n), hrv_ms=60.0) for n in range(7))])
    assert "hrv-down" not in codes(same)
    lower = report([*flat, *(csv(day(n), hrv_ms=50.0) for n in range(7))])
    (finding,) = [f for f in lower.findings if f.code == "hrv-down"]
    assert finding.evidence["drop_sd"] is None
    text = to_text(lower, width=80)
    assert "below a baseline that did not vary at all" in text
    assert to_dict(lower)["groups"]


def test_hrv_needs_three_nights() -> None:
    two, _ = hrv_records(0.5, recent_nights=2)
    analysis = report(two)
    assert "hrv-down" not in codes(analysis)
    assert analysis.wellness is not None
    assert [g.measure for g in analysis.wellness.not_judged] == ["hrv"]
    three, _ = hrv_records(0.5, recent_nights=3)
    assert "hrv-down" in codes(report(three))


def test_the_settings_move_the_thresholds() -> None:
    rules = replace(RULES, max_resting_hr_rise=6.0, min_sleep_hours=6.0, hrv_drop_sd=2.0)
    assert "resting-hr-up" not in codes(report(resting(48.0, 53.0), rules))
    week = nights({0: 6.5, 1: 6.5, 2: 6.5, 3: 6.5})
    assert "short-sleep" not in codes(report(week, rules))
    below, _ = hrv_records(0.99)
    assert "hrv-down" not in codes(report(below, rules))


# Without wellness data nothing changes.


def test_without_wellness_data_the_report_is_unchanged() -> None:
    plain = report([])
    assert plain.wellness is None
    assert to_text(plain) == to_text(report([]))
    assert "sleep" not in to_text(plain, width=80).lower()
    assert "wellness" not in to_dict(plain)
    # Records far outside the report's reach are no data for it either.
    far = report([csv(date(2020, 1, 1), sleep=4.0, resting_hr=90, hrv_ms=10)])
    assert far.wellness is None and to_text(far) == to_text(plain)


# today.


JUDGED_DAY = day(9)


def today_with(records: list[WellnessRecord], d: date = JUDGED_DAY) -> Today:
    acts = [*training(), activity(Category.RUN, day(8), 40)]
    timeline = zone_timeline(athlete=ATHLETE, zones=ZONES, watch=(), strava_bounds=None,
                             peaks=None)  # fmt: skip
    facts = activity_facts(acts, timeline, RULES)
    return today(facts, d, RULES, SeasonSettings(), wellness=records)


def test_today_sleep_over_the_last_three_nights() -> None:
    d = day(9)
    short = today_with([csv(d - timedelta(days=2), sleep=6.5), csv(d, sleep=7.49)])
    (cause,) = [c for c in short.causes if c.cause == 10]
    assert cause.code == "short-sleep" and cause.evidence["nights"] == 2
    text = today_text(short)
    assert "[cause 10: Sleep deprivation]" in text and "2 of 3 recorded" in text
    at = today_with([csv(d - timedelta(days=1), sleep=6.5), csv(d, sleep=7.5)])
    assert all(c.cause != 10 for c in at.causes)  # exactly 7.0 h
    # One night is too few: not judged, said once; a night 3 days back is outside.
    one = today_with([csv(d, sleep=4.0), csv(d - timedelta(days=3), sleep=4.0)])
    assert all(c.cause != 10 for c in one.causes)
    assert [n.code for n in one.notes] == ["wellness-not-judged"]
    assert "sleep (cause 10) not judged: 1 night recorded" in today_text(one)


def test_today_resting_hr_is_d7_to_d1_against_d60_to_d8() -> None:
    d = day(9)
    base = [csv(d - timedelta(days=n), resting_hr=48.0) for n in range(8, 61)]
    recent = [csv(d - timedelta(days=n), resting_hr=53.0) for n in range(1, 8)]
    up = today_with(base + recent)
    (cause,) = [c for c in up.causes if c.cause == 1]
    assert [s.code for s in cause.signals] == ["resting-hr-up"]
    assert cause.evidence["baseline_days"] == 53
    assert cause.evidence["baseline_to"] == (d - timedelta(days=8)).isoformat()
    assert today_dict(up)["causes"][0]["code"] == "resting-hr-up"
    # D's own morning is not in the window: a high value on D changes nothing.
    calm = today_with(base + [csv(d - timedelta(days=n), resting_hr=52.9) for n in range(1, 8)]
                      + [csv(d, resting_hr=90.0)])  # fmt: skip
    assert all(c.cause != 1 for c in calm.causes)


def test_today_without_wellness_data_says_nothing_of_it() -> None:
    plain = today_with([])
    assert plain.notes == () and all(c.cause != 10 for c in plain.causes)
    assert plain.judged == ()
    assert "sleep" not in today_text(plain).split("look at")[0]


def test_today_says_which_measures_were_judged_fine() -> None:
    d = JUDGED_DAY
    fine = today_with([csv(d - timedelta(days=n), sleep=7.5) for n in range(3)])
    assert fine.judged == ("sleep",)
    assert fine.causes == []
    text = today_text(fine)
    assert "Your sleep is within its limit too." in text
    assert "  - sleep" not in text and "  - hydration" in text


# Settings.


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("min_sleep_hours = -1", "must be a positive number"),
        ("min_sleep_hours = 0", "must be a positive number"),
        ("max_resting_hr_rise = 'five'", "must be a positive number"),
        ("min_sleep_nights_today = 4", "must not exceed sleep_nights_today"),
        ("min_sleep_nights_week = 8", "must be from 1 to 7"),
        ("min_hrv_baseline_nights = 60", "must not exceed the baseline's 53 days"),
        ("baseline_last_day = 70", "must not exceed baseline_first_day"),
        ("min_resting_hr_days = 8", "must not exceed the recent window's 7 days"),
        ("min_hrv_nights = 5\nbaseline_last_day = 5", "must not exceed the recent window's 4"),
        ("hrv_drop_sd = 0", "must be a positive number"),
    ],
)
def test_wellness_settings_are_checked_on_load(tmp_path: object, toml: str, words: str) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    path = tmp_path / "config.toml"
    path.write_text(f"[rules]\n{toml}\n")
    with pytest.raises(ConfigError, match=words):
        load_settings(config=path, db=tmp_path / "db.sqlite", env={})


def test_the_defaults_are_the_issues() -> None:
    r = RuleSettings()
    assert (r.min_sleep_hours, r.max_resting_hr_rise, r.hrv_drop_sd) == (7.0, 5.0, 1.0)
    assert (r.min_sleep_nights_today, r.min_sleep_nights_week) == (2, 4)
    assert (r.min_resting_hr_days, r.min_resting_hr_baseline_days) == (4, 14)
    assert (r.min_hrv_nights, r.min_hrv_baseline_nights) == (3, 14)
    assert (r.baseline_first_day, r.baseline_last_day) == (60, 8)


def test_each_wellness_finding_names_its_nights_and_days() -> None:
    analysis = report(nights({0: 6.5, 1: 7.5, 2: 6.8, 3: 7.2, 4: 7.0, 5: 7.0, 6: 6.9}))
    text = to_text(analysis, width=80)
    assert "nights (h asleep): Mon 02 Mar 6.5; Tue 03 Mar 7.5;" in text
    up = to_text(report(resting(48.0, 53.0)), width=80)
    assert "resting heart rate (bpm): Mon 02 Mar 53; " in up
    assert "Training monotony that week" in " ".join(up.split())


@st.composite
def wellness_histories(draw: st.DrawFn) -> list[WellnessRecord]:
    """Any days from 80 days before the judged week to its end, any values a person has
    (sleep 0-20 h, resting HR 25-120 bpm, HRV 5-300 ms), any missing."""
    records = []
    for n in draw(st.lists(st.integers(-80, 6), unique=True, max_size=90)):
        sleep = draw(st.none() | st.floats(0, 20))
        rhr = draw(st.none() | st.floats(25, 120))
        hrv = draw(st.none() | st.floats(5, 300))
        values = {"sleep": sleep, "resting_hr": rhr, "hrv_ms": hrv}
        records.append(csv(day(n), **{k: v for k, v in values.items() if v is not None}))
    return records


@settings(max_examples=60, deadline=None)
@given(wellness_histories())
def test_any_wellness_history_gives_a_report_and_an_answer(
    records: list[WellnessRecord],
) -> None:
    analysis = report(records)
    text = to_text(analysis, width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    data = to_dict(analysis)
    for finding in data["findings"]:
        assert finding["message"] and finding["fix"]
    answer = today_with(records, day(7))
    today_text(answer)
    today_dict(answer)
