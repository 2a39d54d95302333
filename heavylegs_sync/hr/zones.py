"""Heart-rate zone models: where the bounds come from, and time in zone as stored.

Pure: settings and figures in, models out. The computations over a heart-rate trace
(time in zone, coverage, the sustained peak) are in :mod:`~heavylegs_sync.hr.trace`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from itertools import pairwise

from heavylegs_sync.errors import HeavyLegsError
from heavylegs_sync.limits import SETTING_HR_RANGE


class ZoneMethod(StrEnum):
    """How the four zone bounds are derived."""

    HRMAX = "hrmax"  # fractions of max HR
    HRR = "hrr"  # fractions of heart-rate reserve (Karvonen)
    LTHR = "lthr"  # fractions of lactate-threshold HR
    BPM = "bpm"  # explicit bounds


class ZoneError(HeavyLegsError):
    """The settings cannot give zones; the message names the setting to fix."""


class ZoneSettingsError(ZoneError):
    """The settings contradict what the data says (resting HR above the max HR found):
    an error to fix, never read as "no heart-rate data"."""


#: Upper bounds of zones 1-4 as fractions of the method's reference.
DEFAULT_FRACTIONS: dict[ZoneMethod, tuple[float, float, float, float]] = {
    ZoneMethod.HRMAX: (0.65, 0.81, 0.89, 0.97),
    ZoneMethod.HRR: (0.55, 0.70, 0.80, 0.90),
    ZoneMethod.LTHR: (0.81, 0.90, 0.95, 1.00),
}

#: Where the max HR (or the zones) of a model came from, best first.
MAX_HR_SOURCES = ("settings", "watch", "strava", "estimate", "none")

_AUTO = ("", "auto")
_VALID_METHODS = ", ".join(f'"{m.value}"' for m in ZoneMethod)
# f x reference can land a hair under a whole number (0.55 * 140 = 76.99999...);
# without this, floor would lose a beat.
_FLOOR_EPS = 1e-9


@dataclass(frozen=True)
class ZoneModel:
    """Five zones split by four upper bounds in whole bpm."""

    method: ZoneMethod
    bounds_bpm: tuple[int, int, int, int]  # upper bounds of zones 1-4
    max_hr: float | None  # the max HR known to the model (None if unknown)
    max_hr_source: str  # one of MAX_HR_SOURCES
    since: date | None = None  # the day the watch's value took effect (source "watch")

    def __post_init__(self) -> None:
        b = self.bounds_bpm
        if len(b) != 4 or not _increasing(b):
            raise ZoneError(f"zone bounds must be 4 strictly increasing values, got {b}")


def _increasing(values: Sequence[int]) -> bool:
    return all(lo < hi for lo, hi in pairwise(values))


def _check_hr(name: str, value: float) -> float:
    lo, hi = SETTING_HR_RANGE
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ZoneError(f"{name} must be a heart rate between {lo:g} and {hi:g} bpm, got {value}")
    return float(value)


def _fraction_bounds(base: float, span: float, fractions: Sequence[float]) -> tuple[int, ...]:
    return tuple(math.floor(base + f * span + _FLOOR_EPS) for f in fractions)


def _bpm_bounds(bounds: Sequence[float] | None) -> tuple[int, int, int, int]:
    hint = "set [zones] bounds to 4 increasing upper bounds in bpm, e.g. [123, 153, 169, 184]"
    if bounds is None:
        raise ZoneError(f'zone method "bpm" needs bounds: {hint}')
    values = list(bounds)
    if len(values) != 4:
        raise ZoneError(f"[zones] bounds has {len(values)} values, needs 4: {hint}")
    whole: list[int] = []
    for value in values:
        _check_hr("[zones] bounds", float(value))
        if not float(value).is_integer():
            raise ZoneError(f"[zones] bounds must be whole bpm, got {value}")
        whole.append(int(value))
    if not _increasing(whole):
        raise ZoneError(f"[zones] bounds must be strictly increasing, got {values}: {hint}")
    return whole[0], whole[1], whole[2], whole[3]


def parse_method(method: str | None) -> ZoneMethod | None:
    """The chosen method, None for "auto" (or unset); :class:`ZoneError` for a typo."""
    if method is None or method.strip().lower() in _AUTO:
        return None
    try:
        return ZoneMethod(method.strip().lower())
    except ValueError:
        raise ZoneError(
            f'unknown zone method "{method}": use one of {_VALID_METHODS} (or "auto")'
        ) from None


def build_zone_model(
    method: str | None,
    *,
    max_hr: float | None,
    resting_hr: float | None,
    lthr: float | None,
    bounds: Sequence[float] | None,
    estimated_max_hr: float | None,
    source: str = "settings",
    since: date | None = None,
) -> ZoneModel:
    """Build zones from the athlete's settings.

    ``method`` None (or ``"auto"``) picks the best the known values allow: explicit
    ``bounds`` if given, else ``lthr``, else ``hrr`` (max HR and resting HR), else
    ``hrmax``. A configured max HR always wins over ``estimated_max_hr``; the estimate
    stands in whenever max HR is not configured. Every given value is checked, so a typo
    in the settings fails loudly even when another method is chosen. ``source`` names
    where ``max_hr`` (or ``bounds``) came from: "settings", "watch" or "strava".
    """
    chosen = parse_method(method)
    if max_hr is not None:
        max_hr = _check_hr("[athlete] max_hr", max_hr)
    if estimated_max_hr is not None:
        estimated_max_hr = _check_hr("estimated max HR", estimated_max_hr)
    if resting_hr is not None:
        resting_hr = _check_hr("[athlete] resting_hr", resting_hr)
    if lthr is not None:
        lthr = _check_hr("[athlete] lthr", lthr)

    given_source = source
    known_max, source = (
        (max_hr, given_source)
        if max_hr is not None
        else (estimated_max_hr, "estimate")
        if estimated_max_hr is not None
        else (None, "none")
    )
    if max_hr is None and bounds is not None and given_source == "strava":
        source = "strava"

    if chosen is None:
        if bounds is not None:
            chosen = ZoneMethod.BPM
        elif lthr is not None:
            chosen = ZoneMethod.LTHR
        elif known_max is not None and resting_hr is not None:
            chosen = ZoneMethod.HRR
        elif known_max is not None:
            chosen = ZoneMethod.HRMAX
        else:
            raise ZoneError(
                "no heart-rate zones: set [athlete] max_hr (or [athlete] lthr) in the "
                "settings, or import at least 3 activities with heart rate so max HR "
                "can be estimated"
            )

    if chosen is ZoneMethod.BPM:
        return ZoneModel(chosen, _bpm_bounds(bounds), known_max, source, since)
    if chosen is ZoneMethod.LTHR:
        if lthr is None:
            raise ZoneError('zone method "lthr" needs [athlete] lthr (lactate-threshold HR)')
        b = _fraction_bounds(0.0, lthr, DEFAULT_FRACTIONS[chosen])
    else:
        if known_max is None:
            raise ZoneError(
                f'zone method "{chosen.value}" needs a max HR: set [athlete] max_hr, or '
                "import at least 3 activities with heart rate so it can be estimated"
            )
        if chosen is ZoneMethod.HRMAX:
            b = _fraction_bounds(0.0, known_max, DEFAULT_FRACTIONS[chosen])
        else:
            if resting_hr is None:
                raise ZoneError('zone method "hrr" needs [athlete] resting_hr')
            if resting_hr >= known_max:
                raise ZoneSettingsError(
                    f"[athlete] resting_hr ({resting_hr:g}) must be below max HR "
                    f"({known_max:g}, {source})"
                )
            span = known_max - resting_hr
            b = _fraction_bounds(resting_hr, span, DEFAULT_FRACTIONS[chosen])
    if not _increasing(b):
        raise ZoneSettingsError(f'zone method "{chosen.value}" gives overlapping zones {b}')
    return ZoneModel(chosen, (b[0], b[1], b[2], b[3]), known_max, source, since)


Five = tuple[float, float, float, float, float]


@dataclass(frozen=True)
class ZoneTimesKey:
    """What a saved zone-times figure depends on: the zone model and the gap bound. Its
    text is the figure's kind in the store, so a figure computed under one model is never
    read for another."""

    method: str
    bounds_bpm: tuple[int, int, int, int]
    max_gap_s: float
    version: int = 2  # 2: interleaved HR bridged, recorded time kept

    @classmethod
    def of(cls, model: ZoneModel, max_gap_s: float) -> ZoneTimesKey:
        """The key of the zone times ``model`` gives with that gap bound."""
        return cls(model.method.value, model.bounds_bpm, max_gap_s)

    def __str__(self) -> str:
        bounds = ",".join(map(str, self.bounds_bpm))
        return f"zones.v{self.version}:{self.method}:{bounds}:{self.max_gap_s:g}"


@dataclass(frozen=True)
class ZoneTimes:
    """Time and distance spent in zones 1-5 of one activity (or a sum of several)."""

    seconds: Five
    distance_m: Five
    hr_seconds: float  # time with usable HR data, == sum(seconds)
    recorded_seconds: float = 0.0  # time between samples at most the gap bound apart

    def to_list(self) -> list[float]:
        """Flat numbers for storage: seconds 1-5, distances 1-5, HR seconds, recorded."""
        return [*self.seconds, *self.distance_m, self.hr_seconds, self.recorded_seconds]

    @classmethod
    def from_list(cls, values: Sequence[float]) -> ZoneTimes:
        """The inverse of :meth:`to_list`."""
        v = [float(x) for x in values]
        return cls((v[0], v[1], v[2], v[3], v[4]), (v[5], v[6], v[7], v[8], v[9]), v[10], v[11])

    @classmethod
    def empty(cls) -> ZoneTimes:
        """No heart-rate data at all (one value, frozen: a squad's activities share it)."""
        return _EMPTY

    @property
    def easy_seconds(self) -> float:
        """Zones 1-2."""
        return self.seconds[0] + self.seconds[1]

    @property
    def hard_seconds(self) -> float:
        """Zones 3-5."""
        return self.seconds[2] + self.seconds[3] + self.seconds[4]

    @property
    def easy_distance_m(self) -> float:
        """Distance in zones 1-2."""
        return self.distance_m[0] + self.distance_m[1]

    @property
    def hard_distance_m(self) -> float:
        """Distance in zones 3-5."""
        return self.distance_m[2] + self.distance_m[3] + self.distance_m[4]


#: A run's sustained peak more than this above every other run's is not credible alone
#: (a strap locked onto cadence, a sensor fault): it needs a second run to confirm it.
CONFIRM_PEAK_BPM = 8.0


def estimate_from_peaks(
    peaks: Sequence[float], *, min_activities: int = 3, age: float | None = None
) -> float | None:
    """The max-HR estimate from per-activity sustained peaks.

    (:func:`~heavylegs_sync.hr.trace.estimate_max_hr` finds the peaks in samples.)

    Never below the highest credible sustained HR: the highest peak, unless it stands
    more than :data:`CONFIRM_PEAK_BPM` above the next one, in which case the next one.
    With the athlete's age (from the watch's user profile) the age formula
    208 - 0.7 x age (Tanaka) is a floor too, since training rarely reaches max HR.
    """
    if len(peaks) < min_activities:
        return None
    ordered = sorted(float(p) for p in peaks)
    highest = ordered[-1]
    if len(ordered) > 1 and highest - ordered[-2] > CONFIRM_PEAK_BPM:
        highest = ordered[-2]
    floor = 208.0 - 0.7 * age if age is not None and 5 <= age <= 100 else 0.0
    return float(math.floor(max(highest, floor) + 0.5))


_ZERO = (0.0, 0.0, 0.0, 0.0, 0.0)
_EMPTY = ZoneTimes(_ZERO, _ZERO, 0.0, 0.0)
