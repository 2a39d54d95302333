"""Opening the SQLite file: WAL mode, a busy timeout, migrations, one short write
transaction at a time; every part of the store shares one :class:`Connection`.

SQLite's own dialect lives here (PRAGMAs, ``BEGIN IMMEDIATE``, ``mode=ro``) and in
:mod:`.schema` (the migrations, the views' date functions): see docs/store.md.

Every ``sqlite3`` error after the file is open (a corrupt page, a read-only file, a full
disk) leaves the store as a :class:`~heavylegs_sync.errors.StoreError` naming the store
and what to do: the connection and its cursors translate them (:class:`_Connection`), so
no caller, CLI command or watcher ever meets a raw ``sqlite3`` exception.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, Protocol, Self
from urllib.parse import quote

from heavylegs_sync.errors import (
    NoStoreYet,
    StoreDamaged,
    StoreError,
    StoreFull,
    StoreNotWritable,
)
from heavylegs_sync.store.schema import MIGRATIONS, SCHEMA_VERSION, _register_functions, _statements

log = logging.getLogger("heavylegs.store")

# SQLite's primary result codes this module words (sqlite3.h).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26
_CHECK = "run 'heavylegs check' to see what is affected"


def store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """One of our errors for an ``sqlite3`` one: the store, what happened, what to do."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    lowered = text.lower()
    if primary in (_CORRUPT, _NOTADB) or "malformed" in lowered or "not a database" in lowered:
        return StoreDamaged(
            f"{path}: the store is damaged ({text}); {_CHECK}, then restore a backup of it"
        )
    if primary == _READONLY or "readonly" in lowered or "read-only" in lowered:
        return StoreNotWritable(
            f"{path}: the store cannot be written ({text}); fix the permissions of the file,"
            " its -wal and -shm files and its folder, or use a command that only reads"
        )
    if primary == _FULL or "disk is full" in lowered or "full" in lowered.split():
        return StoreFull(
            f"{path}: the disk is full ({text}); free space and run it again"
            " (what was stored before is kept)"
        )
    if primary in (_BUSY, _LOCKED) or "locked" in lowered:
        return StoreError(f"{path}: the store is busy ({text}); try again when the other"
                          " heavylegs command has finished")  # fmt: skip
    if primary == _IOERR or "i/o error" in lowered:
        return StoreError(
            f"{path}: the store cannot be read or written ({text}); check the disk and free"
            f" space, then {_CHECK}"
        )
    if primary == _CANTOPEN:
        return StoreNotWritable(
            f"{path}: cannot open the store ({text}); fix the permissions of its folder"
        )
    return StoreError(f"{path}: store error ({text}); {_CHECK}")


class _Cursor(sqlite3.Cursor):
    """A cursor whose every failure is a :class:`StoreError` naming the store."""

    store_path: Path = Path("?")

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as exc:
            raise store_error(self.store_path, exc) from exc

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
        try:
            return super().executemany(sql, seq_of_parameters)
        except sqlite3.Error as exc:
            raise store_error(self.store_path, exc) from exc

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            raise store_error(self.store_path, exc) from exc

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(self.arraysize if size is None else size)
        except sqlite3.Error as exc:
            raise store_error(self.store_path, exc) from exc

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            raise store_error(self.store_path, exc) from exc

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            raise store_error(self.store_path, exc) from exc


class _Connection(sqlite3.Connection):
    """The store's connection: statements run through :class:`_Cursor`."""

    store_path: Path = Path("?")

    def cursor(self, factory: Any = None) -> _Cursor:  # type: ignore[override]
        made = super().cursor(_Cursor)
        made.store_path = self.store_path
        return made

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> _Cursor:
        return self.cursor().executemany(sql, parameters)


def _connect(target: str | Path, path: Path, busy_timeout_s: float, uri: bool) -> _Connection:
    connection = sqlite3.connect(
        target, uri=uri, timeout=busy_timeout_s, isolation_level=None,
        check_same_thread=False, factory=_Connection,
    )  # fmt: skip
    assert isinstance(connection, _Connection)
    connection.store_path = path
    return connection


class Cursor(Protocol):
    """What the parts use of a cursor, in either backend."""

    rowcount: int

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    """What the parts use of a connection, in either backend: statements in SQLite's
    spelling (``?`` parameters); :mod:`.dialect` translates them for PostgreSQL."""

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Any, /) -> Cursor: ...


#: The athlete id a store opened without one reads with: no row has it.
NO_ATHLETE = -1


class Connection:
    """The database connection and its transactions, shared by every part of the store.

    Rows come back as :class:`sqlite3.Row`, read by column name. ``athlete_id`` scopes
    every part's reads and writes to one athlete (:meth:`scoped`).
    """

    #: Which SQL dialect the database speaks ("sqlite", "postgresql").
    dialect = "sqlite"

    def __init__(
        self, connection: sqlite3.Connection, path: Path, *, read_only: bool = False
    ) -> None:
        connection.row_factory = sqlite3.Row
        self._db: Any = connection
        self.path: Path | str = path
        #: Opened with ``read_only``: nothing is written (figures are held, see Derived).
        self.read_only = read_only
        self.read_mode = "write"  # see _open_looking
        self.athlete_id = NO_ATHLETE
        self._owner = True  # closes the database; a scoped copy does not
        #: What was opened (a server's URL with its password: never shown, see ``path``).
        self.target: Path | str = path

    def scoped(self, athlete_id: int) -> Self:
        """This connection scoped to another athlete: the same database and transaction
        rules, the parts built over it read and write that athlete's rows only."""
        other = copy.copy(self)
        other.athlete_id = athlete_id
        other._owner = False
        return other

    @classmethod
    def open(
        cls, path: Path | str, *, busy_timeout_s: float = 60.0, read_only: bool = False
    ) -> Self:
        """Open (creating if needed) and migrate the store at ``path``.

        ``read_only`` is for commands that only look: the file must exist and already be
        at this version's schema; nothing is created, migrated or written (SQLite's
        ``mode=ro``), so looking never changes a store another version still uses.
        """
        db_path = Path(path)
        if read_only:
            return cls._open_read_only(db_path, busy_timeout_s)
        try:
            _create_private(db_path)
            connection = _connect(db_path, db_path, busy_timeout_s, uri=False)
        except (OSError, sqlite3.Error) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise StoreError(f"{db_path}: cannot open the store: {why}") from exc
        store = cls(connection, db_path)
        try:
            _register_functions(connection)
            connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            store._refuse_foreign()
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{db_path}: cannot switch the store to WAL mode (got {mode})")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA synchronous = NORMAL")
            store._migrate()
        except StoreError as exc:
            connection.close()
            _raise_unusable(db_path, exc)
        return store

    @classmethod
    def _open_read_only(cls, db_path: Path, busy_timeout_s: float) -> Self:
        if not db_path.is_file():
            raise NoStoreYet(
                f"{db_path}: no store here yet (import activities first: heavylegs import ...)"
            )
        try:
            return cls._open_looking(db_path, busy_timeout_s, immutable=False)
        except StoreNotWritable as exc:
            # A WAL store in a folder this user cannot write: SQLite cannot create the
            # -shm file even to read. With no -wal file holding commits, the main file is
            # the whole store, and reading it as an immutable snapshot is exact.
            wal = db_path.with_name(db_path.name + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise StoreNotWritable(
                    f"{db_path}: cannot read the store: its folder is not writable and its"
                    f" -wal file holds changes ({exc.__cause__}); fix the folder's"
                    " permissions, or run a command that writes as the store's owner"
                ) from exc
            store = cls._open_looking(db_path, busy_timeout_s, immutable=True)
            log.info("%s: folder not writable: read as a snapshot (%s)", db_path, exc.__cause__)
            return store

    @classmethod
    def _open_looking(cls, db_path: Path, busy_timeout_s: float, *, immutable: bool) -> Self:
        uri = f"file:{quote(str(db_path.absolute()))}?mode=ro"
        if immutable:
            uri += "&immutable=1"
        try:
            connection = _connect(uri, db_path, busy_timeout_s, uri=True)
        except sqlite3.Error as exc:
            raise StoreError(f"{db_path}: cannot open the store: {exc}") from exc
        store = cls(connection, db_path, read_only=True)
        #: How the file was read: "shared" (SQLite's locks, the usual) or "snapshot"
        #: (``immutable``: a folder this user cannot write, so no -shm file could be made).
        store.read_mode = "snapshot" if immutable else "shared"
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
            connection.execute("SELECT count(*) FROM activities").fetchone()  # not SQLite: fails
        except StoreError as exc:
            connection.close()
            _raise_unusable(db_path, exc)
        return store

    def _refuse_foreign(self) -> None:
        """A SQLite file that is not a heavylegs store is someone else's: before anything
        is written (no tables added, its journal mode untouched), refuse it."""
        names = {
            str(row[0])
            for row in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        version = self.schema_version()
        if not names and version == 0:
            return  # a new, empty file: ours to set up
        missing = sorted(_OWN_TABLES - names)
        if version == 0 or missing:
            shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
            raise StoreError(
                f"{self.path}: an SQLite database that is not a heavylegs store (tables: "
                f"{shown or 'none'}; user_version {version}); left untouched: choose another"
                " store file (--db)"
            )

    def close(self) -> None:
        """Close the connection (a :meth:`scoped` copy leaves it to the original)."""
        if self._owner:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def db(self) -> Db:
        """The connection, for the store's parts to read with."""
        return self._db  # type: ignore[no-any-return]

    @contextmanager
    def write(self) -> Iterator[Db]:
        """One write transaction, taken up front so concurrent writers queue, not deadlock."""
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only, cannot write")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self._db.execute("COMMIT")
            except StoreError:
                self._rollback()
                raise

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already (a full disk or an I/O
        error rolls it back itself: a second ROLLBACK would fail and hide the cause)."""
        if not self._db.in_transaction:
            return
        try:
            self._db.execute("ROLLBACK")
        except StoreError as exc:
            log.warning("%s", exc)  # the first error is the one raised; this one is logged

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer heavylegs (schema {version}, "
                f"this one knows {SCHEMA_VERSION}); upgrade heavylegs"
            )
        if version == SCHEMA_VERSION:
            return
        # Schema 11 rebuilds tables others point at: foreign keys are off while it runs
        # (SQLite ignores the switch inside a transaction) and checked before the commit.
        self._db.execute("PRAGMA foreign_keys = OFF")
        try:
            with self.write() as db:
                # Another process may have migrated while we waited for the lock.
                version = db.execute("PRAGMA user_version").fetchone()[0]
                for number in range(version, SCHEMA_VERSION):
                    for statement in _statements(MIGRATIONS[number]):
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {number + 1}")
                broken = db.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise StoreError(
                        f"{self.path}: migrating the store would leave {len(broken)} rows"
                        f" pointing at nothing (first in {broken[0][0]}); nothing was changed"
                    )
        finally:
            self._db.execute("PRAGMA foreign_keys = ON")

    def schema_version(self) -> int:
        """The schema version recorded in the file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def for_a_part(self) -> None:
        """Set this session up for one part of the coach's view: nothing to set on
        SQLite, which runs every query in its caller's thread and plans without costs
        of its server (PostgreSQL: :meth:`.postgres.PgConnection.for_a_part`)."""


#: Tables the first migration creates: a file at a schema version >= 1 without them is
#: not a heavylegs store.
_OWN_TABLES = frozenset({"activities", "samples", "files", "import_log"})


def _raise_unusable(path: Path, exc: StoreError) -> NoReturn:
    """Raise an open-time error: a file that is not SQLite at all is not a store (rather
    than "damaged"); any other as it is."""
    cause = exc.__cause__
    if isinstance(cause, sqlite3.Error) and "not a database" in str(cause):
        raise StoreError(
            f"{path}: not a usable heavylegs store: {cause} (a damaged store or another"
            " file: restore a backup, or choose another store file with --db)"
        ) from cause
    raise exc


def _create_private(path: Path) -> None:
    """Create the store file (and its folders) readable by its owner alone: it holds raw
    Strava JSON. SQLite gives its -wal and -shm files the mode of the database file."""
    for folder in reversed([path.parent, *path.parent.parents]):
        if not folder.exists():
            folder.mkdir(mode=0o700, exist_ok=True)
    if path.exists() or path.is_symlink():
        return
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with contextlib.suppress(FileExistsError):  # another process created it first
        os.close(os.open(path, flags, 0o600))


class Part:
    """One part of the store (files, activities ...): its SQL over the shared connection.

    A part sees the connection and the parts it is handed, nothing else.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @property
    def _db(self) -> Db:
        return self._connection.db

    @property
    def _athlete(self) -> int:
        """The athlete every statement of this part is scoped to."""
        return self._connection.athlete_id

    @property
    def _athlete_to_write(self) -> int:
        """The athlete new rows belong to; a store opened without one cannot write them."""
        if self._connection.athlete_id == NO_ATHLETE:
            raise StoreError(f"{self.path}: no athlete chosen to store this for")
        return self._connection.athlete_id

    @property
    def path(self) -> Path | str:
        """The store's file (or, for PostgreSQL, its URL without a password)."""
        return self._connection.path

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only."""
        return self._connection.read_only

    def _write(self) -> AbstractContextManager[Db]:
        """One write transaction (see :meth:`Connection.write`)."""
        return self._connection.write()
