"""Zone bounds, time in zone and max-HR estimation, on hand-built samples."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heavylegs_sync.errors import HeavyLegsError
from heavylegs_sync.hr.trace import (
    estimate_max_hr,
    hr_coverage,
    sustained_peak,
    zone_of,
    zone_times,
)
from heavylegs_sync.hr.zones import (
    DEFAULT_FRACTIONS,
    ZoneError,
    ZoneMethod,
    ZoneModel,
    ZoneTimes,
    build_zone_model,
    estimate_from_peaks,
)
from heavylegs_sync.model import FloatArray, Samples


def build(
    method: str | None = None,
    *,
    max_hr: float | None = None,
    resting_hr: float | None = None,
    lthr: float | None = None,
    bounds: Sequence[float] | None = None,
    estimated_max_hr: float | None = None,
) -> ZoneModel:
    return build_zone_model(
        method,
        max_hr=max_hr,
        resting_hr=resting_hr,
        lthr=lthr,
        bounds=bounds,
        estimated_max_hr=estimated_max_hr,
    )


def arr(*values: float) -> FloatArray:
    return np.array(values, dtype=np.float64)


HRMAX_190 = ZoneModel(ZoneMethod.HRMAX, (123, 153, 169, 184), 190.0, "settings")


# --- bounds ---------------------------------------------------------------------------


def test_default_fractions() -> None:
    assert DEFAULT_FRACTIONS[ZoneMethod.HRMAX] == (0.65, 0.81, 0.89, 0.97)
    assert DEFAULT_FRACTIONS[ZoneMethod.HRR] == (0.55, 0.70, 0.80, 0.90)
    assert DEFAULT_FRACTIONS[ZoneMethod.LTHR] == (0.81, 0.90, 0.95, 1.00)


def test_hrmax_bounds() -> None:
    assert build("hrmax", max_hr=190) == HRMAX_190


def test_hrr_bounds() -> None:
    model = build("hrr", max_hr=190, resting_hr=50)
    assert model.bounds_bpm == (127, 148, 162, 176)
    assert (model.max_hr, model.max_hr_source) == (190.0, "settings")


def test_lthr_bounds() -> None:
    model = build("lthr", lthr=172)
    assert model.bounds_bpm == (139, 154, 163, 172)
    assert (model.max_hr, model.max_hr_source) == (None, "none")


def test_lthr_reports_configured_max() -> None:
    model = build("lthr", lthr=172, max_hr=190)
    assert model.bounds_bpm == (139, 154, 163, 172)
    assert (model.max_hr, model.max_hr_source) == (190.0, "settings")


def test_bpm_bounds() -> None:
    model = build("bpm", bounds=[120, 150.0, 165, 180])
    assert model.method is ZoneMethod.BPM
    assert model.bounds_bpm == (120, 150, 165, 180)
    assert model.max_hr_source == "none"


@pytest.mark.parametrize("method", ["HRMAX", " HrMax ", "hrmax"])
def test_method_case_insensitive(method: str) -> None:
    assert build(method, max_hr=190).method is ZoneMethod.HRMAX


# --- auto choice ----------------------------------------------------------------------


def test_auto_prefers_lthr() -> None:
    model = build(None, max_hr=190, resting_hr=50, lthr=172)
    assert model.method is ZoneMethod.LTHR
    assert (model.max_hr, model.max_hr_source) == (190.0, "settings")


def test_auto_hrr_with_configured_max() -> None:
    model = build(None, max_hr=190, resting_hr=50, estimated_max_hr=180)
    assert model.method is ZoneMethod.HRR
    assert model.bounds_bpm == (127, 148, 162, 176)
    assert model.max_hr_source == "settings"


def test_auto_hrr_with_estimated_max() -> None:
    model = build("auto", resting_hr=50, estimated_max_hr=190)
    assert model.method is ZoneMethod.HRR
    assert model.bounds_bpm == (127, 148, 162, 176)
    assert (model.max_hr, model.max_hr_source) == (190.0, "estimate")


def test_auto_hrmax_configured_beats_estimate() -> None:
    model = build(None, max_hr=190, estimated_max_hr=200)
    assert model == HRMAX_190


def test_auto_hrmax_estimated() -> None:
    model = build(None, estimated_max_hr=200)
    assert model.method is ZoneMethod.HRMAX
    assert model.bounds_bpm == (130, 162, 178, 194)
    assert (model.max_hr, model.max_hr_source) == (200.0, "estimate")


def test_auto_uses_explicit_bounds() -> None:
    model = build(None, bounds=[120, 150, 165, 180], lthr=172, max_hr=190)
    assert model.method is ZoneMethod.BPM
    assert model.bounds_bpm == (120, 150, 165, 180)


def test_explicit_method_uses_estimated_max() -> None:
    model = build("hrmax", lthr=172, estimated_max_hr=190)
    assert model.bounds_bpm == (123, 153, 169, 184)
    assert (model.max_hr, model.max_hr_source) == (190.0, "estimate")


# --- errors ---------------------------------------------------------------------------


def test_nothing_known() -> None:
    with pytest.raises(ZoneError, match=r"\[athlete\] max_hr"):
        build(None)


def test_zone_error_is_ours() -> None:
    assert issubclass(ZoneError, HeavyLegsError)


def test_unknown_method_names_valid_ones() -> None:
    with pytest.raises(ZoneError, match=r"hrmax.*hrr.*lthr.*bpm"):
        build("zones5", max_hr=190)


@pytest.mark.parametrize(
    ("method", "kwargs", "pattern"),
    [
        ("hrr", {"max_hr": 190.0}, "resting_hr"),
        ("hrr", {"resting_hr": 50.0}, "max_hr"),
        ("hrr", {"max_hr": 190.0, "resting_hr": 190.0}, "below max HR"),
        ("hrmax", {"lthr": 172.0}, "max_hr"),
        ("lthr", {"max_hr": 190.0}, "lthr"),
        ("bpm", {"max_hr": 190.0}, "bounds"),
        ("bpm", {"bounds": [120, 150, 165]}, "needs 4"),
        ("bpm", {"bounds": [120, 150, 165, 180, 200]}, "needs 4"),
        ("bpm", {"bounds": [120, 150, 150, 180]}, "strictly increasing"),
        ("bpm", {"bounds": [150, 120, 165, 180]}, "strictly increasing"),
        ("bpm", {"bounds": [20, 150, 165, 180]}, "between 30 and 250"),
        ("bpm", {"bounds": [120, 150, 165, 260]}, "between 30 and 250"),
        ("bpm", {"bounds": [120, 150.5, 165, 180]}, "whole bpm"),
        ("hrmax", {"max_hr": float("nan")}, "max_hr"),
        ("hrmax", {"max_hr": 1900.0}, "max_hr"),
        ("lthr", {"lthr": 172.0, "resting_hr": -5.0}, "resting_hr"),
    ],
)
def test_zone_errors(method: str, kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ZoneError, match=pattern):
        build(method, **kwargs)


def test_model_rejects_unordered_bounds() -> None:
    with pytest.raises(ZoneError):
        ZoneModel(ZoneMethod.BPM, (150, 120, 165, 180), None, "none")


# --- zone_of --------------------------------------------------------------------------


def test_zone_of_at_bounds() -> None:
    hr = arr(np.nan, 90, 123, 124, 153, 153.5, 154, 169, 170, 184, 185, 220)
    assert zone_of(HRMAX_190, hr).tolist() == [0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5]
    assert zone_of(HRMAX_190, hr).dtype == np.int8


# --- time in zone ---------------------------------------------------------------------


def test_irregular_spacing_is_time_weighted() -> None:
    # 170 bpm (zone 4) held 7 s, then 120 (zone 1) for 1 s, 140 (zone 2) for 3 s,
    # 160 (zone 3) for 2 s, 190 (zone 5) for 4 s; the last sample has no interval.
    samples = Samples(t=arr(0, 7, 8, 11, 13, 17), hr=arr(170, 120, 140, 160, 190, 100))
    times = zone_times(samples, HRMAX_190)
    assert times.seconds == (1.0, 3.0, 2.0, 7.0, 4.0)
    assert times.hr_seconds == 17.0
    assert times.easy_seconds == 4.0
    assert times.hard_seconds == 13.0
    assert times.distance_m == (0.0, 0.0, 0.0, 0.0, 0.0)


def test_long_gap_counts_nothing() -> None:
    # A 60 s pause after the 150 sample; exactly 30 s still counts.
    samples = Samples(t=arr(0, 5, 65, 95, 100), hr=arr(150, 150, 175, 175, 175))
    times = zone_times(samples, HRMAX_190)
    assert times.seconds == (0.0, 5.0, 0.0, 35.0, 0.0)
    assert zone_times(samples, HRMAX_190, max_gap_s=60).seconds == (0.0, 65.0, 0.0, 35.0, 0.0)


def test_points_without_hr_between_close_readings_take_the_earlier_reading() -> None:
    # GPS-only points interleaved with HR points 10 s apart: the heart was measured.
    samples = Samples(t=arr(0, 4, 9, 10, 12), hr=arr(150, np.nan, np.nan, 160, 160))
    times = zone_times(samples, HRMAX_190)
    assert times.seconds == (0.0, 10.0, 2.0, 0.0, 0.0)
    assert times.hr_seconds == 12.0 == times.recorded_seconds
    assert hr_coverage(samples) == 1.0


def test_nan_hr_across_a_long_gap_counts_nothing() -> None:
    # Readings 40 s apart (over the 30 s bound): the points between stay "no data"; the
    # reading at 0 s holds its own interval (to 10 s) as every reading does.
    hr = arr(150, np.nan, np.nan, np.nan, 160, 160)
    samples = Samples(t=arr(0, 10, 20, 30, 40, 45), hr=hr)
    times = zone_times(samples, HRMAX_190)
    assert times.seconds == (0.0, 10.0, 5.0, 0.0, 0.0)
    assert times.recorded_seconds == 45.0
    assert hr_coverage(samples) == pytest.approx(15 / 45)


def test_coverage_leaves_pauses_out_of_both_sides() -> None:
    # 10 min recorded with HR, a 20-minute pause, 10 min recorded without HR.
    t = np.concatenate([np.arange(0, 601, 1.0), np.arange(1800, 2401, 1.0)])
    hr = np.concatenate([np.full(601, 150.0), np.full(601, np.nan)])
    samples = Samples(t=t, hr=hr)
    assert hr_coverage(samples) == pytest.approx(0.5)
    assert hr_coverage(Samples(t=t)) == 0.0
    assert hr_coverage(None) is None


def test_distance_per_zone() -> None:
    samples = Samples(
        t=arr(0, 5, 10, 15, 20, 80, 85),
        hr=arr(140, 140, 175, 175, np.nan, 175, 140),
        distance=arr(0, 15, 30, np.nan, 60, 200, 215),
    )
    times = zone_times(samples, HRMAX_190)
    # 0-10 s zone 2, 30 m; 10-20 s zone 4 but distance missing at 15 s, so time without
    # distance; 20-80 s starts at NaN HR and is a gap; 80-85 s zone 4, 15 m.
    assert times.seconds == (0.0, 10.0, 0.0, 15.0, 0.0)
    assert times.distance_m == (0.0, 30.0, 0.0, 15.0, 0.0)
    assert times.easy_distance_m == 30.0
    assert times.hard_distance_m == 15.0


def test_distance_going_backwards_is_ignored() -> None:
    samples = Samples(t=arr(0, 5, 10), hr=arr(175, 175, 175), distance=arr(100, 90, 120))
    times = zone_times(samples, HRMAX_190)
    assert times.seconds == (0.0, 0.0, 0.0, 10.0, 0.0)
    assert times.distance_m == (0.0, 0.0, 0.0, 30.0, 0.0)


def test_smart_recording_matches_one_hertz() -> None:
    # The same 60 s effort: 20 s at 140, 25 s at 160, 15 s at 178, end at 120.
    one_hz_t = np.arange(61, dtype=np.float64)
    one_hz_hr = np.where(one_hz_t < 20, 140.0, np.where(one_hz_t < 45, 160.0, 178.0))
    one_hz_hr[-1] = 120.0
    smart = Samples(
        t=arr(0, 7, 13, 20, 27, 33, 40, 45, 52, 58, 60),
        hr=arr(140, 140, 140, 160, 160, 160, 160, 178, 178, 178, 120),
    )
    dense = zone_times(Samples(t=one_hz_t, hr=one_hz_hr), HRMAX_190)
    sparse = zone_times(smart, HRMAX_190)
    assert dense.seconds == sparse.seconds == (0.0, 20.0, 25.0, 15.0, 0.0)


def test_no_hr_channel_is_empty() -> None:
    samples = Samples(t=arr(0, 1, 2), distance=arr(0, 3, 6))
    times = zone_times(samples, HRMAX_190)
    assert times.seconds == ZoneTimes.empty().seconds and times.hr_seconds == 0.0
    assert times.recorded_seconds == 2.0  # recorded, without heart rate
    assert ZoneTimes.empty().hr_seconds == 0.0


def test_single_sample_is_empty() -> None:
    assert zone_times(Samples(t=arr(0), hr=arr(150)), HRMAX_190) == ZoneTimes.empty()


def test_unsorted_times_are_sorted() -> None:
    samples = Samples(t=arr(0, 10, 5, np.nan), hr=arr(150, 175, 160, 190))
    assert zone_times(samples, HRMAX_190).seconds == (0.0, 5.0, 5.0, 0.0, 0.0)


NARROW = ZoneModel(ZoneMethod.BPM, (31, 32, 33, 249), None, "none")
hr_values = st.one_of(st.floats(0, 260), st.just(float("nan")))


@st.composite
def any_samples(draw: st.DrawFn) -> Samples:
    n = draw(st.integers(0, 40))
    steps = draw(st.lists(st.floats(0, 120), min_size=n, max_size=n))
    t = np.cumsum(np.array([0.0, *steps]))
    hr = np.array(draw(st.lists(hr_values, min_size=n + 1, max_size=n + 1)))
    has_distance = draw(st.booleans())
    distance = None
    if has_distance:
        d = st.one_of(st.floats(0, 1e5), st.just(float("nan")))
        distance = np.array(draw(st.lists(d, min_size=n + 1, max_size=n + 1)))
    return Samples(t=t, hr=hr, distance=distance)


@settings(max_examples=300, deadline=None)
@given(any_samples(), st.sampled_from([HRMAX_190, NARROW]))
def test_zone_times_invariants(samples: Samples, model: ZoneModel) -> None:
    times = zone_times(samples, model)
    assert sum(times.seconds) == times.hr_seconds
    span = float(samples.t[-1] - samples.t[0])
    assert times.hr_seconds <= span * (1 + 1e-12)
    assert all(v >= 0 for v in times.seconds)
    assert all(v >= 0 for v in times.distance_m)
    assert times.easy_seconds + times.hard_seconds == pytest.approx(times.hr_seconds)


# --- max HR estimate ------------------------------------------------------------------


def run(peak: float, *, base: float = 150.0, seconds: int = 1800) -> Samples:
    """A 1 Hz run at ``base`` with five sustained minutes at ``peak``."""
    t = np.arange(seconds, dtype=np.float64)
    hr = np.full(seconds, base)
    hr[600:900] = peak
    return Samples(t=t, hr=hr)


def test_estimate_is_the_highest_credible_sustained_peak() -> None:
    runs = [run(p) for p in (170, 178, 180, 182, 185)]
    # Never below what was sustained: the highest peak, 185 (3 above the next one).
    assert estimate_max_hr(runs) == 185.0


def test_a_lone_outlier_peak_needs_a_second_run_to_confirm_it() -> None:
    # A strap locked onto cadence for minutes: 205, 23 bpm above every other run.
    runs = [run(p) for p in (176, 180, 182, 205)]
    assert estimate_max_hr(runs) == 182.0
    assert estimate_max_hr([*runs, run(203)]) == 205.0


def test_age_from_the_watch_is_a_floor_for_the_estimate() -> None:
    peaks = [160.0, 165.0, 168.0]
    assert estimate_from_peaks(peaks) == 168.0
    assert estimate_from_peaks(peaks, age=30) == 187.0  # 208 - 0.7 * 30
    assert estimate_from_peaks([190.0, 192.0, 191.0], age=30) == 192.0


def test_spike_does_not_move_estimate() -> None:
    clean = [run(160, base=140) for _ in range(3)]
    spiky = [run(160, base=140) for _ in range(3)]
    for activity, spike_at in ((spiky[0], 700), (spiky[1], 100)):
        assert activity.hr is not None
        activity.hr[spike_at] = 230.0  # a one-second optical spike
    assert estimate_max_hr(clean) == estimate_max_hr(spiky) == 160.0


def test_dropouts_do_not_move_estimate() -> None:
    runs = [run(170) for _ in range(3)]
    for r in runs:
        assert r.hr is not None
        r.hr[650:670] = np.nan  # strap lost contact
        r.hr[800:805] = 40.0  # optical sensor dropout to a low value
    assert estimate_max_hr(runs) == 170.0


def test_smart_recording_counts() -> None:
    t = np.arange(0, 1800, 6, dtype=np.float64)
    hr = np.where((t >= 600) & (t < 900), 176.0, 150.0)
    assert estimate_max_hr([Samples(t=t, hr=hr)] * 3) == 176.0


def test_sparse_windows_give_no_peak() -> None:
    # One sample every 10 s: a 30 s window never holds 5 samples.
    t = np.arange(0, 1800, 10, dtype=np.float64)
    sparse = Samples(t=t, hr=np.full(len(t), 170.0))
    assert estimate_max_hr([sparse] * 5) is None


def test_too_few_activities() -> None:
    no_hr = Samples(t=np.arange(600, dtype=np.float64))
    assert estimate_max_hr([run(180), run(182), no_hr]) is None
    assert estimate_max_hr([run(180), run(182)], min_activities=2) == 182.0
    assert estimate_max_hr([]) is None


def test_estimate_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        estimate_max_hr([run(180)], window_s=0)
    with pytest.raises(ValueError):
        estimate_max_hr([run(180)], min_activities=0)


def _pandas_peak(samples: Samples, window_s: float) -> float | None:
    """The definition, written with pandas' time-based rolling median (closed right)."""
    import pandas as pd

    assert samples.hr is not None
    t, hr = np.asarray(samples.t), np.asarray(samples.hr)
    ok = np.isfinite(t) & np.isfinite(hr)
    order = np.argsort(t[ok], kind="stable")
    t, hr = t[ok][order], hr[ok][order]
    if len(t) < 5:
        return None
    index = pd.to_timedelta(t, unit="s")
    window = timedelta(seconds=window_s)
    median = pd.Series(hr, index=index).rolling(window, min_periods=5).median().to_numpy()
    first = pd.Series(t, index=index).rolling(window, min_periods=1).min().to_numpy()
    values = median[(t - first >= window_s / 2) & np.isfinite(median)]
    return float(values.max()) if len(values) else None


def test_sustained_peak_is_pandas_rolling_median_without_pandas() -> None:
    """Irregular, unsorted, gappy traces with samples exactly a window apart."""
    rng = np.random.default_rng(15)
    steps = [0.0, 0.25, 0.5, 1.0, 1.0, 1.0, 2.0, 3.0, 7.0, 15.0, 29.999, 30.0, 31.0]
    peaks = 0
    for case in range(300):
        n = int(rng.integers(3, 400))
        t = np.cumsum(rng.choice(steps, size=n)) + rng.random() * 100
        if case % 3 == 0:
            t = np.round(t)
        hr = rng.integers(60, 200, size=n).astype(np.float64)
        hr[rng.random(n) < 0.1] = np.nan
        shuffle = rng.permutation(n) if case % 5 == 0 else np.arange(n)
        samples = Samples(t=t[shuffle], hr=hr[shuffle])
        for window in (30.0, 10.0, 0.5):
            expected = _pandas_peak(samples, window)
            assert sustained_peak(samples, window) == expected, (case, window)
            peaks += expected is not None
    assert peaks > 300  # most cases have a peak: the comparison is not all None
    for hz in (2.5, 4.0, 10.0):  # windows of 75 samples and more: pandas computes them
        t = np.arange(0.0, 600.0, 1.0 / hz)
        hr = np.round(150 + 20 * np.sin(t / 50) + rng.normal(0, 4, len(t)), 1)
        samples = Samples(t=t, hr=hr)
        assert sustained_peak(samples, 30.0) == _pandas_peak(samples, 30.0) is not None
