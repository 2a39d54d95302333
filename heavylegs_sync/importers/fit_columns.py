"""Record fields read straight from the bytes with NumPy, for the common case.

The few record fields the importer reads (time, heart rate, speed, distance, cadence) sit
at fixed offsets in every record of one local message type, so all records of a type are
one structured array. This reads them exactly as fitparse renders them (``raw / scale``,
FIT's invalid value as absent) and gives up — returning None, so ``fitfast.records``
reads the file — on anything less plain: compressed-timestamp headers, a field declared
with another base type or size than the profile's, developer fields named like standard
ones, compressed speed/distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from heavylegs_sync.model import FloatArray

_FIT_EPOCH = 631065600
#: record field number -> (name, base type, scale), as fitparse's profile has them.
_FIELDS = {
    253: ("timestamp", 0x86, 1.0),
    3: ("heart_rate", 0x02, 1.0),
    4: ("cadence", 0x02, 1.0),
    5: ("distance", 0x86, 100.0),
    6: ("speed", 0x84, 1000.0),
    73: ("enhanced_speed", 0x86, 1000.0),
}
_TYPES = {0x02: ("u1", 0xFF), 0x84: ("u2", 0xFFFF), 0x86: ("u4", 0xFFFFFFFF)}


@dataclass(frozen=True)
class Layout:
    """A local message type's definition: byte order and (number, size, base) per field."""

    big_endian: bool
    fields: tuple[tuple[int, int, int], ...]
    size: int  # of the data message, header byte included


@dataclass
class RecordRuns:
    """Where a segment's record messages are (offsets into its data), and which
    definition (an index into the segment's layouts) each follows."""

    runs: list[tuple[int, int, int, int]]  # (start, repeats, stride, layout index)
    plain: bool = True  # no compressed-timestamp header, nothing else unusual


def read_records(
    data: npt.NDArray[np.uint8], runs: RecordRuns, layouts: list[Layout], count: int
) -> dict[str, FloatArray] | None:
    """Columns like ``fitfast.records`` gives them (Unix timestamps), or None to give up."""
    if not runs.plain:
        return None
    positions: list[npt.NDArray[np.int64]] = []
    kinds: list[int] = []
    for start, repeats, stride, kind in runs.runs:
        positions.append(start + stride * np.arange(repeats, dtype=np.int64))
        kinds.append(kind)
    if not positions:
        return {} if count == 0 else None
    every = np.concatenate(positions)
    if len(every) != count:
        return None
    kind_of = np.concatenate([np.full(len(p), k) for p, k in zip(positions, kinds, strict=True)])
    order = np.argsort(every, kind="stable")
    every, kind_of = every[order], kind_of[order]
    columns = {name: np.full(count, np.nan) for name, _, _ in _FIELDS.values()}
    for kind in np.unique(kind_of):
        chosen = np.flatnonzero(kind_of == kind)
        if not _read_type(data, every[chosen], layouts[int(kind)], columns, chosen):
            return None
    columns["timestamp"] = columns["timestamp"] + _FIT_EPOCH
    return {name: values for name, values in columns.items() if not np.isnan(values).all()}


def _read_type(
    data: npt.NDArray[np.uint8],
    positions: npt.NDArray[np.int64],
    layout: Layout,
    columns: dict[str, FloatArray],
    rows: npt.NDArray[np.intp],
) -> bool:
    order = ">" if layout.big_endian else "<"
    offset = 1
    wanted: list[tuple[str, int, str, int, float]] = []
    for number, size, base in layout.fields:
        known = _FIELDS.get(number)
        if known is not None:
            name, profile_base, scale = known
            kind = _TYPES[profile_base]
            if base != profile_base or size != np.dtype(kind[0]).itemsize:
                return False  # fitparse would read another type or an array: leave it
            wanted.append((name, offset, order + kind[0], kind[1], scale))
        offset += size
    if offset > layout.size:  # developer fields follow the standard ones
        return False
    raw = data[positions[:, None] + np.arange(layout.size)]
    for name, start, dtype, invalid, scale in wanted:
        width = np.dtype(dtype).itemsize
        values = raw[:, start : start + width].copy().view(dtype).ravel()
        column = values.astype(np.float64)
        if scale != 1.0:
            column /= scale
        column[values == invalid] = np.nan
        columns[name][rows] = column
    return True
