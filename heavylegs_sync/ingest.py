"""Import files into the store: the one entry point the CLI, the watcher and tests share.

Each file is read (regular files only, within the size cap) and hashed first; a file whose
content the store already holds is not decoded again (a renamed copy included). Decoding
and the plausibility checks run in worker processes (:mod:`heavylegs_sync.decoding`), so a
decoder crash costs that file alone; the store is written by this process alone, one
short transaction per file, so a failure in one file never touches what is already
stored and the rest of the batch goes on.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from heavylegs_sync.decoding import Decoded, DecodePool, Outcome
from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import DecodeOptions, is_importable
from heavylegs_sync.importers.source import display, file_kind, read_regular
from heavylegs_sync.store import Store

FileOutcome = Literal["new", "duplicate", "failed"]


@dataclass(frozen=True)
class FileResult:
    """What happened to one file."""

    path: Path
    outcome: FileOutcome
    activity_ids: tuple[int, ...] = ()
    message: str | None = None
    warnings: tuple[str, ...] = ()  # values dropped from a stored file, one line each
    not_activity: bool = False  # a well-formed file that holds no activity (FIT settings...)

    @property
    def shown(self) -> str:
        """The path for people: bytes that are not UTF-8 shown escaped."""
        return display(self.path)


@dataclass
class ImportSummary:
    """Counts for the closing line, and every failure for the error lines."""

    new: int = 0
    new_activities: int = 0
    duplicate: int = 0
    failures: list[FileResult] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Number of files that could not be imported."""
        return len(self.failures)

    def add(self, result: FileResult) -> None:
        """Count one file's result."""
        if result.outcome == "new":
            self.new += 1
            self.new_activities += len(result.activity_ids)
            self.new_ids.extend(result.activity_ids)
        elif result.outcome == "duplicate":
            self.duplicate += 1
        else:
            self.failures.append(result)

    def line(self) -> str:
        """``12 new (13 activities), 340 already imported, 2 failed``."""
        new = f"{self.new} new"
        if self.new_activities != self.new:
            new += f" ({self.new_activities} activities)"
        return f"{new}, {self.duplicate} already imported, {self.failed} failed"


Progress = Callable[[FileResult], None]


def find_files(paths: Iterable[Path]) -> Iterator[tuple[Path, str | None]]:
    """Every importable file under the given paths, with a reason when one is unusable.

    Folders are walked recursively in name order; hidden and temporary files are passed
    over. A file named explicitly is always attempted, so a wrong type is reported.
    """
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    candidate = Path(root) / name
                    if not is_temporary(name) and is_importable(candidate):
                        yield candidate, _unusable(candidate)
        elif path.is_file():
            yield path, None
        elif path.exists():
            yield path, _unusable(path) or "not a regular file"
        else:
            yield path, "no such file or folder"


def _unusable(path: Path) -> str | None:
    """Why a file found in a folder cannot be read (a FIFO, a device link), or None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    return None if stat.S_ISREG(mode) else f"not a regular file ({file_kind(mode)})"


def is_temporary(name: str) -> bool:
    """Hidden, editor or download-in-progress names: never an activity file (yet)."""
    lowered = name.lower()
    return (
        name.startswith(".")
        or name.startswith("~")
        or lowered.endswith((".tmp", ".part", ".partial", ".crdownload", ".swp"))
    )


def sha256_of(data: bytes) -> str:
    """The content identity of a file."""
    return hashlib.sha256(data).hexdigest()


def import_paths(
    store: Store,
    paths: Sequence[Path],
    options: DecodeOptions,
    *,
    progress: Progress | None = None,
    workers: int = 1,
    now: datetime | None = None,
    pool: DecodePool | None = None,
) -> ImportSummary:
    """Import every file under ``paths`` into ``store``.

    ``progress`` is called once per file with its result. ``workers`` processes decode
    (unless ``pool`` gives running ones). ``now`` is the time plausibility is judged
    against (no activity starts more than a day after it); the clock when omitted.
    """
    summary = ImportSummary()
    moment = now or datetime.now(UTC)

    def finish(result: FileResult) -> None:
        summary.add(result)
        if progress is not None:
            progress(result)

    files = list(find_files(paths))
    own = pool is None
    decoder = pool or DecodePool(min(workers, max(1, len(files))))
    pending: deque[tuple[Path, str, int, Future[Outcome]]] = deque()
    try:
        for path, problem in files:
            if problem is not None:
                finish(_fail(store, path, None, problem))
                continue
            try:
                data = read_regular(path, options.max_bytes)
            except ImportFailed as exc:
                finish(_fail(store, path, None, exc.reason))
                continue
            digest = sha256_of(data)
            known = store.known_file(digest)
            if known is not None:
                message = f"already imported from {known.path}"
                store.log(display(path), digest, "duplicate", message)
                finish(FileResult(path, "duplicate", message=message))
                continue
            pending.append((path, digest, len(data), decoder.submit(path, options, moment)))
            while len(pending) > 2 * decoder.workers:
                finish(_store_decoded(store, decoder, *pending.popleft(), options, moment))
        while pending:
            finish(_store_decoded(store, decoder, *pending.popleft(), options, moment))
    finally:
        if own:
            decoder.close()
    return summary


def import_one(
    store: Store,
    path: Path,
    options: DecodeOptions,
    *,
    now: datetime | None = None,
    pool: DecodePool | None = None,
) -> FileResult:
    """Import a single file (the watched-folder path); its decoding runs in a worker too."""
    results: list[FileResult] = []
    import_paths(store, [path], options, progress=results.append, now=now, pool=pool)
    return results[0]


def _store_decoded(
    store: Store,
    decoder: DecodePool,
    path: Path,
    digest: str,
    size: int,
    future: Future[Outcome],
    options: DecodeOptions,
    now: datetime,
) -> FileResult:
    decoded = decoder.outcome(future, path, options, now)
    if not isinstance(decoded, Decoded):
        result = _fail(store, path, digest, decoded.reason)
        if decoded.not_activity:
            return FileResult(path, "failed", message=decoded.reason, not_activity=True)
        return result
    stored = store.add_file(display(path), digest, size, decoded.activities)
    warnings = tuple(decoded.warnings)
    if stored.new_ids:
        return FileResult(path, "new", stored.new_ids, warnings=warnings)
    return FileResult(path, "duplicate", message="already imported")


def _fail(store: Store, path: Path, digest: str | None, reason: str) -> FileResult:
    store.log(display(path), digest, "failed", reason)
    return FileResult(path, "failed", message=reason)
