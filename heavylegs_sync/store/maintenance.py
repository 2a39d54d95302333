"""What a store holds (``heavylegs info``) and removing activities (``heavylegs forget``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from heavylegs_sync.store.connection import Connection, Part
from heavylegs_sync.store.rows import _parse_ts, _stored_path
from heavylegs_sync.store.wellness import Wellness, WellnessSpan


@dataclass(frozen=True)
class StoreOverview:
    """What a store holds, in counts (``heavylegs info``)."""

    activities: int  # one per activity: secondary copies are counted in ``copies``
    copies: int  # the same activity again from another source, linked to its primary
    files: int
    by_category: dict[str, int]  # activities
    by_source: dict[str, int]  # every stored record, copies included
    first_day: date | None  # local days of the first and last activity
    last_day: date | None
    #: wellness days by source, with each source's first and last day
    wellness: tuple[WellnessSpan, ...] = ()


@dataclass(frozen=True)
class ForgetTarget:
    """One activity ``forget`` would remove, with every stored copy of it."""

    id: int  # the primary record's id, as ``heavylegs activities`` shows it
    start_local: datetime
    category: str
    records: tuple[int, ...]  # the primary and its copies
    sources: tuple[str, ...]


class Maintenance(Part):
    """Counting and forgetting (handed the wellness part, whose days it counts)."""

    def __init__(self, connection: Connection, body: Wellness | None = None) -> None:
        super().__init__(connection)
        self._body = body

    def overview(self) -> StoreOverview:
        """Counts for ``heavylegs info``."""
        db = self._db
        mine = (self._athlete,)
        counts = db.execute(
            "SELECT count(*) FILTER (WHERE primary_id IS NULL) AS activities,"
            " count(*) FILTER (WHERE primary_id IS NOT NULL) AS copies FROM activities"
            " WHERE athlete_id = ?",
            mine,
        ).fetchone()
        days = db.execute(
            "SELECT min(local_date) AS first, max(local_date) AS last FROM activities_local"
            " WHERE athlete_id = ?",
            mine,
        ).fetchone()
        first, last = days["first"], days["last"]
        return StoreOverview(
            activities=int(counts["activities"]),
            copies=int(counts["copies"]),
            files=int(
                db.execute("SELECT count(*) AS n FROM files WHERE athlete_id = ?", mine).fetchone()[
                    "n"
                ]
            ),
            by_category={
                r["category"]: int(r["n"])
                for r in db.execute(
                    "SELECT category, count(*) AS n FROM activities WHERE athlete_id = ?"
                    " AND primary_id IS NULL GROUP BY category ORDER BY count(*) DESC, category",
                    mine,
                )
            },
            by_source={
                r["source"]: int(r["n"])
                for r in db.execute(
                    "SELECT source, count(*) AS n FROM activities WHERE athlete_id = ?"
                    " GROUP BY source ORDER BY count(*) DESC, source",
                    mine,
                )
            },
            first_day=date.fromisoformat(first) if first else None,
            last_day=date.fromisoformat(last) if last else None,
            wellness=() if self._body is None else tuple(self._body.wellness_sources()),
        )

    def forget_targets(
        self, ids: Sequence[int] = (), files: Sequence[tuple[Path | str, str | None]] = ()
    ) -> tuple[list[ForgetTarget], list[str]]:
        """The activities ``forget`` would remove: those with these ids (a copy's id names
        its whole activity), or imported from these files, each given as (path, content
        hash or None): by stored path, or by hash for a file renamed since. Returns them,
        oldest first, and the ids and paths that matched nothing."""
        db = self._db
        wanted: set[int] = set()
        unknown: list[str] = []
        for activity_id in ids:
            row = db.execute(
                "SELECT coalesce(primary_id, id) AS record FROM activities"
                " WHERE athlete_id = ? AND id = ?",
                (self._athlete, activity_id),
            ).fetchone()
            if row is None:
                unknown.append(str(activity_id))
            else:
                wanted.add(int(row["record"]))
        for path, sha in files:
            rows = db.execute(
                "SELECT DISTINCT coalesce(primary_id, id) AS record FROM activities"
                " WHERE athlete_id = ? AND (source_path = ? OR file_sha256 = ?)",
                (self._athlete, _stored_path(path), sha),
            ).fetchall()
            if not rows:
                unknown.append(str(path))
            wanted.update(int(r["record"]) for r in rows)
        targets = []
        for primary in sorted(wanted):
            records = db.execute(
                "SELECT id, source, start_utc, utc_offset_s, category FROM activities"
                " WHERE athlete_id = ? AND (id = ? OR primary_id = ?)"
                " ORDER BY primary_id IS NOT NULL, id",
                (self._athlete, primary, primary),
            ).fetchall()
            first = records[0]
            start = _parse_ts(first["start_utc"]) + timedelta(seconds=int(first["utc_offset_s"]))
            targets.append(
                ForgetTarget(
                    id=primary,
                    start_local=start.replace(tzinfo=None),
                    category=str(first["category"]),
                    records=tuple(int(r["id"]) for r in records),
                    sources=tuple(dict.fromkeys(str(r["source"]) for r in records)),
                )
            )
        targets.sort(key=lambda t: (t.start_local, t.id))
        return targets, unknown

    def forget(self, targets: Sequence[ForgetTarget]) -> tuple[int, int]:
        """Remove these activities with every copy, sample, set and derived figure, and
        the record of each file that no longer backs any activity or wellness row (so
        importing it again brings it back). Returns (records removed, file records removed)."""
        records = [i for t in targets for i in t.records]
        if not records:
            return 0, 0
        marks = ",".join("?" * len(records))
        athlete = self._athlete_to_write
        with self._write() as db:
            hashes = [
                r["file_sha256"]
                for r in db.execute(
                    f"SELECT DISTINCT file_sha256 FROM activities WHERE athlete_id = ?"
                    f" AND id IN ({marks}) AND file_sha256 IS NOT NULL",
                    (athlete, *records),
                )
            ]
            removed = db.execute(
                f"DELETE FROM activities WHERE athlete_id = ? AND id IN ({marks})",
                (athlete, *records),
            ).rowcount
            files = 0
            for sha in hashes:
                files += db.execute(
                    "DELETE FROM files WHERE athlete_id = ? AND sha256 = ? AND NOT EXISTS"
                    " (SELECT 1 FROM activities WHERE athlete_id = ? AND file_sha256 = ?)"
                    " AND NOT EXISTS (SELECT 1 FROM wellness_files WHERE athlete_id = ?"
                    " AND file_sha256 = ?)",
                    (athlete, sha, athlete, sha, athlete, sha),
                ).rowcount
        return int(removed), files
