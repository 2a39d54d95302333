"""A small, fast FIT writer for benchmark data: any message layout, numpy rows, CRC-16/ARC.

fit-tool writes correct files but takes most of a second each; five years of history
(1,500 files, millions of records) would take longer to generate than to import. Here a
message type is a list of (field number, base type, count) as a device declares it, its
rows are a NumPy structured array (the header byte included), and records interleaved
with other per-second messages (HRV, as Garmin watches write it) are one array of pairs.
Unset fields hold FIT's "invalid" value, as devices leave them. fitparse (the reference)
reads every file back in the benchmark's own check and in tests/test_bench_smoke.py.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from fastcrc import crc16

FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z

ENUM, SINT8, UINT8, SINT16, UINT16, SINT32, UINT32 = 0x00, 0x01, 0x02, 0x83, 0x84, 0x85, 0x86
STRING, FLOAT32, UINT8Z, UINT16Z, UINT32Z, BYTE = 0x07, 0x88, 0x0A, 0x8B, 0x8C, 0x0D
_NUMPY = {
    ENUM: "u1", SINT8: "i1", UINT8: "u1", SINT16: "<i2", UINT16: "<u2", SINT32: "<i4",
    UINT32: "<u4", STRING: "u1", FLOAT32: "<f4", UINT8Z: "u1", UINT16Z: "<u2",
    UINT32Z: "<u4", BYTE: "u1",
}  # fmt: skip
_INVALID = {
    ENUM: b"\xff", SINT8: b"\x7f", UINT8: b"\xff", SINT16: b"\xff\x7f", UINT16: b"\xff\xff",
    SINT32: b"\xff\xff\xff\x7f", UINT32: b"\xff\xff\xff\xff", STRING: b"\x00",
    FLOAT32: b"\xff\xff\xff\xff", UINT8Z: b"\x00", UINT16Z: b"\x00\x00",
    UINT32Z: b"\x00\x00\x00\x00", BYTE: b"\xff",
}  # fmt: skip
Rows = npt.NDArray[np.void]


def fit_time(unix: int | npt.NDArray[np.int64]) -> Any:
    """Unix seconds to FIT seconds."""
    return unix - FIT_EPOCH


@dataclass(frozen=True)
class Field:
    """One field as a definition message declares it (count > 1: an array or a string)."""

    number: int
    base: int
    count: int = 1

    @property
    def size(self) -> int:
        return np.dtype(_NUMPY[self.base]).itemsize * self.count


@dataclass(frozen=True)
class DevField:
    """A developer field: (developer data index, field number), declared by a
    field_description message, with its own base type."""

    index: int
    number: int
    base: int
    name: str
    units: str = ""
    native: tuple[int, int] | None = None  # (message, field) it stands for, if any


@dataclass(frozen=True)
class MessageType:
    """A global message number and the fields one device writes for it."""

    number: int
    fields: tuple[Field, ...]
    developer: tuple[DevField, ...] = ()

    def dtype(self) -> np.dtype[np.void]:
        """Header byte, then each field (``f<number>``, ``d<index>_<number>``), packed."""
        parts: list[tuple[str, str] | tuple[str, str, tuple[int]]] = [("h", "u1")]
        for item in self.fields:
            base = _NUMPY[item.base]
            parts.append((f"f{item.number}", base, (item.count,)) if item.count > 1
                         else (f"f{item.number}", base))  # fmt: skip
        for dev in self.developer:
            parts.append((f"d{dev.index}_{dev.number}", _NUMPY[dev.base]))
        return np.dtype(parts)

    def definition(self, local: int) -> bytes:
        """The definition message for this layout on a local message type."""
        header = 0x40 | local | (0x20 if self.developer else 0)
        out = struct.pack("<BBBHB", header, 0, 0, self.number, len(self.fields))
        for item in self.fields:
            out += struct.pack("<BBB", item.number, item.size, item.base)
        if self.developer:
            out += struct.pack("<B", len(self.developer))
            for dev in self.developer:
                out += struct.pack("<BBB", dev.number, np.dtype(_NUMPY[dev.base]).itemsize,
                                   dev.index)  # fmt: skip
        return out

    def rows(self, n: int, local: int) -> Rows:
        """``n`` data messages with every field invalid, ready to be filled in."""
        template = bytes([local])
        for item in self.fields:
            template += _INVALID[item.base] * item.count
        for dev in self.developer:
            template += _INVALID[dev.base]
        return np.frombuffer(template * n, dtype=self.dtype()).copy()


class FitBuilder:
    """Messages in order, then :meth:`finish` for the whole file with header and CRCs."""

    def __init__(self) -> None:
        self.body = bytearray()
        self._defined: dict[int, MessageType] = {}

    def define(self, local: int, message: MessageType) -> None:
        """Declare (or redeclare) a local message type."""
        if self._defined.get(local) is not message:
            self.body += message.definition(local)
            self._defined[local] = message

    def write(self, local: int, message: MessageType, **values: Any) -> None:
        """One data message; fields are given as ``f<number>=`` or ``d<i>_<n>=``."""
        self.define(local, message)
        row = message.rows(1, local)
        for key, value in values.items():
            row[key] = value
        self.body += row.tobytes()

    def rows(self, *arrays: Rows) -> None:
        """Data messages already laid out (their types defined before)."""
        for array in arrays:
            self.body += array.tobytes()

    def finish(self) -> bytes:
        header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(self.body), b".FIT")
        header += struct.pack("<H", crc16.arc(header))
        data = header + bytes(self.body)
        return data + struct.pack("<H", crc16.arc(data))


def text(value: str, size: int) -> npt.NDArray[np.uint8]:
    """A NUL-padded string field of ``size`` bytes."""
    raw = value.encode()[: size - 1]
    return np.frombuffer(raw + b"\0" * (size - len(raw)), dtype=np.uint8)


def interleave(first: Rows, second: Rows) -> Rows:
    """Two equally long runs of messages written alternately (record, hrv, record, ...)."""
    pair = np.empty(len(first), dtype=np.dtype([("a", first.dtype), ("b", second.dtype)]))
    pair["a"] = first
    pair["b"] = second
    return pair
