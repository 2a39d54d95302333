"""File importers: bytes in, :class:`~heavylegs_sync.model.Activity` values out.

:func:`decode_file` is a plain function of a path, its bytes and picklable options, so it
can run in worker processes; nothing here touches the store. :func:`decode_path` also
reads the file, refusing anything but a regular file within the size cap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers.common import DecodeOptions, Decoder
from heavylegs_sync.importers.fit import decode_fit
from heavylegs_sync.importers.gpx import decode_gpx
from heavylegs_sync.importers.source import gunzip_chunks, megabytes, read_regular
from heavylegs_sync.importers.tcx import decode_tcx
from heavylegs_sync.importers.wellness_read import is_wellness_name
from heavylegs_sync.model import Activity

__all__ = ["SUFFIXES", "DecodeOptions", "Decoder", "decode_file", "decode_path", "is_importable"]

_DECODERS: dict[str, Callable[[Path, bytes, DecodeOptions], list[Activity]]] = {
    ".fit": decode_fit,
    ".gpx": decode_gpx,
    ".tcx": decode_tcx,
}
#: File name endings we import, compressed or not (Strava's bulk export gzips files), in
#: any case: exports write ``.FIT`` and ``.TCX.gz`` as often as ``.fit``.
SUFFIXES: tuple[str, ...] = (".fit", ".gpx", ".tcx", ".fit.gz", ".gpx.gz", ".tcx.gz")


def kind_of(path: Path) -> tuple[str, bool] | None:
    """The format (".fit", ".gpx" or ".tcx") and whether it is gzipped, from the file name
    in any case (``RUN.FIT``, ``ride.Tcx.GZ``)."""
    name = path.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    for suffix in _DECODERS:
        if name.endswith(suffix):
            return suffix, compressed
    return None


def is_importable(path: Path) -> bool:
    """Whether the file name says it is something we import: an activity file or a
    wellness file (:mod:`heavylegs_sync.importers.wellness_read`)."""
    return kind_of(path) is not None or is_wellness_name(path)


def decode_path(path: Path, options: DecodeOptions) -> list[Activity]:
    """Read (a regular file, within the size cap) and decode one file."""
    if kind_of(path) is None:
        raise ImportFailed(path, _UNSUPPORTED)
    return decode_file(path, read_regular(path, options.max_bytes), options)


def decode_file(path: Path, data: bytes, options: DecodeOptions) -> list[Activity]:
    """Decode one file's bytes; raise :class:`ImportFailed` naming the file and the reason.

    Gzipped content is inflated in chunks as the decoder asks for it, never beyond
    ``options.max_bytes``.
    """
    kind = kind_of(path)
    if kind is None:
        raise ImportFailed(path, _UNSUPPORTED)
    suffix, compressed = kind
    if len(data) > options.max_bytes:
        raise ImportFailed(path, f"larger than {megabytes(options.max_bytes)}")
    if not compressed:
        return _DECODERS[suffix](path, data, options)
    if not data:
        raise ImportFailed(path, "empty file (0 bytes)")

    def chunks() -> Iterator[bytes]:
        return gunzip_chunks(path, data, options.max_bytes)

    if suffix == ".gpx":
        return decode_gpx(path, chunks, options)  # parsed as it inflates
    if suffix == ".tcx":
        return decode_tcx(path, chunks, options)
    return decode_fit(path, _fit_content(path, chunks()), options)


def _fit_content(path: Path, chunks: Iterator[bytes]) -> bytes:
    """Inflated FIT content; anything without a FIT header is refused at the first chunk."""
    parts: list[bytes] = []
    for part in chunks:
        parts.append(part)
        if len(parts) == 1 and len(part) >= 12 and part[8:12] != b".FIT":
            raise ImportFailed(path, "not a FIT file (no .FIT signature in the header)")
    return b"".join(parts)


_UNSUPPORTED = "unsupported file type (expected .fit, .gpx or .tcx, each also gzipped as .gz)"
