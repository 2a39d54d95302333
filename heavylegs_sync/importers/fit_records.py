"""FIT record messages as columns, however the decoder delivered them.

fitparse hands records over one message at a time; the fast path hands a whole segment's
records over as NumPy columns (:class:`~heavylegs_sync.importers.fit_fast.RecordBlock`).
Both end here as one :class:`RecordTable`, so the importer does no per-record Python work
after decoding: at a few microseconds per record that work would cost more than the fast
decoder itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from heavylegs_sync.importers.fit_fast import RecordBlock
from heavylegs_sync.model import FloatArray

_FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
_RELATIVE_LIMIT = 0x10000000  # FIT times below this count from device power-on
_UNIX = datetime(1970, 1, 1)
_CHANNELS = ("hr", "speed", "distance", "cadence")


def unix_seconds(when: datetime) -> float:
    """Seconds since 1970 of a naive UTC datetime (as fitparse gives them)."""
    return (when - _UNIX).total_seconds()


def naive_utc(seconds: float) -> datetime:
    """The naive UTC datetime fitparse would give for these Unix seconds."""
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class RecordTable:
    """Records with a real time: Unix seconds (UTC) and values, NaN where absent."""

    ts: FloatArray
    hr: FloatArray
    speed: FloatArray  # enhanced_speed where the file has it, else speed
    distance: FloatArray
    cadence: FloatArray

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, index: npt.NDArray[np.intp]) -> RecordTable:
        """The records at these positions, in that order."""
        return RecordTable(*(getattr(self, name)[index] for name in ("ts", *_CHANNELS)))

    def sorted(self) -> RecordTable:
        """Ordered by time; records with equal times keep their file order."""
        return self.take(np.argsort(self.ts, kind="stable"))

    def first(self) -> datetime | None:
        """The earliest record time (naive UTC), None without records."""
        return naive_utc(float(self.ts.min())) if len(self) else None

    def last(self) -> datetime | None:
        """The latest record time (naive UTC), None without records."""
        return naive_utc(float(self.ts.max())) if len(self) else None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else np.nan


class RecordCollector:
    """Gathers one segment's records, message by message or block by block, in order."""

    def __init__(self) -> None:
        self._rows: list[tuple[float, float, float, float, float]] = []
        self._parts: list[RecordTable] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, ts: datetime, hr: Any, speed: Any, distance: Any, cadence: Any) -> None:
        """One record from fitparse (ts a naive UTC datetime)."""
        row = (unix_seconds(ts), _number(hr), _number(speed), _number(distance), _number(cadence))
        self._rows.append(row)
        self._count += 1

    def add_block(self, block: RecordBlock) -> None:
        """A block of records from the fast path; those without a real time are dropped."""
        self._flush()
        fit_time = block.timestamp
        with np.errstate(invalid="ignore"):
            keep = np.isfinite(fit_time) & (fit_time >= _RELATIVE_LIMIT)
        n = int(keep.sum())
        nan = np.full(n, np.nan)

        def column(name: str) -> FloatArray:
            values = block.columns.get(name)
            return nan if values is None else np.asarray(values, dtype=np.float64)[keep]

        enhanced, speed = column("enhanced_speed"), column("speed")
        self._parts.append(
            RecordTable(
                ts=fit_time[keep] + _FIT_EPOCH,
                hr=column("heart_rate"),
                speed=np.where(np.isnan(enhanced), speed, enhanced),
                distance=column("distance"),
                cadence=column("cadence"),
            )
        )
        self._count += n

    def _flush(self) -> None:
        if self._rows:
            array = np.array(self._rows, dtype=np.float64).reshape(-1, 5)
            self._parts.append(RecordTable(*(array[:, i].copy() for i in range(5))))
            self._rows = []

    def table(self) -> RecordTable:
        """Every record gathered, in arrival order."""
        self._flush()
        if not self._parts:
            empty = np.empty(0, dtype=np.float64)
            return RecordTable(empty, empty, empty, empty, empty)
        if len(self._parts) == 1:
            return self._parts[0]
        return RecordTable(
            *(np.concatenate([getattr(p, name) for p in self._parts]) for name in
              ("ts", *_CHANNELS))
        )  # fmt: skip


def split_by_start(table: RecordTable, starts: Sequence[datetime | None]) -> list[RecordTable]:
    """Each record to the last session started at or before it (ties: the later session).

    Records before every known start go to the earliest session; with no known start at
    all, everything goes to the first.
    """
    known = sorted((unix_seconds(s), i) for i, s in enumerate(starts) if s is not None)
    owner = np.zeros(len(table), dtype=np.intp)
    if known:
        times = np.array([k[0] for k in known])
        indices = np.array([k[1] for k in known], dtype=np.intp)
        position = np.searchsorted(times, table.ts, side="right") - 1
        owner = indices[np.clip(position, 0, None)]
    return [table.take(np.flatnonzero(owner == i)) for i in range(len(starts))]
