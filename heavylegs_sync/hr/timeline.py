"""Which heart-rate zones apply on which day, from the best source available.

Precedence: the settings file > the watch's own settings (the newest FIT ``zones_target``
/ ``user_profile`` at or before each activity, so a change of max HR applies from that day)
> Strava's athlete zones > an estimate from the runs. Pure: plain values in, a
:class:`ZoneTimeline` out.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from heavylegs_sync.config import AthleteSettings, ZoneSettings
from heavylegs_sync.hr.zones import ZoneError, ZoneModel, build_zone_model, estimate_from_peaks
from heavylegs_sync.model import Activity, HrSettings


@dataclass(frozen=True)
class ZoneTimeline:
    """Zone models by the day they take effect; the first one also covers earlier days."""

    starts: tuple[date, ...]
    models: tuple[ZoneModel, ...]

    @classmethod
    def single(cls, model: ZoneModel) -> ZoneTimeline:
        """One model for every day."""
        return cls((date.min,), (model,))

    def at(self, day: date) -> ZoneModel:
        """The model in effect on ``day``."""
        index = bisect.bisect_right(self.starts, day) - 1
        return self.models[max(index, 0)]

    def during(self, first: date, last: date) -> tuple[tuple[date, ZoneModel], ...]:
        """The models in effect from ``first`` to ``last``, by the day each took effect: the
        one in force on ``first``, then each change within the range. A report of five
        weeks names the changes of those weeks, not every one since the first file."""
        if not self.models:
            return ()
        index = max(bisect.bisect_right(self.starts, first) - 1, 0)
        shown = [(self.starts[index], self.models[index])]
        for start, model in zip(self.starts[index + 1 :], self.models[index + 1 :], strict=True):
            if start > last:
                break
            if model != shown[-1][1]:
                shown.append((start, model))
        return tuple(shown)

    @property
    def distinct(self) -> tuple[ZoneModel, ...]:
        """Every model once, in order of first use."""
        return tuple(dict.fromkeys(self.models))


def zone_timeline(
    *,
    athlete: AthleteSettings,
    zones: ZoneSettings,
    watch: Sequence[tuple[datetime, HrSettings]] = (),
    strava_bounds: Sequence[float] | None = None,
    peaks: Sequence[float] | None = None,
) -> ZoneTimeline:
    """The zone models in effect over time (see the module's precedence).

    ``watch`` holds the values recorded with activities (their UTC start and the values),
    ``strava_bounds`` Strava's upper bounds of zones 1-4, ``peaks`` the runs' sustained HR
    peaks for the estimate. Raises :class:`~heavylegs_sync.hr.zones.ZoneError` (naming the
    setting to add) when no source gives zones.
    """
    configured = athlete.max_hr is not None or athlete.lthr is not None or zones.bounds
    entries = [] if configured else _watch_entries(watch)
    age = next((v.age for _, v in reversed(watch) if v.age is not None), None)
    estimate = estimate_from_peaks(peaks, age=age) if peaks is not None else None
    if not entries:
        if not configured and strava_bounds is not None and zones.method in (None, "bpm"):
            model = build_zone_model(
                "bpm",
                max_hr=None,
                resting_hr=athlete.resting_hr,
                lthr=None,
                bounds=strava_bounds,
                estimated_max_hr=estimate,
                source="strava",
            )
        else:
            model = build_zone_model(
                zones.method,
                max_hr=athlete.max_hr,
                resting_hr=athlete.resting_hr,
                lthr=athlete.lthr,
                bounds=zones.bounds,
                estimated_max_hr=estimate,
            )
        return ZoneTimeline.single(model)
    starts: list[date] = []
    models: list[ZoneModel] = []
    for since, values in entries:
        resting = athlete.resting_hr if athlete.resting_hr is not None else values.resting_hr
        method = zones.method or _watch_method(values, resting)
        model = build_zone_model(
            method,
            max_hr=values.max_hr,
            resting_hr=resting,
            lthr=values.lthr,
            bounds=None,
            estimated_max_hr=estimate,
            source="watch",
            since=since,
        )
        if models and _same(models[-1], model):
            continue
        starts.append(since)
        models.append(model)
    return ZoneTimeline(tuple(starts), tuple(models))


def _same(a: ZoneModel, b: ZoneModel) -> bool:
    return (a.method, a.bounds_bpm, a.max_hr) == (b.method, b.bounds_bpm, b.max_hr)


def _watch_entries(watch: Sequence[tuple[datetime, HrSettings]]) -> list[tuple[date, HrSettings]]:
    """The watch's values carried forward field by field, one entry per change of day."""
    current = HrSettings()
    entries: list[tuple[date, HrSettings]] = []
    last: HrSettings | None = None
    for when, values in sorted(watch, key=lambda item: item[0]):
        if values is not last:  # the same values again (the store's one object): no change
            resting = values.resting_hr
            current = HrSettings(
                max_hr=values.max_hr if values.max_hr is not None else current.max_hr,
                lthr=values.lthr if values.lthr is not None else current.lthr,
                resting_hr=resting if resting is not None else current.resting_hr,
                zone_method=values.zone_method or current.zone_method,
                age=values.age if values.age is not None else current.age,
            )
            last = values
        if current.max_hr is None and current.lthr is None:
            continue  # nothing to build zones on yet
        day = when.date()
        if entries and entries[-1][0] == day:
            entries[-1] = (day, current)
        elif not entries or entries[-1][1] != current:
            entries.append((day, current))
    return entries


def _watch_method(values: HrSettings, resting_hr: float | None) -> str:
    """The watch's zone basis when its values allow it, else the best they do allow."""
    method = values.zone_method
    if method == "lthr" and values.lthr is not None:
        return "lthr"
    if method == "hrr" and values.max_hr is not None and resting_hr is not None:
        return "hrr"
    if method == "hrmax" and values.max_hr is not None:
        return "hrmax"
    if values.lthr is not None:
        return "lthr"
    if values.max_hr is not None and resting_hr is not None:
        return "hrr"
    return "hrmax"


@dataclass(frozen=True)
class ZoneBasis:
    """What is known of the zones before an import: the settings and the gap bound.
    Plain and picklable, so a decoding worker can compute an activity's zone times for
    the model its own watch values (or the settings) give, in parallel.

    A guess, and a safe one: each figure is kept under its model's key
    (:class:`~heavylegs_sync.hr.zones.ZoneTimesKey`), so when the whole history gives an
    activity another model (an earlier watch value carried forward, an estimate from the
    runs), that figure is simply not read and the missing one is computed after the
    import, as before.
    """

    athlete: AthleteSettings
    zones: ZoneSettings
    max_gap_s: float

    def model_for(self, activity: Activity) -> ZoneModel | None:
        """The model the activity's own values give on its day; None when they give none."""
        watch = [] if activity.hr_settings is None else [(activity.start_utc, activity.hr_settings)]
        try:
            timeline = zone_timeline(athlete=self.athlete, zones=self.zones, watch=watch)
        except ZoneError:
            return None  # an estimate from every run is needed: after the import
        return timeline.at(activity.start_local.date())
