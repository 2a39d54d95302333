"""Reading a GPX file into plain per-point columns, streaming, with bounds on what it may cost.

The file is fed to expat piece by piece and only what the importer uses is kept: per timed
track point its time, latitude, longitude, elevation, heart rate and cadence, plus each
track's name and type and the file's creator. No element tree is built, so neither a
200,000-deep nesting (deeper than :data:`MAX_DEPTH` is refused) nor megabytes of
waypoints cost memory (more than :data:`MAX_ELEMENTS` elements are refused, so they cost
little time either); entity declarations (the "billion laughs") are refused outright.
Optional elements are never validated: a ``<fix>`` outside the schema is simply not read.

Heart rate and cadence sit in extensions whose namespace prefix varies by exporter
(``gpxtpx:``, ``ns3:``, Movescount's ``gpxdata:``, Amazfit's bare ``<heartrate>``), so
they are found by local element name at any depth inside a point's ``<extensions>``, and
prefixes a file never declares do no harm (namespaces are not resolved).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.parsers import expat

import gpxpy.gpx
import gpxpy.gpxfield
import numpy as np

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.model import FloatArray

#: No real GPX nests deeper than a dozen levels; anything beyond this is refused.
MAX_DEPTH = 100
#: A day at one point a second with Garmin's extensions is some 700,000 elements; 48 h,
#: the longest plausible activity, twice that. More is a bomb, and parsing it costs time.
MAX_ELEMENTS = 3_000_000
#: Longest text kept from one element (a time, a number, a name).
_MAX_TEXT = 1000
_MAX_OFFSET = timedelta(hours=14)
_HR_NAMES = {"hr", "heartrate", "heart_rate"}
_CAD_NAMES = {"cad", "cadence", "runcadence"}
_EXTENSION_NAMES = _HR_NAMES | _CAD_NAMES
_FEED = 1 << 16
_ZONE = re.compile("[+\\-\u2212]\\d{2}:?(\\d{2})\\s*$")  # U+2212: the minus sign


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
    tracks: list[GpxTrack] = field(default_factory=list)
    name: str | None = None  # the file's (metadata) name
    creator: str | None = None


Source = bytes | Callable[[], Iterable[bytes]]


def read_gpx(path: Path, source: Source) -> GpxPoints:
    """Parse GPX bytes (or a function giving chunks, e.g. while inflating) into points.

    Raises :class:`ImportFailed` with a one-line reason for anything unusable. A file
    that is not UTF-8 and declares no encoding is read again as Latin-1, as browsers do.
    """
    try:
        return _Reader(path, None).run(source)
    except _Encoding:
        return _Reader(path, "ISO-8859-1").run(source)


class _Encoding(Exception):
    """Undeclared non-UTF-8 text: worth one more try as Latin-1."""


class _Point:
    __slots__ = ("cad", "ele", "hr", "lat", "lon", "time")

    def __init__(self, lat: float, lon: float) -> None:
        self.lat = lat
        self.lon = lon
        self.time: datetime | None = None
        self.ele = math.nan
        self.hr = math.nan
        self.cad = math.nan


class _Reader:
    def __init__(self, path: Path, encoding: str | None) -> None:
        self.path = path
        self.encoding = encoding
        self.stack: list[str] = []
        self.text: list[str] | None = None
        self.text_size = 0
        self.point: _Point | None = None
        self.in_extensions = 0  # depth at which the point's <extensions> opened
        self.points: list[_Point] = []
        self.tracks: list[GpxTrack] = []
        self.name: str | None = None
        self.creator: str | None = None
        self.root_seen = False
        self.declared_encoding = False
        self.elements = 0

    def run(self, source: Source) -> GpxPoints:
        parser = expat.ParserCreate(self.encoding)
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        parser.EntityDeclHandler = self.entity
        parser.XmlDeclHandler = self.xml_declaration
        chunks: Iterable[bytes] = _pieces(source) if isinstance(source, bytes) else source()
        empty = True
        try:
            for chunk in chunks:
                if empty and chunk.strip():
                    empty = False
                parser.Parse(chunk, False)
            if empty:
                raise ImportFailed(self.path, "empty file")
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            if (
                self.encoding is None
                and not self.declared_encoding
                and exc.code in _ENCODING_ERRORS
            ):
                raise _Encoding from exc
            message = expat.ErrorString(exc.code)
            where = f"line {exc.lineno}, column {exc.offset}"
            if not self.root_seen:
                raise ImportFailed(self.path, f"not a GPX file (not XML: {message})") from exc
            raise ImportFailed(self.path, f"not valid XML: {message} at {where}") from exc
        except RecursionError as exc:  # expat itself does not recurse; belt and braces
            raise ImportFailed(self.path, "XML nested too deeply") from exc
        except (LookupError, ValueError) as exc:  # the declared encoding: unknown, UTF-0 ...
            raise ImportFailed(self.path, f"unsupported text encoding ({exc})") from exc
        if not self.root_seen:
            raise ImportFailed(self.path, "not a GPX file (no <gpx> element)")
        return self.result()

    # -- expat callbacks -------------------------------------------------------------

    def xml_declaration(self, _version: str | None, encoding: str | None, _alone: int) -> None:
        self.declared_encoding = encoding is not None

    def entity(self, name: str, *_args: object) -> None:
        raise ImportFailed(self.path, f"XML entity declarations are not accepted (entity {name!r})")

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise ImportFailed(
                self.path, f"more than {MAX_ELEMENTS:,} XML elements (no activity has that many)"
            )
        local = _local(tag)
        depth = len(self.stack)
        if depth >= MAX_DEPTH:
            raise ImportFailed(self.path, f"XML nested more than {MAX_DEPTH} levels deep")
        if depth == 0:
            if local != "gpx":
                raise ImportFailed(self.path, f"not a GPX file (its root element is <{tag}>)")
            self.root_seen = True
            self.creator = _clip(attrs.get("creator"))
        parent = self.stack[-1] if self.stack else ""
        self.stack.append(local)
        if self.point is not None:
            if local == "extensions" and not self.in_extensions:
                self.in_extensions = depth
            own = local in ("time", "ele") and parent == "trkpt"
            if own or (self.in_extensions and local.lower() in _EXTENSION_NAMES):
                self._capture()
        elif local == "trkpt" and parent == "trkseg":
            lat, lon = attrs.get("lat"), attrs.get("lon")
            self.point = _Point(_coordinate(lat, 90), _coordinate(lon, 180))
        elif local == "trk" and parent == "gpx":
            self.tracks.append(GpxTrack())
        elif (local in ("name", "type") and parent == "trk") or (
            local == "name" and parent in ("gpx", "metadata") and self.name is None
        ):
            self._capture()

    def end(self, tag: str) -> None:
        local = self.stack.pop()
        text = self._take()
        depth = len(self.stack)
        parent = self.stack[-1] if self.stack else ""
        point = self.point
        if point is not None:
            if local == "trkpt" and parent == "trkseg":
                if point.time is not None and math.isfinite(point.lat + point.lon):
                    self.points.append(point)
                self.point = None
            elif local == "time" and parent == "trkpt" and text:
                point.time = self._time(text)
            elif local == "ele" and parent == "trkpt":
                point.ele = _number(text)
            elif self.in_extensions:
                lowered = local.lower()  # exporters differ in case: heartRate, HeartRate
                if lowered in _HR_NAMES and math.isnan(point.hr):
                    point.hr = _number(text)
                elif lowered in _CAD_NAMES and math.isnan(point.cad):
                    point.cad = _number(text)
                elif local == "extensions" and depth == self.in_extensions:
                    self.in_extensions = 0
        elif parent == "trk" and self.tracks and text:
            if local == "name" and self.tracks[-1].name is None:
                self.tracks[-1].name = text
            elif local == "type" and self.tracks[-1].type is None:
                self.tracks[-1].type = text
        elif local == "name" and parent in ("gpx", "metadata") and self.name is None and text:
            self.name = text

    def characters(self, data: str) -> None:
        if self.text is not None and self.text_size < _MAX_TEXT:
            self.text.append(data)
            self.text_size += len(data)

    # -- helpers ------------------------------------------------------------------------

    def _capture(self) -> None:
        self.text = []
        self.text_size = 0

    def _take(self) -> str | None:
        if self.text is None:
            return None
        text = "".join(self.text).strip()[:_MAX_TEXT]
        self.text = None
        return text or None

    def _time(self, text: str) -> datetime:
        """A point's time in UTC; a time without a zone is UTC, as the standard says."""
        try:
            value = gpxpy.gpxfield.parse_time(text)
            if value is None:
                raise ValueError(text)
            offset = value.utcoffset()
            zone = _ZONE.search(text)
            if (offset is not None and abs(offset) > _MAX_OFFSET) or (
                zone is not None and int(zone.group(1)) >= 60
            ):
                raise ValueError(text)  # +25:00, -99:99: no place on earth
            if value.tzinfo is None:
                return value.replace(tzinfo=UTC)
            return value.astimezone(UTC)
        except (ValueError, OverflowError, gpxpy.gpx.GPXException) as exc:
            raise ImportFailed(self.path, f"invalid time {_clip(text)!r} in a track point") from exc

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
            tracks=self.tracks,
            name=self.name,
            creator=self.creator,
        )


_ENCODING_ERRORS = {
    expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN],
    expat.errors.codes[expat.errors.XML_ERROR_BAD_CHAR_REF],
    expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR],
}


def _pieces(data: bytes) -> Iterable[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), _FEED):
        yield bytes(view[start : start + _FEED])


def _local(tag: str) -> str:
    """``ns3:hr`` -> ``hr``: the name without its prefix (GPX names are case-sensitive)."""
    return tag.rsplit(":", 1)[-1]


def _number(text: str | None) -> float:
    if text is None:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _coordinate(text: str | None, limit: float) -> float:
    value = _number(text)
    return value if -limit <= value <= limit else math.nan


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= 80 else text[:77] + "..."
