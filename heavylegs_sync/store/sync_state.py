"""Key/value state and the Strava queue: what a sync needs to resume where it stopped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from heavylegs_sync.model import (
    Activity,
)
from heavylegs_sync.store.activities import Activities
from heavylegs_sync.store.connection import Connection, Db, Part
from heavylegs_sync.store.files import Files
from heavylegs_sync.store.rows import _format_ts, _now


class SyncState(Part):
    """Sync cursors, the queue of Strava activities to fetch, purging a source."""

    def __init__(self, connection: Connection, files: Files, activities: Activities) -> None:
        super().__init__(connection)
        self._files = files
        self._activities = activities

    def _log(
        self,
        db: Db,
        stored_path: str,
        sha256: str | None,
        outcome: str,
        message: str | None,
        activities: int,
    ) -> None:
        """One import_log row inside the transaction ``db`` (see :meth:`Files.add_log`)."""
        self._files.add_log(db, stored_path, sha256, outcome, message, activities)

    def get_state(self, key: str) -> str | None:
        """A value saved with :meth:`set_state`."""
        row = self._db.execute(
            "SELECT value FROM state WHERE athlete_id = ? AND key = ?", (self._athlete, key)
        ).fetchone()
        return None if row is None else str(row["value"])

    def squad_state(self, key: str) -> dict[int, str]:
        """Every athlete's value of ``key``, by athlete id (the coach's view)."""
        rows = self._db.execute("SELECT athlete_id, value FROM state WHERE key = ?", (key,))
        return {int(r["athlete_id"]): str(r["value"]) for r in rows}

    def set_state(self, key: str, value: str) -> None:
        """Save a small value (a sync cursor, the athlete's zones)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO state (athlete_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (athlete_id, key) DO UPDATE SET value = excluded.value",
                (self._athlete_to_write, key, value),
            )

    def queue_strava(self, summaries: Sequence[tuple[int, datetime, str]], cursor: str) -> int:
        """Queue activities listed by Strava and move the listing cursor, atomically.

        Activities already stored from Strava are not queued again, nor those refused as
        impossible while Strava lists them unchanged. Returns how many were newly queued.
        """
        queued = 0
        athlete = self._athlete_to_write
        with self._write() as db:
            for strava_id, start, summary in summaries:
                known = (
                    db.execute(
                        "SELECT 1 FROM activities WHERE athlete_id = ? AND source = 'strava'"
                        " AND source_id = ?",
                        (athlete, str(strava_id)),
                    ).fetchone()
                    or db.execute(
                        "SELECT 1 FROM import_log WHERE athlete_id = ?"
                        " AND path = ? AND sha256 = ? AND outcome = 'failed'",
                        (athlete, _strava_ref(strava_id), _summary_hash(summary)),
                    ).fetchone()
                )
                if known:
                    continue
                cursor_obj = db.execute(
                    "INSERT INTO strava_queue (athlete_id, strava_id, start_utc, summary,"
                    " queued_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (athlete_id, strava_id) DO NOTHING",
                    (athlete, strava_id, _format_ts(start), summary, _now()),
                )
                queued += cursor_obj.rowcount
            db.execute(
                "INSERT INTO state (athlete_id, key, value) VALUES (?, 'strava.after', ?) "
                "ON CONFLICT (athlete_id, key) DO UPDATE SET value = excluded.value",
                (athlete, cursor),
            )
        return queued

    def strava_queue(self, limit: int | None = None) -> list[tuple[int, str]]:
        """Queued Strava activities (id, summary JSON), oldest first."""
        sql = (
            "SELECT strava_id, summary FROM strava_queue WHERE athlete_id = ?"
            " ORDER BY start_utc, strava_id"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [
            (int(r["strava_id"]), str(r["summary"]))
            for r in self._db.execute(sql, (self._athlete,))
        ]

    def strava_queue_size(self) -> int:
        """How many Strava activities wait to be fetched."""
        return int(
            self._db.execute(
                "SELECT count(*) AS n FROM strava_queue WHERE athlete_id = ?", (self._athlete,)
            ).fetchone()["n"]
        )

    def strava_refused(self, strava_id: int, summary: str) -> bool:
        """Whether this activity was refused already, with Strava's summary unchanged."""
        row = self._db.execute(
            "SELECT 1 FROM import_log WHERE athlete_id = ? AND path = ? AND sha256 = ?"
            " AND outcome = 'failed'",
            (self._athlete, _strava_ref(strava_id), _summary_hash(summary)),
        ).fetchone()
        return row is not None

    def refuse_strava(self, strava_id: int, summary: str, reason: str) -> None:
        """Take an activity no body or device could have done off the queue, and log why
        (``strava:<id>`` in the import log); it is queued again only if Strava's summary
        of it changes (the athlete corrected it)."""
        with self._write() as db:
            db.execute(
                "DELETE FROM strava_queue WHERE athlete_id = ? AND strava_id = ?",
                (self._athlete_to_write, strava_id),
            )
            self._log(db, _strava_ref(strava_id), _summary_hash(summary), "failed", reason, 0)

    def add_strava(self, strava_id: int, activity: Activity, raw_json: str) -> int | None:
        """Store one fetched Strava activity and take it off the queue, atomically."""
        with self._write() as db:
            new_id = self._activities.insert(db, activity, None, None)
            if new_id is not None:
                db.execute(
                    "INSERT INTO strava_json (activity_id, raw_json) VALUES (?, ?)"
                    " ON CONFLICT (activity_id) DO UPDATE SET raw_json = excluded.raw_json",
                    (new_id, raw_json),
                )
            db.execute(
                "DELETE FROM strava_queue WHERE athlete_id = ? AND strava_id = ?",
                (self._athlete_to_write, strava_id),
            )
        return new_id

    def purge_source(self, source: str) -> int:
        """Delete every activity of one source (and what hangs off it) that came from its
        API: rows of a data export you imported as a file (a Strava export's list) stay."""
        where = "athlete_id = ? AND source = ? AND file_sha256 IS NULL"
        athlete = self._athlete_to_write
        with self._write() as db:
            ids = [
                r["id"]
                for r in db.execute(f"SELECT id FROM activities WHERE {where}", (athlete, source))
            ]
            db.execute(
                "UPDATE activities SET primary_id = NULL WHERE primary_id IN "
                f"(SELECT id FROM activities WHERE {where})",
                (athlete, source),
            )
            db.execute(f"DELETE FROM activities WHERE {where}", (athlete, source))
            if source == "strava":
                db.execute("DELETE FROM strava_queue WHERE athlete_id = ?", (athlete,))
                db.execute(
                    "DELETE FROM state WHERE athlete_id = ? AND key LIKE 'strava.%'", (athlete,)
                )
        return len(ids)


def _strava_ref(strava_id: int) -> str:
    """How the import log names a Strava activity."""
    return f"strava:{strava_id}"


def _summary_hash(summary: str) -> str:
    import hashlib  # here, not at the top: reading commands never hash (issue 23)

    return hashlib.sha256(summary.encode()).hexdigest()
