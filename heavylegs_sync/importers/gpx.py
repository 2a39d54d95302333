"""GPX files (gpxpy): one activity per file, from every timed track point.

Heart rate and cadence sit in extensions whose namespace prefix varies by exporter
(``gpxtpx:``, ``ns3:``, Movescount's ``gpxdata:``, Amazfit's bare ``<heartrate>``), so
they are found by local element name, never by prefix. GPX carries no UTC offset: the
configured time zone places the activity. Many files carry no ``<type>``: the sport is
then inferred from the pace and marked as inferred.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gpxpy
import gpxpy.gpx
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
from heavylegs_sync.model import Activity, Category, FloatArray, OffsetSource

_HR_NAMES = {"hr", "heartrate", "heart_rate"}
_CAD_NAMES = {"cad", "cadence", "runcadence"}
#: Namespaces some exporters use without declaring them (Strava has done so).
_KNOWN_PREFIXES = {
    "gpxtpx": "http://www.garmin.com/xmlschemas/TrackPointExtension/v1",
    "ns3": "http://www.garmin.com/xmlschemas/TrackPointExtension/v1",
    "gpxx": "http://www.garmin.com/xmlschemas/GpxExtensions/v3",
    "gpxdata": "http://www.cluetrust.com/XML/GPXDATA/1/0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
_PREFIX_USE = re.compile(r"</?([A-Za-z_][\w.-]*):[A-Za-z_]")
_PREFIX_DECL = re.compile(r"xmlns:([A-Za-z_][\w.-]*)\s*=")
_EMPTY_TRKPT = re.compile(r"<trkpt\s*>.*?</trkpt>", re.DOTALL)
_MAX_GAP_FOR_SPEED = 30.0  # s; longer gaps are pauses and say nothing about pace

# Pace bands for inference, m/s of median moving speed (see docs/categories.md).
_WALK_BELOW = 1.9  # slower than ~8:45 min/km
_RUN_UP_TO = 5.6  # up to ~3:00 min/km
_RUN_P95_BELOW = 7.5  # a run's fast stretches stay under 27 km/h; a ride's do not
_HIKE_CLIMB_M_PER_KM = 60.0


def decode_gpx(path: Path, data: bytes, options: DecodeOptions) -> list[Activity]:
    """Decode one GPX file into a single activity, or raise :class:`ImportFailed`."""
    if not data.strip():
        raise ImportFailed(path, "empty file (0 bytes)" if not data else "empty file")
    text = _text(path, data)
    if "<gpx" not in text[:4096]:
        raise ImportFailed(path, "not a GPX file (no <gpx> element)")
    gpx = _parse(path, _declare_prefixes(text))

    tracks = gpx.tracks
    points: list[gpxpy.gpx.GPXTrackPoint] = [
        p for track in tracks for segment in track.segments for p in segment.points if p.time
    ]
    if not points:
        raise ImportFailed(path, "no timed track points (only a route, waypoints or metadata)")
    if len(points) < 2:
        raise ImportFailed(path, "only one timed track point")
    times = [_utc(p.time) for p in points]
    order = sorted(range(len(points)), key=times.__getitem__)
    points = [points[i] for i in order]
    times = [times[i] for i in order]
    start = times[0]
    check_start(path, start)

    t = np.array([(ts - start).total_seconds() for ts in times], dtype=np.float64)
    distance = _cumulative_distance(points)
    speed = _speed(t, distance)
    hr: list[Any] = []
    cadence: list[Any] = []
    for point in points:
        point_hr, point_cad = _extension_values(point.extensions)
        hr.append(point_hr)
        cadence.append(point_cad)
    samples = build_samples(t, hr=hr, speed=speed, distance=distance, cadence=cadence)

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
            source_id=f"{start:%Y%m%dT%H%M%S.%fZ}/{len(points)}",
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


def _text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        match = re.match(rb"<\?xml[^>]*encoding=[\"']([\w.-]+)[\"']", data.lstrip())
        encoding = match.group(1).decode("ascii") if match else "latin-1"
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise ImportFailed(path, f"not a GPX file (undecodable text: {exc})") from exc


def _declare_prefixes(text: str) -> str:
    """Declare namespace prefixes a file uses but never declares, so XML parsing succeeds."""
    used = set(_PREFIX_USE.findall(text)) - {"xml"}
    missing = used - set(_PREFIX_DECL.findall(text))
    if not missing:
        return text
    declarations = "".join(
        f' xmlns:{prefix}="{_KNOWN_PREFIXES.get(prefix, "urn:heavylegs:undeclared:" + prefix)}"'
        for prefix in sorted(missing)
    )
    return re.sub(r"<gpx\b", "<gpx" + declarations, text, count=1)


def _parse(path: Path, text: str) -> gpxpy.gpx.GPX:
    try:
        return gpxpy.parse(text)
    except gpxpy.gpx.GPXXMLSyntaxException as exc:
        raise ImportFailed(path, f"not valid XML: {_first_line(exc)}") from exc
    except gpxpy.gpx.GPXException as exc:
        # Some devices write a <trkpt> without coordinates; drop those and read the rest.
        repaired = _EMPTY_TRKPT.sub("", text)
        if repaired != text:
            try:
                return gpxpy.parse(repaired)
            except gpxpy.gpx.GPXException:
                pass
        raise ImportFailed(path, f"invalid GPX: {_first_line(exc)}") from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise ImportFailed(path, f"invalid GPX: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _utc(value: datetime | None) -> datetime:
    assert value is not None
    # GPX times are UTC by the standard; a time without a zone is taken as UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _extension_values(extensions: list[Any]) -> tuple[float | None, float | None]:
    hr: float | None = None
    cadence: float | None = None
    stack = list(extensions)
    while stack:
        element = stack.pop()
        tag = element.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions
        local = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()
        if local in _HR_NAMES and hr is None:
            hr = _number(element.text)
        elif local in _CAD_NAMES and cadence is None:
            cadence = _number(element.text)
        stack.extend(list(element))
    return hr, cadence


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.strip())
    except ValueError:
        return None


def _cumulative_distance(points: list[gpxpy.gpx.GPXTrackPoint]) -> FloatArray | None:
    """Cumulative great-circle distance in metres (haversine), vectorised."""
    lat = np.array([np.nan if p.latitude is None else p.latitude for p in points], dtype=float)
    lon = np.array([np.nan if p.longitude is None else p.longitude for p in points], dtype=float)
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
    tracks: list[gpxpy.gpx.GPXTrack],
    t: FloatArray,
    distance: FloatArray | None,
    points: list[gpxpy.gpx.GPXTrackPoint],
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
    t: FloatArray, distance: FloatArray | None, points: list[gpxpy.gpx.GPXTrackPoint]
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


def _climb_per_km(points: list[gpxpy.gpx.GPXTrackPoint], total_m: float) -> float:
    elevations = np.array(
        [np.nan if p.elevation is None else p.elevation for p in points], dtype=float
    )
    elevations = elevations[np.isfinite(elevations)]
    if elevations.size < 2 or total_m <= 0:
        return 0.0
    gain = np.diff(elevations)
    return float(gain[gain > 0].sum()) / (total_m / 1000.0)
