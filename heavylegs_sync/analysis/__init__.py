"""From stored activities to weekly verdicts: facts, weeks, checks.

:func:`analyse` is pure: it takes activities (with samples), settings and the explicit first
and last local day of the report, never a store or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from heavylegs_sync.analysis.facts import ActivityFacts, activity_facts
from heavylegs_sync.analysis.rules import Finding, find
from heavylegs_sync.analysis.weeks import WeekSummary, summarize_weeks
from heavylegs_sync.config import AthleteSettings, RuleSettings, SeasonSettings, ZoneSettings
from heavylegs_sync.model import Activity, Category
from heavylegs_sync.zones import (
    ZoneModel,
    ZoneTimes,
    build_zone_model,
    estimate_from_peaks,
    estimate_max_hr,
)

__all__ = ["ActivityFacts", "Analysis", "Finding", "WeekSummary", "analyse", "zone_model"]


@dataclass(frozen=True)
class Analysis:
    """Everything a report shows."""

    first: date
    last: date
    model: ZoneModel
    weeks: list[WeekSummary]
    findings: list[Finding]
    facts: list[ActivityFacts]


def analyse(
    activities: Sequence[Activity],
    *,
    first: date,
    last: date,
    athlete: AthleteSettings,
    zones: ZoneSettings,
    rules: RuleSettings,
    season: SeasonSettings,
    peaks: Sequence[float] | None = None,
    known_zones: Mapping[int, ZoneTimes] | None = None,
) -> Analysis:
    """Classify the weeks touching [first, last] and find causes 1, 2, 5 and 6.

    ``activities`` may reach back before ``first`` (a streak without rest that began
    earlier still counts) and should, when max HR is not configured, hold enough runs with
    heart rate to estimate it. ``peaks`` (sustained HR peaks of the runs) and
    ``known_zones`` (zone times for the resulting model) spare reading samples: a store
    keeps both.
    """
    model = zone_model(activities, athlete, zones, peaks)
    facts = activity_facts(
        [a for a in activities if a.start_local.date() <= last], model, rules, known_zones
    )
    weeks = summarize_weeks(facts, first, last, rules, season)
    findings = find(weeks, facts, rules, first, last)
    return Analysis(first, last, model, weeks, findings, facts)


def zone_model(
    activities: Sequence[Activity],
    athlete: AthleteSettings,
    zones: ZoneSettings,
    peaks: Sequence[float] | None = None,
) -> ZoneModel:
    """The zone model the settings ask for, max HR estimated from runs when not set."""
    estimated = None
    if athlete.max_hr is None:
        if peaks is not None:
            estimated = estimate_from_peaks(peaks)
        else:
            runs = [a.samples for a in activities if a.category is Category.RUN and a.samples]
            estimated = estimate_max_hr(runs)
    return build_zone_model(
        zones.method,
        max_hr=athlete.max_hr,
        resting_hr=athlete.resting_hr,
        lthr=athlete.lthr,
        bounds=zones.bounds,
        estimated_max_hr=estimated,
    )
