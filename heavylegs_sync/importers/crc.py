"""FIT's checksum (CRC-16/ARC): fastcrc when it is installed, else a table in Python.

fastcrc (Rust) checks a large FIT file in microseconds; without it the fast path still
runs, with the checksum computed here (about a tenth of a second per MB), and every activity it
reads says so (:data:`PYTHON_CRC_NOTE`). The standard library has no CRC-16/ARC
(``binascii.crc_hqx`` is CRC-CCITT), so the fallback is the classic byte table.
"""

from __future__ import annotations

from collections.abc import Callable

#: The note recorded on an activity whose checksums were computed in Python.
PYTHON_CRC_NOTE = "fastcrc is not installed: FIT checksums computed in Python (slower)"


def _table() -> tuple[int, ...]:
    """CRC-16/ARC (reflected polynomial 0xA001, initial value 0) by byte."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def python_crc16_arc(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/ARC of ``data`` in pure Python: FIT's checksum when fastcrc is missing."""
    crc = 0
    table = _TABLE
    for byte in bytes(data):
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def _load() -> tuple[Callable[[bytes], int], str | None]:
    """fastcrc's CRC-16/ARC, or the Python one and the note that says so."""
    try:
        from fastcrc import crc16
    except ImportError:
        return python_crc16_arc, PYTHON_CRC_NOTE
    return crc16.arc, None


crc16_arc, CRC_NOTE = _load()
"""``crc16_arc(data)``: the checksum; ``CRC_NOTE``: None, or why it is the slow one."""
