"""Which two records are one activity: the rule every source shares (files, archives, Strava).

Pure: activities and samples in, a verdict out; the store asks, and decides nothing itself.

Two records are one activity when

* they start within :data:`MATCH_START_S` of each other (UTC) and last the same time
  within :data:`MATCH_DURATION_SHARE`, whatever their file names, creators, categories or
  local-time fields; or
* their samples match — same duration, same distance, the same heart-rate sequence —
  once their starts are shifted by whole quarter-hours up to 14 h (a program that re-saved
  the file wrote local time as UTC) or by a few minutes (a program that rebased the clock).

Of two matched records the richer one's data wins (heart rate present, more samples, then
FIT over TCX over GPX over Strava), and the record whose clock came from the device itself decides
the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from heavylegs_sync.limits import MAX_GAP_S
from heavylegs_sync.model import Activity, OffsetSource, Samples

if TYPE_CHECKING:
    from heavylegs_sync.model import FloatArray

#: Starts at most this far apart (seconds) ...
MATCH_START_S = 60.0
#: ... and durations within this share of the longer one: one activity.
MATCH_DURATION_SHARE = 0.02
#: Clock shifts a re-saving program introduces: whole quarter-hours up to 14 h ...
SHIFT_STEP_S = 900.0
MAX_SHIFT_S = 14 * 3600.0
#: ... or a few minutes either way.
SMALL_SHIFT_S = 600.0
#: How far apart two copies' sample clocks may sit once their starts are aligned.
_MAX_LAG_S = 300.0
_GRID_S = 5.0
_HR_AGREE_BPM = 1.5
_HR_AGREE_SHARE = 0.9
_MIN_HR_SPREAD_BPM = 2.0
_DISTANCE_SHARE = 0.02
#: Richer sources first when everything else is equal: a device file has every sample.
SOURCE_RANK = {"fit": 4, "tcx": 3, "gpx": 2, "strava": 1}


@dataclass(frozen=True)
class Candidate:
    """What the store knows of a stored record without reading its samples."""

    id: int
    source: str
    start_utc: datetime
    elapsed_s: float | None
    timer_s: float | None
    distance_m: float | None
    offset_source: OffsetSource
    sample_count: int
    has_hr: bool
    device: str | None = None
    utc_offset_s: int = 0
    file_sha256: str | None = None  # the file it came from: a file's records are no copies


def duration_of(elapsed_s: float | None, timer_s: float | None) -> float | None:
    """Elapsed time when known (every source has it alike), else moving time."""
    return elapsed_s if elapsed_s is not None else timer_s


def _close(a: float | None, b: float | None, share: float) -> bool:
    if a is None or b is None:
        return False
    longer = max(abs(a), abs(b))
    return longer == 0 or abs(a - b) <= share * longer


def same_by_time(a: Activity, b: Candidate) -> bool:
    """Starts within a minute, durations within 2% (elapsed or moving time)."""
    if abs((a.start_utc - b.start_utc).total_seconds()) > MATCH_START_S:
        return False
    return _close(a.elapsed_s, b.elapsed_s, MATCH_DURATION_SHARE) or _close(
        a.timer_s, b.timer_s, MATCH_DURATION_SHARE
    )


def shifted_start(a: Activity, b: Candidate) -> bool:
    """Whether the starts differ by a clock shift a re-saving program makes.

    Only a copy whose clock is in doubt (re-saved by a program, or placed by a configured
    time zone) can be shifted: two records whose devices both set the time are two
    activities when their times differ.
    """
    if clock_trust(a.offset_source, a.device) == clock_trust(b.offset_source, b.device) == (1, 1):
        return False
    delta = abs((a.start_utc - b.start_utc).total_seconds())
    if delta <= SMALL_SHIFT_S:
        return True
    if delta > MAX_SHIFT_S + MATCH_START_S:
        return False
    return abs(delta - round(delta / SHIFT_STEP_S) * SHIFT_STEP_S) <= MATCH_START_S


def same_by_samples(a: Activity, b: Candidate, b_samples: Samples | None) -> bool:
    """Same duration and distance, and the same heart-rate sequence, whatever the clocks.

    Only worth asking when :func:`shifted_start` holds; both need heart rate, since a
    duration alone is no fingerprint.
    """
    if a.samples is None or b_samples is None:
        return False
    if not _close(
        duration_of(a.elapsed_s, a.timer_s),
        duration_of(b.elapsed_s, b.timer_s),
        MATCH_DURATION_SHARE,
    ):
        return False
    if (
        a.distance_m is not None
        and b.distance_m is not None
        and not _close(a.distance_m, b.distance_m, _DISTANCE_SHARE)
    ):
        return False
    return hr_sequences_match(a.samples, b_samples)


def hr_sequences_match(a: Samples, b: Samples) -> bool:
    """The same heart-rate trace, allowing the two clocks to sit up to 5 minutes apart."""
    import numpy as np  # here, not above: the store reads activities without numpy

    grid_a = _hr_grid(a)
    grid_b = _hr_grid(b)
    if grid_a is None or grid_b is None:
        return False
    if min(float(np.nanstd(grid_a)), float(np.nanstd(grid_b))) < _MIN_HR_SPREAD_BPM:
        return False  # a flat trace is no fingerprint
    shorter = min(len(grid_a), len(grid_b))
    if shorter < 12:  # under a minute of heart rate says nothing
        return False
    max_lag = int(_MAX_LAG_S / _GRID_S)
    best = 0.0
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            x, y = grid_a[lag:], grid_b[: len(grid_a) - lag]
        else:
            x, y = grid_a[: len(grid_a) + lag], grid_b[-lag:]
        n = min(len(x), len(y))
        if n < 0.8 * shorter:
            continue
        x, y = x[:n], y[:n]
        both = np.isfinite(x) & np.isfinite(y)
        if both.sum() < 0.5 * n:
            continue
        agree = float(np.mean(np.abs(x[both] - y[both]) <= _HR_AGREE_BPM))
        best = max(best, agree)
        if best >= _HR_AGREE_SHARE:
            return True
    return False


def _hr_grid(samples: Samples) -> FloatArray | None:
    """HR on a regular grid over the recording's own clock (seconds since its start)."""
    import numpy as np

    from heavylegs_sync.hr.trace import finite_hr

    readings = finite_hr(samples)
    if readings is None or len(readings[0]) < 12:
        return None
    t, hr = readings
    grid = np.arange(0.0, float(t[-1]) + _GRID_S, _GRID_S)
    values: FloatArray = np.interp(grid, t, hr, left=np.nan, right=np.nan)
    # A grid point far from any sample is a gap, not an interpolated value.
    nearest = np.searchsorted(t, grid).clip(1, len(t) - 1)
    gap = np.minimum(np.abs(t[nearest] - grid), np.abs(t[nearest - 1] - grid))
    values[gap > MAX_GAP_S] = np.nan
    return values


def richness(source: str, has_hr: bool, sample_count: int) -> tuple[int, int, int]:
    """Order of preference between two copies: heart rate, samples, then the source."""
    return (int(has_hr), sample_count, SOURCE_RANK.get(source, 0))


def activity_richness(a: Activity) -> tuple[int, int, int]:
    """:func:`richness` of a record about to be stored."""
    has_hr = a.samples is not None and a.samples.hr is not None
    return richness(a.source, has_hr or a.avg_hr is not None, len(a.samples or ()))


def clock_trust(offset_source: OffsetSource, device: str | None) -> tuple[int, int]:
    """How far a record's clock can be trusted: a local time the device itself wrote
    first, then not re-saved by a program (which writes maker 0)."""
    resaved = device is not None and str(device).split(" ", 1)[0] in ("0", "None")
    return (int(offset_source is OffsetSource.DEVICE), int(not resaved))
