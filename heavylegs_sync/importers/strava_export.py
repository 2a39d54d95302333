"""Strava's bulk export: the rows of its ``activities.csv`` as activities without samples.

Every row becomes a record of source ``strava`` keyed by the Strava id, so a later API sync
knows the activity, and the matching rule links it to the file the row points to; a row
without a file (a manual activity) is the activity. The header repeats names
(``Elapsed Time``, ``Distance``: the first block in display units, the second in seconds
and metres), changes over the years and is localised: columns are found by name in any
known language, and a file whose required columns are missing is refused naming the
headers nobody knows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from heavylegs_sync.categories import sport_name, strava_category
from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers.common import DecodeOptions, utc_offset_for
from heavylegs_sync.model import Activity, OffsetSource

#: The CSV Strava writes at the root of an export.
CSV_NAME = "activities.csv"

#: Our name for a column -> its header in every language we know (lower case).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("activity id", "aktivitäts-id", "aktivitäts id"),
    "date": ("activity date", "aktivitätsdatum", "datum der aktivität"),
    "name": ("activity name", "aktivitätsname", "name der aktivität"),
    "type": ("activity type", "aktivitätsart", "sportart", "aktivitätstyp"),
    "elapsed": ("elapsed time", "verstrichene zeit", "gesamtzeit"),
    "moving": ("moving time", "bewegungszeit", "zeit in bewegung"),
    "distance": ("distance", "distanz", "entfernung", "strecke"),
    "filename": ("filename", "dateiname"),
    "avg_hr": ("average heart rate", "durchschnittliche herzfrequenz", "ø herzfrequenz"),
    "max_hr": ("max heart rate", "maximale herzfrequenz", "max. herzfrequenz"),
    "relative_effort": ("relative effort", "relative leistung", "relativer aufwand"),
    "perceived_exertion": ("perceived exertion", "gefühlte anstrengung", "empfundene anstrengung"),
    "weight_lifted": (
        "total weight lifted",
        "gesamtes gehobenes gewicht",
        "insgesamt gehobenes gewicht",
        "gehobenes gesamtgewicht",
        "insgesamt gestemmtes gewicht",
    ),
}
#: German display names of Strava types, as the API spells them (English display names
#: such as "Weight Training" are the API's with spaces; categories.py reads both).
_GERMAN_TYPES = {
    "lauf": "Run",
    "trailrun": "TrailRun",
    "virtueller lauf": "VirtualRun",
    "krafttraining": "WeightTraining",
    "radfahrt": "Ride",
    "virtuelle radfahrt": "VirtualRide",
    "e-bike-fahrt": "EBikeRide",
    "spaziergang": "Walk",
    "wanderung": "Hike",
    "schwimmen": "Swim",
    "rudern": "Rowing",
    "ellipsentrainer": "Elliptical",
    "treppensteigen": "StairStepper",
    "skilanglauf": "NordicSki",
    "ski alpin": "AlpineSki",
    "yoga": "Yoga",
    "pilates": "Pilates",
    "hiit": "HighIntensityIntervalTraining",
    "training": "Workout",
}
_BY_HEADER = {header: key for key, headers in _COLUMNS.items() for header in headers}
_REQUIRED = ("id", "date", "type", "elapsed", "filename")
_GERMAN = {name for key, names in _COLUMNS.items() for name in names[1:]}

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "mär": 3, "mrz": 3, "apr": 4, "may": 5, "mai": 5,
    "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "okt": 10, "nov": 11, "dec": 12,
    "dez": 12,
}  # fmt: skip
_ENGLISH_DATE = re.compile(
    r"(?P<mon>[A-Za-z]{3})[a-z]*\.? (?P<day>\d{1,2}), (?P<year>\d{4}),? "
    r"(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2}) ?(?P<ampm>[AaPp][Mm])?"
)
_GERMAN_DATE = re.compile(
    r"(?P<day>\d{1,2})\. ?(?:(?P<num>\d{1,2})\.|(?P<mon>[A-Za-zä]{3})[a-zä]*\.?) ?"
    r"(?P<year>\d{4}),? (?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?"
)


def is_export_csv(path: Path | str) -> bool:
    """Whether the name is that of a Strava export's activity list."""
    return Path(path).name == CSV_NAME


def parse_activities_csv(
    label: Path, data: bytes, options: DecodeOptions
) -> tuple[list[Activity], list[str]]:
    """Every row of a Strava ``activities.csv`` as an activity, and one warning per row
    that could not be read (the rest of the file still counts).

    At most ``options.max_export_rows`` rows are read, and a warning says so: a small
    file of many short rows must not turn into hundreds of thousands of activities.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(label, f"not a UTF-8 text file ({exc.reason})") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailed(label, "empty file (no header)") from None
    except csv.Error as exc:
        raise ImportFailed(label, f"not a readable CSV file ({exc})") from exc
    columns, german = _columns(label, header)
    activities: list[Activity] = []
    warnings: list[str] = []
    number = 1
    while True:
        number += 1
        try:
            row: list[str] | None = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # one row (a field past csv's size limit, say)
            row, problem = None, f"row {number} left out: not readable as CSV ({exc})"
        if number - 1 > options.max_export_rows:
            warnings.append(
                f"only the first {options.max_export_rows:,} rows were read (setting [import]"
                f" max_export_rows); row {number} and the rest were left out"
            )
            break
        if row is None:
            warnings.append(problem)
            continue
        if not any(cell.strip() for cell in row):
            continue
        try:
            activities.append(_activity(row, columns, german, options))
        except ValueError as exc:
            warnings.append(f"row {number} left out: {exc}")
    return activities, warnings


def _columns(label: Path, header: Sequence[str]) -> tuple[dict[str, list[int]], bool]:
    """Column indexes by our name (every occurrence, in order), and whether German."""
    columns: dict[str, list[int]] = {}
    unknown: list[str] = []
    german = False
    for index, cell in enumerate(header):
        name = cell.strip().lower()
        key = _BY_HEADER.get(name)
        if key is None:
            unknown.append(cell.strip())
            continue
        german = german or name in _GERMAN
        columns.setdefault(key, []).append(index)
    missing = [key for key in _REQUIRED if key not in columns]
    if missing:
        shown = ", ".join(repr(u) for u in unknown[:3]) or "none"
        raise ImportFailed(
            label,
            f"unknown Strava export header (columns {', '.join(missing)} not found; "
            f"unknown headers {shown}; English and German exports are read)",
        )
    return columns, german


def _activity(
    row: Sequence[str], columns: dict[str, list[int]], german: bool, options: DecodeOptions
) -> Activity:
    def cell(key: str, occurrence: int = 0) -> str:
        indexes = columns.get(key, [])
        if occurrence >= len(indexes) or indexes[occurrence] >= len(row):
            return ""
        return row[indexes[occurrence]].strip()

    def number(key: str, occurrence: int = 0) -> float | None:
        return _number(cell(key, occurrence), german)

    strava_id = cell("id")
    if not strava_id.isdigit():
        raise ValueError(f"activity id {strava_id!r} is not a number")
    start = _date(cell("date"))
    shown_type = cell("type")
    sport = (_GERMAN_TYPES.get(shown_type.lower(), shown_type) if german else shown_type) or None
    # The second "Elapsed Time"/"Distance" are seconds and metres; the first, the only
    # one in older exports, are seconds and kilometres.
    elapsed = number("elapsed", 1) or number("elapsed")
    metres = number("distance", 1)
    if metres is None:
        km = number("distance")
        metres = None if km is None else km * 1000.0
    lifted = number("weight_lifted")
    return Activity(
        source="strava",
        source_id=strava_id,
        category=strava_category(sport),
        start_utc=start,
        utc_offset_s=utc_offset_for(start, options.zone),
        offset_source=OffsetSource.TIMEZONE,
        sport=sport_name(sport),
        sport_raw=sport,
        timer_s=_positive(number("moving")),
        elapsed_s=_positive(elapsed),
        distance_m=_positive(metres),
        avg_hr=_positive(number("avg_hr")),
        max_hr=_positive(number("max_hr", 1) or number("max_hr")),
        name=cell("name") or None,
        perceived_exertion=_positive(number("perceived_exertion")),
        relative_effort=_positive(number("relative_effort", 1) or number("relative_effort")),
        weight_lifted_kg=_positive(lifted),
    )


def _date(text: str) -> datetime:
    """Strava's UTC dates: ``Jan 19, 2026, 11:30:00 PM``, ``19.01.2026, 23:30:00``,
    ``19. Jan. 2026, 23:30:00`` or ISO."""
    match = _ENGLISH_DATE.fullmatch(text)
    if match is not None:
        hour = int(match["h"])
        if match["ampm"]:
            hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
        return _utc(match["year"], _month(match["mon"]), match["day"], hour, match, text)
    match = _GERMAN_DATE.fullmatch(text)
    if match is not None:
        month = int(match["num"]) if match["num"] else _month(match["mon"])
        return _utc(match["year"], month, match["day"], int(match["h"]), match, text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"unreadable date {text!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _month(name: str) -> int:
    month = _MONTHS.get(name[:3].lower())
    if month is None:
        raise ValueError(f"unknown month {name!r}")
    return month


def _utc(year: str, month: int, day: str, hour: int, match: re.Match[str], text: str) -> datetime:
    try:
        return datetime(
            int(year), month, int(day), hour, int(match["m"]), int(match["s"] or 0), tzinfo=UTC
        )
    except ValueError:
        raise ValueError(f"impossible date {text!r}") from None


def _number(text: str, german: bool) -> float | None:
    """``10.52``, ``1,234.5``, German ``10,52`` and ``1.234,5``; None when empty."""
    text = text.replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", ".") if german else text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def _positive(value: float | None) -> float | None:
    return value if value is not None and value > 0 else None
