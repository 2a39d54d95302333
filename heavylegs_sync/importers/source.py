"""Reading a file's bytes without trusting it: regular files only, sizes capped, gzip streamed.

A FIFO named ``x.fit`` would block a plain ``open`` forever and ``/dev/zero`` would fill
memory, so the file is opened non-blocking and checked with ``fstat`` before anything is
read. Compressed input is inflated chunk by chunk, so a small ``.gz`` holding gigabytes is
refused after at most the cap, never held whole.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.limits import BYTES_PER_MB

CHUNK = 1 << 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def sha256_of(data: bytes) -> str:
    """The content identity of a file: the store skips content it holds already."""
    return hashlib.sha256(data).hexdigest()


def display(path: Path | str) -> str:
    """The path as one line of text for people and the store: bytes that are not UTF-8,
    and control characters such as a newline, shown as ``\\xNN``."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in a word."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def megabytes(limit: int) -> str:
    """A byte limit as the setting shows it."""
    return f"{limit / BYTES_PER_MB:g} MB"


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file (symlinks followed) of at most ``max_bytes``.

    Raises :class:`ImportFailed` for anything else: a FIFO, a device, a folder, a file
    larger than the cap, or one that cannot be read.
    """
    try:
        before = os.stat(path)
    except OSError as exc:
        raise ImportFailed(path, f"cannot read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(before.st_mode):
        raise ImportFailed(path, f"not a regular file ({file_kind(before.st_mode)})")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ImportFailed(path, f"cannot read: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb", buffering=0) as handle:
        st = os.fstat(handle.fileno())  # the file opened, not the one stat'ed: no race
        if not stat.S_ISREG(st.st_mode):
            raise ImportFailed(path, f"not a regular file ({file_kind(st.st_mode)})")
        if st.st_size > max_bytes:
            raise ImportFailed(path, _too_large(max_bytes))
        parts: list[bytes] = []
        total = 0
        try:
            while True:
                part = handle.read(min(CHUNK, max_bytes + 1 - total))
                if not part:
                    break
                parts.append(part)
                total += len(part)
                if total > max_bytes:
                    raise ImportFailed(path, _too_large(max_bytes))
        except OSError as exc:
            raise ImportFailed(path, f"cannot read: {exc.strerror or exc}") from exc
    return b"".join(parts)


def gunzip_chunks(path: Path, data: bytes, max_bytes: int) -> Iterator[bytes]:
    """Inflate gzip data (one or more members) piece by piece, refusing more than the cap."""
    if not data:
        raise ImportFailed(path, "empty file (0 bytes)")
    total = 0
    pending = data
    try:
        while pending:
            inflater = zlib.decompressobj(wbits=31)
            view = pending
            while True:
                out = inflater.decompress(view, CHUNK)
                total += len(out)
                if total > max_bytes:
                    raise ImportFailed(path, _too_large(max_bytes, "once decompressed"))
                if out:
                    yield out
                if inflater.eof:
                    break
                view = inflater.unconsumed_tail
                if not view and not out:
                    raise ImportFailed(path, "truncated gzip file")
            pending = inflater.unused_data
            if pending and not pending.lstrip(b"\0"):
                break  # zero padding after the last member (some tools write it)
    except zlib.error as exc:
        raise ImportFailed(path, f"not a valid gzip file: {exc}") from exc


def _too_large(limit: int, how: str = "") -> str:
    where = f" {how}" if how else ""
    return f"larger than {megabytes(limit)}{where} (setting [import] max_file_mb)"
