"""From stored activities to weekly verdicts: zones, facts, weeks, checks.

:func:`analyse` is pure: it takes activities (with samples, or their zone times), settings
and the explicit first and last local day of the report, never a store or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from heavylegs_sync.analysis.facts import ActivityFacts, activity_facts
from heavylegs_sync.analysis.rules import Finding, find
from heavylegs_sync.analysis.weeks import WeekSummary, monday, summarize_weeks
from heavylegs_sync.config import AthleteSettings, RuleSettings, SeasonSettings, ZoneSettings
from heavylegs_sync.hr.timeline import ZoneTimeline, zone_timeline
from heavylegs_sync.hr.zones import ZoneError, ZoneModel, ZoneTimes
from heavylegs_sync.model import Activity, Category, HrSettings, WellnessRecord

if TYPE_CHECKING:
    from heavylegs_sync.analysis.body import Wellness

__all__ = [
    "ActivityFacts",
    "Analysis",
    "Finding",
    "WeekSummary",
    "ZoneTimeline",
    "analyse",
    "monday",
    "window",
    "zone_timeline",
]

#: Days after the last reported day the checks read: strength on the last day is judged
#: against the next day's run, and whether that run is long depends on its whole week.
DAYS_AFTER = 7


@dataclass(frozen=True)
class Analysis:
    """Everything a report shows."""

    first: date
    last: date
    model: ZoneModel | None  # the zones in effect on the last day; None: no zones at all
    weeks: list[WeekSummary]
    findings: list[Finding]
    facts: list[ActivityFacts]  # the judged activities up to the last day
    timeline: ZoneTimeline | None = None
    rules: RuleSettings = field(default_factory=RuleSettings)  # the thresholds judged by
    #: Why there are no zones (cause 2 was not judged); None when there are.
    zones_error: str | None = None
    #: Activities in the range too short to judge ([rules] min_activity_seconds).
    short: list[ActivityFacts] = field(default_factory=list)
    #: Sleep, resting HR and HRV by week (docs/wellness.md); None: no wellness data in
    #: the report's reach, and nothing about it is said.
    wellness: Wellness | None = None


def window(first: date, last: date) -> tuple[date | None, date]:
    """The local days an analysis of [first, last] must read: every day before ``first``
    (a streak without rest may have begun long ago; None means from the beginning) and
    :data:`DAYS_AFTER` days after ``last``."""
    return None, last + timedelta(days=DAYS_AFTER)


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
    watch: Sequence[tuple[datetime, HrSettings]] | None = None,
    strava_bounds: Sequence[float] | None = None,
    timeline: ZoneTimeline | None = None,
    zones_error: str | None = None,
    wellness: Sequence[WellnessRecord] = (),
) -> Analysis:
    """Classify the weeks touching [first, last] and find causes 1, 2, 5, 6 and 10.

    ``activities`` should cover :func:`window` (days before ``first`` for streaks, days
    after ``last`` for the next day's run); only weeks touching [first, last] are
    reported. Zones come from ``timeline`` or are resolved from the settings, the
    watch's values (``watch``), Strava's zones and the runs' sustained HR ``peaks``
    (computed from the samples when not given). ``known_zones`` (zone times per activity
    for its day's model) spares reading samples: a store keeps them.

    Without zones (``zones_error`` says why, or no source gives any) causes 1, 5 and 6
    are judged all the same and cause 2 is not: :attr:`Analysis.zones_error` says why.
    Activities shorter than ``rules.min_activity_seconds`` are left out of every check
    (:attr:`Analysis.short` lists those in the range).

    ``wellness`` (every source's records, merged here to one value a day) should reach
    ``[rules] baseline_first_day`` days before the first week: cause 10 and the body
    signals of cause 1 are judged on complete weeks (:attr:`Analysis.wellness`).
    """
    if timeline is None and zones_error is None:
        if watch is None:
            watch = [(a.start_utc, a.hr_settings) for a in activities if a.hr_settings]
        if peaks is None and athlete.max_hr is None:
            from heavylegs_sync.hr.trace import sustained_peak  # numpy, for samples only

            peaks = [
                p
                for a in activities
                if a.category is Category.RUN and a.samples is not None
                if (p := sustained_peak(a.samples)) is not None
            ]
        try:
            timeline = zone_timeline(
                athlete=athlete, zones=zones, watch=watch, strava_bounds=strava_bounds, peaks=peaks
            )
        except ZoneError as exc:
            zones_error = str(exc)
    horizon = last + timedelta(days=DAYS_AFTER)
    kept = [a for a in activities if a.start_local.date() <= horizon]
    if timeline is None:
        # No zones: causes 1, 5 and 6 need none; runs count as volume, not as easy or hard.
        known_zones = {a.id: ZoneTimes.empty() for a in kept if a.id is not None}
        all_facts = activity_facts(kept, NO_ZONES, rules, known_zones)
    else:
        all_facts = activity_facts(kept, timeline, rules, known_zones)
    facts = [f for f in all_facts if not f.short]
    weeks = summarize_weeks(facts, first, last, rules, season)
    # Whether a run is long depends on its whole week, also around the reported range.
    context = summarize_weeks(facts, monday(first), monday(horizon) + timedelta(6), rules, season)
    long_ids = {i for w in context for i in w.long_run_ids}
    findings = find(weeks, facts, rules, first, last, long_run_ids=long_ids)
    shown = [f for f in facts if f.day <= last]
    short = [f for f in all_facts if f.short and first <= f.day <= last]
    body = _wellness(wellness, weeks, facts, long_ids, rules, shown)
    if body is not None:
        from heavylegs_sync.analysis.body import wellness_findings

        findings = sorted(
            [*findings, *wellness_findings(body, rules)],
            key=lambda f: (f.week_start, f.cause, f.date or f.week_start, f.code),
        )
    if timeline is None:
        return Analysis(
            first, last, None, weeks, findings, shown, None, rules, zones_error, short, body
        )
    findings = [_say_if_estimated(f, timeline) for f in findings]
    return Analysis(
        first, last, timeline.at(last), weeks, findings, shown, timeline, rules, None, short, body
    )


def _wellness(
    records: Sequence[WellnessRecord],
    weeks: Sequence[WeekSummary],
    facts: Sequence[ActivityFacts],
    long_ids: set[int],
    rules: RuleSettings,
    shown: Sequence[ActivityFacts],
) -> Wellness | None:
    """The weeks' sleep and body signals; None without any wellness value in reach."""
    if not records or not weeks:
        return None
    from heavylegs_sync.analysis.body import wellness_weeks
    from heavylegs_sync.analysis.weekload import week_loads
    from heavylegs_sync.wellness import merge_days

    body = wellness_weeks(
        merge_days(records), weeks, facts, long_ids, week_loads(shown, weeks), rules
    )
    return body if body.measures else None


#: The zone timeline of an analysis without zones: every activity's zone times are given
#: (empty), so it is never asked for a model.
NO_ZONES = ZoneTimeline((), ())


def _say_if_estimated(finding: Finding, timeline: ZoneTimeline) -> Finding:
    """A speed-work verdict on estimated zones must say so: the estimate may be low."""
    if finding.cause != 2:
        return finding
    model = timeline.at(finding.week_start + timedelta(days=6))
    if model.max_hr_source != "estimate" or model.method.value in ("lthr", "bpm"):
        return finding
    return replace(finding, evidence={**finding.evidence, "zones_estimated": True})
