"""A store in a PostgreSQL database (a coach's or a club's server): the same parts over
a psycopg 3 connection; :mod:`.dialect` says where its SQL differs.

Every psycopg error becomes a :class:`~heavylegs_sync.errors.StoreError` naming the
database and what to do, as :mod:`.connection` does for SQLite's, so no command ever
meets a raw driver exception. The password of the URL is never shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pgerrors

from heavylegs_sync.errors import (
    NoStoreYet,
    StoreDamaged,
    StoreError,
    StoreFull,
    StoreNotWritable,
)
from heavylegs_sync.store import dialect
from heavylegs_sync.store.connection import Connection, Db
from heavylegs_sync.store.schema import SCHEMA_VERSION, _statements

log = logging.getLogger("heavylegs.store")

#: The first key of every advisory lock heavylegs takes ("HL" + 23), the second the
#: athlete (0: the schema).
LOCK_SPACE = 0x484C_0017


def shown_url(url: str) -> str:
    """The URL without its password, for every message and log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = (parts.username or "") + ":***@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def store_error(where: str, exc: psycopg.Error) -> StoreError:
    """One of our errors for a psycopg one: the database, what happened, what to do."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, pgerrors.DiskFull | pgerrors.OutOfMemory):
        return StoreFull(f"{where}: the server is out of space ({text}); free space on it"
                         " and run it again (what was stored before is kept)")  # fmt: skip
    if isinstance(exc, pgerrors.ReadOnlySqlTransaction | pgerrors.InsufficientPrivilege):
        return StoreNotWritable(
            f"{where}: the database cannot be written by this role ({text}); grant it the"
            " rights (docs/server.md), or use a command that only reads"
        )
    if isinstance(exc, pgerrors.DataCorrupted | pgerrors.IndexCorrupted):
        return StoreDamaged(f"{where}: the database is damaged ({text}); restore a backup")
    if isinstance(exc, pgerrors.LockNotAvailable | pgerrors.DeadlockDetected
                  | pgerrors.SerializationFailure | pgerrors.QueryCanceled):  # fmt: skip
        return StoreError(f"{where}: the database is busy ({text}); try again")
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return StoreError(
            f"{where}: cannot reach the database ({text}); check that the server runs and"
            " the URL, role and password (~/.pgpass) are right"
        )
    return StoreError(f"{where}: database error ({text})")


class _Row(tuple[Any, ...]):
    """A row read by position or by column name, as :class:`sqlite3.Row` is."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """The column names, so ``dict(row)`` works."""
        return list(self._index)


def _row_factory(cursor: Any) -> Any:
    description = cursor.description
    if description is None:
        return tuple
    kind = type(
        "Row", (_Row,), {"__slots__": (), "_index": {c.name: i for i, c in enumerate(description)}}
    )
    return kind


class _Cursor:
    """A psycopg cursor whose every failure is a :class:`StoreError`."""

    def __init__(self, cursor: Any, where: str) -> None:
        self._cursor = cursor
        self._where = where

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchone(self) -> Any:
        try:
            return self._cursor.fetchone()
        except psycopg.Error as exc:
            raise store_error(self._where, exc) from exc

    def fetchall(self) -> list[Any]:
        try:
            return list(self._cursor.fetchall())
        except psycopg.Error as exc:
            raise store_error(self._where, exc) from exc

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class _Db:
    """The parts' view of a psycopg connection: SQLite's ``?`` statements, translated.

    A connection lost between transactions (the server restarted, an idle connection was
    ended) is opened again before the next statement, so a long-running watcher outlives
    a restart of the server; a read that meets the loss runs again on the new one. Inside
    a transaction nothing is run again: the transaction fails, as it must.
    """

    def __init__(
        self,
        connection: psycopg.Connection[Any],
        where: str,
        reopen: Callable[[], psycopg.Connection[Any]] | None = None,
    ) -> None:
        self.connection = connection
        self._where = where
        self._reopen = reopen
        self.depth = 0  # transactions open on it
        self._session: list[str] = []  # settings of this session (:meth:`keep_setting`)

    def fresh(self) -> None:
        """A new connection for one that was lost, between transactions, with this
        session's settings made again."""
        if self.connection.closed and self._reopen is not None and self.depth == 0:
            log.warning("%s: the connection was lost; connecting again", self._where)
            try:
                self.connection = self._reopen()
                for statement in self._session:
                    self.connection.execute(statement)
            except psycopg.Error as exc:
                raise store_error(self._where, exc) from exc

    def keep_setting(self, sql: str) -> None:
        """Run ``sql`` (a setting of this session, no parameters) now, and again on every
        connection made after a loss, which would otherwise run with the server's."""
        self.execute(sql)
        self._session.append(dialect.statement(sql, False))

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        params = tuple(parameters) if parameters else None
        statement = dialect.statement(sql, params is not None)
        self.fresh()
        try:
            return self._execute(statement, params)
        except psycopg.OperationalError as exc:
            read = sql.lstrip()[:6].upper() in ("SELECT", "WITH")
            if not (read and self.depth == 0 and self.connection.closed and self._reopen):
                raise store_error(self._where, exc) from exc
        self.fresh()  # lost before this read: read again on a new connection
        try:
            return self._execute(statement, params)
        except psycopg.Error as exc:
            raise store_error(self._where, exc) from exc

    def _execute(self, statement: str, params: tuple[Any, ...] | None) -> _Cursor:
        try:
            cursor = self.connection.cursor(row_factory=_row_factory)
            cursor.execute(statement, params)
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            raise store_error(self._where, exc) from exc
        return _Cursor(cursor, self._where)

    def executemany(self, sql: str, parameters: Any, /) -> _Cursor:
        rows: Sequence[Any] = list(parameters)
        self.fresh()
        try:
            cursor = self.connection.cursor(row_factory=_row_factory)
            if rows:
                cursor.executemany(dialect.statement(sql, True), rows)
        except psycopg.Error as exc:
            raise store_error(self._where, exc) from exc
        return _Cursor(cursor, self._where)

    def close(self) -> None:
        self.connection.close()


class PgConnection(Connection):
    """The store's connection to a PostgreSQL database (see :mod:`.dialect`)."""

    dialect = "postgresql"

    def __init__(
        self, connection: psycopg.Connection[Any], where: str, *, read_only: bool = False
    ) -> None:
        self._db = _Db(connection, where)
        self.path = where
        self.read_only = read_only
        self.read_mode = "shared"
        self.athlete_id = -1
        self._owner = True
        self.target = where

    @classmethod
    def open(  # type: ignore[override]
        cls, url: str, *, busy_timeout_s: float = 60.0, read_only: bool = False
    ) -> Self:
        """Connect, and migrate (writing) or check the schema (``read_only``)."""
        where = shown_url(url)
        options = f"-c lock_timeout={int(busy_timeout_s * 1000)}"
        if read_only:
            options += " -c default_transaction_read_only=on"

        def connect() -> psycopg.Connection[Any]:
            return psycopg.connect(
                url.replace("postgres://", "postgresql://", 1),
                autocommit=True,
                connect_timeout=10,
                options=options,
                application_name="heavylegs",
            )

        try:
            connection = connect()
        except psycopg.Error as exc:
            raise store_error(where, exc) from exc
        store = cls(connection, where, read_only=read_only)
        store._db = _Db(connection, where, reopen=connect)
        store.target = url
        try:
            if read_only:
                store._check_read_only()
            else:
                store._migrate()
        except BaseException:
            connection.close()
            raise
        return store

    def for_a_part(self) -> None:
        """Set this session up for one part of the coach's view (one process and
        connection per core), for this session (and a connection made again after a
        loss):

        - without the server's parallel workers: the parts are parallel already, and
          workers of their queries would only take the same cores from them (on the club
          bench: 1.72 s against 1.96 s, the mean of four runs each);
        - an index lookup priced as a read from memory (``random_page_cost`` at most
          1.1, a lower one of the server's kept): a part's reads find a few thousand rows
          by key among a club's quarter of a million, which the default (4, for
          spinning disks) has the planner read the whole table for instead (every run
          with samples, a part's read on the club bench: 27-49 ms in the server's log,
          142-162 ms before).
        """
        self._db.keep_setting("SET max_parallel_workers_per_gather = 0")
        self._db.keep_setting(
            "SELECT set_config('random_page_cost',"
            " least(current_setting('random_page_cost')::float, 1.1)::text, false)"
        )

    def _check_read_only(self) -> None:
        version = self.schema_version()
        if version == 0:
            raise NoStoreYet(
                f"{self.path}: no heavylegs store in this database yet (import activities"
                " first: heavylegs import ...)"
            )
        if version != SCHEMA_VERSION:
            newer = version > SCHEMA_VERSION
            raise StoreError(
                f"{self.path}: the store's schema is {version}, this heavylegs uses "
                f"{SCHEMA_VERSION}; "
                + ("upgrade heavylegs" if newer else "run a command that writes once to upgrade it")
            )

    def schema_version(self) -> int:
        """The schema version recorded in the database (0: none yet).

        Between transactions, one statement: a database without the table answers with
        an error that means "no store yet" (every command's opening pays this round trip
        before its first query: issue 23). In a transaction, where an error would end it,
        the table is looked for first."""
        if self._db.depth == 0:
            try:
                found = self._db.execute("SELECT version FROM heavylegs_schema").fetchone()
            except StoreError as exc:
                if isinstance(exc.__cause__, pgerrors.UndefinedTable):
                    return 0
                raise
            return 0 if found is None else int(found["version"])
        row = self._db.execute(
            "SELECT to_regclass('heavylegs_schema') IS NOT NULL AS present"
        ).fetchone()
        if not row["present"]:
            return 0
        found = self._db.execute("SELECT version FROM heavylegs_schema").fetchone()
        return 0 if found is None else int(found["version"])

    def _migrate(self) -> None:
        if self.schema_version() == SCHEMA_VERSION:
            return
        with self._transaction(0) as db:
            db.execute("CREATE TABLE IF NOT EXISTS heavylegs_schema (version INTEGER NOT NULL)")
            found = db.execute("SELECT version FROM heavylegs_schema").fetchone()
            version = 0 if found is None else int(found["version"])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: written by a newer heavylegs (schema {version}, "
                    f"this one knows {SCHEMA_VERSION}); upgrade heavylegs"
                )
            if found is None:
                db.execute("INSERT INTO heavylegs_schema (version) VALUES (0)")
            for number in range(version, SCHEMA_VERSION):
                for sql in _statements(dialect.migration(number)):
                    db.execute(sql)
                db.execute("UPDATE heavylegs_schema SET version = ?", (number + 1,))
            if version < SCHEMA_VERSION:
                log.info("%s: schema %d -> %d", self.path, version, SCHEMA_VERSION)

    @contextmanager
    def _transaction(self, lock: int) -> Iterator[Db]:
        db = self._db
        db.fresh()
        try:
            with db.connection.transaction():
                db.depth += 1
                try:
                    db.execute("SELECT pg_advisory_xact_lock(?, ?)", (LOCK_SPACE, lock))
                    yield db
                finally:
                    db.depth -= 1
        except psycopg.Error as exc:
            raise store_error(str(self.path), exc) from exc

    @contextmanager
    def write(self) -> Iterator[Db]:
        """One write transaction; writers of one athlete queue on an advisory lock (what
        ``BEGIN IMMEDIATE`` is to SQLite), writers of different athletes run at once."""
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only, cannot write")
        with self._transaction(self.athlete_id) as db:
            yield db

    def close(self) -> None:
        """Close the connection (a scoped copy leaves it to the original)."""
        if self._owner:
            self._db.close()
