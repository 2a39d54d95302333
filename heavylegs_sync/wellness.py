"""Wellness values, pure: which values a record may carry, and one value a day from many
sources.

Importers build :class:`~heavylegs_sync.model.WellnessRecord` values and have them vetted
here before they are stored; the analysis reads the merged days. Nothing here touches a
file, the store or the clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from heavylegs_sync.model import WELLNESS_RANK, WellnessRecord, WellnessSource

#: Time asleep a night can hold, s: more is a recording error, not a night.
MAX_SLEEP_S = 20 * 3600.0
#: Resting heart rates a person has, bpm (elite bradycardia to a fever).
RESTING_HR_RANGE: tuple[float, float] = (25.0, 120.0)
#: Nightly HRV (RMSSD) a wrist or chest strap reports, ms.
HRV_RANGE_MS: tuple[float, float] = (5.0, 300.0)
#: The earliest day a wellness record may carry (no wrist tracker recorded sleep before).
FIRST_DAY = date(2000, 1, 1)


def vet(record: WellnessRecord, today: date) -> str | None:
    """Why the record cannot be stored (one reason, in words for ``error:`` lines), or
    None when every value it carries is one a person can have. ``today`` is the athlete's
    date: a record more than a day ahead of it is refused."""
    if not FIRST_DAY <= record.day <= date.fromordinal(today.toordinal() + 1):
        return f"date {record.day.isoformat()} is outside {FIRST_DAY.isoformat()}..today"
    stages = (
        ("sleep", record.sleep_s),
        ("deep sleep", record.deep_s),
        ("light sleep", record.light_s),
        ("REM sleep", record.rem_s),
        ("awake time", record.awake_s),
    )
    for name, value in stages:
        if value is not None and not (math.isfinite(value) and 0 <= value <= MAX_SLEEP_S):
            return f"{name} of {value} s on {record.day} is not a night's"
    if record.resting_hr is not None and not _within(record.resting_hr, RESTING_HR_RANGE):
        return f"resting heart rate {record.resting_hr:g} bpm on {record.day} is not a person's"
    if record.hrv_ms is not None and not _within(record.hrv_ms, HRV_RANGE_MS):
        low, high = HRV_RANGE_MS
        return f"HRV {record.hrv_ms:g} ms on {record.day} is outside {low:g}..{high:g} ms"
    if (
        record.sleep_start is not None
        and record.sleep_end is not None
        and record.sleep_end <= record.sleep_start
    ):
        return f"the night of {record.day} ends before it starts"
    return None


def _within(value: float, bounds: tuple[float, float]) -> bool:
    return math.isfinite(value) and bounds[0] <= value <= bounds[1]


@dataclass(frozen=True)
class WellnessDay:
    """One day's values, each from the source that gives it (None: no source has it)."""

    day: date
    sleep_s: float | None = None
    sleep_source: WellnessSource | None = None
    resting_hr: float | None = None
    resting_hr_source: WellnessSource | None = None
    hrv_ms: float | None = None
    hrv_source: WellnessSource | None = None


def _rank(record: WellnessRecord) -> int:
    return WELLNESS_RANK.index(record.source)


def merge_days(records: Iterable[WellnessRecord]) -> dict[date, WellnessDay]:
    """One value per day and measure from every source's records, by day.

    The richer record wins, as for activities: for sleep, a night with its stages beats
    one with hours only, then the source's rank (:data:`WELLNESS_RANK`: the watch's own
    file, then Garmin's export, then a CSV); for resting HR and HRV, the source's rank."""
    by_day: dict[date, list[WellnessRecord]] = {}
    for r in records:
        by_day.setdefault(r.day, []).append(r)
    days: dict[date, WellnessDay] = {}
    for day in sorted(by_day):
        candidates = sorted(by_day[day], key=_rank)
        sleepers = sorted(
            (r for r in candidates if r.sleep_s is not None),
            key=lambda r: (not r.has_stages(), _rank(r)),
        )
        rhr = next((r for r in candidates if r.resting_hr is not None), None)
        hrv = next((r for r in candidates if r.hrv_ms is not None), None)
        sleep = sleepers[0] if sleepers else None
        days[day] = WellnessDay(
            day=day,
            sleep_s=None if sleep is None else sleep.sleep_s,
            sleep_source=None if sleep is None else sleep.source,
            resting_hr=None if rhr is None else rhr.resting_hr,
            resting_hr_source=None if rhr is None else rhr.source,
            hrv_ms=None if hrv is None else hrv.hrv_ms,
            hrv_source=None if hrv is None else hrv.source,
        )
    return days
