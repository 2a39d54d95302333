"""Per-activity facts the checks need: local day, time in zones, hard or not, leg-heavy or not.

Pure: activities and a zone model in, plain values out; no store, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter

from heavylegs_sync.config import RuleSettings
from heavylegs_sync.hr.timeline import ZoneTimeline
from heavylegs_sync.hr.zones import ZoneModel, ZoneTimes
from heavylegs_sync.model import Activity, Category, StrengthSet

#: FIT exercise categories that load the legs (leg press is recorded as a squat variant).
LEG_EXERCISES = frozenset(
    {
        "squat",
        "lunge",
        "deadlift",
        "leg_curl",
        "leg_press",
        "calf_raise",
        "hip_raise",
        "hip_swing",
        "olympic_lift",
        "step_up",
        "plyo",
        "sled",
    }
)


@dataclass(frozen=True)
class ActivityFacts:
    """One activity as the checks see it."""

    id: int
    category: Category
    start_local: datetime  # aware, the activity's own offset
    duration_s: float
    distance_m: float | None
    zones: ZoneTimes
    hard: bool  # runs only: enough time in zones 3-5
    leg_sets: int
    sets: int
    leg_heavy: bool  # strength whose recorded sets are mostly leg exercises
    label: str  # short description for evidence, e.g. "run 50 min"
    perceived_exertion: float | None = None  # 1-10, where a Strava export said
    weight_lifted_kg: float | None = None  # a strength session's total, likewise
    short: bool = False  # shorter than [rules] min_activity_seconds: listed, not judged
    #: The local calendar day the activity belongs to (kept: the rules ask it often).
    day: date = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "day", self.start_local.date())

    @property
    def hr_covered(self) -> bool:
        """Whether any of its time has heart-rate data."""
        return self.zones.hr_seconds > 0

    @property
    def recorded_seconds(self) -> float:
        """Time the recording covers (pauses left out); the duration without samples."""
        return self.zones.recorded_seconds if self.zones.recorded_seconds > 0 else self.duration_s


def activity_facts(
    activities: Iterable[Activity],
    zones: ZoneTimeline | ZoneModel,
    rules: RuleSettings,
    known_zones: Mapping[int, ZoneTimes] | None = None,
) -> list[ActivityFacts]:
    """Facts for every activity that has an id, oldest first.

    Each activity is judged with the zones in effect on its day. ``known_zones`` gives
    zone times already computed for those models (a store keeps them); the rest are
    computed from the samples, or empty without samples. An activity of known duration
    under ``rules.min_activity_seconds`` is marked ``short``: the checks leave it out.
    """
    timeline = zones if isinstance(zones, ZoneTimeline) else ZoneTimeline.single(zones)
    result = []
    known = known_zones or {}
    for activity in activities:
        if activity.id is None:
            continue
        duration = activity.duration_s or 0.0
        if activity.id in known:
            times = known[activity.id]
        elif activity.samples is not None:
            from heavylegs_sync.hr.trace import zone_times  # numpy, for samples only

            model = timeline.at(activity.start_local.date())
            times = zone_times(activity.samples, model, max_gap_s=rules.max_gap_s)
        else:
            times = ZoneTimes.empty()
        hard = activity.category is Category.RUN and is_hard(times, rules)
        sets = activity.sets
        named_sets = sum(1 for s in sets if s.category) if sets else 0
        legs = leg_sets(sets) if sets else 0
        start = activity.start_local
        # Built without the frozen class's field-by-field __init__ (every field named, as
        # tests/test_load.py checks): a squad's weeks are tens of thousands of these.
        fact = object.__new__(ActivityFacts)
        fact.__dict__.update(
            id=activity.id,
            category=activity.category,
            start_local=start,
            duration_s=duration,
            distance_m=activity.distance_m,
            zones=times,
            hard=hard,
            leg_sets=legs,
            sets=named_sets,
            leg_heavy=named_sets > 0 and legs / named_sets > rules.leg_heavy_share,
            label=_label(activity, duration),
            perceived_exertion=activity.perceived_exertion,
            weight_lifted_kg=activity.weight_lifted_kg,
            short=activity.duration_s is not None
            and activity.duration_s < rules.min_activity_seconds,
            day=start.date(),
        )
        result.append(fact)
    result.sort(key=_START_ORDER)
    return result


#: Facts oldest first (by the instant they start, then id).
_START_ORDER = attrgetter("start_local", "id")


def is_hard(zones: ZoneTimes, rules: RuleSettings) -> bool:
    """A hard run: at least 10 minutes, or 25% of its time with heart rate, in zones 3-5."""
    if zones.hr_seconds <= 0:
        return False
    return (
        zones.hard_seconds >= rules.hard_run_min_seconds
        or zones.hard_seconds / zones.hr_seconds >= rules.hard_run_min_share
    )


def leg_sets(sets: Iterable[StrengthSet]) -> int:
    """How many recorded sets were leg exercises."""
    return sum(1 for s in sets if s.category in LEG_EXERCISES)


def _label(activity: Activity, duration: float) -> str:
    """``run 50 min``, ``strength 45 min``, ``yoga 30 min``, ``cycling 60 min``."""
    kind = activity.category.value
    if activity.category not in (Category.RUN, Category.STRENGTH):
        specific = activity.sub_sport if activity.sub_sport not in (None, "generic") else None
        kind = specific or activity.sport or kind
    return f"{kind} {round(duration / 60)} min"
