"""Signals that wait for the file in hand: a stop request (Ctrl-C, SIGTERM) that arrives
while a file is being stored and counted is raised once both are done.

Without this, a signal between the store's commit and the import's count said "10 new"
of a batch that had stored 11 (the file was kept, as promised, but not counted). Only
the short store-and-count step waits; decoding, which can take long, stays interruptible.
The CLI's signal handler asks :func:`defer` before it raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from heavylegs_sync.errors import Interrupted

_depth = 0
_pending: int | None = None


@contextmanager
def held() -> Iterator[None]:
    """Hold stop signals until the block ends, then raise the first one that came."""
    global _depth, _pending
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)


def defer(signum: int) -> bool:
    """Whether a stop signal must wait (inside :func:`held`); it is then raised there."""
    global _pending
    if _depth == 0:
        return False
    if _pending is None:
        _pending = signum
    return True
