"""Import files into the store: the one entry point the CLI, the watcher and tests share.

Each file is read (regular files only, within the size cap) and hashed first, in a worker
process; a file whose content the store already holds is not decoded again (a renamed copy
included). Decoding and the plausibility checks run in those workers too
(:mod:`heavylegs_sync.decoding`), so a decoder crash costs that file alone and a second
worker shares all the heavy work; the store is written by this process alone, one short
transaction per file, so a failure in one file never touches what is already stored and
the rest of the batch goes on.

Zip archives (and the Strava and Garmin exports, zipped or unpacked) are read member by
member (:mod:`heavylegs_sync.importers.archives`): a member's bytes go to the same
workers, checks and content hashing as a file's, under a label naming where it lives
(``export.zip!activities/123.fit.gz``). A Strava export's activity list is stored last,
so its rows join the activities their files gave.
"""

from __future__ import annotations

import os
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from heavylegs_sync.decoding import Decoded, DecodePool, Known, Note, Outcome
from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import DecodeOptions, is_importable
from heavylegs_sync.importers.archives import (
    GARMIN_ROOT,
    GARMIN_WELLNESS,
    ExportRows,
    Member,
    Problem,
    is_archive,
    is_garmin_wellness,
    read_archive,
)
from heavylegs_sync.importers.plausible import Implausible, vet_one
from heavylegs_sync.importers.source import display, file_kind, read_regular, sha256_of
from heavylegs_sync.importers.strava_export import CSV_NAME, is_export_csv, parse_activities_csv
from heavylegs_sync.interrupts import held
from heavylegs_sync.model import Activity
from heavylegs_sync.store import Store
from heavylegs_sync.words import plural

__all__ = ["FileResult", "ImportSummary", "find_files", "import_one", "import_paths", "sha256_of"]

FileOutcome = Literal["new", "duplicate", "skipped", "failed"]
_GARMIN_UPLOADS = "DI-Connect-Uploaded-Files"
#: Files handed to the workers ahead of the one being stored, per worker. Files are stored
#: in order, so a slow file (a 3 MB multisport recording decodes in a quarter second) holds
#: the writer; with only 2 per worker the other worker soon had nothing left to decode and
#: waited too (the real corpus: 1.5x with two workers at 2, 1.8x at 8, in one process).
AHEAD_PER_WORKER = 8


@dataclass(frozen=True)
class FileResult:
    """What happened to one file."""

    path: Path
    outcome: FileOutcome
    activity_ids: tuple[int, ...] = ()
    message: str | None = None
    warnings: tuple[str, ...] = ()  # values dropped from a stored file, one line each
    not_activity: bool = False  # a well-formed file that holds no activity (FIT settings...)
    notes: tuple[Note, ...] = ()  # how its decoding degraded (a missing library, a crash)
    wellness: int = 0  # day-and-source wellness rows it wrote (sleep, resting HR, HRV)
    #: the (day, source) rows it wrote: files of one export share days, counted once
    wellness_days: frozenset[tuple[date, str]] = frozenset()
    #: rows or records of a stored file left out as unreadable or impossible, one line
    #: each: ``error:`` lines, and the import's exit status says something failed
    rejected: tuple[str, ...] = ()

    @property
    def contents(self) -> str:
        """What a new file gave, for ``-v``: ``3 activities``, ``12 wellness days``, or both."""
        count = len(self.activity_ids)
        activities = plural(count, "activity", "activities")
        if not self.wellness:
            return activities
        days = plural(self.wellness, "wellness day")
        return f"{activities}, {days}" if count else days

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
    skipped: int = 0  # well-formed files that hold no activity (FIT settings, courses...)
    failures: list[FileResult] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)
    #: each note on how decoding degraded, with the number of files it concerns
    notes: dict[str, int] = field(default_factory=dict)
    rejected: int = 0  # rows of stored wellness files left out (each an error line)
    wellness: int = 0  # day-and-source wellness rows written
    wellness_files: int = 0  # new files that gave wellness days and no activity
    #: the (day, source) rows written; the line counts their days once (the three files
    #: of an export fill one day, and so may a CSV)
    wellness_days: set[tuple[date, str]] = field(default_factory=set)

    @property
    def failed(self) -> int:
        """Number of files that could not be imported."""
        return len(self.failures)

    def add(self, result: FileResult) -> None:
        """Count one file's result."""
        for note in result.notes:
            self.notes[note.text] = self.notes.get(note.text, 0) + 1
        self.rejected += len(result.rejected)
        self.wellness += result.wellness
        self.wellness_days |= result.wellness_days
        if result.outcome == "new":
            self.new += 1
            if result.wellness and not result.activity_ids:
                self.wellness_files += 1
            self.new_activities += len(result.activity_ids)
            self.new_ids.extend(result.activity_ids)
        elif result.outcome == "duplicate":
            self.duplicate += 1
        elif result.outcome == "skipped":
            self.skipped += 1
        else:
            self.failures.append(result)

    def line(self) -> str:
        """``12 new (13 activities), 340 already imported, 3 skipped, 2 failed``; with
        wellness files ``3 new (40 wellness days), ...`` or, with activities too,
        ``5 new (2 activities, 40 wellness days), ...``."""
        new = f"{self.new} new"
        if self.wellness:
            days = len({day for day, _ in self.wellness_days}) or self.wellness
            shown = [plural(days, "wellness day")]
            if self.new_activities or self.new > self.wellness_files:
                shown.insert(0, plural(self.new_activities, "activity", "activities"))
            new += f" ({', '.join(shown)})"
        elif self.new_activities != self.new:
            new += f" ({self.new_activities} activities)"
        line = (
            f"{new}, {self.duplicate} already imported, {self.skipped} skipped, "
            f"{self.failed} failed"
        )
        if self.rejected:
            line += f", {self.rejected} row{'' if self.rejected == 1 else 's'} left out"
        return line

    @property
    def faulty(self) -> bool:
        """Whether anything failed: a file, or a row of a stored file (the exit status)."""
        return bool(self.failures or self.rejected)

    def note_lines(self) -> list[str]:
        """One line per way decoding degraded: ``fitfast is not installed: ... (12 files)``."""
        return [
            f"{text} ({count} file{'' if count == 1 else 's'})"
            for text, count in sorted(self.notes.items())
        ]


Progress = Callable[[FileResult], None]


def find_files(paths: Iterable[Path]) -> Iterator[tuple[Path, str | None]]:
    """Every importable file under the given paths, with a reason when one is unusable.

    Folders are walked recursively in name order; hidden and temporary files are passed
    over. A file named explicitly is always attempted, so a wrong type is reported. Zip
    archives are found too; in an unpacked Strava export (a folder with ``activities.csv``)
    only the list and ``activities/`` are read, in an unpacked Garmin export only
    ``DI_CONNECT/DI-Connect-Uploaded-Files`` and the wellness files of
    ``DI-Connect-Wellness`` and ``DI-Connect-Aggregator``: the rest is neither.
    """
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                if CSV_NAME in files:
                    dirs[:] = [d for d in dirs if d == "activities"]
                    files = [CSV_NAME]  # the rest of a Strava export's top: not activities
                elif GARMIN_ROOT in dirs:
                    dirs[:] = [GARMIN_ROOT]
                if Path(root).name == GARMIN_ROOT:
                    dirs[:] = [d for d in dirs if d in (_GARMIN_UPLOADS, *GARMIN_WELLNESS)]
                    files = []
                if Path(root).parent.name == GARMIN_ROOT and Path(root).name in GARMIN_WELLNESS:
                    dirs[:] = []  # the export's wellness files lie flat in these folders
                    files = [
                        f
                        for f in files
                        if is_garmin_wellness(f"{GARMIN_ROOT}/{Path(root).name}/{f}")
                    ]
                # An unpacked Strava export's originals are all activities: one we cannot
                # read fails (its row still counts), it is not passed over.
                originals = Path(root).name == "activities" and os.path.isfile(
                    Path(root).parent / CSV_NAME
                )
                for name in sorted(files):
                    candidate = Path(root) / name
                    if not is_temporary(name) and (
                        originals
                        or is_importable(candidate)
                        or is_archive(name)
                        or is_export_csv(name)
                    ):
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

    def store_next() -> None:
        job = pending.popleft()
        decoded = decoder.outcome(job.future, job.path, checked, moment, job.data)
        with held():  # a Ctrl-C now waits until the file is stored and counted
            finish(_store_decoded(store, job, decoded, checked))

    files = list(find_files(paths))
    own = pool is None
    # An archive holds any number of files: it gets every worker asked for.
    many = len(files) + sum(is_archive(path) for path, _ in files) * workers
    decoder = pool or DecodePool(min(workers, max(1, many)))
    pending: deque[_Pending] = deque()
    lists: list[ExportRows] = []
    checked = replace(options, known_in=store.known_key())  # workers skip content it holds

    def submit(path: Path, data: bytes | None) -> None:
        """Read (unless an archive member's ``data``), hash and, unless the store knows
        the content, decode in a worker: this process only writes."""
        future = decoder.submit(path, checked, moment, data)
        pending.append(_Pending(path, future, data))
        # Bounded by count and by bytes: large members (each up to the file cap) are not
        # held by the dozen however many workers wait, so memory does not grow with them.
        while len(pending) > AHEAD_PER_WORKER * decoder.workers or (
            len(pending) > 1 and sum(len(job.data or b"") for job in pending) > options.max_bytes
        ):
            store_next()

    try:
        for path, problem in files:
            if problem is not None:
                finish(_fail(store, path, None, problem))
                continue
            if is_archive(path):
                for item in read_archive(path, options):
                    if isinstance(item, Problem):
                        finish(_fail(store, item.label, None, item.reason))
                    elif isinstance(item, ExportRows):
                        lists.append(item)
                    elif isinstance(item, Member):
                        submit(item.label, item.data)
                continue
            if is_export_csv(path):
                try:
                    data = read_regular(path, options.max_bytes)
                    rows, warnings = parse_activities_csv(path, data, options)
                except ImportFailed as exc:
                    finish(_fail(store, path, None, exc.reason))
                    continue
                lists.append(ExportRows(path, data, rows, warnings))
                continue
            submit(path, None)
        while pending:
            store_next()
    except BaseException:
        # A signal or a store error: the workers stop now, not after the files they hold
        # (what they decode is not stored anyway); a pool given by the caller is theirs.
        if own:
            decoder.kill()
        raise
    finally:
        if own:
            decoder.close()
    for listing in lists:  # after the files, so each row joins the activity its file gave
        with held():
            finish(_store_list(store, listing, moment))
    return summary


@dataclass(frozen=True)
class _Pending:
    path: Path
    future: Future[Outcome]
    data: bytes | None  # an archive member's content, kept to decode it again alone


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
    store: Store, job: _Pending, decoded: Outcome, options: DecodeOptions
) -> FileResult:
    path = job.path
    if isinstance(decoded, Known):
        message = f"already imported from {decoded.path}"
        store.log(display(path), decoded.digest, "duplicate", message)
        return FileResult(path, "duplicate", message=message)
    if not isinstance(decoded, Decoded):
        digest = decoded.digest or _digest(path, job.data, options)
        if decoded.not_activity:
            store.log(display(path), digest, "skipped", decoded.reason)
            return FileResult(path, "skipped", message=decoded.reason, not_activity=True)
        return replace(_fail(store, path, digest, decoded.reason), rejected=decoded.rejected)
    digest = decoded.digest or sha256_of(job.data or read_regular(path, options.max_bytes))
    stored = store.add_file(
        display(path),
        digest,
        decoded.size,
        decoded.activities,
        decoded.packed,
        decoded.figures,
        decoded.wellness,
    )
    warnings = tuple(decoded.warnings)
    if stored.new_ids or stored.wellness:
        return FileResult(
            path,
            "new",
            stored.new_ids,
            warnings=warnings,
            notes=decoded.notes,
            wellness=stored.wellness,
            wellness_days=frozenset((r.day, r.source.value) for r in decoded.wellness),
            rejected=decoded.rejected,
        )
    return FileResult(path, "duplicate", message="already imported")


def _digest(path: Path, data: bytes | None, options: DecodeOptions) -> str | None:
    """The content's hash when its worker died before giving it (a decoder crash), so
    the log still says which content failed (the watcher does not retry it)."""
    if data is not None:
        return sha256_of(data)
    try:
        return sha256_of(read_regular(path, options.max_bytes))
    except ImportFailed:
        return None


def _store_list(store: Store, listing: ExportRows, now: datetime) -> FileResult:
    """A Strava export's rows: each a record of its Strava id, joined by the matching rule
    to the activity its file gave; a row without one (manual) is the activity."""
    path, digest = listing.label, sha256_of(listing.data)
    known = store.known_file(digest)
    if known is not None:
        message = f"already imported from {known.path}"
        store.log(display(path), digest, "duplicate", message)
        return FileResult(path, "duplicate", message=message)
    warnings = list(listing.warnings)
    kept: list[Activity] = []
    for row in listing.activities:
        try:
            checked, dropped = vet_one(row, now)
        except Implausible as exc:
            warnings.append(f"Strava activity {row.source_id} left out: {exc}")
            continue
        kept.append(checked)
        warnings.extend(f"Strava activity {row.source_id}: {line}" for line in dropped)
    stored = store.add_file(display(path), digest, len(listing.data), kept)
    # Rows that joined an activity from a file add its metadata, not an activity.
    own = tuple(i for i in stored.new_ids if store.primary_of(i) is None)
    if not stored.new_ids:
        return FileResult(path, "duplicate", message="already imported", warnings=tuple(warnings))
    return FileResult(path, "new", own, warnings=tuple(warnings))


def _fail(store: Store, path: Path, digest: str | None, reason: str) -> FileResult:
    store.log(display(path), digest, "failed", reason)
    return FileResult(path, "failed", message=reason)
