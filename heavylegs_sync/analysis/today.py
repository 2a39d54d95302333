"""Why are my legs heavy today? Causes 1, 2, 5, 6 and 10 for one day, ranked.

Pure: activity facts, settings and the explicit day D in; causes out. Only activities
that started before D's local midnight count (D's own training cannot explain how the
legs felt on waking). Windows are local days: D-7..D-1 is the week before D.

The answer is facts: codes, scores and numbers (:class:`Signal`, :class:`Cause`,
:class:`Note`); :mod:`heavylegs_sync.report.today` words them.

Every cause gets a severity score: 1 + how far its strongest signal is past its
threshold, as a share of that threshold (a hard share of 30% against a limit of 20% is
1.5; no rest day where one is needed is 2.0). docs/today.md lists each signal's score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from heavylegs_sync.analysis.facts import ActivityFacts
from heavylegs_sync.analysis.load import daily_loads, load_ratio
from heavylegs_sync.analysis.weeks import training_days
from heavylegs_sync.causes import cause_title
from heavylegs_sync.config import RuleSettings, SeasonSettings
from heavylegs_sync.model import Category, WellnessRecord
from heavylegs_sync.wellness import WellnessDay, merge_days


@dataclass(frozen=True)
class Signal:
    """One rule that fired: its code, score and numbers.

    ``evidence`` is what the JSON answer shows; ``values`` holds the further numbers
    (unrounded) and dates its sentence needs.
    """

    code: str
    score: float
    evidence: dict[str, Any]
    activities: tuple[int, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cause:
    """One cause for day D: its strongest signal decides the code and the score.

    ``signals`` strongest first; ``evidence`` merges theirs (the strongest wins a shared
    key) with ``signals`` and ``activities``; ``values`` holds what the fix needs.
    """

    cause: int
    code: str
    score: float
    signals: tuple[Signal, ...]
    evidence: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The cause's heading, from the one catalogue."""
        return cause_title(self.cause)


@dataclass(frozen=True)
class Note:
    """Something the answer could not judge, or should say: a code and its numbers.

    Codes: ``zones-missing`` (``reason``), ``short-recordings`` (``ids``, ``minutes``),
    ``nothing-recent`` (``days``, ``latest``), ``quiet`` (``latest``, ``days``),
    ``wellness-not-judged`` (``measure``, ``recorded``, ``needed``, ``first``, ``last``,
    and for resting HR and HRV ``baseline``, ``baseline_needed``).
    """

    code: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Today:
    """The answer for one day: causes strongest first, and how much history was seen."""

    day: date
    causes: list[Cause]
    history_days: int  # days from the first activity to D (0: none before D)
    activities: int  # activities before D that were seen
    notes: tuple[Note, ...] = ()  # what could not be judged, and why
    recent: bool = True  # False: nothing in the judged windows, so nothing was judged
    current: date | None = None  # the caller's today; a past D is named by its date
    #: The wellness measures judged on D ("sleep", "resting_hr", "hrv"; docs/wellness.md).
    judged: tuple[str, ...] = ()


def today(
    facts: Sequence[ActivityFacts],
    day: date,
    rules: RuleSettings,
    season: SeasonSettings,
    *,
    zones_estimated: bool = False,
    notes: Sequence[Note] = (),
    current: date | None = None,
    wellness: Sequence[WellnessRecord] = (),
) -> Today:
    """Which training causes of heavy legs apply on ``day``, strongest first.

    ``facts`` may hold activities on or after ``day``: they are left out. The streak
    rule sees only the facts given, so give every day back to the last rest day (or
    all); the load ratio needs :attr:`RuleSettings.chronic_days` days before ``day``.
    ``zones_estimated`` says the hard share rests on an estimated max HR; ``notes``
    (what the caller could not judge) are passed on to the answer. ``current`` is the
    caller's own today: a past ``day`` is named by its date, not as "today".
    ``wellness`` (every source's records back to ``[rules] baseline_first_day`` days
    before ``day``) adds cause 10 and cause 1's body signals; without it nothing changes.
    """
    before = [f for f in facts if f.day < day and not f.short]
    notes = list(notes)
    quiet_days = max(rules.recent_days, rules.strength_window_days)
    short = [f for f in facts if f.short and day - timedelta(days=quiet_days) <= f.day < day]
    if short:
        minutes = rules.min_activity_seconds / 60
        notes.append(Note("short-recordings", {"ids": [f.id for f in short], "minutes": minutes}))
    if not before:
        return Today(day, [], 0, 0, tuple(notes), current=current)
    first = min(f.day for f in before)
    history = (day - first).days
    latest = max(f.day for f in before)
    quiet = (day - latest).days - 1
    if quiet >= quiet_days:
        # Silence is not evidence: no cause from a window with no recorded activity.
        notes.append(Note("nothing-recent", {"days": quiet_days, "latest": latest}))
        return Today(day, [], history, len(before), tuple(notes), False, current)
    days = merge_days(wellness)
    judged: list[str] = []
    body = _body_signals(days, day, rules, notes, judged)
    causes = [
        c
        for c in (
            _recovery(before, day, first, rules, body),
            _speed(before, day, rules, zones_estimated),
            _too_little_strength(before, day, history, rules, season),
            _strength(before, day, rules, season),
            _sleep(days, day, rules, notes, judged),
        )
        if c is not None
    ]
    causes.sort(key=lambda c: (-c.score, c.cause))
    if quiet >= rules.recent_days:
        # Nothing recent: the answer may only mean the latest training is not imported.
        notes.append(Note("quiet", {"latest": latest, "days": quiet}))
    return Today(
        day, causes, history, len(before), tuple(notes), current=current, judged=tuple(judged)
    )


def _score(value: float, threshold: float) -> float:
    """1 + how far ``value`` is past ``threshold``, as a share of it (either direction)."""
    if threshold <= 0:
        return 1.0 + abs(value)
    return round(1.0 + abs(value - threshold) / threshold, 2)


def _ids(facts: Sequence[ActivityFacts], first: date, last: date) -> tuple[int, ...]:
    return tuple(f.id for f in facts if first <= f.day <= last)


def _recovery(
    facts: Sequence[ActivityFacts],
    day: date,
    first_day: date,
    rules: RuleSettings,
    body: Sequence[Signal] = (),
) -> Cause | None:
    """Cause 1: too few rest days in the recent window, a long streak, a load spike, or
    the body's signals (``body``: resting HR up, HRV down)."""
    busy = training_days(facts)
    yesterday = day - timedelta(days=1)
    start = day - timedelta(days=rules.recent_days)
    signals: list[Signal] = list(body)
    # A window reaching before the first activity cannot say no day in it was rest.
    if start >= first_day:
        rest = [start + timedelta(days=i) for i in range(rules.recent_days)]
        rest = [d for d in rest if d not in busy]
        need = rules.min_rest_days
        if len(rest) < need:
            signals.append(
                Signal(
                    "no-rest-day" if not rest else "too-few-rest-days",
                    _score(len(rest), need),
                    {"rest_days": len(rest), "min_rest_days": need},
                    _ids(facts, start, yesterday),
                    {"days": rules.recent_days, "start": start, "end": yesterday},
                )
            )
    streak = 0
    while yesterday - timedelta(days=streak) in busy:
        streak += 1
    limit = rules.max_days_without_rest
    if streak >= limit:
        began = day - timedelta(days=streak)
        signals.append(
            Signal(
                "too-many-days-without-rest",
                _score(streak, limit),
                {"streak_days": streak, "streak_start": began.isoformat(), "limit": limit},
                _ids(facts, began, yesterday),
                {"began": began},
            )
        )
    found = load_ratio(
        daily_loads(facts),
        day,
        history_from=first_day,
        acute_days=rules.acute_days,
        chronic_days=rules.chronic_days,
    )
    if found is not None and found.ratio > rules.max_acute_chronic_ratio:
        acute_from = day - timedelta(days=rules.acute_days)
        signals.append(
            Signal(
                "load-spike",
                _score(found.ratio, rules.max_acute_chronic_ratio),
                {
                    "acute_chronic_ratio": round(found.ratio, 2),
                    "acute_load": round(found.acute, 1),
                    "chronic_weekly_load": round(found.typical, 1),
                    "baseline_blocks": found.blocks,
                    "baseline_from": found.baseline_from.isoformat(),
                    "max_acute_chronic_ratio": rules.max_acute_chronic_ratio,
                },
                _ids(facts, acute_from, yesterday),
                {"days": rules.acute_days, "ratio": found.ratio, "acute": found.acute,
                 "typical": found.typical, "baseline_from": found.baseline_from},
            )
        )  # fmt: skip
    return _cause(1, signals, {"min_rest_days": rules.min_rest_days, "days": rules.recent_days})


def _speed(
    facts: Sequence[ActivityFacts], day: date, rules: RuleSettings, estimated: bool
) -> Cause | None:
    """Cause 2: more than the limit of the recent running time with HR was hard."""
    start = day - timedelta(days=rules.recent_days)
    runs = [f for f in facts if f.category is Category.RUN and start <= f.day]
    easy = sum(r.zones.easy_seconds for r in runs)
    hard = sum(r.zones.hard_seconds for r in runs)
    hr = sum(r.zones.hr_seconds for r in runs)
    recorded = sum(r.recorded_seconds for r in runs)
    if easy + hard <= 0 or recorded <= 0:
        return None
    share = hard / (easy + hard)
    coverage = min(1.0, hr / recorded)
    if coverage < rules.min_hr_coverage or share <= rules.max_hard_share:
        return None
    hard_runs = tuple(r.id for r in runs if r.hard)
    evidence: dict[str, Any] = {
        "hard_share": round(share, 3),
        "hard_minutes": round(hard / 60, 1),
        "easy_minutes": round(easy / 60, 1),
        "hr_coverage": round(coverage, 3),
        "max_hard_share": rules.max_hard_share,
    }
    if estimated:
        evidence["zones_estimated"] = True
    signal = Signal(
        "too-much-hard",
        _score(share, rules.max_hard_share),
        evidence,
        hard_runs or tuple(r.id for r in runs),
        {"days": rules.recent_days, "share": share, "hard": hard, "easy": easy,
         "hard_runs": len(hard_runs), "estimated": estimated},
    )  # fmt: skip
    return _cause(2, [signal], {})


def _season_limits(day: date, rules: RuleSettings, season: SeasonSettings) -> tuple[str, int, int]:
    """The season of ``day`` and its weekly minimum and maximum of strength sessions."""
    if season.is_peak(day):
        return "peak", rules.min_strength_peak, rules.max_strength_peak
    return "off", rules.min_strength_off_season, rules.max_strength_off_season


def _too_little_strength(
    facts: Sequence[ActivityFacts],
    day: date,
    history: int,
    rules: RuleSettings,
    season: SeasonSettings,
) -> Cause | None:
    """Cause 5: fewer strength sessions in the strength window than the season asks."""
    days = rules.strength_window_days
    if history < days:
        return None
    name, low, _ = _season_limits(day, rules, season)
    need = low * days / 7
    need = int(need) if need.is_integer() else round(need, 2)
    start = day - timedelta(days=days)
    sessions = tuple(f.id for f in facts if f.category is Category.STRENGTH and start <= f.day)
    if len(sessions) >= need:
        return None
    signal = Signal(
        "too-little-strength",
        _score(len(sessions), need),
        {"strength_sessions": len(sessions), "needed": need, "days": days, "season": name},
        sessions,
        {"weekly": low},
    )
    return _cause(5, [signal], {"weekly": low})


def _strength(
    facts: Sequence[ActivityFacts],
    day: date,
    rules: RuleSettings,
    season: SeasonSettings,
) -> Cause | None:
    """Cause 6: strength yesterday, or more sessions in the recent window than allowed."""
    yesterday = day - timedelta(days=1)
    start = day - timedelta(days=rules.recent_days)
    strength = [f for f in facts if f.category is Category.STRENGTH and start <= f.day]
    signals: list[Signal] = []
    last = [f for f in strength if f.day == yesterday]
    if last:
        legs = max((f.leg_sets / f.sets if f.sets else 0.0) for f in last)
        heavy = [f for f in last if f.leg_heavy]
        sessions = [(f.label, f.leg_sets, f.sets, f.leg_heavy) for f in last]
        signals.append(
            Signal(
                "strength-yesterday",
                # A session's weight: 1, plus the share of its sets that loaded the legs.
                round(len(last) + legs, 2),
                {
                    "yesterday": yesterday.isoformat(),
                    "sessions": len(last),
                    "leg_share": round(legs, 2),
                    "leg_heavy": bool(heavy),
                },
                tuple(f.id for f in last),
                {"yesterday": yesterday, "sessions": sessions},
            )
        )
    name, _, high = _season_limits(day, rules, season)
    if len(strength) > high:
        signals.append(
            Signal(
                "too-much-strength",
                _score(len(strength), high),
                {"strength_sessions": len(strength), "max": high, "season": name},
                tuple(f.id for f in strength),
                {"days": rules.recent_days},
            )
        )
    return _cause(6, signals, {"max": high})


def _cause(number: int, signals: list[Signal], values: dict[str, Any]) -> Cause | None:
    """One cause from its signals: the strongest gives code and score."""
    if not signals:
        return None
    ranked = sorted(signals, key=lambda s: -s.score)
    evidence: dict[str, Any] = {}
    for s in reversed(ranked):  # the strongest signal's numbers win a shared key
        evidence.update(s.evidence)
    ids = sorted({i for s in signals for i in s.activities})
    evidence["signals"] = [s.code for s in ranked]
    evidence["activities"] = ids
    return Cause(
        cause=number,
        code=ranked[0].code,
        score=ranked[0].score,
        signals=tuple(ranked),
        evidence=evidence,
        values=values,
    )


def _body_signals(
    days: dict[date, WellnessDay],
    day: date,
    rules: RuleSettings,
    notes: list[Note],
    judged: list[str],
) -> list[Signal]:
    """Cause 1's body signals for ``day`` (D-7..D-1 against D-60..D-8); a measure
    recorded in that reach but too thinly is noted as not judged, once."""
    from heavylegs_sync.analysis.body_checks import (
        HRV,
        RESTING_HR,
        has_any,
        hrv_check,
        resting_hr_check,
        signal_evidence,
        today_windows,
    )

    recent, baseline = today_windows(day, rules)
    signals = []
    for measure, check_of in ((RESTING_HR, resting_hr_check), (HRV, hrv_check)):
        if not has_any(days, baseline[0], recent[1], measure):
            continue  # nothing recorded: nothing said
        check = check_of(days, recent, baseline, rules)
        if not check.judged:
            notes.append(
                Note(
                    "wellness-not-judged",
                    {
                        "measure": measure,
                        "recorded": len(check.values),
                        "needed": check.needed,
                        "first": recent[0],
                        "last": recent[1],
                        "baseline": len(check.baseline),
                        "baseline_needed": check.baseline_needed,
                    },
                )
            )
            continue
        judged.append(measure)
        if not check.fired:
            continue
        rise = check.rise or 0.0
        limit = rules.max_resting_hr_rise if measure == RESTING_HR else rules.hrv_drop_sd
        signals.append(
            Signal(
                check.code, _score(rise, limit), signal_evidence(check, rules), (), {"check": check}
            )
        )
    return signals


def _sleep(
    days: dict[date, WellnessDay],
    day: date,
    rules: RuleSettings,
    notes: list[Note],
    judged: list[str],
) -> Cause | None:
    """Cause 10: the nights ending on D-2, D-1 and D averaged less than the limit."""
    from heavylegs_sync.analysis.body_checks import SLEEP, has_any, sleep_check

    first = day - timedelta(days=rules.sleep_nights_today - 1)
    reach = day - timedelta(days=rules.baseline_first_day)
    if not has_any(days, reach, day, SLEEP):
        return None
    check = sleep_check(days, first, day, rules.min_sleep_nights_today, rules)
    if not check.judged:
        notes.append(
            Note(
                "wellness-not-judged",
                {
                    "measure": SLEEP,
                    "recorded": check.recorded,
                    "needed": check.needed,
                    "first": first,
                    "last": day,
                },
            )
        )
        return None
    judged.insert(0, SLEEP)
    mean = check.mean
    if not check.short or mean is None:
        return None
    signal = Signal(
        "short-sleep",
        _score(mean, rules.min_sleep_hours),
        {
            "sleep_hours": round(mean, 2),
            "nights": check.recorded,
            "min_nights": check.needed,
            "min_sleep_hours": rules.min_sleep_hours,
            "night_hours": {d.isoformat(): round(h, 2) for d, h in check.nights},
        },
        (),
        {"first": first, "last": day, "nights": check.nights, "window": rules.sleep_nights_today},
    )
    return _cause(10, [signal], {"min_sleep_hours": rules.min_sleep_hours})
