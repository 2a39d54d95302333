"""A minimal, fast FIT activity writer for benchmark data (numpy rows, CRC-16/ARC).

fit-tool writes correct files but takes most of a second each; five years of history
(1,500 files, millions of records) would take longer to generate than to import. This
writer knows only the handful of messages an activity needs, packs the record rows as one
numpy array per file, and checksums with fastcrc. Files it writes are read back by
fitparse (the reference) in the benchmark's own check.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from fastcrc import crc16

FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z
_ENUM, _UINT8, _UINT16, _UINT32, _UINT32Z = 0x00, 0x02, 0x84, 0x86, 0x8C
_SIZE = {_ENUM: 1, _UINT8: 1, _UINT16: 2, _UINT32: 4, _UINT32Z: 4}
_FMT = {_ENUM: "B", _UINT8: "B", _UINT16: "H", _UINT32: "I", _UINT32Z: "I"}

# global message number, [(field number, base type)]
FILE_ID = (0, [(0, _ENUM), (1, _UINT16), (2, _UINT16), (3, _UINT32Z), (4, _UINT32)])
SESSION = (
    18,
    [(253, _UINT32), (2, _UINT32), (7, _UINT32), (8, _UINT32), (9, _UINT32), (5, _ENUM),
     (6, _ENUM), (16, _UINT8), (17, _UINT8)],
)  # fmt: skip
ACTIVITY = (34, [(253, _UINT32), (0, _UINT32), (1, _UINT16), (2, _ENUM), (3, _ENUM), (4, _ENUM),
                 (5, _UINT32)])  # fmt: skip
SET = (225, [(254, _UINT32), (0, _UINT32), (3, _UINT16), (4, _UINT16), (5, _UINT8), (6, _UINT32),
             (7, _UINT16)])  # fmt: skip
RECORD = (20, [(253, _UINT32), (3, _UINT8), (5, _UINT32), (6, _UINT16), (4, _UINT8)])
_RECORD_DTYPE = np.dtype(
    [("h", "u1"), ("ts", "<u4"), ("hr", "u1"), ("dist", "<u4"), ("spd", "<u2"), ("cad", "u1")]
)


@dataclass
class FitActivity:
    """What one generated activity file holds; times are Unix seconds (UTC)."""

    start: int
    utc_offset_s: int
    sport: int  # FIT sport: 1 running, 2 cycling, 10 training
    sub_sport: int  # 0 generic, 20 strength_training
    serial: int
    t: npt.NDArray[np.int64]  # record times, seconds since start
    hr: npt.NDArray[np.uint8]
    distance_m: npt.NDArray[np.float64]
    speed: npt.NDArray[np.float64]
    cadence: npt.NDArray[np.uint8]
    sets: list[tuple[int, int, int, float, int]] = field(default_factory=list)
    # (start offset s, duration s, reps, weight kg, exercise category)


def _definition(local: int, message: tuple[int, list[tuple[int, int]]]) -> bytes:
    number, fields = message
    out = struct.pack("<BBBHB", 0x40 | local, 0, 0, number, len(fields))
    for field_number, base in fields:
        out += struct.pack("<BBB", field_number, _SIZE[base], base)
    return out


def _data(local: int, message: tuple[int, list[tuple[int, int]]], *values: int) -> bytes:
    fmt = "<B" + "".join(_FMT[base] for _, base in message[1])
    return struct.pack(fmt, local, *values)


def fit(unix: int) -> int:
    """Unix seconds to FIT seconds."""
    return unix - FIT_EPOCH


def encode(activity: FitActivity) -> bytes:
    """The complete FIT file: header, messages, CRC."""
    t = activity.t
    end = activity.start + int(t[-1]) if len(t) else activity.start
    body = bytearray()
    body += _definition(0, FILE_ID)
    body += _data(0, FILE_ID, 4, 1, 3113, activity.serial, fit(activity.start))
    if len(t):
        rows = np.zeros(len(t), dtype=_RECORD_DTYPE)
        rows["h"] = 1
        rows["ts"] = fit(activity.start) + t
        rows["hr"] = activity.hr
        rows["dist"] = np.round(activity.distance_m * 100).astype(np.uint32)
        rows["spd"] = np.round(activity.speed * 1000).astype(np.uint16)
        rows["cad"] = activity.cadence
        body += _definition(1, RECORD)
        body += rows.tobytes()
    if activity.sets:
        body += _definition(2, SET)
        for offset, duration, reps, weight, category in activity.sets:
            body += _data(
                2, SET, fit(activity.start + offset + duration), duration * 1000, reps,
                round(weight * 16), 1, fit(activity.start + offset), category,
            )  # fmt: skip
    elapsed_ms = int(t[-1]) * 1000 if len(t) else 0
    distance = round(float(activity.distance_m[-1]) * 100) if len(t) else 0
    finite = activity.hr[activity.hr > 0]
    avg = int(finite.mean()) if finite.size else 0xFF
    peak = int(finite.max()) if finite.size else 0xFF
    body += _definition(3, SESSION)
    body += _data(
        3, SESSION, fit(end), fit(activity.start), elapsed_ms, elapsed_ms, distance,
        activity.sport, activity.sub_sport, avg, peak,
    )  # fmt: skip
    body += _definition(4, ACTIVITY)
    body += _data(4, ACTIVITY, fit(end), elapsed_ms, 1, 0, 26, 1, fit(end) + activity.utc_offset_s)
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", crc16.arc(header))
    data = header + bytes(body)
    return data + struct.pack("<H", crc16.arc(data))
