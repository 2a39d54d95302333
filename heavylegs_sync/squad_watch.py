"""A squad's watched folders (``watch --per-athlete ROOT``): each sub-folder of the root is
the inbox of the athlete of its name (``ROOT/anna/`` is anna's).

One process and one store connection: each athlete's :class:`FolderWatcher` holds the
store scoped to them (:meth:`Store.for_athlete`, the same connection), their own settings
(their zones weigh their files) and the one decoder process they share. A file goes to the
athlete whose folder holds it and to nobody else: a symbolic link from one athlete's
folder into another's leads out of their folder, and is not read.

A sub-folder whose name is no athlete of the store is named once, with the command that
adds one, and left alone. The root and the store's athletes are looked at again every
``recheck_s`` seconds, and at once when something appears in the root, so a folder or an
athlete added later is picked up without a restart. Files directly in the root are
nobody's: each is named once and not imported.
"""

from __future__ import annotations

import logging
import os
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver, ObservedWatch

from heavylegs_sync.config import Settings
from heavylegs_sync.decoding import DecodePool
from heavylegs_sync.errors import HeavyLegsError
from heavylegs_sync.importers import DecodeOptions, is_importable
from heavylegs_sync.importers.source import display
from heavylegs_sync.ingest import is_temporary
from heavylegs_sync.logs import NOTICE
from heavylegs_sync.service import settings_of
from heavylegs_sync.store import Athlete, Store
from heavylegs_sync.watch import FolderWatcher, WatchOptions, new_observer

log = logging.getLogger("heavylegs.watch")

#: Stands for the athlete's name in ``--report`` (``reports/{athlete}.html``).
ATHLETE_FIELD = "{athlete}"


def athlete_report(pattern: Path, name: str) -> Path:
    """``pattern`` with the athlete's name in place of ``{athlete}``, percent-encoded where
    it holds anything a file name should not (as ``heavylegs team`` links
    ``reports/NAME.html``)."""
    return Path(str(pattern).replace(ATHLETE_FIELD, quote(name, safe="")))


class SquadWatcher:
    """Keeps every athlete's folder under ``options.folders[0]`` imported for them."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        options: WatchOptions,
        decode_for: Callable[[Settings], DecodeOptions],
        *,
        stop: threading.Event | None = None,
        recheck_s: float = 10.0,
    ) -> None:
        (root,) = options.folders
        self.store = store  # unscoped: it lists athletes; each watcher writes its own scope
        self.root = root
        self.settings = settings  # the shared ones; each athlete's tables go over them
        self.options = options  # the squad's; each athlete's watcher gets a copy
        self.decode_for = decode_for  # the decoders' options an athlete's settings give
        self.stop = stop or threading.Event()
        self.recheck_s = recheck_s
        self.watchers: dict[str, FolderWatcher] = {}
        self.ids: dict[str, int] = {}  # the athlete each name was: renamed or removed, dropped
        self.watches: dict[str, list[ObservedWatch]] = {}
        self.said: set[str] = set()  # folders left alone, each said once
        self.loose: set[Path] = set()  # files directly in the root, each said once
        self.decoder = DecodePool(1)
        self.wake = threading.Event()  # something appeared in the root: look now
        self.observer: BaseObserver | None = None

    # -- the squad ---------------------------------------------------------------------

    def refresh(self) -> list[FolderWatcher]:
        """Look at the root and the store's athletes: a watcher for each athlete's folder
        not watched yet (returned, not started), none for a folder or athlete gone."""
        folders = self._folders()
        athletes = {a.name: a for a in self.store.athletes.list()}
        for name in list(self.watchers):
            found = athletes.get(name)
            if name not in folders:
                self._drop(name, "its folder is gone")
            elif found is None or found.id != self.ids[name]:
                self._drop(name, f"no athlete {name!r} in the store any more")
        added: list[FolderWatcher] = []
        # Real folders first: a link to one never takes it from its own athlete.
        for name, folder in sorted(folders.items(), key=lambda f: (f[1].is_symlink(), f[0])):
            if name in self.watchers:
                continue
            athlete = athletes.get(name)
            if athlete is None:
                self._say_once(
                    name,
                    f"{display(folder)}: no athlete {name!r}; not imported until one is"
                    f" added: heavylegs athletes add {shlex.quote(name)}",
                )
                continue
            shared = self._shared(folder)
            if shared is not None:
                self._say_once(name, f"{display(folder)}: {shared}; not watched")
                continue
            watcher = self._watcher(athlete, folder)
            if watcher is not None:
                self.watchers[name] = watcher
                self.ids[name] = athlete.id
                self.said.discard(name)  # said again should it go away
                added.append(watcher)
        return added

    def _folders(self) -> dict[str, Path]:
        """The root's sub-folders by name (hidden ones left out); files directly in the
        root are said once each."""
        found: dict[str, Path] = {}
        try:
            entries = sorted(self.root.iterdir())
        except OSError as exc:
            log.warning("%s: cannot be read: %s", display(self.root), exc.strerror or exc)
            return found
        for entry in entries:
            name = entry.name
            if name.startswith(".") or is_temporary(name):
                continue
            if entry.is_dir():
                found[name] = entry
            elif is_importable(entry) and entry not in self.loose:
                self.loose.add(entry)
                log.warning(
                    "%s: directly in %s, so nobody's; not imported (move it into the folder"
                    " of its athlete)",
                    display(entry),
                    display(self.root),
                )
        return found

    def _shared(self, folder: Path) -> str | None:
        """Why ``folder`` cannot be an athlete's own: a link to the root (or above it), or
        to another athlete's folder (or into or around it), whose files are theirs."""
        real = folder.resolve()
        if self.root.is_relative_to(real):
            return f"a link to {display(real)}, which holds the whole squad"
        for other, watcher in self.watchers.items():
            theirs = watcher.options.folders[0]
            if real.is_relative_to(theirs) or theirs.is_relative_to(real):
                return f"a link to {display(real)}, which holds {other}'s files"
        return None

    def _say_once(self, name: str, line: str) -> None:
        if name not in self.said:
            self.said.add(name)
            log.warning("%s", line)

    def _watcher(self, athlete: Athlete, folder: Path) -> FolderWatcher | None:
        """The watcher of one athlete's folder, with their own settings; None (said once)
        when those or their scope cannot be had."""
        name = athlete.name
        try:
            settings = settings_of(self.settings, athlete)
            decode = self.decode_for(settings)
            scoped = self.store.for_athlete(name)
        except HeavyLegsError as exc:
            self._say_once(name, f"{display(folder)}: not watched: {exc}")
            return None
        rejected = self.options.rejected
        report = self.options.report
        options = replace(
            self.options,
            folders=[folder.resolve()],
            rejected=None if rejected is None else rejected / quote(name, safe=""),
            report=None if report is None else athlete_report(report, name),
            athlete=name,
        )
        return FolderWatcher(
            scoped, settings, decode, options, stop=self.stop, decoder=self.decoder
        )

    def _drop(self, name: str, why: str) -> None:
        watcher = self.watchers.pop(name)
        del self.ids[name]
        if self.observer is not None:
            for watch in self.watches.pop(name, []):
                self.observer.unschedule(watch)
        watcher.close()
        self.said.add(name)  # its folder is not said again as unknown
        log.warning("%s: not watched any more: %s", display(self.root / name), why)

    def _begin(self, watchers: list[FolderWatcher]) -> None:
        """Start new watchers: their reports and messages, files already there queued,
        and (serving) their folders watched."""
        for watcher in watchers:
            if self.observer is not None:
                self.watches[str(watcher.options.athlete)] = watcher.schedule(self.observer)
            watcher.start()

    # -- the loop ----------------------------------------------------------------------

    @property
    def failures(self) -> int:
        """Files that failed, every athlete's."""
        return sum(w.failures for w in self.watchers.values())

    def run(self) -> int:
        """Serve until stopped; 0 after a clean stop, 1 with --once when a file failed."""
        try:
            return self._run()
        finally:
            for watcher in self.watchers.values():
                watcher.close()
            self.decoder.close()

    def _run(self) -> int:
        if self.options.once:
            started = self.refresh()
            self._begin(started)
            for watcher in started:
                watcher.drain()
            return 1 if self.failures else 0
        # Watching before looking: a file that arrives meanwhile is seen twice, not missed.
        self.observer = new_observer(self.options.polling)
        self.observer.schedule(_RootHandler(self), str(self.root), recursive=False)
        self.observer.start()
        self._begin(self.refresh())
        names = ", ".join(self.watchers) or "no athlete's folder yet"
        log.log(NOTICE, "watching %s: %s", self.root, names)
        next_look = time.monotonic() + self.recheck_s
        try:
            while not self.stop.wait(self.options.tick_s):
                for watcher in list(self.watchers.values()):
                    watcher.tick()
                if self.wake.is_set() or time.monotonic() >= next_look:
                    self.wake.clear()
                    next_look = time.monotonic() + self.recheck_s
                    self._look_again()
        finally:
            self.observer.stop()
            self.observer.join(timeout=5)
        log.log(NOTICE, "stopped")
        return 0

    def _look_again(self) -> None:
        """Pick up folders and athletes added since; a store error waits for the next look."""
        try:
            added = self.refresh()
        except HeavyLegsError as exc:
            log.warning("athletes not looked up (tried again in %g s): %s", self.recheck_s, exc)
            return
        self._begin(added)
        for watcher in added:
            folder, name = watcher.options.folders[0], watcher.options.athlete
            log.log(NOTICE, "watching %s for %s", folder, name)


class _RootHandler(FileSystemEventHandler):
    """Anything new directly in the root (a folder, a stray file): look at the root now."""

    def __init__(self, squad: SquadWatcher) -> None:
        self.squad = squad

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("created", "moved"):
            target = getattr(event, "dest_path", "") or event.src_path
            if Path(os.fsdecode(target)).parent == self.squad.root:
                self.squad.wake.set()
