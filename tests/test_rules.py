"""The four checks on hand-built weeks, edges included (thresholds, DST, midnight, gaps)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from heavylegs_sync.analysis import Analysis, analyse
from heavylegs_sync.config import AthleteSettings, RuleSettings, SeasonSettings, ZoneSettings
from heavylegs_sync.model import Activity, Category, OffsetSource, Samples, StrengthSet
from heavylegs_sync.report.findings import finding_message

BERLIN = ZoneInfo("Europe/Berlin")
EASY, HARD = 140.0, 170.0  # with max HR 190 (hrmax): zone 2 and zone 4
MONDAY = date(2026, 1, 5)
_ids = itertools.count(1)


def at(day: date, hhmm: str = "07:00", zone: ZoneInfo = BERLIN) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def activity(
    category: Category,
    start: datetime,
    minutes: float,
    *,
    hard_minutes: float = 0.0,
    hr: bool = True,
    step: float | list[float] = 1.0,
    sets: list[StrengthSet] | None = None,
) -> Activity:
    """An activity starting at a local time; HR hard for the first ``hard_minutes``."""
    seconds = minutes * 60
    if isinstance(step, list):
        t = np.concatenate(([0.0], np.cumsum(np.resize(step, int(seconds)))))
        t = t[t <= seconds]
    else:
        t = np.arange(0.0, seconds + step / 2, step)
    heart = np.where(t < hard_minutes * 60, HARD, EASY)
    offset = start.utcoffset()
    assert offset is not None
    return Activity(
        id=next(_ids),
        source="fit",
        source_id=str(next(_ids)),
        category=category,
        start_utc=start.astimezone(ZoneInfo("UTC")),
        utc_offset_s=int(offset.total_seconds()),
        offset_source=OffsetSource.DEVICE,
        timer_s=seconds,
        elapsed_s=seconds,
        distance_m=seconds * 3.0 if category is Category.RUN else None,
        samples=Samples(t=t, hr=heart if hr else None, distance=t * 3.0),
        sets=sets or [],
    )


def run(day: date, minutes: float = 40, hhmm: str = "07:00", **kw: object) -> Activity:
    return activity(Category.RUN, at(day, hhmm), minutes, **kw)  # type: ignore[arg-type]


def strength(day: date, hhmm: str = "18:00", *, legs: bool = False) -> Activity:
    names = (
        ["squat", "lunge", "deadlift", "calf_raise"] if legs else ["bench_press", "row", "plank"]
    )
    return activity(
        Category.STRENGTH,
        at(day, hhmm),
        40,
        sets=[StrengthSet(i, names[i % len(names)], 10) for i in range(12)],
    )


def light(day: date, hhmm: str = "19:00") -> Activity:
    return activity(Category.LIGHT, at(day, hhmm), 30)


def d(offset: int, base: date = MONDAY) -> date:
    return base + timedelta(days=offset)


def clean_week(base: date = MONDAY) -> list[Activity]:
    """Rest Monday (yoga), intervals Tue, easy+strength Wed, easy Thu, strength Fri,
    easy Sat, long Sun: no finding."""
    return [
        light(d(0, base)),
        run(d(1, base), 50, hard_minutes=12),
        run(d(2, base), 40),
        strength(d(2, base), "18:30"),
        run(d(3, base), 45),
        strength(d(4, base), "18:30"),
        run(d(5, base), 35),
        run(d(6, base), 95),
    ]


def report(
    activities: list[Activity],
    first: date = MONDAY,
    last: date | None = None,
    rules: RuleSettings | None = None,
    peak: tuple[tuple[date, date], ...] = (),
) -> Analysis:
    return analyse(
        activities,
        first=first,
        last=last or first + timedelta(days=6),
        athlete=AthleteSettings(max_hr=190, timezone="Europe/Berlin"),
        zones=ZoneSettings(method="hrmax"),
        rules=rules or RuleSettings(),
        season=SeasonSettings(peak=peak),
    )


def codes(analysis: Analysis) -> list[str]:
    return [f.code for f in analysis.findings]


def test_clean_week_has_no_finding_and_exact_numbers() -> None:
    analysis = report(clean_week())
    assert codes(analysis) == []
    (week,) = analysis.weeks
    assert week.run_seconds == (50 + 40 + 45 + 35 + 95) * 60
    assert week.hard_seconds == 12 * 60
    assert week.rest_days == 1 and week.rest_day_dates == (MONDAY,)
    assert week.strength_sessions == 2
    assert len(week.long_run_ids) == 1 and len(week.hard_run_ids) == 1
    assert week.hr_coverage == pytest.approx(1.0, abs=0.01)


# -- cause 1 ---------------------------------------------------------------------------


def test_no_rest_day() -> None:
    activities = [*clean_week(), run(d(0), 30)]
    analysis = report(activities)
    assert codes(analysis) == ["no-rest-day"]
    assert analysis.findings[0].cause == 1 and analysis.findings[0].week_start == MONDAY


def test_light_activity_keeps_a_rest_day() -> None:
    analysis = report([*clean_week(), light(d(0), "08:00")])
    assert analysis.weeks[0].rest_days == 1


def test_more_rest_days_required() -> None:
    analysis = report(clean_week(), rules=RuleSettings(min_rest_days=2))
    assert codes(analysis) == ["too-few-rest-days"]


def test_streak_exactly_at_limit_is_fine_one_more_is_flagged() -> None:
    # Tue..Sun of week 1 plus Monday of week 2: 7 days in a row, then a rest day.
    week1 = clean_week()
    seven = [*week1, run(d(7), 30)]
    analysis = report(seven, last=d(13))
    assert "too-many-days-without-rest" not in codes(analysis)
    eight = [*seven, run(d(8), 30)]
    analysis = report(eight, last=d(13))
    streak = [f for f in analysis.findings if f.code == "too-many-days-without-rest"]
    assert len(streak) == 1
    assert streak[0].date == d(8) and streak[0].week_start == d(7)


def test_streak_that_began_before_the_range_counts() -> None:
    earlier = [run(d(-6 + i), 30) for i in range(6)]  # Tue..Sun before MONDAY
    activities = [*earlier, run(d(0), 30), run(d(1), 30), run(d(2), 30)]
    analysis = report(activities)
    streak = [f for f in analysis.findings if f.code == "too-many-days-without-rest"]
    assert [f.date for f in streak] == [d(1)]


def test_run_after_midnight_belongs_to_the_local_day() -> None:
    # 00:30 Tuesday in Berlin is 23:30 Monday UTC: Monday stays a rest day.
    activities = [*clean_week()]
    activities[1] = run(d(1), 50, "00:30", hard_minutes=12)
    analysis = report(activities)
    assert analysis.weeks[0].rest_day_dates == (MONDAY,)
    assert codes(analysis) == []


def test_daylight_saving_changes_move_nothing() -> None:
    # Berlin: 29 Mar 2026 springs forward, 25 Oct 2026 falls back; both are Sundays.
    for sunday in (date(2026, 3, 29), date(2026, 10, 25)):
        base = sunday - timedelta(days=6)
        activities = clean_week(base)
        activities[-1] = run(sunday, 95, "02:30")  # a wall time that is odd on both days
        analysis = report(activities, first=base)
        assert analysis.weeks[0].run_seconds == (50 + 40 + 45 + 35 + 95) * 60
        assert codes(analysis) == []
        assert analysis.facts[-1].day == sunday


# -- cause 2 ---------------------------------------------------------------------------


def hard_share_week(hard_minutes: float, *, no_hr_minutes: float = 0) -> list[Activity]:
    """Four runs, 400 min in all with HR; ``hard_minutes`` of it hard."""
    runs = [
        run(d(1), 100, hard_minutes=hard_minutes),
        run(d(2), 100),
        run(d(4), 100),
        run(d(6), 100),
    ]
    if no_hr_minutes:
        runs.append(run(d(5), no_hr_minutes, hr=False))
    return [*runs, strength(d(3)), strength(d(3), "19:00")]


def test_hard_share_exactly_at_the_limit_is_fine() -> None:
    analysis = report(hard_share_week(80))  # 80 / 400 = 20%
    assert analysis.weeks[0].hard_share == pytest.approx(0.20)
    assert "too-much-hard" not in codes(analysis)


def test_hard_share_over_the_limit() -> None:
    analysis = report(hard_share_week(84))
    (finding,) = [f for f in analysis.findings if f.code == "too-much-hard"]
    assert finding.cause == 2
    assert finding.evidence["hard_share"] == pytest.approx(0.21)
    assert finding.evidence["hard_share_distance"] == pytest.approx(0.21, abs=0.01)


def test_runs_without_heart_rate_count_for_volume_only() -> None:
    # 400 min with HR + 260 min without: coverage 400/660 = 0.606 >= 0.6, still judged.
    analysis = report(hard_share_week(100, no_hr_minutes=260))
    week = analysis.weeks[0]
    assert week.hard_share == pytest.approx(0.25)
    assert week.hr_coverage == pytest.approx(400 / 660, abs=0.005)
    assert "too-much-hard" in codes(analysis)
    # 400 min with HR + 280 without: coverage 0.588 < 0.6, not judged.
    analysis = report(hard_share_week(100, no_hr_minutes=280))
    assert "too-much-hard" not in codes(analysis)


def test_smart_recording_counts_time_not_samples() -> None:
    irregular = run(d(1), 60, hard_minutes=20, step=[1.0, 7.0, 3.0, 5.0, 2.0])
    regular = run(d(1), 60, hard_minutes=20)
    a = report([irregular]).facts[0].zones
    b = report([regular]).facts[0].zones
    assert a.hard_seconds == pytest.approx(b.hard_seconds, abs=7)
    assert a.hard_seconds == pytest.approx(1200, abs=7)


def test_pauses_count_as_no_data() -> None:
    paused = run(d(1), 30)
    samples = paused.samples
    assert samples is not None
    t = samples.t.copy()
    t[900:] += 600  # a 10-minute pause after 15 minutes
    paused.samples = replace(samples, t=t)
    zones = report([paused]).facts[0].zones
    assert zones.hr_seconds == pytest.approx(1799, abs=1)


# -- hard and long runs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "hard", "expected"),
    [(50, 10, True), (50, 9.9, False), (30, 7.5, True), (30, 7.4, False)],
)
def test_hard_run_threshold(minutes: float, hard: float, expected: bool) -> None:
    facts = report([run(d(1), minutes, hard_minutes=hard)]).facts
    assert facts[0].hard is expected


def test_long_run_by_duration_and_by_week_context() -> None:
    week = report([run(d(1), 40), run(d(3), 40), run(d(6), 75)]).weeks[0]
    assert len(week.long_run_ids) == 1
    week = report([run(d(1), 40), run(d(3), 40), run(d(6), 65)]).weeks[0]
    assert len(week.long_run_ids) == 1  # 65 >= 60 and >= 1.5 x median 40
    week = report([run(d(1), 50), run(d(3), 50), run(d(6), 65)]).weeks[0]
    assert week.long_run_ids == ()  # 65 < 1.5 x 50


# -- causes 5 and 6: volume ---------------------------------------------------------------


def test_strength_volume_off_season_and_peak() -> None:
    base = clean_week()
    one = [a for a in base if a.category is not Category.STRENGTH] + [strength(d(2), "18:30")]
    assert codes(report(one)) == ["too-little-strength"]
    assert codes(report(one, peak=((MONDAY, d(6)),))) == []
    none = [a for a in base if a.category is not Category.STRENGTH]
    assert codes(report(none, peak=((MONDAY, d(6)),))) == ["too-little-strength"]
    four = [*base, strength(d(3), "18:30"), strength(d(5), "18:30")]
    assert "too-much-strength" in codes(report(four))
    three = [*base, strength(d(3), "18:30")]
    assert "too-much-strength" not in codes(report(three))
    assert "too-much-strength" in codes(report(three, peak=((MONDAY, d(6)),)))


# -- cause 6: timing ---------------------------------------------------------------------


def timing(activities: list[Activity]) -> list[str]:
    return [f.code for f in report(activities).findings if f.cause == 6]


def test_strength_the_day_before_a_long_run() -> None:
    week = [*clean_week(), strength(d(5), "18:00", legs=True)]
    week = [a for a in week if not (a.category is Category.STRENGTH and a.start_local.day == 9)]
    analysis = report(week)
    (finding,) = [f for f in analysis.findings if f.code == "strength-before-long-run"]
    assert finding.date == d(5)
    assert finding.evidence["leg_heavy"] is True
    assert "leg-heavy" in finding_message(finding)


def test_strength_the_day_before_a_hard_run() -> None:
    week = [a for a in clean_week() if a.category is not Category.STRENGTH]
    week += [strength(d(0), "18:00"), strength(d(4), "18:30")]
    assert timing(week) == ["strength-before-hard-run"]


def test_strength_same_day_as_hard_run_in_either_order() -> None:
    for hhmm in ("06:00", "18:00"):
        week = [a for a in clean_week() if a.category is not Category.STRENGTH]
        week += [strength(d(1), hhmm), strength(d(4), "18:30")]
        assert timing(week) == ["strength-same-day-hard"]


def test_strength_same_day_as_long_run() -> None:
    week = [a for a in clean_week() if a.category is not Category.STRENGTH]
    week += [strength(d(6), "18:00"), strength(d(4), "18:30")]
    assert timing(week) == ["strength-same-day-long"]


def test_strength_before_an_easy_run_is_flagged_after_is_not() -> None:
    week = [a for a in clean_week() if a.category is not Category.STRENGTH]
    before = [*week, strength(d(2), "06:00"), strength(d(4), "18:30")]
    assert timing(before) == ["strength-before-easy-run"]
    after = [*week, strength(d(2), "18:00"), strength(d(4), "18:30")]
    assert timing(after) == []


# -- what is not judged ------------------------------------------------------------------


def test_partial_and_empty_weeks_are_reported_not_flagged() -> None:
    # The range ends on Wednesday: the week is partial.
    week = [run(d(0), 50, hard_minutes=40), strength(d(1), "18:00"), run(d(2), 50)]
    analysis = report(week, last=d(2))
    (summary,) = analysis.weeks
    assert not summary.complete and summary.days_in_range == 3
    assert codes(analysis) == []
    # An empty complete week: reported, no finding.
    analysis = report([], first=MONDAY, last=d(6))
    assert len(analysis.weeks) == 1 and codes(analysis) == []


def test_multisport_legs_count_by_category() -> None:
    run_leg = run(d(1), 20)
    ride_leg = activity(Category.CROSS, at(d(1), "07:21"), 30)
    analysis = report([*clean_week(), run_leg, ride_leg])
    week = analysis.weeks[0]
    assert week.run_seconds == (50 + 40 + 45 + 35 + 95 + 20) * 60
    assert ride_leg.id in week.activity_ids and ride_leg.id not in week.run_ids


def test_strength_volume_is_judged_only_in_weeks_with_running() -> None:
    # A week of rides only: no run, so neither too little nor too much strength.
    rides = [activity(Category.CROSS, at(d(i), "07:00"), 60) for i in range(1, 6)]
    assert codes(report(rides)) == []
    lifting = [*rides, *(strength(d(i), "18:30") for i in range(1, 6))]
    assert codes(report(lifting)) == []
    # One run in the week: strength is judged again.
    assert "too-little-strength" in codes(report([*rides, run(d(6), 40)]))
