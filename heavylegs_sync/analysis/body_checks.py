"""One window of sleep, resting heart rate or HRV judged against its limit or baseline:
the checks ``today`` (:mod:`.today`, one day) and the weekly report (:mod:`.body`) share.

Apart from :mod:`.body` so that ``today`` loads no weekly classes at start-up (it never
builds them; docs/performance.md, "today's start-up on a server"). Pure: the merged
wellness days, settings and explicit dates in; codes and numbers out. docs/wellness.md
gives the science and docs/rules.md every threshold.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heavylegs_sync.config import RuleSettings
    from heavylegs_sync.wellness import WellnessDay

HOUR = 3600.0
#: Slack for comparing sums of recorded values with a threshold (a mean of exactly 5 bpm
#: above the baseline is "at least 5", whatever the float rounding).
EPS = 1e-9
#: The measures, as the ``not judged`` notes and the JSON name them.
SLEEP, RESTING_HR, HRV = "sleep", "resting_hr", "hrv"


def days_back(day: date, n: int) -> date:
    """The day ``n`` days before ``day`` (D-n)."""
    return day - timedelta(days=n)


def span(first: date, last: date) -> list[date]:
    """Every day of [first, last]."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def recorded_values(
    days: Mapping[date, WellnessDay], first: date, last: date, measure: str
) -> tuple[tuple[date, float], ...]:
    """The recorded values of one measure in [first, last], by day (sleep in hours)."""
    result = []
    # The recorded days, not every day of the span: most athletes of a squad record none.
    for day in sorted(d for d in days if first <= d <= last):
        value = _value(days[day], measure)
        if value is not None:
            result.append((day, value))
    return tuple(result)


def _value(item: WellnessDay, measure: str) -> float | None:
    if measure == SLEEP:
        # No time asleep at all is a watch not worn that night, not a night without sleep.
        return None if not item.sleep_s else item.sleep_s / HOUR
    if measure == RESTING_HR:
        return item.resting_hr
    return item.hrv_ms


def has_any(days: Mapping[date, WellnessDay], first: date, last: date, measure: str) -> bool:
    """Whether any day of [first, last] records the measure."""
    return bool(recorded_values(days, first, last, measure))


@dataclass(frozen=True)
class SleepCheck:
    """The nights of a window (wake dates [first, last]) against ``min_sleep_hours``."""

    first: date
    last: date
    nights: tuple[tuple[date, float], ...]  # wake date, hours asleep
    needed: int  # nights recorded for the average to be judged
    limit: float  # min_sleep_hours

    @property
    def recorded(self) -> int:
        """Nights with a time asleep."""
        return len(self.nights)

    @property
    def mean(self) -> float | None:
        """Average hours asleep over the recorded nights; None without any."""
        return statistics.fmean(h for _, h in self.nights) if self.nights else None

    @property
    def judged(self) -> bool:
        """Enough nights recorded for the average to say anything."""
        return self.recorded >= self.needed

    @property
    def short(self) -> bool:
        """Judged, and the average is below the limit."""
        mean = self.mean
        return self.judged and mean is not None and mean < self.limit - EPS


def sleep_check(
    days: Mapping[date, WellnessDay], first: date, last: date, needed: int, rules: RuleSettings
) -> SleepCheck:
    """The nights ending on [first, last] against ``[rules] min_sleep_hours``."""
    nights = recorded_values(days, first, last, SLEEP)
    return SleepCheck(first, last, nights, needed, rules.min_sleep_hours)


@dataclass(frozen=True)
class SignalCheck:
    """A recent window of resting HR or HRV against its baseline.

    Resting HR: ``mean`` and ``centre`` (the baseline's median) in bpm, ``limit`` =
    centre + max rise; fired when the mean is at least the limit. HRV: ``mean``,
    ``centre`` and ``spread`` are of ln(HRV in ms), ``limit`` = centre - hrv_drop_sd x
    spread; fired when the mean is below the limit.
    """

    code: str  # "resting-hr-up" or "hrv-down"
    first: date
    last: date
    values: tuple[tuple[date, float], ...]  # the recent window's recorded bpm or ms
    baseline_first: date
    baseline_last: date
    baseline: tuple[tuple[date, float], ...]
    needed: int
    baseline_needed: int
    mean: float | None = None
    centre: float | None = None
    spread: float | None = None
    limit: float | None = None

    @property
    def judged(self) -> bool:
        """Enough values in the recent window and in the baseline."""
        return len(self.values) >= self.needed and len(self.baseline) >= self.baseline_needed

    @property
    def fired(self) -> bool:
        """Judged and past the limit (resting HR: at or above it; HRV: below it)."""
        if not self.judged or self.mean is None or self.limit is None:
            return False
        if self.code == "resting-hr-up":
            return self.mean >= self.limit - EPS
        return self.mean < self.limit - EPS

    @property
    def rise(self) -> float | None:
        """Resting HR: the mean's rise over the baseline (bpm); HRV: how many baseline
        standard deviations the mean of ln(HRV) lies below the baseline's mean."""
        if self.mean is None or self.centre is None:
            return None
        if self.code == "resting-hr-up":
            return self.mean - self.centre
        if not self.spread:
            return None
        return (self.centre - self.mean) / self.spread


def resting_hr_check(
    days: Mapping[date, WellnessDay],
    recent: tuple[date, date],
    baseline: tuple[date, date],
    rules: RuleSettings,
) -> SignalCheck:
    """``resting-hr-up``: the recent mean at least ``max_resting_hr_rise`` bpm above the
    baseline's median."""
    values = recorded_values(days, *recent, RESTING_HR)
    base = recorded_values(days, *baseline, RESTING_HR)
    check = SignalCheck(
        "resting-hr-up", *recent, values, *baseline, base,
        rules.min_resting_hr_days, rules.min_resting_hr_baseline_days,
    )  # fmt: skip
    if not check.judged:
        return check
    centre = statistics.median(v for _, v in base)
    mean = statistics.fmean(v for _, v in values)
    return replace(check, mean=mean, centre=centre, limit=centre + rules.max_resting_hr_rise)


def hrv_check(
    days: Mapping[date, WellnessDay],
    recent: tuple[date, date],
    baseline: tuple[date, date],
    rules: RuleSettings,
) -> SignalCheck:
    """``hrv-down``: the recent mean of ln(HRV) below the baseline's mean of ln(HRV) less
    ``hrv_drop_sd`` of its standard deviations."""
    values = recorded_values(days, *recent, HRV)
    base = recorded_values(days, *baseline, HRV)
    check = SignalCheck(
        "hrv-down", *recent, values, *baseline, base,
        rules.min_hrv_nights, rules.min_hrv_baseline_nights,
    )  # fmt: skip
    if not check.judged:
        return check
    logs = [math.log(v) for _, v in base]
    centre = statistics.fmean(logs)
    spread = statistics.stdev(logs) if len(logs) > 1 else 0.0
    mean = statistics.fmean(math.log(v) for _, v in values)
    limit = centre - rules.hrv_drop_sd * spread
    return replace(check, mean=mean, centre=centre, spread=spread, limit=limit)


def today_windows(day: date, rules: RuleSettings) -> tuple[tuple[date, date], tuple[date, date]]:
    """``today``'s recent window (D-7..D-1) and baseline (D-60..D-8)."""
    recent = (days_back(day, rules.baseline_last_day - 1), days_back(day, 1))
    baseline = (days_back(day, rules.baseline_first_day), days_back(day, rules.baseline_last_day))
    return recent, baseline


def signal_evidence(check: SignalCheck, rules: RuleSettings) -> dict[str, Any]:
    """A body signal's numbers as the JSON shows them (HRV in ms and as ln)."""
    assert check.mean is not None and check.centre is not None and check.limit is not None
    rise = check.rise
    common = {
        "days": len(check.values),
        "baseline_days": len(check.baseline),
        "baseline_from": check.baseline_first.isoformat(),
        "baseline_to": check.baseline_last.isoformat(),
        "values": {d.isoformat(): round(v, 1) for d, v in check.values},
    }
    if check.code == "resting-hr-up":
        return {
            "resting_hr": round(check.mean, 1),
            "baseline_median": round(check.centre, 1),
            "rise": None if rise is None else round(rise, 1),
            "max_resting_hr_rise": rules.max_resting_hr_rise,
            **common,
        }
    return {
        "hrv_ms": round(math.exp(check.mean), 1),
        "ln_hrv": round(check.mean, 3),
        "baseline_ln_mean": round(check.centre, 3),
        "baseline_ln_sd": None if check.spread is None else round(check.spread, 3),
        "baseline_ms": round(math.exp(check.centre), 1),
        "limit_ms": round(math.exp(check.limit), 1),
        "drop_sd": None if rise is None else round(rise, 2),
        "hrv_drop_sd": rules.hrv_drop_sd,
        **common,
    }
