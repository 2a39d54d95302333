"""The store as pandas DataFrames, for notebooks (documented in docs/notebook.md).

Every function takes the store as an open :class:`~heavylegs_sync.store.Store`, a path,
or ``None`` for the configured one (``HEAVYLEGS_DB``, the settings file, the default), and
opens a path read-only: looking never creates or migrates a store. Days are the
activities' own local days, as in the report. pandas is imported when a function runs,
so ``import heavylegs_sync`` and the ``heavylegs`` command stay quick to start.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heavylegs_sync.config import Settings, load_settings
from heavylegs_sync.errors import HeavyLegsError
from heavylegs_sync.model import CHANNELS
from heavylegs_sync.service import open_store
from heavylegs_sync.store import Store

if TYPE_CHECKING:
    import pandas as pd

    from heavylegs_sync.analysis import Analysis

__all__ = [
    "ActivityNotFound", "activities", "findings", "samples", "today", "weeks", "wellness",
]  # fmt: skip

StoreLike = Store | Path | str | None
DateLike = date | str | None


class ActivityNotFound(HeavyLegsError, LookupError):
    """No stored activity has the id asked for."""


def activities(
    store: StoreLike = None,
    since: DateLike = None,
    until: DateLike = None,
    *,
    config: Path | str | None = None,
) -> pd.DataFrame:
    """Stored activities whose local day lies in [since, until], oldest first.

    One row per activity (a copy from a second source is folded into ``sources``),
    indexed by ``id``, with the columns of the ``activities_local`` view: local date and
    time, ISO week, category, sport (one vocabulary) and the raw sport, duration,
    distance, average and maximum heart rate. ``start_utc`` and ``local_date`` are
    datetimes; everything else is as the view has it.
    """
    import pandas as pd

    with _opened(store, config) as (opened, _):
        rows = opened.activities_local(_day(since, "since"), _day(until, "until"))
    frame = pd.DataFrame.from_records(rows, columns=_ACTIVITY_COLUMNS)
    frame["start_utc"] = pd.to_datetime(frame["start_utc"], utc=True, format="ISO8601")
    for column in ("local_date", "week_start"):
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d")
    return frame.set_index("id")


def samples(
    activity_id: int, store: StoreLike = None, *, config: Path | str | None = None
) -> pd.DataFrame:
    """The recorded samples of one activity: one row per sample.

    Columns: ``t_s`` (seconds since the start), ``time`` (UTC), then ``hr`` (bpm),
    ``speed`` (m/s), ``distance`` (m) and ``cadence`` (per minute); a channel the device
    did not record is all NaN. An activity stored without samples (a Strava summary)
    gives no rows. An unknown id raises :class:`ActivityNotFound`.
    """
    import numpy as np
    import pandas as pd

    activity_id = operator.index(activity_id)  # numpy integers (from a DataFrame) too
    with _opened(store, config) as (opened, _):
        start = opened.start_of(activity_id)
        if start is None:
            raise ActivityNotFound(f"{opened.path}: no activity with id {activity_id}")
        recorded = opened.samples(activity_id)
    if recorded is None:
        t = np.array([], dtype=np.float64)
        channels: dict[str, Any] = {name: np.array([], dtype=np.float64) for name in CHANNELS}
    else:
        t = recorded.t
        channels = {
            name: np.full(len(t), np.nan) if values is None else values
            for name in CHANNELS
            for values in [recorded.channel(name)]
        }
    return pd.DataFrame(
        {
            "t_s": t,
            "time": pd.Timestamp(start) + pd.to_timedelta(t, unit="s"),
            **channels,
        }
    )


def weeks(
    store: StoreLike = None,
    since: DateLike = None,
    until: DateLike = None,
    *,
    config: Path | str | None = None,
) -> pd.DataFrame:
    """The report's table of weeks (Monday to Sunday) touching [since, until].

    ``until`` defaults to today in the configured time zone, ``since`` to eight weeks
    back, as for ``heavylegs report``. The columns are the JSON report's week fields
    (docs/rules.md), indexed by ``week_start``.
    """
    import pandas as pd

    result = _analysis(store, since, until, config)
    records = [
        {
            "week_start": w.week_start,
            "season": w.season,
            "run_seconds": w.run_seconds,
            "run_distance_m": w.run_distance_m,
            "easy_seconds": w.easy_seconds,
            "hard_seconds": w.hard_seconds,
            "hard_share": w.hard_share,
            "hard_share_distance": w.hard_share_distance,
            "hr_coverage": w.hr_coverage,
            "rest_days": w.rest_days,
            "strength_sessions": w.strength_sessions,
            "long_runs": len(w.long_run_ids),
            "hard_runs": len(w.hard_run_ids),
            "complete": w.complete,
            "activities": w.activity_count,
            "rest_day_dates": [d.isoformat() for d in w.rest_day_dates],
        }
        for w in result.weeks
    ]
    frame = pd.DataFrame.from_records(records, columns=_WEEK_COLUMNS)
    frame["week_start"] = pd.to_datetime(frame["week_start"])
    return frame.set_index("week_start")


def findings(
    store: StoreLike = None,
    since: DateLike = None,
    until: DateLike = None,
    *,
    config: Path | str | None = None,
) -> pd.DataFrame:
    """The report's findings over [since, until] (defaults as :func:`weeks`), one row each.

    Columns: ``cause`` (1, 2, 5, 6 or 10), ``code``, ``week_start``, ``date`` (for findings
    about one day, else NaT), ``activities`` (ids, a list), ``message``, ``fix`` and
    ``evidence`` (a dict), as in the JSON report.
    """
    import pandas as pd

    from heavylegs_sync.report.findings import finding_fix, finding_message

    result = _analysis(store, since, until, config)
    records = [
        {
            "cause": f.cause,
            "code": f.code,
            "week_start": f.week_start,
            "date": f.date,
            "activities": list(f.activities),
            "message": finding_message(f),
            "fix": finding_fix(f),
            "evidence": f.evidence,
        }
        for f in result.findings
    ]
    frame = pd.DataFrame.from_records(records, columns=_FINDING_COLUMNS)
    for column in ("week_start", "date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def today(
    day: DateLike = None, store: StoreLike = None, *, config: Path | str | None = None
) -> dict[str, Any]:
    """The answer of ``heavylegs today`` for ``day`` (default: today in the configured time
    zone): ``{"date", "causes": [{"cause", "code", "score", "message", "evidence", "fix"}]}``,
    strongest cause first, as ``heavylegs today --format json`` prints it."""
    from heavylegs_sync.diagnosis import today_store
    from heavylegs_sync.report.today import today_dict

    with _opened(store, config) as (opened, settings):
        when = _day(day, "day") or datetime.now(settings.zoneinfo()).date()
        return today_dict(today_store(opened, settings, when))


def wellness(
    store: StoreLike = None,
    since: DateLike = None,
    until: DateLike = None,
    *,
    config: Path | str | None = None,
) -> pd.DataFrame:
    """Each stored day of [since, until] with its sleep, resting heart rate and HRV, one
    value a day from the richest source, as ``heavylegs wellness`` lists them.

    Indexed by ``date`` (a datetime); columns ``sleep_hours``, ``resting_hr``, ``hrv_ms``
    (NaN where nothing is recorded) and ``sleep_source``, ``resting_hr_source``,
    ``hrv_source`` (``fit``, ``garmin`` or ``csv``; None where nothing is recorded).
    """
    import pandas as pd

    from heavylegs_sync import service
    from heavylegs_sync.report.wellness import FIELDS, day_record

    first, last = _day(since, "since"), _day(until, "until")
    if first is not None and last is not None:
        service.check_range(first, last)
    with _opened(store, config) as (opened, _):
        days = service.wellness_days(opened, first, last)
    frame = pd.DataFrame.from_records([day_record(d) for d in days], columns=list(FIELDS))
    for column in ("sleep_hours", "resting_hr", "hrv_ms"):
        frame[column] = frame[column].astype("float64")
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    return frame.set_index("date")


_ACTIVITY_COLUMNS = [
    "id", "local_date", "local_time", "weekday", "iso_week", "week_start", "category",
    "sport", "sport_raw", "sub_sport", "duration_s", "distance_m", "avg_hr", "max_hr",
    "sources", "name", "start_utc", "utc_offset", "source_path",
]  # fmt: skip
_WEEK_COLUMNS = [
    "week_start", "season", "run_seconds", "run_distance_m", "easy_seconds", "hard_seconds",
    "hard_share", "hard_share_distance", "hr_coverage", "rest_days", "strength_sessions",
    "long_runs", "hard_runs", "complete", "activities", "rest_day_dates",
]  # fmt: skip
_FINDING_COLUMNS = [
    "cause", "code", "week_start", "date", "activities", "message", "fix", "evidence",
]  # fmt: skip


def _analysis(
    store: StoreLike, since: DateLike, until: DateLike, config: Path | str | None
) -> Analysis:
    """The analysis the report shows (:func:`heavylegs_sync.service.analysis`)."""
    from heavylegs_sync import service
    from heavylegs_sync.diagnosis import athlete_today

    with _opened(store, config) as (opened, settings):
        last = _day(until, "until") or athlete_today(opened, settings, datetime.now(UTC))
        first = _day(since, "since")
        service.check_range(first, last)
        return service.analysis(opened, settings, last, first)


@contextmanager
def _opened(store: StoreLike, config: Path | str | None) -> Iterator[tuple[Store, Settings]]:
    """The store to read and the settings to read it with; a path is opened read-only."""
    from heavylegs_sync.service import athlete_settings

    if isinstance(store, Store):  # scoped to its athlete: their settings
        name = None if store.athlete is None else store.athlete.name
        target = store.connection.target
        yield store, athlete_settings(load_settings(config=config, db=target, athlete=name))
        return
    settings = athlete_settings(load_settings(config=config, db=store))
    with open_store(settings, read_only=True) as opened:
        yield opened, settings


def _day(value: DateLike, name: str) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None
