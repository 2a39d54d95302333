"""The strict boundary for a Strava activity summary: every value checked before it is
queued or stored.

Pure: a decoded JSON value in, a :class:`Checked` summary (unusable fields removed, long
texts cut, each with a note) or :class:`Refused` out. An activity whose start cannot be
placed is refused; a field that is not what Strava documents (a number as a string, NaN,
a negative duration) is dropped with a note, never silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from heavylegs_sync.errors import StravaError
from heavylegs_sync.importers.plausible import EARLIEST, FUTURE_SLACK
from heavylegs_sync.limits import MAX_NAME_CHARS

#: Local time is at most this far from UTC (the widest offsets are -12 h and +14 h).
MAX_OFFSET_S = 14 * 3600
#: The longest description kept in the stored summary, in characters.
MAX_DESCRIPTION_CHARS = 5000
#: The largest summary queued or stored (its JSON, after long texts are cut).
MAX_SUMMARY_BYTES = 256 * 1024
#: Where a summary's notes travel with it through the queue (and into the stored JSON).
NOTES_KEY = "heavylegs_notes"

_NUMBERS = ("distance", "moving_time", "elapsed_time", "average_heartrate", "max_heartrate")
_TEXTS = ("sport_type", "type", "device_name", "timezone")


class Refused(StravaError):
    """A summary no activity can be made of; the message says why, in a few words."""


@dataclass(frozen=True)
class Checked:
    """A summary fit to queue and map, and what was changed on the way."""

    summary: dict[str, Any]
    start: datetime
    utc_offset_s: int
    notes: tuple[str, ...]


def parse_time(text: str) -> datetime:
    """Strava's ``2026-10-06T05:00:00Z`` as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def check_summary(item: Any, now: datetime | None = None) -> Checked:
    """The summary with every value checked; :class:`Refused` when it cannot be placed.

    With ``now``, a start before 1990 or more than a day after it is refused too: the
    listing cursor follows the latest start listed, and one start in the year 9999 would
    stop every later activity from being listed.
    """
    if not isinstance(item, dict):
        raise Refused(f"not an object but {type(item).__name__}")
    summary = dict(item)
    notes = list(_earlier_notes(summary.pop(NOTES_KEY, None)))
    start = _start(summary)
    if now is not None and not EARLIEST <= start <= now + FUTURE_SLACK:
        raise Refused(f"implausible start {start:%Y-%m-%d %H:%M} UTC")
    offset, offset_note = _offset(summary, start)
    if offset_note:
        notes.append(offset_note)
    for key in _NUMBERS:
        note = _number(summary, key)
        if note:
            notes.append(note)
    for key in _TEXTS:
        note = _text(summary, key, MAX_NAME_CHARS)
        if note:
            notes.append(note)
    for key, limit in (("name", MAX_NAME_CHARS), ("description", MAX_DESCRIPTION_CHARS)):
        note = _text(summary, key, limit)
        if note:
            notes.append(note)
    manual = summary.get("manual")
    if manual is not None and not isinstance(manual, bool):
        summary.pop("manual")
        notes.append(f"manual {_shown(manual)} dropped (not true or false)")
    if notes:
        summary[NOTES_KEY] = notes
    return Checked(summary, start, offset, tuple(notes))


def _earlier_notes(value: Any) -> list[str]:
    """Notes a summary carried through the queue (only strings: it was ours)."""
    if not isinstance(value, list):
        return []
    return [str(v)[:200] for v in value if isinstance(v, str)]


def _start(summary: dict[str, Any]) -> datetime:
    text = summary.get("start_date")
    if not isinstance(text, str):
        raise Refused(f"start_date is {_shown(text)}, not a date")
    try:
        return parse_time(text)
    except (ValueError, OverflowError):
        raise Refused(f"start_date {_shown(text)} is not a date") from None


def _offset(summary: dict[str, Any], start: datetime) -> tuple[int, str | None]:
    """The UTC offset in seconds to the quarter hour, from ``start_date_local`` (wall time
    written with a literal ``Z``), else ``utc_offset``; and a note when one was unusable."""
    local_text = summary.get("start_date_local")
    problem = None
    if local_text is not None:
        seconds = _local_offset(local_text, start)
        if isinstance(seconds, float):
            return _quarter(seconds), None
        problem = f"start_date_local {_shown(local_text)} {seconds}"
        summary.pop("start_date_local")
    raw = summary.get("utc_offset")
    if raw is not None:
        value = _finite(raw)
        if value is None or abs(value) > MAX_OFFSET_S:
            summary.pop("utc_offset")
            why = "not a number" if value is None else "more than 14 h from UTC"
            fault = f"utc_offset {_shown(raw)} is {why}"
            raise Refused(f"no usable local time ({problem}; {fault})" if problem else fault)
        note = f"{problem}; local time from utc_offset" if problem else None
        return _quarter(value), note
    if problem:
        raise Refused(f"no usable local time ({problem})")
    return 0, "no local time given: taken as UTC"


def _local_offset(text: Any, start: datetime) -> float | str:
    """Seconds between local and UTC start, or why there are none."""
    if not isinstance(text, str):
        return "is not a date"
    try:
        local = datetime.fromisoformat(text.replace("Z", "")).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return "is not a date"
    seconds = (local - start).total_seconds()
    if abs(seconds) > MAX_OFFSET_S:
        return f"is {seconds / 3600:+.1f} h from start_date (more than 14 h)"
    return seconds


def _quarter(seconds: float) -> int:
    return round(seconds / 900.0) * 900


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def _number(summary: dict[str, Any], key: str) -> str | None:
    """Drop a field that is not a finite number of zero or more; the note says why."""
    raw = summary.get(key)
    if raw is None:
        return None
    value = _finite(raw)
    if value is not None and value >= 0:
        return None
    summary.pop(key)
    if isinstance(raw, float) and math.isnan(raw):
        why = "not a number"
    elif value is None and isinstance(raw, float):
        why = "not finite"
    elif value is None:
        why = f"a {type(raw).__name__}, not a number"
    else:
        why = "negative"
    return f"{key} {_shown(raw)} dropped ({why})"


def _text(summary: dict[str, Any], key: str, limit: int) -> str | None:
    """Drop a field that is not text; cut one longer than ``limit``; the note says so."""
    raw = summary.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        summary.pop(key)
        return f"{key} {_shown(raw)} dropped (not text)"
    if len(raw) <= limit:
        return None
    summary[key] = raw[:limit]
    return f"{key} cut to {limit} characters (it had {len(raw):,})"


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, float) else _float(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)
