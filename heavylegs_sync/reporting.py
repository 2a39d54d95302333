"""Analysis over the store: the one place that loads activities and settings for a report.

The report command and the folder watcher both call :func:`analyse_store`; the analysis
itself stays pure (:mod:`heavylegs_sync.analysis`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from heavylegs_sync.analysis import Analysis, analyse, zone_model
from heavylegs_sync.analysis.weeks import monday
from heavylegs_sync.config import Settings, ZoneSettings
from heavylegs_sync.errors import HeavyLegsError
from heavylegs_sync.model import Activity, Category, Samples
from heavylegs_sync.report import to_json, to_text
from heavylegs_sync.store import Store
from heavylegs_sync.strava.mapping import ZONES_KEY, zone_bounds
from heavylegs_sync.zones import ZoneModel, ZoneTimes, sustained_peak, zone_times


class ReportError(HeavyLegsError):
    """A report could not be written."""


def zone_settings(settings: Settings, store: Store) -> ZoneSettings:
    """The configured zones; when nothing about heart rate is configured, Strava's."""
    zones, athlete = settings.zones, settings.athlete
    if zones.method or zones.bounds or athlete.max_hr or athlete.lthr:
        return zones
    saved = store.get_state(ZONES_KEY)
    bounds = zone_bounds(json.loads(saved)) if saved else None
    return ZoneSettings(method="bpm", bounds=bounds) if bounds else zones


def default_first_day(activities: list[Activity], last: date) -> date:
    """Eight weeks ending with the week of ``last``, but not before the first activity."""
    first = monday(last) - timedelta(weeks=7)
    if activities:
        first = max(first, monday(activities[0].start_local.date()))
    return min(first, last)


def analyse_store(
    store: Store,
    settings: Settings,
    last: date,
    first: date | None = None,
    *,
    leave_out: Collection[int] = (),
) -> Analysis:
    """Analyse the stored activities up to ``last`` (``first`` defaults to 8 weeks back).

    Samples are read only for figures the store has not kept yet (each run's sustained
    HR peak; each activity's time in zones for the current zone model), so a report over
    years of history reads a few numbers per activity. ``leave_out`` drops activities by
    id: the watcher compares the findings with and without the files it just imported.
    """
    activities = [a for a in store.activities_on_days(None, last) if a.id not in leave_out]
    start = first if first is not None else default_first_day(activities, last)
    zones = zone_settings(settings, store)
    peaks = _peaks(store, settings, activities)
    model = zone_model(activities, settings.athlete, zones, peaks)
    # Zone times matter for the reported days and the day either side (strength timing).
    near = [
        a.id
        for a in activities
        if a.id is not None
        and start - timedelta(days=1) <= a.start_local.date() <= last + timedelta(days=1)
    ]
    known = _zone_times(store, settings, model, near)
    return analyse(
        activities,
        first=start,
        last=last,
        athlete=settings.athlete,
        zones=zones,
        rules=settings.rules,
        season=settings.season,
        peaks=peaks,
        known_zones=known,
    )


def derive(store: Store, settings: Settings) -> None:
    """Compute and keep the figures reports need for every stored activity, so even the
    first report after an import reads no samples. Without enough data for zones it
    leaves them to the report, which will say what is missing."""
    activities = store.activities()
    try:
        peaks = _peaks(store, settings, activities)
        model = zone_model(activities, settings.athlete, zone_settings(settings, store), peaks)
    except HeavyLegsError:
        return
    _zone_times(store, settings, model, [a.id for a in activities if a.id is not None])


def _peaks(store: Store, settings: Settings, activities: list[Activity]) -> list[float] | None:
    """Sustained HR peaks of the runs, when max HR must be estimated."""
    if settings.athlete.max_hr is not None:
        return None
    runs = [a.id for a in activities if a.category is Category.RUN and a.id is not None]
    return [p for p in _figures(store, PEAK_KIND, runs, _peak).values() if p is not None]


def _zone_times(
    store: Store, settings: Settings, model: ZoneModel, ids: Sequence[int]
) -> dict[int, ZoneTimes]:
    gap = settings.rules.max_gap_s
    kind = f"zones:{model.method.value}:{','.join(map(str, model.bounds_bpm))}:{gap:g}"
    return {
        i: ZoneTimes.from_list(v)
        for i, v in _figures(
            store, kind, ids, lambda s: zone_times(s, model, max_gap_s=gap).to_list()
        ).items()
        if v is not None
    }


PEAK_KIND = "peak_hr:30"
T = TypeVar("T")


def _peak(samples: Samples) -> float | None:
    return sustained_peak(samples, 30.0)


def _figures(
    store: Store, kind: str, ids: Sequence[int], compute: Callable[[Samples], T]
) -> dict[int, T | None]:
    """Saved figures of ``kind``, computing (from samples) and saving the missing ones."""
    saved = {i: json.loads(v) for i, v in store.derived(kind, ids).items()}
    fresh: dict[int, str] = {}
    for activity_id in ids:
        if activity_id in saved:
            continue
        samples = store.samples(activity_id)
        value = compute(samples) if samples is not None else None
        saved[activity_id] = value
        fresh[activity_id] = json.dumps(value)
    store.save_derived(kind, fresh)
    return saved


def render(analysis: Analysis, output_format: str) -> str:
    """The report as ``text`` or ``json``."""
    return to_json(analysis) if output_format == "json" else to_text(analysis)


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write the report: {exc.strerror}") from exc
