"""File importers: bytes in, :class:`~heavylegs_sync.model.Activity` values out.

:func:`decode_file` is a plain function of a path, its bytes and picklable options, so it
can run in worker processes; nothing here touches the store.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from pathlib import Path

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers.common import DecodeOptions, Decoder
from heavylegs_sync.importers.fit import decode_fit
from heavylegs_sync.importers.gpx import decode_gpx
from heavylegs_sync.model import Activity

__all__ = ["SUFFIXES", "DecodeOptions", "Decoder", "decode_file", "is_importable"]

_DECODERS: dict[str, Callable[[Path, bytes, DecodeOptions], list[Activity]]] = {
    ".fit": decode_fit,
    ".gpx": decode_gpx,
}
#: File name endings we import, compressed or not (Strava's bulk export gzips files).
SUFFIXES: tuple[str, ...] = (".fit", ".gpx", ".fit.gz", ".gpx.gz")
_MAX_UNCOMPRESSED = 512 * 1024 * 1024  # no real activity is this large; a zip bomb is


def kind_of(path: Path) -> tuple[str, bool] | None:
    """The format (".fit" or ".gpx") and whether it is gzipped, from the file name."""
    name = path.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    for suffix in _DECODERS:
        if name.endswith(suffix):
            return suffix, compressed
    return None


def is_importable(path: Path) -> bool:
    """Whether the file name says it is something we import."""
    return kind_of(path) is not None


def decode_file(path: Path, data: bytes, options: DecodeOptions) -> list[Activity]:
    """Decode one file's bytes; raise :class:`ImportFailed` naming the file and the reason."""
    kind = kind_of(path)
    if kind is None:
        raise ImportFailed(path, "unsupported file type (expected .fit, .gpx, .fit.gz or .gpx.gz)")
    suffix, compressed = kind
    if compressed:
        data = _gunzip(path, data)
    return _DECODERS[suffix](path, data, options)


def _gunzip(path: Path, data: bytes) -> bytes:
    if not data:
        raise ImportFailed(path, "empty file (0 bytes)")
    try:
        decompressor = zlib.decompressobj(wbits=31)
        out = decompressor.decompress(data, _MAX_UNCOMPRESSED)
        if decompressor.unconsumed_tail:
            raise ImportFailed(path, "gzip content larger than 512 MiB")
        if not decompressor.eof:
            raise ImportFailed(path, "truncated gzip file")
        return out
    except (zlib.error, gzip.BadGzipFile, EOFError) as exc:
        raise ImportFailed(path, f"not a valid gzip file: {exc}") from exc
