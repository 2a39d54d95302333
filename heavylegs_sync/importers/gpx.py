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
    MAX_CADENCE,
    DecodeOptions,
    build_samples,
    check_start,
    clean,
    summary_hr,
    utc_offset_for,
)
from heavylegs_sync.importers.track import (
    MAX_WHEEL_SPEED,
    Track,
    clean_track,
    climb_per_km,
    infer_sport,
    max_speed_for,
    moving_time,
)
from heavylegs_sync.model import Activity, Category, FloatArray, OffsetSource
from heavylegs_sync.zones import hr_coverage

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
    hr: list[Any] = []
    cadence: list[Any] = []
    for point in points:
        point_hr, point_cad = _extension_values(point.extensions)
        hr.append(point_hr)
        cadence.append(point_cad)
    cadence_values = clean(cadence, 0.0, MAX_CADENCE)
    sport, category, inferred, track = _sport_and_track(tracks, t, points, cadence_values, options)
    distance = None if track is None else track.distance
    speed = None if track is None else track.speed
    samples = build_samples(t, hr=hr, speed=speed, distance=distance, cadence=cadence)
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


def _sport_and_track(
    tracks: list[gpxpy.gpx.GPXTrack],
    t: FloatArray,
    points: list[gpxpy.gpx.GPXTrackPoint],
    cadence: FloatArray | None,
    options: DecodeOptions,
) -> tuple[str | None, Category, bool, Track | None]:
    """The sport (declared, configured or inferred) and the glitch-free track for it.

    An undeclared sport is inferred from the track cleaned with the wheel limit; a foot
    sport then gets the track cleaned again with the stricter foot limit.
    """
    lat = np.array([np.nan if p.latitude is None else p.latitude for p in points], dtype=float)
    lon = np.array([np.nan if p.longitude is None else p.longitude for p in points], dtype=float)
    declared = next((k for tr in tracks if (k := gpx_category(tr.type)) is not None), None)
    if declared is None and options.gpx_sport:
        declared = gpx_category(options.gpx_sport)
    if declared is not None:
        sport, category = declared
        return sport, category, False, clean_track(t, lat, lon, max_speed_for(category))
    track = clean_track(t, lat, lon, MAX_WHEEL_SPEED)
    if track is None:
        return None, Category.OTHER, True, None
    elevation = np.array(
        [np.nan if p.elevation is None else p.elevation for p in points], dtype=float
    )
    kept_distance = track.distance[np.isfinite(track.distance)]
    total = float(kept_distance[-1]) if kept_distance.size else 0.0
    guess, guessed = infer_sport(track.speed, cadence, climb_per_km(elevation[track.kept], total))
    limit = max_speed_for(guessed)
    if limit < MAX_WHEEL_SPEED:
        track = clean_track(t, lat, lon, limit)
    return guess, guessed, True, track
