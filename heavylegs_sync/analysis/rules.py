"""The four training causes of heavy legs (1, 2, 5, 6) as findings with evidence and a fix.

Pure: week summaries, activity facts and settings in, findings out. Each finding names
the week it belongs to (the Monday), the activities that show it and the numbers; the
sentences and fixes are :mod:`heavylegs_sync.report.findings`'s.
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


@dataclass(frozen=True)
class Finding:
    """One thing wrong, in one week, with what shows it: codes and numbers.

    ``evidence`` is what the JSON report shows; ``values`` holds the further numbers
    (unrounded) and labels its sentence needs.
    """

    cause: int  # 1, 2, 5, 6, or 10 (sleep: analysis/body.py)
    code: str
    week_start: date
    date: date | None
    activities: tuple[int, ...]
    evidence: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


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
    return [
        Finding(
            cause=1,
            code=code,
            week_start=week.week_start,
            date=None,
            activities=week.activity_ids,
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
    return [
        Finding(
            cause=2,
            code="too-much-hard",
            week_start=week.week_start,
            date=None,
            activities=week.hard_run_ids or week.run_ids,
            evidence={
                "hard_share": round(share, 3),
                "hard_share_distance": None if by_distance is None else round(by_distance, 3),
                "hr_coverage": round(coverage, 3),
            },
            values={
                "share": share,
                "by_distance": by_distance,
                "hard_seconds": week.hard_seconds,
                "easy_seconds": week.easy_seconds,
                "hard_runs": len(week.hard_run_ids),
                "limit": rules.max_hard_share,
            },
        )
    ]


def _strength_volume(week: WeekSummary, rules: RuleSettings) -> list[Finding]:
    """Causes 5 and 6: too few or too many strength sessions for the season."""
    peak = week.season == "peak"
    low = rules.min_strength_peak if peak else rules.min_strength_off_season
    high = rules.max_strength_peak if peak else rules.max_strength_off_season
    count = week.strength_sessions
    if count < low:
        return [
            Finding(
                cause=5,
                code="too-little-strength",
                week_start=week.week_start,
                date=None,
                activities=week.strength_ids,
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
                findings.append(_timing(code, week, session, run, kind, evidence))
        for run in runs_by_day.get(session.day, []):
            kind = _kind(run, long_ids)
            if kind:
                code = "strength-same-day-hard" if run.hard else "strength-same-day-long"
                findings.append(_timing(code, week, session, run, kind, evidence))
            elif session.start_local < run.start_local:
                findings.append(
                    _timing("strength-before-easy-run", week, session, run, "", evidence)
                )
    return findings


def _kind(run: ActivityFacts, long_ids: set[int]) -> str:
    """'hard, long run', 'hard run', 'long run' or '' for an easy run (a label the
    sentence quotes)."""
    parts = [p for p, yes in (("hard", run.hard), ("long", run.id in long_ids)) if yes]
    return ", ".join(parts) + " run" if parts else ""


def _timing(
    code: str,
    week: WeekSummary,
    session: ActivityFacts,
    run: ActivityFacts,
    kind: str,
    evidence: dict[str, Any],
) -> Finding:
    return Finding(
        cause=6,
        code=code,
        week_start=week.week_start,
        date=session.day,
        activities=(session.id, run.id),
        evidence=dict(evidence),
        values={
            "kind": kind,
            "sets": session.sets,
            "session_start": session.start_local,
            "run_start": run.start_local,
            "run_label": run.label,
        },
    )
