"""Stored data to analyses: the one place that loads activities, settings and kept
figures for an analysis.

The report, the watcher, ``today``, ``info`` and the notebook API all call
:func:`analyse_store` / :func:`today_store`; the analysis itself stays pure
(:mod:`heavylegs_sync.analysis`), and turning an analysis into text, JSON or HTML is
:mod:`heavylegs_sync.report`'s.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from heavylegs_sync.analysis import Analysis, ZoneTimeline, analyse, window, zone_timeline
from heavylegs_sync.analysis.facts import ActivityFacts, activity_facts
from heavylegs_sync.analysis.today import Note, Today
from heavylegs_sync.analysis.weeks import monday
from heavylegs_sync.config import RuleSettings, Settings
from heavylegs_sync.hr.strava import ZONES_KEY, zone_bounds
from heavylegs_sync.hr.zones import ZoneError, ZoneModel, ZoneSettingsError, ZoneTimes, ZoneTimesKey
from heavylegs_sync.limits import PEAK_KIND, PEAK_WINDOW_S
from heavylegs_sync.localtime import AthleteZones, ZoneEvidence, source_words, strava_zone_name
from heavylegs_sync.model import Activity, Category, HrSettings, Samples, WellnessRecord
from heavylegs_sync.store import Athlete, Store
from heavylegs_sync.store.activities import Evidence
from heavylegs_sync.store.derived import NOTHING, PeakRun

if TYPE_CHECKING:
    from heavylegs_sync.decoding import DecodePool

log = logging.getLogger("heavylegs.report")


class DayReads(Protocol):
    """What the answer for a day reads (:func:`day_facts`): a store scoped to one
    athlete, or one athlete's share of the coach's squad-wide read
    (:class:`heavylegs_sync.squad_reads.Member`)."""

    athlete: Athlete | None

    @property
    def path(self) -> Path | str: ...

    def activities_on_days(
        self, first: date | None = None, last: date | None = None, *, with_samples: bool = False
    ) -> list[Activity]: ...

    def latest_starts(
        self, until: datetime, min_seconds: float
    ) -> tuple[datetime | None, datetime | None]: ...

    def peak_runs(self, kind: str, until: datetime) -> list[PeakRun]: ...

    def watch_hr_settings(self) -> list[tuple[int, datetime, HrSettings]]: ...

    def get_state(self, key: str) -> str | None: ...

    def derived(self, kind: str, ids: Sequence[int]) -> dict[int, str]: ...

    def save_derived(self, kind: str, values: dict[int, str]) -> None: ...

    def samples(self, activity_id: int) -> Samples | None: ...

    def wellness(
        self, first: date | None = None, last: date | None = None
    ) -> list[WellnessRecord]: ...

    def offsets_from_sources(
        self,
    ) -> list[Evidence]: ...


def athlete_zones(store: DayReads, settings: Settings) -> AthleteZones:
    """The athlete's zone on each date (docs/timezones.md): the setting, else what the
    stored activities with an offset of their own say, else this machine's zone. With
    the setting the evidence is not read: the setting wins on every date."""
    if settings.athlete.timezone:
        return zones_from(settings, [])
    return zones_from(settings, store.offsets_from_sources())


def zones_from(settings: Settings, evidence: Sequence[Evidence]) -> AthleteZones:
    """:func:`athlete_zones` from evidence read already (:meth:`Store.offsets_from_sources`;
    not looked at when the settings name the zone)."""
    from heavylegs_sync.config import local_zone

    setting = settings.zoneinfo() if settings.athlete.timezone else None
    if setting is not None:  # the machine's zone serves only without a setting and
        # evidence: not looked up (tzlocal costs every command's start-up ~15 ms)
        return AthleteZones((), setting=setting, machine=setting)
    found = [
        ZoneEvidence(
            at=start,
            offset_s=offset,
            source=source_words(source, source_id, path),
            zone=strava_zone_name(zone) if zone else None,
        )
        for start, offset, source, source_id, path, zone in evidence
    ]
    return AthleteZones(found, setting=setting, machine=local_zone())


def redate_store(store: Store, settings: Settings) -> int:
    """Re-date the stored records that have no offset of their own by the athlete's zones
    (after an import or a sync brought new evidence), so the store's local-time views
    (docs/store.md) agree with the reports. Returns how many changed; a read-only store
    is left as it is (the reports re-date in memory anyway)."""
    if store.read_only:
        return 0
    zones = athlete_zones(store, settings)
    wanted = {}
    for activity_id, start, offset in store.offsets_by_zone():
        new = zones.at(start).offset_s
        if new != offset:
            wanted[activity_id] = new
    return store.set_offsets(wanted)


def local_activities(
    store: DayReads,
    zones: AthleteZones,
    first: date | None = None,
    last: date | None = None,
    *,
    with_samples: bool = False,
) -> list[Activity]:
    """Activities whose local day, in the athlete's zones, lies in [first, last]."""
    slack = timedelta(days=2)  # a stored offset and the zones' differ by 26 hours at most
    rows = store.activities_on_days(
        first - slack if first else None, last + slack if last else None, with_samples=with_samples
    )
    low, high = first or date.min, last or date.max
    return [a for a in zones.localise(rows) if low <= a.start_local.date() <= high]


def athlete_today(store: Store, settings: Settings, now: datetime) -> date:
    """The athlete's calendar day at ``now``: the default last day of reports."""
    return athlete_zones(store, settings).today(now)


def strava_bounds(store: DayReads) -> tuple[float, float, float, float] | None:
    """Strava's athlete zones (upper bounds of zones 1-4), when a sync saved them."""
    saved = store.get_state(ZONES_KEY)
    return zone_bounds(json.loads(saved)) if saved else None


def default_first_day(activities: list[Activity], last: date) -> date:
    """Eight weeks ending with the week of ``last``, but not before the first activity."""
    first = monday(last) - timedelta(weeks=7)
    if activities:
        first = max(first, monday(activities[0].start_local.date()))
    return min(first, last)


def store_timeline(
    store: DayReads,
    settings: Settings,
    activities: Sequence[Activity],
    leave_out: Collection[int] = (),
    *,
    peaks: Sequence[float] | None = None,
) -> ZoneTimeline:
    """The zones over time, from the settings, the watch's values, Strava or the runs
    (the peaks of ``activities``' runs; ``peaks``: the caller's, read otherwise)."""
    watch = [(when, values) for i, when, values in store.watch_hr_settings() if i not in leave_out]
    return zone_timeline(
        athlete=settings.athlete,
        zones=settings.zones,
        watch=watch,
        strava_bounds=strava_bounds(store),
        peaks=_peaks(store, settings, activities) if peaks is None else peaks,
    )


def analyse_store(
    store: Store,
    settings: Settings,
    last: date,
    first: date | None = None,
    *,
    leave_out: Collection[int] = (),
) -> Analysis:
    """Analyse the stored activities for [first, last] (``first``: 8 weeks back).

    Reads what the analysis window needs (every day before ``first`` for streaks, a week
    after ``last`` for the next day's run), so every rule for the range is decided.
    Samples are read only for figures the store has not kept yet (each run's sustained
    HR peak; each activity's time in zones for its day's zone model), so a report over
    years of history reads a few numbers per activity. ``leave_out`` drops activities by
    id: the watcher compares the findings with and without the files it just imported.
    """
    _, until = window(first or last, last)
    zones = athlete_zones(store, settings)
    activities = [a for a in local_activities(store, zones, None, until) if a.id not in leave_out]
    start = first if first is not None else default_first_day(activities, last)
    wellness = store.wellness(
        monday(start) - timedelta(days=settings.rules.baseline_first_day), last
    )
    try:
        timeline = store_timeline(store, settings, activities, leave_out)
    except ZoneSettingsError:
        raise  # the settings contradict the data: the user must fix them
    except ZoneError as exc:
        # No zones (runs without heart rate, no max HR anywhere): causes 1, 5 and 6 are
        # judged all the same; the analysis says why cause 2 is not.
        return analyse(
            activities,
            first=start,
            last=last,
            athlete=settings.athlete,
            zones=settings.zones,
            rules=settings.rules,
            season=settings.season,
            zones_error=str(exc),
            wellness=wellness,
        )
    # Zone times matter for the reported days, the day before, and the days after.
    near = [
        a
        for a in activities
        if a.id is not None and start - timedelta(days=1) <= a.start_local.date() <= until
    ]
    known = _zone_times(store, settings, timeline, near)
    return analyse(
        activities,
        first=start,
        last=last,
        athlete=settings.athlete,
        zones=settings.zones,
        rules=settings.rules,
        season=settings.season,
        known_zones=known,
        timeline=timeline,
        wellness=wellness,
    )


#: Days before the day a bounded read (:func:`day_facts` with ``bounded``) takes first:
#: four active weeks for the load ratio with two weeks' room for weeks off, the strength
#: window, a streak of up to six weeks. Whatever they cannot decide is read from the
#: beginning (of 1,001 athletes of the club bench, two; 56 days read a third more).
WINDOW_DAYS = 42


def reach(rules: RuleSettings) -> int:
    """How many days before a day its rules look back: the rest days, the load ratio and
    strength. Activities older than that count for their day and category alone (a
    streak, the first day seen); their zone times are never read."""
    return max(rules.recent_days, rules.chronic_days, rules.strength_window_days)


@dataclass(frozen=True)
class DayFacts:
    """What the answer for ``day`` rests on, read from the store once.

    ``facts`` holds the activities up to ``through`` (``day`` itself for the coach's view,
    whose week includes today's training; ``today`` stops before it), judged with the
    zones of the activities before ``day``; ``seen_before`` says whether any activity
    started before ``day`` (none: nothing is judged). ``since``: the first day read
    (None: every day); the answer is the same either way, but its ``history_days`` and
    ``activities`` then count from ``since``. ``notes``, ``estimated`` and ``wellness``
    are what :func:`heavylegs_sync.analysis.today.today` takes besides.
    """

    day: date
    facts: list[ActivityFacts]
    seen_before: bool
    notes: tuple[Note, ...] = ()
    estimated: bool = False
    wellness: list[WellnessRecord] = field(default_factory=list)
    since: date | None = None


def day_facts(
    store: DayReads,
    settings: Settings,
    day: date,
    *,
    through: date | None = None,
    zones: AthleteZones | None = None,
    bounded: bool = False,
) -> DayFacts:
    """The activity facts, notes and wellness the answer for ``day`` needs, in one pass.

    Reads every activity before ``day``'s local midnight (a streak without rest may have
    begun long ago: only days and categories are needed for that), and those up to
    ``through`` when given, with the zone times of those within the load and speed
    windows. The zones come from the activities before ``day`` only, so a run on ``day``
    cannot change how the days before it are judged. ``zones``: the athlete's zones when
    the caller has them already (one read of the evidence, not two).

    ``bounded`` (the coach's view: a row per athlete must be cheap) reads only the
    :data:`WINDOW_DAYS` before ``day`` when they decide every rule as all history would
    (:func:`_window_decides`), else everything; the causes and notes are the same. The
    max-HR estimate, when there is no max HR, still rests on every run before the day:
    their kept peaks are read alone (:func:`_peaks_before`).
    """
    zones = athlete_zones(store, settings) if zones is None else zones
    if bounded:
        start = day - timedelta(days=WINDOW_DAYS)
        found = _day_facts(store, settings, day, through, zones, start)
        if _window_decides(found, start, settings.rules):
            return found
        who = store.athlete.name if store.athlete is not None else store.path
        since = _last_seen(store, settings, day, found, start)
        if since is not None:
            log.debug("%s: nothing in the %d days before %s: read from %s", who, WINDOW_DAYS,
                      day, since)  # fmt: skip
            return (
                found if since == start else _day_facts(store, settings, day, through, zones, since)
            )
        log.debug("%s: the %d days before %s do not decide: all read", who, WINDOW_DAYS, day)
    return _day_facts(store, settings, day, through, zones, None)


def _last_seen(
    store: DayReads, settings: Settings, day: date, found: DayFacts, start: date
) -> date | None:
    """For an athlete gone silent (nothing in the weeks read before ``day``), the first
    day to read so that the answer is the one all history gives: from a few days before
    their latest activity (and their latest one not too short to judge). ``start`` when
    there is nothing older at all; None when the answer may rest on more (something in
    the weeks read, or rules that look back further than them).

    Why it holds: with nothing in the :data:`WINDOW_DAYS` before the day and every
    window of the rules inside them, ``today`` finds nothing recent and judges nothing;
    what it says then is the latest activity, and the coach's row the latest of all.
    Only ``history_days`` and ``activities`` count from the first day read, as for any
    bounded read."""
    if reach(settings.rules) > WINDOW_DAYS or any(f.day < day for f in found.facts):
        return None
    # An activity of a local day before ``start`` starts before this instant (offsets
    # reach 14 hours); one after it would have been in the weeks read.
    until = datetime.combine(start, time(), UTC) + timedelta(days=1)
    latest, judged = store.latest_starts(until, settings.rules.min_activity_seconds)
    if latest is None:
        return start  # nothing before the weeks read: they are all there is
    # Local days differ from UTC ones by 14 hours at most: an activity two days before
    # the latest start is on an earlier local day than it.
    earliest = min(latest, judged or latest) - timedelta(days=2)
    return earliest.date() - timedelta(days=1)


def _day_facts(
    store: DayReads,
    settings: Settings,
    day: date,
    through: date | None,
    zones: AthleteZones,
    since: date | None,
) -> DayFacts:
    rules = settings.rules
    yesterday = day - timedelta(days=1)
    last = yesterday if through is None else max(through, yesterday)
    activities = local_activities(store, zones, since, last)
    if not activities:
        return DayFacts(day, [], False, since=since)
    days = [a.start_local.date() for a in activities]
    before = [a for a, d in zip(activities, days, strict=True) if d < day]
    from_day = day - timedelta(days=reach(rules))
    near = [a for a, d in zip(activities, days, strict=True) if a.id is not None and d >= from_day]
    notes: list[Note] = []
    estimated = False
    # A bounded read holds the window only: the estimate's peaks are every earlier run's.
    peaks = _peaks_before(store, settings, zones, day) if since is not None and before else None
    try:
        timeline = store_timeline(store, settings, before or activities, peaks=peaks)
    except ZoneSettingsError:
        raise  # the settings contradict the data: the user must fix them
    except ZoneError as exc:
        notes.append(Note("zones-missing", {"reason": str(exc)}))
        known = {a.id: ZoneTimes.empty() for a in activities if a.id is not None}
        facts = activity_facts(activities, ZoneTimeline((), ()), rules, known)
    else:
        known = _zone_times(store, settings, timeline, near)
        for a in activities:  # older activities: only their day and category matter
            if a.id is not None and a.id not in known:
                known[a.id] = ZoneTimes.empty()
        facts = activity_facts(activities, timeline, rules, known)
        model = timeline.at(yesterday)
        estimated = model.max_hr_source == "estimate" and model.method.value not in ("lthr", "bpm")
    wellness = store.wellness(day - timedelta(days=rules.baseline_first_day), day) if before else []
    return DayFacts(day, facts, bool(before), tuple(notes), estimated, wellness, since)


def _window_decides(found: DayFacts, start: date, rules: RuleSettings) -> bool:
    """Whether facts read from ``start`` on decide every rule of the day's answer as all
    history would (:mod:`heavylegs_sync.analysis.today`):

    - an activity before the day: the latest one, the quiet days, "nothing recent";
    - the first one read at least as far back as every rule needs history (rest days,
      the load ratio, strength): an older first activity changes none of them;
    - the streak without rest ends inside the window;
    - the load ratio found all its active blocks after the first activity read (or has
      no acute load).
    """
    from heavylegs_sync.analysis.load import daily_loads, load_ratio
    from heavylegs_sync.analysis.weeks import training_days

    day = found.day
    before = [f for f in found.facts if f.day < day and not f.short]
    if not before:
        return False
    first = min(f.day for f in before)
    if (day - first).days < reach(rules):
        return False
    busy = training_days(before)
    rest = next((d for d in _days_back(day, start) if d not in busy), None)
    if rest is None:
        return False
    ratio = load_ratio(
        daily_loads(before),
        day,
        history_from=first,
        acute_days=rules.acute_days,
        chronic_days=rules.chronic_days,
    )
    wanted = max(1, round(rules.chronic_days / rules.acute_days))
    # Its oldest block starts after the first activity read (so inside the window, and
    # its first day is the same whatever came before).
    return ratio is None or (ratio.blocks == wanted and ratio.baseline_from > first)


def _days_back(day: date, start: date) -> Iterator[date]:
    """The days before ``day`` back to ``start``, latest first."""
    current = day - timedelta(days=1)
    while current >= start:
        yield current
        current -= timedelta(days=1)


def judge_day(found: DayFacts, settings: Settings, *, current: date | None = None) -> Today:
    """Why legs may be heavy on ``found.day`` (:mod:`heavylegs_sync.analysis.today`),
    from what :func:`day_facts` read. Without any activity before the day nothing is
    judged (and nothing noted); without zones causes 1, 5 and 6 are still judged and the
    answer notes that cause 2 was not."""
    from heavylegs_sync.analysis.today import today

    rules, season = settings.rules, settings.season
    if not found.seen_before:
        return today([], found.day, rules, season, current=current)
    return today(
        found.facts,
        found.day,
        rules,
        season,
        zones_estimated=found.estimated,
        notes=found.notes,
        current=current,
        wellness=found.wellness,
    )


def today_store(
    store: Store, settings: Settings, day: date, *, current: date | None = None
) -> Today:
    """Why legs may be heavy on ``day`` (:func:`day_facts`, then :func:`judge_day`).

    ``current`` (the caller's today) lets a past ``day`` be named by its date.
    """
    return judge_day(day_facts(store, settings, day), settings, current=current)


def derive(store: Store, settings: Settings, pool: DecodePool | None = None) -> None:
    """Compute and keep the figures reports need for every stored activity, so even the
    first report after an import reads no samples. Without enough data for zones it
    leaves them to the report, which will say what is missing."""
    activities = athlete_zones(store, settings).localise(store.activities())
    try:
        timeline = store_timeline(store, settings, activities)
    except ZoneError:
        return  # nothing to keep; report and today say why
    _zone_times(store, settings, timeline, activities, pool)


def _peaks(
    store: DayReads, settings: Settings, activities: Sequence[Activity]
) -> list[float] | None:
    """Sustained HR peaks of the runs, when max HR may have to be estimated."""
    if settings.athlete.max_hr is not None:
        return None
    runs = [a.id for a in activities if a.category is Category.RUN and a.id is not None]
    return [p for p in _figures(store, PEAK_KIND, runs, _peak).values() if p is not None]


def _peaks_before(
    store: DayReads, settings: Settings, zones: AthleteZones, day: date
) -> list[float] | None:
    """Sustained HR peaks of every run before ``day`` (local), when max HR may have to
    be estimated: what :func:`_peaks` gives for all activities before the day, read
    without them (a bounded read holds only the weeks before the day)."""
    if settings.athlete.max_hr is not None:
        return None
    until = datetime.combine(day + timedelta(days=2), time(), UTC)  # the local day decides
    runs = [
        r.id
        for r in store.peak_runs(PEAK_KIND, until)
        if zones.local_day(r.start_utc, r.utc_offset_s, r.offset_source) < day
    ]
    return [p for p in _figures(store, PEAK_KIND, runs, _peak).values() if p is not None]


def _zone_times(
    store: DayReads,
    settings: Settings,
    timeline: ZoneTimeline,
    activities: Sequence[Activity],
    pool: DecodePool | None = None,
) -> dict[int, ZoneTimes]:
    """Zone times of each activity for the model in effect on its day (the missing ones
    computed in ``pool``'s workers when given)."""
    gap = settings.rules.max_gap_s
    by_model: dict[ZoneModel, list[int]] = {}
    for a in activities:
        if a.id is not None:
            by_model.setdefault(timeline.at(a.start_local.date()), []).append(a.id)
    result: dict[int, ZoneTimes] = {}
    for model, ids in by_model.items():
        key = ZoneTimesKey.of(model, gap)
        if pool is not None:
            assert isinstance(store, Store), "workers compute from a store's samples"
            _compute_in(pool, store, str(key), ids, model, gap)

        def compute(samples: Samples, model: ZoneModel = model) -> list[float]:
            from heavylegs_sync.hr.trace import zone_times  # numpy: only when samples are read

            return zone_times(samples, model, max_gap_s=gap).to_list()

        for i, v in _figures(store, str(key), ids, compute).items():
            if v is not None:
                result[i] = ZoneTimes.from_list(v)
    return result


T = TypeVar("T")


def _peak(samples: Samples) -> float | None:
    from heavylegs_sync.hr.trace import sustained_peak  # numpy: only when samples are read

    return sustained_peak(samples, PEAK_WINDOW_S)


def _figures(
    store: DayReads, kind: str, ids: Sequence[int], compute: Callable[[Samples], T]
) -> dict[int, T | None]:
    """Saved figures of ``kind``, computing (from samples) and saving the missing ones."""
    # Most kept figures of a squad's Strava summaries are "nothing" (no samples to read).
    kept = store.derived(kind, ids)
    saved = {i: None if v == NOTHING else json.loads(v) for i, v in kept.items()}
    fresh: dict[int, str] = {}
    for activity_id in ids:
        if activity_id in saved:
            continue
        samples = store.samples(activity_id)
        value = compute(samples) if samples is not None else None
        saved[activity_id] = value
        fresh[activity_id] = json.dumps(value)
    store.save_derived(kind, fresh)
    return saved


def _compute_in(
    pool: DecodePool, store: Store, kind: str, ids: Sequence[int], model: ZoneModel, gap: float
) -> None:
    """The missing zone times of ``kind`` computed in the workers and kept, a few in
    flight at a time (each carries its samples). Samples that cannot be decoded, and
    any left by a worker that died (``pool.crashes`` counts it), are left to
    :func:`_figures`, which computes them here or names the activity."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from heavylegs_sync.codec import CodecError
    from heavylegs_sync.decoding import packed_zone_times

    saved = store.derived(kind, ids)
    fresh: dict[int, str] = {}
    flight: deque[tuple[int, Future[list[float]]]] = deque()

    def collect() -> None:
        activity_id, future = flight.popleft()
        with suppress(CodecError):  # left to _figures, which names the activity
            fresh[activity_id] = json.dumps(future.result())

    try:
        for activity_id in ids:
            if activity_id in saved:
                continue
            packed = store.packed_samples(activity_id)
            if packed is None:
                fresh[activity_id] = json.dumps(None)
                continue
            flight.append((activity_id, pool.call(packed_zone_times, packed, model, gap)))
            while len(flight) > 2 * pool.workers:
                collect()
        while flight:
            collect()
    except BrokenProcessPool:
        pool.close()
    store.save_derived(kind, fresh)


def from_strava(store: Store, analysis: Analysis) -> bool:
    """Whether any activity shown in the report came from Strava."""
    shown = store.activities_on_days(analysis.first, analysis.last)
    return any("strava" in a.sources for a in shown)
