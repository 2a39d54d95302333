"""The SQLite activity store: schema, migrations, upserts. The only module that writes SQL.

The folder watcher, the nightly Strava sync and a manual import may all write at once, so
the database runs in WAL mode with a busy timeout and every write is one short
``BEGIN IMMEDIATE`` transaction: a file's activities land completely or not at all.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from heavylegs_sync import matching
from heavylegs_sync.categories import sport_name
from heavylegs_sync.codec import CodecError, decode_samples, encode_samples
from heavylegs_sync.errors import StoreError
from heavylegs_sync.model import (
    Activity,
    Category,
    HrSettings,
    OffsetSource,
    Samples,
    StrengthSet,
)

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
log = logging.getLogger("heavylegs.store")
_NOTE_SEP = "; "

#: Forward migrations; schema version N is reached by running the first N scripts.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE activities (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        file_sha256 TEXT,
        source_path TEXT,
        sport TEXT,
        sub_sport TEXT,
        category TEXT NOT NULL,
        sport_inferred INTEGER NOT NULL DEFAULT 0,
        start_utc TEXT NOT NULL,
        utc_offset_s INTEGER NOT NULL,
        offset_source TEXT NOT NULL,
        timer_s REAL,
        elapsed_s REAL,
        distance_m REAL,
        avg_hr REAL,
        max_hr REAL,
        name TEXT,
        device TEXT,
        primary_id INTEGER REFERENCES activities(id) ON DELETE SET NULL,
        imported_at TEXT NOT NULL,
        UNIQUE (source, source_id)
    );
    CREATE INDEX activities_start ON activities (start_utc);
    CREATE INDEX activities_file ON activities (file_sha256);
    CREATE TABLE samples (
        activity_id INTEGER PRIMARY KEY REFERENCES activities(id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    CREATE TABLE strength_sets (
        activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        category TEXT,
        reps INTEGER,
        weight_kg REAL,
        duration_s REAL,
        PRIMARY KEY (activity_id, idx)
    );
    CREATE TABLE files (
        sha256 TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        activities INTEGER NOT NULL,
        imported_at TEXT NOT NULL
    );
    CREATE TABLE import_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('new', 'duplicate', 'failed')),
        activities INTEGER NOT NULL DEFAULT 0,
        message TEXT
    );
    CREATE INDEX import_log_path ON import_log (path);
    CREATE INDEX import_log_sha ON import_log (sha256);
    """,
    """
    ALTER TABLE activities ADD COLUMN raw_json TEXT;
    CREATE INDEX activities_primary ON activities (primary_id);
    CREATE TABLE state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE strava_queue (
        strava_id INTEGER PRIMARY KEY,
        start_utc TEXT NOT NULL,
        summary TEXT NOT NULL,
        queued_at TEXT NOT NULL
    );
    CREATE TABLE derived (
        activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (activity_id, kind)
    );
    """,
    """
    ALTER TABLE activities ADD COLUMN hr_coverage REAL;
    ALTER TABLE activities ADD COLUMN points_dropped INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE activities ADD COLUMN watch_max_hr REAL;
    ALTER TABLE activities ADD COLUMN watch_lthr REAL;
    ALTER TABLE activities ADD COLUMN watch_resting_hr REAL;
    ALTER TABLE activities ADD COLUMN watch_zone_method TEXT;
    ALTER TABLE activities ADD COLUMN watch_age REAL;
    """,
    # 4: one sport vocabulary (raw value kept), local-time views for other tools.
    # heavylegs_sport_name() is categories.sport_name, registered on every connection.
    """
    ALTER TABLE activities ADD COLUMN sport_raw TEXT;
    UPDATE activities SET sport_raw = sport, sport = heavylegs_sport_name(sport, sub_sport)
        WHERE sport IS NOT NULL;
    CREATE VIEW activities_local AS
    SELECT id, local_date, local_time, weekday,
        strftime('%Y', date(week_start, '+3 days')) || '-W'
            || printf('%02d', (strftime('%j', date(week_start, '+3 days')) - 1) / 7 + 1)
            AS iso_week,
        week_start, category, sport, sport_raw, sub_sport, duration_s, distance_m,
        avg_hr, max_hr, sources, name, start_utc, utc_offset, source_path
    FROM (
        SELECT *, date(local_date, '-' || ((strftime('%w', local_date) + 6) % 7) || ' days')
            AS week_start
        FROM (
            SELECT a.id,
                date(a.start_utc, a.utc_offset_s || ' seconds') AS local_date,
                strftime('%H:%M:%S', a.start_utc, a.utc_offset_s || ' seconds') AS local_time,
                substr('SunMonTueWedThuFriSat',
                    1 + 3 * strftime('%w', a.start_utc, a.utc_offset_s || ' seconds'), 3)
                    AS weekday,
                a.category, a.sport, a.sport_raw, a.sub_sport,
                coalesce(a.timer_s, a.elapsed_s) AS duration_s, a.distance_m,
                a.avg_hr, a.max_hr,
                a.source || coalesce((SELECT ',' || group_concat(DISTINCT s.source)
                    FROM activities s WHERE s.primary_id = a.id AND s.source != a.source), '')
                    AS sources,
                a.name, a.start_utc,
                CASE WHEN a.utc_offset_s < 0 THEN '-' ELSE '+' END
                    || printf('%02d:%02d', abs(a.utc_offset_s) / 3600,
                        abs(a.utc_offset_s) % 3600 / 60) AS utc_offset,
                a.source_path
            FROM activities a
            WHERE a.primary_id IS NULL
        )
    );
    CREATE VIEW weekly AS
    WITH RECURSIVE weeks(week_start) AS (
        SELECT min(week_start) FROM activities_local
        UNION ALL
        SELECT date(week_start, '+7 days') FROM weeks
        WHERE week_start < (SELECT max(week_start) FROM activities_local)
    ),
    figures AS (
        SELECT week_start,
            count(*) AS activities,
            sum(category = 'run') AS runs,
            sum(CASE WHEN category = 'run' THEN coalesce(duration_s, 0) ELSE 0 END)
                AS run_seconds,
            sum(CASE WHEN category = 'run' THEN coalesce(distance_m, 0) ELSE 0 END)
                AS run_distance_m,
            sum(category = 'strength') AS strength_sessions,
            sum(category = 'cross') AS cross_sessions,
            count(DISTINCT CASE WHEN category != 'light' THEN local_date END) AS training_days
        FROM activities_local
        GROUP BY week_start
    )
    SELECT w.week_start,
        strftime('%Y', date(w.week_start, '+3 days')) || '-W'
            || printf('%02d', (strftime('%j', date(w.week_start, '+3 days')) - 1) / 7 + 1)
            AS iso_week,
        coalesce(f.activities, 0) AS activities,
        coalesce(f.runs, 0) AS runs,
        coalesce(f.run_seconds, 0) AS run_seconds,
        round(coalesce(f.run_distance_m, 0) / 1000.0, 2) AS run_km,
        coalesce(f.run_distance_m, 0) AS run_distance_m,
        coalesce(f.strength_sessions, 0) AS strength_sessions,
        coalesce(f.cross_sessions, 0) AS cross_sessions,
        coalesce(f.training_days, 0) AS training_days,
        max(0, min(7, CAST(julianday(date('now', 'localtime')) - julianday(w.week_start) AS INTEGER)
            + 1) - coalesce(f.training_days, 0)) AS rest_days
    FROM weeks w LEFT JOIN figures f ON f.week_start = w.week_start
    WHERE w.week_start IS NOT NULL
    ORDER BY w.week_start;
    """,
    # 5: what is not whole about a record (a truncated file, dropped values).
    """
    ALTER TABLE activities ADD COLUMN notes TEXT;
    """,
    # 6: what a Strava export's list says of an activity (on the row's own record), and
    # files that hold no activity logged as skipped, not failed.
    """
    ALTER TABLE activities ADD COLUMN perceived_exertion REAL;
    ALTER TABLE activities ADD COLUMN relative_effort REAL;
    ALTER TABLE activities ADD COLUMN weight_lifted_kg REAL;
    CREATE TABLE import_log_6 (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('new', 'duplicate', 'skipped', 'failed')),
        activities INTEGER NOT NULL DEFAULT 0,
        message TEXT
    );
    INSERT INTO import_log_6 (id, at, path, sha256, outcome, activities, message)
        SELECT id, at, path, sha256,
            CASE WHEN outcome = 'failed' AND message LIKE 'not an activity file%'
                THEN 'skipped' ELSE outcome END,
            activities, message
        FROM import_log;
    DROP TABLE import_log;
    ALTER TABLE import_log_6 RENAME TO import_log;
    CREATE INDEX import_log_path ON import_log (path);
    CREATE INDEX import_log_sha ON import_log (sha256);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


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
class StoreOverview:
    """What a store holds, in counts (``heavylegs info``)."""

    activities: int  # one per activity: secondary copies are counted in ``copies``
    copies: int  # the same activity again from another source, linked to its primary
    files: int
    by_category: dict[str, int]  # activities
    by_source: dict[str, int]  # every stored record, copies included
    first_day: date | None  # local days of the first and last activity
    last_day: date | None


@dataclass(frozen=True)
class ForgetTarget:
    """One activity ``forget`` would remove, with every stored copy of it."""

    id: int  # the primary record's id, as ``heavylegs activities`` shows it
    start_local: datetime
    category: str
    records: tuple[int, ...]  # the primary and its copies
    sources: tuple[str, ...]


@dataclass(frozen=True)
class FileOutcome:
    """What storing one file's activities did."""

    new_ids: tuple[int, ...]
    duplicates: int


class Store:
    """One SQLite file. Open it with :meth:`open`; use it as a context manager."""

    def __init__(
        self, connection: sqlite3.Connection, path: Path, *, read_only: bool = False
    ) -> None:
        self._db = connection
        self.path = path
        #: Opened with ``read_only``: figures worth keeping are held, see unsaved_derived.
        self.read_only = read_only
        self._unsaved: dict[str, dict[int, str]] = {}

    @classmethod
    def open(
        cls, path: Path | str, *, busy_timeout_s: float = 60.0, read_only: bool = False
    ) -> Store:
        """Open (creating if needed) and migrate the store at ``path``.

        ``read_only`` is for commands that only look: the file must exist and already be
        at this version's schema; nothing is created, migrated or written (SQLite's
        ``mode=ro``), so looking never changes a store another version still uses.
        """
        db_path = Path(path)
        if read_only:
            return cls._open_read_only(db_path, busy_timeout_s)
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                db_path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{db_path}: cannot open the store: {exc}") from exc
        store = cls(connection, db_path)
        try:
            _register_functions(connection)
            connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{db_path}: cannot switch the store to WAL mode (got {mode})")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA synchronous = NORMAL")
            store._migrate()
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise StoreError(f"{db_path}: not a usable heavylegs store: {exc}") from exc
        except StoreError:
            connection.close()
            raise
        return store

    @classmethod
    def _open_read_only(cls, db_path: Path, busy_timeout_s: float) -> Store:
        if not db_path.is_file():
            raise StoreError(
                f"{db_path}: no store here yet (import activities first: heavylegs import ...)"
            )
        uri = f"file:{quote(str(db_path.absolute()))}?mode=ro"
        try:
            connection = sqlite3.connect(
                uri, uri=True, timeout=busy_timeout_s, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
        except sqlite3.Error as exc:
            raise StoreError(f"{db_path}: cannot open the store: {exc}") from exc
        store = cls(connection, db_path, read_only=True)
        try:
            _register_functions(connection)
            connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            version = store.schema_version()
            if version == 0:
                raise StoreError(f"{db_path}: not a heavylegs store (no schema)")
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{db_path}: written by a newer heavylegs (schema {version}, "
                    f"this one knows {SCHEMA_VERSION}); upgrade heavylegs"
                )
            if version < SCHEMA_VERSION:
                raise StoreError(
                    f"{db_path}: the store has an older schema ({version}, this heavylegs "
                    f"uses {SCHEMA_VERSION}) and this command only reads; upgrade it by running"
                    " a command that writes once (heavylegs import, strava sync or watch)"
                )
            store.count()  # reads a table: a file that is not SQLite fails here
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise StoreError(f"{db_path}: not a usable heavylegs store: {exc}") from exc
        except StoreError:
            connection.close()
            raise
        return store

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front so concurrent writers queue, not deadlock."""
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only, cannot write")
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: the store is busy: {exc}") from exc
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: cannot commit: {exc}") from exc

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer heavylegs (schema {version}, "
                f"this one knows {SCHEMA_VERSION}); upgrade heavylegs"
            )
        if version == SCHEMA_VERSION:
            return
        with self._write() as db:
            # Another process may have migrated while we waited for the lock.
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    def schema_version(self) -> int:
        """The schema version recorded in the file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # -- files and the import log -------------------------------------------------

    def known_file(self, sha256: str) -> StoredFile | None:
        """The earlier import of a file with this content, if any."""
        row = self._db.execute(
            "SELECT sha256, path, activities FROM files WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return None if row is None else StoredFile(row[0], row[1], int(row[2]))

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
            self._log(db, path, sha256, outcome, message, activities)

    def _log(
        self,
        db: sqlite3.Connection,
        path: Path | str,
        sha256: str | None,
        outcome: str,
        message: str | None,
        activities: int,
    ) -> None:
        db.execute(
            "INSERT INTO import_log (at, path, sha256, outcome, activities, message) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_now(), _stored_path(path), sha256, outcome, activities, message),
        )

    def failure_of(self, sha256: str) -> str | None:
        """Why content with this hash failed to import (or was skipped as no activity), if
        it did and never succeeded."""
        if self.known_file(sha256) is not None:
            return None
        row = self._db.execute(
            "SELECT message FROM import_log WHERE sha256 = ? AND outcome IN ('failed', 'skipped') "
            "ORDER BY id DESC LIMIT 1",
            (sha256,),
        ).fetchone()
        return None if row is None else str(row[0] or "failed")

    def import_log(self, limit: int | None = None) -> list[LogEntry]:
        """The import log, newest first."""
        sql = (
            "SELECT at, path, sha256, outcome, activities, message FROM import_log ORDER BY id DESC"
        )
        params: tuple[int, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        return [
            LogEntry(_parse_ts(r[0]), r[1], r[2], r[3], int(r[4]), r[5])
            for r in self._db.execute(sql, params)
        ]

    # -- activities ---------------------------------------------------------------

    def add_file(
        self, path: Path | str, sha256: str, size: int, activities: Sequence[Activity]
    ) -> FileOutcome:
        """Store one file's activities and log it, all in one transaction.

        An activity whose (source, source_id) is already stored counts as a duplicate and
        changes nothing, so a re-saved or renamed copy of a file adds nothing.
        """
        new_ids: list[int] = []
        duplicates = 0
        with self._write() as db:
            for activity in activities:
                activity_id = self._insert_activity(db, activity, sha256, _stored_path(path))
                if activity_id is None:
                    duplicates += 1
                else:
                    new_ids.append(activity_id)
            db.execute(
                "INSERT OR IGNORE INTO files (sha256, path, size, activities, imported_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (sha256, _stored_path(path), size, len(activities), _now()),
            )
            outcome = "new" if new_ids else "duplicate"
            message = None if new_ids else "already imported"
            self._log(db, path, sha256, outcome, message, len(new_ids))
        return FileOutcome(tuple(new_ids), duplicates)

    def add_activity(self, activity: Activity) -> int | None:
        """Store one activity that came without a file (e.g. from an API); None if known."""
        with self._write() as db:
            return self._insert_activity(db, activity, activity.file_sha256, None)

    def _insert_activity(
        self, db: sqlite3.Connection, a: Activity, sha256: str | None, path: str | None
    ) -> int | None:
        cursor = db.execute(
            "INSERT OR IGNORE INTO activities (source, source_id, file_sha256, source_path, "
            "sport, sport_raw, sub_sport, category, sport_inferred, start_utc, utc_offset_s, "
            "offset_source, timer_s, elapsed_s, distance_m, avg_hr, max_hr, name, device, "
            "imported_at, hr_coverage, points_dropped, watch_max_hr, watch_lthr, "
            "watch_resting_hr, watch_zone_method, watch_age, notes, perceived_exertion, "
            f"relative_effort, weight_lifted_kg) VALUES ({', '.join('?' * 31)})",
            (
                a.source,
                a.source_id,
                sha256,
                path,
                sport_name(a.sport, a.sub_sport),  # the one vocabulary, whatever the source
                a.sport_raw if a.sport_raw is not None else a.sport,
                a.sub_sport,
                a.category.value,
                int(a.sport_inferred),
                _format_ts(a.start_utc),
                a.utc_offset_s,
                a.offset_source.value,
                a.timer_s,
                a.elapsed_s,
                a.distance_m,
                a.avg_hr,
                a.max_hr,
                a.name,
                a.device,
                _now(),
                a.hr_coverage,
                a.points_dropped,
                *_watch_values(a.hr_settings),
                _NOTE_SEP.join(a.notes) or None,
                *_metadata(a),
            ),
        )
        if cursor.rowcount == 0:
            if any(value is not None for value in _metadata(a)):
                # A later export's list knows what an earlier record did not.
                db.execute(
                    "UPDATE activities SET perceived_exertion = coalesce(perceived_exertion, ?),"
                    " relative_effort = coalesce(relative_effort, ?),"
                    " weight_lifted_kg = coalesce(weight_lifted_kg, ?)"
                    " WHERE source = ? AND source_id = ?",
                    (*_metadata(a), a.source, a.source_id),
                )
            return self._replace_flawed(db, a, sha256, path)
        activity_id = cursor.lastrowid
        assert activity_id is not None
        self._add_details(db, activity_id, a, sha256)
        return activity_id

    def _replace_flawed(
        self, db: sqlite3.Connection, a: Activity, sha256: str | None, path: str | None
    ) -> int | None:
        """When two files claim one activity, the whole one wins over a flawed one.

        A stored record with notes (truncated, values dropped) gives way to a record of
        the same source identity that has none: its values, samples and sets replace
        the stored ones under the same id. Otherwise the first stays (None).
        """
        row = db.execute(
            "SELECT id, notes FROM activities WHERE source = ? AND source_id = ?",
            (a.source, a.source_id),
        ).fetchone()
        if row is None or not row[1] or a.notes:
            return None
        activity_id = int(row[0])
        db.execute(
            "UPDATE activities SET file_sha256 = ?, source_path = ?, sport = ?, sport_raw = ?,"
            " sub_sport = ?, category = ?, sport_inferred = ?, start_utc = ?, utc_offset_s = ?,"
            " offset_source = ?, timer_s = ?, elapsed_s = ?, distance_m = ?, avg_hr = ?,"
            " max_hr = ?, name = ?, device = ?, notes = NULL, imported_at = ?,"
            " hr_coverage = ?, points_dropped = ?, watch_max_hr = ?, watch_lthr = ?,"
            " watch_resting_hr = ?, watch_zone_method = ?, watch_age = ? WHERE id = ?",
            (
                sha256, path, sport_name(a.sport, a.sub_sport),
                a.sport_raw if a.sport_raw is not None else a.sport, a.sub_sport,
                a.category.value, int(a.sport_inferred),
                _format_ts(a.start_utc), a.utc_offset_s, a.offset_source.value, a.timer_s,
                a.elapsed_s, a.distance_m, a.avg_hr, a.max_hr, a.name, a.device, _now(),
                a.hr_coverage, a.points_dropped, *_watch_values(a.hr_settings),
                activity_id,
            ),
        )  # fmt: skip
        for table in ("samples", "strength_sets", "derived"):
            db.execute(f"DELETE FROM {table} WHERE activity_id = ?", (activity_id,))
        self._add_details(db, activity_id, a, sha256, link=False)
        return activity_id

    def _add_details(
        self,
        db: sqlite3.Connection,
        activity_id: int,
        a: Activity,
        sha256: str | None,
        *,
        link: bool = True,
    ) -> None:
        if a.samples is not None and len(a.samples) > 0:
            db.execute(
                "INSERT INTO samples (activity_id, n, data) VALUES (?, ?, ?)",
                (activity_id, len(a.samples), encode_samples(a.samples)),
            )
        if link:
            self._link_same_activity(db, activity_id, a, sha256)
        db.executemany(
            "INSERT INTO strength_sets (activity_id, idx, category, reps, weight_kg, duration_s)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(activity_id, s.index, s.category, s.reps, s.weight_kg, s.duration_s) for s in a.sets],
        )

    def _link_same_activity(
        self, db: sqlite3.Connection, new_id: int, a: Activity, sha256: str | None
    ) -> None:
        """Link a new record to an already stored copy of the same activity.

        :mod:`heavylegs_sync.matching` decides which records are one activity. The richer
        record stays primary and the other points to it, so the analysis counts the
        activity once and ``activities`` lists every source; the record whose clock came
        from the device decides the time.
        """
        margin = timedelta(seconds=matching.MAX_SHIFT_S + matching.MATCH_START_S)
        rows = db.execute(
            "SELECT a.id, a.source, a.start_utc, a.elapsed_s, a.timer_s, a.distance_m, "
            "a.offset_source, coalesce(s.n, 0), a.avg_hr IS NOT NULL, a.device "
            "FROM activities a LEFT JOIN samples s ON s.activity_id = a.id "
            "WHERE a.primary_id IS NULL AND a.id != ? "
            "AND a.start_utc BETWEEN ? AND ? AND coalesce(a.file_sha256, '') != ? "
            "ORDER BY abs(julianday(a.start_utc) - julianday(?))",
            (
                new_id,
                _format_ts(a.start_utc - margin),
                _format_ts(a.start_utc + margin),
                sha256 or "-",
                _format_ts(a.start_utc),
            ),
        ).fetchall()
        for row in rows:
            other = matching.Candidate(
                id=int(row[0]),
                source=row[1],
                start_utc=_parse_ts(row[2]),
                elapsed_s=row[3],
                timer_s=row[4],
                distance_m=row[5],
                offset_source=OffsetSource(row[6]),
                sample_count=int(row[7]),
                has_hr=bool(row[8]),
                device=row[9],
            )
            if not matching.same_by_time(a, other) and not (
                matching.shifted_start(a, other)
                and matching.same_by_samples(a, other, self.samples(other.id))
            ):
                continue
            new_rank = matching.activity_richness(a)
            old_rank = matching.richness(other.source, other.has_hr, other.sample_count)
            if new_rank > old_rank:
                primary, secondary = new_id, other.id
                db.execute(
                    "UPDATE activities SET primary_id = ? WHERE id = ? OR primary_id = ?",
                    (new_id, other.id, other.id),
                )
            else:
                primary, secondary = other.id, new_id
                db.execute("UPDATE activities SET primary_id = ? WHERE id = ?", (other.id, new_id))
            self._trust_device_clock(db, primary, secondary)
            return

    @staticmethod
    def _trust_device_clock(db: sqlite3.Connection, primary: int, secondary: int) -> None:
        """Give the primary the start and offset of a copy whose clock is more trustworthy."""
        rows = {
            int(r[0]): r
            for r in db.execute(
                "SELECT id, start_utc, utc_offset_s, offset_source, device FROM activities "
                "WHERE id IN (?, ?)",
                (primary, secondary),
            )
        }
        main, other = rows[primary], rows[secondary]
        main_trust = matching.clock_trust(OffsetSource(main[3]), main[4])
        if matching.clock_trust(OffsetSource(other[3]), other[4]) <= main_trust:
            return
        db.execute(
            "UPDATE activities SET start_utc = ?, utc_offset_s = ?, offset_source = ? WHERE id = ?",
            (other[1], other[2], other[3], primary),
        )

    # -- derived figures (recomputable from samples, kept so reports need not) -------

    def derived(self, kind: str, ids: Sequence[int]) -> dict[int, str]:
        """Saved figures of one kind (e.g. a zone model's time in zones) by activity id."""
        result: dict[int, str] = {}
        wanted = list(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT activity_id, data FROM derived "
                f"WHERE kind = ? AND activity_id IN ({marks})",
                (kind, *chunk),
            )
            result.update((int(r[0]), str(r[1])) for r in rows)
        held = self._unsaved.get(kind, {})
        result.update((i, held[i]) for i in wanted if i in held)
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
            db.executemany(
                "INSERT INTO derived (activity_id, kind, data) VALUES (?, ?, ?) "
                "ON CONFLICT (activity_id, kind) DO UPDATE SET data = excluded.data",
                [(i, kind, data) for i, data in values.items()],
            )

    # -- key/value state and the Strava queue ---------------------------------------

    def get_state(self, key: str) -> str | None:
        """A value saved with :meth:`set_state`."""
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, key: str, value: str) -> None:
        """Save a small value (a sync cursor, the athlete's zones)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def queue_strava(self, summaries: Sequence[tuple[int, datetime, str]], cursor: str) -> int:
        """Queue activities listed by Strava and move the listing cursor, atomically.

        Activities already stored from Strava are not queued again. Returns how many
        were newly queued.
        """
        queued = 0
        with self._write() as db:
            for strava_id, start, summary in summaries:
                known = db.execute(
                    "SELECT 1 FROM activities WHERE source = 'strava' AND source_id = ?",
                    (str(strava_id),),
                ).fetchone()
                if known:
                    continue
                cursor_obj = db.execute(
                    "INSERT OR IGNORE INTO strava_queue (strava_id, start_utc, summary, queued_at)"
                    " VALUES (?, ?, ?, ?)",
                    (strava_id, _format_ts(start), summary, _now()),
                )
                queued += cursor_obj.rowcount
            db.execute(
                "INSERT INTO state (key, value) VALUES ('strava.after', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (cursor,),
            )
        return queued

    def strava_queue(self, limit: int | None = None) -> list[tuple[int, str]]:
        """Queued Strava activities (id, summary JSON), oldest first."""
        sql = "SELECT strava_id, summary FROM strava_queue ORDER BY start_utc, strava_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [(int(r[0]), str(r[1])) for r in self._db.execute(sql)]

    def strava_queue_size(self) -> int:
        """How many Strava activities wait to be fetched."""
        return int(self._db.execute("SELECT count(*) FROM strava_queue").fetchone()[0])

    def add_strava(self, strava_id: int, activity: Activity, raw_json: str) -> int | None:
        """Store one fetched Strava activity and take it off the queue, atomically."""
        with self._write() as db:
            new_id = self._insert_activity(db, activity, None, None)
            if new_id is not None:
                db.execute("UPDATE activities SET raw_json = ? WHERE id = ?", (raw_json, new_id))
            db.execute("DELETE FROM strava_queue WHERE strava_id = ?", (strava_id,))
        return new_id

    def primary_of(self, activity_id: int) -> int | None:
        """The primary record a secondary copy is linked to, or None."""
        row = self._db.execute(
            "SELECT primary_id FROM activities WHERE id = ?", (activity_id,)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def purge_source(self, source: str) -> int:
        """Delete every activity of one source (and what hangs off it) that came from its
        API: rows of a data export you imported as a file (a Strava export's list) stay."""
        where = "source = ? AND file_sha256 IS NULL"
        with self._write() as db:
            ids = [r[0] for r in db.execute(f"SELECT id FROM activities WHERE {where}", (source,))]
            db.execute(
                "UPDATE activities SET primary_id = NULL WHERE primary_id IN "
                f"(SELECT id FROM activities WHERE {where})",
                (source,),
            )
            db.execute(f"DELETE FROM activities WHERE {where}", (source,))
            if source == "strava":
                db.execute("DELETE FROM strava_queue")
                db.execute("DELETE FROM state WHERE key LIKE 'strava.%'")
        return len(ids)

    def overview(self) -> StoreOverview:
        """Counts for ``heavylegs info``."""
        db = self._db
        primary, copies = db.execute(
            "SELECT count(*) FILTER (WHERE primary_id IS NULL),"
            " count(*) FILTER (WHERE primary_id IS NOT NULL) FROM activities"
        ).fetchone()
        first, last = db.execute(
            "SELECT min(local_date), max(local_date) FROM activities_local"
        ).fetchone()
        return StoreOverview(
            activities=int(primary),
            copies=int(copies),
            files=int(db.execute("SELECT count(*) FROM files").fetchone()[0]),
            by_category=dict(
                db.execute(
                    "SELECT category, count(*) FROM activities WHERE primary_id IS NULL"
                    " GROUP BY category ORDER BY count(*) DESC, category"
                ).fetchall()
            ),
            by_source=dict(
                db.execute(
                    "SELECT source, count(*) FROM activities GROUP BY source"
                    " ORDER BY count(*) DESC, source"
                ).fetchall()
            ),
            first_day=date.fromisoformat(first) if first else None,
            last_day=date.fromisoformat(last) if last else None,
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
                "SELECT coalesce(primary_id, id) FROM activities WHERE id = ?", (activity_id,)
            ).fetchone()
            if row is None:
                unknown.append(str(activity_id))
            else:
                wanted.add(int(row[0]))
        for path, sha in files:
            rows = db.execute(
                "SELECT DISTINCT coalesce(primary_id, id) FROM activities"
                " WHERE source_path = ? OR file_sha256 = ?",
                (_stored_path(path), sha),
            ).fetchall()
            if not rows:
                unknown.append(str(path))
            wanted.update(int(r[0]) for r in rows)
        targets = []
        for primary in sorted(wanted):
            records = db.execute(
                "SELECT id, source, start_utc, utc_offset_s, category FROM activities"
                " WHERE id = ? OR primary_id = ? ORDER BY primary_id IS NOT NULL, id",
                (primary, primary),
            ).fetchall()
            start = _parse_ts(records[0][2]) + timedelta(seconds=int(records[0][3]))
            targets.append(
                ForgetTarget(
                    id=primary,
                    start_local=start.replace(tzinfo=None),
                    category=str(records[0][4]),
                    records=tuple(int(r[0]) for r in records),
                    sources=tuple(dict.fromkeys(str(r[1]) for r in records)),
                )
            )
        targets.sort(key=lambda t: (t.start_local, t.id))
        return targets, unknown

    def forget(self, targets: Sequence[ForgetTarget]) -> tuple[int, int]:
        """Remove these activities with every copy, sample, set and derived figure, and
        the record of each file that no longer backs any activity (so importing it again
        brings it back). Returns (records removed, file records removed)."""
        records = [i for t in targets for i in t.records]
        if not records:
            return 0, 0
        marks = ",".join("?" * len(records))
        with self._write() as db:
            hashes = [
                r[0]
                for r in db.execute(
                    f"SELECT DISTINCT file_sha256 FROM activities WHERE id IN ({marks})"
                    " AND file_sha256 IS NOT NULL",
                    records,
                )
            ]
            removed = db.execute(f"DELETE FROM activities WHERE id IN ({marks})", records).rowcount
            files = 0
            for sha in hashes:
                files += db.execute(
                    "DELETE FROM files WHERE sha256 = ? AND NOT EXISTS"
                    " (SELECT 1 FROM activities WHERE file_sha256 = ?)",
                    (sha, sha),
                ).rowcount
        return int(removed), files

    def activities(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        with_samples: bool = False,
    ) -> list[Activity]:
        """Stored activities starting in [since, until), oldest first, with their sets.

        Secondary copies (the same activity from another source, linked to a primary) are
        left out; their sources are listed on the primary.
        """
        clauses = ["a.primary_id IS NULL"]
        params: list[str] = []
        if since is not None:
            clauses.append("a.start_utc >= ?")
            params.append(_format_ts(since))
        if until is not None:
            clauses.append("a.start_utc < ?")
            params.append(_format_ts(until))
        rows = self._db.execute(
            "SELECT a.id, a.source, a.source_id, a.file_sha256, a.sport, a.sub_sport, "
            "a.category, a.sport_inferred, a.start_utc, a.utc_offset_s, a.offset_source, "
            "a.timer_s, a.elapsed_s, a.distance_m, a.avg_hr, a.max_hr, a.name, a.device, "
            "a.source_path, a.hr_coverage, a.points_dropped, a.watch_max_hr, a.watch_lthr, "
            "a.watch_resting_hr, a.watch_zone_method, a.watch_age, a.sport_raw, a.notes, "
            "a.perceived_exertion, a.relative_effort, a.weight_lifted_kg "
            f"FROM activities a WHERE {' AND '.join(clauses)} ORDER BY a.start_utc, a.id",
            params,
        ).fetchall()
        ids = [int(r[0]) for r in rows]
        sets = self._sets_by_activity(ids)
        copies = self._copies_of(ids)
        extra = self._metadata_of_copies(ids)
        result = []
        for r in rows:
            own_ref = _ref(r[1], r[2], r[18])
            other_copies = copies.get(int(r[0]), [])
            activity = Activity(
                id=int(r[0]),
                source=r[1],
                source_id=r[2],
                file_sha256=r[3],
                sport=r[4],
                sub_sport=r[5],
                category=Category(r[6]),
                sport_inferred=bool(r[7]),
                start_utc=_parse_ts(r[8]),
                utc_offset_s=int(r[9]),
                offset_source=OffsetSource(r[10]),
                timer_s=r[11],
                elapsed_s=r[12],
                distance_m=r[13],
                avg_hr=r[14],
                max_hr=r[15],
                name=r[16],
                device=r[17],
                sets=sets.get(int(r[0]), []),
                sources=[r[1], *sorted({s for s, _ in other_copies} - {r[1]})],
                source_refs=[own_ref, *(ref for _, ref in other_copies)],
                hr_coverage=r[19],
                points_dropped=int(r[20] or 0),
                hr_settings=_hr_settings(r[21:26]),
                sport_raw=r[26],
                source_path=r[18],
                notes=tuple(r[27].split(_NOTE_SEP)) if r[27] else (),
            )
            # The export's metadata and name, whichever copy brought them.
            found = extra.get(int(r[0]), {})
            activity.perceived_exertion = _first(r[28], found.get("perceived_exertion"))
            activity.relative_effort = _first(r[29], found.get("relative_effort"))
            activity.weight_lifted_kg = _first(r[30], found.get("weight_lifted_kg"))
            if activity.name is None and found.get("name") is not None:
                activity.name = str(found["name"])
            if with_samples:
                activity.samples = self.samples(int(r[0]))
            result.append(activity)
        return result

    def _copies_of(self, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        """(source, reference) of every secondary copy, by primary id."""
        result: dict[int, list[tuple[str, str]]] = {}
        if not ids:
            return result
        wanted = set(ids)
        rows = self._db.execute(
            "SELECT primary_id, source, source_id, source_path FROM activities "
            "WHERE primary_id IS NOT NULL ORDER BY id"
        )
        for primary, source, source_id, path in rows:
            if primary in wanted:
                result.setdefault(int(primary), []).append((source, _ref(source, source_id, path)))
        return result

    def _metadata_of_copies(self, ids: list[int]) -> dict[int, dict[str, object]]:
        """Name and export metadata of secondary copies, by primary id (first copy wins)."""
        result: dict[int, dict[str, object]] = {}
        if not ids:
            return result
        wanted = set(ids)
        rows = self._db.execute(
            "SELECT primary_id, name, perceived_exertion, relative_effort, weight_lifted_kg "
            "FROM activities WHERE primary_id IS NOT NULL AND (name IS NOT NULL "
            "OR perceived_exertion IS NOT NULL OR relative_effort IS NOT NULL "
            "OR weight_lifted_kg IS NOT NULL) ORDER BY id"
        )
        keys = ("name", "perceived_exertion", "relative_effort", "weight_lifted_kg")
        for primary, *values in rows:
            if primary in wanted:
                found = result.setdefault(int(primary), {})
                for key, value in zip(keys, values, strict=True):
                    if value is not None:
                        found.setdefault(key, value)
        return result

    def watch_hr_settings(self) -> list[tuple[int, datetime, HrSettings]]:
        """The HR settings watches recorded with activities (every copy), oldest first,
        with the id of the primary record they came with."""
        rows = self._db.execute(
            "SELECT coalesce(primary_id, id), start_utc, watch_max_hr, watch_lthr,"
            " watch_resting_hr, watch_zone_method, watch_age FROM activities"
            " WHERE coalesce(watch_max_hr, watch_lthr, watch_resting_hr, watch_zone_method,"
            " watch_age) IS NOT NULL"
            " ORDER BY start_utc, id"
        ).fetchall()
        result = []
        for r in rows:
            values = _hr_settings(r[2:7])
            if values is not None:
                result.append((int(r[0]), _parse_ts(r[1]), values))
        return result

    def activities_on_days(
        self, first: date | None = None, last: date | None = None, *, with_samples: bool = False
    ) -> list[Activity]:
        """Activities whose *local* start day lies in [first, last] (either end open).

        UTC offsets reach 14 hours either way, so the UTC query is widened by that much and
        the local day decides.
        """
        margin = timedelta(hours=14)
        since = datetime.combine(first, time(), UTC) - margin if first else None
        until = datetime.combine(last + timedelta(days=1), time(), UTC) + margin if last else None
        rows = self.activities(since, until, with_samples=with_samples)
        return [
            a
            for a in rows
            if (first is None or a.start_local.date() >= first)
            and (last is None or a.start_local.date() <= last)
        ]

    def activities_local(
        self, first: date | None = None, last: date | None = None
    ) -> list[dict[str, Any]]:
        """Rows of the ``activities_local`` view (see docs/store.md) whose local day lies
        in [first, last], oldest first: the table other tools see, as plain dicts."""
        clauses, params = ["1"], []
        if first is not None:
            clauses.append("local_date >= ?")
            params.append(first.isoformat())
        if last is not None:
            clauses.append("local_date <= ?")
            params.append(last.isoformat())
        cursor = self._db.execute(
            f"SELECT * FROM activities_local WHERE {' AND '.join(clauses)} ORDER BY start_utc, id",
            params,
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def start_of(self, activity_id: int) -> datetime | None:
        """When a stored activity started (UTC), or None when there is no such id."""
        row = self._db.execute(
            "SELECT start_utc FROM activities WHERE id = ?", (activity_id,)
        ).fetchone()
        return None if row is None else _parse_ts(row[0])

    def samples(self, activity_id: int) -> Samples | None:
        """The stored samples of one activity, or None when it has none."""
        row = self._db.execute(
            "SELECT data FROM samples WHERE activity_id = ?", (activity_id,)
        ).fetchone()
        if row is None:
            return None
        try:
            return decode_samples(bytes(row[0]))
        except CodecError as exc:
            raise StoreError(f"{self.path}: samples of activity {activity_id}: {exc}") from exc

    def _sets_by_activity(self, ids: list[int]) -> dict[int, list[StrengthSet]]:
        result: dict[int, list[StrengthSet]] = {}
        if not ids:
            return result
        rows = self._db.execute(
            "SELECT activity_id, idx, category, reps, weight_kg, duration_s FROM strength_sets "
            "ORDER BY activity_id, idx"
        )
        wanted = set(ids)
        for r in rows:
            if r[0] in wanted:
                result.setdefault(int(r[0]), []).append(StrengthSet(r[1], r[2], r[3], r[4], r[5]))
        return result

    def sample_count(self) -> int:
        """Samples stored over all activities."""
        return int(self._db.execute("SELECT coalesce(sum(n), 0) FROM samples").fetchone()[0])

    def count(self) -> int:
        """Number of stored activities, secondary copies included."""
        return int(self._db.execute("SELECT count(*) FROM activities").fetchone()[0])


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


def _first(own: object, other: object) -> float | None:
    """The primary's own value, else a copy's."""
    value = own if own is not None else other
    return None if value is None else float(str(value))


def _watch_values(
    values: HrSettings | None,
) -> tuple[float | None, float | None, float | None, str | None, float | None]:
    if values is None:
        return (None, None, None, None, None)
    return (values.max_hr, values.lthr, values.resting_hr, values.zone_method, values.age)


def _hr_settings(row: Sequence[object]) -> HrSettings | None:
    max_hr, lthr, resting, method, age = row
    values = HrSettings(
        max_hr=None if max_hr is None else float(str(max_hr)),
        lthr=None if lthr is None else float(str(lthr)),
        resting_hr=None if resting is None else float(str(resting)),
        zone_method=None if method is None else str(method),
        age=None if age is None else float(str(age)),
    )
    return values if values else None


def _register_functions(connection: sqlite3.Connection) -> None:
    """SQL functions the migrations use (the sport vocabulary lives in categories.py)."""
    connection.create_function("heavylegs_sport_name", 2, sport_name, deterministic=True)


def _stored_path(path: Path | str) -> str:
    """Source paths are kept absolute, so they still mean something from another folder."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):  # a symlink loop: absolute is the best there is
        return str(Path(path).absolute())


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _now() -> str:
    return _format_ts(datetime.now(UTC))


def _format_ts(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime(_TS_FORMAT)


def _parse_ts(text: str) -> datetime:
    return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=UTC)
