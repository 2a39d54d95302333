"""Reading a TCX file into plain per-activity columns, streaming, with bounds on what it may cost.

Garmin Training Center XML (v2) holds one or more ``<Activity Sport="...">`` under
``<Activities>`` (directly, or inside a ``<MultiSportSession>``), each with laps whose
``<Track>`` holds trackpoints. :mod:`~heavylegs_sync.importers.xml_read` feeds the file
to expat within its bounds (depth, element count, text size, no entities, whitespace
before the declaration skipped); this reader keeps per activity its sport, ``<Id>``,
device name, each lap's totals, and per timed trackpoint its time, position, altitude,
distance, heart rate, cadence and the ActivityExtension (``TPX``) speed and run cadence.

Elements are matched by local name, never by prefix: exporters write the extension as
``ns3:TPX``, ``tpx:TPX`` or an unprefixed ``<TPX xmlns="...">``. ``<Courses>`` (planned
routes) hold no activity and are not read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers.xml_read import (
    BoundedReader,
    Source,
    clip,
    coordinate,
    number,
    read_bounded,
)
from heavylegs_sync.model import FloatArray

__all__ = ["TcxActivity", "TcxLap", "read_tcx"]


@dataclass
class TcxLap:
    """One ``<Lap>``'s own totals (NaN where the file leaves them out)."""

    start: datetime | None = None
    total_time_s: float = math.nan
    distance_m: float = math.nan
    avg_hr: float = math.nan
    max_hr: float = math.nan


@dataclass
class TcxActivity:
    """One ``<Activity>``: its timed trackpoints in file order as columns (NaN = missing)."""

    sport: str | None  # the Sport attribute: Running, Biking, Other
    id_time: datetime | None  # the <Id>, which is the activity's start time
    laps: list[TcxLap]
    times: list[datetime]  # timezone-aware UTC
    lat: FloatArray
    lon: FloatArray
    elevation: FloatArray
    distance: FloatArray
    hr: FloatArray
    cadence: FloatArray  # <Cadence>, else the extension's <RunCadence>
    speed: FloatArray  # the extension's <Speed>
    device: str | None = None
    untimed_points: int = 0  # trackpoints without a <Time>: not samples


@dataclass
class TcxFile:
    """Every activity of a file, in file order, and the application that wrote it."""

    activities: list[TcxActivity] = field(default_factory=list)
    author: str | None = None


def read_tcx(path: Path, source: Source) -> TcxFile:
    """Parse TCX bytes (or a function giving chunks, e.g. while inflating).

    Raises :class:`ImportFailed` with a one-line reason for anything unusable.
    """
    return read_bounded(_Reader, path, source).result


class _Point:
    __slots__ = ("cad", "dist", "ele", "hr", "lat", "lon", "run_cad", "speed", "time")

    def __init__(self) -> None:
        self.time: datetime | None = None
        self.lat = math.nan
        self.lon = math.nan
        self.ele = math.nan
        self.dist = math.nan
        self.hr = math.nan
        self.cad = math.nan
        self.run_cad = math.nan
        self.speed = math.nan


class _Activity:
    def __init__(self, sport: str | None) -> None:
        self.sport = sport
        self.id_time: datetime | None = None
        self.laps: list[TcxLap] = []
        self.points: list[_Point] = []
        self.device: str | None = None
        self.untimed = 0

    def result(self) -> TcxActivity:
        points = self.points

        def column(name: str) -> FloatArray:
            values = (getattr(p, name) for p in points)
            return np.fromiter(values, dtype=np.float64, count=len(points))

        cadence = column("cad")
        run_cadence = column("run_cad")
        cadence = np.where(np.isfinite(cadence), cadence, run_cadence)
        return TcxActivity(
            sport=self.sport,
            id_time=self.id_time,
            laps=self.laps,
            times=[p.time for p in points if p.time is not None],
            lat=column("lat"),
            lon=column("lon"),
            elevation=column("ele"),
            distance=column("dist"),
            hr=column("hr"),
            cadence=cadence,
            speed=column("speed"),
            device=self.device,
            untimed_points=self.untimed,
        )


#: Trackpoint children read, by (parent, local name).
_POINT_FIELDS = {
    ("Trackpoint", "Time"),
    ("Trackpoint", "AltitudeMeters"),
    ("Trackpoint", "DistanceMeters"),
    ("Trackpoint", "Cadence"),
    ("Position", "LatitudeDegrees"),
    ("Position", "LongitudeDegrees"),
    ("HeartRateBpm", "Value"),
}
_LAP_FIELDS = {
    ("Lap", "TotalTimeSeconds"),
    ("Lap", "DistanceMeters"),
    ("AverageHeartRateBpm", "Value"),
    ("MaximumHeartRateBpm", "Value"),
}
#: Read anywhere inside a trackpoint's <Extensions> (Garmin's ActivityExtension v2).
_EXTENSION_FIELDS = {"Speed", "RunCadence"}


class _Reader(BoundedReader):
    FORMAT = "TCX"
    ROOT = "TrainingCenterDatabase"

    def __init__(self, path: Path, encoding: str | None) -> None:
        super().__init__(path, encoding)
        self.result = TcxFile()
        self.activity: _Activity | None = None
        self.activity_depth = 0
        self.lap: TcxLap | None = None
        self.point: _Point | None = None
        self.in_extensions = 0  # depth at which the trackpoint's <Extensions> opened
        self.in_author = False

    def opened(self, local: str, parent: str, depth: int, attrs: dict[str, str]) -> None:
        activity = self.activity
        if activity is None:
            if local == "Activity" and "Activities" in self.stack:
                self.activity = _Activity(clip(attrs.get("Sport", "").strip() or None))
                self.activity_depth = depth
            elif local == "Author" and parent == "TrainingCenterDatabase":
                self.in_author = True
            elif self.in_author and local == "Name" and parent == "Author":
                self.capture()
            return
        if self.point is not None:
            if local == "Extensions" and parent == "Trackpoint":
                self.in_extensions = depth
            if (parent, local) in _POINT_FIELDS or (
                self.in_extensions and local in _EXTENSION_FIELDS
            ):
                self.capture()
        elif local == "Trackpoint" and parent == "Track":  # in a lap, or (rarely) not
            self.point = _Point()
        elif local == "Lap" and parent == "Activity":
            start = attrs.get("StartTime")
            lap = TcxLap(start=self.utc_time(start, "a lap's StartTime") if start else None)
            activity.laps.append(lap)
            self.lap = lap
        elif self.lap is not None and depth - self.activity_depth <= 3:
            if (parent, local) in _LAP_FIELDS and self._grandparent() in ("Activity", "Lap"):
                self.capture()
        elif (local == "Id" and parent == "Activity") or (
            local == "Name" and parent == "Creator" and self._grandparent() == "Activity"
        ):
            self.capture()

    def closed(self, local: str, parent: str, depth: int, text: str | None) -> None:
        activity = self.activity
        if activity is None:
            if self.in_author:
                if local == "Name" and parent == "Author" and text and not self.result.author:
                    self.result.author = clip(text)
                elif local == "Author":
                    self.in_author = False
            return
        point = self.point
        if point is not None:
            if local == "Trackpoint":
                if point.time is None:
                    activity.untimed += 1
                else:
                    activity.points.append(point)
                self.point = None
                self.in_extensions = 0
            elif self.in_extensions and local in _EXTENSION_FIELDS:
                if local == "Speed":
                    point.speed = number(text)
                else:
                    point.run_cad = number(text)
            elif local == "Extensions" and depth == self.in_extensions:
                self.in_extensions = 0
            elif parent == "Trackpoint":
                if local == "Time" and text:
                    point.time = self.utc_time(text)
                elif local == "AltitudeMeters":
                    point.ele = number(text)
                elif local == "DistanceMeters":
                    point.dist = number(text)
                elif local == "Cadence":
                    point.cad = number(text)
            elif parent == "Position":
                if local == "LatitudeDegrees":
                    point.lat = coordinate(text, 90)
                elif local == "LongitudeDegrees":
                    point.lon = coordinate(text, 180)
            elif local == "Value" and parent == "HeartRateBpm":
                point.hr = number(text)
            return
        lap = self.lap
        if lap is not None and local == "Lap" and parent == "Activity":
            self.lap = None
        elif lap is not None and text is not None:
            if parent == "Lap" and local == "TotalTimeSeconds":
                lap.total_time_s = number(text)
            elif parent == "Lap" and local == "DistanceMeters":
                lap.distance_m = number(text)
            elif local == "Value" and parent == "AverageHeartRateBpm":
                lap.avg_hr = number(text)
            elif local == "Value" and parent == "MaximumHeartRateBpm":
                lap.max_hr = number(text)
        elif local == "Id" and parent == "Activity" and text:
            try:
                activity.id_time = self.utc_time(text, "an activity's <Id>")
            except ImportFailed:
                activity.id_time = None  # the schema says a time; the laps still say when
        elif local == "Name" and parent == "Creator" and text and activity.device is None:
            activity.device = clip(text)
        elif local == "Activity" and depth == self.activity_depth:
            self.result.activities.append(activity.result())
            self.activity = None

    def _grandparent(self) -> str:
        return self.stack[-3] if len(self.stack) >= 3 else ""
