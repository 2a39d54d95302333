"""The workflows every caller runs: the report, the answer for one day, keeping figures.

The CLI, the folder watcher and the notebook API call these and only parse, print or
shape the result; none of them runs a part of the workflow itself. Stored data becomes
an analysis in :mod:`heavylegs_sync.diagnosis`; the analysis is pure
(:mod:`heavylegs_sync.analysis`); words are :mod:`heavylegs_sync.report`'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from heavylegs_sync.errors import HeavyLegsError

if TYPE_CHECKING:
    from heavylegs_sync.analysis import Analysis
    from heavylegs_sync.analysis.today import Today
    from heavylegs_sync.config import Settings
    from heavylegs_sync.localtime import AthleteZones
    from heavylegs_sync.store import Store
    from heavylegs_sync.store.activities import Evidence
    from heavylegs_sync.store.athletes import Athlete
    from heavylegs_sync.team import TeamRow
    from heavylegs_sync.wellness import WellnessDay

log = logging.getLogger("heavylegs.report")

#: Figures an analysis computed from samples and a read-only store could not keep, by
#: kind and activity id (see :meth:`Store.unsaved_derived`).
Unsaved = dict[str, dict[int, str]]


class RangeError(HeavyLegsError, ValueError):
    """The asked range is empty (``since`` after ``until``)."""


@dataclass(frozen=True)
class ReportResult:
    """A rendered report and what it rests on (``analysis`` None: nothing imported)."""

    text: str
    analysis: Analysis | None
    first: date | None
    last: date
    unsaved: Unsaved = field(default_factory=dict)
    kept: bool = True  # the figures computed were kept (or there were none)


@dataclass(frozen=True)
class TodayResult:
    """The answer for one day and whether its computed figures were kept."""

    answer: Today
    unsaved: Unsaved = field(default_factory=dict)
    kept: bool = True


@dataclass(frozen=True)
class TeamResult:
    """The coach's view: one row per athlete, who needs attention first.

    ``unsaved``: by athlete, the figures the read-only pass computed; ``kept``: all of
    them were kept (or there were none); ``parts``: how many processes judged it."""

    rows: list[TeamRow]
    unsaved: dict[str, Unsaved] = field(default_factory=dict)
    kept: bool = True
    parts: int = 1  # processes that judged the squad (heavylegs_sync.forked)


def open_store(settings: Settings, *, read_only: bool = False, unscoped: bool = False) -> Store:
    """The store the settings name, scoped to their athlete: the one place commands,
    the watcher and the API open it."""
    from heavylegs_sync.store import Store

    return Store.open(
        settings.db_target,
        athlete=settings.athlete_name,
        read_only=read_only,
        unscoped=unscoped,
    )


def store_exists(settings: Settings) -> bool:
    """Whether there is a store to read (a server's database is always asked)."""
    return settings.db_url is not None or settings.db_path.exists()


def athlete_settings(settings: Settings) -> Settings:
    """The settings as the command's athlete sees them: the store's only athlete named
    when none was (so their ``[athletes.NAME.*]`` tables apply), and their time zone from
    the store (``athletes add --timezone``) when the settings file names none for them.

    A store that cannot be looked at yet (none, or an older schema a writing command will
    migrate) leaves the settings as they are: the command itself then says what is wrong.
    """
    from heavylegs_sync.errors import StoreError

    if not store_exists(settings):
        return settings
    try:
        with open_store(settings, read_only=True, unscoped=True) as store:
            if settings.athlete_name is not None:
                found = store.athletes.get(settings.athlete_name)
            else:
                every = store.athletes.list()
                found = every[0] if len(every) == 1 else None
    except StoreError as exc:
        log.debug("athlete's settings not looked up: %s", exc)
        return settings
    if found is None:
        return settings
    return settings_of(settings, found)


def settings_of(settings: Settings, athlete: Athlete) -> Settings:
    """``athlete``'s settings: their ``[athletes.NAME.*]`` tables over the shared ones,
    and their time zone from the store when the settings file names none for them."""
    from heavylegs_sync.config import load_settings

    tables = settings.raw.get("athletes") or {}
    if athlete.name != settings.athlete_name:
        if athlete.name in tables or settings.athlete_name in tables:
            settings = load_settings(
                settings.config_path, settings.db_url or settings.db_path, athlete=athlete.name
            )
        else:  # nothing of their own, nothing of another's: the shared settings are theirs
            settings = replace(settings, athlete_name=athlete.name)
    if athlete.timezone and not settings.athlete.timezone:
        settings = replace(settings, athlete=replace(settings.athlete, timezone=athlete.timezone))
    return settings


def check_range(first: date | None, last: date) -> None:
    """Refuse ``since`` after ``until`` before any work is done."""
    if first is not None and first > last:
        raise RangeError(f"since {first} is after until {last}")


def analysis(
    store: Store,
    settings: Settings,
    last: date,
    first: date | None = None,
    *,
    leave_out: Collection[int] = (),
) -> Analysis:
    """The weeks and findings of [first, last] (``first``: eight weeks back)."""
    from heavylegs_sync.diagnosis import analyse_store

    return analyse_store(store, settings, last, first, leave_out=leave_out)


def render_report(
    store: Store,
    settings: Settings,
    *,
    last: date,
    first: date | None = None,
    output_format: str = "text",
    width: int | None = None,
    now: date | None = None,
) -> ReportResult:
    """The report of an open store in ``output_format`` (text, json or html).

    The HTML page also answers "why are my legs heavy?" for ``last`` (``now``, the
    caller's today, lets a past day be named by its date). A store without any activity
    gets the "nothing imported yet" report, never "no problems".
    """
    from heavylegs_sync.diagnosis import from_strava, today_store
    from heavylegs_sync.report.render import render, render_empty
    from heavylegs_sync.report.today import today_dict

    check_range(first, last)
    if store.count() == 0:
        return ReportResult(render_empty(first or last, last, output_format), None, first, last)
    result = analysis(store, settings, last, first)
    strava = output_format == "html" and from_strava(store, result)
    today = (
        today_dict(today_store(store, settings, last, current=now))
        if output_format == "html"
        else None
    )
    text = render(result, output_format, width=width, strava=strava, today=today)
    return ReportResult(text, result, result.first, last, store.unsaved_derived())


def report(
    settings: Settings,
    *,
    last: date | None,
    clock: datetime,
    first: date | None = None,
    output_format: str = "text",
    width: int | None = None,
) -> ReportResult:
    """``heavylegs report``: read the store (read-only: never created, never migrated),
    render the report, then keep the figures it had to compute (:func:`keep_figures`).

    ``last`` None: the athlete's today at ``clock`` (UTC), in the zone the activities say
    (a server's clock is UTC; the athlete's day may not be)."""
    from heavylegs_sync.diagnosis import athlete_today

    if last is not None:
        check_range(first, last)
    with open_store(settings, read_only=True) as store:
        now = athlete_today(store, settings, clock)
        last = now if last is None else last
        check_range(first, last)
        result = render_report(
            store,
            settings,
            last=last,
            first=first,
            output_format=output_format,
            width=width,
            now=now,
        )
    kept = keep_figures(settings, result.unsaved)
    return ReportResult(
        result.text, result.analysis, result.first, result.last, result.unsaved, kept
    )


def today(settings: Settings, day: date | None, *, clock: datetime) -> TodayResult:
    """``heavylegs today``: the causes for ``day`` (None: the athlete's today at ``clock``)
    from the store (read-only), then keep the figures computed on the way.

    The settings are taken as the store's athlete sees them (:func:`athlete_settings`,
    looked up on the same connection, so settings given as they are cost no second
    opening of the store: on a server, a connection and its round trips)."""
    from heavylegs_sync.diagnosis import athlete_today, today_store

    with open_store(settings, read_only=True) as store:
        if store.athlete is not None:
            settings = settings_of(settings, store.athlete)
        now = athlete_today(store, settings, clock)
        answer = today_store(store, settings, now if day is None else day, current=now)
        unsaved = store.unsaved_derived()
    return TodayResult(answer, unsaved, keep_figures(settings, unsaved))


def wellness(settings: Settings, first: date | None, last: date | None) -> list[WellnessDay]:
    """``heavylegs wellness``: each day of [first, last] (both optional) with its merged
    sleep, resting heart rate and HRV (:func:`heavylegs_sync.wellness.merge_days`),
    oldest first, from the store opened read-only."""
    if first is not None and last is not None:
        check_range(first, last)
    with open_store(settings, read_only=True) as store:
        return wellness_days(store, first, last)


def wellness_days(store: Store, first: date | None, last: date | None) -> list[WellnessDay]:
    """The merged days of [first, last] of an open store (the notebook API's)."""
    from heavylegs_sync.wellness import merge_days

    return list(merge_days(store.wellness(first, last)).values())


def keep_figures(settings: Settings, unsaved: Unsaved) -> bool:
    """Save the figures a read-only analysis had to compute (zone times, HR peaks), so the
    next report reads no samples. Only this cache is written: never a new store, never a
    migration. A failure costs only speed: it is logged and returned (False), not raised.
    """
    if not unsaved:
        return True
    try:
        with open_store(settings, read_only=True):
            pass  # still there, still this schema: the writer below will not migrate
        with open_store(settings) as store:
            for kind, values in unsaved.items():
                store.save_derived(kind, values)
    except HeavyLegsError as exc:
        log.warning("computed figures not kept: %s", exc)
        return False
    return True


def _squad_of(store: Store, only: str | None = None) -> list[Athlete]:
    """Every athlete of the store (opened unscoped), by name: the one place the coach's
    view learns who the athletes are. ``only`` (``--athlete NAME``): that athlete alone
    (an unknown name is an error)."""
    if only is not None:
        scoped = store.for_athlete(only)
        assert scoped.athlete is not None
        return [scoped.athlete]
    return store.athletes.list()


def _athletes_of(store: Store, only: str | None = None) -> list[tuple[Athlete, Store]]:
    """:func:`_squad_of`, each athlete with the store scoped to them."""
    return [(a, store.scoped_to(a)) for a in _squad_of(store, only)]


#: Athletes a part of the coach's view holds at least: a forked process and its own
#: connection cost some tens of milliseconds (a connection 10 ms on the club bench's
#: server), what judging a dozen athletes costs; a small squad is judged in one.
ATHLETES_PER_PART = 100


@dataclass(frozen=True)
class _TeamPlan:
    """Everything the rows of the coach's view need besides the store: what the parent
    learned once (who, by which settings, on which day), for each part to judge its
    share of the athletes (forked children read it from their copy of memory)."""

    settings: Settings
    athletes: list[Athlete]
    own: dict[str, Settings]
    days: dict[str, tuple[AthleteZones, date, date]]
    evidence: dict[int, list[Evidence]]
    unzoned: frozenset[int]
    whole_squad: bool  # read the squad at once (False: one athlete named, their store)


def team(
    settings: Settings,
    day: date | None,
    *,
    clock: datetime,
    settings_for: Callable[[str], Settings] | None = None,
    workers: int | None = None,
) -> TeamResult:
    """``heavylegs team``: each athlete's row for ``day`` (None: each athlete's own today
    at ``clock``, in their zone), sorted by who needs attention first, from the store
    opened read-only; then the figures computed on the way are kept, athlete by athlete.
    Settings naming an athlete (``--athlete NAME``) give that athlete's row alone.

    Each athlete is judged by their own settings (:func:`settings_of`; ``settings_for``
    by name instead, when given). The squad is read at once, each table once for every
    athlete (:mod:`heavylegs_sync.squad_reads`); each row then reads from it
    (:func:`heavylegs_sync.team.team_row`), and from the store only what lies outside.
    A large squad is judged in parts, each reading and judging its athletes in a process
    of its own (:mod:`heavylegs_sync.forked`): ``workers`` parts (None: one per
    :data:`ATHLETES_PER_PART` athletes, at most one per core); the rows are the same
    either way, and :attr:`TeamResult.parts` says how many ran."""
    from heavylegs_sync.diagnosis import zones_from
    from heavylegs_sync.forked import cores, in_parts, why_not_forked
    from heavylegs_sync.squad_reads import collector_paused, read_evidence
    from heavylegs_sync.team import attention_order

    with collector_paused():
        with open_store(settings, read_only=True, unscoped=True) as store:
            athletes = _squad_of(store, settings.athlete_name)
            own = {
                a.name: settings_of(settings, a) if settings_for is None else settings_for(a.name)
                for a in athletes
            }
            unzoned = frozenset(a.id for a in athletes if not own[a.name].athlete.timezone)
            evidence = read_evidence(store, unzoned)
            days: dict[str, tuple[AthleteZones, date, date]] = {}
            for athlete in athletes:
                zones = zones_from(own[athlete.name], evidence.get(athlete.id, []))
                now = zones.today(clock)
                days[athlete.name] = (zones, now, now if day is None else day)
            if not days:
                return TeamResult([])
            plan = _TeamPlan(
                settings, athletes, own, days, evidence, unzoned, settings.athlete_name is None
            )
            if workers is None:  # a part for every ATHLETES_PER_PART athletes, a core each
                wanted = min(cores(), -(-len(athletes) // ATHLETES_PER_PART))
            else:
                wanted = min(workers, len(athletes))
            why = why_not_forked() if wanted > 1 and plan.whole_squad else None
            parts = 1 if why is not None or not plan.whole_squad else max(1, wanted)
            if parts == 1:
                if why is None:
                    why = _why_one_part(len(athletes), workers)
                log.debug("team: %d athlete(s) judged in one process (%s)", len(athletes), why)
                found = [_team_part(plan, store, None)]
        if parts > 1:  # each part opens the store for itself
            log.debug("team: %d athletes judged in %d processes", len(athletes), parts)
            found = in_parts(lambda i: _team_part(plan, None, (parts, i)), parts)
    rows = [row for part_rows, _ in found for row in part_rows]
    unsaved = {name: held for _, part_held in found for name, held in part_held.items()}
    kept = [keep_figures(replace(own[n], athlete_name=n), held) for n, held in unsaved.items()]
    return TeamResult(attention_order(rows), unsaved, all(kept), parts)


def _why_one_part(athletes: int, workers: int | None) -> str:
    """Why the view runs in one process, in the debug log's words."""
    from heavylegs_sync.forked import cores

    if athletes == 1:
        return "one athlete"
    if workers == 1:
        return "one asked"
    if cores() == 1:
        return "one core"
    return f"{athletes} athletes: a part holds {ATHLETES_PER_PART} at least"


def _team_part(
    plan: _TeamPlan, store: Store | None, share: tuple[int, int] | None
) -> tuple[list[TeamRow], dict[str, Unsaved]]:
    """The rows of the athletes of ``share`` (:data:`heavylegs_sync.store.rows.Share`;
    None: all), read from ``store`` (None: the store opened here, read-only: a part in a
    process of its own), and the figures each athlete's rows computed but a read-only
    store could not keep."""
    if store is None:
        with open_store(plan.settings, read_only=True, unscoped=True) as opened:
            opened.connection.for_a_part()  # its own session: see for_a_part
            return _team_part(plan, opened, share)
    from heavylegs_sync.diagnosis import WINDOW_DAYS, DayReads, reach
    from heavylegs_sync.squad_reads import Member, read_squad
    from heavylegs_sync.team import team_row

    started, cpu = time.perf_counter(), time.process_time()
    athletes = plan.athletes
    if share is not None:
        athletes = [a for a in athletes if a.id % share[0] == share[1]]
        if not athletes:  # ids left by removed athletes may miss a part
            return [], {}
    squad = None
    if plan.whole_squad:
        names = {a.name for a in athletes}
        own = [s for name, s in plan.own.items() if name in names]
        squad = read_squad(
            store,
            [when for name, (_, _, when) in plan.days.items() if name in names],
            history_days=WINDOW_DAYS,
            figures_days=max(reach(s.rules) for s in own),
            wellness_days=max(s.rules.baseline_first_day for s in own),
            peaks=any(s.athlete.max_hr is None for s in own),
            evidence=plan.evidence,
            evidence_of=plan.unzoned,
            share=share,
        )
    read, read_cpu = time.perf_counter(), time.process_time()
    rows = []
    unsaved: dict[str, Unsaved] = {}
    for athlete in athletes:
        name = athlete.name
        zones, now, when = plan.days[name]
        scoped = store.scoped_to(athlete)
        reads: DayReads = scoped if squad is None else Member(scoped, squad)
        rows.append(team_row(reads, plan.own[name], when, athlete=name, current=now, zones=zones))
        held = scoped.unsaved_derived()
        if held:
            unsaved[name] = held
    log.debug(
        "team: %s: read in %.2f s (CPU %.2f s), %d rows in %.2f s (CPU %.2f s)",
        "all" if share is None else f"part {share[1] + 1} of {share[0]}",
        read - started,
        read_cpu - cpu,
        len(rows),
        time.perf_counter() - read,
        time.process_time() - read_cpu,
    )
    return rows, unsaved


def team_reports(
    settings: Settings,
    rows: Collection[TeamRow],
    folder: Path,
    *,
    clock: datetime,
    settings_for: Callable[[str], Settings] | None = None,
) -> dict[str, Path]:
    """Each athlete's HTML report, the eight weeks up to their row's day, written into
    ``folder`` (:func:`heavylegs_sync.report.team.report_file`) for the team page to
    link; then the figures computed on the way are kept. Returns the files by athlete."""
    from heavylegs_sync.diagnosis import athlete_today
    from heavylegs_sync.report.render import write_atomically
    from heavylegs_sync.report.team import report_file

    days = {row.athlete: row.day for row in rows}
    written: dict[str, Path] = {}
    unsaved: list[tuple[Settings, Unsaved]] = []
    with open_store(settings, read_only=True, unscoped=True) as store:
        for athlete, scoped in _athletes_of(store):
            if athlete.name not in days:
                continue
            own = (
                settings_of(settings, athlete)
                if settings_for is None
                else settings_for(athlete.name)
            )
            result = render_report(
                scoped,
                own,
                last=days[athlete.name],
                output_format="html",
                now=athlete_today(scoped, own, clock),
            )
            path = folder / report_file(athlete.name)
            write_atomically(path, result.text)
            written[athlete.name] = path
            if result.unsaved:
                unsaved.append((replace(own, athlete_name=athlete.name), result.unsaved))
    for own, held in unsaved:
        keep_figures(own, held)
    return written
