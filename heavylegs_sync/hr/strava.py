"""The athlete's Strava heart-rate zones: where the store keeps them, and their bounds.

Apart from :mod:`~heavylegs_sync.strava.mapping` so that an analysis reads them without
importing the decoders and numpy that mapping activities needs.
"""

from __future__ import annotations

from typing import Any

from heavylegs_sync.limits import SETTING_HR_RANGE

#: Where the athlete's Strava heart-rate zones are kept in the store's state.
ZONES_KEY = "strava.hr_zones"


def zone_bounds(heart_rate_zones: dict[str, Any]) -> tuple[float, float, float, float] | None:
    """Upper bounds of zones 1-4 from Strava's ``/athlete/zones`` heart-rate part, or None.

    Strava sends five zones ``{"min": a, "max": b}`` with ``max = -1`` for the last.
    """
    zones = heart_rate_zones.get("zones")
    if not isinstance(zones, list) or len(zones) != 5:
        return None
    try:
        bounds = tuple(float(zone["max"]) for zone in zones[:4])
    except (KeyError, TypeError, ValueError):
        return None
    low, high = SETTING_HR_RANGE
    if not all(low <= b <= high for b in bounds) or list(bounds) != sorted(set(bounds)):
        return None
    return bounds[0], bounds[1], bounds[2], bounds[3]
