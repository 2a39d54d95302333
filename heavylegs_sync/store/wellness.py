"""Wellness records (sleep, resting heart rate, HRV): one row per day and source.

The store keeps what every source said; which source gives a day's value is decided on
reading, by :func:`heavylegs_sync.wellness.merge_days` (the richer source wins), so a
source imported later can never erase another's values.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from heavylegs_sync.model import WellnessRecord, WellnessSource
from heavylegs_sync.store.connection import Db, Part
from heavylegs_sync.store.rows import (
    Row,
    Share,
    _format_ts,
    _now,
    _parse_ts,
    _whose,
)

#: The value columns; on a second record for the same day and source, each present value
#: replaces the stored one and an absent value keeps it (a sleep file and a monitoring
#: file of the same day both land in the day's row).
_VALUES: tuple[str, ...] = (
    "sleep_s",
    "deep_s",
    "light_s",
    "rem_s",
    "awake_s",
    "sleep_start",
    "sleep_end",
    "resting_hr",
    "hrv_ms",
)


class Wellness(Part):
    """What each source said of each day."""

    def add_wellness(self, records: Iterable[WellnessRecord], file_sha256: str | None) -> int:
        """Store the records in one transaction; returns how many rows were written.

        A record for a day and source already stored is merged into that row: its present
        values replace the stored ones, its absent values keep them. The records are
        trusted: the importer has vetted them (``heavylegs_sync.wellness.vet``)."""
        with self._write() as db:
            return write_wellness(db, self._athlete_to_write, records, file_sha256)

    def wellness(self, first: date | None = None, last: date | None = None) -> list[WellnessRecord]:
        """Every source's record of the days in [first, last] (both optional), by day."""
        return self._wellness(first, last, squad=False).get(self._athlete, [])

    def squad_wellness(
        self, first: date | None = None, last: date | None = None, *, share: Share | None = None
    ) -> dict[int, list[WellnessRecord]]:
        """:meth:`wellness` of every athlete (of ``share``) at once, by athlete id (the
        coach's view)."""
        return self._wellness(first, last, squad=True, share=share)

    def _wellness(
        self, first: date | None, last: date | None, *, squad: bool, share: Share | None = None
    ) -> dict[int, list[WellnessRecord]]:
        sql = "SELECT * FROM wellness"
        where, params = _whose("athlete_id", None if squad else self._athlete, share)
        if first is not None:
            where.append("day >= ?")
            params.append(first.isoformat())
        if last is not None:
            where.append("day <= ?")
            params.append(last.isoformat())
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY day, source"
        result: dict[int, list[WellnessRecord]] = {}
        for r in self._db.execute(sql, params).fetchall():
            result.setdefault(int(r["athlete_id"]), []).append(_record(r))
        return result

    def wellness_count(self) -> int:
        """How many day-and-source rows are stored."""
        return int(
            self._db.execute(
                "SELECT count(*) FROM wellness WHERE athlete_id = ?", (self._athlete,)
            ).fetchone()[0]
        )


def write_wellness(
    db: Db, athlete_id: int, records: Iterable[WellnessRecord], file_sha256: str | None
) -> int:
    """Write the records inside the caller's transaction (``add_wellness``, or a file's
    import in ``Activities.add_file``), noting which file filled each row; returns how
    many rows were written."""
    rows = [(athlete_id, *_row(r, file_sha256)) for r in records]
    if not rows:
        return 0
    if file_sha256 is not None:
        db.executemany(
            "INSERT INTO wellness_files (athlete_id, day, source, file_sha256)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(athlete_id, row[1], row[2], file_sha256) for row in rows],
        )
    updates = ", ".join(f"{c} = coalesce(excluded.{c}, wellness.{c})" for c in _VALUES)
    columns = ("athlete_id", "day", "source", "origin", "file_sha256", *_VALUES, "imported_at")
    db.executemany(
        f"INSERT INTO wellness ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) "
        "ON CONFLICT (athlete_id, day, source) DO UPDATE SET origin = excluded.origin, "
        f"file_sha256 = excluded.file_sha256, {updates}, "
        "imported_at = excluded.imported_at",
        rows,
    )
    return len(rows)


def _row(r: WellnessRecord, file_sha256: str | None) -> tuple[object, ...]:
    return (
        r.day.isoformat(),
        r.source.value,
        r.origin,
        file_sha256,
        r.sleep_s,
        r.deep_s,
        r.light_s,
        r.rem_s,
        r.awake_s,
        None if r.sleep_start is None else _format_ts(r.sleep_start),
        None if r.sleep_end is None else _format_ts(r.sleep_end),
        r.resting_hr,
        r.hrv_ms,
        _now(),
    )


def _float(value: object) -> float | None:
    return None if value is None else float(str(value))


def _record(row: Row) -> WellnessRecord:
    start, end = row["sleep_start"], row["sleep_end"]
    return WellnessRecord(
        day=date.fromisoformat(str(row["day"])),
        source=WellnessSource(str(row["source"])),
        origin=str(row["origin"]),
        sleep_s=_float(row["sleep_s"]),
        deep_s=_float(row["deep_s"]),
        light_s=_float(row["light_s"]),
        rem_s=_float(row["rem_s"]),
        awake_s=_float(row["awake_s"]),
        sleep_start=None if start is None else _parse_ts(str(start)),
        sleep_end=None if end is None else _parse_ts(str(end)),
        resting_hr=_float(row["resting_hr"]),
        hrv_ms=_float(row["hrv_ms"]),
    )


def __getattr__(name: str) -> object:
    """``WellnessSpan`` and ``WellnessFile``, once defined here, now the maintenance
    part's: loaded when first asked for (reading wellness never makes them)."""
    if name in ("WellnessSpan", "WellnessFile"):
        from heavylegs_sync.store import maintenance

        return getattr(maintenance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
