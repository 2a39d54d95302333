"""The wellness files of a Garmin Connect data export: nights, resting heart rate, HRV.

Three kinds of file, each a JSON list with one entry per day (docs/import.md):

- ``DI_CONNECT/DI-Connect-Wellness/*_sleepData.json``: nights. ``calendarDate`` is the
  wake date; ``deepSleepSeconds``, ``lightSleepSeconds``, ``remSleepSeconds`` and
  ``awakeSleepSeconds`` the stages; ``sleepStartTimestampGMT``/``sleepEndTimestampGMT``
  the night's bounds in GMT (ISO strings without an offset, ``2026-05-01T22:10:00.0``,
  in the export; epoch milliseconds in Connect's API form). Time asleep is deep + light
  + REM (awake time excluded); a night with no stages but ``sleepTimeSeconds`` keeps that
  total. An entry with no date and no values (``{"retro": false}``), a night off the wrist
  (``sleepWindowConfirmationType`` ``OFF_WRIST``) or one whose stages are all zero or
  absent (an unconfirmed default window) is no measured night: passed over, not an error.
- ``DI_CONNECT/DI-Connect-Aggregator/UDSFile_*.json``: days. ``restingHeartRate`` is the
  day's resting heart rate (``currentDayRestingHeartRate`` is not read: it differs from
  what Connect shows as the day's value). A ``restingHeartRate`` of exactly 0 is Garmin's
  mark for a day without a value (the watch not worn; several readers of real exports
  found by code search treat it so, one test calling it "a field Garmin left empty"):
  those days make one warning line for the file and are not stored. Any other value no
  person has (300, -5) is an error line, as in every source.
- ``DI_CONNECT/DI-Connect-Wellness/*_healthStatusData.json``: days with ``metrics``, a
  list of ``{"type", "value", "baselineLowerLimit", ...}``; the ``HRV`` metric's value is
  the night's HRV (RMSSD, ms). A metric without a value (Garmin's onboarding days) is none.

Where the shapes come from (public code that reads real exports): the file names, the
sleep fields, the ISO GMT timestamps and ``calendarDate`` as a ``{"date": ...}`` object in
older UDS files from adam1brownell/garmin_data (``garmin_functions.py``:
``build_sleep_data``, ``build_uds_data``); epoch-millisecond timestamps in Connect's API
form of the same sleep fields from tcgoetz/GarminDB (``garmindb/import_monitoring.py``:
``GarminSleepData``). Two more readers of real exports, found by code search without the
index naming their repositories, gave the rest: a trailcoach export loader's tests
(``{"retro": false}`` entries, ``OFF_WRIST`` and ``UNCONFIRMED`` nights,
``currentDayRestingHeartRate`` differing from ``restingHeartRate``, a day repeated across
UDS files) and a DuckDB ingest script (``ingest_garmin_health_status``: ``metrics`` of
type HRV, HR, SPO2, SKIN_TEMP_C, RESPIRATION with ``value`` and the baseline limits).
Every other field is ignored.

An entry that cannot be read is one problem line naming it (``entry 3 (2026-05-04):``);
the rest of the file is kept. Several entries of one file for the same day are one
record, the later entry's values winning.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers.common import DecodeOptions
from heavylegs_sync.importers.source import megabytes
from heavylegs_sync.importers.wellness_read import WellnessRead, register
from heavylegs_sync.limits import BYTES_PER_MB
from heavylegs_sync.model import WellnessRecord, WellnessSource
from heavylegs_sync.words import plural

#: No Garmin wellness file is this large (each holds about 100 days, a few hundred KB);
#: a larger one is refused before it is parsed, so parsing costs bounded memory.
MAX_JSON_BYTES = 16 * BYTES_PER_MB
#: More entries than a lifetime of days is not a wellness file.
MAX_ENTRIES = 40_000
#: Timestamps outside these are no night's (an unset clock, a value in seconds).
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
SLEEP, DAYS, HEALTH = "sleepData", "UDSFile", "healthStatusData"


class _Bad(ValueError):
    """One entry's problem, in words."""


class _Unmeasured(Exception):
    """A day whose value is Garmin's mark for "not measured" (a resting HR of 0)."""

    def __init__(self, day: date) -> None:
        super().__init__(day)
        self.day = day


def kind_of(path: Path) -> str | None:
    """Which export file the name says (any case), or None."""
    name = path.name.lower()
    if not name.endswith(".json"):
        return None
    if name.endswith("sleepdata.json"):
        return SLEEP
    if name.startswith("udsfile"):
        return DAYS
    if name.endswith("healthstatusdata.json"):
        return HEALTH
    return None


def recognises(path: Path, head: bytes) -> bool:
    """By name alone: a file so named that is not JSON is a Garmin file that failed, not
    someone else's."""
    return kind_of(path) is not None


def read_garmin_wellness(path: Path, data: bytes, options: DecodeOptions) -> WellnessRead:
    """The file's days; an entry that cannot be read is a problem, the rest are kept."""
    kind = kind_of(path)
    if kind is None:
        raise ImportFailed(path, "not a Garmin export wellness file")
    if len(data) > MAX_JSON_BYTES:  # [import] max_file_mb was applied on reading
        raise ImportFailed(
            path, f"larger than {megabytes(MAX_JSON_BYTES)}: no Garmin wellness file is"
        )
    entries = _entries(path, data)
    reading = _READERS[kind]
    by_day: dict[date, tuple[WellnessRecord, str]] = {}
    unmeasured: list[date] = []
    read = WellnessRead()
    for number, entry in enumerate(entries, start=1):
        place = f"entry {number}"
        try:
            if not isinstance(entry, dict):
                raise _Bad(f"not an object but {_kind_name(entry)}")
            record = reading(entry, str(path))
        except _Unmeasured as mark:
            unmeasured.append(mark.day)
            continue
        except _Bad as exc:
            hint = _day_hint(entry)
            read.problems.append(f"{place}{f' ({hint})' if hint else ''}: {exc}")
            continue
        if record is None:
            continue
        earlier = by_day.get(record.day)
        if earlier is not None:
            record = _merged(earlier[0], record)
        by_day[record.day] = (record, place)
    for day in sorted(by_day):
        record, place = by_day[day]
        read.add(record, place)
    if unmeasured:
        days = sorted(set(unmeasured))
        span = f"{days[0]}" if len(days) == 1 else f"{days[0]} .. {days[-1]}"
        read.warnings.append(
            f"restingHeartRate 0 on {plural(len(days), 'day')} ({span}): Garmin's mark for a"
            " day without a measurement, not stored"
        )
    return read


def _entries(path: Path, data: bytes) -> list[Any]:
    try:
        top = json.loads(data)
    except UnicodeDecodeError as exc:
        raise ImportFailed(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise ImportFailed(
            path, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except RecursionError as exc:
        raise ImportFailed(path, "JSON nested too deeply to read") from exc
    if isinstance(top, dict):
        top = [top]  # one day on its own
    if not isinstance(top, list):
        raise ImportFailed(path, f"not a list of days but {_kind_name(top)}")
    if len(top) > MAX_ENTRIES:
        raise ImportFailed(path, f"more than {MAX_ENTRIES} entries")
    return top


def _kind_name(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _sleep(entry: dict[str, Any], origin: str) -> WellnessRecord | None:
    day = _calendar_date(entry)
    stages = {
        key: _number(entry, f"{key}SleepSeconds") for key in ("deep", "light", "rem", "awake")
    }
    total = _number(entry, "sleepTimeSeconds")
    start = _instant(entry, "sleepStartTimestampGMT")
    end = _instant(entry, "sleepEndTimestampGMT")
    if day is None:
        if any(v is not None for v in (*stages.values(), total, start, end)):
            raise _Bad("a night without calendarDate")
        return None  # {"retro": false} and the like: not a night
    if entry.get("sleepWindowConfirmationType") == "OFF_WRIST":
        return None  # the watch was not worn: no night measured
    asleep = [v for k in ("deep", "light", "rem") if (v := stages[k]) is not None]
    sleep_s = math.fsum(asleep) if asleep else total
    if sleep_s is None or (sleep_s == 0 and all(v >= 0 for v in asleep)):
        return None  # no stage measured (a default window): no night, not a night of 0 h
    for key, moment in (("sleepStartTimestampGMT", start), ("sleepEndTimestampGMT", end)):
        # In GMT a night ending on its local wake date lies within these, in any zone.
        if moment is not None and not -2 <= (moment.date() - day).days <= 1:
            raise _Bad(f"{key} {moment:%Y-%m-%d %H:%M} UTC is not the night before {day}")
    return WellnessRecord(
        day=day,
        source=WellnessSource.GARMIN,
        origin=origin,
        sleep_s=sleep_s,
        deep_s=stages["deep"],
        light_s=stages["light"],
        rem_s=stages["rem"],
        awake_s=stages["awake"],
        sleep_start=start,
        sleep_end=end,
    )


def _days(entry: dict[str, Any], origin: str) -> WellnessRecord | None:
    day = _calendar_date(entry)
    resting = _number(entry, "restingHeartRate")
    if day is None:
        if resting is not None:
            raise _Bad("a resting heart rate without calendarDate")
        return None
    if resting is None:
        return None
    if resting == 0:
        raise _Unmeasured(day)
    return WellnessRecord(day, WellnessSource.GARMIN, origin, resting_hr=resting)


def _health(entry: dict[str, Any], origin: str) -> WellnessRecord | None:
    day = _calendar_date(entry)
    metrics = entry.get("metrics")
    if metrics is None:
        return None
    if not isinstance(metrics, list):
        raise _Bad(f"metrics is {_kind_name(metrics)}, not a list")
    hrv: float | None = None
    for metric in metrics:
        if isinstance(metric, dict) and metric.get("type") == "HRV":
            hrv = _number(metric, "value")
    if hrv is None:
        return None
    if day is None:
        raise _Bad("an HRV value without calendarDate")
    return WellnessRecord(day, WellnessSource.GARMIN, origin, hrv_ms=hrv)


_READERS: dict[str, Callable[[dict[str, Any], str], WellnessRecord | None]] = {
    SLEEP: _sleep,
    DAYS: _days,
    HEALTH: _health,
}


def _merged(earlier: WellnessRecord, later: WellnessRecord) -> WellnessRecord:
    """One record of a day given twice in a file: the later entry's present values win."""
    values = {
        name: getattr(later, name)
        for name in (
            "sleep_s", "deep_s", "light_s", "rem_s", "awake_s", "sleep_start", "sleep_end",
            "resting_hr", "hrv_ms",
        )
        if getattr(later, name) is not None
    }  # fmt: skip
    return replace(earlier, **values)


def _number(entry: dict[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"{key} {json.dumps(value)[:40]} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise _Bad(f"{key} {value} is not a number")
    return number


def _calendar_date(entry: dict[str, Any]) -> date | None:
    """``calendarDate``: ``"2026-05-03"``, an ISO date-time, ``{"date": ...}`` (older
    exports, also ``"May 3, 2026 12:00:00 AM"``), or epoch milliseconds."""
    value = entry.get("calendarDate")
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("date")
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            pass
        try:
            return datetime.strptime(text, "%b %d, %Y %I:%M:%S %p").date()
        except ValueError:
            raise _Bad(f"calendarDate {json.dumps(value)[:40]} is not a date") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_ms(value, "calendarDate").date()
    raise _Bad(f"calendarDate {json.dumps(value)[:40]} is not a date")


def _instant(entry: dict[str, Any], key: str) -> datetime | None:
    """A GMT timestamp as an aware UTC datetime: an ISO string (no offset means GMT) or
    epoch milliseconds."""
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("date")
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Bad(f"{key} {json.dumps(value)[:40]} is not a time") from None
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = _from_ms(value, key)
    else:
        raise _Bad(f"{key} {json.dumps(value)[:40]} is not a time")
    if not _EARLIEST <= moment < _LATEST:
        raise _Bad(f"{key} {moment:%Y-%m-%d %H:%M} UTC is no night's time")
    return moment


def _from_ms(value: float, key: str) -> datetime:
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise _Bad(f"{key} {value} is not a time in milliseconds") from None


def _day_hint(entry: object) -> str | None:
    """The entry's calendarDate as written, for a problem line, when it has one."""
    if not isinstance(entry, dict):
        return None
    value = entry.get("calendarDate")
    if isinstance(value, dict):
        value = value.get("date")
    return value[:10] if isinstance(value, str) else None


register(recognises, read_garmin_wellness)
