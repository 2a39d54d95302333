"""What to do when a record arrives that the store already holds in some form: the
linking policy, as pure functions that return a plan the store carries out.

:mod:`heavylegs_sync.matching` says which two records are one activity; this module says
what follows from it:

* **which copy is primary** (:func:`plan_link`): the richer one (heart rate, samples, then
  the source), and the other points to it; a tie keeps the one stored first
  (:func:`newcomer_wins`, the rule any record kind with several sources shares);
* **which clock wins** (:func:`clock_for_primary`): the copy whose clock the device itself
  set, then the one not re-saved by a program;
* **which record replaces which** (:func:`plan_duplicate`): a record of the same source
  identity that is whole replaces a stored one with notes (truncated, values dropped);
  otherwise the first stays;
* **how metadata merges**: a later export's list fills what the stored record lacks
  (:func:`plan_duplicate`), and on reading, an activity shows its primary's values, else
  the first copy's that has one (:func:`heavylegs_sync.linked.merged_metadata`).

Nothing here reads a database or the clock: records in, a plan out. The store gathers the
facts (:class:`~heavylegs_sync.matching.Candidate`, :class:`StoredRecord`) and writes what
the plan says, so a second backend follows the same policy by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from heavylegs_sync import matching

# What linked copies show on reading lives in :mod:`heavylegs_sync.linked` (the store's
# reads need it without this module's planning); offered here too, where it was.
from heavylegs_sync.linked import METADATA_FIELDS as METADATA_FIELDS
from heavylegs_sync.linked import merged_metadata as merged_metadata
from heavylegs_sync.linked import sources_of as sources_of
from heavylegs_sync.model import Activity, OffsetSource, Samples


@dataclass(frozen=True)
class Clock:
    """A record's start and the UTC offset of its local time, with what vouches for them."""

    start_utc: datetime
    utc_offset_s: int
    offset_source: OffsetSource
    device: str | None

    @property
    def trust(self) -> tuple[int, int]:
        """:func:`heavylegs_sync.matching.clock_trust` of this clock."""
        return matching.clock_trust(self.offset_source, self.device)


@dataclass(frozen=True)
class LinkPlan:
    """Link a newly stored record to a stored copy of the same activity.

    ``new_is_primary``: the new record becomes primary, and the stored one (with every
    copy that pointed to it) points to the new one; otherwise the new one points to the
    stored one. ``primary_clock``: the start and offset the primary takes from its copy,
    or None when the primary's own clock is the better one.
    """

    other_id: int
    new_is_primary: bool
    primary_clock: Clock | None


@dataclass(frozen=True)
class StoredRecord:
    """What the store holds under a source identity that arrives again."""

    id: int
    notes: tuple[str, ...]
    perceived_exertion: float | None
    relative_effort: float | None
    weight_lifted_kg: float | None


@dataclass(frozen=True)
class DuplicatePlan:
    """What a record whose source identity is already stored changes.

    ``metadata``: the export metadata the stored record is to hold (a later export's list
    knows what an earlier record did not), or None when nothing changes. ``replace``:
    the arriving record is whole where the stored one was flawed, so its values, samples
    and sets replace the stored ones under the same id.
    """

    metadata: tuple[float | None, float | None, float | None] | None
    replace: bool


def clock_of(a: Activity) -> Clock:
    """The clock of a record about to be stored."""
    return Clock(a.start_utc, a.utc_offset_s, a.offset_source, a.device)


def candidate_window(a: Activity) -> tuple[datetime, datetime]:
    """The start times (UTC) a stored copy of ``a`` can have: the widest clock shift
    :func:`heavylegs_sync.matching.shifted_start` allows, either way."""
    margin = timedelta(seconds=matching.MAX_SHIFT_S + matching.MATCH_START_S)
    return a.start_utc - margin, a.start_utc + margin


def plan_link(
    a: Activity,
    sha256: str | None,
    candidates: Sequence[matching.Candidate],
    samples_of: Callable[[int], Samples | None],
) -> LinkPlan | None:
    """Which stored record (a primary, started within :func:`candidate_window`) the new
    record ``a`` is one activity with, and how the two are linked; None when it is new.

    The closest start is asked first; records of the same file (``sha256``) are never
    copies of each other. ``samples_of`` reads a candidate's samples, asked only when
    clocks may be shifted (the one costly question).
    """
    ordered = sorted(candidates, key=lambda c: abs((c.start_utc - a.start_utc).total_seconds()))
    for other in ordered:
        if sha256 and other.file_sha256 == sha256:
            continue
        if not matching.same_by_time(a, other) and not (
            matching.shifted_start(a, other)
            and matching.same_by_samples(a, other, samples_of(other.id))
        ):
            continue
        new_is_primary = newcomer_wins(
            matching.activity_richness(a),
            matching.richness(other.source, other.has_hr, other.sample_count),
        )
        mine = clock_of(a)
        theirs = Clock(other.start_utc, other.utc_offset_s, other.offset_source, other.device)
        if new_is_primary:
            clock = clock_for_primary(mine, theirs)
        else:
            clock = clock_for_primary(theirs, mine)
        return LinkPlan(other.id, new_is_primary, clock)
    return None


def newcomer_wins(new_rank: tuple[int, ...], stored_rank: tuple[int, ...]) -> bool:
    """Whether a record arriving for something already stored (an activity; a day's or
    night's wellness record alike) becomes the one shown: only when strictly richer by
    its rank, so on a tie the record stored first stays and a re-import changes nothing."""
    return new_rank > stored_rank


def clock_for_primary(primary: Clock, secondary: Clock) -> Clock | None:
    """The secondary's clock when it is more trustworthy than the primary's, else None
    (the primary keeps its own; on a tie too)."""
    return secondary if secondary.trust > primary.trust else None


def plan_duplicate(stored: StoredRecord, a: Activity) -> DuplicatePlan:
    """What a record of an already stored source identity changes (see
    :class:`DuplicatePlan`)."""
    held = (stored.perceived_exertion, stored.relative_effort, stored.weight_lifted_kg)
    offered = (a.perceived_exertion, a.relative_effort, a.weight_lifted_kg)
    merged = tuple(
        mine if mine is not None else new for mine, new in zip(held, offered, strict=True)
    )
    metadata = None if merged == held else (merged[0], merged[1], merged[2])
    return DuplicatePlan(metadata=metadata, replace=bool(stored.notes) and not a.notes)
