"""What a store holds (``heavylegs info``) and removing activities and wellness files
(``heavylegs forget``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from heavylegs_sync.model import WellnessSource
from heavylegs_sync.store.connection import Part
from heavylegs_sync.store.rows import Row, _parse_ts, _stored_path


@dataclass(frozen=True)
class WellnessSpan:
    """What one source holds: how many days, the first and the last."""

    source: WellnessSource
    days: int
    first: date
    last: date


@dataclass(frozen=True)
class WellnessFile:
    """A wellness file ``forget`` would take out: the rows (day, source) it filled, and
    the other files that filled some of them too (their values go with the rows)."""

    sha256: str
    path: str  # as stored
    days: tuple[tuple[date, WellnessSource], ...]
    shared_with: tuple[tuple[str, str], ...]  # (hash, path) of each other file
    shared: tuple[str, ...] = ()  # their paths, less the files forgotten alongside


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
    """Counting and forgetting: activities, files and wellness rows."""

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
            wellness=tuple(self.wellness_sources()),
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

    def wellness_sources(self) -> list[WellnessSpan]:
        """How many days each source holds, and its first and last day (``info``)."""
        return [
            WellnessSpan(
                WellnessSource(str(r["source"])),
                int(r["days"]),
                date.fromisoformat(str(r["first"])),
                date.fromisoformat(str(r["last"])),
            )
            for r in self._db.execute(
                "SELECT source, count(*) AS days, min(day) AS first, max(day) AS last"
                " FROM wellness WHERE athlete_id = ? GROUP BY source ORDER BY source",
                (self._athlete,),
            )
        ]

    def wellness_of_files(
        self, files: Sequence[tuple[Path | str, str | None]]
    ) -> tuple[list[WellnessFile], list[str]]:
        """The wellness files ``forget`` would take out: each given as (path, content hash
        or None), found by stored path, by hash (a file renamed since), or as an archive
        whose members they were (``export.zip`` names ``export.zip!DI_CONNECT/...``).
        Returns them with the rows each filled, and the paths that matched none."""
        db = self._db
        found: dict[str, WellnessFile] = {}
        unknown: list[str] = []
        for path, sha in files:
            stored = _stored_path(path)
            member = stored + "!"
            rows = db.execute(
                "SELECT sha256, path FROM files WHERE athlete_id = ? AND (path = ? OR sha256 = ?"
                " OR substr(path, 1, ?) = ?) AND EXISTS (SELECT 1 FROM wellness_files w"
                " WHERE w.athlete_id = files.athlete_id AND w.file_sha256 = files.sha256)"
                " ORDER BY path",
                (self._athlete, stored, sha, len(member), member),
            ).fetchall()
            if not rows:
                unknown.append(str(path))
            for row in rows:
                found.setdefault(str(row["sha256"]), self._filled(row))
        chosen = set(found)
        plans = [
            replace(f, shared=tuple(p for s, p in f.shared_with if s not in chosen))
            for f in found.values()
        ]
        return sorted(plans, key=lambda f: f.path), unknown

    def _filled(self, row: Row) -> WellnessFile:
        sha = str(row["sha256"])
        days = tuple(
            (date.fromisoformat(str(r["day"])), WellnessSource(str(r["source"])))
            for r in self._db.execute(
                "SELECT day, source FROM wellness_files WHERE athlete_id = ? AND file_sha256 = ?"
                " ORDER BY day, source",
                (self._athlete, sha),
            )
        )
        shared = tuple(
            (str(r["sha256"]), str(r["path"]))
            for r in self._db.execute(
                "SELECT DISTINCT f.sha256, f.path FROM wellness_files mine"
                " JOIN wellness_files other ON other.athlete_id = mine.athlete_id"
                " AND other.day = mine.day AND other.source = mine.source"
                " AND other.file_sha256 <> mine.file_sha256"
                " JOIN files f ON f.athlete_id = mine.athlete_id AND f.sha256 = other.file_sha256"
                " WHERE mine.athlete_id = ? AND mine.file_sha256 = ? ORDER BY f.path",
                (self._athlete, sha),
            )
        )
        return WellnessFile(sha, str(row["path"]), days, shared, tuple(p for _, p in shared))

    def forget_wellness(self, files: Sequence[WellnessFile]) -> tuple[int, int]:
        """Remove every row these files filled, and their file records; the record of each
        other file that filled one of those rows goes too (its values went with the row:
        importing it again brings them back). Returns (rows removed, file records removed)."""
        if not files:
            return 0, 0
        rows = 0
        hashes = {f.sha256 for f in files} | {s for f in files for s, _ in f.shared_with}
        athlete = self._athlete_to_write
        with self._write() as db:
            for file in files:
                for day, source in file.days:
                    key = (athlete, day.isoformat(), source.value)
                    rows += db.execute(
                        "DELETE FROM wellness WHERE athlete_id = ? AND day = ? AND source = ?", key
                    ).rowcount
                    db.execute(
                        "DELETE FROM wellness_files WHERE athlete_id = ? AND day = ?"
                        " AND source = ?",
                        key,
                    )
            removed = 0
            for sha in sorted(hashes):
                removed += db.execute(
                    "DELETE FROM files WHERE athlete_id = ? AND sha256 = ? AND NOT EXISTS"
                    " (SELECT 1 FROM activities WHERE athlete_id = ? AND file_sha256 = ?)",
                    (athlete, sha, athlete, sha),
                ).rowcount
        return int(rows), removed
