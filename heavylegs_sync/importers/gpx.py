"""GPX files: one activity per file (per part of a file that spans days), from its timed points.

:mod:`~heavylegs_sync.importers.gpx_read` reads the points (streaming, bounded);
:mod:`~heavylegs_sync.importers.track` turns coordinates into glitch-free distance, speed
and an inferred sport; this module builds the activity. GPX carries no UTC offset: the
configured time zone places the activity. Many files carry no ``<type>``: the sport is
then inferred from the track and marked as inferred.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

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
from heavylegs_sync.importers.gpx_read import GpxPoints, GpxTrack, read_gpx
from heavylegs_sync.importers.gpx_reference import GPX_REFERENCE_DECODER, read_gpx_reference
from heavylegs_sync.importers.parts import split as split_at_pauses
from heavylegs_sync.importers.track import moving_time, sport_and_track
from heavylegs_sync.limits import SPLIT_PAUSE_S
from heavylegs_sync.model import Activity, Category, OffsetSource


def decode_gpx(
    path: Path, data: bytes | Callable[[], Iterable[bytes]], options: DecodeOptions
) -> list[Activity]:
    """Decode one GPX file into its activities, or raise :class:`ImportFailed`.

    ``data`` is the file's bytes, or a function giving its content in chunks (inflated
    as the parser goes, so a compressed file is never held whole). A file is one activity
    unless its points pause for hours (a track per day): then each part is one
    (:mod:`~heavylegs_sync.importers.parts`), a part that cannot be used is left out with
    a note on the others, and the file fails only when none can be used.
    """
    if isinstance(data, bytes) and not data.strip():
        raise ImportFailed(path, "empty file (0 bytes)" if not data else "empty file")
    reference = options.decoder == Decoder.REFERENCE  # gpxpy, as fitparse for FIT
    gpx = read_gpx_reference(path, data) if reference else read_gpx(path, data)
    return _read_by(_activities(path, gpx, options), reference)


def _read_by(activities: list[Activity], reference: bool) -> list[Activity]:
    """Activities read by gpxpy say so (``decoder``); the streaming reader leaves it empty."""
    if reference:
        for activity in activities:
            activity.decoder = GPX_REFERENCE_DECODER
    return activities


def _activities(path: Path, gpx: GpxPoints, options: DecodeOptions) -> list[Activity]:
    """The file's activities from its points (see :func:`decode_gpx`)."""
    if not gpx.times:
        raise ImportFailed(path, "no timed track points (only a route, waypoints or metadata)")
    if len(gpx.times) < 2:
        raise ImportFailed(path, "only one timed track point")
    order = np.array(sorted(range(len(gpx.times)), key=gpx.times.__getitem__), dtype=np.intp)
    times = [gpx.times[i] for i in order]
    first = times[0]
    seconds = np.array([(ts - first).total_seconds() for ts in times], dtype=np.float64)
    split = split_at_pauses(seconds)
    if split.whole:
        return [_activity(path, gpx, order, times, options, ())]
    kept: list[Activity] = []
    problems: list[str] = []
    for part in split.parts:
        try:
            kept.append(_activity(path, gpx, order[part], times[part], options, split.notes()))
        except ImportFailed as exc:
            problems.append(f"{times[part.start]:%Y-%m-%d %H:%M} UTC: {exc.reason}")
    if not kept:
        raise ImportFailed(
            path,
            f"no usable activity between its pauses of over {SPLIT_PAUSE_S / 3600:g} h "
            f"({'; '.join(problems[:3])})",
        )
    if problems:
        note = f"{len(problems)} other part{'s' if len(problems) > 1 else ''} unusable"
        kept = [dataclasses.replace(a, notes=(*a.notes, note)) for a in kept]
    return kept


def _activity(
    path: Path,
    gpx: GpxPoints,
    order: npt.NDArray[np.intp],
    times: list[datetime],
    options: DecodeOptions,
    notes: tuple[str, ...],
) -> Activity:
    """One activity from the points at ``order`` (sorted by time, ``times`` theirs)."""
    start = times[0]
    check_start(path, start)
    if len(times) < 2:
        raise ImportFailed(path, "only one timed track point")

    t = np.array([(ts - start).total_seconds() for ts in times], dtype=np.float64)
    cadence = gpx.cadence[order]
    declared = _declared(gpx, order)
    if declared is None and options.gpx_sport:
        declared = gpx_category(options.gpx_sport)
    sport, category, inferred, track = sport_and_track(
        declared,
        t,
        gpx.lat[order],
        gpx.lon[order],
        gpx.elevation[order],
        clean(cadence, 0.0, MAX_CADENCE),
        hr=gpx.hr[order],
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
    own = _tracks(gpx, order)
    name = next((tr.name for tr in own if tr.name), None) or gpx.name
    return Activity(
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
        notes=notes,
    )


def _tracks(gpx: GpxPoints, order: npt.NDArray[np.intp]) -> list[GpxTrack]:
    """The ``<trk>`` elements these points belong to, in file order (all when a file's
    points sit outside any track)."""
    indices = sorted({int(i) for i in gpx.track[order] if i >= 0})
    own = [gpx.tracks[i] for i in indices if i < len(gpx.tracks)]
    return own or gpx.tracks


def _declared(gpx: GpxPoints, order: npt.NDArray[np.intp]) -> tuple[str, Category] | None:
    """The sport the points' own tracks declare (the first that names a known one)."""
    return next((k for tr in _tracks(gpx, order) if (k := gpx_category(tr.type)) is not None), None)
