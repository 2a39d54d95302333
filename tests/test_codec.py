"""The sample codec must be lossless at the precision the store promises."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from heavylegs_sync.codec import CodecError, decode_samples, encode_samples
from heavylegs_sync.model import Samples


def test_round_trip_keeps_values_and_missing_channels() -> None:
    t = np.array([0.0, 1.0, 2.0, 5.0, 12.0])
    hr = np.array([120.0, np.nan, 130.0, 131.0, 150.0])
    samples = Samples(t=t, hr=hr, distance=np.array([0.0, 3.0, 6.5, 15.0, 40.25]))
    back = decode_samples(encode_samples(samples))
    assert back.equals(samples)
    assert back.speed is None and back.cadence is None
    assert np.isnan(back.hr[1])  # type: ignore[index]


def test_one_hz_hour_is_compact() -> None:
    n = 3600
    t = np.arange(n, dtype=float)
    rng = np.random.default_rng(1)
    hr = np.round(140 + rng.normal(0, 3, n))
    blob = encode_samples(Samples(t=t, hr=hr))
    # One SQL row per sample would cost far more; 1 Hz time deltas compress to nothing.
    assert len(blob) < n * 2


def test_rejects_foreign_blob() -> None:
    with pytest.raises(CodecError):
        decode_samples(b"not a sample blob at all")


@given(
    deltas=hnp.arrays(np.int64, st.integers(0, 300), elements=st.integers(0, 10_000)),
    data=st.data(),
)
def test_round_trip_property(deltas: np.ndarray, data: st.DataObject) -> None:
    t = np.cumsum(deltas).astype(float) / 1000.0
    values = data.draw(
        hnp.arrays(
            np.float32,
            len(t),
            elements=st.floats(0, 300, width=32) | st.just(float("nan")),
        )
    ).astype(float)
    samples = Samples(t=t, hr=values)
    assert decode_samples(encode_samples(samples)).equals(samples)
