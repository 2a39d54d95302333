"""The four training causes of heavy legs (1, 2, 5, 6) as findings with evidence and a fix.

Pure: week summaries, activity facts and settings in, findings out. Each finding names
the week it belongs to (the Monday), the activities that show it and the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.analysis.weeks import WeekSummary, monday, streak_breaches
from heavylegs_sync.config import RuleSettings
from heavylegs_sync.model import Category
from heavylegs_sync.words import counted, plural


@dataclass(frozen=True)
class Finding:
    """One thing wrong, in one week, with what shows it and what to do."""

    cause: int  # 1, 2, 5 or 6
    code: str
    week_start: date
    date: date | None
    activities: tuple[int, ...]
    message: str
    fix: str
    evidence: dict[str, Any] = field(default_factory=dict)


def find(
    weeks: Sequence[WeekSummary],
    facts: Sequence[ActivityFacts],
    rules: RuleSettings,
    first: date,
    last: date,
    *,
    long_run_ids: set[int] | None = None,
) -> list[Finding]:
    """Every finding in the reported weeks, ordered by week, cause and day.

    ``facts`` may reach past ``last`` (strength on the last day is judged against the next
    day's run); ``long_run_ids`` are the long runs judged on whole weeks, default those of
    ``weeks``.
    """
    by_week = {w.week_start: w for w in weeks}
    findings: list[Finding] = []
    for week in weeks:
        findings.extend(_recovery(week, rules))
        if week.flaggable:
            findings.extend(_speed(week, rules))
            if week.run_ids:  # strength is judged alongside running, not on its own
                findings.extend(_strength_volume(week, rules))
    findings.extend(_streaks(facts, by_week, rules, first, last))
    if long_run_ids is None:
        long_run_ids = {i for w in weeks for i in w.long_run_ids}
    findings.extend(_strength_timing(facts, by_week, long_run_ids))
    findings.sort(key=lambda f: (f.week_start, f.cause, f.date or f.week_start, f.code))
    return findings


def _recovery(week: WeekSummary, rules: RuleSettings) -> list[Finding]:
    """Cause 1: too few full rest days in a complete week."""
    if not week.complete or week.rest_days >= rules.min_rest_days:
        return []
    need = rules.min_rest_days
    code = "no-rest-day" if week.rest_days == 0 else "too-few-rest-days"
    days = "no rest day" if week.rest_days == 0 else f"only {plural(week.rest_days, 'rest day')}"
    return [
        Finding(
            cause=1,
            code=code,
            week_start=week.week_start,
            date=None,
            activities=week.activity_ids,
            message=(
                f"Week of {week.week_start}: {days} — you trained on "
                f"{7 - week.rest_days} of 7 days"
                f" ({plural(len(week.activity_ids), 'activity', 'activities')})."
            ),
            fix=(
                f"Take at least {need} full rest day{'s' if need > 1 else ''} every week: no"
                " running, strength or cross-training; an easy walk, yoga or stretching is"
                " fine. Legs get stronger while they rest, not while they work."
            ),
            evidence={"rest_days": week.rest_days, "min_rest_days": need},
        )
    ]


def _streaks(
    facts: Sequence[ActivityFacts],
    by_week: dict[date, WeekSummary],
    rules: RuleSettings,
    first: date,
    last: date,
) -> list[Finding]:
    """Cause 1: more consecutive training days than allowed, in the week it first happens."""
    limit = rules.max_days_without_rest
    findings = []
    for day, began in streak_breaches(facts, first, last, limit):
        week_start = monday(day)
        if week_start not in by_week:
            continue
        ids = tuple(f.id for f in facts if began <= f.day <= day)
        findings.append(
            Finding(
                cause=1,
                code="too-many-days-without-rest",
                week_start=week_start,
                date=day,
                activities=ids,
                message=(
                    f"{day:%a %Y-%m-%d} was training day {limit + 1} in a row without a rest"
                    f" day (since {began:%a %Y-%m-%d}); the limit is {limit}."
                ),
                fix=(
                    f"Break up long stretches: rest at least once every {limit} days, even"
                    " in a big training block."
                ),
                evidence={"streak_start": began.isoformat(), "limit": limit},
            )
        )
    return findings


def _speed(week: WeekSummary, rules: RuleSettings) -> list[Finding]:
    """Cause 2: more than about 20% of the week's running in hard zones (80/20)."""
    share = week.hard_share
    coverage = week.hr_coverage
    if share is None or coverage is None or coverage < rules.min_hr_coverage:
        return []
    if share <= rules.max_hard_share:
        return []
    by_distance = week.hard_share_distance
    distance_text = f", {by_distance:.0%} by distance" if by_distance is not None else ""
    return [
        Finding(
            cause=2,
            code="too-much-hard",
            week_start=week.week_start,
            date=None,
            activities=week.hard_run_ids or week.run_ids,
            message=(
                f"Week of {week.week_start}: {share:.0%} of running time with heart rate was"
                f" in zones 3-5 ({week.hard_seconds / 60:.0f} of"
                f" {(week.easy_seconds + week.hard_seconds) / 60:.0f} min{distance_text});"
                f" the limit is {rules.max_hard_share:.0%}. Hard runs:"
                f" {len(week.hard_run_ids)}."
            ),
            fix=(
                "Keep about 80% of your running easy (zones 1-2, a pace you can talk at)"
                " and limit hard sessions to one or two a week."
            ),
            evidence={
                "hard_share": round(share, 3),
                "hard_share_distance": None if by_distance is None else round(by_distance, 3),
                "hr_coverage": round(coverage, 3),
            },
        )
    ]


def _strength_volume(week: WeekSummary, rules: RuleSettings) -> list[Finding]:
    """Causes 5 and 6: too few or too many strength sessions for the season."""
    peak = week.season == "peak"
    low = rules.min_strength_peak if peak else rules.min_strength_off_season
    high = rules.max_strength_peak if peak else rules.max_strength_off_season
    count = week.strength_sessions
    season = "peak" if peak else "off-season"
    if count < low:
        return [
            Finding(
                cause=5,
                code="too-little-strength",
                week_start=week.week_start,
                date=None,
                activities=week.strength_ids,
                message=(
                    f"Week of {week.week_start} ({season}):"
                    f" {counted(count, 'strength session')}; at least {low}"
                    f" {'is' if low == 1 else 'are'} needed."
                ),
                fix=(
                    f"Do {low} short strength session{'s' if low > 1 else ''} a week (squats,"
                    " lunges, calf raises, core), after an easy run: strong legs tire later."
                ),
                evidence={"strength_sessions": count, "min": low, "season": week.season},
            )
        ]
    if count > high:
        return [
            Finding(
                cause=6,
                code="too-much-strength",
                week_start=week.week_start,
                date=None,
                activities=week.strength_ids,
                message=(
                    f"Week of {week.week_start} ({season}): {count} strength sessions;"
                    f" at most {high} fit alongside the running."
                ),
                fix=(
                    f"Cut back to {high} strength session{'s' if high > 1 else ''} a week"
                    f"{' while training peaks' if peak else ''}, so your legs recover"
                    " between runs."
                ),
                evidence={"strength_sessions": count, "max": high, "season": week.season},
            )
        ]
    return []


def _strength_timing(
    facts: Sequence[ActivityFacts], by_week: dict[date, WeekSummary], long_ids: set[int]
) -> list[Finding]:
    """Cause 6: strength the day before, or on the day of, a long or hard run, or before an
    easy run on the same day. Strength after an easy run is the recommended slot."""
    runs_by_day: dict[date, list[ActivityFacts]] = {}
    for f in facts:
        if f.category is Category.RUN:
            runs_by_day.setdefault(f.day, []).append(f)
    findings = []
    for session in facts:
        if session.category is not Category.STRENGTH:
            continue
        week = by_week.get(monday(session.day))
        if week is None or not week.flaggable:
            continue
        legs = (
            f" (leg-heavy: {session.leg_sets} of {session.sets} sets)" if session.leg_heavy else ""
        )
        evidence: dict[str, Any] = {"leg_heavy": session.leg_heavy, "leg_sets": session.leg_sets}
        # How heavy the session was, where a Strava export said (heavy ones tire legs).
        if session.perceived_exertion is not None:
            evidence["perceived_exertion"] = session.perceived_exertion
        if session.weight_lifted_kg is not None:
            evidence["weight_lifted_kg"] = session.weight_lifted_kg
        for run in runs_by_day.get(session.day + timedelta(days=1), []):
            kind = _kind(run, long_ids)
            if kind:
                code = (
                    "strength-before-long-run" if run.id in long_ids else "strength-before-hard-run"
                )
                findings.append(
                    _timing(
                        code,
                        week,
                        session,
                        run,
                        f"Strength on {session.day:%a %Y-%m-%d}{legs} the day before a {kind}"
                        f" ({run.label}, {run.day:%a}).",
                        "Move strength away from the day before a long or hard run — best"
                        " straight after an easy run, two or more days before it — so you"
                        " start the key run on fresh legs.",
                        evidence,
                    )
                )
        for run in runs_by_day.get(session.day, []):
            kind = _kind(run, long_ids)
            if kind:
                code = "strength-same-day-hard" if run.hard else "strength-same-day-long"
                findings.append(
                    _timing(
                        code,
                        week,
                        session,
                        run,
                        f"Strength on {session.day:%a %Y-%m-%d}{legs} on the same day as a"
                        f" {kind} ({run.label}).",
                        "Put strength on an easy-run day instead, after the run, so the key"
                        " run and the strength work do not compete for the same legs.",
                        evidence,
                    )
                )
            elif session.start_local < run.start_local:
                findings.append(
                    _timing(
                        "strength-before-easy-run",
                        week,
                        session,
                        run,
                        f"Strength at {session.start_local:%H:%M} on"
                        f" {session.day:%a %Y-%m-%d}{legs} before an easy run at"
                        f" {run.start_local:%H:%M} ({run.label}).",
                        "Run first, then lift: strength straight after an easy run is the"
                        " recommended slot; lifting first sends tired legs out running.",
                        evidence,
                    )
                )
    return findings


def _kind(run: ActivityFacts, long_ids: set[int]) -> str:
    """'hard, long run', 'hard run', 'long run' or '' for an easy run."""
    parts = [p for p, yes in (("hard", run.hard), ("long", run.id in long_ids)) if yes]
    return ", ".join(parts) + " run" if parts else ""


def _timing(
    code: str,
    week: WeekSummary,
    session: ActivityFacts,
    run: ActivityFacts,
    message: str,
    fix: str,
    evidence: dict[str, Any],
) -> Finding:
    return Finding(
        cause=6,
        code=code,
        week_start=week.week_start,
        date=session.day,
        activities=(session.id, run.id),
        message=message,
        fix=fix,
        evidence=dict(evidence),
    )
