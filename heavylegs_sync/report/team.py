"""The coach's view in words: a table of 80 columns, JSON (docs/team.md) or one HTML page.

The rows (:mod:`heavylegs_sync.team`) arrive in attention order and every format keeps
it. Causes are named from the one catalogue (:mod:`heavylegs_sync.causes`); their
sentences and fixes are ``heavylegs today``'s (:mod:`heavylegs_sync.report.today`).
"""

from __future__ import annotations

import json
import shlex
import textwrap
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from html import escape
from typing import Any
from urllib.parse import quote

from heavylegs_sync.causes import cause_title, legend, problem_title
from heavylegs_sync.report.today import notes, today_dict
from heavylegs_sync.team import Status, TeamRow, WeekSoFar
from heavylegs_sync.words import plural

WIDTH = 80
#: Where each athlete's report lives, relative to the team page (see :func:`report_file`).
REPORTS_FOLDER = "reports"
#: The text table's columns: key, heading, width, right-aligned.
COLUMNS = (
    ("athlete", "athlete", 14, False),
    ("causes", "causes", 10, False),
    ("last", "last activity", 26, False),
    ("run", "run", 5, True),
    ("hard", "hard", 4, True),
    ("rest", "rest", 5, True),
    ("strength", "str", 3, True),
)
#: The status of a row without causes, in the causes column.
STATUS_WORDS = {
    Status.CLEAR: "none",
    Status.STALE: "stale",
    Status.NO_DATA: "no data",
}


def report_file(athlete: str) -> str:
    """The athlete's report, relative to the team page: ``reports/NAME.html`` (the name
    percent-encoded where it holds anything a file name should not)."""
    return f"{REPORTS_FOLDER}/{quote(athlete, safe='')}.html"


def render_team(
    rows: Sequence[TeamRow], output_format: str, *, links: Mapping[str, str] | None = None
) -> str:
    """The rows as ``text``, ``json`` or ``html``; ``links``: the report file (relative to
    the page) of each athlete that has one."""
    links = links or {}
    if output_format == "json":
        return team_json(rows, links)
    if output_format == "html":
        return team_html(rows, links)
    return team_text(rows)


def _day(day: date) -> str:
    return f"{day:%a %d %b}"


def _hours(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _share(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def heading(rows: Sequence[TeamRow]) -> str:
    """``Team on Wed 11 Nov 2026: 4 athletes, 2 with causes ...``."""
    days = sorted({r.day for r in rows})
    if not days:
        return "Team: no athletes in this store."
    when = (
        f"on {days[0]:%a %d %b %Y}"
        if len(days) == 1
        else f"on each athlete's today ({days[0]:%d %b} to {days[-1]:%d %b %Y})"
    )
    counts = {s: sum(1 for r in rows if r.status is s) for s in Status}
    parts = [plural(len(rows), "athlete")]
    if counts[Status.CAUSES]:
        parts.append(f"{counts[Status.CAUSES]} with causes of heavy legs")
    if counts[Status.STALE]:
        parts.append(f"{counts[Status.STALE]} with nothing recent")
    if counts[Status.NO_DATA]:
        parts.append(f"{counts[Status.NO_DATA]} with nothing to judge")
    if counts[Status.CLEAR]:
        parts.append(f"{counts[Status.CLEAR]} clear")
    return f"Team {when}: {', '.join(parts)}."


def cells(row: TeamRow) -> dict[str, str]:
    """The text table's cells of one row (also the HTML table's, but for causes)."""
    last = row.last
    week = row.week
    result = {
        "athlete": row.athlete,
        "causes": " ".join(str(c.cause) for c in row.causes) or STATUS_WORDS[row.status],
        "last": "-" if last is None else f"{_day(last.day)} {last.label}",
        "run": "-",
        "hard": "-",
        "rest": "-",
        "strength": "-",
    }
    if week is not None:
        result.update(_week_cells(week))
    return result


def _week_cells(week: WeekSoFar) -> dict[str, str]:
    return {
        "run": _hours(week.run_seconds),
        "hard": _share(week.hard_share),
        "rest": f"{week.rest_days}/{week.days_past}",
        "strength": str(week.strength_sessions),
    }


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def _line(values: Mapping[str, str]) -> str:
    out = []
    for key, _, width, right in COLUMNS:
        text = _fit(values[key], width)
        out.append(text.rjust(width) if right else text.ljust(width))
    return "  ".join(out).rstrip()


def row_summary(row: TeamRow) -> str:
    """What the row says in a sentence: its causes with their problems and scores, or
    why nothing was judged."""
    if row.causes:
        return "; ".join(f"{c.cause} {problem_title(c.code)} ({c.score:g})" for c in row.causes)
    if row.status is Status.STALE and row.last is not None:
        return (
            f"nothing recent: the latest activity is from {row.last.day:%a %d %b %Y}"
            f" ({plural(row.days_since_last or 0, 'day')} before); nothing judged."
        )
    if row.status is Status.NO_DATA:
        if row.last is None:
            name = shlex.quote(row.athlete)
            return f"no activities yet: heavylegs --athlete {name} import FOLDER"
        return f"no activity before {row.day:%a %d %b}: nothing to judge yet."
    return "no cause of heavy legs found."


def team_text(rows: Sequence[TeamRow], width: int = WIDTH) -> str:
    """The table, then a line for each athlete to look at, then the legend."""
    lines = textwrap.wrap(heading(rows), width)
    if not rows:
        return "\n".join(lines) + "\n"
    week = week_line(rows)
    if week:
        lines.append(week)
    lines.append("")
    lines.append(_line({key: head for key, head, _, _ in COLUMNS}))
    lines.extend(_line(cells(r)) for r in rows)
    look = [r for r in rows if r.status is not Status.CLEAR]
    if look:
        lines.append("")
        lines.append("To look at, strongest causes first (severity in brackets):")
        for r in look:
            lines.extend(
                textwrap.wrap(
                    f"{r.athlete}: {row_summary(r)}",
                    width,
                    initial_indent="  ",
                    subsequent_indent="    ",
                    break_on_hyphens=False,
                )
            )
    lines.append("")
    lines.extend(textwrap.wrap(legend_text(), width))
    return "\n".join(lines) + "\n"


def week_line(rows: Sequence[TeamRow]) -> str | None:
    """``Week so far: Mon 09 Nov to Wed 11 Nov.`` when every row has the same day."""
    days = {r.day for r in rows}
    if len(days) != 1:
        return None  # each row's own week, Monday to its day
    day = next(iter(days))
    first = day - timedelta(days=day.weekday())
    span = _day(day) if first == day else f"{_day(first)} to {_day(day)}"
    return f"Week so far: {span}."


#: What the text table's week columns mean.
TEXT_LEGEND = (
    "run: running time this week so far (h:mm); hard: its share with heart rate in"
    " zones 3-5; rest: rest days of the days past; str: strength sessions."
)
#: The same for the HTML table's columns.
HTML_LEGEND = (
    "Running: running time this week so far (h:mm); Hard: its share with heart rate in"
    " zones 3-5; Rest days: of the days past; Strength: sessions this week."
)


def legend_text(columns: str = TEXT_LEGEND) -> str:
    """What the columns mean, and the causes by number."""
    return f"{columns} Causes: {legend(wellness=True)}."


def row_dict(row: TeamRow, rank: int, links: Mapping[str, str]) -> dict[str, Any]:
    """One athlete in the JSON shape docs/team.md documents."""
    last = row.last
    week = row.week
    return {
        "athlete": row.athlete,
        "rank": rank,
        "date": row.day.isoformat(),
        "status": row.status.value,
        "severity": row.severity,
        "causes": today_dict(row.answer)["causes"],
        "notes": notes(row.answer),
        "last_activity": None
        if last is None
        else {
            "id": last.id,
            "date": last.day.isoformat(),
            "start_local": last.start_local.isoformat(),
            "category": last.category.value,
            "label": last.label,
        },
        "days_since_last": row.days_since_last,
        "week": None
        if week is None
        else {
            "first": week.first.isoformat(),
            "last": week.last.isoformat(),
            "activities": week.activities,
            "run_seconds": round(week.run_seconds),
            "hard_share": None if week.hard_share is None else round(week.hard_share, 3),
            "rest_days": week.rest_days,
            "days_past": week.days_past,
            "strength_sessions": week.strength_sessions,
        },
        "report": links.get(row.athlete),
    }


def team_dict(rows: Sequence[TeamRow], links: Mapping[str, str]) -> dict[str, Any]:
    """``{"date", "athletes"}``: ``date`` None when the athletes' days differ."""
    days = {r.day for r in rows}
    return {
        "date": next(iter(days)).isoformat() if len(days) == 1 else None,
        "athletes": [row_dict(r, rank, links) for rank, r in enumerate(rows, 1)],
    }


def team_json(rows: Sequence[TeamRow], links: Mapping[str, str] | None = None) -> str:
    """:func:`team_dict` as indented JSON text."""
    return json.dumps(team_dict(rows, links or {}), indent=2) + "\n"


TEAM_STYLE = """
#team th:nth-child(-n+3), #team td:nth-child(-n+3) { text-align: left; }
tr[data-status="causes"] td { background: #fdf0ef; }
tr[data-status="stale"] td, tr[data-status="no-data"] td { color: #5f6368; }
td.causes { white-space: normal; min-width: 16em; }
td.causes ol { margin: 0; }
"""


def team_html(rows: Sequence[TeamRow], links: Mapping[str, str] | None = None) -> str:
    """One self-contained page: the table in attention order, each athlete's name
    linking to their report where ``links`` has one."""
    from heavylegs_sync.report.html import _page

    links = links or {}
    head = "".join(
        f"<th>{escape(h)}</th>"
        for h in (
            "Athlete",
            "Causes, strongest first",
            "Last activity",
            "Running",
            "Hard",
            "Rest days",
            "Strength",
        )
    )
    body = "".join(_html_row(r, links) for r in rows)
    title = heading(rows)
    week = week_line(rows)
    clear = "" if any(r.causes for r in rows) else " clear"
    return _page(
        "heavylegs team",
        [
            f"<style>{TEAM_STYLE}</style>",
            "<h1>Team</h1>",
            f'<p class="card verdict{clear}" id="summary">{escape(title)}'
            + (f"<br>{escape(week)}" if week else "")
            + "</p>",
            '<div class="card table-box"><table id="team">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f'<p class="muted">{escape(legend_text(HTML_LEGEND))}</p></div>',
        ],
        False,
    )


def _html_row(row: TeamRow, links: Mapping[str, str]) -> str:
    c = cells(row)
    name = escape(row.athlete)
    link = links.get(row.athlete)
    athlete = f'<a href="{escape(quote(link))}">{name}</a>' if link else name
    if row.causes:
        items = "".join(
            f"<li><strong>{escape(cause_title(x.cause))}</strong>:"
            f" {escape(problem_title(x.code))} ({x.score:g})</li>"
            for x in row.causes
        )
        causes = f"<ol>{items}</ol>"
    else:
        causes = escape(row_summary(row))
    return (
        f'<tr data-athlete="{name}" data-status="{row.status.value}">'
        f"<td>{athlete}</td><td class='causes'>{causes}</td><td>{escape(c['last'])}</td>"
        f"<td>{escape(c['run'])}</td><td>{escape(c['hard'])}</td>"
        f"<td>{escape(c['rest'])}</td><td>{escape(c['strength'])}</td></tr>"
    )
