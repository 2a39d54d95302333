"""Which samples of one recording are separate activities: files that span days.

A watch left recording overnight, a FIT file with four seconds of records and, 27 days
later, a two-hour ride, a GPX file with a track per day: read whole, each is one
"activity" lasting days that the plausibility checks refuse, and the real activities in
it are lost. Cut at every pause longer than :data:`~heavylegs_sync.limits.SPLIT_PAUSE_S`,
each part is an activity of its own; parts shorter than
:data:`~heavylegs_sync.limits.STUB_S` (a start pressed by mistake) are dropped, with a note
on the parts that are kept. Every format (FIT records, GPX points, TCX trackpoints and
laps) uses these functions, so they cut alike.

Pure functions of sorted times: no file, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from heavylegs_sync.limits import SPLIT_PAUSE_S, STUB_S
from heavylegs_sync.model import FloatArray


@dataclass(frozen=True)
class Split:
    """The parts of one recording kept as activities, and the stubs dropped."""

    parts: list[slice]  # index ranges into the sorted times, in time order
    stubs: list[float]  # durations (s) of the parts dropped as stubs

    @property
    def whole(self) -> bool:
        """Whether the recording is one activity, as read before splitting existed."""
        return len(self.parts) == 1 and not self.stubs

    def notes(self) -> tuple[str, ...]:
        """What each kept part carries so a reader sees it came from a split file."""
        if self.whole:
            return ()
        notes = [split_note(len(self.parts) + len(self.stubs))]
        if self.stubs:
            notes.append(stub_note(self.stubs))
        return tuple(notes)


def split_note(count: int) -> str:
    """The note on every activity cut from a file that held ``count`` recordings."""
    return f"split from a file spanning days ({count} parts, pauses over {_hours(SPLIT_PAUSE_S)})"


def stub_note(stubs: Sequence[float]) -> str:
    """The note saying which stubs of the same file were dropped."""
    durations = ", ".join(f"{d:.0f} s" for d in stubs)
    noun = "stub" if len(stubs) == 1 else "stubs"
    return f"{len(stubs)} {noun} under {STUB_S:.0f} s in the file dropped ({durations})"


def pauses(
    t: FloatArray, pause_s: float = SPLIT_PAUSE_S, *, lasted: float | None = None
) -> list[slice]:
    """Index ranges of ``t`` (sorted seconds) between pauses longer than ``pause_s``.

    ``lasted`` is the recording's duration as the device itself counted it (a FIT
    session's elapsed time), when known: a gap longer than that is the clock jumping
    forward (the device did not see that time pass), not a pause, and is not cut.
    """
    if not len(t):
        return []
    gaps = np.diff(t)
    cut = gaps > pause_s
    if lasted is not None:
        cut &= gaps <= lasted
    cuts = (np.flatnonzero(cut) + 1).tolist()
    bounds = [0, *cuts, len(t)]
    return [slice(a, b) for a, b in pairwise(bounds)]


def split(t: FloatArray, pause_s: float = SPLIT_PAUSE_S, *, lasted: float | None = None) -> Split:
    """The parts of a recording at its pauses, stubs left out.

    A stub is dropped only beside a part that is not one; when every part is a stub the
    one with the most samples stays, so a file never vanishes for being short.
    """
    return keep(t, pauses(t, pause_s, lasted=lasted))


def keep(t: FloatArray, parts: list[slice]) -> Split:
    """These parts of ``t`` as a :class:`Split`: stubs dropped beside a longer part."""
    if len(parts) <= 1:
        return Split(parts, [])
    spans = [float(t[p.stop - 1] - t[p.start]) for p in parts]
    kept = [p for p, span in zip(parts, spans, strict=True) if span >= STUB_S]
    if not kept:
        kept = [max(parts, key=lambda p: (p.stop - p.start, -p.start))]
    stubs = [span for p, span in zip(parts, spans, strict=True) if p not in kept]
    return Split(kept, stubs)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h"
