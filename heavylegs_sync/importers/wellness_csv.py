"""A plain wellness CSV for any tracker (Oura, Whoop, Apple Health, a notebook):
``date,sleep_hours,resting_hr,hrv_ms`` with a header, any value column optional
(docs/wellness.md).

One row is one day: ``sleep_hours`` the night that ended on it (time asleep), ``resting_hr``
that day's resting heart rate, ``hrv_ms`` that night's HRV (RMSSD). A row that cannot be
read is one problem line; the other rows are kept.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers.common import DecodeOptions
from heavylegs_sync.importers.wellness_read import WellnessRead, register
from heavylegs_sync.model import WellnessRecord, WellnessSource

#: The columns the CSV may have besides ``date``; others are ignored.
COLUMNS: tuple[str, ...] = ("sleep_hours", "resting_hr", "hrv_ms")
#: More rows than a lifetime of days is not a wellness log.
MAX_ROWS = 40_000


def recognises(path: Path, head: bytes) -> bool:
    """A ``.csv`` file whose header names ``date`` and one of :data:`COLUMNS` (with an
    empty head, the name alone: ``wellness*.csv``)."""
    name = path.name.lower()
    if not name.endswith(".csv"):
        return False
    if not head:
        return "wellness" in name or "sleep" in name
    first = head.decode("utf-8-sig", errors="replace").splitlines()[0:1]
    header = {c.strip().lower() for c in first[0].split(",")} if first else set()
    return "date" in header and bool(header & set(COLUMNS))


def read_wellness_csv(path: Path, data: bytes, options: DecodeOptions) -> WellnessRead:
    """The CSV's days; a row with a bad date or value is a problem, the rest are kept."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        names = reader.fieldnames or []
    except csv.Error as exc:
        raise ImportFailed(path, f"not a CSV header ({exc})") from exc
    fields = {(f or "").strip().lower(): f for f in names}
    if "date" not in fields or not set(fields) & set(COLUMNS):
        raise ImportFailed(path, "not a wellness CSV (its header needs date and one of "
                           + ", ".join(COLUMNS) + ")")  # fmt: skip
    read = WellnessRead()
    for number, row in enumerate(_rows(reader, read), start=2):
        if number - 1 > MAX_ROWS:
            raise ImportFailed(path, f"more than {MAX_ROWS} rows")
        try:
            record = _record(path, row, fields)
        except ValueError as exc:
            read.problems.append(f"line {number}: {exc}")
            continue
        if record is not None:
            read.add(record, f"line {number}")
    return read


def _rows(reader: csv.DictReader[str], read: WellnessRead) -> Iterator[dict[str, str | None]]:
    """The rows, until one is no CSV (a stray quote, a field past the csv module's size
    limit): that is one problem line, and the rest of the file is not read."""
    while True:
        line = reader.line_num + 1  # where the next row starts
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            read.problems.append(f"line {line}: not CSV ({exc}); the rest of the file was not read")
            return
        yield row


def _record(
    path: Path, row: dict[str, str | None], fields: dict[str, str]
) -> WellnessRecord | None:
    def cell(name: str) -> str:
        key = fields.get(name)
        value = row.get(key) if key is not None else None
        return (value or "").strip()

    raw_day = cell("date")
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        raise ValueError(f"date {raw_day!r} is not YYYY-MM-DD") from None
    values: dict[str, float | None] = {}
    for name in COLUMNS:
        text = cell(name)
        if not text:
            values[name] = None
            continue
        try:
            values[name] = float(text)
        except ValueError:
            raise ValueError(f"{name} {text!r} is not a number") from None
    if all(v is None for v in values.values()):
        return None  # a day with nothing recorded: nothing to keep, nothing wrong
    hours = values["sleep_hours"]
    return WellnessRecord(
        day=day,
        source=WellnessSource.CSV,
        origin=str(path),
        sleep_s=None if hours is None else hours * 3600.0,
        resting_hr=values["resting_hr"],
        hrv_ms=values["hrv_ms"],
    )


register(recognises, read_wellness_csv)
