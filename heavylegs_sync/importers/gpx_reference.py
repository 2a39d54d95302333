"""GPX read with gpxpy, the reference, as fitparse is for FIT (``--decoder reference``).

The importer's own reader (:mod:`~heavylegs_sync.importers.gpx_read`) streams the file
through expat within bounds and is several times faster; ``tests/test_corpus.py`` holds it
to this one point by point on every corpus GPX. Both give the same
:class:`~heavylegs_sync.importers.gpx_read.GpxPoints`, so everything after reading is
shared. What the reference does not do, on purpose: it holds the whole file (within the
size cap) and applies none of the streaming reader's bounds on depth, element count or
text size, so it is for checking a file, not for untrusted bulk input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gpxpy
import gpxpy.gpx
import numpy as np

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers.gpx_read import CAD_NAMES, HR_NAMES, GpxPoints, GpxTrack
from heavylegs_sync.importers.xml_read import clip, coordinate, number

#: What ``Activity.decoder`` says for a GPX file read by gpxpy.
GPX_REFERENCE_DECODER = "gpxpy"
_GPX_1_1 = re.compile(r"""<gpx\b[^>]*\sxmlns\s*=\s*["']http://www\.topografix\.com/GPX/1/1["']""")
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def read_gpx_reference(path: Path, source: bytes | Callable[[], Iterable[bytes]]) -> GpxPoints:
    """Parse a GPX file with gpxpy into the points the importer reads.

    Only gpxpy's own failures make the file "not valid GPX"; an error in turning its
    objects into points is ours and is not caught.
    """
    data = source if isinstance(source, bytes) else b"".join(source())
    text = _text(path, data)
    try:
        gpx = gpxpy.parse(text, version=_version(text))
    except gpxpy.gpx.GPXException as exc:
        raise ImportFailed(path, f"not valid GPX (gpxpy): {clip(str(exc))}") from exc
    except (ValueError, TypeError, AttributeError, IndexError, OverflowError) as exc:
        reason = f"{type(exc).__name__}: {clip(str(exc))}"
        raise ImportFailed(path, f"not valid GPX (gpxpy failed: {reason})") from exc
    tracks: list[GpxTrack] = []
    times: list[datetime] = []
    columns: list[list[float]] = [[], [], [], [], [], []]  # lat, lon, ele, hr, cad, track
    for index, track in enumerate(gpx.tracks):
        tracks.append(GpxTrack(name=track.name or None, type=track.type or None))
        for segment in track.segments:
            for point in segment.points:
                lat = coordinate(_text_of(point.latitude), 90)
                lon = coordinate(_text_of(point.longitude), 180)
                if point.time is None or not math.isfinite(lat + lon):
                    continue
                times.append(_utc(point.time))
                beat, turn = _extensions(point.extensions)
                values = (lat, lon, number(_text_of(point.elevation)), beat, turn, index)
                for column, value in zip(columns, values, strict=True):
                    column.append(value)
    arrays = [np.array(c, dtype=np.float64) for c in columns]
    return GpxPoints(
        times=times,
        lat=arrays[0],
        lon=arrays[1],
        elevation=arrays[2],
        hr=arrays[3],
        cadence=arrays[4],
        track=arrays[5],
        tracks=tracks,
        name=gpx.name or None,
        creator=clip(gpx.creator),
    )


def _text(path: Path, data: bytes) -> str:
    """The file's text: UTF-8 (gpxpy's own choice), else its declared encoding, else
    Latin-1 as browsers do (the streaming reader's rule)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED.match(data)
    codec = declared.group(1).decode("ascii") if declared else "latin-1"
    try:
        return data.decode(codec)
    except (LookupError, UnicodeDecodeError) as exc:
        raise ImportFailed(path, f"not valid GPX: not {codec} text ({exc})") from exc


def _version(text: str) -> str | None:
    """GPX 1.1 for a file in the 1.1 namespace, whatever its ``version`` attribute says
    (sportractive writes 1.1 content labelled 1.0; gpxpy would then skip every point's
    extensions, heart rate included); else the version the file declares."""
    return "1.1" if _GPX_1_1.search(text[:4096]) else None


def _text_of(value: Any) -> str | None:
    return None if value is None else str(value)


def _utc(value: datetime) -> datetime:
    """A time in UTC; a time without a zone is UTC, as GPX says."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _extensions(elements: Iterable[Any]) -> tuple[float, float]:
    """The first heart rate and cadence at any depth of a point's extensions, by local
    name in any case and any namespace (exporters differ), as the streaming reader finds
    them."""
    hr = cadence = math.nan
    for element in elements:
        for node in element.iter():
            tag = node.tag if isinstance(node.tag, str) else ""
            local = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()
            if local in HR_NAMES and math.isnan(hr):
                hr = number((node.text or "").strip() or None)
            elif local in CAD_NAMES and math.isnan(cadence):
                cadence = number((node.text or "").strip() or None)
    return hr, cadence
