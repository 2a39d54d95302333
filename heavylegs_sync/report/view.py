"""What every report format shows, decided once: the verdict, the grouped findings, the
load per week, and whether the range holds any data at all.

Text, JSON and HTML render a :class:`ReportView`; none of them decides anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from heavylegs_sync.analysis import Analysis, Finding, WeekSummary
from heavylegs_sync.analysis.grouping import (
    FindingGroup,
    group_findings,
    latest_judged_week,
    title,
)
from heavylegs_sync.analysis.weekload import WeekLoad, week_loads

#: How many groups the verdict names.
TOP = 3
#: Days without any activity at the end of the range before the report says so.
STALE_DAYS = 7

#: The causes in plain words, numbered as in the published list of ten.
CAUSES = {
    1: "Not enough recovery",
    2: "Too much speed work",
    5: "Skipping strength training",
    6: "Overdoing or mistiming strength",
}


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
            names = list(dict.fromkeys(title(f) for f in view.latest_findings))
            count = len(view.latest_findings)
            lines.append(f"{head} {count} problem{'s' if count != 1 else ''}: {'; '.join(names)}.")
    last = view.analysis.weeks[-1] if view.analysis.weeks else None
    if last is not None and latest is not None and last.week_start > latest.week_start:
        so_far = [f for f in view.analysis.findings if f.week_start == last.week_start]
        if so_far:
            names = list(dict.fromkeys(title(f) for f in so_far))
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
        lines.extend(f"{i}. {g.headline}" for i, g in enumerate(top, 1))
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
