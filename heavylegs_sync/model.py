"""Plain data types passed between importers, the store and the analysis.

Nothing here touches a file, a database or the clock, so every layer can build and
compare these values in tests without the others.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from heavylegs_sync.kinds import Category as Category  # named here with the rest

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]


def __getattr__(name: str) -> object:
    """``FloatArray`` on demand: numpy is imported by what handles samples, so a
    command that only reads stored figures (``report``, ``today``) starts without it."""
    if name == "FloatArray":
        import numpy as np
        import numpy.typing as npt

        return npt.NDArray[np.float64]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Sample channels besides time, in the order the store packs them.
CHANNELS: tuple[str, ...] = ("hr", "speed", "distance", "cadence")


class OffsetSource(StrEnum):
    """Where an activity's UTC offset came from, so a wrong date can be traced."""

    DEVICE = "device"  # the file said so (FIT local_timestamp, Strava's local start)
    TIMEZONE = "timezone"  # derived from the configured time zone


@dataclass(frozen=True)
class Samples:
    """Time series of one activity, columnar.

    ``t`` is seconds since the activity's start (not necessarily evenly spaced: smart
    recording writes every 1-7 s). Every channel has the same length as ``t``; a missing
    value is NaN and a channel the device never recorded is ``None``.
    """

    t: FloatArray
    hr: FloatArray | None = None
    speed: FloatArray | None = None
    distance: FloatArray | None = None
    cadence: FloatArray | None = None

    def __post_init__(self) -> None:
        for name in CHANNELS:
            values = getattr(self, name)
            if values is not None and len(values) != len(self.t):
                raise ValueError(f"channel {name} has {len(values)} values for {len(self.t)} times")

    def __len__(self) -> int:
        return len(self.t)

    def channel(self, name: str) -> FloatArray | None:
        """Return a channel by name (one of :data:`CHANNELS`)."""
        values: FloatArray | None = getattr(self, name)
        return values

    def equals(self, other: Samples) -> bool:
        """Compare value by value, treating NaN as equal to NaN."""
        import numpy as np

        if not np.array_equal(self.t, other.t):
            return False
        for name in CHANNELS:
            a, b = self.channel(name), other.channel(name)
            if (a is None) != (b is None):
                return False
            if a is not None and b is not None and not np.array_equal(a, b, equal_nan=True):
                return False
        return True


@dataclass(frozen=True)
class StrengthSet:
    """One set of a strength workout as the device recorded it (FIT ``set`` message)."""

    index: int
    category: str | None  # exercise category, e.g. "squat", "bench_press"
    reps: int | None = None
    weight_kg: float | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class HrSettings:
    """Heart-rate values the watch itself had set when it recorded an activity.

    FIT ``zones_target`` (max and threshold HR, how zones are computed) and
    ``user_profile`` (resting HR, age). ``zone_method`` is one of our zone methods
    ("hrmax", "hrr", "lthr") or None when the watch used custom zones or said nothing.
    """

    max_hr: float | None = None
    lthr: float | None = None
    resting_hr: float | None = None
    zone_method: str | None = None
    age: float | None = None

    def __bool__(self) -> bool:
        return any(
            v is not None
            for v in (self.max_hr, self.lthr, self.resting_hr, self.zone_method, self.age)
        )


@functools.lru_cache(maxsize=256)
def _fixed_zone(offset_s: int) -> timezone:
    """The fixed-offset zone of ``offset_s`` seconds (a handful in any history)."""
    return timezone(timedelta(seconds=offset_s))


@dataclass
class Activity:
    """One activity as an importer produced it, or as the store gives it back.

    ``start_utc`` is timezone-aware UTC. ``utc_offset_s`` is the activity's own offset
    from UTC at its start, so its local calendar day is fixed once, at import, and never
    depends on where or when a report runs.
    """

    source: str  # "fit", "gpx", "strava"
    source_id: str  # stable identity within the source
    category: Category
    start_utc: datetime
    utc_offset_s: int
    offset_source: OffsetSource
    #: The sport in the one vocabulary (categories.sport_name), filed by the importer.
    sport: str | None = None
    sub_sport: str | None = None
    sport_inferred: bool = False
    timer_s: float | None = None
    elapsed_s: float | None = None
    distance_m: float | None = None
    avg_hr: float | None = None
    max_hr: float | None = None
    name: str | None = None
    device: str | None = None
    samples: Samples | None = None
    sets: list[StrengthSet] = field(default_factory=list)
    id: int | None = None  # the store's id once stored
    file_sha256: str | None = None
    sources: list[str] = field(default_factory=list)  # every source the store holds for it
    #: Where each stored copy came from: file paths and ``strava:<id>``.
    source_refs: list[str] = field(default_factory=list)
    hr_settings: HrSettings | None = None  # the watch's own HR settings, when recorded
    hr_coverage: float | None = None  # recorded time with heart rate, 0-1
    points_dropped: int = 0  # GPS points left out of distance and speed as glitches
    #: The sport as the source spelled it (None when it named none), filed by the importer.
    sport_raw: str | None = None
    source_path: str | None = None  # from the store: the file it came from (absolute)
    #: What is not whole about this record: "truncated" (the file broke off; the part
    #: before the break is kept), or values dropped as implausible. Empty when whole.
    notes: tuple[str, ...] = ()
    #: From a Strava export's list (any copy of the activity): how hard it felt (1-10),
    #: Strava's relative effort, and the total weight lifted in a strength session.
    perceived_exertion: float | None = None
    relative_effort: float | None = None
    weight_lifted_kg: float | None = None
    decoder: str | None = None  # what read the file, e.g. "fitfast" or "fitparse"
    decoder_note: str | None = None  # why the fast decoder did not (a fallback's reason)

    def __post_init__(self) -> None:
        if self.start_utc.tzinfo is None:
            raise ValueError("start_utc must be timezone-aware")

    @classmethod
    def from_store(cls, values: dict[str, Any]) -> Activity:
        """An activity as the store read it back, ``values`` naming every field (the
        activity keeps this dict as its own: the caller makes a new one for each).

        Without the generated ``__init__``: a squad's weeks are some thirty thousand
        records, and matching thirty-three keyword arguments each was a tenth of reading
        them; the store wrote the values checked (an aware UTC start among them)."""
        activity = cls.__new__(cls)
        activity.__dict__ = values  # the caller's new dict, not copied into another
        return activity

    @property
    def start_local(self) -> datetime:
        """Start in the activity's own local time (aware, fixed offset).

        Kept once computed, for the start and offset it was computed from (the coach's
        view asks a squad's forty thousand activities several times each)."""
        kept = self.__dict__.get("_start_local")
        if kept is not None and kept[0] is self.start_utc and kept[1] == self.utc_offset_s:
            return kept[2]  # type: ignore[no-any-return]
        local = self.start_utc.astimezone(_fixed_zone(self.utc_offset_s))
        self.__dict__["_start_local"] = (self.start_utc, self.utc_offset_s, local)
        return local

    @property
    def duration_s(self) -> float | None:
        """Moving (timer) time when known, else elapsed time."""
        return self.timer_s if self.timer_s is not None else self.elapsed_s


class WellnessSource(StrEnum):
    """Where a wellness value came from; the order of :data:`WELLNESS_RANK` decides which
    of several sources for the same day gives the value (the watch's own file first)."""

    FIT = "fit"  # the watch's FIT files (monitoring, sleep, HRV status)
    GARMIN = "garmin"  # a Garmin Connect data export's JSON
    CSV = "csv"  # a plain CSV from any other tracker


#: Sources for the same day, richest first (see ``heavylegs_sync.wellness.merge_days``).
WELLNESS_RANK: tuple[WellnessSource, ...] = (
    WellnessSource.FIT,
    WellnessSource.GARMIN,
    WellnessSource.CSV,
)


@dataclass(frozen=True)
class WellnessRecord:
    """What one source says of one day: the night that ended on it, the day's resting heart
    rate, the night's HRV. Any value may be missing.

    ``day`` is the athlete's local calendar date; a night belongs to its wake date.
    ``sleep_s`` is time asleep (awake time excluded); the stages, when the source has
    them, add up to it. ``hrv_ms`` is the night's HRV as an RMSSD in milliseconds (Garmin's
    ``lastNightAvg``). ``sleep_start``/``sleep_end`` are aware UTC datetimes. ``origin``
    names the file (and member) the values came from, for messages and ``forget``.
    """

    day: date
    source: WellnessSource
    origin: str
    sleep_s: float | None = None
    deep_s: float | None = None
    light_s: float | None = None
    rem_s: float | None = None
    awake_s: float | None = None
    sleep_start: datetime | None = None
    sleep_end: datetime | None = None
    resting_hr: float | None = None
    hrv_ms: float | None = None

    def has_stages(self) -> bool:
        """Whether the night comes with its sleep stages (a richer record than hours)."""
        return any(v is not None for v in (self.deep_s, self.light_s, self.rem_s))
