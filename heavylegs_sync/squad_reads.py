"""The coach's view reads the whole squad at once: each table once for every athlete.

A row per athlete that ran its own statements cost a thousand athletes nine thousand
round trips to the server (docs/performance.md). :func:`read_squad` reads the days every
row needs, for every athlete, in a few statements; :class:`Member` then answers one
athlete's reads (:class:`heavylegs_sync.diagnosis.DayReads`) from it, and asks the
athlete's own scoped store for whatever lies outside (history before the window, when
the window does not decide a rule; samples, for figures not kept yet). The answers are
the same either way: only where they are read from differs.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from heavylegs_sync.hr.strava import ZONES_KEY
from heavylegs_sync.limits import PEAK_KIND
from heavylegs_sync.model import Activity, HrSettings, Samples, WellnessRecord
from heavylegs_sync.store import Athlete, Store
from heavylegs_sync.store.activities import Evidence
from heavylegs_sync.store.derived import NOTHING, PeakRun
from heavylegs_sync.store.rows import Share

log = logging.getLogger("heavylegs.team")

#: A stored offset and the athlete's zone differ by 26 hours at most: the days read reach
#: this far past the days asked for (as :func:`heavylegs_sync.diagnosis.local_activities`).
SLACK = timedelta(days=2)


@dataclass(frozen=True)
class SquadRead:
    """What :func:`read_squad` read, by athlete id.

    ``activities``: every primary record whose stored local day lies in [first, last];
    ``derived``: every kept figure of those from ``figures_first`` on (older ones count
    for their day and category alone) that have samples, by activity id and kind (one
    without an entry has none: its figures are nothing); ``peaks``: every
    run before ``peaks_until`` whose peak may count (None: not read, every athlete has a
    max HR); ``wellness``: the days [wellness_first, last]; ``evidence``: where the
    athletes in ``evidence_of`` were (their zone is not set).
    """

    first: date
    last: date
    figures_first: date
    activities: dict[int, list[Activity]]
    derived: dict[int, dict[str, str]]
    watch: dict[int, list[tuple[int, datetime, HrSettings]]]
    strava_zones: dict[int, str]
    wellness_first: date
    wellness: dict[int, list[WellnessRecord]]
    peaks_until: datetime | None
    peaks: dict[int, list[PeakRun]]
    evidence_of: frozenset[int]
    evidence: dict[int, list[Evidence]]


def read_evidence(store: Store, athletes: Collection[int]) -> dict[int, list[Evidence]]:
    """Where the ``athletes`` were (:meth:`Store.offsets_from_sources`), in one read:
    those whose zone is set need none, and the days to read depend on the zones."""
    return store.squad_offsets_from_sources(sorted(athletes)) if athletes else {}


def read_squad(
    store: Store,
    days: Collection[date],
    *,
    history_days: int,
    figures_days: int,
    wellness_days: int,
    peaks: bool,
    evidence: dict[int, list[Evidence]],
    evidence_of: Collection[int],
    share: Share | None = None,
) -> SquadRead:
    """What rows on ``days`` (each athlete's) read, for every athlete, from one store
    opened unscoped, in a few statements: the activities of the ``history_days`` before
    the earliest day to the latest, the kept figures of those of the ``figures_days``
    before it (:func:`heavylegs_sync.diagnosis.reach`), the watches' HR settings,
    Strava's zones, wellness from ``wellness_days`` before the earliest day, and
    (``peaks``: someone has no max HR) every run's kept peak up to the latest day.
    ``evidence``: :func:`read_evidence`'s, for the athletes ``evidence_of``. ``share``:
    the athletes of that part of the squad only (:data:`heavylegs_sync.store.rows.Share`)."""
    first = min(days) - timedelta(days=history_days) - SLACK
    figures_first = min(days) - timedelta(days=min(figures_days, history_days)) - SLACK
    last = max(days) + SLACK
    since = datetime.combine(first - SLACK, time(), UTC)
    figures_since = datetime.combine(figures_first - SLACK, time(), UTC)
    until = datetime.combine(last + SLACK + timedelta(days=1), time(), UTC)
    peaks_until = datetime.combine(last, time(), UTC) if peaks else None
    wellness_first = min(days) - timedelta(days=wellness_days)
    return SquadRead(
        first=first,
        last=last,
        figures_first=figures_first,
        activities=store.squad_activities(since, until, share=share),
        derived=store.squad_derived(figures_since, until, share=share),
        watch=store.squad_watch_hr_settings(share=share),
        strava_zones=store.squad_state(ZONES_KEY),
        wellness_first=wellness_first,
        wellness=store.squad_wellness(wellness_first, last, share=share),
        peaks_until=peaks_until,
        peaks={}
        if peaks_until is None
        else store.squad_peak_runs(PEAK_KIND, peaks_until, share=share),
        evidence_of=frozenset(evidence_of),
        evidence=evidence,
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while the squad's objects are made and judged.

    A thousand athletes' weeks are some thirty thousand activities and their facts, none
    of them in a cycle; each batch of new objects would start a collection that walks all
    of them again (on the club bench, docs/performance.md: over a second a view)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Member:
    """One athlete's share of a :class:`SquadRead`, read as that athlete's store.

    Reads inside what the squad read answer from it; any other read goes to ``store``
    (the athlete's scoped store) and is logged, so a test can see which path ran.
    Figures computed on the way are saved through ``store`` (held there when it is
    read-only, for the caller to keep)."""

    def __init__(self, store: Store, read: SquadRead) -> None:
        assert store.athlete is not None
        self.store = store
        self.athlete: Athlete | None = store.athlete
        self._id = store.athlete.id
        self._read = read
        self._activities = read.activities.get(self._id, [])
        #: Each activity's stored local day, once: every row filters by it twice.
        self._days = [a.start_local.date() for a in self._activities]
        #: The activities whose kept figures the squad read holds (absent: not kept).
        self._window_ids = {
            a.id
            for a, d in zip(self._activities, self._days, strict=True)
            if a.id is not None and d >= read.figures_first
        }
        self._peaks = read.peaks.get(self._id, [])
        derived = read.derived
        self._figures: dict[int, dict[str, str]] = {
            i: dict(derived[i]) for i in self._window_ids if i in derived
        }
        #: Those without samples (no entry in the read): every figure of them is nothing.
        self._unsampled = self._window_ids.difference(derived)
        for run in self._peaks:
            if run.data is not None:
                self._figures.setdefault(run.id, {})[PEAK_KIND] = run.data
        #: The runs whose peak the squad read holds, kept or not (None: not kept).
        self._peak_ids = frozenset(run.id for run in self._peaks)
        #: Reads that went to the athlete's own store (what, and why), in order.
        self.asked: list[str] = []

    @property
    def path(self) -> Path | str:
        """The store's file or URL, for messages."""
        return self.store.path

    def _ask(self, what: str) -> None:
        self.asked.append(what)
        name = self.athlete.name if self.athlete is not None else self.store.path
        log.debug("%s: %s read from the store, not the squad's read", name, what)

    def activities_on_days(
        self, first: date | None = None, last: date | None = None, *, with_samples: bool = False
    ) -> list[Activity]:
        """The athlete's activities of [first, last] (stored local days)."""
        read = self._read
        if with_samples or first is None or last is None or first < read.first or last > read.last:
            self._ask(f"activities from {first or 'the first'} to {last or 'the last'}")
            return self.store.activities_on_days(first, last, with_samples=with_samples)
        return [a for a, d in zip(self._activities, self._days, strict=True) if first <= d <= last]

    def latest_starts(
        self, until: datetime, min_seconds: float
    ) -> tuple[datetime | None, datetime | None]:
        """Where an athlete gone silent was last: always the store's (the squad's read
        holds the weeks before the day, and they are empty)."""
        self._ask(f"the latest starts before {until:%Y-%m-%d}")
        return self.store.latest_starts(until, min_seconds)

    def peak_runs(self, kind: str, until: datetime) -> list[PeakRun]:
        """The runs before ``until`` whose peak may count (see :meth:`Store.peak_runs`)."""
        if kind != PEAK_KIND or self._read.peaks_until is None or until > self._read.peaks_until:
            self._ask(f"runs' peaks before {until:%Y-%m-%d}")
            return self.store.peak_runs(kind, until)
        return [r for r in self._peaks if r.start_utc < until]

    def watch_hr_settings(self) -> list[tuple[int, datetime, HrSettings]]:
        """The watch's HR settings recorded with the athlete's activities."""
        return self._read.watch.get(self._id, [])

    def get_state(self, key: str) -> str | None:
        """A saved value: Strava's zones from the squad read, anything else asked."""
        if key == ZONES_KEY:
            return self._read.strava_zones.get(self._id)
        self._ask(f"state {key}")
        return self.store.get_state(key)

    def derived(self, kind: str, ids: Sequence[int]) -> dict[int, str]:
        """Kept figures of ``kind``: those of the squad read's activities, and its runs'
        peaks, from it (absent there: not kept; without samples: nothing); others asked."""
        known, read, unsampled = self._figures, self._window_ids, self._unsampled
        peaks = self._peak_ids if kind == PEAK_KIND else frozenset()
        found = {i: known[i][kind] for i in ids if i in known and kind in known[i]}
        found.update((i, NOTHING) for i in ids if i in unsampled)
        # Not kept: missing among the figures read for an activity of the read, or (a
        # peak) for a run of the runs' peaks read; any other figure is asked.
        others = [i for i in ids if i not in found and i not in read and i not in peaks]
        if others:
            self._ask(f"{len(others)} {kind} figures")
            found.update(self.store.derived(kind, others))
        return found

    def save_derived(self, kind: str, values: dict[int, str]) -> None:
        """Keep figures computed on the way (held by a read-only store)."""
        self.store.save_derived(kind, values)
        for i, data in values.items():
            self._figures.setdefault(i, {})[kind] = data

    def samples(self, activity_id: int) -> Samples | None:
        """An activity's samples: always the store's (figures not kept yet)."""
        self._ask(f"samples of activity {activity_id}")
        return self.store.samples(activity_id)

    def wellness(self, first: date | None = None, last: date | None = None) -> list[WellnessRecord]:
        """The athlete's wellness records of [first, last]."""
        read = self._read
        if first is None or last is None or first < read.wellness_first or last > read.last:
            self._ask(f"wellness from {first or 'the first'} to {last or 'the last'}")
            return self.store.wellness(first, last)
        return [w for w in read.wellness.get(self._id, []) if first <= w.day <= last]

    def offsets_from_sources(self) -> list[Evidence]:
        """Where the athlete was: from the squad read when it read it."""
        if self._id in self._read.evidence_of:
            return self._read.evidence.get(self._id, [])
        self._ask("time zone evidence")
        return self.store.offsets_from_sources()
