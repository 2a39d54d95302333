"""A device's summary against its own samples: when the two contradict, the samples win.

A FIT session or TCX laps carry totals (distance, elapsed and moving time) written once at
the end; the records are what was measured along the way. A multisport session whose
summary says 1,990 km over records that cover 20 km is a summary gone wrong (a firmware
bug, a bad merge), and storing it would make a 20 km ride a world record and every
average speed from it nonsense. Speed is distance over time, so it follows the two.

"Contradict" is named once (:mod:`heavylegs_sync.limits`): the two differ by more than
:data:`~heavylegs_sync.limits.SUMMARY_TOLERANCE` of the larger *and* by more than a floor
(:data:`~heavylegs_sync.limits.SUMMARY_FLOOR_M`, :data:`~heavylegs_sync.limits.SUMMARY_FLOOR_S`),
and the samples are able to say so:

- duration: the samples run past the summary's end by that much (records continue where
  the summary says the activity was over), or the summary runs past the last sample by more
  than a pause that splits a file (:data:`~heavylegs_sync.limits.SPLIT_PAUSE_S`). Records
  that merely stop early (a sensor dropping out, sparse records) contradict nothing;
- distance: the samples' own distance channel moves, is present on most samples, and the
  samples cover most of the activity's time; a partial recording contradicts nothing.

Pure: plain numbers and samples in, figures and a note per correction out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heavylegs_sync.importers.parts import pauses
from heavylegs_sync.importers.track import moving_time
from heavylegs_sync.limits import (
    SPLIT_PAUSE_S,
    SUMMARY_FLOOR_M,
    SUMMARY_FLOOR_S,
    SUMMARY_TOLERANCE,
)
from heavylegs_sync.model import Samples

#: The distance channel is believed when at least this share of the samples carries one.
_DISTANCE_PRESENT = 0.5


@dataclass(frozen=True)
class Figures:
    """An activity's totals; ``notes`` says which ones the samples corrected and why."""

    elapsed_s: float | None
    timer_s: float | None
    distance_m: float | None
    notes: tuple[str, ...] = ()


def contradicts(summary: float, measured: float, floor: float) -> bool:
    """Whether two values of one figure differ beyond the tolerance and the floor."""
    gap = abs(summary - measured)
    return gap > floor and gap > SUMMARY_TOLERANCE * max(abs(summary), abs(measured))


def sample_distance(samples: Samples) -> float | None:
    """Metres the distance channel covers (last reading less the first), None when it is
    missing on most samples or never moves (a stuck counter proves nothing)."""
    distance = samples.distance
    if distance is None or not len(distance):
        return None
    finite = distance[np.isfinite(distance)]
    if finite.size < _DISTANCE_PRESENT * len(distance) or finite.size < 2:
        return None
    covered = float(finite.max() - finite[0])
    return covered if covered > 0 else None


def reconcile(summary: Figures, samples: Samples | None) -> Figures:
    """The totals to store: the summary's, except where the samples contradict it."""
    if samples is None or len(samples) < 2:
        return summary
    t = samples.t
    elapsed, timer, distance = summary.elapsed_s, summary.timer_s, summary.distance_m
    notes = list(summary.notes)
    extent = float(t[-1] - min(0.0, float(t[0])))
    declared = max((d for d in (elapsed, timer) if d is not None), default=None)
    continuous = len(pauses(t)) == 1  # a clock jump inside leaves the duration alone
    if declared is not None and continuous and extent > 0:
        longer = extent - declared > 0 and contradicts(declared, extent, SUMMARY_FLOOR_S)
        shorter = declared - extent > SPLIT_PAUSE_S
        if longer or shorter:
            notes.append(
                f"summary duration {_clock(declared)} contradicts the samples "
                f"({_clock(extent)}): samples kept"
            )
            elapsed = extent
            timer = moving_time(t)
    covered = sample_distance(samples)
    duration = max((d for d in (elapsed, timer) if d is not None), default=extent)
    spans_it = extent >= (1 - SUMMARY_TOLERANCE) * duration
    if (
        distance is not None
        and covered is not None
        and spans_it
        and contradicts(distance, covered, SUMMARY_FLOOR_M)
    ):
        notes.append(
            f"summary distance {distance / 1000:.1f} km contradicts the samples "
            f"({covered / 1000:.1f} km): samples kept"
        )
        distance = covered
    if len(notes) == len(summary.notes):
        return summary
    return Figures(elapsed, timer, distance, tuple(notes))


def _clock(seconds: float) -> str:
    if seconds >= 72 * 3600:
        return f"{seconds / 86400:.0f} days"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours}:{rest // 60:02d} h"
