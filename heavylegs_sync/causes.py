"""The one catalogue of the causes of heavy legs: number, title, what it means, the fix.

Every format names a cause from here — the text, JSON and HTML reports, ``today``, the
weeks table's legend — so cause 5 cannot be "skipping strength training" in one place
and "too little strength training" in another. The plain words for each finding code
(a problem within a cause) live here too. Plain data, no imports: the analysis and the
report both read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CauseEntry:
    """One cause of the published list of ten that training (and sleep) data can show."""

    number: int
    title: str  # as a heading: "Not enough recovery"
    legend: str  # in a list of causes: "not enough recovery"
    fix: str  # the general advice; each finding's own fix adds its numbers


CAUSES: dict[int, CauseEntry] = {
    1: CauseEntry(
        1,
        "Not enough recovery",
        "not enough recovery",
        "Take full rest days every week and raise the load gradually: legs get stronger"
        " while they rest.",
    ),
    2: CauseEntry(
        2,
        "Too much speed work",
        "too much speed work",
        "Keep about 80% of your running easy (zones 1-2) with one or two hard sessions a week.",
    ),
    5: CauseEntry(
        5,
        "Skipping strength training",
        "too little strength",
        "Do short strength sessions (squats, lunges, calf raises, core) after easy runs.",
    ),
    6: CauseEntry(
        6,
        "Overdoing or mistiming strength",
        "strength overdone or mistimed",
        "Keep strength to a few sessions a week, straight after an easy run and two or more"
        " days before a long or hard run.",
    ),
    10: CauseEntry(
        10,
        "Sleep deprivation",
        "too little sleep",
        "Aim for 7–9 hours of sleep per night, especially before and after hard workouts.",  # noqa: RUF001 (the article's words)
    ),
}

#: The causes the training log alone shows; cause 10 needs sleep data (docs/wellness.md).
TRAINING_CAUSES = (1, 2, 5, 6)

#: Plain words for each finding code (text and HTML show these, never the code).
PROBLEMS: dict[str, str] = {
    "no-rest-day": "no rest day",
    "too-few-rest-days": "too few rest days",
    "too-many-days-without-rest": "too many days in a row without rest",
    "load-spike": "a sudden rise in training load",
    "too-much-hard": "too much hard running",
    "too-little-strength": "too little strength training",
    "too-much-strength": "too much strength training",
    "strength-yesterday": "strength yesterday",
    "strength-before-long-run": "strength the day before a long run",
    "strength-before-hard-run": "strength the day before a hard run",
    "strength-same-day-hard": "strength on the day of a hard run",
    "strength-same-day-long": "strength on the day of a long run",
    "strength-before-easy-run": "strength before an easy run on the same day",
    "resting-hr-up": "resting heart rate up",
    "hrv-down": "heart-rate variability down",
    "short-sleep": "too little sleep",
    "short-sleep-before-key-runs": "short nights before hard or long runs",
}

#: The article's other causes of heavy legs, which training data cannot show.
OTHER_CAUSES = (
    "sleep (seven to nine hours, more in a big training block)",
    "hydration (drink through the day, more in heat)",
    "nutrition (enough carbohydrate to refuel, iron; get a low ferritin checked)",
    "running form (overstriding, heavy heel strike)",
    "shoes (worn out after 500-800 km, or wrong for you)",
    "circulation (heaviness that lasts for weeks is worth a visit to a doctor)",
)


def cause_title(number: int) -> str:
    """A cause's heading, e.g. ``Skipping strength training``."""
    entry = CAUSES.get(number)
    return entry.title if entry else f"cause {number}"


def problem_title(code: str, strength_sessions: int | None = None) -> str:
    """A finding's problem in plain words (``no strength training`` when none at all)."""
    if code == "too-little-strength" and strength_sessions == 0:
        return "no strength training"
    return PROBLEMS.get(code, code.replace("-", " "))


def legend(wellness: bool = False) -> str:
    """The causes as the weeks table's legend lists them (cause 10 only where sleep was
    judged)."""
    shown = [c for c in CAUSES.values() if wellness or c.number in TRAINING_CAUSES]
    return ", ".join(f"{c.number} {c.legend}" for c in shown)
