"""The activity listing as data: one flat record per activity, for JSON, CSV and notebooks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from heavylegs_sync.model import Activity

#: The columns, in order; JSON objects and CSV rows share them.
COLUMNS = (
    "id",
    "start_utc",
    "start_local",
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
)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def activity_record(a: Activity) -> dict[str, Any]:
    """One activity as plain data (times ISO 8601; ``sources``: file paths, ``strava:<id>``)."""
    return {
        "id": a.id,
        "start_utc": a.start_utc.isoformat().replace("+00:00", "Z"),
        "start_local": a.start_local.isoformat(),
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
    }


def activities_json(activities: Sequence[Activity]) -> str:
    """A JSON list of :func:`activity_record` objects."""
    records = [activity_record(a) for a in activities]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def activities_csv(activities: Sequence[Activity]) -> str:
    """CSV with a header row; several sources are joined with ``;``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for a in activities:
        record = activity_record(a)
        record["sources"] = ";".join(record["sources"])
        record["notes"] = ";".join(record["notes"])
        writer.writerow(record)
    return buffer.getvalue()
