"""The ``heavylegs wellness`` listing: each day's merged sleep, resting heart rate and HRV,
with the source that gave each value, as text (80 columns), JSON or CSV.

The CSV keeps the importable columns first (``date,sleep_hours,resting_hr,hrv_ms``), so a
listing can be read back by the wellness CSV reader (the source columns are ignored there).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from heavylegs_sync.wellness import WellnessDay

#: The listing's columns, in order (JSON keys, CSV header).
FIELDS = (
    "date", "sleep_hours", "resting_hr", "hrv_ms", "sleep_source", "resting_hr_source",
    "hrv_source",
)  # fmt: skip


def day_record(day: WellnessDay) -> dict[str, Any]:
    """One day as plain data: values (sleep in hours, rounded to the minute's hundredth)
    and the source of each (None where no source has it)."""
    return {
        "date": day.day.isoformat(),
        "sleep_hours": None if day.sleep_s is None else round(day.sleep_s / 3600, 2),
        "resting_hr": day.resting_hr,
        "hrv_ms": day.hrv_ms,
        "sleep_source": None if day.sleep_source is None else day.sleep_source.value,
        "resting_hr_source": None if day.resting_hr_source is None else day.resting_hr_source.value,
        "hrv_source": None if day.hrv_source is None else day.hrv_source.value,
    }


def wellness_json(days: Sequence[WellnessDay]) -> str:
    """The days as a JSON list of :func:`day_record`."""
    return json.dumps([day_record(d) for d in days], indent=2) + "\n"


def wellness_csv(days: Sequence[WellnessDay]) -> str:
    """The days as CSV with a header; empty cells where nothing is recorded."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for d in days:
        writer.writerow({k: "" if v is None else v for k, v in day_record(d).items()})
    return out.getvalue()


def _cell(value: float | None, spec: str, source: Any) -> str:
    if value is None:
        return ""
    return f"{format(value, spec)} {source.value}"


def wellness_text(days: Sequence[WellnessDay]) -> str:
    """One line a day (80 columns): the date, then each value with its source."""
    header = f"{'date':<14} {'sleep h':>13} {'resting HR':>13} {'HRV ms':>13}"
    lines = [header]
    for d in days:
        sleep = None if d.sleep_s is None else d.sleep_s / 3600
        lines.append(
            f"{d.day:%Y-%m-%d %a} {_cell(sleep, '.2f', d.sleep_source):>13}"
            f" {_cell(d.resting_hr, '.0f', d.resting_hr_source):>13}"
            f" {_cell(d.hrv_ms, '.0f', d.hrv_source):>13}"
        )
    lines.append("")
    lines.append("Each value from its richest source (fit: the watch's files; garmin: a Garmin")
    lines.append("export; csv: a wellness CSV). A night belongs to its wake date.")
    return "\n".join(lines) + "\n"
