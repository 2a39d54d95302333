"""The JSON report: a stable shape other tools can read (documented in docs/rules.md)."""

from __future__ import annotations

import json
import math
import statistics
from datetime import date
from typing import Any

from heavylegs_sync.analysis import Analysis
from heavylegs_sync.analysis.body_checks import SLEEP, SignalCheck
from heavylegs_sync.analysis.grouping import FindingGroup
from heavylegs_sync.report.findings import (
    finding_fix,
    finding_message,
    group_headline,
    group_title,
)
from heavylegs_sync.report.view import (
    ReportView,
    build_view,
    data_note,
    not_judged_text,
    verdict,
)
from heavylegs_sync.report.wellness import day_record


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def to_dict(analysis: Analysis, view: ReportView | None = None) -> dict[str, Any]:
    """The report as plain JSON-ready data: the documented keys, plus ``verdict``, ``note``
    and ``groups`` (the findings grouped and ranked, see docs/report.md)."""
    view = view if view is not None else build_view(analysis)
    loads = {w.week_start: w for w in view.loads}
    data: dict[str, Any] = {
        "athlete": _athlete(analysis),
        "range": {"since": analysis.first.isoformat(), "until": analysis.last.isoformat()},
        "weeks": [
            {
                "week_start": w.week_start.isoformat(),
                "season": w.season,
                "run_seconds": round(w.run_seconds),
                "run_distance_m": round(w.run_distance_m, 1),
                "easy_seconds": round(w.easy_seconds),
                "hard_seconds": round(w.hard_seconds),
                "hard_share": _round(w.hard_share, 3),
                "hard_share_distance": _round(w.hard_share_distance, 3),
                "hr_coverage": _round(w.hr_coverage, 3),
                "rest_days": w.rest_days,
                "strength_sessions": w.strength_sessions,
                "long_runs": len(w.long_run_ids),
                "hard_runs": len(w.hard_run_ids),
                "complete": w.complete,
                "activities": w.activity_count,
                "rest_day_dates": [d.isoformat() for d in w.rest_day_dates],
                "load": round(loads[w.week_start].load, 1),
                "load_ratio": _round(loads[w.week_start].ratio, 2),
                "monotony": _round(loads[w.week_start].monotony, 2),
            }
            for w in analysis.weeks
        ],
        "findings": [
            {
                "cause": f.cause,
                "code": f.code,
                "week_start": f.week_start.isoformat(),
                "date": None if f.date is None else f.date.isoformat(),
                "activities": list(f.activities),
                "message": finding_message(f),
                "fix": finding_fix(f),
                "evidence": f.evidence,
            }
            for f in analysis.findings
        ],
        "not_judged": (
            [] if analysis.zones_error is None else [{"cause": 2, "reason": analysis.zones_error}]
        )
        + wellness_not_judged(analysis),
        "short_activities": [
            {"id": f.id, "date": f.day.isoformat(), "label": f.label, "duration_s": f.duration_s}
            for f in analysis.short
        ],
        "verdict": verdict(view),
        "note": data_note(view),
        "groups": [group_dict(g) for g in view.groups],
    }
    if analysis.wellness is not None:
        data["wellness"] = wellness_dict(analysis)
    return data


def wellness_not_judged(analysis: Analysis) -> list[dict[str, Any]]:
    """Each wellness rule too thinly recorded to judge: its cause, measure and weeks."""
    if analysis.wellness is None:
        return []
    return [
        {
            "cause": 10 if gap.measure == SLEEP else 1,
            "measure": gap.measure,
            "weeks": [w.isoformat() for w in gap.weeks],
            "reason": not_judged_text(gap, analysis.rules),
        }
        for gap in analysis.wellness.not_judged
    ]


def _geo(values: tuple[tuple[date, float], ...]) -> float | None:
    if not values:
        return None
    return round(math.exp(statistics.fmean(math.log(v) for _, v in values)), 1)


def _check_dict(check: SignalCheck) -> dict[str, Any]:
    ms = check.code == "hrv-down"
    base = check.baseline
    return {
        "mean": _geo(check.values)
        if ms
        else _round(statistics.fmean(v for _, v in check.values) if check.values else None, 1),
        "days": len(check.values),
        "baseline": _geo(base)
        if ms
        else _round(statistics.median(v for _, v in base) if base else None, 1),
        "baseline_days": len(base),
        "baseline_from": check.baseline_first.isoformat(),
        "baseline_to": check.baseline_last.isoformat(),
        "judged": check.judged,
        "flagged": check.fired,
        **(
            {
                "ln_mean": _round(check.mean, 3),
                "baseline_ln_mean": _round(check.centre, 3),
                "baseline_ln_sd": _round(check.spread, 3),
                "limit_ms": None if check.limit is None else round(math.exp(check.limit), 1),
            }
            if ms
            else {"limit": _round(check.limit, 1)}
        ),
    }


def wellness_dict(analysis: Analysis) -> dict[str, Any]:
    """Sleep, resting HR and HRV per complete week (with Foster's monotony and strain),
    and each day of the range as merged from its sources (docs/wellness.md)."""
    body = analysis.wellness
    assert body is not None
    days = [d for d in sorted(body.days) if analysis.first <= d <= analysis.last]
    return {
        "measures": list(body.measures),
        "weeks": [
            {
                "week_start": w.week_start.isoformat(),
                "sleep": {
                    "nights": w.sleep.recorded,
                    "mean_hours": _round(w.sleep.mean, 2),
                    "judged": w.sleep.judged,
                    "night_hours": {d.isoformat(): round(h, 2) for d, h in w.sleep.nights},
                    "key_runs": w.key_runs,
                    "short_night_runs": [
                        {
                            "id": r.id,
                            "date": r.day.isoformat(),
                            "hours": round(r.hours, 2),
                            "kind": r.kind,
                        }
                        for r in w.short_night_runs
                    ],
                },
                "resting_hr": _check_dict(w.resting_hr),
                "hrv": _check_dict(w.hrv),
                "load": None if w.load is None else round(w.load.load, 1),
                "monotony": None if w.load is None else _round(w.load.monotony, 2),
                "strain": _round(w.strain, 1),
            }
            for w in body.weeks
        ],
        "days": [day_record(body.days[d]) for d in days],
    }


def _athlete(analysis: Analysis) -> dict[str, Any]:
    """The zones the analysis used (all null, no zones listed, when there were none)."""
    model = analysis.model
    if model is None:
        return {
            "max_hr": None,
            "max_hr_source": "none",
            "max_hr_date": None,
            "zone_method": None,
            "zone_bounds_bpm": None,
            "zones": [],
        }
    timeline = analysis.timeline
    # The zones of the report's range: the ones in force at its start, then each change.
    during = timeline.during(analysis.first, analysis.last) if timeline is not None else ()
    starts: tuple[date | None, ...] = tuple(s for s, _ in during) or (None,)
    models = tuple(m for _, m in during) or (model,)
    return {
        "max_hr": None if model.max_hr is None else round(model.max_hr),
        "max_hr_source": model.max_hr_source,
        "max_hr_date": None if model.since is None else model.since.isoformat(),
        "zone_method": model.method.value,
        "zone_bounds_bpm": list(model.bounds_bpm),
        "zones": [
            {
                "from": None if start is None or start == date.min else start.isoformat(),
                "max_hr": None if m.max_hr is None else round(m.max_hr),
                "max_hr_source": m.max_hr_source,
                "zone_method": m.method.value,
                "zone_bounds_bpm": list(m.bounds_bpm),
            }
            for start, m in zip(starts, models, strict=True)
        ],
    }


def group_dict(group: FindingGroup) -> dict[str, Any]:
    """One grouped finding: its weeks, its numbers and its latest finding."""
    latest = group.latest
    return {
        "cause": group.cause,
        "code": group.code,
        "title": group_title(group),
        "headline": group_headline(group),
        "score": group.score,
        "weeks": [w.isoformat() for w in group.weeks],
        "eligible_weeks": group.eligible_weeks,
        "in_latest_week": group.in_latest_week,
        "stats": group.stats,
        "latest": {
            "week_start": latest.week_start.isoformat(),
            "date": None if latest.date is None else latest.date.isoformat(),
            "message": finding_message(latest),
            "activities": list(latest.activities),
        },
        "fix": finding_fix(latest),
        "count": len(group.findings),
    }


def to_json(analysis: Analysis) -> str:
    """The report as indented JSON text."""
    return json.dumps(to_dict(analysis), indent=2, ensure_ascii=False) + "\n"
