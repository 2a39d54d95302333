"""GPX files: one activity per file, from every timed track point.

:mod:`~heavylegs_sync.importers.gpx_read` reads the points (streaming, bounded); this
module turns them into an activity. GPX carries no UTC offset: the configured time zone
places the activity. Many files carry no ``<type>``: the sport is then inferred from the
pace and marked as inferred.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heavylegs_sync.categories import gpx_category
from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers.common import (
    DecodeOptions,
    build_samples,
    check_start,
    summary_hr,
    utc_offset_for,
)
from heavylegs_sync.importers.gpx_read import GpxTrack, read_gpx
from heavylegs_sync.model import Activity, Category, FloatArray, OffsetSource

_MAX_GAP_FOR_SPEED = 30.0  # s; longer gaps are pauses and say nothing about pace

# Pace bands for inference, m/s of median moving speed (see docs/categories.md).
_WALK_BELOW = 1.9  # slower than ~8:45 min/km
_RUN_UP_TO = 5.6  # up to ~3:00 min/km
_RUN_P95_BELOW = 7.5  # a run's fast stretches stay under 27 km/h; a ride's do not
_HIKE_CLIMB_M_PER_KM = 60.0


def decode_gpx(
    path: Path, data: bytes | Callable[[], Iterable[bytes]], options: DecodeOptions
) -> list[Activity]:
    """Decode one GPX file into a single activity, or raise :class:`ImportFailed`.

    ``data`` is the file's bytes, or a function giving its content in chunks (inflated
    as the parser goes, so a compressed file is never held whole).
    """
    if isinstance(data, bytes) and not data.strip():
        raise ImportFailed(path, "empty file (0 bytes)" if not data else "empty file")
    gpx = read_gpx(path, data)
    if not gpx.times:
        raise ImportFailed(path, "no timed track points (only a route, waypoints or metadata)")
    if len(gpx.times) < 2:
        raise ImportFailed(path, "only one timed track point")
    order = sorted(range(len(gpx.times)), key=gpx.times.__getitem__)
    times = [gpx.times[i] for i in order]
    points = _Points(gpx.lat[order], gpx.lon[order], gpx.elevation[order])
    start = times[0]
    check_start(path, start)

    t = np.array([(ts - start).total_seconds() for ts in times], dtype=np.float64)
    distance = _cumulative_distance(points)
    speed = _speed(t, distance)
    samples = build_samples(
        t, hr=gpx.hr[order], speed=speed, distance=distance, cadence=gpx.cadence[order]
    )

    tracks = gpx.tracks
    sport, category, inferred = _sport(tracks, samples.t, distance, points, options)
    elapsed = float(t[-1])
    if elapsed <= 0:
        raise ImportFailed(path, "all track points carry the same time")
    avg_hr, max_hr = summary_hr(None, None, samples)
    total = (
        float(np.nanmax(distance)) if distance is not None and np.isfinite(distance).any() else None
    )
    name = next((tr.name for tr in tracks if tr.name), None) or gpx.name
    return [
        Activity(
            source="gpx",
            source_id=f"{start:%Y%m%dT%H%M%S.%fZ}/{len(times)}",
            category=category,
            start_utc=start,
            utc_offset_s=utc_offset_for(start, options.zone),
            offset_source=OffsetSource.TIMEZONE,
            sport=sport,
            sport_inferred=inferred,
            timer_s=_moving_time(t),
            elapsed_s=elapsed,
            distance_m=total if total else None,
            avg_hr=avg_hr,
            max_hr=max_hr,
            name=name,
            device=gpx.creator,
            samples=samples,
        )
    ]


@dataclass(frozen=True)
class _Points:
    """Per-point coordinates in time order (NaN = missing), for distance and climb."""

    latitude: FloatArray
    longitude: FloatArray
    elevation: FloatArray


def _cumulative_distance(points: _Points) -> FloatArray | None:
    """Cumulative great-circle distance in metres (haversine), vectorised."""
    lat, lon = points.latitude, points.longitude
    if not np.isfinite(lat).any():
        return None
    lat_r, lon_r = np.radians(lat), np.radians(lon)
    dlat, dlon = np.diff(lat_r), np.diff(lon_r)
    a = np.sin(dlat / 2) ** 2 + np.cos(lat_r[:-1]) * np.cos(lat_r[1:]) * np.sin(dlon / 2) ** 2
    step = 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    step = np.where(np.isfinite(step), step, 0.0)
    result: FloatArray = np.concatenate(([0.0], np.cumsum(step)))
    return result


def _speed(t: FloatArray, distance: FloatArray | None) -> FloatArray | None:
    if distance is None:
        return None
    dt = np.diff(t)
    dd = np.diff(distance)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where((dt > 0) & (dt <= _MAX_GAP_FOR_SPEED), dd / dt, np.nan)
    result: FloatArray = np.concatenate(([np.nan], step))
    return result


def _moving_time(t: FloatArray) -> float | None:
    """Elapsed time less pauses (gaps between points longer than 30 s)."""
    dt = np.diff(t)
    moving = float(dt[(dt > 0) & (dt <= _MAX_GAP_FOR_SPEED)].sum())
    return moving if moving > 0 else None


def _sport(
    tracks: list[GpxTrack],
    t: FloatArray,
    distance: FloatArray | None,
    points: _Points,
    options: DecodeOptions,
) -> tuple[str | None, Category, bool]:
    for track in tracks:
        known = gpx_category(track.type)
        if known is not None:
            return known[0], known[1], False
    if options.gpx_sport:
        known = gpx_category(options.gpx_sport)
        if known is not None:
            return known[0], known[1], False
    return (*_infer(t, distance, points), True)


def _infer(
    t: FloatArray, distance: FloatArray | None, points: _Points
) -> tuple[str | None, Category]:
    """Guess the sport from pace: a run is neither a walk nor a ride."""
    if distance is None:
        return None, Category.OTHER
    dt = np.diff(t)
    dd = np.diff(distance)
    moving = (dt > 0) & (dt <= _MAX_GAP_FOR_SPEED) & (dd / np.where(dt > 0, dt, 1) > 0.5)
    if moving.sum() < 5:
        return None, Category.OTHER
    speeds = dd[moving] / dt[moving]
    median = float(np.median(speeds))
    fast = float(np.percentile(speeds, 95))
    if median < _WALK_BELOW:
        if _climb_per_km(points, float(distance[-1])) >= _HIKE_CLIMB_M_PER_KM:
            return "hiking", Category.CROSS
        return "walking", Category.LIGHT
    if median <= _RUN_UP_TO and fast < _RUN_P95_BELOW:
        return "running", Category.RUN
    return "cycling", Category.CROSS


def _climb_per_km(points: _Points, total_m: float) -> float:
    elevations = points.elevation[np.isfinite(points.elevation)]
    if elevations.size < 2 or total_m <= 0:
        return 0.0
    gain = np.diff(elevations)
    return float(gain[gain > 0].sum()) / (total_m / 1000.0)
