"""Recurring findings as one grouped finding each, ranked by how much they matter.

A year of history can hold the same problem in forty weeks; a runner reads it once, with
the list of weeks and the numbers that show how bad it is. Pure: findings, week summaries
and settings in, groups out (numbers, no words: :mod:`heavylegs_sync.report.findings`
writes each group's title and headline). Text, JSON and HTML reports all show them.

How much a group matters (its ``score``, strongest first; documented in docs/report.md):

- each finding's *severity* says how far past its threshold it is: hard share over the
  limit (90% hard against 20% is 4.5), missing rest days or strength sessions (none at all
  is 2, half of them 1.5), a streak's length over the limit, strength sessions over the
  maximum; strength before a long or hard run 1.5 (before an easy run 1.0), times 1.2 when
  the session was leg-heavy;
- a group scores its worst severity times (1 + the share of weeks it affects), times 1.5
  when it shows in the latest judged week: a problem that is bad, frequent and current
  comes first.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from heavylegs_sync.analysis.rules import Finding
from heavylegs_sync.analysis.weeks import WeekSummary
from heavylegs_sync.config import RuleSettings

#: Severity of the strength-timing findings (see the module).
TIMING_SEVERITY = {"strength-before-easy-run": 1.0}
KEY_RUN_TIMING_SEVERITY = 1.5
LEG_HEAVY_FACTOR = 1.2
LATEST_WEEK_FACTOR = 1.5
#: Findings from sleep, resting HR and HRV (judged on every complete week).
WELLNESS_CODES = frozenset({"short-sleep", "short-sleep-before-key-runs", "resting-hr-up",
                            "hrv-down"})  # fmt: skip


@dataclass(frozen=True)
class FindingGroup:
    """One problem over the reported weeks: every finding of one code, oldest first."""

    cause: int
    code: str
    score: float
    weeks: tuple[date, ...]  # the Mondays of the weeks it shows in
    eligible_weeks: int  # weeks in which it could show
    findings: tuple[Finding, ...]
    in_latest_week: bool
    stats: dict[str, Any] = field(default_factory=dict)
    #: Which weeks could show it: "complete" weeks, "all" weeks, weeks with "running".
    unit: str = "running"

    @property
    def latest(self) -> Finding:
        """The most recent finding of the group."""
        return self.findings[-1]


def severity(finding: Finding, rules: RuleSettings) -> float:
    """How far past its threshold one finding is (1 = just past it)."""
    ev = finding.evidence
    code = finding.code
    if code == "too-much-hard":
        return float(ev.get("hard_share", 0.0)) / max(rules.max_hard_share, 0.01)
    if code in ("no-rest-day", "too-few-rest-days"):
        need = max(int(ev.get("min_rest_days", rules.min_rest_days)), 1)
        return 1.0 + (need - int(ev.get("rest_days", 0))) / need
    if code == "too-many-days-without-rest":
        return streak_length(finding) / max(rules.max_days_without_rest, 1)
    if code == "too-little-strength":
        low = max(int(ev.get("min", 1)), 1)
        return 1.0 + (low - int(ev.get("strength_sessions", 0))) / low
    if code == "too-much-strength":
        return int(ev.get("strength_sessions", 0)) / max(int(ev.get("max", 1)), 1)
    if code == "short-sleep":
        hours = float(ev.get("sleep_hours") or rules.min_sleep_hours)
        return rules.min_sleep_hours / max(hours, 0.5)
    if code == "short-sleep-before-key-runs":
        runs = len(ev.get("short_night_runs", []))
        return 1.0 + (runs - rules.min_short_night_key_runs) / max(
            rules.min_short_night_key_runs, 1
        )
    if code == "resting-hr-up":
        return float(ev.get("rise") or 0.0) / max(rules.max_resting_hr_rise, 0.1)
    if code == "hrv-down":
        if ev.get("drop_sd") is None:
            return 2.0  # below a baseline that never varied: no spread to measure it by
        return float(ev["drop_sd"]) / max(rules.hrv_drop_sd, 0.1)
    base = TIMING_SEVERITY.get(code, KEY_RUN_TIMING_SEVERITY)
    return base * (LEG_HEAVY_FACTOR if ev.get("leg_heavy") else 1.0)


def streak_length(finding: Finding) -> int:
    """Days of a streak finding (from its start to the day it broke the limit)."""
    began = finding.evidence.get("streak_start")
    if finding.date is None or not began:
        return 0
    return (finding.date - date.fromisoformat(began)).days + 1


def latest_judged_week(weeks: Sequence[WeekSummary]) -> WeekSummary | None:
    """The latest complete week (every cause is judged there), else the latest week."""
    complete = [w for w in weeks if w.complete]
    if complete:
        return complete[-1]
    return weeks[-1] if weeks else None


def group_findings(
    findings: Sequence[Finding], weeks: Sequence[WeekSummary], rules: RuleSettings
) -> list[FindingGroup]:
    """One group per finding code, strongest first (see the module for the score)."""
    latest = latest_judged_week(weeks)
    by_code: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: (f.week_start, f.date or f.week_start)):
        by_code.setdefault(f.code, []).append(f)
    groups = [_group(code, items, weeks, rules, latest) for code, items in by_code.items()]
    groups.sort(key=lambda g: (-g.score, g.cause, g.code))
    return groups


def _eligible(code: str, weeks: Sequence[WeekSummary]) -> tuple[int, str]:
    """How many weeks could show this problem, and which weeks those are (the unit)."""
    if code in ("no-rest-day", "too-few-rest-days"):
        return sum(1 for w in weeks if w.complete), "complete"
    if code == "too-many-days-without-rest":
        return len(weeks), "all"
    if code in WELLNESS_CODES:
        return sum(1 for w in weeks if w.complete), "complete"
    return sum(1 for w in weeks if w.flaggable and w.run_ids), "running"


def _group(
    code: str,
    items: list[Finding],
    weeks: Sequence[WeekSummary],
    rules: RuleSettings,
    latest: WeekSummary | None,
) -> FindingGroup:
    week_starts = tuple(sorted({f.week_start for f in items}))
    eligible, unit = _eligible(code, weeks)
    eligible = max(eligible, len(week_starts))
    severities = [severity(f, rules) for f in items]
    in_latest = latest is not None and latest.week_start in week_starts
    share = len(week_starts) / eligible if eligible else 1.0
    score = max(severities) * (1.0 + share) * (LATEST_WEEK_FACTOR if in_latest else 1.0)
    stats = _stats(code, items, rules)
    return FindingGroup(
        cause=items[0].cause,
        code=code,
        score=round(score, 3),
        weeks=week_starts,
        eligible_weeks=eligible,
        findings=tuple(items),
        in_latest_week=in_latest,
        stats=stats,
        unit=unit,
    )


def _stats(code: str, items: Sequence[Finding], rules: RuleSettings) -> dict[str, Any]:
    """The numbers that show how bad a group is, so grouping never hides them."""
    if code == "too-much-hard":
        shares = [float(f.evidence.get("hard_share", 0.0)) for f in items]
        worst = max(items, key=lambda f: float(f.evidence.get("hard_share", 0.0)))
        return {
            "median_hard_share": round(statistics.median(shares), 3),
            "max_hard_share": round(max(shares), 3),
            "worst_week": worst.week_start.isoformat(),
            "limit": rules.max_hard_share,
            "count": len(items),
        }
    if code in ("no-rest-day", "too-few-rest-days"):
        return {
            "fewest_rest_days": min(int(f.evidence.get("rest_days", 0)) for f in items),
            "min_rest_days": rules.min_rest_days,
        }
    if code == "too-many-days-without-rest":
        worst = max(items, key=streak_length)
        return {
            "longest_streak_days": streak_length(worst),
            "longest_streak_start": worst.evidence.get("streak_start"),
            "limit": rules.max_days_without_rest,
        }
    if code in ("too-little-strength", "too-much-strength"):
        counts = [int(f.evidence.get("strength_sessions", 0)) for f in items]
        bound = "min" if code == "too-little-strength" else "max"
        # The bound differs by season: a group spanning both says both.
        by_season = {
            str(f.evidence.get("season", "off")): int(f.evidence.get(bound, 0)) for f in items
        }
        return {
            "fewest_sessions": min(counts),
            "most_sessions": max(counts),
            bound: max(by_season.values()),
            f"{bound}_by_season": dict(sorted(by_season.items())),
        }
    if code in ("short-sleep", "short-sleep-before-key-runs"):
        hours = [float(f.evidence["sleep_hours"]) for f in items if f.evidence["sleep_hours"]]
        return {
            "shortest_sleep_hours": min(hours) if hours else None,
            "short_night_runs": sum(len(f.evidence["short_night_runs"]) for f in items),
            "min_sleep_hours": rules.min_sleep_hours,
        }
    if code == "resting-hr-up":
        return {
            "largest_rise": max(float(f.evidence["rise"]) for f in items),
            "max_resting_hr_rise": rules.max_resting_hr_rise,
        }
    if code == "hrv-down":
        drops = [float(f.evidence["drop_sd"]) for f in items if f.evidence["drop_sd"] is not None]
        return {"largest_drop_sd": max(drops) if drops else None, "hrv_drop_sd": rules.hrv_drop_sd}
    days = [f.date.isoformat() for f in items if f.date is not None]
    return {
        "days": days,
        "leg_heavy": sum(1 for f in items if f.evidence.get("leg_heavy")),
    }
