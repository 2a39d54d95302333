"""Figures derived from samples (zone times, HR peaks), kept so reports need not read
samples; a read-only store holds them for the caller to save."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from heavylegs_sync.errors import StoreError
from heavylegs_sync.model import Category, OffsetSource
from heavylegs_sync.store.connection import Connection, Part, log
from heavylegs_sync.store.rows import Share, _format_ts, _parse_ts, _span, _whose

#: A figure kept as JSON ``null``: computed, and there was nothing to compute it from.
NOTHING = "null"


class PeakRun(NamedTuple):
    """A run whose sustained HR peak may count toward the max-HR estimate."""

    id: int
    start_utc: datetime
    utc_offset_s: int
    offset_source: OffsetSource
    data: str | None  # the kept figure (JSON), None when not computed yet


class Derived(Part):
    """Saved derived figures by kind and activity."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._unsaved: dict[str, dict[int, str]] = {}

    def derived(self, kind: str, ids: Sequence[int]) -> dict[int, str]:
        """Saved figures of one kind (e.g. a zone model's time in zones) by activity id."""
        result: dict[int, str] = {}
        wanted = list(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT d.activity_id, d.data FROM derived d"
                " JOIN activities a ON a.id = d.activity_id"
                f" WHERE a.athlete_id = ? AND d.kind = ? AND d.activity_id IN ({marks})",
                (self._athlete, kind, *chunk),
            )
            result.update((int(r["activity_id"]), str(r["data"])) for r in rows)
        held = self._unsaved.get(kind, {})
        result.update((i, held[i]) for i in wanted if i in held)
        return result

    def squad_derived(
        self, since: datetime | None, until: datetime | None, *, share: Share | None = None
    ) -> dict[int, dict[str, str]]:
        """Every kind of saved figure of every athlete's (of ``share``) primary records
        starting in [since, until) that have samples, by activity id, then kind: the
        coach's view reads the squad's window in one statement. Every such record has an
        entry (empty: nothing kept yet); a record without one has no samples, so every
        figure of it is :data:`NOTHING` without reading what was kept (most of a squad's
        records are Strava summaries: reading their kept nothings took a part of the
        club bench 0.1 s, docs/performance.md)."""
        clauses, params = _span(since, until)
        clauses.insert(0, "a.primary_id IS NULL")
        part, more = _whose("a.athlete_id", None, share)
        clauses.extend(part)
        params.extend(more)
        # From the samples table, the short list, as the runs' peaks are read.
        rows = self._db.execute(
            "SELECT a.id, d.kind, d.data FROM samples s"
            " JOIN activities a ON a.id = s.activity_id"
            " LEFT JOIN derived d ON d.activity_id = a.id"
            f" WHERE {' AND '.join(clauses)}",
            params,
        )
        result: dict[int, dict[str, str]] = {}
        for activity_id, kind, data in rows:  # by position: a squad's window is many rows
            figures = result.setdefault(int(activity_id), {})
            if kind is not None:
                figures[str(kind)] = str(data)
        return result

    def peak_runs(self, kind: str, until: datetime) -> list[PeakRun]:
        """The runs starting before ``until`` whose sustained HR peak (figures of
        ``kind``) may count toward the max-HR estimate, oldest first, with the kept
        figure when there is one. Runs without samples, and those whose figure is kept as
        nothing (no heart rate), are left out: their peak is none, so a year of Strava
        summaries costs nothing here."""
        return self._peak_runs(kind, until, squad=False).get(self._athlete, [])

    def squad_peak_runs(
        self, kind: str, until: datetime, *, share: Share | None = None
    ) -> dict[int, list[PeakRun]]:
        """:meth:`peak_runs` of every athlete (of ``share``) at once, by athlete id."""
        return self._peak_runs(kind, until, squad=True, share=share)

    def _peak_runs(
        self, kind: str, until: datetime, *, squad: bool, share: Share | None = None
    ) -> dict[int, list[PeakRun]]:
        whose, more = _whose("a.athlete_id", None if squad else self._athlete, share)
        owner = "".join(f"{clause} AND " for clause in whose)
        params: list[object] = [kind, *more]
        # Only a run with samples can have a peak (it is computed from them): the
        # samples table is the short list to start from.
        rows = self._db.execute(
            "SELECT a.athlete_id, a.id, a.start_utc, a.utc_offset_s, a.offset_source, d.data"
            " FROM samples s JOIN activities a ON a.id = s.activity_id"
            " LEFT JOIN derived d ON d.activity_id = a.id AND d.kind = ?"
            f" WHERE {owner}a.primary_id IS NULL AND a.category = ? AND a.start_utc < ?"
            " AND (d.data IS NULL OR d.data <> ?) ORDER BY a.start_utc, a.id",
            (*params, Category.RUN.value, _format_ts(until), NOTHING),
        )
        result: dict[int, list[PeakRun]] = {}
        sources = {o.value: o for o in OffsetSource}
        for athlete_id, activity_id, start, offset, source, data in rows:  # by position
            result.setdefault(int(athlete_id), []).append(
                PeakRun(
                    int(activity_id),
                    _parse_ts(start),
                    int(offset),
                    sources.get(source) or OffsetSource(source),
                    None if data is None else str(data),
                )
            )
        return result

    def unsaved_derived(self) -> dict[str, dict[int, str]]:
        """Figures saved while read-only, by kind: a caller with write access may keep them."""
        return {kind: dict(values) for kind, values in self._unsaved.items()}

    def save_derived(self, kind: str, values: dict[int, str]) -> None:
        """Save figures of one kind; a later save replaces them."""
        if not values:
            return
        if self.read_only:
            log.debug("read-only store: %d %s figures held in memory", len(values), kind)
            self._unsaved.setdefault(kind, {}).update(values)
            return
        with self._write() as db:
            # Only figures of this athlete's activities: ids are the library caller's to
            # pass, and another athlete's must never be written through this store.
            wanted = sorted(values)
            mine: set[int] = set()
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = db.execute(
                    f"SELECT id FROM activities WHERE athlete_id = ? AND id IN"
                    f" ({','.join('?' * len(chunk))})",
                    (self._athlete_to_write, *chunk),
                ).fetchall()
                mine.update(int(r["id"]) for r in rows)
            others = [i for i in wanted if i not in mine]
            if others:
                raise StoreError(
                    f"{self.path}: activity {others[0]} is not this athlete's"
                    f" ({len(others)} of {len(wanted)} {kind} figures): nothing kept"
                )
            db.executemany(
                "INSERT INTO derived (activity_id, kind, data) VALUES (?, ?, ?) "
                "ON CONFLICT (activity_id, kind) DO UPDATE SET data = excluded.data",
                [(i, kind, data) for i, data in values.items()],
            )
