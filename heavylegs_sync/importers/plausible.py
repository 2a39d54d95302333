"""Plausibility at the door: every decoded activity is checked before anything is stored.

A file whose checksum is right may still say a run lasted 49 days or covered 1,990 km
(a corrupted copy, a device bug, a hostile file). What no body or device can do fails the
whole file, with the reason, so it claims no identity and the genuine file still gets in;
values that are wrong on their own (a speed spike, a record dated decades after the
start) are dropped with a warning and the activity is kept with a note saying so.

Pure: the current time is an argument, never read here. The bounds are in docs/store.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from heavylegs_sync.errors import HeavyLegsError
from heavylegs_sync.importers.common import MAX_SPEED
from heavylegs_sync.limits import MAX_NAME_CHARS, SENSOR_HR_RANGE
from heavylegs_sync.model import CHANNELS, Activity, Samples

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
#: Device clocks run a little ahead and time zones differ: up to a day ahead is accepted.
FUTURE_SLACK = timedelta(days=1)
MAX_DURATION_S = 48 * 3600.0
#: Averages are judged only over this long: a few seconds prove nothing.
MIN_DURATION_FOR_AVERAGE_S = 60.0
#: Records may trail or precede their session (devices write them in bursts, some sessions
#: leave out a last lap): this much, or half the duration when that is more, is accepted.
SAMPLE_SLACK_S = 600.0
#: The notes an activity carries when values were dropped.
NOTE_SAMPLES = "samples outside its time dropped"
NOTE_SPEED = "impossible speeds dropped"
NOTE_HR = "impossible heart rate dropped"
NOTE_NAME = f"name cut to {MAX_NAME_CHARS} characters"


@dataclass(frozen=True)
class SpeedLimit:
    """Fastest plausible speeds for a sport, m/s: over the whole activity, and at any moment."""

    average: float
    peak: float


_FOOT = SpeedLimit(average=10.0, peak=12.5)  # faster than a 100 m sprint on average
_BIKE = SpeedLimit(average=25.0, peak=40.0)
_SWIM = SpeedLimit(average=4.0, peak=6.0)
_WATER = SpeedLimit(average=8.0, peak=12.0)
_SNOW = SpeedLimit(average=30.0, peak=MAX_SPEED)
_MOTOR = SpeedLimit(average=350.0, peak=MAX_SPEED)  # samples are capped for every sport
_OTHER = SpeedLimit(average=MAX_SPEED, peak=MAX_SPEED)
SPEED_LIMITS: dict[str, SpeedLimit] = {
    **dict.fromkeys(
        ("running", "walking", "hiking", "trail_running", "mountaineering", "run", "walk",
         "hike", "trailrun", "virtualrun", "snowshoeing", "snowshoe", "floor_climbing",
         "fitness_equipment", "training", "strength_training", "yoga"),
        _FOOT,
    ),
    **dict.fromkeys(
        ("cycling", "e_biking", "ride", "virtualride", "ebikeride", "mountain_biking",
         "inline_skating", "inlineskate"),
        _BIKE,
    ),
    **dict.fromkeys(("swimming", "swim"), _SWIM),
    **dict.fromkeys(
        ("rowing", "paddling", "kayaking", "rafting", "stand_up_paddleboarding", "rowing",
         "canoeing", "kayaking", "sailing", "surfing", "windsurfing", "kitesurfing"),
        _WATER,
    ),
    **dict.fromkeys(
        ("alpine_skiing", "cross_country_skiing", "snowboarding", "alpineski",
         "backcountryski", "nordicski", "ice_skating", "iceskate", "sky_diving", "hang_gliding"),
        _SNOW,
    ),
    **dict.fromkeys(("driving", "motorcycling", "flying", "boating", "jumpmaster"), _MOTOR),
}  # fmt: skip


class Implausible(HeavyLegsError):
    """An activity no body or device could have recorded; ``str()`` says why (the caller
    names the file: see :func:`heavylegs_sync.decoding.decode_job`)."""


@dataclass(frozen=True)
class Vetted:
    """What the checks kept of one file, and what they dropped (one line each)."""

    activities: list[Activity]
    warnings: list[str]


def speed_limit(sport: str | None) -> SpeedLimit:
    """The limits for a sport as a file or Strava names it; unknown sports get the widest."""
    if sport is None:
        return _OTHER
    return SPEED_LIMITS.get(sport.lower(), _OTHER)


def _spelled(activity: Activity) -> str | None:
    """The sport as the source spelled it: the limits and messages name it so."""
    return activity.sport_raw if activity.sport_raw is not None else activity.sport


def vet(activities: Sequence[Activity], now: datetime) -> Vetted:
    """Check one file's activities; raise :class:`Implausible` if any is impossible.

    ``now`` is the current time (aware): a start more than a day after it is impossible.
    """
    kept: list[Activity] = []
    warnings: list[str] = []
    several = len(activities) > 1
    for activity in activities:
        where = f"{_spelled(activity) or 'activity'} at {activity.start_utc:%Y-%m-%d %H:%M} UTC: "
        try:
            checked, dropped = vet_one(activity, now)
        except Implausible as exc:
            raise Implausible(f"{where if several else ''}{exc}") from None
        kept.append(checked)
        warnings.extend((where if several else "") + line for line in dropped)
    return Vetted(kept, warnings)


def vet_one(activity: Activity, now: datetime) -> tuple[Activity, list[str]]:
    """One activity, checked: a copy with impossible values dropped, and what was dropped."""
    start = activity.start_utc
    if start < EARLIEST:
        raise Implausible(f"implausible start {start:%Y-%m-%d %H:%M} UTC (before 1990)")
    if start > now + FUTURE_SLACK:
        raise Implausible(
            f"implausible start {start:%Y-%m-%d %H:%M} UTC (more than a day in the future)"
        )
    durations = [d for d in (activity.elapsed_s, activity.timer_s) if d is not None]
    longest = max(durations, default=None)
    if longest is not None and longest > MAX_DURATION_S:
        raise Implausible(f"implausible duration {_hours(longest)} (more than 48 h)")
    limit = speed_limit(_spelled(activity))
    distance = activity.distance_m
    if distance is not None and longest is not None and longest >= MIN_DURATION_FOR_AVERAGE_S:
        average = distance / longest
        if average > limit.average:
            raise Implausible(
                f"implausible distance {distance / 1000:.1f} km in {_hours(longest)} "
                f"({average * 3.6:.0f} km/h on average; at most {limit.average * 3.6:.0f} "
                f"km/h for {_spelled(activity) or 'an unknown sport'})"
            )

    warnings: list[str] = []
    notes = list(activity.notes)
    changes: dict[str, object] = {}
    name = activity.name
    if name is not None and len(name) > MAX_NAME_CHARS:
        changes["name"] = name[:MAX_NAME_CHARS]
        warnings.append(f"name of {len(name):,} characters cut to {MAX_NAME_CHARS}")
        _note(notes, NOTE_NAME)
    low, high = SENSOR_HR_RANGE
    for name in ("avg_hr", "max_hr"):
        value = getattr(activity, name)
        if value is not None and not low <= value <= high:
            changes[name] = None
            warnings.append(
                f"{name.replace('_', ' ')} {value:g} bpm dropped (not {low:g}-{high:g})"
            )
            _note(notes, NOTE_HR)
    samples = activity.samples
    if samples is not None and len(samples):
        samples, sample_warnings = _vet_samples(samples, longest, limit, notes)
        warnings.extend(sample_warnings)
        changes["samples"] = samples
    changes["notes"] = tuple(notes)
    return dataclasses.replace(activity, **changes), warnings  # type: ignore[arg-type]


def _vet_samples(
    samples: Samples, longest: float | None, limit: SpeedLimit, notes: list[str]
) -> tuple[Samples | None, list[str]]:
    warnings: list[str] = []
    t = samples.t
    inside = np.isfinite(t) & (t >= -SAMPLE_SLACK_S)
    if longest is not None:
        inside &= t <= longest + max(SAMPLE_SLACK_S, longest / 2)
    outside = int((~inside).sum())
    if outside:
        warnings.append(f"{outside} samples outside the activity's time dropped")
        _note(notes, NOTE_SAMPLES)
        if not inside.any():
            return None, warnings
        samples = Samples(
            t=t[inside],
            **{
                name: None if (values := samples.channel(name)) is None else values[inside]
                for name in CHANNELS
            },
        )
    channels: dict[str, np.ndarray | None] = {n: samples.channel(n) for n in CHANNELS}
    speed = channels["speed"]
    if speed is not None:
        with np.errstate(invalid="ignore"):
            fast = speed > limit.peak
        count = int(fast.sum())
        if count:
            speed = speed.copy()
            speed[fast] = np.nan
            channels["speed"] = speed if np.isfinite(speed).any() else None
            warnings.append(f"{count} speed samples over {limit.peak * 3.6:.0f} km/h dropped")
            _note(notes, NOTE_SPEED)
    hr = channels["hr"]
    if hr is not None:
        low, high = SENSOR_HR_RANGE
        with np.errstate(invalid="ignore"):
            wrong = np.isfinite(hr) & ((hr < low) | (hr > high))
        if wrong.any():
            hr = hr.copy()
            hr[wrong] = np.nan
            channels["hr"] = hr if np.isfinite(hr).any() else None
    return Samples(t=samples.t, **channels), warnings


def _note(notes: list[str], note: str) -> None:
    if note not in notes:
        notes.append(note)


def _hours(seconds: float) -> str:
    if seconds >= 72 * 3600:
        return f"{seconds / 86400:.0f} days"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours}:{rest // 60:02d} h"
