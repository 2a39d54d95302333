"""TCX files (Garmin Training Center XML v2): one activity per ``<Activity>``.

:mod:`~heavylegs_sync.importers.tcx_read` reads the file (streaming, bounded); this module
builds the activities. The laps carry the device's own totals: their ``TotalTimeSeconds``
summed is the moving time and their ``DistanceMeters`` summed the distance. Per point, the
file's cumulative ``DistanceMeters`` are used where most points carry them; otherwise
positions go through the glitch-proof :mod:`~heavylegs_sync.importers.track`, exactly as
for GPX. TCX times are UTC with no local offset: the configured time zone places the
activity. An activity without timed trackpoints (a pool swim, a manual entry) is stored
from its laps alone, without samples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np

from heavylegs_sync.categories import sport_name, tcx_category
from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.hr.trace import hr_coverage
from heavylegs_sync.importers.common import (
    MAX_CADENCE,
    MAX_SPEED,
    DecodeOptions,
    build_samples,
    check_start,
    clean,
    summary_hr,
    utc_offset_for,
)
from heavylegs_sync.importers.parts import split as split_at_pauses
from heavylegs_sync.importers.parts import split_note
from heavylegs_sync.importers.summary import Figures, reconcile
from heavylegs_sync.importers.tcx_read import TcxActivity, TcxFile, TcxLap, read_tcx
from heavylegs_sync.importers.track import climb_per_km, infer_sport, moving_time, sport_and_track
from heavylegs_sync.limits import SENSOR_HR_RANGE, SPLIT_PAUSE_S, STUB_S
from heavylegs_sync.model import Activity, Category, FloatArray, OffsetSource

#: Point distances are used when at least this share of the points carries one.
DISTANCE_COVERAGE = 0.5
#: Lap times summing to more than the recording by this much are not believed.
_LAP_SLACK_S = 60.0
NOTE_LAPS_IGNORED = "lap totals ignored (longer than the laps' own span)"


def decode_tcx(
    path: Path, data: bytes | Callable[[], Iterable[bytes]], options: DecodeOptions
) -> list[Activity]:
    """Decode one TCX file into its activities, or raise :class:`ImportFailed`.

    ``data`` is the file's bytes, or a function giving its content in chunks (inflated
    as the parser goes, so a compressed file is never held whole). In a file with several
    activities, one that cannot be used is left out with a note on the others; the file
    fails only when none can be used.
    """
    if isinstance(data, bytes) and not data.strip():
        raise ImportFailed(path, "empty file (0 bytes)" if not data else "empty file")
    tcx = read_tcx(path, data)
    if not tcx.activities:
        raise ImportFailed(path, "no activities (only courses, workouts or other data)")
    kept: list[Activity] = []
    problems: list[str] = []
    for index, whole in enumerate(tcx.activities, 1):
        parts, notes = _parts(whole)
        for number, activity in enumerate(parts, 1):
            label = f"activity {index}" if len(parts) == 1 else f"activity {index} part {number}"
            try:
                kept.append(_with_notes(_activity(path, activity, tcx, options), notes))
            except ImportFailed as exc:
                problems.append(f"{label}: {exc.reason}")
    if not kept:
        if len(problems) == 1:
            raise ImportFailed(path, problems[0].partition(": ")[2])
        raise ImportFailed(path, f"no usable activity ({'; '.join(problems[:3])})")
    if problems:
        plural = "y" if len(problems) == 1 else "ies"
        note = f"{len(problems)} other activit{plural} in the file unusable"
        kept = [_with_note(a, note) for a in kept]
    return kept


def _parts(act: TcxActivity) -> tuple[list[TcxActivity], tuple[str, ...]]:
    """An activity whose trackpoints (or, without them, laps) pause for hours, as the
    activities it holds (importers/parts.py), and the note each part carries.

    Each lap goes with the last part whose first trackpoint is not after the lap's start
    by more than a stub's length (a lap may start a moment before its first point).
    """
    if len(act.times) < 2:
        return _lap_parts(act)
    order = np.array(sorted(range(len(act.times)), key=act.times.__getitem__), dtype=np.intp)
    first = act.times[int(order[0])]
    seconds = np.array([(act.times[i] - first).total_seconds() for i in order])
    split = split_at_pauses(seconds)
    if split.whole:
        return [act], ()
    starts = [act.times[int(order[part.start])] for part in split.parts]
    laps: list[list[TcxLap]] = [[] for _ in split.parts]
    for lap in act.laps:
        owner = 0
        if lap.start is not None:
            for index, start in enumerate(starts):
                if (start - lap.start).total_seconds() <= STUB_S:
                    owner = index
        laps[owner].append(lap)
    parts = []
    for part, own_laps in zip(split.parts, laps, strict=True):
        idx = order[part]
        parts.append(
            replace(
                act,
                id_time=None,
                laps=own_laps,
                times=[act.times[i] for i in idx],
                lat=act.lat[idx],
                lon=act.lon[idx],
                elevation=act.elevation[idx],
                distance=act.distance[idx],
                hr=act.hr[idx],
                cadence=act.cadence[idx],
                speed=act.speed[idx],
            )
        )
    return parts, split.notes()


def _lap_parts(act: TcxActivity) -> tuple[list[TcxActivity], tuple[str, ...]]:
    """An activity known only by its laps, cut where one lap ends hours before the next
    starts."""
    starts = [lap.start for lap in act.laps]
    if len(starts) < 2 or any(start is None for start in starts):
        return [act], ()
    timed = sorted(act.laps, key=lambda lap: lap.start or datetime.min)
    groups: list[list[TcxLap]] = [[timed[0]]]
    for before, lap in pairwise(timed):
        assert before.start is not None and lap.start is not None
        lasted = before.total_time_s if before.total_time_s > 0 else 0.0
        end = before.start + timedelta(seconds=lasted)
        if (lap.start - end).total_seconds() > SPLIT_PAUSE_S:
            groups.append([])
        groups[-1].append(lap)
    if len(groups) == 1:
        return [act], ()
    parts = [replace(act, laps=group, id_time=act.id_time if i == 0 else None)
             for i, group in enumerate(groups)]  # fmt: skip
    return parts, (split_note(len(groups)),)


def _activity(path: Path, act: TcxActivity, tcx: TcxFile, options: DecodeOptions) -> Activity:
    if len(act.times) < 2:
        return _from_laps(path, act, tcx, options)
    order = sorted(range(len(act.times)), key=act.times.__getitem__)
    times = [act.times[i] for i in order]
    start = times[0]
    check_start(path, start)
    t = np.array([(ts - start).total_seconds() for ts in times], dtype=np.float64)
    elapsed = float(t[-1])
    if elapsed <= 0:
        raise ImportFailed(path, "all trackpoints carry the same time")
    lat, lon = act.lat[order], act.lon[order]
    cadence = act.cadence[order]
    clean_cadence = clean(cadence, 0.0, MAX_CADENCE)
    point_speed = act.speed[order]
    has_speed = bool(np.isfinite(point_speed).any())
    distance = _point_distance(act.distance[order])
    declared = tcx_category(act.sport)
    dropped = 0
    sport: str | None
    speed: FloatArray | None
    if distance is not None:
        speed = point_speed if has_speed else _speed_from(t, distance)
        if declared is not None:
            sport, category, inferred = declared[0], declared[1], False
        else:
            moving = clean(speed, 0.0, MAX_SPEED)
            climb = climb_per_km(act.elevation[order], float(np.nanmax(distance)))
            sport, category = infer_sport(
                moving if moving is not None else np.empty(0), clean_cadence, climb, act.hr[order]
            )
            inferred = sport is not None
    else:
        sport, category, inferred, track = sport_and_track(
            declared, t, lat, lon, act.elevation[order], clean_cadence, hr=act.hr[order]
        )
        if track is not None and track.mostly_glitches:
            raise ImportFailed(
                path,
                f"implausible distance: {track.points_dropped} of {track.fixes} GPS points"
                " are impossible jumps for the sport",
            )
        distance = None if track is None else track.distance
        speed = point_speed if has_speed else (None if track is None else track.speed)
        dropped = 0 if track is None else track.points_dropped
    if sport is None:  # nothing to infer from: "Other", or nothing, kept as written
        sport, inferred = act.sport, False
    samples = build_samples(t, hr=act.hr[order], speed=speed, distance=distance, cadence=cadence)
    laps = act.laps
    notes: tuple[str, ...] = ()
    lap_time, lap_distance = _lap_totals(laps)
    # Laps may run past the last trackpoint (a pool swim records a point per length, a
    # cut file keeps its laps), never beyond their own span.
    span = max(elapsed, _lap_end(laps, start))
    if lap_time is not None and lap_time > span + _LAP_SLACK_S:
        # Overlapping or merged laps: their totals describe more than the activity lasted.
        laps, lap_time, lap_distance = [], None, None
        notes = (NOTE_LAPS_IGNORED,)
    elif lap_time is not None:
        elapsed = max(span, lap_time)  # lap times rounded up may pass the span by a second
    total: float | None = lap_distance
    if total is None and samples.distance is not None:
        total = float(np.nanmax(samples.distance)) or None
    timer = lap_time if lap_time is not None else moving_time(t)
    figures = reconcile(Figures(elapsed, timer, total, notes), samples)
    avg_hr, max_hr = summary_hr(*_lap_hr(laps), samples)
    return Activity(
        source="tcx",
        source_id=f"{start:%Y%m%dT%H%M%S.%fZ}/{len(times)}",
        category=category,
        start_utc=start,
        utc_offset_s=utc_offset_for(start, options.zone),
        offset_source=OffsetSource.TIMEZONE,
        sport=sport_name(sport),
        sport_raw=sport,
        sport_inferred=inferred,
        timer_s=figures.timer_s,
        elapsed_s=figures.elapsed_s,
        distance_m=figures.distance_m,
        avg_hr=avg_hr,
        max_hr=max_hr,
        device=act.device or tcx.author,
        samples=samples,
        hr_coverage=hr_coverage(samples),
        points_dropped=dropped,
        notes=figures.notes,
    )


def _from_laps(path: Path, act: TcxActivity, tcx: TcxFile, options: DecodeOptions) -> Activity:
    """An activity known only by its laps' totals (no timed trackpoints): no samples."""
    lap_time, lap_distance = _lap_totals(act.laps)
    starts = [lap.start for lap in act.laps if lap.start is not None]
    start = act.id_time or (min(starts) if starts else None)
    if start is None or lap_time is None:
        what = "only one timed trackpoint" if act.times else "no timed trackpoints"
        raise ImportFailed(path, f"{what} and no lap times")
    check_start(path, start)
    elapsed = max(lap_time, _lap_end(act.laps, start))
    declared = tcx_category(act.sport)
    sport, category = declared if declared is not None else (act.sport, Category.OTHER)
    avg_hr, max_hr = summary_hr(*_lap_hr(act.laps), None)
    return Activity(
        source="tcx",
        source_id=f"{start:%Y%m%dT%H%M%S.%fZ}/laps{len(act.laps)}",
        category=category,
        start_utc=start,
        utc_offset_s=utc_offset_for(start, options.zone),
        offset_source=OffsetSource.TIMEZONE,
        sport=sport_name(sport),
        sport_raw=sport,
        timer_s=lap_time,
        elapsed_s=elapsed,
        distance_m=lap_distance,
        avg_hr=avg_hr,
        max_hr=max_hr,
        device=act.device or tcx.author,
        notes=("from lap totals (no timed trackpoints)",),
    )


def _point_distance(distance: FloatArray) -> FloatArray | None:
    """Cumulative distance from the start, when most points carry one; else None.

    Some devices carry on counting from an earlier recording, so the first value is
    taken as the start.
    """
    finite = np.isfinite(distance)
    if not distance.size or finite.mean() < DISTANCE_COVERAGE:
        return None
    relative: FloatArray = distance - distance[finite][0]
    with np.errstate(invalid="ignore"):
        relative[relative < 0] = np.nan  # a step back is a glitch, not a distance
    if not np.nanmax(relative) > 0:
        return None
    return relative


def _speed_from(t: FloatArray, distance: FloatArray) -> FloatArray:
    """Speed over the step that ends at each point, from cumulative distance (m/s)."""
    speed = np.full(len(t), np.nan)
    dt = np.diff(t)
    step = np.diff(distance)
    with np.errstate(invalid="ignore", divide="ignore"):
        speed[1:] = np.where(dt > 0, step / dt, np.nan)
    return speed


def _lap_end(laps: list[TcxLap], start: datetime) -> float:
    """Seconds from the start to the end of the lap that ends last (0 without laps)."""
    ends = [
        (lap.start - start).total_seconds() + lap.total_time_s
        for lap in laps
        if lap.start is not None and lap.total_time_s > 0
    ]
    return max(ends, default=0.0)


def _lap_totals(laps: list[TcxLap]) -> tuple[float | None, float | None]:
    """The laps' summed time and distance (None when no lap gives one)."""
    times = [lap.total_time_s for lap in laps if lap.total_time_s > 0]
    distances = [lap.distance_m for lap in laps if lap.distance_m > 0]
    return (sum(times) if times else None, sum(distances) if distances else None)


def _lap_hr(laps: list[TcxLap]) -> tuple[float | None, float | None]:
    """Average HR weighted by lap time (when every timed lap has one) and the peak."""
    low, high = SENSOR_HR_RANGE
    timed = [lap for lap in laps if lap.total_time_s > 0]
    avg = None
    if timed and all(low <= lap.avg_hr <= high for lap in timed):
        weight = sum(lap.total_time_s for lap in timed)
        avg = round(sum(lap.avg_hr * lap.total_time_s for lap in timed) / weight, 1)
    peaks = [lap.max_hr for lap in laps if low <= lap.max_hr <= high]
    return avg, (max(peaks) if peaks else None)


def _with_note(activity: Activity, note: str) -> Activity:
    return replace(activity, notes=(*activity.notes, note))


def _with_notes(activity: Activity, notes: tuple[str, ...]) -> Activity:
    return replace(activity, notes=(*notes, *activity.notes)) if notes else activity
