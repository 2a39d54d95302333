"""What every importer shares: options, plausibility limits, sample building."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.kinds import Decoder as Decoder  # the options name it
from heavylegs_sync.limits import (
    BYTES_PER_MB,
    DEFAULT_MAX_ARCHIVE_MB,
    DEFAULT_MAX_EXPORT_ROWS,
    DEFAULT_MAX_FILE_MB,
    SENSOR_HR_RANGE,
)
from heavylegs_sync.model import FloatArray, Samples

if TYPE_CHECKING:
    from heavylegs_sync.hr.timeline import ZoneBasis

#: Faster than this is no human-powered sport; FIT's "no data" speed is 65.535 m/s.
MAX_SPEED = 45.0
MAX_CADENCE = 250.0
MAX_DISTANCE = 2.0e6
#: Raw per-point values: a list with None for gaps, or an array with NaN.
Values = Sequence[Any] | FloatArray
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DecodeOptions:
    """Settings an importer needs; plain and picklable so worker processes can share them."""

    zone: ZoneInfo  # places activities whose file carries no UTC offset
    gpx_sport: str | None = None  # overrides sport inference for GPX without <type>
    decoder: Decoder = Decoder.AUTO  # which FIT decoder runs (docs/performance.md)
    max_bytes: int = DEFAULT_MAX_FILE_MB * BYTES_PER_MB  # larger input, plain or unzipped, fails
    max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_MB * BYTES_PER_MB  # inflated from one zip
    max_export_rows: int = DEFAULT_MAX_EXPORT_ROWS  # rows read from a Strava activities.csv
    #: the decoding worker also finds each run's sustained HR peak, which estimating max
    #: HR needs (settings without a max HR): in parallel, not in the one writer
    peaks: bool = True
    #: what is known of the zones before the import: the worker also computes each
    #: activity's zone times for the model its own values give (None: not at import)
    zone_basis: ZoneBasis | None = None
    #: the store whose content is not decoded again: the worker reads and hashes a file
    #: and asks this store (read-only) whether it holds that content already
    known_in: tuple[Path | str, str | None] | None = None  # (store target, athlete)


def utc_offset_for(start_utc: datetime, zone: ZoneInfo) -> int:
    """The zone's UTC offset at that instant, DST included, in seconds."""
    offset = start_utc.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def check_start(path: Path, start_utc: datetime) -> None:
    """Reject start times no real recording has (unset device clocks count from 1989)."""
    if not _EARLIEST <= start_utc < _LATEST:
        raise ImportFailed(path, f"implausible start time {start_utc:%Y-%m-%d %H:%M} UTC")


def clean(values: Values, low: float, high: float) -> FloatArray | None:
    """Floats with anything missing or outside [low, high] as NaN; None if nothing is left."""
    if isinstance(values, np.ndarray):
        array = values.astype(np.float64, copy=True)
    else:
        array = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        array[~((array >= low) & (array <= high))] = np.nan
    if not np.isfinite(array).any():
        return None
    return array


def build_samples(
    t: FloatArray,
    *,
    hr: Values | None = None,
    speed: Values | None = None,
    distance: Values | None = None,
    cadence: Values | None = None,
) -> Samples:
    """Samples from raw per-point values, with sentinels and impossible values removed."""
    return Samples(
        t=t,
        hr=clean(hr, *SENSOR_HR_RANGE) if hr is not None else None,
        speed=clean(speed, 0.0, MAX_SPEED) if speed is not None else None,
        distance=clean(distance, 0.0, MAX_DISTANCE) if distance is not None else None,
        cadence=clean(cadence, 0.0, MAX_CADENCE) if cadence is not None else None,
    )


def summary_hr(avg: Any, peak: Any, samples: Samples | None) -> tuple[float | None, float | None]:
    """Average and maximum HR: the device's summary when plausible, else from the samples."""
    low, high = SENSOR_HR_RANGE

    def valid(value: Any) -> float | None:
        if isinstance(value, int | float) and low <= value <= high:
            return float(value)
        return None

    avg_hr, max_hr = valid(avg), valid(peak)
    if samples is not None and samples.hr is not None:
        finite = samples.hr[np.isfinite(samples.hr)]
        if finite.size:
            if avg_hr is None:
                avg_hr = round(float(finite.mean()), 1)
            if max_hr is None:
                max_hr = float(finite.max())
    return avg_hr, max_hr
