"""The SQLite activity store: the only package that writes SQL.

One :class:`Store` over one SQLite file, built in layers, each its own module:
:mod:`.connection` (opening, WAL, transactions, migrations from :mod:`.schema`),
:mod:`.files` (files imported and the import log), :mod:`.derived` (figures kept so
reports read no samples), :mod:`.activities` (activities, their samples and copies),
:mod:`.sync_state` (state and the Strava queue) and :mod:`.maintenance` (counts, forget).

The folder watcher, the nightly Strava sync and a manual import may all write at once, so
the database runs in WAL mode with a busy timeout and every write is one short
``BEGIN IMMEDIATE`` transaction: a file's activities land completely or not at all.
"""

from __future__ import annotations

from heavylegs_sync.store.files import FileOutcome, LogEntry, StoredFile
from heavylegs_sync.store.maintenance import ForgetTarget, MaintenanceStore, StoreOverview
from heavylegs_sync.store.schema import MIGRATIONS, SCHEMA_VERSION, _statements

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "FileOutcome",
    "ForgetTarget",
    "LogEntry",
    "Store",
    "StoreOverview",
    "StoredFile",
    "_statements",
]


class Store(MaintenanceStore):
    """One SQLite file. Open it with :meth:`open`; use it as a context manager."""
