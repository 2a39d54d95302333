"""Opening the SQLite file: WAL mode, a busy timeout, migrations, one short write
transaction at a time; every part of the store shares one :class:`Connection`.

SQLite's own dialect lives here (PRAGMAs, ``BEGIN IMMEDIATE``, ``mode=ro``) and in
:mod:`.schema` (the migrations, the views' date functions): see docs/store.md.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

from heavylegs_sync.errors import StoreError
from heavylegs_sync.store.schema import MIGRATIONS, SCHEMA_VERSION, _register_functions, _statements

log = logging.getLogger("heavylegs.store")


class Connection:
    """The database connection and its transactions, shared by every part of the store.

    Rows come back as :class:`sqlite3.Row`, read by column name.
    """

    def __init__(
        self, connection: sqlite3.Connection, path: Path, *, read_only: bool = False
    ) -> None:
        connection.row_factory = sqlite3.Row
        self._db = connection
        self.path = path
        #: Opened with ``read_only``: nothing is written (figures are held, see Derived).
        self.read_only = read_only

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
    def _open_read_only(cls, db_path: Path, busy_timeout_s: float) -> Self:
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
            connection.execute("SELECT count(*) FROM activities").fetchone()  # not SQLite: fails
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
    def db(self) -> sqlite3.Connection:
        """The connection, for the store's parts to read with."""
        return self._db

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
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
        with self.write() as db:
            # Another process may have migrated while we waited for the lock.
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    def schema_version(self) -> int:
        """The schema version recorded in the file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])


class Part:
    """One part of the store (files, activities ...): its SQL over the shared connection.

    A part sees the connection and the parts it is handed, nothing else.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @property
    def _db(self) -> sqlite3.Connection:
        return self._connection.db

    @property
    def path(self) -> Path:
        """The store's file."""
        return self._connection.path

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only."""
        return self._connection.read_only

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction (see :meth:`Connection.write`)."""
        return self._connection.write()
