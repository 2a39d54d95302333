"""Sleep, resting heart rate and HRV as facts: cause 10 (sleep deprivation) and cause 1's
two body signals, ``resting-hr-up`` and ``hrv-down``.

Pure: the merged wellness days (one value a day and measure, from
:func:`heavylegs_sync.wellness.merge_days`), activity facts, settings and explicit dates
in; codes, numbers and days out (the words are :mod:`heavylegs_sync.report`'s).
docs/wellness.md gives the science and docs/rules.md every threshold.

A night belongs to its wake date. The recent window of a body signal is D-7..D-1 for
``today`` (the days after the baseline up to D-1) and the week itself in the report; its
baseline is D-60..D-8, or the 60 days before the week. Resting HR is judged on the mean
against the baseline's median (a few ill days do not move a median); HRV on the mean of
ln(HRV) against the baseline's mean and standard deviation of ln(HRV) (Plews et al.).
Each window's check is :mod:`.body_checks`'s, which ``today`` shares.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from heavylegs_sync.analysis.body_checks import (
    EPS,
    HOUR,
    HRV,
    RESTING_HR,
    SLEEP,
    SignalCheck,
    SleepCheck,
    days_back,
    has_any,
    hrv_check,
    recorded_values,
    resting_hr_check,
    signal_evidence,
    sleep_check,
    span,
    today_windows,
)
from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.analysis.rules import Finding
from heavylegs_sync.analysis.weekload import WeekLoad
from heavylegs_sync.analysis.weeks import WeekSummary
from heavylegs_sync.config import RuleSettings
from heavylegs_sync.model import Category
from heavylegs_sync.wellness import WellnessDay


def week_windows(
    week_start: date, rules: RuleSettings
) -> tuple[tuple[date, date], tuple[date, date]]:
    """A week's recent window (Monday to Sunday) and baseline (the 60 days before it)."""
    recent = (week_start, week_start + timedelta(days=6))
    baseline = (days_back(week_start, rules.baseline_first_day), days_back(week_start, 1))
    return recent, baseline


@dataclass(frozen=True)
class ShortNightRun:
    """A hard or long run on a day whose night (ending that morning) was short."""

    id: int
    day: date
    hours: float
    kind: str  # "hard", "long" or "hard, long"


@dataclass(frozen=True)
class WellnessWeek:
    """One complete week's sleep, resting HR and HRV, and the load figures beside them."""

    week_start: date
    sleep: SleepCheck
    resting_hr: SignalCheck
    hrv: SignalCheck
    short_night_runs: tuple[ShortNightRun, ...]
    key_runs: int  # the week's hard or long runs
    load: WeekLoad | None

    @property
    def strain(self) -> float | None:
        """Foster's strain: the week's load times its monotony."""
        load = self.load
        if load is None or load.monotony is None:
            return None
        return load.load * load.monotony


@dataclass(frozen=True)
class NotJudged:
    """A rule that had data but too little of it, said once: the weeks (report) or the
    window (``today``) it could not judge."""

    measure: str  # SLEEP, RESTING_HR or HRV
    weeks: tuple[date, ...]
    needed: int
    baseline_needed: int | None = None


@dataclass(frozen=True)
class Wellness:
    """The wellness part of a report: each complete week, the days for the charts, and
    what could not be judged. Only made where some wellness data exists."""

    days: dict[date, WellnessDay]
    weeks: list[WellnessWeek]
    not_judged: list[NotJudged] = field(default_factory=list)
    measures: tuple[str, ...] = ()  # the measures any day of the report's reach records


def short_night_runs(
    days: Mapping[date, WellnessDay],
    runs: Sequence[ActivityFacts],
    long_ids: set[int],
    rules: RuleSettings,
) -> tuple[ShortNightRun, ...]:
    """The hard or long runs whose day began after a night shorter than the limit."""
    result = []
    for run in runs:
        long = run.id in long_ids
        if run.category is not Category.RUN or not (run.hard or long):
            continue
        night = days.get(run.day)
        if night is None or not night.sleep_s:
            continue  # not recorded, or a watch not worn (no time asleep at all)
        hours = night.sleep_s / HOUR
        if hours < rules.min_sleep_hours - EPS:
            kind = ", ".join(k for k, yes in (("hard", run.hard), ("long", long)) if yes)
            result.append(ShortNightRun(run.id, run.day, hours, kind))
    return tuple(result)


def wellness_weeks(
    days: Mapping[date, WellnessDay],
    weeks: Sequence[WeekSummary],
    facts: Sequence[ActivityFacts],
    long_ids: set[int],
    loads: Sequence[WeekLoad],
    rules: RuleSettings,
) -> Wellness:
    """Every complete week's sleep and body signals, and the rules too thin to judge
    (only measures recorded somewhere in the report's reach are named)."""
    complete = [w for w in weeks if w.complete]
    by_load = {w.week_start: w for w in loads}
    result = []
    for week in complete:
        recent, baseline = week_windows(week.week_start, rules)
        runs = [f for f in facts if f.category is Category.RUN and recent[0] <= f.day <= recent[1]]
        key = [r for r in runs if r.hard or r.id in long_ids]
        result.append(
            WellnessWeek(
                week.week_start,
                sleep_check(days, *recent, rules.min_sleep_nights_week, rules),
                resting_hr_check(days, recent, baseline, rules),
                hrv_check(days, recent, baseline, rules),
                short_night_runs(days, runs, long_ids, rules),
                len(key),
                by_load.get(week.week_start),
            )
        )
    if weeks:
        reach = (days_back(weeks[0].week_start, rules.baseline_first_day), weeks[-1].week_start
                 + timedelta(days=6))  # fmt: skip
        measures = tuple(m for m in (SLEEP, RESTING_HR, HRV) if has_any(days, *reach, m))
    else:
        measures = ()
    gaps = []
    for measure in measures:
        if measure == SLEEP:
            thin = tuple(
                w.week_start
                for w in result
                if not w.sleep.judged and len(w.short_night_runs) < rules.min_short_night_key_runs
            )
            need, base = rules.min_sleep_nights_week, None
        else:
            thin = tuple(w.week_start for w in result if not _check(w, measure).judged)
            need, base = (
                (rules.min_resting_hr_days, rules.min_resting_hr_baseline_days)
                if measure == RESTING_HR
                else (rules.min_hrv_nights, rules.min_hrv_baseline_nights)
            )
        if thin:
            gaps.append(NotJudged(measure, thin, need, base))
    return Wellness(dict(days), result, gaps, measures)


def _check(week: WellnessWeek, measure: str) -> SignalCheck:
    return week.resting_hr if measure == RESTING_HR else week.hrv


def wellness_findings(wellness: Wellness, rules: RuleSettings) -> list[Finding]:
    """Cause 10 and cause 1's body signals in each complete week."""
    findings: list[Finding] = []
    for w in wellness.weeks:
        sleep = w.sleep
        short_runs = w.short_night_runs
        by_runs = len(short_runs) >= rules.min_short_night_key_runs
        if sleep.short or by_runs:
            mean = sleep.mean
            evidence: dict[str, Any] = {
                "sleep_hours": None if mean is None else round(mean, 2),
                "nights": sleep.recorded,
                "min_nights": sleep.needed,
                "min_sleep_hours": rules.min_sleep_hours,
                "night_hours": {d.isoformat(): round(h, 2) for d, h in sleep.nights},
                "short_night_runs": [
                    {
                        "id": r.id,
                        "date": r.day.isoformat(),
                        "hours": round(r.hours, 2),
                        "kind": r.kind,
                    }
                    for r in short_runs
                ],
                "key_runs": w.key_runs,
            }
            findings.append(
                Finding(
                    cause=10,
                    code="short-sleep" if sleep.short else "short-sleep-before-key-runs",
                    week_start=w.week_start,
                    date=None,
                    activities=tuple(r.id for r in short_runs),
                    evidence=evidence,
                    values={
                        "mean": mean,
                        "runs": short_runs,
                        "min_runs": rules.min_short_night_key_runs,
                    },
                )
            )
        for check in (w.resting_hr, w.hrv):
            if check.fired:
                findings.append(_signal_finding(w, check, rules))
    return findings


def _signal_finding(w: WellnessWeek, check: SignalCheck, rules: RuleSettings) -> Finding:
    evidence = signal_evidence(check, rules)
    load = w.load
    evidence["monotony"] = None if load is None or load.monotony is None else round(
        load.monotony, 2)  # fmt: skip
    strain = w.strain
    evidence["strain"] = None if strain is None else round(strain, 1)
    return Finding(
        cause=1,
        code=check.code,
        week_start=w.week_start,
        date=None,
        activities=(),
        evidence=evidence,
        values={"check": check, "load": None if load is None else load.load, "strain": strain},
    )


@dataclass(frozen=True)
class DayBaseline:
    """A day's baselines as ``today`` judges it (D-60..D-8): the band its charts draw."""

    day: date
    resting_hr: float | None  # the median, bpm; None: too few days
    hrv_ln_mean: float | None  # the mean of ln HRV; None: too few nights
    hrv_ln_sd: float | None


def day_baselines(
    days: Mapping[date, WellnessDay], first: date, last: date, rules: RuleSettings
) -> list[DayBaseline]:
    """Each day's resting-HR and HRV baseline over [first, last] (the charts' band)."""
    result = []
    for day in span(first, last):
        _, (start, end) = today_windows(day, rules)
        rhr = [v for _, v in recorded_values(days, start, end, RESTING_HR)]
        logs = [math.log(v) for _, v in recorded_values(days, start, end, HRV)]
        enough_hrv = len(logs) >= max(rules.min_hrv_baseline_nights, 2)
        result.append(
            DayBaseline(
                day,
                statistics.median(rhr) if len(rhr) >= rules.min_resting_hr_baseline_days else None,
                statistics.fmean(logs) if enough_hrv else None,
                statistics.stdev(logs) if enough_hrv else None,
            )
        )
    return result
