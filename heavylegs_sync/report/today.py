"""The ``heavylegs today`` answer in words: text (80 columns) or JSON (docs/today.md).

The analysis (:mod:`heavylegs_sync.analysis.today`) returns codes and numbers; every
sentence of the answer is written here, and causes are named from the one catalogue
(:mod:`heavylegs_sync.causes`).
"""

from __future__ import annotations

import json
import textwrap
from datetime import date
from typing import Any

from heavylegs_sync.analysis.today import Cause, Note, Signal, Today
from heavylegs_sync.causes import CAUSES, OTHER_CAUSES
from heavylegs_sync.report.findings import hrv_drop
from heavylegs_sync.words import counted, plural

WIDTH = 80
#: The wellness measures as the answer names them when they were judged.
JUDGED_NAMES = {"sleep": "sleep", "resting_hr": "resting heart rate", "hrv": "HRV"}
#: Cause 1's signals from the body rather than the training log.
BODY_CODES = frozenset({"resting-hr-up", "hrv-down"})


def today_dict(result: Today) -> dict[str, Any]:
    """``{"date", "causes"}`` as docs/today.md shows, strongest cause first; with
    ``wellness_judged`` (the measures judged: sleep, resting HR, HRV) where any was."""
    data: dict[str, Any] = {
        "date": result.day.isoformat(),
        "causes": [
            {
                "cause": c.cause,
                "code": c.code,
                "score": c.score,
                "message": cause_message(c, result),
                "evidence": c.evidence,
                "fix": cause_fix(c),
            }
            for c in result.causes
        ],
    }
    if result.judged:
        data["wellness_judged"] = list(result.judged)
    return data


def today_json(result: Today) -> str:
    """:func:`today_dict` as indented JSON text."""
    return json.dumps(today_dict(result), indent=2) + "\n"


def when(result: Today) -> str:
    """``today``, or the day's date when the caller's today is another day."""
    if result.current is None or result.current == result.day:
        return "today"
    return f"{result.day:%a %d %b %Y}"


def cause_message(cause: Cause, result: Today) -> str:
    """Every signal's sentence, strongest first."""
    return " ".join(signal_message(s, result) for s in cause.signals)


def _season_name(name: str) -> str:
    return "peak season" if name == "peak" else "off-season"


def signal_message(signal: Signal, result: Today) -> str:
    """One signal in a sentence, with its numbers."""
    ev, v, day = signal.evidence, signal.values, when(result)
    code = signal.code
    if code in ("no-rest-day", "too-few-rest-days"):
        start, end = v["start"], v["end"]
        return (
            f"{counted(ev['rest_days'], 'rest day')} in the {v['days']} days before {day}"
            f" ({start:%a %d %b} - {end:%a %d %b}); at least {ev['min_rest_days']} needed."
        )
    if code == "too-many-days-without-rest":
        streak = ev["streak_days"]
        return (
            f"{streak} training days in a row without rest (since {v['began']:%a %d %b});"
            f" {day} would be day {streak + 1}, the limit is {ev['limit']}."
        )
    if code == "load-spike":
        weeks = counted(ev["baseline_blocks"], f"{v['days']}-day block")
        since: date = v["baseline_from"]
        return (
            f"Training load of the last {v['days']} days is {v['ratio']:.2f} times"
            f" your usual ({v['acute']:.0f} against {v['typical']:.0f}, the average of"
            f" your latest {weeks} with training since {since:%d %b %Y});"
            f" the limit is {ev['max_acute_chronic_ratio']:g}."
        )
    if code == "too-much-hard":
        note = (
            " These zones rest on an estimated max HR: set [athlete] max_hr (or lthr) to be sure."
            if v["estimated"]
            else ""
        )
        hard, easy = v["hard"], v["easy"]
        return (
            f"{v['share']:.0%} of your running with heart rate in the last {v['days']} days"
            f" was hard ({hard / 60:.0f} of {(easy + hard) / 60:.0f} min in zones 3-5,"
            f" {counted(v['hard_runs'], 'hard run')}); the limit is"
            f" {ev['max_hard_share']:.0%}.{note}"
        )
    if code == "too-little-strength":
        need = ev["needed"]
        return (
            f"{counted(ev['strength_sessions'], 'strength session')} in the {ev['days']} days"
            f" before {day}; at least {need:g} {'is' if need == 1 else 'are'} needed"
            f" ({v['weekly']} a week, {_season_name(ev['season'])})."
        )
    if code == "strength-yesterday":
        detail = "; ".join(
            label
            + (f", {legs} of {sets} sets for the legs" if sets else "")
            + (" (leg-heavy)" if heavy else "")
            for label, legs, sets, heavy in v["sessions"]
        )
        return (
            f"Strength yesterday, {v['yesterday']:%a %d %b}: {detail}. The legs may not have"
            " recovered yet."
        )
    if code == "too-much-strength":
        return (
            f"{plural(ev['strength_sessions'], 'strength session')} in the {v['days']} days"
            f" before {day}; at most {ev['max']} fit alongside the running"
            f" ({_season_name(ev['season'])})."
        )
    if code == "short-sleep":
        nights = ", ".join(f"{d:%a %d %b} {h:.1f} h" for d, h in v["nights"])
        first, last = v["first"], v["last"]
        return (
            f"You slept {ev['sleep_hours']:.1f} h a night on average in the nights ending"
            f" {first:%a %d %b} to {last:%a %d %b} ({len(v['nights'])} of {v['window']}"
            f" recorded: {nights}); at least {ev['min_sleep_hours']:g} h is needed."
        )
    if code == "resting-hr-up":
        check = v["check"]
        return (
            f"Your resting heart rate averaged {ev['resting_hr']:.1f} bpm over"
            f" {check.first:%a %d %b} - {check.last:%a %d %b} ({plural(ev['days'], 'day')}),"
            f" {ev['rise']:.1f} bpm above your baseline of {ev['baseline_median']:.1f} (the"
            f" median of {ev['baseline_days']} days from {check.baseline_first:%d %b} to"
            f" {check.baseline_last:%d %b}); the limit is +{ev['max_resting_hr_rise']:g} bpm."
        )
    if code == "hrv-down":
        check = v["check"]
        return (
            f"Your HRV averaged {ev['hrv_ms']:.0f} ms (mean of ln HRV) over"
            f" {check.first:%a %d %b} - {check.last:%a %d %b} ({plural(ev['days'], 'night')}),"
            f" {hrv_drop(ev)} {ev['baseline_ms']:.0f} ms ({ev['baseline_days']} nights from"
            f" {check.baseline_first:%d %b} to {check.baseline_last:%d %b}); the limit is"
            f" {ev['hrv_drop_sd']:g}."
        )
    return code.replace("-", " ")


def cause_fix(cause: Cause) -> str:
    """What to do about a cause on the day."""
    v = cause.values
    if cause.cause == 1:
        return (
            "Rest today: no running, strength or cross-training (a walk, yoga or stretching"
            f" is fine). Then take at least {counted(v['min_rest_days'], 'full rest day')}"
            f" every {v['days']} days and raise the load gradually: legs get stronger while"
            " they rest."
        )
    if cause.cause == 2:
        return (
            "Run easy (zones 1-2, a pace you can talk at) until your legs feel fresh, then"
            " keep about 80% of your running easy with one or two hard sessions a week."
        )
    if cause.cause == 10:
        return CAUSES[10].fix + " Run easy or rest today and go to bed early tonight."
    if cause.cause == 5:
        low = v["weekly"]
        return (
            f"Do {low} short strength session{'s' if low != 1 else ''} a week (squats,"
            " lunges, calf raises, core), straight after an easy run: strong legs tire later."
        )
    high = v["max"]
    return (
        f"Keep to at most {high} strength session{'s' if high != 1 else ''} a week, each"
        " straight after an easy run and two or more days before a long or hard run; run"
        " easy or rest today."
    )


def note_text(note: Note, result: Today) -> str:
    """What a note says."""
    v = note.values
    if note.code == "zones-missing":
        return f"speed work (cause 2) not judged, runs count as easy in the load: {v['reason']}"
    if note.code == "short-recordings":
        ids = ", ".join(f"#{i}" for i in v["ids"])
        return (
            f"{counted(len(v['ids']), 'recording')} shorter than {v['minutes']:g} min not"
            f" judged ([rules] min_activity_seconds): {ids}."
        )
    if note.code == "wellness-not-judged":
        return wellness_note(v)
    if note.code == "nothing-recent":
        return (
            f"nothing recent to judge: no activity in the {v['days']} days before"
            f" {result.day} (the latest is from {v['latest']}); if you trained since,"
            " import it first."
        )
    latest: date = v["latest"]
    return (
        f"the latest activity is from {latest} ({v['days']} days without any before"
        f" {result.day}): if you trained since, import it first."
    )


#: How each wellness measure is named in a note.
MEASURES = {
    "sleep": ("sleep (cause 10)", "night"),
    "resting_hr": ("resting heart rate (cause 1)", "day"),
    "hrv": ("HRV (cause 1)", "night"),
}


def wellness_note(v: dict[str, Any]) -> str:
    """A wellness rule with too little data: which, and how much it had and needs."""
    name, unit = MEASURES[v["measure"]]
    text = (
        f"{name} not judged: {plural(v['recorded'], unit)} recorded from {v['first']:%d %b}"
        f" to {v['last']:%d %b}, {v['needed']} needed"
    )
    if "baseline" in v:
        text += f"; {v['baseline']} in the baseline, {v['baseline_needed']} needed"
    return text + "."


def notes(result: Today) -> list[str]:
    """Every note of the answer in words."""
    return [note_text(n, result) for n in result.notes]


def today_text(result: Today, width: int = WIDTH) -> str:
    """The answer a runner reads in a minute: the causes, strongest first, or what else
    to look at when training explains nothing."""
    day = f"{result.day:%A %d %B %Y}"
    lines: list[str] = []
    _body(result, day, width, lines)
    for note in notes(result):
        lines.append("")
        lines.extend(textwrap.wrap("Note: " + note, width, subsequent_indent="  "))
    return "\n".join(lines) + "\n"


def _body(result: Today, day: str, width: int, lines: list[str]) -> None:

    def para(text: str, indent: str = "", first: str | None = None) -> None:
        lines.extend(
            textwrap.wrap(
                text,
                width,
                initial_indent=indent if first is None else first,
                subsequent_indent=indent,
                break_on_hyphens=False,
            )
        )

    if result.activities == 0:
        para(f"{day}: no activity before this day is imported, so nothing can be judged.")
        para("Import your training first: heavylegs import FOLDER")
        return
    if not result.recent:
        para(f"{day}: nothing recent to judge: no training cause can be read from silence.")
        return
    seen = (
        f"Judged from {result.activities} activities over the {result.history_days} days before it."
    )
    if not result.causes:
        para(f"{day}: no training cause of heavy legs found. {seen}")
        if result.judged:
            names = [JUDGED_NAMES[m] for m in result.judged]
            listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
            verb = "are within their limits" if len(names) > 1 else "is within its limit"
            para(f"Your {listed} {verb} too.")
        lines.append("")
        para("If your legs feel heavy anyway, look at the causes training data cannot show:")
        for other in OTHER_CAUSES:
            if "sleep" in result.judged and other.startswith("sleep"):
                continue  # judged above
            para(other, "    ", "  - ")
        return
    count = len(result.causes)
    plural = "s of heavy legs, strongest first" if count > 1 else " of heavy legs"
    # Sleep, resting HR and HRV are not training: say "cause" when they speak.
    body = any(c.cause == 10 or c.code in BODY_CODES for c in result.causes) or any(
        s.code in BODY_CODES for c in result.causes for s in c.signals
    )
    para(f"{day}: {count} {'' if body else 'training '}cause{plural}. {seen}")
    for rank, cause in enumerate(result.causes, 1):
        lines.append("")
        lines.append(f"{rank}. [cause {cause.cause}: {cause.title}] severity {cause.score:g}")
        para(cause_message(cause, result), "   ")
        ids = cause.evidence.get("activities") or []
        if ids:
            para("Activities: " + ", ".join(map(str, ids)), "   ")
        para("What to do: " + cause_fix(cause), "   ")
