"""Files imported before (by content) and the import log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from heavylegs_sync.store.connection import Db, Part
from heavylegs_sync.store.rows import _now, _parse_ts, _stored_path


@dataclass(frozen=True)
class StoredFile:
    """What the store knows of a file it has imported before."""

    sha256: str
    path: str
    activities: int


@dataclass(frozen=True)
class LogEntry:
    """One row of the import log."""

    at: datetime
    path: str
    sha256: str | None
    outcome: str
    activities: int
    message: str | None


@dataclass(frozen=True)
class FileOutcome:
    """What storing one file's activities did."""

    new_ids: tuple[int, ...]
    duplicates: int
    wellness: int = 0  # day-and-source wellness rows written


class Files(Part):
    """Which files were imported, and what became of every attempt."""

    def known_file(self, sha256: str) -> StoredFile | None:
        """The earlier import of a file with this content, if any."""
        row = self._db.execute(
            "SELECT sha256, path, activities FROM files WHERE athlete_id = ? AND sha256 = ?",
            (self._athlete, sha256),
        ).fetchone()
        if row is None:
            return None
        return StoredFile(row["sha256"], row["path"], int(row["activities"]))

    def log(
        self,
        path: Path | str,
        sha256: str | None,
        outcome: str,
        message: str | None = None,
        activities: int = 0,
    ) -> None:
        """Record one attempt to import a file."""
        with self._write() as db:
            self.add_log(db, _stored_path(path), sha256, outcome, message, activities)

    def add_log(
        self,
        db: Db,
        stored_path: str,
        sha256: str | None,
        outcome: str,
        message: str | None,
        activities: int,
    ) -> None:
        """One import_log row, inside the caller's transaction ``db``; ``stored_path`` as
        :func:`_stored_path` gives it."""
        db.execute(
            "INSERT INTO import_log (athlete_id, at, path, sha256, outcome, activities,"
            " message) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self._athlete_to_write, _now(), stored_path, sha256, outcome, activities, message),
        )

    def failure_of(self, sha256: str) -> str | None:
        """Why content with this hash failed to import (or was skipped as no activity), if
        it did and never succeeded."""
        if self.known_file(sha256) is not None:
            return None
        row = self._db.execute(
            "SELECT message FROM import_log WHERE athlete_id = ? AND sha256 = ?"
            " AND outcome IN ('failed', 'skipped') ORDER BY id DESC LIMIT 1",
            (self._athlete, sha256),
        ).fetchone()
        return None if row is None else str(row["message"] or "failed")

    def import_log(self, limit: int | None = None) -> list[LogEntry]:
        """The import log, newest first."""
        sql = (
            "SELECT at, path, sha256, outcome, activities, message FROM import_log"
            " WHERE athlete_id = ? ORDER BY id DESC"
        )
        params: tuple[int, ...] = (self._athlete,)
        if limit is not None:
            sql += " LIMIT ?"
            params = (self._athlete, limit)
        return [
            LogEntry(
                at=_parse_ts(r["at"]),
                path=r["path"],
                sha256=r["sha256"],
                outcome=r["outcome"],
                activities=int(r["activities"]),
                message=r["message"],
            )
            for r in self._db.execute(sql, params)
        ]
