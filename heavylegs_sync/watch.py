"""The watched-folder service: files dropped in are imported once complete, then analysed.

A file is imported only when its size and modification time have stayed the same for
``settle_s`` seconds (a copy over USB or a network share takes a while). A bad file is
logged, recorded, optionally copied (never moved: the folder may be a watch's own drive)
to a ``rejected`` folder with the reason, and not tried again until it changes; the
service carries on. Files that hold no activity (a watch's settings, monitoring, courses)
are passed over silently, and only regular files are ever read. After each burst of
imports the analysis runs again and every finding the new files brought is logged in one
line.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from heavylegs_sync import service
from heavylegs_sync.analysis import Finding
from heavylegs_sync.analysis.weeks import monday
from heavylegs_sync.config import Settings
from heavylegs_sync.decoding import DecodePool
from heavylegs_sync.diagnosis import athlete_zones, redate_store
from heavylegs_sync.errors import HeavyLegsError, ImportFailed
from heavylegs_sync.hr.zones import ZoneError
from heavylegs_sync.importers import DecodeOptions, is_importable
from heavylegs_sync.importers.source import display, file_kind, read_regular
from heavylegs_sync.ingest import (
    FileResult,
    ImportSummary,
    find_files,
    import_one,
    is_temporary,
    sha256_of,
)
from heavylegs_sync.logs import DATA_WARNING, NOTICE
from heavylegs_sync.report.findings import finding_message
from heavylegs_sync.report.render import write_atomically
from heavylegs_sync.store import Store

log = logging.getLogger("heavylegs.watch")


@dataclass
class WatchOptions:
    """How the service behaves."""

    folders: list[Path]
    settle_s: float = 2.0
    tick_s: float = 0.25
    rejected: Path | None = None  # copy bad files here, with a .reason.txt beside them
    report: Path | None = None  # written at start-up, rewritten after every burst
    report_format: str = "text"  # "text", "json" or "html" (the CLI picks it from the suffix)
    notify: tuple[str, ...] = ()  # Apprise addresses told when a new cause appears
    polling: bool = False  # for network shares where file events do not arrive
    once: bool = False  # import what is there, then exit
    retry_s: float = 5.0  # first wait after a store error; doubled each time it repeats
    retry_max_s: float = 300.0
    athlete: str | None = None  # named in each line and message (a squad's watcher)


@dataclass
class _Pending:
    size: int
    mtime_ns: int
    since: float


@dataclass
class BurstResult:
    """What one burst of imports did."""

    results: list[FileResult] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


class FolderWatcher:
    """Keeps folders imported. ``run`` returns when ``stop`` is set (or at once with --once)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        decode: DecodeOptions,
        options: WatchOptions,
        *,
        stop: threading.Event | None = None,
        today: Callable[[], datetime] | None = None,
        decoder: DecodePool | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.decode = decode
        self.options = options
        self.stop = stop or threading.Event()
        self.today = today or self._athlete_now
        self.pending: dict[Path, _Pending] = {}
        self.failed: dict[Path, tuple[int, int]] = {}  # path -> (size, mtime) that failed
        self.unreadable: set[Path] = set()  # FIFOs, devices: said once, never read
        self.noted: set[str] = set()  # notes on a missing decoder library, said once
        self.lock = threading.Lock()
        self.failures = 0
        self.store_errors = 0  # store errors in a row (the back-off doubles with each)
        # A decoder crash costs one file, not the service. A squad's watchers share one
        # (its owner closes it).
        self.owns_decoder = decoder is None
        self.decoder = decoder or DecodePool(1)
        who = options.athlete
        self.who = "" if who is None else f"{who}: "  # before each line about a burst

    def _athlete_now(self) -> datetime:
        """Now, in the athlete's zone as the activities say (a server's clock may be UTC)."""
        now = datetime.now(UTC)
        offset = athlete_zones(self.store, self.settings).at(now).offset_s
        return now.astimezone(timezone(timedelta(seconds=offset)))

    def close(self) -> None:
        """Stop the decoder process (unless it is shared)."""
        if self.owns_decoder:
            self.decoder.close()

    # -- events ------------------------------------------------------------------------

    def notice(self, path: Path) -> None:
        """A file appeared or changed: wait for it to settle, then import it."""
        if not self._wanted(path):
            return
        try:
            st = path.stat()
        except OSError:
            with self.lock:
                self.pending.pop(path, None)
            return
        if not stat.S_ISREG(st.st_mode):
            self._skip_unreadable(path, f"not a regular file ({file_kind(st.st_mode)})")
            return
        leaves = self._leaves_folders(path)
        if leaves is not None:
            self._skip_unreadable(path, leaves)
            return
        with self.lock:
            known = self.pending.get(path)
            if known is None or (known.size, known.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self.pending[path] = _Pending(st.st_size, st.st_mtime_ns, time.monotonic())

    def _wanted(self, path: Path) -> bool:
        if not is_importable(path) or is_temporary(path.name):
            return False
        for folder in self.options.folders:
            if folder in path.parents:
                inner = path.relative_to(folder).parts[:-1]
                if any(part.startswith(".") for part in inner):
                    return False  # hidden folders: trash, sync apps' staging areas
        rejected = self.options.rejected
        return not (rejected is not None and rejected in path.parents)

    def _leaves_folders(self, path: Path) -> str | None:
        """Why ``path`` must not be read: a symbolic link (of the file or a folder on its
        way) that leads out of the watched folders, to ``/etc/passwd`` or someone's
        secret; None for a file inside them."""
        real = Path(os.path.realpath(path))
        if any(real.is_relative_to(folder) for folder in self.options.folders):
            return None
        return f"a symbolic link to {display(real)}, outside the watched folders; not read"

    def scan(self) -> None:
        """Queue every importable file already in the folders."""
        for path, problem in find_files(self.options.folders):
            if problem is None:
                self.notice(path)
            elif self._wanted(path):
                self._skip_unreadable(path, problem)

    def _skip_unreadable(self, path: Path, problem: str) -> None:
        """A FIFO or device named like an activity file: said once, never read."""
        if path not in self.unreadable:
            self.unreadable.add(path)
            log.warning("%s: %s; skipped", display(path), problem)

    def settled(self, now: float | None = None) -> list[Path]:
        """Files whose size and mtime have not changed for ``settle_s``; taken off the queue."""
        now = time.monotonic() if now is None else now
        ready: list[Path] = []
        with self.lock:
            for path, seen in list(self.pending.items()):
                try:
                    st = path.stat()
                except OSError:
                    del self.pending[path]  # gone (moved away, or a temporary name)
                    continue
                if (st.st_size, st.st_mtime_ns) != (seen.size, seen.mtime_ns):
                    self.pending[path] = _Pending(st.st_size, st.st_mtime_ns, now)
                elif now - seen.since >= self.options.settle_s:
                    del self.pending[path]
                    if self.failed.get(path) != (st.st_size, st.st_mtime_ns):
                        ready.append(path)
        return sorted(ready)

    # -- imports -----------------------------------------------------------------------

    def import_burst(self, paths: Iterable[Path]) -> BurstResult:
        """Import settled files one at a time (so a stop request is honoured between
        files), then analyse what they changed."""
        burst = BurstResult()
        for path in paths:
            if self.stop.is_set():
                break
            result = self._import_one(path)
            if result is None:
                continue
            burst.results.append(result)
            burst.new_ids.extend(result.activity_ids)
        if burst.results:
            summary = ImportSummary()
            for result in burst.results:
                summary.add(result)
            log.log(NOTICE, "%s%s", self.who, summary.line())
        if burst.new_ids:
            try:
                redate_store(self.store, self.settings)  # new evidence of the athlete's zone
            except HeavyLegsError as exc:
                log.warning("%sdates not refreshed: %s", self.who, exc)
            burst.findings = self._new_findings(burst.new_ids)
            self._write_report()
            self._notify()
        elif any(r.wellness for r in burst.results):
            # New nights and resting days alone: the report shows them, and a cause they
            # bring today (10, or 1's body signals) is told as any other.
            self._write_report()
            self._notify()
        return burst

    def _import_one(self, path: Path) -> FileResult | None:
        shown = display(path)
        leaves = self._leaves_folders(path)  # again: the link may have changed since
        if leaves is not None:
            self.unreadable.discard(path)
            self._skip_unreadable(path, leaves)
            return None
        try:
            real = Path(os.path.realpath(path))  # checked inside; read from here on
            data = read_regular(real, self.decode.max_bytes)
        except ImportFailed as exc:  # too large, unreadable, replaced by a FIFO...
            self.failures += 1
            log.error("%s: %s", shown, exc.reason)
            self.store.log(shown, None, "failed", exc.reason)
            self._remember_failure(path)
            return FileResult(path, "failed", message=exc.reason)
        reason = self.store.failure_of(sha256_of(data))
        if reason is not None:
            self._remember_failure(path)
            log.debug("%s: unchanged since it failed (%s); not retried", shown, reason)
            return None
        result = import_one(self.store, real, self.decode, pool=self.decoder)
        if result.outcome == "new":
            log.info("imported %s (%s)", shown, result.contents)
        elif result.outcome == "duplicate":
            # Every restart meets every file again: only -vv wants a line each.
            log.debug("already imported: %s", shown)
        elif result.not_activity:
            # A watch's settings, monitoring or course files: not ours, never touched.
            self._remember_failure(path)
            log.debug("%s: skipped: %s", shown, result.message)
        else:
            self.failures += 1
            log.error("%s: %s", shown, result.message)
            self._remember_failure(path)
            self._reject(path, data, result.message or "failed")
        for line in result.rejected:  # rows of a stored wellness file left out
            self.failures += 1
            log.error("%s: %s", shown, line)
        for warning in result.warnings:
            log.warning("%s: %s", shown, warning, extra=DATA_WARNING)
        for note in result.notes:
            if note.per_file:
                log.warning("%s: %s", shown, note.text)
            elif note.text not in self.noted:  # a missing library: said once
                self.noted.add(note.text)
                log.warning("%s", note.text)
        return result

    def _remember_failure(self, path: Path) -> None:
        try:
            st = path.stat()
        except OSError:
            return
        self.failed[path] = (st.st_size, st.st_mtime_ns)

    def _reject(self, path: Path, data: bytes, reason: str) -> None:
        """Keep a copy of a failed file and why it failed; the file itself stays put.

        The copy is written without following links (a symlink planted in the folder is
        never written through) and no more readable than the file it copies (at most
        0600; the folder, when created, 0700).
        """
        folder = self.options.rejected
        if folder is None:
            return
        try:
            st = path.stat()
        except OSError:
            return
        if self.failed.get(path) != (st.st_size, st.st_mtime_ns):
            return  # still being written after all: it will be tried again, not copied
        mode = (stat.S_IMODE(st.st_mode) & 0o600) | 0o400
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            target = _write_new(folder, path.name, data, mode)
            _write_new(
                folder,
                target + ".reason.txt",
                f"{display(path)}: {reason}\n".encode(),
                mode,
                exact=True,
            )
            log.info("copied %s to %s", display(path), display(folder / target))
        except OSError as exc:
            why = exc.strerror or exc
            log.warning("%s: cannot copy to %s: %s", display(path), display(folder), why)

    # -- analysis ----------------------------------------------------------------------

    def _new_findings(self, new_ids: list[int]) -> list[Finding]:
        """Findings present with the new activities and absent without them.

        A new activity can change its own week, the day before it (strength before a long
        run) and, through streaks, the days after it: every week from the one holding the
        day before the earliest new activity up to today is analysed, as the full report
        would analyse it.
        """
        try:
            wanted = set(new_ids)
            new_days = [a.start_local.date() for a in self.store.activities() if a.id in wanted]
            if not new_days:
                return []
            first = monday(min(new_days) - timedelta(days=1))
            last = max(self.today().date(), max(new_days))
            after = service.analysis(self.store, self.settings, last, first)
        except HeavyLegsError as exc:
            log.warning("%sanalysis skipped: %s", self.who, exc)
            return []
        try:
            before = service.analysis(self.store, self.settings, last, first, leave_out=new_ids)
            seen = {_key(f) for f in before.findings}
        except ZoneError as exc:
            # Without the new files there may be no zones at all (the first burst into a
            # store whose max HR is estimated from its runs): then no finding was there
            # before, and every finding is new.
            log.debug("no analysis without the new files (%s): every finding is new", exc)
            seen = set()
        fresh = [f for f in after.findings if _key(f) not in seen]
        for finding in fresh:
            log.warning(
                "%sfinding: week of %s, cause %d (%s): %s", self.who, finding.week_start,
                finding.cause, finding.code, finding_message(finding),
            )  # fmt: skip
        return fresh

    def _write_report(self) -> None:
        """The report of the 8 weeks to today, as ``heavylegs report -o FILE`` writes it."""
        path = self.options.report
        if path is None:
            return
        try:
            day = self.today().date()
            result = service.render_report(
                self.store, self.settings, last=day, output_format=self.options.report_format
            )
            write_atomically(path, result.text)
            log.info("%sreport written to %s", self.who, path)
        except HeavyLegsError as exc:
            log.warning("%sreport not written: %s", self.who, exc)

    def _notify(self) -> None:
        """Tell the --notify addresses about causes new today; a failure is one warning."""
        if not self.options.notify:
            return
        from heavylegs_sync.notify import notify_store

        try:
            result = notify_store(
                self.store,
                self.settings,
                self.options.notify,
                self.today().date(),
                athlete=self.options.athlete,
            )
        except HeavyLegsError as exc:
            log.warning("%snotifications not checked: %s", self.who, exc)
            return
        for delivery in result.deliveries:
            if delivery.outcome == "sent":
                causes = ", ".join(delivery.causes)
                log.log(NOTICE, "%snotified %s: %s", self.who, delivery.address, causes)
        for line in result.warnings():
            log.warning("%s%s", self.who, line)

    # -- the loop ----------------------------------------------------------------------

    def run(self) -> int:
        """Serve until stopped; 0 after a clean stop, 1 with --once when a file failed."""
        try:
            return self._run()
        finally:
            self.close()

    def start(self) -> None:
        """At start-up, before any new file: a service started on an imported inbox has
        its report (and its messages) at once, not after the next file arrives; then
        every file already there is queued."""
        self._write_report()
        self._notify()
        self.scan()

    def schedule(self, observer: BaseObserver) -> list[ObservedWatch]:
        """Have ``observer`` tell this watcher of every change in its folders."""
        handler = _Handler(self)
        return [
            observer.schedule(handler, str(folder), recursive=True)
            for folder in self.options.folders
        ]

    def tick(self) -> None:
        """Import what has settled since the last tick."""
        ready = self.settled()
        if ready:
            self._guarded_burst(ready)

    def _run(self) -> int:
        self.start()
        if self.options.once:
            self.drain()
            return 1 if self.failures else 0
        observer = new_observer(self.options.polling)
        self.schedule(observer)
        observer.start()
        log.log(NOTICE, "watching %s", ", ".join(str(f) for f in self.options.folders))
        try:
            while not self.stop.wait(self.options.tick_s):
                self.tick()
        finally:
            observer.stop()
            observer.join(timeout=5)
        log.log(NOTICE, "stopped")
        return 0

    def _guarded_burst(self, ready: list[Path]) -> None:
        """A burst that cannot end the service: on a store error (busy for a minute, a
        full disk, a read-only or damaged file) the files go back to the queue and are
        tried again after a wait that doubles while the error lasts."""
        try:
            self.import_burst(ready)
        except HeavyLegsError as exc:
            self.store_errors += 1
            wait = min(
                self.options.retry_s * 2 ** (self.store_errors - 1), self.options.retry_max_s
            )
            log.error("%simport interrupted, retrying in %g s: %s", self.who, wait, exc)
            for path in ready:
                self.notice(path)
            self.stop.wait(wait)
        else:
            self.store_errors = 0

    def drain(self) -> None:
        """--once: wait until everything found has settled, import it, and return."""
        while self.pending and not self.stop.is_set():
            ready = self.settled()
            if ready:
                self.import_burst(ready)
            elif self.pending:
                self.stop.wait(self.options.tick_s)


def new_observer(polling: bool) -> BaseObserver:
    """File events (inotify), or polling for network shares where events do not arrive."""
    return PollingObserver(timeout=1.0) if polling else Observer()


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: FolderWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            if event.event_type in ("created", "moved"):
                # A folder copied or moved in at once: its files may raise no events.
                target = getattr(event, "dest_path", "") or event.src_path
                for path, problem in find_files([Path(os.fsdecode(target))]):
                    if problem is None:
                        self.watcher.notice(path)
            return
        if event.event_type in ("created", "modified", "closed"):
            self.watcher.notice(Path(os.fsdecode(event.src_path)))
        elif event.event_type == "moved":
            self.watcher.notice(Path(os.fsdecode(event.dest_path)))


def _write_new(folder: Path, name: str, data: bytes, mode: int, *, exact: bool = False) -> str:
    """Write ``data`` as a new file in ``folder`` (``name``, else ``stem-1.suffix`` ...,
    unless ``exact``) and return the name used. Every open is relative to the folder,
    exclusive and refuses symbolic links, so nothing planted there is followed or
    overwritten. A name is taken only if its ``.reason.txt`` is free too."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    where = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        stem, dot, suffix = name.partition(".")
        for counter in range(10_000):
            chosen = name if counter == 0 else f"{stem}-{counter}{dot}{suffix}"
            if not exact and _taken(chosen + ".reason.txt", where):
                continue
            try:
                handle = os.open(chosen, flags, mode, dir_fd=where)
            except FileExistsError:  # a file, or a symbolic link planted there
                if exact:
                    raise
                continue
            with os.fdopen(handle, "wb") as out:
                os.fchmod(out.fileno(), mode)  # the umask may have taken bits: set them
                out.write(data)
            return chosen
        raise FileExistsError(f"{name} and 9,999 like it already exist")
    finally:
        os.close(where)


def _taken(name: str, where: int) -> bool:
    try:
        os.stat(name, dir_fd=where, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _key(finding: Finding) -> tuple[int, str, str, str | None]:
    return (
        finding.cause,
        finding.code,
        finding.week_start.isoformat(),
        None if finding.date is None else finding.date.isoformat(),
    )
