"""Which wellness reader takes a file: bytes in, :class:`~heavylegs_sync.model.WellnessRecord`
values out, for sleep, resting heart rate and HRV (docs/wellness.md).

Each reader is a plain function of a path, its bytes and picklable options, so it runs in
the decoding workers beside the activity importers; the worker vets every record
(:func:`heavylegs_sync.wellness.vet`) before anything is stored. A reader registers here
with the test that recognises its files (by name and first bytes, never by reading the
whole file twice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from heavylegs_sync.importers.common import DecodeOptions
from heavylegs_sync.model import WellnessRecord


@dataclass
class WellnessRead:
    """A wellness file's records, and one line per row or value it could not read (the
    rest of the file is kept; each line becomes an ``error:`` line naming the file)."""

    records: list[WellnessRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: where in the file each record came from (``line 3``, ``entry 12``), by its index in
    #: ``records``: a record the checks refuse is named by it
    where: dict[int, str] = field(default_factory=dict)
    #: what was read but not kept though nothing is wrong with the file (a source's mark
    #: for "not measured"), one ``warning:`` line each
    warnings: list[str] = field(default_factory=list)

    def add(self, record: WellnessRecord, place: str) -> None:
        """Keep a record with where in the file it came from."""
        self.where[len(self.records)] = place
        self.records.append(record)


#: ``reader(path, data, options)``: raises ImportFailed when the whole file is unreadable.
Reader = Callable[[Path, bytes, DecodeOptions], WellnessRead]
#: ``recognises(path, head)``: whether the file (its name, its first 4 KiB) is this reader's.
Recognises = Callable[[Path, bytes], bool]

HEAD_BYTES = 4096
_READERS: list[tuple[Recognises, Reader]] = []


def register(recognises: Recognises, reader: Reader) -> None:
    """Add a reader; the first that recognises a file reads it."""
    _READERS.append((recognises, reader))


def reader_for(path: Path, data: bytes) -> Reader | None:
    """The reader of this wellness file, or None when it is not one."""
    _load()
    head = data[:HEAD_BYTES]
    for recognises, reader in _READERS:
        if recognises(path, head):
            return reader
    return None


def is_wellness_name(path: Path) -> bool:
    """Whether the name alone says a folder scan should offer the file to the readers
    (FIT files are offered anyway, as activities)."""
    _load()
    return any(recognises(path, b"") for recognises, _ in _READERS)


def _load() -> None:
    """Import the reader modules once (they register themselves), lazily: the activity
    importers do not pay for them."""
    import heavylegs_sync.importers.fit_wellness
    import heavylegs_sync.importers.garmin_wellness
    import heavylegs_sync.importers.wellness_csv  # noqa: F401
