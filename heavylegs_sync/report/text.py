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

    model = analysis.model
    source = {
        "config": "from your settings",
        "estimated": "estimated from your runs (set [athlete] max_hr to be exact)",
        "none": "not known",
    }.get(model.max_hr_source, model.max_hr_source)
    max_text = f"{model.max_hr:.0f} bpm, {source}" if model.max_hr else source
    lines = [
        f"heavylegs report {analysis.first} .. {analysis.last}",
        *textwrap.wrap(
            f"Zones: {model.method.value}, upper bounds of zones 1-4 "
            f"{'/'.join(str(b) for b in model.bounds_bpm)} bpm (1-2 easy, 3-5 hard); "
            f"max HR {max_text}.",
            width,
        ),
        "",
    ]
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
