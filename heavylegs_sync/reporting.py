"""Analysis over the store: the one place that loads activities and settings for a report.

The report command and the folder watcher both call :func:`analyse_store`; the analysis
itself stays pure (:mod:`heavylegs_sync.analysis`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from datetime import date, timedelta
from pathlib import Path

from heavylegs_sync.analysis import Analysis, analyse
from heavylegs_sync.analysis.weeks import monday
from heavylegs_sync.config import Settings, ZoneSettings
from heavylegs_sync.errors import HeavyLegsError
from heavylegs_sync.model import Activity
from heavylegs_sync.report import to_json, to_text
from heavylegs_sync.store import Store
from heavylegs_sync.strava.mapping import zone_bounds
from heavylegs_sync.strava.sync import ZONES_KEY


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

    ``leave_out`` drops activities by id: the watcher compares the findings with and
    without the files it just imported to log only what they changed.
    """
    activities = [
        a for a in store.activities_on_days(None, last, with_samples=True) if a.id not in leave_out
    ]
    zones = zone_settings(settings, store)
    return analyse(
        activities,
        first=first if first is not None else default_first_day(activities, last),
        last=last,
        athlete=settings.athlete,
        zones=zones,
        rules=settings.rules,
        season=settings.season,
    )


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
