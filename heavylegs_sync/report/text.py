"""The text report: the verdict first, then the weeks, then each problem once, with its
evidence and the fix. It fits the width it is given (80 columns and up)."""

from __future__ import annotations

import textwrap

from heavylegs_sync.analysis import Analysis
from heavylegs_sync.analysis.grouping import FindingGroup
from heavylegs_sync.analysis.weekload import WeekLoad
from heavylegs_sync.causes import cause_title
from heavylegs_sync.causes import legend as causes_legend
from heavylegs_sync.report.findings import (
    finding_fix,
    finding_message,
    group_headline,
    wellness_evidence,
)
from heavylegs_sync.report.view import (
    WEEK_COLUMNS,
    WELLNESS_COLUMNS,
    EmptyWeeks,
    ReportView,
    build_view,
    empty_text,
    not_judged_text,
    verdict,
    week_cells,
    week_ranges,
    week_rows,
    wellness_cells,
    wellness_legend,
)

#: The narrowest layout; a smaller width is widened to this.
MIN_WIDTH = 80
#: Width from which the week table also shows the season and the heart-rate coverage.
WIDE = 100
#: Activities named as evidence per problem; the rest are counted.
EVIDENCE = 8
#: Weeks whose load is shown as evidence for cause 1.
LOAD_WEEKS = 6


def to_text(analysis: Analysis, *, width: int = WIDE) -> str:
    """The report as plain text (no colour codes), ready to print or save."""
    width = max(width, MIN_WIDTH)
    view = build_view(analysis)
    lines = [f"heavylegs report {analysis.first} to {analysis.last}"]
    for paragraph in estimate_note(analysis):
        lines.extend(textwrap.wrap(paragraph, width))
    for sentence in verdict(view):
        numbered = sentence[:1].isdigit()
        lines.extend(
            textwrap.wrap(
                sentence,
                width,
                initial_indent="  " if numbered else "",
                subsequent_indent="     " if numbered else "  ",
            )
        )
    if view.no_data:
        return "\n".join(lines) + "\n"
    lines.append("")
    for paragraph in zone_lines(analysis):
        lines.extend(textwrap.wrap(paragraph, width))
    lines.append("")
    lines.extend(week_table(view, width))
    lines.extend(short_lines(analysis, width))
    lines.extend(wellness_table(analysis, width))
    for group in view.groups:
        lines.append("")
        lines.extend(group_block(view, group, width))
    return "\n".join(lines) + "\n"


def estimate_note(analysis: Analysis) -> list[str]:
    """Said before the verdict: verdicts on estimated zones may be off."""
    model = analysis.model
    if model is None:
        return []
    if model.max_hr_source == "estimate" and model.method.value in ("hrmax", "hrr"):
        return [
            "Note: your maximum heart rate is only estimated from your runs, so the zones"
            " and the speed-work verdicts may be off. Set it in the settings file, e.g."
            " '[athlete] max_hr = 190' (or lthr = 172), or import files from a watch that"
            " has it set."
        ]
    return []


#: How each source of max HR is said.
_SOURCES = {
    "settings": "from your settings file",
    "watch": "from your watch's settings",
    "strava": "from your Strava heart-rate zones",
    "estimate": "estimated from your runs",
    "none": "not known",
}

_METHODS = {
    "hrmax": "share of maximum heart rate",
    "hrr": "heart-rate reserve",
    "lthr": "lactate threshold heart rate",
    "bpm": "your own bounds",
}


def zone_lines(analysis: Analysis) -> list[str]:
    """Where the zones come from; without zones, said once, that cause 2 was not judged."""
    model = analysis.model
    if model is None:
        return [not_judged_note(analysis)]
    source = _SOURCES.get(model.max_hr_source, model.max_hr_source)
    if model.max_hr_source == "watch" and model.since is not None:
        source += f" (as of {model.since})"
    if model.max_hr_source == "strava":
        max_text = f"zones {source}"
    elif model.max_hr:
        max_text = f"maximum heart rate {model.max_hr:.0f} bpm, {source}"
    else:
        max_text = f"maximum heart rate {source}"
    method = _METHODS.get(model.method.value, model.method.value)
    result = [
        f"Zones by {method}: zones 1-4 end at "
        f"{'/'.join(str(b) for b in model.bounds_bpm)} beats per minute (zones 1-2 easy,"
        f" 3-5 hard); {max_text}."
    ]
    timeline = analysis.timeline
    during = timeline.during(analysis.first, analysis.last) if timeline is not None else ()
    if len(during) > 1:
        (_, before), *later = during
        held = f"{before.max_hr:.0f} bpm" if before.max_hr else before.method.value
        changes = ", ".join(
            f"{m.max_hr:.0f} bpm from {start}" if m.max_hr else f"{m.method.value} from {start}"
            for start, m in later
        )
        result.append(
            f"Your watch's maximum heart rate changed over the range: {held} at"
            f" {analysis.first}, then {changes}."
        )
    return result


def not_judged_note(analysis: Analysis) -> str:
    """Why speed work could not be judged, and what was judged instead."""
    return (
        f"Speed work (cause 2) not judged: {analysis.zones_error}. Recovery (1) and"
        " strength (5, 6) are judged without heart rate; runs count as volume."
    )


def short_text(analysis: Analysis) -> str | None:
    """The recordings too short to judge, named so none is silently dropped."""
    if not analysis.short:
        return None
    minutes = f"{analysis.rules.min_activity_seconds / 60:g}"
    shown = "; ".join(
        f"#{f.id} {f.start_local:%a %d %b %H:%M} {f.label}" for f in analysis.short[:EVIDENCE]
    )
    more = len(analysis.short) - EVIDENCE
    return (
        f"Not judged, shorter than {minutes} min ([rules] min_activity_seconds): {shown}"
        + (f"; {more} more" if more > 0 else "")
        + "."
    )


def short_lines(analysis: Analysis, width: int) -> list[str]:
    """:func:`short_text`, wrapped, after a blank line."""
    text = short_text(analysis)
    return [] if text is None else ["", *textwrap.wrap(text, width, subsequent_indent="  ")]


def _para(text: str, width: int) -> list[str]:
    """An indented paragraph, wrapped at words so continuation lines keep the indent."""
    return textwrap.wrap(text, width=width, initial_indent="  ", subsequent_indent="    ")


def group_block(view: ReportView, group: FindingGroup, width: int) -> list[str]:
    """One problem: `[cause N: title]` and its headline, the weeks, the latest finding,
    the evidence and the fix."""
    facts = {f.id: f for f in view.analysis.facts}
    lines = textwrap.wrap(
        f"[cause {group.cause}: {cause_title(group.cause)}] {group_headline(group)}",
        width,
        subsequent_indent="  ",
    )
    if group.code.startswith("strength-") and len(group.findings) > 1:
        days = [f"{f.date:%a %Y-%m-%d}" for f in group.findings if f.date is not None]
        lines.extend(_para("days: " + ", ".join(days), width))
    elif len(group.weeks) > 1:
        lines.extend(_para("weeks: " + ", ".join(week_ranges(group.weeks)), width))
    latest = group.latest
    prefix = "latest: " if len(group.findings) > 1 else ""
    lines.extend(_para(prefix + finding_message(latest), width))
    shown = [facts[i] for i in latest.activities if i in facts][:EVIDENCE]
    if shown:
        evidence = "; ".join(
            f"#{f.id} {f.start_local:%a %d %b %H:%M} {f.label}"
            + (" hard" if f.hard else "")
            + (" leg-heavy" if f.leg_heavy else "")
            for f in shown
        )
        more = len(latest.activities) - len(shown)
        lines.extend(_para(f"evidence: {evidence}" + (f"; {more} more" if more > 0 else ""), width))
    recorded = wellness_evidence(latest)
    if recorded is not None:
        lines.extend(_para(recorded, width))
    if group.cause == 1:
        lines.extend(_para(load_evidence(view.loads, group), width))
    lines.extend(_para(f"fix: {finding_fix(latest)}", width))
    return lines


def load_evidence(loads: list[WeekLoad], group: FindingGroup) -> str:
    """The training load of the group's latest weeks (load, 7-day:28-day ratio, monotony)."""
    by_week = {w.week_start: w for w in loads}
    parts = []
    for week in group.weeks[-LOAD_WEEKS:]:
        load = by_week.get(week)
        if load is None:
            continue
        parts.append(
            f"week of {week}: load {load.load:.0f}, ratio {_num(load.ratio)},"
            f" monotony {_num(load.monotony)}"
        )
    return (
        "training load (a load ratio against your typical active week above 1.5, or"
        " monotony above 2, means too little recovery): " + "; ".join(parts)
    )


def _num(value: float | None) -> str:
    return "not known" if value is None else f"{value:.1f}"


def week_table(view: ReportView, width: int) -> list[str]:
    """The weeks, one row each (a run of empty weeks is one line), marked with causes."""
    analysis = view.analysis
    wide = width >= WIDE
    keys = [k for k, _ in WEEK_COLUMNS if wide or k not in ("season", "hr")]
    header_of = dict(WEEK_COLUMNS)
    headers = [header_of[k] for k in keys]
    left = {i for i, k in enumerate(keys) if k in ("week", "season", "causes")}
    rows: list[list[str] | str] = []
    weeks = analysis.weeks
    for w in week_rows(view):
        if isinstance(w, EmptyWeeks):
            rows.append(empty_text(w))
            continue
        cells = week_cells(view, w)
        rows.append([cells[k] for k in keys])
    legend = (
        f"causes: the causes found that week"
        f" ({causes_legend(analysis.wellness is not None)}); partial: the week lies"
        " partly outside the range, so only cause 1 is judged; ?: too little heart-rate"
        " data to judge speed work; load ratio: the week's load against your typical"
        " active week (the latest four weeks with training, this one included)."
    )
    peak = [w.week_start for w in weeks if w.season == "peak"]
    if peak and not wide:
        legend += " Peak season: " + ", ".join(week_ranges(tuple(peak))) + "."
    legend_lines = textwrap.wrap(legend, width, break_on_hyphens=False)
    return ["Weeks:", *columns(headers, rows, left), *legend_lines]


def columns(headers: list[str], rows: list[list[str] | str], left: set[int]) -> list[str]:
    """Aligned columns, one space apart; headers may stack words (``\\n``) and sit on
    the bottom line; a row given as one string is printed as it is. Cells never wrap:
    the callers keep them short enough for 80 columns. (rich's Table took a third of a
    second for five years of weeks; this takes milliseconds.)"""
    cells = [r for r in rows if not isinstance(r, str)]
    stacked = [h.split("\n") for h in headers]
    widths = [
        max([len(part) for part in stacked[c]] + [len(r[c]) for r in cells])
        for c in range(len(headers))
    ]

    def line(values: list[str]) -> str:
        return " ".join(
            v.ljust(widths[c]) if c in left else v.rjust(widths[c]) for c, v in enumerate(values)
        ).rstrip()

    height = max(len(parts) for parts in stacked)
    lines = []
    for k in range(height):  # stacked headers sit on the bottom line
        lines.append(
            line([p[k - height + len(p)] if k >= height - len(p) else "" for p in stacked])
        )
    lines.extend(r if isinstance(r, str) else line(r) for r in rows)
    return lines


def wellness_table(analysis: Analysis, width: int) -> list[str]:
    """Sleep, resting HR and HRV of each complete week with the week's monotony and
    strain, then each rule too thinly recorded to judge, once. Nothing without data."""
    body = analysis.wellness
    if body is None:
        return []
    keys = [k for k, _ in WELLNESS_COLUMNS]
    headers = [h for _, h in WELLNESS_COLUMNS]
    rows: list[list[str] | str] = []
    for week in body.weeks:
        cells = wellness_cells(week)
        rows.append([cells[k] for k in keys])
    rules = analysis.rules
    legend = wellness_legend(rules)
    lines = ["", "Sleep and recovery, complete weeks:"]
    lines.extend(columns(headers, rows, {0}) if rows else ["  no complete week in the range"])
    lines.extend(textwrap.wrap(legend, width, break_on_hyphens=False))
    for gap in body.not_judged:
        lines.extend(textwrap.wrap(not_judged_text(gap, rules), width, subsequent_indent="  "))
    return lines
