"""The coach's view: one row per athlete for a day, and who needs attention first.

A row is facts, no words: the causes ``heavylegs today`` finds for the athlete's day
(strongest first, the same answer: :func:`heavylegs_sync.diagnosis.judge_day`), the
latest activity, and this week's figures so far (running time, hard share, rest days,
strength sessions) from the same facts, read once (:func:`~heavylegs_sync.diagnosis.day_facts`).
:func:`attention_order` is pure; :mod:`heavylegs_sync.report.team` words the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from heavylegs_sync.analysis.today import Cause, Today
from heavylegs_sync.analysis.weeks import monday, summarize_weeks
from heavylegs_sync.kinds import Category

if TYPE_CHECKING:
    from heavylegs_sync.analysis.facts import ActivityFacts
    from heavylegs_sync.config import Settings
    from heavylegs_sync.diagnosis import DayReads
    from heavylegs_sync.localtime import AthleteZones


class Status(StrEnum):
    """What a row says at a glance, in attention order (see :func:`attention_key`)."""

    CAUSES = "causes"  # today's answer found causes of heavy legs
    STALE = "stale"  # activities, but none in the judged windows: nothing judged
    NO_DATA = "no-data"  # no activity before the day: nothing imported (yet)
    CLEAR = "clear"  # judged, and no cause found


#: Rank of each status in the attention order: causes, then silence, then all clear.
STATUS_RANK = {Status.CAUSES: 0, Status.STALE: 1, Status.NO_DATA: 2, Status.CLEAR: 3}


@dataclass(frozen=True)
class LastActivity:
    """The athlete's latest activity up to the day (the day's own included)."""

    id: int
    start_local: datetime
    category: Category
    label: str  # "run 50 min", as the reports name it

    @property
    def day(self) -> date:
        """Its local day."""
        return self.start_local.date()


@dataclass(frozen=True)
class WeekSoFar:
    """Monday to the day: the figures of the weekly report's row, so far.

    Activities on the day itself count (a coach looks in the evening too); a rest day
    counts only once it is over, and only from the first activity on (days before it
    are unknown), so ``rest_days`` is out of ``days_past`` (on a Monday: 0).
    """

    first: date
    last: date
    activities: int  # judged activities in the week (short recordings left out)
    run_seconds: float
    hard_share: float | None  # of running time with heart rate; None without any
    rest_days: int
    days_past: int
    strength_sessions: int


@dataclass(frozen=True)
class TeamRow:
    """One athlete on one day."""

    athlete: str
    answer: Today  # what ``heavylegs today --date DAY`` says for this athlete
    last: LastActivity | None
    week: WeekSoFar | None  # None: nothing to show for the week (no data, or silence)

    @property
    def day(self) -> date:
        """The athlete's day the row is for."""
        return self.answer.day

    @property
    def causes(self) -> list[Cause]:
        """Today's causes, strongest first."""
        return self.answer.causes

    @property
    def status(self) -> Status:
        """Causes, stale, no data or clear (see :class:`Status`)."""
        if self.answer.causes:
            return Status.CAUSES
        if self.answer.activities == 0:
            return Status.NO_DATA
        if not self.answer.recent:
            return Status.STALE
        return Status.CLEAR

    @property
    def severity(self) -> float:
        """The causes' scores added up: more causes, or stronger ones, weigh more."""
        return round(sum((c.score for c in self.answer.causes), 0.0), 2)

    @property
    def days_since_last(self) -> int | None:
        """Days from the latest activity to the row's day (0: that day); None: none."""
        return None if self.last is None else (self.day - self.last.day).days


def team_row(
    store: DayReads,
    settings: Settings,
    day: date,
    *,
    athlete: str,
    current: date | None = None,
    zones: AthleteZones | None = None,
) -> TeamRow:
    """The row of the athlete ``store`` is scoped to (or their share of the squad's read,
    :mod:`heavylegs_sync.squad_reads`), for ``day``: one read of the weeks the answer
    needs (:func:`~heavylegs_sync.diagnosis.day_facts`, bounded, up to the day itself),
    then today's answer and the week so far from the same facts. ``current``
    (the athlete's today) names a past day by its date in the causes' sentences, as
    ``today`` does."""
    from heavylegs_sync.diagnosis import day_facts, judge_day

    found = day_facts(store, settings, day, through=day, zones=zones, bounded=True)
    answer = judge_day(found, settings, current=current)
    facts = [f for f in found.facts if f.day <= day]
    week = week_so_far(facts, day, settings)
    if week is not None and not answer.recent and not week.activities:
        week = None  # silence is not evidence: no rest days, no zero minutes, from it
    return TeamRow(athlete, answer, last_activity(facts), week)


def last_activity(facts: Iterable[ActivityFacts]) -> LastActivity | None:
    """The latest of ``facts`` (short recordings too: they are what was recorded)."""
    latest = max(facts, key=lambda f: (f.start_local, f.id), default=None)
    if latest is None:
        return None
    return LastActivity(latest.id, latest.start_local, latest.category, latest.label)


def week_so_far(facts: Sequence[ActivityFacts], day: date, settings: Settings) -> WeekSoFar | None:
    """Monday of ``day``'s week to ``day``, summarised as the weekly report does (short
    recordings left out, as every check leaves them). Days before the first activity
    are unknown, not rest; None without any activity up to ``day``."""
    if not facts:
        return None
    known = max(monday(day), min(f.day for f in facts))
    judged = [f for f in facts if not f.short and monday(day) <= f.day <= day]
    (week,) = summarize_weeks(judged, monday(day), day, settings.rules, settings.season)
    return WeekSoFar(
        first=monday(day),
        last=day,
        activities=len(judged),
        run_seconds=week.run_seconds,
        hard_share=week.hard_share,
        rest_days=sum(1 for d in week.rest_day_dates if known <= d < day),
        days_past=max(0, (day - known).days),
        strength_sessions=week.strength_sessions,
    )


def attention_key(row: TeamRow) -> tuple[int, float, float, int, str]:
    """Who needs attention first: causes (the higher their scores added up, then the
    strongest, then the more of them), then athletes gone silent (stale), then those
    with nothing imported, then the clear ones; by name within each."""
    strongest = max((c.score for c in row.causes), default=0.0)
    return (STATUS_RANK[row.status], -row.severity, -strongest, -len(row.causes), row.athlete)


def attention_order(rows: Iterable[TeamRow]) -> list[TeamRow]:
    """The rows sorted by :func:`attention_key`."""
    return sorted(rows, key=attention_key)
