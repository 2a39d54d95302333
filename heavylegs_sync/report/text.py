"""The text report: a week table, then each finding with its evidence and the fix."""

from __future__ import annotations

import textwrap
from io import StringIO

from rich.console import Console
from rich.table import Table

from heavylegs_sync.analysis import Analysis


def to_text(analysis: Analysis, *, width: int = 110) -> str:
    """The report as plain text (no colour codes), ready to print or save.

    rich lays out the week table; the rest is plain wrapped text, which stays fast
    for years of findings.
    """
    from heavylegs_sync.report import CAUSES

    lines = [f"heavylegs report {analysis.first} .. {analysis.last}"]
    for paragraph in zone_lines(analysis):
        lines.extend(textwrap.wrap(paragraph, width))
    lines.append("")
    buffer = StringIO()
    Console(file=buffer, width=width, highlight=False, color_system=None).print(
        _weeks_table(analysis)
    )
    lines.extend(buffer.getvalue().rstrip("\n").splitlines())
    lines.append("")
    facts = {f.id: f for f in analysis.facts}
    if not analysis.findings:
        lines.append("No training causes of heavy legs found in these weeks.")
    else:
        lines.append(f"Findings ({len(analysis.findings)}):")
        for finding in analysis.findings:
            lines.append("")
            lines.append(
                f"[cause {finding.cause}: {CAUSES[finding.cause]}] week of "
                f"{finding.week_start} — {finding.code}"
            )
            lines.extend(_para(finding.message, width))
            shown = [facts[i] for i in finding.activities if i in facts][:10]
            if shown:
                evidence = "; ".join(
                    f"#{f.id} {f.start_local:%a %d %b %H:%M} {f.label}"
                    + (" hard" if f.hard else "")
                    + (" leg-heavy" if f.leg_heavy else "")
                    for f in shown
                )
                more = len(finding.activities) - len(shown)
                lines.extend(
                    _para(f"evidence: {evidence}" + (f"; +{more} more" if more > 0 else ""), width)
                )
            lines.extend(_para(f"fix: {finding.fix}", width))
    return "\n".join(lines) + "\n"


#: How each source of max HR is said, and what the runner can do about it.
_SOURCES = {
    "settings": "from your settings file",
    "watch": "from your watch's settings",
    "strava": "from your Strava heart-rate zones",
    "estimate": "estimated from your runs",
    "none": "not known",
}


def zone_lines(analysis: Analysis) -> list[str]:
    """Where the zones come from, and how to set them when they are only estimated."""
    model = analysis.model
    source = _SOURCES.get(model.max_hr_source, model.max_hr_source)
    if model.max_hr_source == "watch" and model.since is not None:
        source += f" (as of {model.since})"
    max_text = f"max HR {model.max_hr:.0f} bpm, {source}" if model.max_hr else f"max HR {source}"
    if model.max_hr_source == "strava":
        max_text = f"zones {source}"
    result = []
    if model.max_hr_source == "estimate" and model.method.value in ("hrmax", "hrr"):
        result.append(
            "Note: your max HR is estimated from your runs, so the zones (and the"
            " speed-work verdicts) may be off. Set it in the settings file, e.g."
            " '[athlete] max_hr = 190' (or lthr = 172), or import files from a watch that"
            " has it set."
        )
    result.append(
        f"Zones: {model.method.value}, upper bounds of zones 1-4 "
        f"{'/'.join(str(b) for b in model.bounds_bpm)} bpm (1-2 easy, 3-5 hard); "
        f"{max_text}."
    )
    timeline = analysis.timeline
    if timeline is not None and len(timeline.models) > 1:
        changes = ", ".join(
            f"{m.max_hr:.0f} bpm from {start}" if m.max_hr else f"{m.method.value} from {start}"
            for start, m in zip(timeline.starts[1:], timeline.models[1:], strict=True)
        )
        result.append(f"Your watch's max HR changed over the range: {changes}.")
    return result


def _para(text: str, width: int) -> list[str]:
    """An indented paragraph, wrapped at words so continuation lines keep the indent."""
    return textwrap.wrap(text, width=width, initial_indent="  ", subsequent_indent="    ")


def _weeks_table(analysis: Analysis) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    headers = (
        "week",
        "season",
        "run h:mm",
        "km",
        "hard %",
        "HR cover",
        "rest days",
        "strength",
        "long",
        "hard runs",
        "",
    )
    for header in headers:
        table.add_column(header, justify="left" if header in ("week", "season", "") else "right")
    for w in analysis.weeks:
        hours, rest = divmod(round(w.run_seconds / 60), 60)
        note = "" if w.complete else "partial week: only cause 1 judged"
        if w.complete and w.activity_count == 0:
            note = "no activity"
        table.add_row(
            str(w.week_start),
            w.season,
            f"{hours}:{rest:02d}",
            f"{w.run_distance_m / 1000:.1f}",
            "" if w.hard_share is None else f"{w.hard_share:.0%}",
            "" if w.hr_coverage is None else f"{w.hr_coverage:.0%}",
            f"{w.rest_days}/{w.days_in_range}",
            str(w.strength_sessions),
            str(len(w.long_run_ids)),
            str(len(w.hard_run_ids)),
            note,
        )
    return table
