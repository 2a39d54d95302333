"""A report finding in words: its sentence and its fix, written from its codes and
numbers (:class:`~heavylegs_sync.analysis.rules.Finding` holds no English).

Every format (text, JSON, HTML, the watcher's log, the notebook API) takes its words
from here.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from heavylegs_sync.causes import CAUSES, problem_title
from heavylegs_sync.words import counted, plural

if TYPE_CHECKING:  # types only: `today` takes hrv_drop() without the report's grouping
    from heavylegs_sync.analysis.grouping import FindingGroup
    from heavylegs_sync.analysis.rules import Finding

#: Appended to a cause-2 finding judged on estimated zones.
ESTIMATED_NOTE = (
    "These zones rest on an estimated max HR: set [athlete] max_hr (or lthr) in the"
    " settings file to be sure."
)


def finding_message(f: Finding) -> str:
    """What was found, with its numbers."""
    ev, v = f.evidence, f.values
    if f.code in ("no-rest-day", "too-few-rest-days"):
        rest = ev["rest_days"]
        days = "no rest day" if rest == 0 else f"only {plural(rest, 'rest day')}"
        return (
            f"Week of {f.week_start}: {days} — you trained on {7 - rest} of 7 days"
            f" ({plural(len(f.activities), 'activity', 'activities')})."
        )
    if f.code == "too-many-days-without-rest":
        assert f.date is not None
        start = date.fromisoformat(ev["streak_start"])
        return (
            f"{f.date:%a %Y-%m-%d} was training day {ev['limit'] + 1} in a row without a rest"
            f" day (since {start:%a %Y-%m-%d}); the limit is {ev['limit']}."
        )
    if f.code == "too-much-hard":
        by_distance = v["by_distance"]
        distance_text = f", {by_distance:.0%} by distance" if by_distance is not None else ""
        hard, easy = v["hard_seconds"], v["easy_seconds"]
        text = (
            f"Week of {f.week_start}: {v['share']:.0%} of running time with heart rate was"
            f" in zones 3-5 ({hard / 60:.0f} of {(easy + hard) / 60:.0f} min{distance_text});"
            f" the limit is {v['limit']:.0%}. Hard runs: {v['hard_runs']}."
        )
        return f"{text} {ESTIMATED_NOTE}" if ev.get("zones_estimated") else text
    if f.code in ("too-little-strength", "too-much-strength"):
        season = "peak" if ev["season"] == "peak" else "off-season"
        count = ev["strength_sessions"]
        if f.code == "too-little-strength":
            low = ev["min"]
            return (
                f"Week of {f.week_start} ({season}): {counted(count, 'strength session')};"
                f" at least {low} {'is' if low == 1 else 'are'} needed."
            )
        return (
            f"Week of {f.week_start} ({season}): {count} strength sessions;"
            f" at most {ev['max']} fit alongside the running."
        )
    if f.code in WELLNESS_MESSAGES:
        return WELLNESS_MESSAGES[f.code](f)
    return _timing_message(f)


def short_night_runs(ev: dict[str, Any]) -> str:
    """``Tue 03 Nov 5.9 h (hard run); Sun 08 Nov 6.2 h (long run)``."""
    return "; ".join(
        f"{date.fromisoformat(r['date']):%a %d %b} after {r['hours']:.1f} h ({r['kind']} run)"
        for r in ev["short_night_runs"]
    )


def _short_sleep(f: Finding) -> str:
    ev = f.evidence
    text = (
        f"Week of {f.week_start}: {ev['sleep_hours']:.1f} h of sleep a night on average over"
        f" {plural(ev['nights'], 'recorded night')}; at least {ev['min_sleep_hours']:g} h"
        " is needed."
    )
    if ev["short_night_runs"]:
        text += f" Hard or long runs after a short night: {short_night_runs(ev)}."
    return text


def _short_nights_key_runs(f: Finding) -> str:
    ev = f.evidence
    runs = len(ev["short_night_runs"])
    text = (
        f"Week of {f.week_start}: {runs} of the week's {ev['key_runs']} hard or long runs"
        f" came after a night shorter than {ev['min_sleep_hours']:g} h: {short_night_runs(ev)}."
    )
    if ev["sleep_hours"] is not None:
        text += (
            f" The week's {plural(ev['nights'], 'recorded night')} averaged"
            f" {ev['sleep_hours']:.1f} h."
        )
    return text


def _load_clause(ev: dict[str, Any]) -> str:
    """Foster's monotony and strain of the week, as evidence beside a body signal."""
    if ev.get("monotony") is None:
        return ""
    return f" Training monotony that week {ev['monotony']:.1f}, strain {ev['strain']:.0f}."


def _resting_hr_up(f: Finding) -> str:
    ev = f.evidence
    return (
        f"Week of {f.week_start}: resting heart rate {ev['resting_hr']:.1f} bpm on average"
        f" ({plural(ev['days'], 'day')}), {ev['rise']:.1f} bpm above your baseline of"
        f" {ev['baseline_median']:.1f} (the median of {ev['baseline_days']} days,"
        f" {ev['baseline_from']} to {ev['baseline_to']}); at {ev['max_resting_hr_rise']:g}"
        " bpm or more the body is still recovering." + _load_clause(ev)
    )


def _hrv_down(f: Finding) -> str:
    ev = f.evidence
    return (
        f"Week of {f.week_start}: heart-rate variability {ev['hrv_ms']:.0f} ms on average"
        f" (the mean of ln HRV over {plural(ev['days'], 'night')}), {hrv_drop(ev)}"
        f" {ev['baseline_ms']:.0f} ms ({ev['baseline_days']} nights, {ev['baseline_from']}"
        f" to {ev['baseline_to']}); the limit is {ev['hrv_drop_sd']:g}"
        f" ({ev['limit_ms']:.0f} ms)." + _load_clause(ev)
    )


def hrv_drop(ev: dict[str, Any]) -> str:
    """``1.2 standard deviations below your baseline of`` (a baseline that never varied
    has no standard deviation: any drop is past the limit)."""
    if ev["drop_sd"] is None:
        return "below your baseline, which did not vary at all, of"
    return f"{ev['drop_sd']:.1f} standard deviations below your baseline of"


def wellness_evidence(f: Finding) -> str | None:
    """A wellness finding's days and values (``nights: Mon 19 Oct 6.6 h; ...``); None for
    any other finding."""
    ev = f.evidence
    names = {
        "short-sleep": ("night_hours", "nights (h asleep)", ".1f"),
        "short-sleep-before-key-runs": ("night_hours", "nights (h asleep)", ".1f"),
        "resting-hr-up": ("values", "resting heart rate (bpm)", "g"),
        "hrv-down": ("values", "HRV (ms)", "g"),
    }
    if f.code not in names:
        return None
    key, name, spec = names[f.code]
    items: dict[str, float] = ev[key]
    if not items:
        return None
    days = "; ".join(f"{date.fromisoformat(d):%a %d %b} {v:{spec}}" for d, v in items.items())
    return f"{name}: {days}"


WELLNESS_MESSAGES = {
    "short-sleep": _short_sleep,
    "short-sleep-before-key-runs": _short_nights_key_runs,
    "resting-hr-up": _resting_hr_up,
    "hrv-down": _hrv_down,
}

#: What to do when the body says it has not recovered (resting HR up, HRV down).
BODY_FIX = (
    "Your body has not caught up with the training: take an easy day or a rest day, and"
    " hold the load until your resting heart rate and HRV are back at your usual."
)


def _timing_message(f: Finding) -> str:
    ev, v = f.evidence, f.values
    legs = f" (leg-heavy: {ev['leg_sets']} of {v['sets']} sets)" if ev["leg_heavy"] else ""
    day = f.date
    run_start = v["run_start"]
    if f.code in ("strength-before-long-run", "strength-before-hard-run"):
        return (
            f"Strength on {day:%a %Y-%m-%d}{legs} the day before a {v['kind']}"
            f" ({v['run_label']}, {run_start:%a})."
        )
    if f.code in ("strength-same-day-hard", "strength-same-day-long"):
        return (
            f"Strength on {day:%a %Y-%m-%d}{legs} on the same day as a {v['kind']}"
            f" ({v['run_label']})."
        )
    return (
        f"Strength at {v['session_start']:%H:%M} on {day:%a %Y-%m-%d}{legs} before an easy"
        f" run at {run_start:%H:%M} ({v['run_label']})."
    )


def finding_fix(f: Finding) -> str:
    """What to do about it."""
    ev = f.evidence
    if f.cause == 10:
        return CAUSES[10].fix
    if f.code in ("resting-hr-up", "hrv-down"):
        return BODY_FIX
    if f.code in ("no-rest-day", "too-few-rest-days"):
        need = ev["min_rest_days"]
        return (
            f"Take at least {need} full rest day{'s' if need > 1 else ''} every week: no"
            " running, strength or cross-training; an easy walk, yoga or stretching is"
            " fine. Legs get stronger while they rest, not while they work."
        )
    if f.code == "too-many-days-without-rest":
        return (
            f"Break up long stretches: rest at least once every {ev['limit']} days, even"
            " in a big training block."
        )
    if f.code == "too-much-hard":
        return (
            "Keep about 80% of your running easy (zones 1-2, a pace you can talk at)"
            " and limit hard sessions to one or two a week."
        )
    if f.code == "too-little-strength":
        low = ev["min"]
        return (
            f"Do {low} short strength session{'s' if low > 1 else ''} a week (squats,"
            " lunges, calf raises, core), after an easy run: strong legs tire later."
        )
    if f.code == "too-much-strength":
        high = ev["max"]
        peak = ev["season"] == "peak"
        return (
            f"Cut back to {high} strength session{'s' if high > 1 else ''} a week"
            f"{' while training peaks' if peak else ''}, so your legs recover"
            " between runs."
        )
    if f.code in ("strength-before-long-run", "strength-before-hard-run"):
        return (
            "Move strength away from the day before a long or hard run — best"
            " straight after an easy run, two or more days before it — so you"
            " start the key run on fresh legs."
        )
    if f.code in ("strength-same-day-hard", "strength-same-day-long"):
        return (
            "Put strength on an easy-run day instead, after the run, so the key"
            " run and the strength work do not compete for the same legs."
        )
    return (
        "Run first, then lift: strength straight after an easy run is the"
        " recommended slot; lifting first sends tired legs out running."
    )


def finding_title(finding: Finding) -> str:
    """A finding's problem in plain words (:mod:`heavylegs_sync.causes`)."""
    return problem_title(finding.code, finding.evidence.get("strength_sessions"))


def group_title(group: FindingGroup) -> str:
    """A group's problem in plain words (the same for every finding, else the code's)."""
    names = {finding_title(f) for f in group.findings}
    return names.pop() if len(names) == 1 else problem_title(group.code)


#: How the weeks a group could show in are called.
UNITS = {"complete": "complete weeks", "all": "weeks", "running": "weeks with running"}


def group_headline(group: FindingGroup) -> str:
    """One sentence with the group's numbers: where it shows and how bad it is."""
    name = group_title(group)
    weeks = group.weeks
    if len(weeks) == 1:
        where = f"in the week of {weeks[0]}"
    else:
        unit = UNITS.get(group.unit, group.unit)
        where = f"in {len(weeks)} of the {group.eligible_weeks} {unit}, since {weeks[0]}"
    return f"{name[0].upper()}{name[1:]} {where}{_numbers(group.code, group.stats)}."


def _bound(stats: dict[str, Any], bound: str) -> str:
    """``3``, or ``3 off-season, 2 in peak season`` when the group spans both seasons."""
    by_season: dict[str, int] = stats.get(f"{bound}_by_season") or {}
    if len(by_season) < 2:
        return str(stats[bound])
    return f"{by_season.get('off')} off-season, {by_season.get('peak')} in peak season"


def _numbers(code: str, stats: dict[str, Any]) -> str:
    """The group's key numbers as a clause of its headline."""
    if code == "too-much-hard" and stats["count"] == 1:
        return (
            f": {stats['max_hard_share']:.0%} of running time hard; the limit is"
            f" {stats['limit']:.0%}"
        )
    if code == "too-much-hard":
        return (
            f": {stats['median_hard_share']:.0%} of running time hard (median), up to"
            f" {stats['max_hard_share']:.0%} in the week of {stats['worst_week']};"
            f" the limit is {stats['limit']:.0%}"
        )
    if code in ("no-rest-day", "too-few-rest-days"):
        fewest, need = stats["fewest_rest_days"], stats["min_rest_days"]
        if fewest == 0:  # the headline says "no rest day"
            return f" (at least {plural(need, 'rest day')} a week needed)"
        return f" (as few as {plural(fewest, 'rest day')} in a week; at least {need} needed)"
    if code == "too-many-days-without-rest":
        return (
            f": up to {stats['longest_streak_days']} training days in a row (from"
            f" {stats['longest_streak_start']}); the limit is {stats['limit']}"
        )
    if code == "too-little-strength":
        low, high = stats["fewest_sessions"], stats["most_sessions"]
        if high == 0:
            sessions = "no session"
        elif low == high:
            sessions = plural(low, "session")
        else:
            sessions = f"{low} to {high} sessions"
        return f" ({sessions} a week; at least {_bound(stats, 'min')} needed)"
    if code == "too-much-strength":
        most = plural(stats["most_sessions"], "session")
        return f" (up to {most} a week; at most {_bound(stats, 'max')})"
    if code in ("short-sleep", "short-sleep-before-key-runs"):
        shortest = stats["shortest_sleep_hours"]
        if code == "short-sleep" and shortest is not None:
            return (
                f" (as little as {shortest:.1f} h a night on average; at least"
                f" {stats['min_sleep_hours']:g} h needed)"
            )
        runs = plural(stats["short_night_runs"], "hard or long run")
        return f" ({runs} after a night under {stats['min_sleep_hours']:g} h)"
    if code == "resting-hr-up":
        return (
            f" (up to {stats['largest_rise']:.1f} bpm above your baseline; the limit is"
            f" {stats['max_resting_hr_rise']:g})"
        )
    if code == "hrv-down":
        if stats["largest_drop_sd"] is None:
            return " (below a baseline that did not vary at all)"
        return (
            f" (up to {stats['largest_drop_sd']:.1f} standard deviations below your baseline;"
            f" the limit is {stats['hrv_drop_sd']:g})"
        )
    days = stats["days"]
    legs = f", {stats['leg_heavy']} of them leg-heavy" if stats["leg_heavy"] else ""
    return f" ({len(days)} time{'s' if len(days) != 1 else ''}{legs})"
