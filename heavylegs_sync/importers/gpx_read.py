"""Reading a GPX file into plain per-point columns, streaming, with bounds on what it may cost.

:mod:`~heavylegs_sync.importers.xml_read` feeds the file to expat within its bounds (depth,
element count, text size, no entities); this reader keeps only what the importer uses:
per timed track point its time, latitude, longitude, elevation, heart rate and cadence,
plus each track's name and type and the file's creator. Optional elements are never
validated: a ``<fix>`` outside the schema is simply not read.

Heart rate and cadence sit in extensions whose namespace prefix varies by exporter
(``gpxtpx:``, ``ns3:``, Movescount's ``gpxdata:``, Amazfit's bare ``<heartrate>``), so
they are found by local element name at any depth inside a point's ``<extensions>``, and
prefixes a file never declares do no harm (namespaces are not resolved).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from heavylegs_sync.importers.xml_read import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    BoundedReader,
    Source,
    clip,
    coordinate,
    number,
    read_bounded,
)
from heavylegs_sync.model import FloatArray

__all__ = [
    "CAD_NAMES",
    "HR_NAMES",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "GpxPoints",
    "GpxTrack",
    "read_gpx",
]

HR_NAMES = {"hr", "heartrate", "heart_rate"}
CAD_NAMES = {"cad", "cadence", "runcadence"}
_EXTENSION_NAMES = HR_NAMES | CAD_NAMES


@dataclass
class GpxTrack:
    """A ``<trk>``'s own name and type (``<type>`` is free text: "running", "9", ...)."""

    name: str | None = None
    type: str | None = None


@dataclass
class GpxPoints:
    """Every timed track point of a file, in file order, as plain columns (NaN = missing)."""

    times: list[datetime]  # timezone-aware UTC
    lat: FloatArray
    lon: FloatArray
    elevation: FloatArray
    hr: FloatArray
    cadence: FloatArray
    track: FloatArray  # index into ``tracks`` of each point's track (-1: none)
    tracks: list[GpxTrack] = field(default_factory=list)
    name: str | None = None  # the file's (metadata) name
    creator: str | None = None


def read_gpx(path: Path, source: Source) -> GpxPoints:
    """Parse GPX bytes (or a function giving chunks, e.g. while inflating) into points.

    Raises :class:`ImportFailed` with a one-line reason for anything unusable. A file
    that is not UTF-8 and declares no encoding is read again as Latin-1, as browsers do.
    """
    return read_bounded(_Reader, path, source).result()


class _Point:
    __slots__ = ("cad", "ele", "hr", "lat", "lon", "time", "trk")

    def __init__(self, lat: float, lon: float, trk: int) -> None:
        self.lat = lat
        self.lon = lon
        self.trk = float(trk)
        self.time: datetime | None = None
        self.ele = math.nan
        self.hr = math.nan
        self.cad = math.nan


class _Reader(BoundedReader):
    FORMAT = "GPX"
    ROOT = "gpx"

    def __init__(self, path: Path, encoding: str | None) -> None:
        super().__init__(path, encoding)
        self.point: _Point | None = None
        self.in_extensions = 0  # depth at which the point's <extensions> opened
        self.points: list[_Point] = []
        self.tracks: list[GpxTrack] = []
        self.name: str | None = None
        self.creator: str | None = None

    def opened(self, local: str, parent: str, depth: int, attrs: dict[str, str]) -> None:
        if depth == 0:
            self.creator = clip(attrs.get("creator"))
        if self.point is not None:
            if local == "extensions" and not self.in_extensions:
                self.in_extensions = depth
            own = local in ("time", "ele") and parent == "trkpt"
            if own or (self.in_extensions and local.lower() in _EXTENSION_NAMES):
                self.capture()
        elif local == "trkpt" and parent == "trkseg":
            lat, lon = attrs.get("lat"), attrs.get("lon")
            self.point = _Point(coordinate(lat, 90), coordinate(lon, 180), len(self.tracks) - 1)
        elif local == "trk" and parent == "gpx":
            self.tracks.append(GpxTrack())
        elif (local in ("name", "type") and parent == "trk") or (
            local == "name" and parent in ("gpx", "metadata") and self.name is None
        ):
            self.capture()

    def closed(self, local: str, parent: str, depth: int, text: str | None) -> None:
        point = self.point
        if point is not None:
            if local == "trkpt" and parent == "trkseg":
                if point.time is not None and math.isfinite(point.lat + point.lon):
                    self.points.append(point)
                self.point = None
            elif local == "time" and parent == "trkpt" and text:
                point.time = self.utc_time(text)
            elif local == "ele" and parent == "trkpt":
                point.ele = number(text)
            elif self.in_extensions:
                lowered = local.lower()  # exporters differ in case: heartRate, HeartRate
                if lowered in HR_NAMES and math.isnan(point.hr):
                    point.hr = number(text)
                elif lowered in CAD_NAMES and math.isnan(point.cad):
                    point.cad = number(text)
                elif local == "extensions" and depth == self.in_extensions:
                    self.in_extensions = 0
        elif parent == "trk" and self.tracks and text:
            if local == "name" and self.tracks[-1].name is None:
                self.tracks[-1].name = text
            elif local == "type" and self.tracks[-1].type is None:
                self.tracks[-1].type = text
        elif local == "name" and parent in ("gpx", "metadata") and self.name is None and text:
            self.name = text

    def result(self) -> GpxPoints:
        points = self.points

        def column(name: str) -> FloatArray:
            values = (getattr(p, name) for p in points)
            return np.fromiter(values, dtype=np.float64, count=len(points))

        return GpxPoints(
            times=[p.time for p in points if p.time is not None],
            lat=column("lat"),
            lon=column("lon"),
            elevation=column("ele"),
            hr=column("hr"),
            cadence=column("cad"),
            track=column("trk"),
            tracks=self.tracks,
            name=self.name,
            creator=self.creator,
        )
