"""Bounds and windows that several modules share, each named once, and the test for a reading.

A leaf module (it imports nothing from the package) so importers, zones, analysis, the
store and the settings can all use it without a cycle.
"""

from __future__ import annotations

import math
from typing import Any

#: Heart rates a sensor can report from a person, bpm. Samples outside are sensor errors or
#: FIT sentinels (0, 255) and are dropped on import; kept wide so a real low or high beat
#: survives.
SENSOR_HR_RANGE: tuple[float, float] = (25.0, 250.0)
#: Heart rates accepted as a setting or a zone bound (max HR, resting HR, LTHR, Strava's
#: zones), bpm: a value outside is a typo, not a person.
SETTING_HR_RANGE: tuple[float, float] = (30.0, 250.0)

#: Seconds between two samples beyond which the recording paused (or the sensor dropped
#: out): nothing is carried across such a gap, neither effort nor heart rate. The default
#: of ``[rules] max_gap_s``.
MAX_GAP_S = 30.0
#: Seconds without a sample beyond which a file holds two activities, not one paused: a
#: watch left recording overnight, a GPX with a track per day. Files are split there
#: (records, tracks and segments, laps) and each part is judged on its own.
SPLIT_PAUSE_S = 3 * 3600.0
#: A part of a split file shorter than this (s) is a stub (start pressed by mistake, a
#: few seconds of records before the real recording) and is dropped with a note.
STUB_S = 60.0
#: A device summary (distance, duration) contradicts its samples when the two differ by
#: more than this share of the larger and by more than the floors below; the samples win.
SUMMARY_TOLERANCE = 0.5
SUMMARY_FLOOR_M = 1000.0
SUMMARY_FLOOR_S = 600.0

#: The window (s) of a sustained heart-rate peak: the highest rolling median of HR over it
#: stands for an activity's max HR, which a single spike must not.
PEAK_WINDOW_S = 30.0
#: The derived figure a run's sustained HR peak is kept as (settings do not change it).
PEAK_KIND = f"peak_hr:{PEAK_WINDOW_S:g}"

#: Bytes in a megabyte, as the size settings count them.
BYTES_PER_MB = 1024 * 1024
#: The default cap on a file's size, plain or decompressed (setting ``[import] max_file_mb``):
#: a day-long 1 Hz recording is a few MB as FIT and some 30 MB as GPX.
DEFAULT_MAX_FILE_MB = 100
#: The default cap on everything inflated from one zip archive (``[import] max_archive_mb``):
#: a decade of activity files in a Strava or Garmin export stays well below it.
DEFAULT_MAX_ARCHIVE_MB = 20_000
#: The default cap on the rows of a Strava export's ``activities.csv`` (``[import]
#: max_export_rows``): three activities a day for forty years stay below it.
DEFAULT_MAX_EXPORT_ROWS = 50_000
#: The longest activity name kept, in characters; a longer one is cut, with a note.
MAX_NAME_CHARS = 500


def positive(value: Any) -> float | None:
    """A finite number above zero as float, else None (FIT and Strava use 0 for "unknown")."""
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    ):
        return float(value)
    return None
