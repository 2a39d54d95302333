"""The SQLite activity store: schema, migrations, upserts. The only module that writes SQL.

The folder watcher, the nightly Strava sync and a manual import may all write at once, so
the database runs in WAL mode with a busy timeout and every write is one short
``BEGIN IMMEDIATE`` transaction: a file's activities land completely or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import TracebackType

from heavylegs_sync.codec import CodecError, decode_samples, encode_samples
from heavylegs_sync.errors import StoreError
from heavylegs_sync.model import Activity, Category, OffsetSource, Samples, StrengthSet

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

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
    # Which decoder read a file, and why the fast one did not (issue 11).
    """
    ALTER TABLE activities ADD COLUMN decoder TEXT;
    ALTER TABLE activities ADD COLUMN decoder_note TEXT;
    """,
)

#: Richer sources win when one activity arrives twice: a device file has every sample.
SOURCE_RANK = {"fit": 3, "gpx": 2, "strava": 1}
#: Two records are one activity when their starts are this close ...
MATCH_START_S = 300
#: ... and their durations differ by at most this fraction.
MATCH_DURATION_RATIO = 0.2

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
class FileOutcome:
    """What storing one file's activities did."""

    new_ids: tuple[int, ...]
    duplicates: int


class Store:
    """One SQLite file. Open it with :meth:`open`; use it as a context manager."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path | str, *, busy_timeout_s: float = 60.0) -> Store:
        """Open (creating if needed) and migrate the store at ``path``."""
        db_path = Path(path)
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                db_path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{db_path}: cannot open the store: {exc}") from exc
        store = cls(connection, db_path)
        try:
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
            (_now(), str(path), sha256, outcome, activities, message),
        )

    def failure_of(self, sha256: str) -> str | None:
        """Why content with this hash failed to import, if it did and never succeeded."""
        if self.known_file(sha256) is not None:
            return None
        row = self._db.execute(
            "SELECT message FROM import_log WHERE sha256 = ? AND outcome = 'failed' "
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
                activity_id = self._insert_activity(db, activity, sha256, str(path))
                if activity_id is None:
                    duplicates += 1
                else:
                    new_ids.append(activity_id)
            db.execute(
                "INSERT OR IGNORE INTO files (sha256, path, size, activities, imported_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (sha256, str(path), size, len(activities), _now()),
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
            "sport, sub_sport, category, sport_inferred, start_utc, utc_offset_s, offset_source,"
            " timer_s, elapsed_s, distance_m, avg_hr, max_hr, name, device, imported_at,"
            " decoder, decoder_note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                a.source,
                a.source_id,
                sha256,
                path,
                a.sport,
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
                a.decoder,
                a.decoder_note,
            ),
        )
        if cursor.rowcount == 0:
            return None
        activity_id = cursor.lastrowid
        assert activity_id is not None
        if a.samples is not None and len(a.samples) > 0:
            db.execute(
                "INSERT INTO samples (activity_id, n, data) VALUES (?, ?, ?)",
                (activity_id, len(a.samples), encode_samples(a.samples)),
            )
        self._link_same_activity(db, activity_id, a, sha256)
        db.executemany(
            "INSERT INTO strength_sets (activity_id, idx, category, reps, weight_kg, duration_s)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(activity_id, s.index, s.category, s.reps, s.weight_kg, s.duration_s) for s in a.sets],
        )
        return activity_id

    def _link_same_activity(
        self, db: sqlite3.Connection, new_id: int, a: Activity, sha256: str | None
    ) -> None:
        """Link a new record to an already stored copy of the same activity.

        Same category, starts within five minutes, durations within 20%: one activity.
        The richer record (FIT over GPX over Strava) stays primary; the other points to it,
        so the analysis counts the activity once and ``activities`` lists both sources.
        """
        start = a.start_utc
        margin = timedelta(seconds=MATCH_START_S)
        rows = db.execute(
            "SELECT id, source, coalesce(elapsed_s, timer_s), start_utc FROM activities "
            "WHERE primary_id IS NULL AND id != ? AND category = ? "
            "AND start_utc BETWEEN ? AND ? AND coalesce(file_sha256, '') != ? "
            "ORDER BY abs(julianday(start_utc) - julianday(?))",
            (
                new_id,
                a.category.value,
                _format_ts(start - margin),
                _format_ts(start + margin),
                sha256 or "-",
                _format_ts(start),
            ),
        ).fetchall()
        # Elapsed time: every source has it alike; moving time is each one's own guess.
        duration = a.elapsed_s if a.elapsed_s is not None else a.timer_s
        for other_id, other_source, other_duration, _ in rows:
            if duration and other_duration:
                longer = max(duration, other_duration)
                if abs(duration - other_duration) > MATCH_DURATION_RATIO * longer:
                    continue
            elif duration or other_duration:
                continue
            if SOURCE_RANK.get(a.source, 0) > SOURCE_RANK.get(other_source, 0):
                db.execute(
                    "UPDATE activities SET primary_id = ? WHERE id = ? OR primary_id = ?",
                    (new_id, other_id, other_id),
                )
            else:
                db.execute("UPDATE activities SET primary_id = ? WHERE id = ?", (other_id, new_id))
            return

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
        return result

    def save_derived(self, kind: str, values: dict[int, str]) -> None:
        """Save figures of one kind; a later save replaces them."""
        if not values:
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
        """Delete every activity of one source (and what hangs off it)."""
        with self._write() as db:
            ids = [
                r[0] for r in db.execute("SELECT id FROM activities WHERE source = ?", (source,))
            ]
            db.execute(
                "UPDATE activities SET primary_id = NULL WHERE primary_id IN "
                "(SELECT id FROM activities WHERE source = ?)",
                (source,),
            )
            db.execute("DELETE FROM activities WHERE source = ?", (source,))
            if source == "strava":
                db.execute("DELETE FROM strava_queue")
                db.execute("DELETE FROM state WHERE key LIKE 'strava.%'")
        return len(ids)

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
            "(SELECT group_concat(s.source) FROM activities s WHERE s.primary_id = a.id), "
            "a.decoder, a.decoder_note "
            f"FROM activities a WHERE {' AND '.join(clauses)} ORDER BY a.start_utc, a.id",
            params,
        ).fetchall()
        sets = self._sets_by_activity([int(r[0]) for r in rows])
        result = []
        for r in rows:
            others = sorted(set(r[18].split(","))) if r[18] else []
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
                sources=[r[1], *(s for s in others if s != r[1])],
                decoder=r[19],
                decoder_note=r[20],
            )
            if with_samples:
                activity.samples = self.samples(int(r[0]))
            result.append(activity)
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
