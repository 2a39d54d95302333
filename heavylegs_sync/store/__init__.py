"""The SQLite activity store: the only package that writes SQL.

One :class:`Store` over one SQLite file, composed of parts over one shared
:class:`~.connection.Connection` (opening, WAL, transactions, migrations from
:mod:`.schema`): :mod:`.files` (files imported and the import log), :mod:`.derived`
(figures kept so reports read no samples), :mod:`.activities` (activities, their samples
and copies), :mod:`.sync_state` (state and the Strava queue) and :mod:`.maintenance`
(counts, forget) and :mod:`.wellness` (sleep, resting HR, HRV by day and source). Each
part sees the connection and the parts it is handed, nothing else;
the store decides nothing (:mod:`heavylegs_sync.linking` plans, the store carries out).
docs/store.md lists the interface and where SQLite's dialect lives.

The folder watcher, the nightly Strava sync and a manual import may all write at once, so
the database runs in WAL mode with a busy timeout and every write is one short
``BEGIN IMMEDIATE`` transaction: a file's activities land completely or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from heavylegs_sync.errors import AthleteError
from heavylegs_sync.store.activities import Activities
from heavylegs_sync.store.athletes import DEFAULT_ATHLETE, Athlete, Athletes
from heavylegs_sync.store.connection import Connection
from heavylegs_sync.store.derived import Derived
from heavylegs_sync.store.files import FileOutcome, Files, LogEntry, StoredFile
from heavylegs_sync.store.schema import MIGRATIONS, SCHEMA_VERSION, _statements
from heavylegs_sync.store.sync_state import SyncState
from heavylegs_sync.store.wellness import Wellness

if TYPE_CHECKING:
    from heavylegs_sync.store.maintenance import (
        ForgetTarget,
        Maintenance,
        StoreOverview,
        WellnessFile,
        WellnessSpan,
    )

__all__ = [
    "DEFAULT_ATHLETE",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Athlete",
    "FileOutcome",
    "ForgetTarget",
    "LogEntry",
    "Store",
    "StoreOverview",
    "StoredFile",
    "WellnessFile",
    "WellnessSpan",
    "_statements",
]

#: Names this package offers from its maintenance part, loaded when first asked for: a
#: command that never looks at the store's overview or forgets (``today``) never makes
#: their classes.
_MAINTENANCE_NAMES = frozenset({"ForgetTarget", "StoreOverview", "WellnessFile", "WellnessSpan"})


def __getattr__(name: str) -> object:
    if name in _MAINTENANCE_NAMES:
        from heavylegs_sync.store import maintenance

        return getattr(maintenance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Store:
    """One store. Open it with :meth:`open`; use it as a context manager.

    Its parts are attributes (``files``, ``figures``, ``records``, ``sync``,
    ``maintenance``, ``body``); the methods callers use are offered on the store itself as
    well, so a caller needs to know none of the parts.
    """

    def __init__(self, connection: Connection, athlete: Athlete | None = None) -> None:
        if athlete is not None:  # a connection this store owns, or a scoped copy of one
            connection.athlete_id = athlete.id
        self.connection = connection
        #: The athlete every read and write is scoped to (None: a store that holds none
        #: yet, read; or opened ``unscoped`` to manage athletes).
        self.athlete = athlete
        self.athletes = Athletes(connection)
        self.files = Files(connection)
        self.figures = Derived(connection)
        self.records = Activities(connection, self.files)
        self.sync = SyncState(connection, self.files, self.records)
        self.body = Wellness(connection)
        # files
        self.known_file = self.files.known_file
        self.log = self.files.log
        self.failure_of = self.files.failure_of
        self.import_log = self.files.import_log
        # derived figures
        self.derived = self.figures.derived
        self.save_derived = self.figures.save_derived
        self.unsaved_derived = self.figures.unsaved_derived
        self.peak_runs = self.figures.peak_runs
        # activities
        self.add_file = self.records.add_file
        self.add_activity = self.records.add_activity
        self.primary_of = self.records.primary_of
        self.activities = self.records.activities
        self.activities_on_days = self.records.activities_on_days
        self.latest_starts = self.records.latest_starts
        self.activities_local = self.records.activities_local
        self.watch_hr_settings = self.records.watch_hr_settings
        self.start_of = self.records.start_of
        self.offsets_from_sources = self.records.offsets_from_sources  # docs/timezones.md
        self.offsets_by_zone = self.records.offsets_by_zone
        self.set_offsets = self.records.set_offsets
        self.samples = self.records.samples
        self.packed_samples = self.records.packed_samples
        self.sample_count = self.records.sample_count
        self.count = self.records.count
        # sync state
        self.get_state = self.sync.get_state
        self.set_state = self.sync.set_state
        self.queue_strava = self.sync.queue_strava
        self.strava_queue = self.sync.strava_queue
        self.strava_queue_size = self.sync.strava_queue_size
        self.strava_refused = self.sync.strava_refused
        self.refuse_strava = self.sync.refuse_strava
        self.add_strava = self.sync.add_strava
        self.purge_source = self.sync.purge_source
        # wellness
        self.add_wellness = self.body.add_wellness
        self.wellness = self.body.wellness
        self.wellness_count = self.body.wellness_count
        # the squad at once: every athlete's, by athlete id (the coach's view)
        self.squad_activities = self.records.squad_activities
        self.squad_watch_hr_settings = self.records.squad_watch_hr_settings
        self.squad_offsets_from_sources = self.records.squad_offsets_from_sources
        self.squad_derived = self.figures.squad_derived
        self.squad_peak_runs = self.figures.squad_peak_runs
        self.squad_state = self.sync.squad_state
        self.squad_wellness = self.body.squad_wellness

    @cached_property
    def maintenance(self) -> Maintenance:
        """Counting and forgetting, made when first asked: only ``info`` and ``forget``
        use it, so no other command loads it at start-up (docs/performance.md)."""
        from heavylegs_sync.store.maintenance import Maintenance

        return Maintenance(self.connection)

    def overview(self) -> StoreOverview:
        """Counts for ``heavylegs info`` (:meth:`.maintenance.Maintenance.overview`)."""
        return self.maintenance.overview()

    def forget_targets(
        self, ids: Sequence[int] = (), files: Sequence[tuple[Path | str, str | None]] = ()
    ) -> tuple[list[ForgetTarget], list[str]]:
        """The activities ``forget`` would remove, and the ids and paths that matched
        nothing (:meth:`.maintenance.Maintenance.forget_targets`)."""
        return self.maintenance.forget_targets(ids, files)

    def forget(self, targets: Sequence[ForgetTarget]) -> tuple[int, int]:
        """Remove these activities with every copy; (records, file records) removed
        (:meth:`.maintenance.Maintenance.forget`)."""
        return self.maintenance.forget(targets)

    def wellness_sources(self) -> list[WellnessSpan]:
        """Days by source, with each source's first and last day (``info``)."""
        return self.maintenance.wellness_sources()

    def wellness_of_files(
        self, files: Sequence[tuple[Path | str, str | None]]
    ) -> tuple[list[WellnessFile], list[str]]:
        """The wellness files ``forget`` would take out, and the paths that matched none
        (:meth:`.maintenance.Maintenance.wellness_of_files`)."""
        return self.maintenance.wellness_of_files(files)

    def forget_wellness(self, files: Sequence[WellnessFile]) -> tuple[int, int]:
        """Remove the rows these files filled; (rows, file records) removed
        (:meth:`.maintenance.Maintenance.forget_wellness`)."""
        return self.maintenance.forget_wellness(files)

    @classmethod
    def open(
        cls,
        target: Path | str,
        *,
        athlete: str | None = None,
        busy_timeout_s: float = 60.0,
        read_only: bool = False,
        unscoped: bool = False,
    ) -> Self:
        """Open (creating if needed) and migrate the store at ``target`` (an SQLite file,
        or a ``postgresql://`` URL); ``read_only`` opens an existing store at this schema
        without writing (see :meth:`.connection.Connection.open`).

        Every read and write is then ``athlete``'s; None means the store's only athlete
        (a store that holds none gets :data:`DEFAULT_ATHLETE` when opened to write), and
        is refused when it holds several. ``unscoped``: no athlete (``athletes`` commands,
        the coach's view, which scope with :meth:`for_athlete`)."""
        connection = _connect(target, busy_timeout_s=busy_timeout_s, read_only=read_only)
        try:
            chosen = None if unscoped else _choose(connection, athlete, read_only)
        except BaseException:
            connection.close()
            raise
        return cls(connection, chosen)

    def for_athlete(self, name: str) -> Store:
        """The same store scoped to another athlete (the same connection: close this one,
        not it)."""
        found = self.athletes.get(name)
        if found is None:
            raise AthleteError(self.athletes.unknown(name))
        return self.scoped_to(found)

    def scoped_to(self, athlete: Athlete) -> Store:
        """The same store scoped to ``athlete``, one of :meth:`Athletes.list`'s (no
        statement: the coach's view scopes a thousand of them)."""
        return Store(self.connection.scoped(athlete.id), athlete)

    @property
    def path(self) -> Path | str:
        """The store's file (PostgreSQL: its URL without a password), for messages."""
        return self.connection.path

    def known_key(self) -> tuple[Path | str, str | None]:
        """What a decoding worker opens to look content up: this store and athlete."""
        return (self.connection.target, None if self.athlete is None else self.athlete.name)

    @property
    def dialect(self) -> str:
        """The database's SQL dialect: "sqlite" or "postgresql"."""
        return self.connection.dialect

    @property
    def read_only(self) -> bool:
        """Opened read-only: nothing is written; derived figures are held (see
        :meth:`unsaved_derived`)."""
        return self.connection.read_only

    def schema_version(self) -> int:
        """The schema version recorded in the file."""
        return self.connection.schema_version()

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def is_server_url(target: Path | str) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than an SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def _connect(target: Path | str, *, busy_timeout_s: float, read_only: bool) -> Connection:
    if is_server_url(target):
        from heavylegs_sync.store.postgres import PgConnection

        return PgConnection.open(str(target), read_only=read_only)
    return Connection.open(target, busy_timeout_s=busy_timeout_s, read_only=read_only)


def _choose(connection: Connection, name: str | None, read_only: bool) -> Athlete | None:
    """The athlete a command means: the one named, else the store's only one."""
    athletes = Athletes(connection)
    if name is not None:
        found = athletes.get(name)
        if found is None:
            raise AthleteError(athletes.unknown(name))
        return found
    every = athletes.list()
    if len(every) == 1:
        return every[0]
    if not every:
        return None if read_only else athletes.ensure(DEFAULT_ATHLETE)
    names = ", ".join(a.name for a in every[:8]) + (", ..." if len(every) > 8 else "")
    raise AthleteError(
        f"{connection.path}: this store holds {len(every)} athletes ({names}):"
        " choose one with --athlete NAME (or HEAVYLEGS_ATHLETE)"
    )
