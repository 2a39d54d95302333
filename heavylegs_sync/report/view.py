"""What every report format shows, decided once: the verdict, the grouped findings, the
load per week, and whether the range holds any data at all.

Text, JSON and HTML render a :class:`ReportView`; none of them decides anything itself.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from heavylegs_sync.analysis import Analysis, Finding, WeekSummary
from heavylegs_sync.analysis.body import NotJudged, WellnessWeek
from heavylegs_sync.analysis.grouping import (
    FindingGroup,
    group_findings,
    latest_judged_week,
)
from heavylegs_sync.analysis.weekload import WeekLoad, week_loads
from heavylegs_sync.config import RuleSettings
from heavylegs_sync.report.findings import finding_title, group_headline

#: How many groups the verdict names.
TOP = 3
#: Days without any activity at the end of the range before the report says so.
STALE_DAYS = 7
#: Consecutive weeks without activity (and without findings) shown as one row.
COLLAPSE = 3


@dataclass(frozen=True)
class ReportView:
    """An analysis made ready to read: verdict first, problems grouped and ranked."""

    analysis: Analysis
    groups: list[FindingGroup]
    loads: list[WeekLoad]
    latest: WeekSummary | None  # the latest complete week, else the latest week
    latest_findings: list[Finding]
    newest: date | None  # the newest activity day up to the range's end
    in_range: int  # activities inside the range

    @property
    def no_data(self) -> bool:
        """The range holds no activity: nothing can be judged, which is not "no problems"."""
        return self.in_range == 0


def build_view(analysis: Analysis) -> ReportView:
    """Group and rank the findings, and work out the load and the verdict's week."""
    groups = group_findings(analysis.findings, analysis.weeks, analysis.rules)
    latest = latest_judged_week(analysis.weeks)
    latest_findings = (
        [f for f in analysis.findings if f.week_start == latest.week_start] if latest else []
    )
    days = [f.day for f in analysis.facts]
    in_range = sum(1 for d in days if analysis.first <= d <= analysis.last)
    return ReportView(
        analysis=analysis,
        groups=groups,
        loads=week_loads(analysis.facts, analysis.weeks),
        latest=latest,
        latest_findings=latest_findings,
        newest=max(days) if days else None,
        in_range=in_range,
    )


def data_note(view: ReportView) -> str | None:
    """Say when the range (or its end) holds no data, so an empty week never reads as a
    good one."""
    a = view.analysis
    if view.no_data:
        note = f"No data in this range: no activity between {a.first} and {a.last}."
        if view.newest is not None:
            note += (
                f" Your newest activity before it is from {view.newest}: try"
                f" 'heavylegs report --until {view.newest}'."
            )
        return note
    if view.newest is not None and (a.last - view.newest).days > STALE_DAYS:
        return (
            f"Your newest activity is from {view.newest}: the days after it hold no data,"
            " which says nothing about problems."
        )
    return None


def verdict(view: ReportView) -> list[str]:
    """The first sentences of every report: the latest week's state, then the problems
    that matter most."""
    lines: list[str] = []
    note = data_note(view)
    if view.no_data:
        return [note] if note else []
    latest = view.latest
    if latest is not None:
        which = "the latest complete week" if latest.complete else "a partial week"
        head = f"Week of {latest.week_start} ({which}):"
        if latest.activity_count == 0:
            lines.append(f"{head} no activity recorded.")
        elif not view.latest_findings:
            lines.append(f"{head} no training cause of heavy legs found.")
        else:
            names = list(dict.fromkeys(finding_title(f) for f in view.latest_findings))
            count = len(view.latest_findings)
            lines.append(f"{head} {count} problem{'s' if count != 1 else ''}: {'; '.join(names)}.")
    last = view.analysis.weeks[-1] if view.analysis.weeks else None
    if last is not None and latest is not None and last.week_start > latest.week_start:
        so_far = [f for f in view.analysis.findings if f.week_start == last.week_start]
        if so_far:
            names = list(dict.fromkeys(finding_title(f) for f in so_far))
            lines.append(f"This week so far (from {last.week_start}): {'; '.join(names)}.")
    if note:
        lines.append(note)
    if not view.groups:
        lines.append("No training causes of heavy legs found in these weeks.")
    else:
        top = view.groups[:TOP]
        lines.append(
            f"What matters most from {view.analysis.first} to {view.analysis.last}"
            f" ({len(view.groups)} problem{'s' if len(view.groups) != 1 else ''} in all):"
        )
        lines.extend(f"{i}. {group_headline(g)}" for i, g in enumerate(top, 1))
    return lines


def week_causes(view: ReportView) -> dict[date, list[int]]:
    """The causes found in each week (the week rows mark them)."""
    marks: dict[date, list[int]] = {}
    for f in view.analysis.findings:
        causes = marks.setdefault(f.week_start, [])
        if f.cause not in causes:
            causes.append(f.cause)
    return {k: sorted(v) for k, v in marks.items()}


def week_span(start: date, end: date) -> str:
    """Weeks from the Monday ``start`` to the Monday ``end``, as a person reads them."""
    if start == end:
        return str(start)
    return f"{start} to {end + timedelta(days=6)}"


def week_ranges(weeks: tuple[date, ...]) -> list[str]:
    """Consecutive weeks joined into ranges: '2026-01-05 to 2026-02-01 (4 weeks)'."""
    result: list[str] = []
    i = 0
    while i < len(weeks):
        j = i
        while j + 1 < len(weeks) and weeks[j + 1] - weeks[j] == timedelta(days=7):
            j += 1
        count = j - i + 1
        text = week_span(weeks[i], weeks[j])
        result.append(text if count == 1 else f"{text} ({count} weeks)")
        i = j + 1
    return result


@dataclass(frozen=True)
class EmptyWeeks:
    """A run of weeks without activity or findings, shown as one row; its days are kept
    inside the reported range."""

    first: date
    last: date
    count: int


def week_rows(view: ReportView) -> list[WeekSummary | EmptyWeeks]:
    """The weeks table of every format: one row a week, :data:`COLLAPSE` or more empty
    weeks in a row as one."""
    a = view.analysis
    marks = week_causes(view)
    weeks = a.weeks
    rows: list[WeekSummary | EmptyWeeks] = []
    i = 0
    while i < len(weeks):
        j = i
        while j < len(weeks) and weeks[j].activity_count == 0 and weeks[j].week_start not in marks:
            j += 1
        if j - i >= COLLAPSE:
            first = max(weeks[i].week_start, a.first)
            last = min(weeks[j - 1].week_start + timedelta(days=6), a.last)
            rows.append(EmptyWeeks(first, last, j - i))
            i = j
            continue
        rows.append(weeks[i])
        i += 1
    return rows


def empty_text(run: EmptyWeeks) -> str:
    """``2026-01-05 to 2026-01-25: 3 weeks without any activity``."""
    return f"{run.first} to {run.last}: {run.count} weeks without any activity"


def hard_text(week: WeekSummary, min_coverage: float) -> str:
    """The hard share as the legend promises: ``?`` when too little of the running had
    heart rate to judge it (none at all included), blank in a week without running."""
    if not week.run_ids:
        return ""
    if week.hard_share is None:
        return "?"
    text = f"{week.hard_share:.0%}"
    return text + "?" if (week.hr_coverage or 0.0) < min_coverage else text


#: The weeks table's columns, the same in every format: key and header (text stacks the
#: header's words on ``\n``).
WEEK_COLUMNS = (
    ("week", "week"),
    ("season", "season"),
    ("running", "running\nh:mm"),
    ("km", "km"),
    ("hard", "hard\n%"),
    ("hr", "heart\nrate %"),
    ("rest", "rest\ndays"),
    ("strength", "strength"),
    ("long", "long\nruns"),
    ("hard_runs", "hard\nruns"),
    ("load", "load"),
    ("ratio", "load\nratio"),
    ("monotony", "monotony"),
    ("causes", "causes"),
)


def week_cells(view: ReportView, week: WeekSummary) -> dict[str, str]:
    """One week's row, keyed as :data:`WEEK_COLUMNS`; blank where nothing applies (no
    load ratio in a week without load, no hard share without running)."""
    load = next((w for w in view.loads if w.week_start == week.week_start), None)
    causes = ",".join(str(c) for c in week_causes(view).get(week.week_start, []))
    if not week.complete:
        causes = (causes + " partial").strip()
    hours, minutes = divmod(round(week.run_seconds / 60), 60)
    return {
        "week": str(week.week_start),
        "season": week.season,
        "running": f"{hours}:{minutes:02d}",
        "km": f"{week.run_distance_m / 1000:.1f}",
        "hard": hard_text(week, view.analysis.rules.min_hr_coverage),
        "hr": "" if week.hr_coverage is None else f"{week.hr_coverage:.0%}",
        "rest": f"{week.rest_days}/{week.days_in_range}",
        "strength": str(week.strength_sessions),
        "long": str(len(week.long_run_ids)),
        "hard_runs": str(len(week.hard_run_ids)),
        "load": "" if load is None or not load.load else f"{load.load:.0f}",
        "ratio": "" if load is None or load.ratio is None else f"{load.ratio:.1f}",
        "monotony": "" if load is None or load.monotony is None else f"{load.monotony:.1f}",
        "causes": causes,
    }


#: The wellness table's columns (sleep, resting HR, HRV, Foster's monotony and strain),
#: the same in every format: key and header.
WELLNESS_COLUMNS = (
    ("week", "week"),
    ("nights", "nights"),
    ("sleep", "sleep\nh"),
    ("short_runs", "short\nkey runs"),
    ("resting_hr", "rest HR\nbpm"),
    ("resting_base", "baseline\nbpm"),
    ("hrv", "HRV\nms"),
    ("hrv_base", "baseline\nms"),
    ("monotony", "monotony"),
    ("strain", "strain"),
)


def _fmt(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def wellness_cells(week: WellnessWeek) -> dict[str, str]:
    """One complete week's wellness row (blank where nothing is recorded); HRV is the
    geometric mean (exp of the mean of ln HRV), as judged."""
    rhr, hrv = week.resting_hr, week.hrv
    rhr_mean = statistics.fmean(v for _, v in rhr.values) if rhr.values else None
    rhr_base = statistics.median(v for _, v in rhr.baseline) if rhr.baseline else None
    hrv_mean = _geo(hrv.values)
    hrv_base = _geo(hrv.baseline)
    load = week.load
    return {
        "week": str(week.week_start),
        "nights": str(week.sleep.recorded),
        "sleep": _fmt(week.sleep.mean, ".1f"),
        "short_runs": f"{len(week.short_night_runs)}/{week.key_runs}" if week.key_runs else "",
        "resting_hr": _fmt(rhr_mean, ".1f"),
        "resting_base": _fmt(rhr_base, ".1f"),
        "hrv": _fmt(hrv_mean, ".0f"),
        "hrv_base": _fmt(hrv_base, ".0f"),
        "monotony": _fmt(None if load is None else load.monotony, ".1f"),
        "strain": _fmt(week.strain, ".0f"),
    }


def _geo(values: tuple[tuple[date, float], ...]) -> float | None:
    return math.exp(statistics.fmean(math.log(v) for _, v in values)) if values else None


def wellness_legend(rules: RuleSettings) -> str:
    """What the wellness table's columns mean."""
    return (
        "Nights belong to their wake date; sleep is time asleep. Short key runs: the"
        f" week's hard or long runs after a night under {rules.min_sleep_hours:g} h, of"
        " all of them. Baselines: the median resting heart rate and the mean of ln HRV"
        f" over the {rules.baseline_first_day} days before the week. Monotony: the"
        " week's mean daily load over its standard deviation; strain: load x monotony"
        " (Foster)."
    )


#: How each measure is named where it could not be judged.
MEASURE_NAMES = {
    "sleep": ("sleep (cause 10)", "nights"),
    "resting_hr": ("resting heart rate (cause 1)", "days"),
    "hrv": ("HRV (cause 1)", "nights"),
}


def not_judged_text(gap: NotJudged, rules: RuleSettings) -> str:
    """A wellness rule too thinly recorded to judge, said once for all its weeks."""
    name, unit = MEASURE_NAMES[gap.measure]
    weeks = ", ".join(week_ranges(gap.weeks))
    need = f"fewer than {gap.needed} {unit} recorded in the week"
    if gap.baseline_needed is not None:
        need += (
            f", or fewer than {gap.baseline_needed} in the {rules.baseline_first_day} days"
            " before it"
        )
    which = "the week of" if len(gap.weeks) == 1 else "the weeks"
    return f"Not judged: {name} in {which} {weeks} ({need})."
