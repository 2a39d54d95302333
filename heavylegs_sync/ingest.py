"""Import files into the store: the one entry point the CLI, the watcher and tests share.

Each file is hashed first; a file whose content the store already holds is not decoded
again (a renamed copy included). Decoding may run in worker processes; the store is
written by this process alone, one short transaction per file, so a failure in one file
never touches what is already stored and the rest of the batch goes on.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import DecodeOptions, decode_file, is_importable
from heavylegs_sync.model import Activity
from heavylegs_sync.store import Store

Outcome = Literal["new", "duplicate", "failed"]


@dataclass(frozen=True)
class FileResult:
    """What happened to one file."""

    path: Path
    outcome: Outcome
    activity_ids: tuple[int, ...] = ()
    message: str | None = None


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
#: A decoded file (activities or the reason it failed), or the future that will hold it.
_Job = Future[list[Activity] | str] | list[Activity] | str


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
                        yield candidate, None
        elif path.is_file():
            yield path, None
        elif path.exists():
            yield path, "not a regular file"
        else:
            yield path, "no such file or folder"


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
) -> ImportSummary:
    """Import every file under ``paths`` into ``store``.

    ``progress`` is called once per file with its result. ``workers`` > 1 decodes in that
    many processes.
    """
    summary = ImportSummary()

    def finish(result: FileResult) -> None:
        summary.add(result)
        if progress is not None:
            progress(result)

    files = list(find_files(paths))
    pending: deque[tuple[Path, str, int, _Job]] = deque()
    executor = ProcessPoolExecutor(max_workers=workers) if workers > 1 and len(files) > 1 else None
    try:
        for path, problem in files:
            if problem is not None:
                finish(_fail(store, path, None, problem))
                continue
            try:
                data = path.read_bytes()
            except OSError as exc:
                finish(_fail(store, path, None, f"cannot read: {exc.strerror or exc}"))
                continue
            digest = sha256_of(data)
            known = store.known_file(digest)
            if known is not None:
                store.log(path, digest, "duplicate", f"already imported from {known.path}")
                finish(FileResult(path, "duplicate", message=f"already imported from {known.path}"))
                continue
            job: _Job
            if executor is not None:
                try:
                    job = executor.submit(_decode_path, path, options)
                except BrokenProcessPool:  # a worker died: finish the batch in-process
                    executor.shutdown(cancel_futures=True)
                    executor = None
                    job = _decode_bytes(path, data, options)
            else:
                job = _decode_bytes(path, data, options)
            pending.append((path, digest, len(data), job))
            while pending and (executor is None or len(pending) > 2 * workers):
                finish(_store_decoded(store, *pending.popleft(), options))
        while pending:
            finish(_store_decoded(store, *pending.popleft(), options))
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    return summary


def import_one(store: Store, path: Path, options: DecodeOptions) -> FileResult:
    """Import a single file (the watched-folder path)."""
    results: list[FileResult] = []
    import_paths(store, [path], options, progress=results.append)
    return results[0]


def _decode_bytes(path: Path, data: bytes, options: DecodeOptions) -> list[Activity] | str:
    """Decoded activities, or the reason the file failed."""
    try:
        return decode_file(path, data, options)
    except ImportFailed as exc:
        return exc.reason
    except Exception as exc:  # a decoder bug must cost one file, not the whole batch
        return f"internal error while decoding ({type(exc).__name__}: {exc}); please report it"


def _decode_path(path: Path, options: DecodeOptions) -> list[Activity] | str:
    """Worker-process entry: read and decode (the bytes are not shipped between processes)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    return _decode_bytes(path, data, options)


def _store_decoded(
    store: Store,
    path: Path,
    digest: str,
    size: int,
    job: _Job,
    options: DecodeOptions,
) -> FileResult:
    if isinstance(job, Future):
        try:
            decoded = job.result()
        except BrokenProcessPool:
            # The worker process died (a crash in native code): try once in this process,
            # where a Python-level error still becomes this file's own failure.
            decoded = _decode_path(path, options)
    else:
        decoded = job
    if isinstance(decoded, str):
        return _fail(store, path, digest, decoded)
    stored = store.add_file(path, digest, size, decoded)
    if stored.new_ids:
        return FileResult(path, "new", stored.new_ids)
    return FileResult(path, "duplicate", message="already imported")


def _fail(store: Store, path: Path, digest: str | None, reason: str) -> FileResult:
    store.log(path, digest, "failed", reason)
    return FileResult(path, "failed", message=reason)
