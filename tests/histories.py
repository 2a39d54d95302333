"""Generated training histories for report tests: real Activity objects with samples,
stored in a real SQLite store (fast: no file is encoded or decoded)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from heavylegs_sync.model import Activity, Category, OffsetSource, Samples
from heavylegs_sync.store import Store
from tests.conftest import BERLIN

EASY_HR, HARD_HR = 140.0, 172.0  # with max HR 190 (share of max): zone 2 and zone 4
SETTINGS = '[athlete]\ntimezone = "Europe/Berlin"\nmax_hr = 190\n[zones]\nmethod = "hrmax"\n'
_ids = itertools.count(1)


def activity(
    category: Category,
    day: date,
    minutes: float,
    *,
    hard_share: float = 0.0,
    hhmm: str = "07:00",
    source: str = "fit",
    step: float = 10.0,
) -> Activity:
    """One activity at a local time in Berlin; HR hard for its first ``hard_share``."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)
    seconds = minutes * 60
    t = np.arange(0.0, seconds + step / 2, step)
    hr = np.where(t < hard_share * seconds, HARD_HR, EASY_HR)
    offset = start.utcoffset()
    assert offset is not None
    n = next(_ids)
    return Activity(
        id=n,  # the store gives its own
        source=source,
        source_id=f"{source}-{n}",
        category=category,
        start_utc=start.astimezone(UTC),
        utc_offset_s=int(offset.total_seconds()),
        offset_source=OffsetSource.DEVICE,
        timer_s=seconds,
        elapsed_s=seconds,
        distance_m=seconds * 3.0 if category is Category.RUN else None,
        samples=Samples(t=t, hr=hr, distance=t * 3.0),
        sport="running" if category is Category.RUN else "training",
        file_sha256=f"{n:064x}" if source == "fit" else None,
    )


def runs_only_year(first: date, weeks: int = 52, step: float = 10.0) -> list[Activity]:
    """A runner who never lifts: five runs a week (a long one on Sunday), speed work that
    is too much in every other week, and no rest day every fourth week (``step``: seconds
    between samples; 5 or less gives each run a sustained HR peak)."""
    result = []
    for w in range(weeks):
        monday = first + timedelta(weeks=w)
        share = 0.35 if w % 2 else 0.1
        days = range(7) if w % 4 == 3 else (1, 2, 3, 5, 6)
        for d in days:
            minutes = 95 if d == 6 else 45
            result.append(activity(Category.RUN, monday + timedelta(days=d), minutes,
                                   hard_share=share, step=step))  # fmt: skip
    return result


def store_history(db: Path, activities: Sequence[Activity]) -> None:
    """Store the activities as if imported from files (or Strava, by their source)."""
    with Store.open(db) as store:
        for a in activities:
            store.add_activity(a)


def settings_file(folder: Path) -> Path:
    path = folder / "heavylegs.toml"
    path.write_text(SETTINGS)
    return path


def varied_year() -> list[Activity]:
    """Most of a year that tests every reason a bounded read may not decide: regular
    weeks, a 60-day streak (longer than the window), ten weeks off and the return from
    them (the first activity read is too recent to say how much history there is), a
    lone run then nothing for six weeks (the load ratio walks back past the window's
    first activity), short recordings."""
    start = date(2025, 9, 1)
    days: list[tuple[int, Category, float, float]] = []  # day, category, minutes, hard
    for d in range(42):  # regular: runs Tue-Thu and Sun, strength Mon and Fri
        weekday = d % 7
        if weekday in (1, 2, 3, 6):
            days.append((d, Category.RUN, 45 if weekday != 6 else 90, 0.3 if weekday == 2 else 0))
        if weekday in (0, 4):
            days.append((d, Category.STRENGTH, 30, 0))
    days += [(d, Category.RUN, 40, 0.1) for d in range(42, 102)]  # 60 days without rest
    days += [(d, Category.RUN, 50, 0.25) for d in range(172, 186) if d % 3]  # 10 weeks off
    days += [(200, Category.RUN, 60, 0)]
    days += [(d, Category.RUN, 60, 0) for d in range(244, 250)]
    days += [(d, Category.RUN, 5, 0) for d in (20, 174, 246)]  # short recordings
    return [
        activity(category, start + timedelta(days=d), minutes, hard_share=hard)
        for d, category, minutes, hard in days
    ]
