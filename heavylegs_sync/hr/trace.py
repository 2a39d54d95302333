"""What a heart-rate trace says: time in zone, HR coverage, the sustained peak.

Pure functions over :class:`~heavylegs_sync.model.Samples`: no database, no clock, no
files, so a change of zone settings is a recompute over stored samples, not a re-import.
Time in zone is weighted by the time each sample holds, never by sample count, because
devices record irregularly (smart recording writes every 1-7 s). Apart from
:mod:`~heavylegs_sync.hr.zones` (the zone models) because these need numpy, and a report
over stored figures starts faster without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from heavylegs_sync.hr.zones import Five, ZoneModel, ZoneTimes, estimate_from_peaks
from heavylegs_sync.limits import MAX_GAP_S, PEAK_WINDOW_S
from heavylegs_sync.model import FloatArray, Samples


def zone_of(model: ZoneModel, hr: FloatArray) -> npt.NDArray[np.int8]:
    """Zone 1-5 of each value (``HR <= b1`` is zone 1, ``HR > b4`` zone 5), 0 for NaN."""
    values = np.asarray(hr, dtype=np.float64)
    bounds = np.asarray(model.bounds_bpm, dtype=np.float64)
    zones = np.searchsorted(bounds, values, side="left").astype(np.int8) + 1
    zones[np.isnan(values)] = 0
    return zones


def bridge_hr(t: FloatArray, hr: FloatArray, max_gap_s: float = MAX_GAP_S) -> FloatArray:
    """HR with interleaved gaps filled: a point without HR between two readings at most
    ``max_gap_s`` apart takes the earlier reading.

    Phone apps and some exports write GPS-only points between points that carry HR; the
    heart was measured continuously all the same. Longer gaps stay NaN ("no data").
    ``t`` must be sorted.
    """
    values = np.asarray(hr, dtype=np.float64)
    have = np.isfinite(values)
    if have.all() or not have.any():
        return values
    index = np.arange(len(values))
    prev = np.maximum.accumulate(np.where(have, index, -1))
    nxt = np.minimum.accumulate(np.where(have, index, len(values))[::-1])[::-1]
    inside = (~have) & (prev >= 0) & (nxt < len(values))
    prev_c = np.clip(prev, 0, len(values) - 1)
    nxt_c = np.clip(nxt, 0, len(values) - 1)
    fill = inside & ((t[nxt_c] - t[prev_c]) <= max_gap_s)
    result = values.copy()
    result[fill] = values[prev_c[fill]]
    return result


def _sorted_finite(
    samples: Samples,
) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
    """Time, HR and distance with non-finite times dropped and rows in time order."""
    t = np.asarray(samples.t, dtype=np.float64)
    hr = None if samples.hr is None else np.asarray(samples.hr, dtype=np.float64)
    dist = None if samples.distance is None else np.asarray(samples.distance, np.float64)
    keep = np.isfinite(t)
    if not keep.all():
        t = t[keep]
        hr = None if hr is None else hr[keep]
        dist = None if dist is None else dist[keep]
    if len(t) > 1 and np.any(np.diff(t) < 0):
        order = np.argsort(t, kind="stable")
        t = t[order]
        hr = None if hr is None else hr[order]
        dist = None if dist is None else dist[order]
    return t, hr, dist


def recorded_seconds(t: FloatArray, max_gap_s: float = MAX_GAP_S) -> float:
    """Time covered by recording: intervals longer than the gap bound are pauses."""
    dt = np.diff(np.asarray(t, dtype=np.float64))
    return float(dt[(dt > 0) & (dt <= max_gap_s)].sum())


def hr_coverage(samples: Samples | None, max_gap_s: float = MAX_GAP_S) -> float | None:
    """Share of recorded time with heart rate (interleaved gaps bridged); None without
    samples. Pauses count on neither side."""
    if samples is None or len(samples) < 2:
        return None
    t, hr, _ = _sorted_finite(samples)
    recorded = recorded_seconds(t, max_gap_s)
    if recorded <= 0:
        return None
    if hr is None:
        return 0.0
    bridged = bridge_hr(t, hr, max_gap_s)
    dt = np.diff(t)
    counted = (dt > 0) & (dt <= max_gap_s) & np.isfinite(bridged[:-1])
    return min(1.0, float(dt[counted].sum()) / recorded)


def zone_times(samples: Samples, model: ZoneModel, *, max_gap_s: float = MAX_GAP_S) -> ZoneTimes:
    """Time and distance in each zone, weighted by how long each sample holds.

    Interval i (``t[i]`` to ``t[i+1]``) counts for the zone of ``hr[i]`` when its length
    is over 0 and at most ``max_gap_s``: a longer gap is a pause or a dropout, and
    stretching the last value across it would invent effort. A point without HR between
    readings at most ``max_gap_s`` apart holds the earlier reading (:func:`bridge_hr`);
    other intervals starting without HR count nowhere. Rows with a non-finite time are
    dropped and out-of-order times are sorted first, so the result never exceeds the
    recorded span.
    """
    if len(samples) < 2:
        return ZoneTimes.empty()
    t, hr_raw, dist = _sorted_finite(samples)
    if len(t) < 2:
        return ZoneTimes.empty()
    recorded = recorded_seconds(t, max_gap_s)
    if hr_raw is None:
        zero = (0.0, 0.0, 0.0, 0.0, 0.0)
        return ZoneTimes(zero, zero, 0.0, recorded)
    hr = bridge_hr(t, hr_raw, max_gap_s)

    dt = np.diff(t)
    start_hr = hr[:-1]
    counted = (dt > 0) & (dt <= max_gap_s) & np.isfinite(start_hr)
    zones = zone_of(model, start_hr)[counted]
    seconds = _per_zone(zones, dt[counted])

    if dist is None:
        distance = np.zeros(6)
    else:
        with np.errstate(invalid="ignore"):
            dd = np.diff(dist)
        # NaN compares False, so this also drops intervals with a missing distance end.
        moved = counted & (dd >= 0)
        distance = _per_zone(zone_of(model, start_hr[moved]), dd[moved])

    per_zone = _five(seconds)
    return ZoneTimes(per_zone, _five(distance), sum(per_zone), recorded)


def _per_zone(zones: npt.NDArray[np.int8], weights: FloatArray) -> FloatArray:
    """Sum of ``weights`` by zone, indexed 0-5 (0 collects nothing: NaN HR is filtered)."""
    return np.bincount(zones, weights=weights, minlength=6).astype(np.float64)


def _five(per_zone: npt.NDArray[np.float64]) -> Five:
    return (
        float(per_zone[1]),
        float(per_zone[2]),
        float(per_zone[3]),
        float(per_zone[4]),
        float(per_zone[5]),
    )


def finite_hr(samples: Samples) -> tuple[FloatArray, FloatArray] | None:
    """Time and HR of the samples that have both, in time order; None without HR."""
    if samples.hr is None:
        return None
    t = np.asarray(samples.t, dtype=np.float64)
    hr = np.asarray(samples.hr, dtype=np.float64)
    ok = np.isfinite(t) & np.isfinite(hr)
    t, hr = t[ok], hr[ok]
    order = np.argsort(t, kind="stable")
    return t[order], hr[order]


def sustained_peak(samples: Samples, window_s: float = PEAK_WINDOW_S) -> float | None:
    """Highest rolling median of HR over ``window_s``, or None when no window qualifies.

    One number per activity: stores keep it, so max HR can be estimated again without
    reading every sample.
    """
    readings = finite_hr(samples)
    if readings is None or len(readings[0]) < _PEAK_MIN_SAMPLES:
        return None
    t, hr = readings
    # The window ending at sample i holds the samples less than window_s before it,
    # counted in whole nanoseconds: pandas' time-based rolling window (closed right).
    # Sorting each window with NumPy spares the workers and reports importing pandas,
    # which runs only for recordings dense enough to make it the faster way.
    ns = np.rint(t * 1e9).astype(np.int64)
    first = np.searchsorted(ns, ns - round(window_s * 1e9), side="right")
    count = np.arange(len(t)) - first + 1
    qualifies = np.flatnonzero((count >= _PEAK_MIN_SAMPLES) & (t - t[first] >= window_s / 2))
    if not len(qualifies):
        return None
    widest = int(count[qualifies].max())
    if widest > _PEAK_SORTED_WIDEST:
        return _pandas_peak(t, hr, window_s)
    best = -np.inf
    step = max(1, _PEAK_BLOCK // widest)  # rows of windows sorted at once, memory bounded
    for offset in range(0, len(qualifies), step):
        ends = qualifies[offset : offset + step]
        index = first[ends, None] + np.arange(widest)
        windows = np.where(index <= ends[:, None], hr[np.minimum(index, len(t) - 1)], np.inf)
        windows.sort(axis=1)  # the padding (inf) sorts last
        rows, n = np.arange(len(ends)), count[ends]
        medians = (windows[rows, (n - 1) // 2] + windows[rows, n // 2]) / 2
        best = max(best, float(medians.max()))
    return best


def _pandas_peak(t: FloatArray, hr: FloatArray, window_s: float) -> float | None:
    """The same peak by pandas' rolling median (a skip list): faster than sorting every
    window once windows hold many samples (HR recorded several times a second)."""
    import pandas as pd  # imported only for such dense recordings: it costs 0.3 s

    index = pd.to_timedelta(t, unit="s")
    window = timedelta(seconds=window_s)
    median = pd.Series(hr, index=index).rolling(window, min_periods=_PEAK_MIN_SAMPLES).median()
    first = pd.Series(t, index=index).rolling(window, min_periods=1).min().to_numpy()
    values = median.to_numpy()[(t - first) >= window_s / 2]
    values = values[np.isfinite(values)]
    return float(values.max()) if len(values) else None


#: A sustained peak's window needs this many samples with heart rate.
_PEAK_MIN_SAMPLES = 5
#: Window values sorted in one go while finding a sustained peak (bounds the memory).
_PEAK_BLOCK = 1 << 20
#: Windows up to this many samples (2 Hz over 30 s) are sorted with NumPy; wider ones go
#: to pandas, whose rolling median costs less per sample there.
_PEAK_SORTED_WIDEST = 64


def estimate_max_hr(
    series: Iterable[Samples], *, window_s: float = PEAK_WINDOW_S, min_activities: int = 3
) -> float | None:
    """Estimate max HR from what the athlete actually sustained, not from one spike.

    Each activity's peak is its highest rolling median of HR over ``window_s`` (windows
    need 5 or more finite samples spanning half the window), so optical-sensor spikes
    and dropouts cannot set it. The estimate is the 95th percentile (linear) of the
    peaks, rounded half up to whole bpm; None with fewer than ``min_activities`` peaks,
    because a few easy runs say little about the maximum.
    """
    if not window_s > 0:
        raise ValueError(f"window_s must be positive, got {window_s}")
    if min_activities < 1:
        raise ValueError(f"min_activities must be at least 1, got {min_activities}")
    peaks = [p for s in series if (p := sustained_peak(s, window_s)) is not None]
    return estimate_from_peaks(peaks, min_activities=min_activities)
