"""The activity listing as data: one flat record per activity, for JSON, CSV and notebooks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from heavylegs_sync.localtime import AthleteZones, ZoneChoice, ZoneKind, period_text, zone_periods
from heavylegs_sync.model import Activity, OffsetSource

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
        "duration_s": _round(a.elapsed_s if a.elapsed_s is not None else a.timer_s, 1),
        "moving_s": _round(a.timer_s, 1),
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


def activity_notes(a: Activity) -> list[str]:
    """What is not whole about an activity: truncated, values dropped, GPS glitches."""
    notes = list(a.notes)
    if a.points_dropped:
        notes.append(f"{a.points_dropped} GPS points dropped")
    return notes


def activities_text(
    activities: Sequence[Activity], width: int, zones: AthleteZones | None = None
) -> str:
    """The listing as a table that fits ``width`` columns: the id (which the report's
    evidence cites), the local start and the figures never wrap; sport, notes and sources
    wrap within their column. Below it, with ``zones``: the zones the dates used, and why."""
    from rich.console import Console
    from rich.table import Table

    wide = width >= WIDE
    notes = any(activity_notes(a) for a in activities)
    effort = any(effort_text(a) for a in activities)
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("date (local)", no_wrap=True)
    table.add_column("kind", overflow="fold", min_width=8)
    table.add_column("duration", justify="right", no_wrap=True)
    table.add_column("km", justify="right", no_wrap=True)
    # One header line when there is room; stacked words when there is not.
    for header in ("average heart rate", "with heart rate"):
        shown = header if wide else header.replace(" ", "\n")
        table.add_column(shown, justify="right", no_wrap=True)
    if effort:
        table.add_column("effort", min_width=7)  # "RPE 7," over "2450 kg" when narrow
    table.add_column("sources", overflow="fold", min_width=6)
    if notes:
        table.add_column("notes", min_width=9)  # words wrap whole: "truncated"
    for a in activities:
        local = a.start_local
        when = f"{local:%Y-%m-%d %a %H:%M}" if wide else f"{local:%Y-%m-%d %H:%M}"
        row = [
            str(a.id),
            f"{when} {_offset_text(a.utc_offset_s)}",
            _kind(a, wide),
            _duration_text(a.duration_s),
            f"{a.distance_m / 1000:.2f}" if a.distance_m else "",
            f"{a.avg_hr:.0f}" if a.avg_hr else "",
            "" if a.hr_coverage is None else f"{a.hr_coverage:.0%}",
            *([effort_text(a)] if effort else []),
            ", ".join(a.sources),
        ]
        if notes:
            row.append("; ".join(activity_notes(a)))
        table.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, width=width, highlight=False, color_system=None).print(table)
    text = buffer.getvalue().replace("\u00a0", " ")  # kept together, printed plain
    lines = [line.rstrip() for line in text.splitlines()]
    if zones is not None and activities:
        import textwrap

        lines.append("")
        for line in zones_lines(activities, zones):
            indent = " " * (len(line) - len(line.lstrip()) + 4)
            lines.extend(textwrap.wrap(line, width, subsequent_indent=indent) or [""])
    return "\n".join(lines) + "\n"


def zones_lines(activities: Sequence[Activity], zones: AthleteZones) -> list[str]:
    """``time zones:`` and one line per run of dates in one zone (``info``, the listing)."""
    head = "time zones:  found in the activities that carry an offset (no [athlete] timezone)"
    periods = zone_periods(activities, zones)
    if zones.setting is not None:
        head = f"time zones:  {zones.setting.key} (setting) for activities without their own"
    elif not zones.evidence:
        head = f"time zones:  {zones.machine.key} (this machine; no activity says)"
    return [head, *(f"  {period_text(p)}" for p in periods)]


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
    if a.sport_inferred:
        sport += " (inferred)"
        plain = False
    return category if plain else f"{category} ({sport})"


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
