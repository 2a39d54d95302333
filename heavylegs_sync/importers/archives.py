"""Zip archives, nested at any depth up to a bound, read member by member within the caps.

Each activity file inside is handed on as its bytes with a label naming where it lives
(``export.zip!activities/123.fit.gz``, nested ``a.zip!b.zip!c.fit``); the caller decodes
it like any file. Nothing is extracted to the folder: a member is inflated in chunks and
refused past ``[import] max_file_mb``, a nested archive is spooled to a temporary file,
and everything inflated from one archive counts against ``[import] max_archive_mb`` — a
zip bomb costs at most the caps, never the memory. Two exports are recognised by their
layout: Strava's (``activities.csv`` at the top: the list plus ``activities/``) and Garmin
Connect's (``DI_CONNECT/``: only ``DI-Connect-Uploaded-Files`` holds activities, and
``DI-Connect-Wellness`` and ``DI-Connect-Aggregator`` the wellness files a reader of
:mod:`~heavylegs_sync.importers.wellness_read` takes: nights, resting HR, HRV); anything
else in them is neither and is passed over silently.
"""

from __future__ import annotations

import itertools
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import is_importable
from heavylegs_sync.importers.common import DecodeOptions
from heavylegs_sync.importers.source import CHUNK, file_kind, megabytes
from heavylegs_sync.importers.strava_export import CSV_NAME, parse_activities_csv
from heavylegs_sync.importers.wellness_read import is_wellness_name
from heavylegs_sync.model import Activity

#: Archives inside archives deeper than this are not opened (a zip quine never ends).
MAX_DEPTH = 4
GARMIN_ROOT = "DI_CONNECT"
#: The fixed part of a zip entry's local header, in bytes.
_LOCAL_HEADER = 30
GARMIN_UPLOADS = "DI_CONNECT/DI-Connect-Uploaded-Files/"
#: The folders of a Garmin export that hold wellness files (sleep, daily summaries, HRV).
GARMIN_WELLNESS: tuple[str, ...] = ("DI-Connect-Wellness", "DI-Connect-Aggregator")
UNSUPPORTED_ORIGINAL = (
    "unsupported file type for an activity's original; the activity is stored from "
    "activities.csv alone"
)


@dataclass(frozen=True)
class Member:
    """An activity file's bytes from inside an archive."""

    label: Path
    data: bytes


@dataclass(frozen=True)
class Problem:
    """Why an archive, or one of its members, gives nothing: one line."""

    label: Path
    reason: str


@dataclass(frozen=True)
class ExportRows:
    """A Strava export's activity list: its rows as activities, stored after the files."""

    label: Path
    data: bytes
    activities: list[Activity]
    warnings: list[str] = field(default_factory=list)


Item = Member | Problem | ExportRows


class _Exhausted(Exception):
    """The archive inflated past the total cap: nothing more is read from it."""


@dataclass
class _Budget:
    left: int
    limit: int
    reported: bool = False

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise _Exhausted


def is_archive(path: Path | str) -> bool:
    """Whether the name says zip archive (any case)."""
    return str(path).lower().endswith(".zip")


def member_label(outer: Path, name: str) -> Path:
    """``outer!name``: where a member lives, for messages, the import log and sources."""
    return Path(f"{outer}!{name}")


def read_archive(path: Path, options: DecodeOptions) -> Iterator[Item]:
    """Every activity file (and a Strava export's list) in a zip archive, nested ones too."""
    budget = _Budget(options.max_archive_bytes, options.max_archive_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)  # never blocks, even if a FIFO took the archive's name
    except OSError as exc:
        yield Problem(path, f"cannot read: {exc.strerror or exc}")
        return
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            yield Problem(path, f"not a regular file ({file_kind(mode)})")
            return
        try:
            yield from _walk(handle, path, options, budget, depth=1)
        except _Exhausted:
            return


def _walk(
    handle: IO[bytes], label: Path, options: DecodeOptions, budget: _Budget, depth: int
) -> Iterator[Item]:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        yield Problem(label, f"not a valid zip archive ({exc})")
        return
    except OSError as exc:
        yield Problem(label, f"cannot read: {exc.strerror or exc}")
        return
    with archive:
        overlap = _overlapping(archive.infolist())
        if overlap is not None:
            yield Problem(label, overlap)
            return
        infos = [info for info in archive.infolist() if not info.is_dir()]
        names = [info.filename for info in infos]
        strava = _strava_root(names)
        garmin = any(n.split("/", 1)[0] == GARMIN_ROOT for n in names)
        for info in infos:
            name = info.filename
            inner = member_label(label, name)
            if strava is not None:
                if name == strava + CSV_NAME:
                    try:
                        yield _export_rows(archive, info, inner, options, budget)
                    except _Exhausted:
                        budget.reported = True
                        yield Problem(inner, _exhausted(budget))
                        raise
                    continue
                if not name.startswith(strava + "activities/"):
                    continue  # routes, media, profile...: not activities
            elif garmin and not name.startswith(GARMIN_UPLOADS) and not is_garmin_wellness(name):
                continue  # fitness, settings JSON, courses...: neither activity nor wellness
            try:
                if is_archive(name):
                    yield from _nested(archive, info, inner, options, budget, depth)
                elif is_importable(Path(PurePosixPath(name).name)):
                    yield Member(inner, _read(archive, info, inner, options.max_bytes, budget))
                elif strava is not None:  # an activity's original we cannot read: say so
                    yield Problem(inner, UNSUPPORTED_ORIGINAL)
            except ImportFailed as exc:
                yield Problem(inner, exc.reason)
            except _Exhausted:
                if not budget.reported:  # one line for the archive, however deep
                    budget.reported = True
                    yield Problem(inner, _exhausted(budget))
                raise


def is_garmin_wellness(name: str) -> bool:
    """Whether an export member (``DI_CONNECT/DI-Connect-Wellness/x_sleepData.json``) is a
    wellness file a reader takes: in one of :data:`GARMIN_WELLNESS`, named as one."""
    parts = PurePosixPath(name).parts
    return (
        len(parts) == 3
        and parts[0] == GARMIN_ROOT
        and parts[1] in GARMIN_WELLNESS
        and is_wellness_name(Path(parts[2]))
    )


def _overlapping(infos: list[zipfile.ZipInfo]) -> str | None:
    """Why the archive is refused, when two entries share compressed bytes.

    In a real archive each entry is a local header (30 bytes and its name) and its own
    compressed data, one after the other. Entries that point into each other's data are
    how a small zip inflates to terabytes (each member within the caps, the sum never
    ending), so such an archive is refused before anything is inflated.
    """
    spans = sorted(
        ((info.header_offset, info.header_offset + _LOCAL_HEADER + info.compress_size, info)
         for info in infos),
        key=lambda span: span[:2],
    )  # fmt: skip
    for (_, end, first), (start, _, second) in itertools.pairwise(spans):
        if start < end:
            return (
                f"overlapping entries ({first.filename!r} and {second.filename!r} share"
                " compressed data, as in a zip bomb); nothing in it was read"
            )
    return None


def _exhausted(budget: _Budget) -> str:
    return (
        f"the archive inflates to more than {megabytes(budget.limit)} in all "
        "(setting [import] max_archive_mb); the rest of it was not read"
    )


def _strava_root(names: list[str]) -> str | None:
    """The folder (``""`` at the top) holding a Strava export's ``activities.csv``."""
    found = [n for n in names if PurePosixPath(n).name == CSV_NAME and n.count("/") <= 1]
    if not found:
        return None
    best = min(found, key=lambda n: n.count("/"))
    return best[: -len(CSV_NAME)]


def _export_rows(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    label: Path,
    options: DecodeOptions,
    budget: _Budget,
) -> Item:
    try:
        data = _read(archive, info, label, options.max_bytes, budget)
        rows, warnings = parse_activities_csv(label, data, options)
    except ImportFailed as exc:
        return Problem(label, exc.reason)
    return ExportRows(label, data, rows, warnings)


def _nested(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    label: Path,
    options: DecodeOptions,
    budget: _Budget,
    depth: int,
) -> Iterator[Item]:
    if depth >= MAX_DEPTH:
        raise ImportFailed(label, f"zip archives nested more than {MAX_DEPTH} deep; not opened")
    with tempfile.TemporaryFile() as spool:
        with _open(archive, info, label) as source:
            try:
                while part := source.read(CHUNK):
                    budget.spend(len(part))
                    spool.write(part)
            except (zipfile.BadZipFile, EOFError, ValueError) as exc:
                raise ImportFailed(label, f"damaged archive member ({exc})") from exc
        spool.seek(0)
        yield from _walk(spool, label, options, budget, depth + 1)


def _read(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: Path, cap: int, budget: _Budget
) -> bytes:
    """A member's bytes, inflated chunk by chunk, refused past the cap."""
    too_large = f"larger than {megabytes(cap)} once decompressed (setting [import] max_file_mb)"
    if info.file_size > cap:
        raise ImportFailed(label, too_large)
    if info.file_size == 0:
        raise ImportFailed(label, "empty file (0 bytes)")
    parts: list[bytes] = []
    total = 0
    with _open(archive, info, label) as source:
        try:
            while part := source.read(min(CHUNK, cap + 1 - total)):
                budget.spend(len(part))
                parts.append(part)
                total += len(part)
                if total > cap:
                    raise ImportFailed(label, too_large)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise ImportFailed(label, f"damaged archive member ({exc})") from exc
    return b"".join(parts)


def _open(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: Path) -> IO[bytes]:
    try:
        return archive.open(info)
    except RuntimeError as exc:  # encrypted
        raise ImportFailed(label, f"cannot open the archive member ({exc})") from exc
    except NotImplementedError as exc:
        raise ImportFailed(label, f"unsupported compression ({exc})") from exc
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFailed(label, f"damaged archive member ({exc})") from exc
