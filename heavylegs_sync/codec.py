"""Compact packing of an activity's samples into one blob.

One SQL row per sample would make a five-year history millions of rows; instead each
activity's channels are stored as little-endian arrays, the time column delta-encoded in
milliseconds (1 Hz recordings then compress to almost nothing), the whole zlib-compressed.
Times are kept to the millisecond and values as float32: exact for what devices record
(whole seconds, whole beats), a rounding for anything finer, so figures derived from
samples are computed from them as stored (:func:`normalise`).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from heavylegs_sync.model import CHANNELS, FloatArray, Samples

_MAGIC = b"HLS1"
_HEADER = struct.Struct("<4sBI")  # magic, channel bitmask, sample count


class CodecError(ValueError):
    """A stored blob is not what this version of the codec wrote."""


def encode_samples(samples: Samples) -> bytes:
    """Pack samples; times are kept to the millisecond, values as float32."""
    n = len(samples)
    mask = 0
    parts: list[bytes] = []
    t_ms = np.rint(np.asarray(samples.t, dtype=np.float64) * 1000.0).astype(np.int64)
    deltas = np.diff(t_ms, prepend=np.int64(0))
    parts.append(deltas.astype("<i8").tobytes())
    for bit, name in enumerate(CHANNELS):
        values = samples.channel(name)
        if values is None:
            continue
        mask |= 1 << bit
        parts.append(np.asarray(values, dtype="<f4").tobytes())
    payload = zlib.compress(b"".join(parts), 1)  # level 1: a third of level 6's time, 7% larger
    return _HEADER.pack(_MAGIC, mask, n) + payload


def decode_samples(blob: bytes) -> Samples:
    """Unpack what :func:`encode_samples` wrote."""
    if len(blob) < _HEADER.size:
        raise CodecError("sample blob too short")
    magic, mask, n = _HEADER.unpack_from(blob)
    if magic != _MAGIC:
        raise CodecError(f"unknown sample encoding {magic!r}")
    try:
        raw = zlib.decompress(blob[_HEADER.size :])
    except zlib.error as exc:
        raise CodecError(f"corrupt sample blob: {exc}") from exc
    expected = n * 8 + n * 4 * bin(mask).count("1")
    if len(raw) != expected:
        raise CodecError(f"sample blob holds {len(raw)} bytes, expected {expected}")
    t = np.cumsum(np.frombuffer(raw, dtype="<i8", count=n)).astype(np.float64) / 1000.0
    offset = n * 8
    channels: dict[str, FloatArray | None] = {}
    for bit, name in enumerate(CHANNELS):
        if mask & (1 << bit):
            values = np.frombuffer(raw, dtype="<f4", count=n, offset=offset).astype(np.float64)
            channels[name] = values
            offset += n * 4
        else:
            channels[name] = None
    return Samples(t=t, **channels)


def normalise(samples: Samples) -> Samples:
    """Round samples to exactly what the store keeps, so comparisons after a round trip hold."""
    return decode_samples(encode_samples(samples))
