"""GPX files: one activity per file, from every timed track point.

:mod:`~heavylegs_sync.importers.gpx_read` reads the points (streaming, bounded);
:mod:`~heavylegs_sync.importers.track` turns coordinates into glitch-free distance, speed
and an inferred sport; this module builds the activity. GPX carries no UTC offset: the
configured time zone places the activity. Many files carry no ``<type>``: the sport is
then inferred from the track and marked as inferred.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from heavylegs_sync.categories import gpx_category, sport_name
from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.hr.trace import hr_coverage
from heavylegs_sync.importers.common import (
    MAX_CADENCE,
    DecodeOptions,
    Decoder,
    build_samples,
    check_start,
    clean,
    summary_hr,
    utc_offset_for,
)
from heavylegs_sync.importers.gpx_read import read_gpx
from heavylegs_sync.importers.gpx_reference import GPX_REFERENCE_DECODER, read_gpx_reference
from heavylegs_sync.importers.track import moving_time, sport_and_track
from heavylegs_sync.model import Activity, OffsetSource


def decode_gpx(
    path: Path, data: bytes | Callable[[], Iterable[bytes]], options: DecodeOptions
) -> list[Activity]:
    """Decode one GPX file into a single activity, or raise :class:`ImportFailed`.

    ``data`` is the file's bytes, or a function giving its content in chunks (inflated
    as the parser goes, so a compressed file is never held whole).
    """
    if isinstance(data, bytes) and not data.strip():
        raise ImportFailed(path, "empty file (0 bytes)" if not data else "empty file")
    reference = options.decoder == Decoder.REFERENCE  # gpxpy, as fitparse for FIT
    gpx = read_gpx_reference(path, data) if reference else read_gpx(path, data)
    if not gpx.times:
        raise ImportFailed(path, "no timed track points (only a route, waypoints or metadata)")
    if len(gpx.times) < 2:
        raise ImportFailed(path, "only one timed track point")
    order = sorted(range(len(gpx.times)), key=gpx.times.__getitem__)
    times = [gpx.times[i] for i in order]
    start = times[0]
    check_start(path, start)

    t = np.array([(ts - start).total_seconds() for ts in times], dtype=np.float64)
    cadence = gpx.cadence[order]
    declared = next((k for tr in gpx.tracks if (k := gpx_category(tr.type)) is not None), None)
    if declared is None and options.gpx_sport:
        declared = gpx_category(options.gpx_sport)
    sport, category, inferred, track = sport_and_track(
        declared,
        t,
        gpx.lat[order],
        gpx.lon[order],
        gpx.elevation[order],
        clean(cadence, 0.0, MAX_CADENCE),
    )
    if track is not None and track.mostly_glitches:
        raise ImportFailed(
            path,
            f"implausible distance: {track.points_dropped} of {track.fixes} GPS points are"
            " impossible jumps for the sport",
        )
    distance = None if track is None else track.distance
    speed = None if track is None else track.speed
    samples = build_samples(t, hr=gpx.hr[order], speed=speed, distance=distance, cadence=cadence)
    elapsed = float(t[-1])
    if elapsed <= 0:
        raise ImportFailed(path, "all track points carry the same time")
    avg_hr, max_hr = summary_hr(None, None, samples)
    total = (
        float(np.nanmax(distance)) if distance is not None and np.isfinite(distance).any() else None
    )
    name = next((tr.name for tr in gpx.tracks if tr.name), None) or gpx.name
    return [
        Activity(
            source="gpx",
            source_id=f"{start:%Y%m%dT%H%M%S.%fZ}/{len(times)}",
            category=category,
            start_utc=start,
            utc_offset_s=utc_offset_for(start, options.zone),
            offset_source=OffsetSource.TIMEZONE,
            sport=sport_name(sport),
            sport_raw=sport,
            sport_inferred=inferred,
            timer_s=moving_time(t),
            elapsed_s=elapsed,
            distance_m=total if total else None,
            avg_hr=avg_hr,
            max_hr=max_hr,
            name=name,
            device=gpx.creator,
            samples=samples,
            hr_coverage=hr_coverage(samples),
            points_dropped=0 if track is None else track.points_dropped,
            decoder=GPX_REFERENCE_DECODER if reference else None,
        )
    ]
