"""Conversions between activity values and table rows (read by column name), shared by
the store's parts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from heavylegs_sync.model import (
    Activity,
    HrSettings,
)


class Row(Protocol):
    """A row read by column name (:class:`sqlite3.Row`; a dict from another driver)."""

    def __getitem__(self, key: str, /) -> Any: ...


_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


_NOTE_SEP = "; "


def _ref(source: str, source_id: str, path: str | None) -> str:
    """Where a stored copy came from: its file, or ``strava:<id>`` (a row of a Strava
    export's list: ``strava:<id> (export.zip!activities.csv)``)."""
    if path and source == "strava":
        return f"strava:{source_id} ({path})"
    if path:
        return str(path)
    return f"{source}:{source_id}"


def _metadata(a: Activity) -> tuple[float | None, float | None, float | None]:
    return (a.perceived_exertion, a.relative_effort, a.weight_lifted_kg)


def _watch_values(
    values: HrSettings | None,
) -> tuple[float | None, float | None, float | None, str | None, float | None]:
    if values is None:
        return (None, None, None, None, None)
    return (values.max_hr, values.lthr, values.resting_hr, values.zone_method, values.age)


def _watch_settings(
    max_hr: object, lthr: object, resting: object, method: object, age: object
) -> HrSettings | None:
    """The watch's HR settings from the ``watch_*`` columns' values, None when all are
    empty (most records: a squad's tens of thousands build nothing)."""
    if max_hr is None and lthr is None and resting is None and method is None and age is None:
        return None
    values = HrSettings(
        max_hr=None if max_hr is None else float(str(max_hr)),
        lthr=None if lthr is None else float(str(lthr)),
        resting_hr=None if resting is None else float(str(resting)),
        zone_method=None if method is None else str(method),
        age=None if age is None else float(str(age)),
    )
    return values if values else None


def _stored_path(path: Path | str) -> str:
    """Source paths are kept absolute, so they still mean something from another folder."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):  # a symlink loop: absolute is the best there is
        return str(Path(path).absolute())


def _now() -> str:
    return _format_ts(datetime.now(UTC))


def _format_ts(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime(_TS_FORMAT)


def _parse_ts(text: str) -> datetime:
    # fromisoformat reads _TS_FORMAT's text (the "Z" included) many times faster than
    # strptime: a report parses thousands of these.
    # Stored with a "Z": already UTC then (a squad's window parses tens of thousands).
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is UTC else value.replace(tzinfo=UTC)


#: A part of the squad, ``(parts, index)``: the athletes whose id leaves ``index`` divided
#: by ``parts``. The coach's view reads and judges a large squad in parts, one per
#: process (:func:`heavylegs_sync.service.team`); every id is in exactly one part, and
#: athletes added together (a club's watch users, say) are spread over the parts alike.
Share = tuple[int, int]


def _whose(
    column: str, athlete: int | None, share: Share | None = None
) -> tuple[list[str], list[object]]:
    """The clauses (over the athlete id ``column``) and parameters of whose rows a read
    takes: one ``athlete``'s, or (None) every athlete's of ``share`` (None: the squad's)."""
    if athlete is not None:
        return [f"{column} = ?"], [athlete]
    if share is None:
        return [], []
    parts, index = share
    return [f"{column} % ? = ?"], [parts, index]


def _span(since: datetime | None, until: datetime | None) -> tuple[list[str], list[object]]:
    """The clauses (over activities ``a``) and parameters of starts in [since, until)."""
    clauses: list[str] = []
    params: list[object] = []
    if since is not None:
        clauses.append("a.start_utc >= ?")
        params.append(_format_ts(since))
    if until is not None:
        clauses.append("a.start_utc < ?")
        params.append(_format_ts(until))
    return clauses, params
