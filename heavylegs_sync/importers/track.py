"""GPS tracks to distance, speed and sport, proof against real GPS and clock glitches.

Real tracks hold teleport points (a fix kilometres away for one second, implied speeds of
thousands of km/h) and clock jumps. One such point inflates distance (8 km read as 22 km)
and a mean speed, so a run is read as a ride. Here a point whose implied speed from the
previous *kept* point is impossible for the sport is left out of distance and speed (the
point itself, its time and heart rate, stays), a gap of more than :data:`CLOCK_JUMP_S`
without points is a pause that adds no distance, and the sport is inferred from robust
statistics of the cleaned track (the median and 90th percentile of its speeds as rolling
30-s medians, which short spikes do not move), with cadence and heart rate as witnesses, never
from a mean or from a teleport.

Pure functions over numpy arrays, so every format with coordinates (GPX, TCX) shares them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from heavylegs_sync.limits import MAX_GAP_S
from heavylegs_sync.model import Category, FloatArray

BoolArray = npt.NDArray[np.bool_]

#: Faster than this between two fixes is a glitch on foot (m/s; 30 km/h) ...
MAX_FOOT_SPEED = 30.0 / 3.6
#: ... and on anything else human-powered (120 km/h: a fast descent on a bike).
MAX_WHEEL_SPEED = 120.0 / 3.6
#: More than this without a point is a pause (or the clock jumped): no distance across it.
CLOCK_JUMP_S = 600.0
#: A track with more impossible fixes than this (and this share of all) is not a track.
MAX_DROPPED_POINTS = 10
MAX_DROPPED_SHARE = 0.25
#: Two fixes at the same second further apart than this are a teleport, not a step.
_SAME_TIME_JUMP_M = 50.0
#: Fixes closer in time than this are judged as this far apart: 1 Hz fixes stamped to
#: the millisecond can be 0.3 s apart, and their few metres are no jump.
MIN_FIX_INTERVAL_S = 1.0
_EARTH_RADIUS_M = 6_371_008.8

# Pace bands for inference, m/s of median moving speed (see docs/categories.md).
WALK_BELOW = 1.9  # slower than ~8:45 min/km
RUN_UP_TO = 5.6  # up to ~3:00 min/km
RUN_P90_BELOW = 7.0  # a run's fast stretches stay under ~25 km/h; a ride's do not
HIKE_CLIMB_M_PER_KM = 60.0
#: Running cadence in steps a minute; a bike's pedal cadence stays well below.
RUN_CADENCE_SPM = (140.0, 230.0)
#: Inference reads the cleaned track's step speeds as rolling medians over this many
#: seconds: a spike of a few fixes (out and back, under the teleport limit) moves none.
INFER_WINDOW_S = 30.0
_WINDOW_MAX_STEPS = 61
#: A working heart rate (median, bpm) at a pace no hard ride is that slow (median up to
#: this, m/s: 16 km/h, 3:45 min/km) is a run whatever a few fast windows say: on a bike
#: that pace is a stroll. HR is evidence only where most of the track carries it.
RUN_HR_BPM = 130.0
RUN_HR_SPEED_MAX = 4.5
_HR_PRESENT = 0.5
_MOVING_SPEED = 0.5
_MIN_MOVING_STEPS = 5


@dataclass(frozen=True)
class Track:
    """Distance and speed per point (NaN where a point was dropped), and what was dropped."""

    distance: FloatArray  # cumulative metres
    speed: FloatArray  # m/s over the step that ends at each point
    kept: BoolArray  # points used for distance and speed
    points_dropped: int
    fixes: int = 0  # points with coordinates

    @property
    def mostly_glitches(self) -> bool:
        """Whether so many fixes are impossible jumps that the track means nothing
        (points alternating between the poles): more than a quarter, and over 10."""
        return self.points_dropped > max(MAX_DROPPED_POINTS, MAX_DROPPED_SHARE * self.fixes)


def steps_m(
    lat: FloatArray, lon: FloatArray, i: npt.NDArray[np.intp], j: npt.NDArray[np.intp]
) -> FloatArray:
    """Great-circle distance (haversine) from point i to point j, element-wise, metres."""
    lat_i, lat_j = np.radians(lat[i]), np.radians(lat[j])
    dlat = lat_j - lat_i
    dlon = np.radians(lon[j]) - np.radians(lon[i])
    a = np.sin(dlat / 2) ** 2 + np.cos(lat_i) * np.cos(lat_j) * np.sin(dlon / 2) ** 2
    result: FloatArray = 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return result


def max_speed_for(category: Category | None) -> float:
    """The fastest a body moves in this category; unknown sports get the wheel limit."""
    if category in (Category.RUN, Category.LIGHT):
        return MAX_FOOT_SPEED
    return MAX_WHEEL_SPEED


def clean_track(t: FloatArray, lat: FloatArray, lon: FloatArray, max_speed: float) -> Track | None:
    """Distance and speed from fixes, glitches dropped; None without any coordinates.

    ``t`` is seconds since the start, sorted. Points without coordinates are neither
    kept nor counted as dropped.
    """
    has_fix = np.isfinite(lat) & np.isfinite(lon)
    if not has_fix.any():
        return None
    fixes = np.flatnonzero(has_fix)
    kept = np.zeros(len(t), dtype=bool)
    anchor = _first_anchor(t, lat, lon, fixes, max_speed)
    dropped = int(np.searchsorted(fixes, anchor))  # fixes before a credible start
    rest = fixes[fixes >= anchor]
    if _all_plausible(t, lat, lon, rest, max_speed):
        kept[rest] = True  # the common case: no glitch, no loop
    else:
        dropped += _both_ways(t, lat, lon, rest, max_speed, kept)
    distance = np.full(len(t), np.nan)
    speed = np.full(len(t), np.nan)
    idx = np.flatnonzero(kept)
    step = steps_m(lat, lon, idx[:-1], idx[1:])
    dt = np.diff(t[idx])
    step = np.where(dt > CLOCK_JUMP_S, 0.0, step)
    distance[idx] = np.concatenate(([0.0], np.cumsum(step)))
    with np.errstate(divide="ignore", invalid="ignore"):
        step_speed = np.where((dt > 0) & (dt <= MAX_GAP_S), step / dt, np.nan)
    speed[idx[1:]] = step_speed
    return Track(
        distance=distance, speed=speed, kept=kept, points_dropped=dropped, fixes=len(fixes)
    )


def _plausible(dt: float, step: float, max_speed: float) -> bool:
    if dt > CLOCK_JUMP_S:
        return True  # after a pause anywhere is possible; the jump adds no distance
    if dt <= 0:
        return step <= _SAME_TIME_JUMP_M
    return step / max(dt, MIN_FIX_INTERVAL_S) <= max_speed


def _all_plausible(
    t: FloatArray, lat: FloatArray, lon: FloatArray, fixes: npt.NDArray[np.intp], max_speed: float
) -> bool:
    if len(fixes) < 2:
        return True
    step = steps_m(lat, lon, fixes[:-1], fixes[1:])
    dt = np.diff(t[fixes])
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = np.where(
            dt > CLOCK_JUMP_S,
            True,
            np.where(
                dt > 0,
                step / np.maximum(dt, MIN_FIX_INTERVAL_S) <= max_speed,
                step <= _SAME_TIME_JUMP_M,
            ),
        )
    return bool(ok.all())


def _both_ways(
    t: FloatArray,
    lat: FloatArray,
    lon: FloatArray,
    fixes: npt.NDArray[np.intp],
    max_speed: float,
    kept: BoolArray,
) -> int:
    """Keep the fixes a walk forward in time and a walk backward both keep.

    A long spike (the position runs off for a minute, then snaps back) fools a walk in
    one direction: once enough time has passed, the far-off fixes become "reachable" and
    are kept, and their detour out and back is counted as distance. Walking back from the
    end, the same fixes are unreachable from the other side, so only a spike longer than
    twice the time its offset takes to cover survives both.
    """
    forward = np.zeros(len(t), dtype=bool)
    _walk(t, lat, lon, fixes, max_speed, forward)
    backward = np.zeros(len(t), dtype=bool)
    reverse = -t
    tail = fixes[::-1]
    anchor = _first_anchor(reverse, lat, lon, tail, max_speed)
    _walk(reverse, lat, lon, tail[np.flatnonzero(tail == anchor)[0] :], max_speed, backward)
    both = forward & backward
    if both[fixes].sum() < 2:  # the two walks share nothing: trust the forward one
        both = forward
    kept |= both
    return int(len(fixes) - both[fixes].sum())


def _walk(
    t: FloatArray,
    lat: FloatArray,
    lon: FloatArray,
    fixes: npt.NDArray[np.intp],
    max_speed: float,
    kept: BoolArray,
) -> int:
    """Keep each fix reachable from the previous kept one; return how many were dropped."""
    rlat = np.radians(lat).tolist()
    rlon = np.radians(lon).tolist()
    times = t.tolist()
    order = fixes.tolist()
    last = order[0]
    kept[last] = True
    dropped = 0
    for i in order[1:]:
        dlat = rlat[i] - rlat[last]
        dlon = rlon[i] - rlon[last]
        a = (
            math.sin(dlat / 2) ** 2
            + math.cos(rlat[last]) * math.cos(rlat[i]) * math.sin(dlon / 2) ** 2
        )
        step = 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, max(0.0, a))))
        if _plausible(times[i] - times[last], step, max_speed):
            kept[i] = True
            last = i
        else:
            dropped += 1
    return dropped


def _first_anchor(
    t: FloatArray, lat: FloatArray, lon: FloatArray, fixes: npt.NDArray[np.intp], max_speed: float
) -> int:
    """The first fix the next two fixes agree with: a cold GPS start is not the start."""
    for k in range(min(len(fixes) - 2, 20)):
        i, j, m = fixes[k], fixes[k + 1], fixes[k + 2]
        d = steps_m(lat, lon, np.array([i, j]), np.array([j, m]))
        dt = np.array([t[j] - t[i], t[m] - t[j]])
        with np.errstate(divide="ignore", invalid="ignore"):
            fine = np.where(
                dt > 0, d / np.maximum(dt, MIN_FIX_INTERVAL_S) <= max_speed, d <= _SAME_TIME_JUMP_M
            )
        if fine.all():
            return int(i)
    return int(fixes[0])


def moving_time(t: FloatArray) -> float | None:
    """Elapsed time less pauses (gaps between points longer than the gap bound)."""
    dt = np.diff(t)
    moving = float(dt[(dt > 0) & (dt <= MAX_GAP_S)].sum())
    return moving if moving > 0 else None


def window_speeds(t: FloatArray, speed: FloatArray) -> FloatArray:
    """Step speeds (m/s) of a cleaned track as rolling medians over about
    :data:`INFER_WINDOW_S`: a spike of a few fixes (out and back) moves no window's median,
    and, unlike a straight line between fixes, a tight loop keeps its speed.

    Steps across a pause (NaN speed) are left out; with fewer steps than one window the
    step speeds are returned as they are.
    """
    steps = np.flatnonzero(np.isfinite(speed))
    values = speed[steps]
    if len(steps) < 3:
        return values
    interval = float(np.median(np.diff(t)[np.diff(t) > 0])) if len(t) > 1 else 1.0
    width = int(min(_WINDOW_MAX_STEPS, max(3, round(INFER_WINDOW_S / max(interval, 0.1)))))
    width |= 1  # odd: the median is a step's own speed
    if len(values) < width:
        return values
    windows = np.lib.stride_tricks.sliding_window_view(values, width)
    smoothed: FloatArray = np.median(windows, axis=1)
    return smoothed


def infer_sport(
    speed: FloatArray,
    cadence: FloatArray | None,
    climb_per_km: float,
    hr: FloatArray | None = None,
) -> tuple[str | None, Category]:
    """Guess the sport from the median moving speed, with cadence and heart rate as
    witnesses.

    A glitch-free median is what one teleport cannot move; the 90th percentile keeps a
    ride with slow climbs from passing as a run, unless the body says otherwise: a
    running cadence, or a working heart rate at a pace too slow for a hard ride.
    """
    moving = speed[np.isfinite(speed) & (speed > _MOVING_SPEED)]
    if moving.size < _MIN_MOVING_STEPS:
        return None, Category.OTHER
    median = float(np.median(moving))
    fast = float(np.percentile(moving, 90))
    steps = _running_cadence(cadence)
    if median < WALK_BELOW:
        if climb_per_km >= HIKE_CLIMB_M_PER_KM:
            return "hiking", Category.CROSS
        return "walking", Category.LIGHT
    working = median <= RUN_HR_SPEED_MAX and _working_heart(hr)
    if median <= RUN_UP_TO and (fast < RUN_P90_BELOW or steps or working):
        return "running", Category.RUN
    if steps and median <= MAX_FOOT_SPEED * 0.8:
        return "running", Category.RUN
    return "cycling", Category.CROSS


def _running_cadence(cadence: FloatArray | None) -> bool:
    """Whether the cadence reads as steps a minute (running), not pedal turns."""
    if cadence is None:
        return False
    values = cadence[np.isfinite(cadence) & (cadence > 0)]
    if values.size < _MIN_MOVING_STEPS:
        return False
    low, high = RUN_CADENCE_SPM
    return bool(low <= float(np.median(values)) <= high)


def _working_heart(hr: FloatArray | None) -> bool:
    """Whether most of the activity carries a heart rate and its median is working."""
    if hr is None or not len(hr):
        return False
    values = hr[np.isfinite(hr) & (hr > 0)]
    if values.size < _MIN_MOVING_STEPS or values.size < _HR_PRESENT * len(hr):
        return False
    return float(np.median(values)) >= RUN_HR_BPM


def climb_per_km(elevation: FloatArray, total_m: float) -> float:
    """Metres climbed per kilometre (a hike climbs; a walk does not)."""
    values = elevation[np.isfinite(elevation)]
    if values.size < 2 or total_m <= 0:
        return 0.0
    gain = np.diff(values)
    return float(gain[gain > 0].sum()) / (total_m / 1000.0)


def sport_and_track(
    declared: tuple[str, Category] | None,
    t: FloatArray,
    lat: FloatArray,
    lon: FloatArray,
    elevation: FloatArray,
    cadence: FloatArray | None,
    *,
    hr: FloatArray | None = None,
) -> tuple[str | None, Category, bool, Track | None]:
    """The sport (declared, else inferred) and the glitch-free track for it.

    An undeclared sport is inferred from the track cleaned with the wheel limit (its
    speeds as rolling medians, :func:`window_speeds`), with cadence and heart rate as
    witnesses; a foot sport then gets the track cleaned again with the stricter foot
    limit. The third value says whether the sport was inferred.
    """
    if declared is not None:
        sport, category = declared
        return sport, category, False, clean_track(t, lat, lon, max_speed_for(category))
    track = clean_track(t, lat, lon, MAX_WHEEL_SPEED)
    if track is None:
        return None, Category.OTHER, True, None
    kept_distance = track.distance[np.isfinite(track.distance)]
    total = float(kept_distance[-1]) if kept_distance.size else 0.0
    speeds = window_speeds(t, track.speed)
    climb = climb_per_km(elevation[track.kept], total)
    guess, guessed = infer_sport(speeds, cadence, climb, hr)
    limit = max_speed_for(guessed)
    if limit < MAX_WHEEL_SPEED:
        track = clean_track(t, lat, lon, limit)
    return guess, guessed, True, track
