"""The activity listing as data: one flat record per activity, for JSON, CSV and notebooks."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Sequence
from typing import Any

from heavylegs_sync.localtime import AthleteZones, ZoneChoice, ZoneKind, period_text, zone_periods
from heavylegs_sync.model import Activity, OffsetSource
from heavylegs_sync.words import plural

#: The columns, in order; JSON objects and CSV rows share them.
COLUMNS = (
    "id",
    "start_utc",
    "start_local",
    "zone",
    "zone_reason",
    "category",
    "sport",
    "duration_s",
    "moving_s",
    "elapsed_s",
    "distance_m",
    "avg_hr",
    "max_hr",
    "hr_coverage",
    "sources",
    "points_dropped",
    "notes",
    "name",
    "perceived_exertion",
    "relative_effort",
    "weight_lifted_kg",
    "decoder",
    "decoder_note",
)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def zone_of(a: Activity, zones: AthleteZones | None) -> ZoneChoice:
    """The zone an activity's date used and why (without the zones: as stored)."""
    if zones is not None:
        return zones.of(a)
    from heavylegs_sync.localtime import offset_label

    own = a.offset_source is OffsetSource.DEVICE
    kind, reason = (ZoneKind.OWN, "its own") if own else (ZoneKind.EVIDENCE, "as stored")
    return ZoneChoice(a.utc_offset_s, offset_label(a.utc_offset_s), kind, reason)


def activity_record(a: Activity, zones: AthleteZones | None = None) -> dict[str, Any]:
    """One activity as plain data (times ISO 8601; ``sources``: file paths, ``strava:<id>``;
    ``zone``: the zone its date used, ``zone_reason``: why, see docs/timezones.md)."""
    zone = zone_of(a, zones)
    return {
        "id": a.id,
        "start_utc": a.start_utc.isoformat().replace("+00:00", "Z"),
        "start_local": a.start_local.isoformat(),
        "zone": zone.label,
        "zone_reason": zone.reason,
        "category": a.category.value,
        "sport": a.sport,
        # One meaning everywhere (text, JSON, CSV, the activities_local view, the report):
        # moving time when the recording has it, else elapsed time.
        "duration_s": _round(a.duration_s, 1),
        "moving_s": _round(a.timer_s, 1),
        "elapsed_s": _round(a.elapsed_s, 1),
        "distance_m": _round(a.distance_m, 1),
        "avg_hr": _round(a.avg_hr, 1),
        "max_hr": _round(a.max_hr, 1),
        "hr_coverage": _round(a.hr_coverage, 3),
        "sources": list(a.source_refs),
        "points_dropped": a.points_dropped,
        "notes": list(a.notes),
        "decoder": a.decoder,  # which decoder read the file ("fitfast", "fitparse")
        "decoder_note": a.decoder_note,  # why the fast one did not, after a fallback
        "name": a.name,
        "perceived_exertion": a.perceived_exertion,
        "relative_effort": a.relative_effort,
        "weight_lifted_kg": _round(a.weight_lifted_kg, 1),
    }


def activities_json(activities: Sequence[Activity], zones: AthleteZones | None = None) -> str:
    """A JSON list of :func:`activity_record` objects."""
    records = [activity_record(a, zones) for a in activities]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def activities_csv(activities: Sequence[Activity], zones: AthleteZones | None = None) -> str:
    """CSV with a header row; several sources are joined with ``;``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for a in activities:
        record = activity_record(a, zones)
        record["sources"] = ";".join(record["sources"])
        record["notes"] = ";".join(record["notes"])
        writer.writerow(record)
    return buffer.getvalue()


#: From this width on, the listing shows the weekday and the full source list.
WIDE = 110
#: Columns of the listing when it goes to a pipe or a file (docs/report.md: 100).
TEXT_WIDTH = 100


def activity_notes(a: Activity) -> list[str]:
    """What is not whole about an activity: truncated, values dropped, GPS glitches."""
    notes = list(a.notes)
    if a.points_dropped:
        notes.append(f"{plural(a.points_dropped, 'GPS point')} dropped")
    return notes


def activities_text(
    activities: Sequence[Activity], width: int, zones: AthleteZones | None = None
) -> str:
    """The listing as a table within ``width`` columns: the id (which the report's evidence
    cites), the local start and the figures never wrap; kind, effort, sources and notes wrap
    at whole words within their column. When even their longest words do not fit beside
    the figures, notes (then sources) go on an indented line of their own below the row:
    a word is never cut. Below it, with ``zones``: the zones the dates used, and why."""
    wide = width >= WIDE_DAYS
    columns: list[_Column] = [
        _Column("id", [str(a.id) for a in activities], right=True),
        _Column("date (local)", [_when(a, wide) for a in activities]),
        _Column("kind", [_kind(a, width >= WIDE) for a in activities], wraps=True),
        _Column("duration", [_duration_text(a.duration_s) for a in activities], right=True),
        _Column("km", [_km(a) for a in activities], right=True),
        _Column("avg HR", [_avg_hr(a) for a in activities], right=True),
        _Column("with HR", [_coverage(a) for a in activities], right=True),
    ]
    effort = [effort_text(a) for a in activities]
    if any(effort):
        columns.append(_Column("effort", effort, wraps=True))
    sources = _Column("sources", [", ".join(a.sources) for a in activities], wraps=True)
    notes_cells = ["; ".join(activity_notes(a)) for a in activities]
    notes = _Column("notes", notes_cells, wraps=True) if any(notes_cells) else None
    below: list[_Column] = []
    for moved in ([], [notes], [notes, sources]):
        below = [c for c in moved if c is not None]
        shown = [*columns, *(c for c in (sources, notes) if c is not None and c not in below)]
        if _fit(shown, width):
            break
    lines = [_line([c.header for c in shown], shown)]
    for row in range(len(activities)):
        cells = [c.wrapped[row] if c.wraps else [c.cells[row]] for c in shown]
        for depth in range(max(len(cell) for cell in cells)):
            lines.append(_line([cell[depth] if depth < len(cell) else "" for cell in cells], shown))
        for column in below:
            if column.cells[row]:
                text = f"{column.header}: {column.cells[row]}"
                lines.extend(_wrap(text, width - 4, indent="    "))
    if zones is not None and activities:
        lines.append("")
        for line in zones_lines(activities, zones):
            lead = " " * (len(line) - len(line.lstrip()))
            lines.extend(_wrap_hanging(line.strip(), width, lead, lead + "    "))
    return "\n".join(line.rstrip().replace("\u00a0", " ") for line in lines) + "\n"


def _wrap_hanging(text: str, width: int, first: str, rest: str) -> list[str]:
    """Whole words, the lines after the first indented further."""
    return textwrap.wrap(
        text, max(1, width), initial_indent=first, subsequent_indent=rest,
        break_long_words=False, break_on_hyphens=False,
    ) or [""]  # fmt: skip


def zones_lines(activities: Sequence[Activity], zones: AthleteZones) -> list[str]:
    """``time zones:`` and one line per run of dates in one zone (``info``, the listing)."""
    head = "time zones:  found in the activities that carry an offset (no [athlete] timezone)"
    periods = zone_periods(activities, zones)
    if zones.setting is not None:
        head = f"time zones:  {zones.setting.key} (setting) for activities without their own"
    elif not zones.evidence:
        head = f"time zones:  {zones.machine.key} (this machine; no activity says)"
    return [head, *(f"  {period_text(p)}" for p in periods)]


#: From this width on (a pipe's 100 columns), the date shows the weekday too.
WIDE_DAYS = 100
_GAP = " "


class _Column:
    """One column of the listing: its cells, and for a wrapping one its width and lines."""

    def __init__(self, header: str, cells: list[str], *, right: bool = False, wraps: bool = False):
        self.header = header
        self.cells = cells
        self.right = right
        self.wraps = wraps
        words = [w for cell in cells for w in cell.split()] + [header]
        self.least = max(len(w) for w in words)  # never less than the longest word
        self.width = max([len(header), *(len(c) for c in cells)])
        self.wrapped: list[list[str]] = []

    def set_width(self, width: int) -> None:
        self.width = width
        self.wrapped = [_wrap(cell, width) if cell else [""] for cell in self.cells]


def _fit(columns: list[_Column], width: int) -> bool:
    """Give the wrapping columns the room the fixed ones leave; False when their longest
    words do not fit."""
    for column in columns:  # a column may have been shrunk by an earlier attempt
        if column.wraps:
            column.set_width(max([len(column.header), *(len(c) for c in column.cells)]))
    fixed = sum(c.width for c in columns if not c.wraps) + len(_GAP) * (len(columns) - 1)
    flexible = [c for c in columns if c.wraps]
    room = width - fixed
    if sum(c.least for c in flexible) > room:
        return False
    excess = sum(c.width for c in flexible) - room
    while excess > 0:  # take a column from the widest, never below its longest word
        widest = max((c for c in flexible if c.width > c.least), key=lambda c: c.width)
        widest.set_width(widest.width - 1)
        excess -= 1
    for column in flexible:
        column.set_width(column.width)
    return True


def _line(cells: list[str], columns: list[_Column]) -> str:
    return _GAP.join(
        cell.rjust(c.width) if c.right else cell.ljust(c.width)
        for cell, c in zip(cells, columns, strict=True)
    )


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Whole words only (a word longer than ``width`` stands alone on its line)."""
    return textwrap.wrap(
        text,
        max(1, width),
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [""]


def _when(a: Activity, wide: bool) -> str:
    local = a.start_local
    when = f"{local:%Y-%m-%d %a %H:%M}" if wide else f"{local:%Y-%m-%d %H:%M}"
    return f"{when} {_offset_text(a.utc_offset_s)}"


def _km(a: Activity) -> str:
    return f"{a.distance_m / 1000:.2f}" if a.distance_m else ""


def _avg_hr(a: Activity) -> str:
    """No average beside no coverage: a figure from no heart rate is not shown."""
    if not a.avg_hr or a.hr_coverage == 0:
        return ""
    return f"{a.avg_hr:.0f}"


def _coverage(a: Activity) -> str:
    return "" if a.hr_coverage is None else f"{a.hr_coverage:.0%}"


def effort_text(a: Activity) -> str:
    """``RPE 7, 2450 kg``: how hard it felt and what was lifted, where an export said."""
    parts = []  # no-break spaces: a narrow column wraps at the comma only
    if a.perceived_exertion is not None:
        parts.append(f"RPE\u00a0{a.perceived_exertion:g}")
    if a.weight_lifted_kg is not None:
        parts.append(f"{a.weight_lifted_kg:.0f}\u00a0kg")
    return ", ".join(parts)


#: Recorded sports that say no more than their category.
_PLAIN = {"run": ("running",), "strength": ("strength_training", "training")}


def _kind(a: Activity, wide: bool) -> str:
    """The category, with the recorded sport when it says more (``cross (cycling)``); the
    sub-sport only when there is room."""
    category = a.category.value
    sport = a.sport or "?"
    plain = sport == category or sport in _PLAIN.get(category, ())
    if wide and a.sub_sport and a.sub_sport not in ("generic", a.sport):
        sport += f"/{a.sub_sport}"
        plain = False
    said = [] if plain else [sport]
    if a.sport_inferred:
        said.append("inferred")
    return f"{category} ({', '.join(said)})" if said else category


def _offset_text(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}"


def _duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
