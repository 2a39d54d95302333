"""One mapping decides what a day of training means."""

from __future__ import annotations

import pytest

from heavylegs_sync.categories import fit_category, gpx_category, strava_category
from heavylegs_sync.model import Category


@pytest.mark.parametrize(
    ("sport", "sub_sport", "expected"),
    [
        ("running", "generic", Category.RUN),
        ("running", "treadmill", Category.RUN),
        ("running", "trail", Category.RUN),
        ("training", "strength_training", Category.STRENGTH),
        ("training", "yoga", Category.LIGHT),
        ("training", "flexibility_training", Category.LIGHT),
        ("training", "cardio_training", Category.OTHER),
        ("walking", "generic", Category.LIGHT),
        ("cycling", "virtual_activity", Category.CROSS),
        ("cycling", "indoor_cycling", Category.CROSS),
        ("fitness_equipment", "elliptical", Category.CROSS),
        ("swimming", "lap_swimming", Category.CROSS),
        ("hiking", None, Category.CROSS),
        ("generic", None, Category.OTHER),
        (None, None, Category.OTHER),
        ("62", None, Category.OTHER),  # a sport number fitparse's profile does not name
    ],
)
def test_fit(sport: str | None, sub_sport: str | None, expected: Category) -> None:
    assert fit_category(sport, sub_sport) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Run", Category.RUN),
        ("TrailRun", Category.RUN),
        ("VirtualRun", Category.RUN),
        ("WeightTraining", Category.STRENGTH),
        ("Crossfit", Category.STRENGTH),
        ("Yoga", Category.LIGHT),
        ("Pilates", Category.LIGHT),
        ("Walk", Category.LIGHT),
        ("Ride", Category.CROSS),
        ("Swim", Category.CROSS),
        ("Workout", Category.OTHER),
        ("HighIntensityIntervalTraining", Category.OTHER),
        ("SomethingNew", Category.OTHER),
    ],
)
def test_strava(raw: str, expected: Category) -> None:
    assert strava_category(raw) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("running", ("running", Category.RUN)),
        ("9", ("Run", Category.RUN)),
        ("1", ("Ride", Category.CROSS)),
        ("10", ("Walk", Category.LIGHT)),
        ("Trail Running", ("Trail Running", Category.RUN)),
        ("run", ("run", Category.RUN)),
        ("cycling", ("cycling", Category.CROSS)),
        ("example type", None),
        ("", None),
        (None, None),
    ],
)
def test_gpx(text: str | None, expected: tuple[str, Category] | None) -> None:
    assert gpx_category(text) == expected
