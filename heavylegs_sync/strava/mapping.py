"""Strava JSON (an activity summary and its streams) to our :class:`Activity`.

Pure: dicts in, values out. The raw ``sport_type`` string is kept (stravalib would turn
an unknown one into ``Workout``); the local offset is the difference between Strava's
``start_date_local`` (wall time written with a literal ``Z``) and ``start_date``.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from heavylegs_sync.categories import sport_name, strava_category
from heavylegs_sync.errors import StravaError
from heavylegs_sync.importers.common import build_samples, summary_hr
from heavylegs_sync.importers.summary import Figures, reconcile
from heavylegs_sync.limits import positive
from heavylegs_sync.model import Activity, OffsetSource, Samples
from heavylegs_sync.strava.checks import check_summary

STREAM_KEYS = "time,heartrate,distance,velocity_smooth,cadence"


def start_of(summary: dict[str, Any]) -> datetime:
    """The UTC start of a summary; :class:`Refused` if it has none."""
    return check_summary(summary).start


def utc_offset(summary: dict[str, Any]) -> int:
    """The activity's own UTC offset in seconds, to the quarter hour."""
    return check_summary(summary).utc_offset_s


def check_streams(streams: Any) -> None:
    """StravaError unless ``streams`` is None or Strava's streams keyed by type.

    Each stream must be ``{"data": [...]}`` with numbers (or nulls) of one length, and a
    ``time`` stream must be there: without it the samples could not be placed.
    """
    if streams is None:
        return
    if not isinstance(streams, dict):
        raise StravaError(f"not an object keyed by stream type but {type(streams).__name__}")
    lengths = set()
    for key, stream in streams.items():
        data = stream.get("data") if isinstance(stream, dict) else None
        if not isinstance(data, list):
            raise StravaError(f"the {key!r} stream has no data list")
        if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                   for v in data):  # fmt: skip
            raise StravaError(f"the {key!r} stream holds values that are not numbers")
        lengths.add(len(data))
    if not streams:
        return
    if "time" not in streams:
        raise StravaError("there is no time stream")
    if len(lengths) > 1:
        raise StravaError("the streams differ in length")
    if any(v is None for v in streams["time"]["data"]):
        raise StravaError("the time stream has gaps")
    if not all(math.isfinite(v) for v in streams["time"]["data"]):
        raise StravaError("the time stream holds values that are not finite")


def to_activity(summary: dict[str, Any], streams: dict[str, Any] | None) -> Activity:
    """Our activity from Strava's summary and (unless manual) its streams keyed by type.

    The summary passes :func:`check_summary` first (:class:`Refused` when it cannot be
    placed); what it dropped or cut is noted on the activity.
    """
    checked = check_summary(summary)
    summary = checked.summary
    found = summary.get("sport_type") or summary.get("type")
    sport = None if found is None else str(found)
    samples = _samples(streams) if streams else None
    avg_hr, max_hr = summary_hr(
        summary.get("average_heartrate"), summary.get("max_heartrate"), samples
    )
    declared = Figures(
        elapsed_s=positive(summary.get("elapsed_time")),
        timer_s=positive(summary.get("moving_time")),
        distance_m=positive(summary.get("distance")),
    )
    figures = reconcile(declared, samples)  # the streams win where they contradict it
    return Activity(
        source="strava",
        source_id=str(summary["id"]),
        category=strava_category(sport),
        start_utc=checked.start,
        utc_offset_s=checked.utc_offset_s,
        offset_source=OffsetSource.DEVICE,
        sport=sport_name(sport),
        sport_raw=sport,
        timer_s=figures.timer_s,
        elapsed_s=figures.elapsed_s,
        distance_m=figures.distance_m,
        avg_hr=avg_hr,
        max_hr=max_hr,
        name=summary.get("name"),
        device=summary.get("device_name"),
        samples=samples,
        notes=(*checked.notes, *figures.notes),
    )


def _samples(streams: dict[str, Any]) -> Samples | None:
    def data(key: str) -> list[Any] | None:
        stream = streams.get(key)
        if isinstance(stream, dict) and isinstance(stream.get("data"), list):
            return list(stream["data"])
        return None

    times = data("time")
    if not times:
        return None
    t = np.asarray(times, dtype=np.float64)
    n = len(t)

    def channel(key: str) -> list[Any] | None:
        values = data(key)
        return values if values is not None and len(values) == n else None

    return build_samples(
        t - t[0],
        hr=channel("heartrate"),
        speed=channel("velocity_smooth"),
        distance=channel("distance"),
        cadence=channel("cadence"),
    )
