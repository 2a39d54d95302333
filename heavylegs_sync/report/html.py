"""The HTML report: one self-contained page to look at, keep and share.

Everything is inline (style, charts as SVG from :mod:`heavylegs_sync.report.charts`): the
page loads nothing from the network and reads well from a phone (375 px) to a desktop.
It shows what the text report shows, in the same order: the verdict, the problems with
every finding and its evidence, then the charts and the weeks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from heavylegs_sync import __version__
from heavylegs_sync.analysis import Analysis, Finding
from heavylegs_sync.analysis.body_checks import HRV, RESTING_HR, SLEEP
from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.analysis.grouping import FindingGroup
from heavylegs_sync.causes import cause_title
from heavylegs_sync.report import charts
from heavylegs_sync.report.findings import (
    finding_fix,
    finding_message,
    group_headline,
    group_title,
    wellness_evidence,
)
from heavylegs_sync.report.text import short_text, zone_lines
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

STYLE = """
:root { color-scheme: light; --hard: #c8413b; --easy: #3d8b5f; --muted: #5f6368; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2328; background: #f6f7f9; }
main { max-width: 1100px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.5rem; margin: 0.2em 0; }
h2 { font-size: 1.2rem; margin: 1.6em 0 0.5em; }
h3 { font-size: 1.05rem; margin: 0 0 0.3em; }
.card { background: #fff; border: 1px solid #d8dde3; border-radius: 8px; padding: 12px 16px;
  margin: 12px 0; overflow-wrap: anywhere; }
.verdict { border-left: 6px solid var(--hard); }
.verdict.clear { border-left-color: var(--easy); }
.finding h3 .cause { color: var(--hard); }
.muted, figcaption { color: var(--muted); font-size: 0.9rem; }
ol, ul { padding-left: 1.3em; }
details summary { cursor: pointer; color: #0b57d0; }
.chart-box { overflow-x: auto; }
svg.chart { display: block; width: 100%; min-width: 560px; height: auto; }
table { border-collapse: collapse; font-size: 0.9rem; white-space: nowrap; }
th, td { padding: 2px 8px; text-align: right; border-bottom: 1px solid #eceff3; }
th:first-child, td:first-child, td.causes { text-align: left; }
tr.flagged td { background: #fdf0ef; }
tr.empty td { color: #666; font-style: italic; text-align: left; }
.table-box { overflow-x: auto; }
footer { margin: 2em 0 1em; color: var(--muted); font-size: 0.85rem; }
.strava { font-weight: 600; color: #fc4c02; }
.hint { display: none; }
@media (max-width: 600px) { main { padding: 8px; } .card { padding: 10px; }
  .hint { display: inline; } }
"""


def to_html(
    analysis: Analysis, *, strava: bool = False, today: Mapping[str, Any] | None = None
) -> str:
    """The report as one HTML page.

    ``strava``: some shown activity came from Strava, so the page carries Strava's
    attribution. ``today``: the ``heavylegs today`` answer for the last day in its JSON
    shape (``{"date", "causes": [{"cause", "code", "score", "message", "evidence",
    "fix"}]}``); its section is shown only when the caller passes it.
    """
    view = build_view(analysis)
    body = [
        f"<h1>Heavy legs report, {analysis.first} to {analysis.last}</h1>",
        _verdict(view),
    ]
    if today is not None:
        body.append(today_section(today))
    if not view.no_data:
        body.append(_problems(view))
        body.append(_charts(view))
        body.append(_weeks(view))
        if analysis.wellness is not None:
            body.append(_wellness(view))
        body.append(
            '<section class="card"><h2>Zones</h2>'
            + "".join(f"<p>{escape(p, quote=False)}</p>" for p in zone_lines(analysis))
            + "</section>"
        )
    return _page(f"heavylegs report {analysis.first} to {analysis.last}", body, strava)


def message_page(message: str) -> str:
    """A page that says only one thing (e.g. nothing imported yet)."""
    return _page("heavylegs report", [f'<p class="card verdict">{escape(message)}</p>'], False)


def _page(title: str, body: Sequence[str], strava: bool) -> str:
    footer = f"Made by heavylegs-sync {escape(__version__)} from your own files."
    if strava:
        footer += ' Some activities come from Strava. <span class="strava">Powered by Strava</span>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(body)}<footer>{footer}</footer></main></body></html>\n"
    )


def _verdict(view: ReportView) -> str:
    sentences = verdict(view)
    numbered = [s for s in sentences if s[:1].isdigit()]
    plain = [s for s in sentences if not s[:1].isdigit()]
    items = "".join(f"<li>{escape(s.split('. ', 1)[1], quote=False)}</li>" for s in numbered)
    clear = " clear" if not view.groups and not view.no_data else ""
    return (
        f'<section class="card verdict{clear}" id="verdict">'
        + "".join(f"<p>{escape(s, quote=False)}</p>" for s in plain)
        + (f"<ol>{items}</ol>" if items else "")
        + "</section>"
    )


def today_section(today: Mapping[str, Any]) -> str:
    """The answer for the report's last day (see :func:`to_html`)."""
    causes = today.get("causes") or []
    head = f"<h2>Why are my legs heavy on {escape(str(today.get('date', '')))}?</h2>"
    if not causes:
        if "sleep" in (today.get("wellness_judged") or ()):
            return (
                f'<section class="card" id="today">{head}<p>No cause found for this day, and'
                " your sleep is within its limit: look at hydration, nutrition, form and"
                " shoes.</p></section>"
            )
        return (
            f'<section class="card" id="today">{head}<p>No training cause found for this day:'
            " look at sleep, hydration, nutrition, form and shoes.</p></section>"
        )
    items = []
    for c in causes:
        cause = int(c.get("cause", 0))
        items.append(
            f"<li><strong>{escape(cause_title(cause))}</strong>:"
            f" {escape(str(c.get('message', '')), quote=False)}"
            f"<br><span class='muted'>Fix: {escape(str(c.get('fix', '')), quote=False)}</span>"
            "</li>"
        )
    return f'<section class="card" id="today">{head}<ol>{"".join(items)}</ol></section>'


def _problems(view: ReportView) -> str:
    if not view.groups:
        return (
            '<section id="findings"><h2>Problems</h2><p class="card">No training causes'
            " of heavy legs found in these weeks.</p></section>"
        )
    facts = {f.id: f for f in view.analysis.facts}
    blocks = [_group(g, facts) for g in view.groups]
    return (
        '<section id="findings"><h2>Problems, the most important first</h2>'
        + "".join(blocks)
        + "</section>"
    )


def _group(group: FindingGroup, facts: Mapping[int, ActivityFacts]) -> str:
    weeks = ", ".join(week_ranges(group.weeks))
    findings = "".join(_finding(f, facts) for f in reversed(group.findings))
    many = len(group.findings) > 1
    listing = (
        f"<details><summary>All {len(group.findings)} findings, newest first</summary>"
        f"<ul>{findings}</ul></details>"
        if many
        else f"<ul>{findings}</ul>"
    )
    return (
        f'<article class="card finding" data-code="{escape(group.code)}">'
        f'<h3><span class="cause">Cause {group.cause}: {escape(cause_title(group.cause))}</span>'
        f" — {escape(group_title(group), quote=False)}</h3>"
        f"<p>{escape(group_headline(group), quote=False)}</p>"
        + (f'<p class="muted">Weeks: {escape(weeks)}</p>' if many else "")
        + f"<p><strong>Fix:</strong> {escape(finding_fix(group.latest), quote=False)}</p>"
        + listing
        + "</article>"
    )


def _finding(finding: Finding, facts: Mapping[int, ActivityFacts]) -> str:
    shown = [facts[i] for i in finding.activities if i in facts]
    evidence = "; ".join(
        f"#{f.id} {f.start_local:%a %d %b %Y %H:%M} {f.label}"
        + (" hard" if f.hard else "")
        + (" leg-heavy" if f.leg_heavy else "")
        for f in shown
    )
    days = wellness_evidence(finding)
    return (
        f'<li class="evidence"><p>{escape(finding_message(finding), quote=False)}</p>'
        + (f'<p class="muted">Evidence: {escape(evidence, quote=False)}</p>' if evidence else "")
        + (f'<p class="muted">{escape(days, quote=False)}</p>' if days else "")
        + "</li>"
    )


def _charts(view: ReportView) -> str:
    figures = [
        (
            "Running time per week, easy and hard; below, the hard share against the limit",
            charts.running(view),
        ),
        ("Rest days per week", charts.rest_days(view)),
        ("Strength sessions against long and hard runs", charts.timeline(view)),
        ("Time in heart-rate zones (runs)", charts.zones(view)),
        (
            "Training load per week and the load ratio (against your typical active week)",
            charts.load(view),
        ),
    ]
    return (
        '<section id="charts"><h2>Charts</h2>'
        + "".join(
            f'<figure class="card"><div class="chart-box">{svg}</div>'
            f"<figcaption>{escape(caption)}"
            '<span class="hint"> (swipe sideways to see every week)</span>'
            "</figcaption></figure>"
            for caption, svg in figures
        )
        + "</section>"
    )


def _weeks(view: ReportView) -> str:
    """The text report's weeks table: the same columns, empty weeks collapsed."""
    head = "<tr>" + "".join(f"<th>{escape(h.replace(chr(10), ' '))}</th>" for _, h in WEEK_COLUMNS)
    head += "</tr>"
    rows = []
    for w in week_rows(view):
        if isinstance(w, EmptyWeeks):
            rows.append(
                f'<tr class="empty"><td colspan="{len(WEEK_COLUMNS)}">'
                f"{escape(empty_text(w))}</td></tr>"
            )
            continue
        cells = week_cells(view, w)
        flagged = ' class="flagged"' if cells["causes"].replace("partial", "").strip() else ""
        rows.append(
            f"<tr{flagged}>"
            + "".join(
                f'<td class="causes">{escape(cells[k])}</td>'
                if k == "causes"
                else f"<td>{escape(cells[k])}</td>"
                for k, _ in WEEK_COLUMNS
            )
            + "</tr>"
        )
    short = short_text(view.analysis)
    note = "" if short is None else f'<p class="hint">{escape(short)}</p>'
    return (
        '<section id="weeks"><h2>Weeks</h2><div class="card table-box"><table>'
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>{note}</div></section>"
    )


def _wellness(view: ReportView) -> str:
    """Sleep, resting HR and HRV: the charts against their baselines, the weeks' table
    (with Foster's monotony and strain), and what could not be judged."""
    a = view.analysis
    body = a.wellness
    assert body is not None
    figures = []
    if SLEEP in body.measures:
        figures.append(
            (f"Hours asleep each night (by wake date) against {a.rules.min_sleep_hours:g} h",
             charts.sleep(view))
        )  # fmt: skip
    if RESTING_HR in body.measures:
        figures.append(
            (f"Resting heart rate against its baseline (the median of the"
             f" {a.rules.baseline_first_day} to {a.rules.baseline_last_day} days before each day)",
             charts.resting_hr(view))
        )  # fmt: skip
    if HRV in body.measures:
        figures.append(
            ("Nightly HRV against its baseline band (mean and standard deviation of ln HRV)",
             charts.hrv(view))
        )  # fmt: skip
    head = "<tr>" + "".join(
        f"<th>{escape(h.replace(chr(10), ' '))}</th>" for _, h in WELLNESS_COLUMNS
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in wellness_cells(w).values()) + "</tr>"
        for w in body.weeks
    )
    gaps = "".join(
        f'<p class="muted">{escape(not_judged_text(g, a.rules), quote=False)}</p>'
        for g in body.not_judged
    )
    return (
        '<section id="wellness"><h2>Sleep and recovery</h2>'
        + "".join(
            f'<figure class="card"><div class="chart-box">{svg}</div>'
            f"<figcaption>{escape(caption)}</figcaption></figure>"
            for caption, svg in figures
        )
        + '<div class="card table-box"><table>'
        f"<thead>{head}</tr></thead><tbody>{rows}</tbody></table>"
        f'<p class="muted">{escape(wellness_legend(a.rules), quote=False)}</p>{gaps}</div>'
        "</section>"
    )
