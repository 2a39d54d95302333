"""The shared bounds: what each means, and the one test for a positive reading."""

from __future__ import annotations

import math

import pytest

from heavylegs_sync.config import ImportSettings, RuleSettings
from heavylegs_sync.hr.zones import ZoneError, build_zone_model
from heavylegs_sync.limits import (
    DEFAULT_MAX_FILE_MB,
    MAX_GAP_S,
    SENSOR_HR_RANGE,
    SETTING_HR_RANGE,
    positive,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3.0), (0.5, 0.5), (0, None), (-1, None), (True, None), (math.nan, None),
     (math.inf, None), ("5", None), (None, None)],
)  # fmt: skip
def test_positive_reading(value: object, expected: float | None) -> None:
    assert positive(value) == expected


def test_a_sensor_may_read_what_a_setting_may_not_hold() -> None:
    """Samples keep a 25 bpm beat a sensor really reported; a max HR of 25 is a typo."""
    assert SENSOR_HR_RANGE[0] < SETTING_HR_RANGE[0] and SENSOR_HR_RANGE[1] == SETTING_HR_RANGE[1]
    with pytest.raises(ZoneError, match="between 30 and 250 bpm"):
        build_zone_model(
            "hrmax",
            max_hr=SENSOR_HR_RANGE[0],
            resting_hr=None,
            lthr=None,
            bounds=None,
            estimated_max_hr=None,
        )


def test_the_settings_defaults_are_the_named_bounds() -> None:
    assert RuleSettings().max_gap_s == MAX_GAP_S
    assert ImportSettings().max_file_mb == DEFAULT_MAX_FILE_MB
