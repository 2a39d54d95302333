"""The one mapping from recorded sport names onto our categories.

FIT sport/sub-sport names (as fitparse spells them), GPX ``<type>`` strings (Garmin
writes ``running``, Strava writes numeric codes), TCX ``Sport`` attributes and Strava
sport types all land here,
so a rule about what counts as a rest day is decided in one place. ``docs/categories.md``
shows the same tables to users.
"""

from __future__ import annotations

import re

from heavylegs_sync.model import Category

#: FIT sub-sports that decide the category whatever the sport says.
FIT_SUB_SPORT: dict[str, Category] = {
    "strength_training": Category.STRENGTH,
    "yoga": Category.LIGHT,
    "pilates": Category.LIGHT,
    "flexibility_training": Category.LIGHT,
    "breathing": Category.LIGHT,
    "casual_walking": Category.LIGHT,
    "speed_walking": Category.LIGHT,
    "indoor_walking": Category.LIGHT,
    "elliptical": Category.CROSS,
    "stair_climbing": Category.CROSS,
    "indoor_rowing": Category.CROSS,
    "indoor_cycling": Category.CROSS,
    "spin": Category.CROSS,
    "treadmill": Category.RUN,
    "trail": Category.RUN,
    "track": Category.RUN,
    "indoor_running": Category.RUN,
    "virtual_activity": Category.RUN,  # only reached when the sport is running, see below
}

#: FIT sports (and, lower-cased, most GPX/TCX type strings).
FIT_SPORT: dict[str, Category] = {
    "running": Category.RUN,
    "walking": Category.LIGHT,
    "training": Category.OTHER,  # generic gym session; sub-sport decides (above)
    "fitness_equipment": Category.CROSS,
    "cycling": Category.CROSS,
    "e_biking": Category.CROSS,
    "swimming": Category.CROSS,
    "rowing": Category.CROSS,
    "paddling": Category.CROSS,
    "stand_up_paddleboarding": Category.CROSS,
    "kayaking": Category.CROSS,
    "hiking": Category.CROSS,
    "mountaineering": Category.CROSS,
    "cross_country_skiing": Category.CROSS,
    "alpine_skiing": Category.CROSS,
    "snowboarding": Category.CROSS,
    "snowshoeing": Category.CROSS,
    "inline_skating": Category.CROSS,
    "ice_skating": Category.CROSS,
    "rock_climbing": Category.CROSS,
    "floor_climbing": Category.CROSS,
    "multisport": Category.OTHER,
    "generic": Category.OTHER,
    "hiit": Category.OTHER,
    "boxing": Category.OTHER,
    "tennis": Category.OTHER,
    "soccer": Category.OTHER,
    "basketball": Category.OTHER,
    "golf": Category.OTHER,
    "yoga": Category.LIGHT,
    "pilates": Category.LIGHT,
}

#: Strava sport types (``sport_type``/``type``), also found as words in GPX ``<type>``.
STRAVA_TYPE: dict[str, Category] = {
    "Run": Category.RUN,
    "TrailRun": Category.RUN,
    "VirtualRun": Category.RUN,
    "WeightTraining": Category.STRENGTH,
    "Crossfit": Category.STRENGTH,
    "Yoga": Category.LIGHT,
    "Pilates": Category.LIGHT,
    "Walk": Category.LIGHT,
    "Ride": Category.CROSS,
    "VirtualRide": Category.CROSS,
    "EBikeRide": Category.CROSS,
    "EMountainBikeRide": Category.CROSS,
    "GravelRide": Category.CROSS,
    "MountainBikeRide": Category.CROSS,
    "Handcycle": Category.CROSS,
    "Velomobile": Category.CROSS,
    "Swim": Category.CROSS,
    "Rowing": Category.CROSS,
    "VirtualRow": Category.CROSS,
    "Canoeing": Category.CROSS,
    "Kayaking": Category.CROSS,
    "StandUpPaddling": Category.CROSS,
    "Surfing": Category.CROSS,
    "Kitesurf": Category.CROSS,
    "Windsurf": Category.CROSS,
    "Sail": Category.CROSS,
    "Elliptical": Category.CROSS,
    "StairStepper": Category.CROSS,
    "Hike": Category.CROSS,
    "AlpineSki": Category.CROSS,
    "BackcountrySki": Category.CROSS,
    "NordicSki": Category.CROSS,
    "RollerSki": Category.CROSS,
    "Snowboard": Category.CROSS,
    "Snowshoe": Category.CROSS,
    "IceSkate": Category.CROSS,
    "InlineSkate": Category.CROSS,
    "Skateboard": Category.CROSS,
    "RockClimbing": Category.CROSS,
    "Wheelchair": Category.CROSS,
    "Workout": Category.OTHER,
    "HighIntensityIntervalTraining": Category.OTHER,
    "Golf": Category.OTHER,
    "Soccer": Category.OTHER,
    "Tennis": Category.OTHER,
    "Badminton": Category.OTHER,
    "Pickleball": Category.OTHER,
    "Racquetball": Category.OTHER,
    "Squash": Category.OTHER,
    "TableTennis": Category.OTHER,
}

#: Numeric ``<type>`` codes in Strava's GPX export (1 Ride, 4 Hike, 9 Run, 10 Walk ...).
STRAVA_GPX_CODE: dict[str, str] = {
    "1": "Ride",
    "2": "AlpineSki",
    "3": "BackcountrySki",
    "4": "Hike",
    "5": "IceSkate",
    "6": "InlineSkate",
    "7": "NordicSki",
    "8": "RollerSki",
    "9": "Run",
    "10": "Walk",
    "11": "Workout",
    "12": "Snowboard",
    "13": "Snowshoe",
    "16": "Swim",
    "17": "VirtualRide",
    "18": "EBikeRide",
    "22": "Rowing",
    "25": "Crossfit",
    "26": "Elliptical",
    "28": "StairStepper",
    "29": "WeightTraining",
    "30": "Yoga",
}

_STRAVA_LOWER = {name.lower(): category for name, category in STRAVA_TYPE.items()}

#: Free-text words seen in GPX ``<type>`` from various apps.
_GPX_WORDS: dict[str, Category] = {
    "run": Category.RUN,
    "running": Category.RUN,
    "jogging": Category.RUN,
    "trail_running": Category.RUN,
    "street_running": Category.RUN,
    "treadmill_running": Category.RUN,
    "walk": Category.LIGHT,
    "walking": Category.LIGHT,
    "strength": Category.STRENGTH,
    "strength_training": Category.STRENGTH,
    "bike": Category.CROSS,
    "biking": Category.CROSS,
    "ride": Category.CROSS,
    "road_biking": Category.CROSS,
    "mountain_biking": Category.CROSS,
    "hike": Category.CROSS,
    "swim": Category.CROSS,
}


def fit_category(sport: str | None, sub_sport: str | None) -> Category:
    """Category of a FIT session from its sport and sub-sport names."""
    sport_key = _key(sport)
    sub_key = _key(sub_sport)
    if sub_key in FIT_SUB_SPORT:
        by_sub = FIT_SUB_SPORT[sub_key]
        # Sub-sports such as "virtual_activity" or "treadmill" also occur under cycling.
        if by_sub is not Category.RUN or sport_key in ("running", "", "generic"):
            return by_sub
    return FIT_SPORT.get(sport_key, Category.OTHER)


def strava_category(sport_type: str | None) -> Category:
    """Category of a Strava activity from its raw ``sport_type`` string."""
    if not sport_type:
        return Category.OTHER
    # The export writes display names ("Weight Training"), the API "WeightTraining".
    return _STRAVA_LOWER.get(re.sub(r"[\s_-]+", "", sport_type.lower()), Category.OTHER)


def gpx_category(type_text: str | None) -> tuple[str, Category] | None:
    """Sport name and category for a GPX ``<type>``, or ``None`` when it says nothing useful.

    Numeric codes are Strava's; words are matched against FIT sport names, Strava types
    and the common app spellings.
    """
    if type_text is None:
        return None
    text = type_text.strip()
    if not text:
        return None
    if text in STRAVA_GPX_CODE:
        name = STRAVA_GPX_CODE[text]
        return name, STRAVA_TYPE[name]
    key = _key(text)
    if key in _GPX_WORDS:
        return text, _GPX_WORDS[key]
    if key in FIT_SPORT:
        return text, FIT_SPORT[key]
    if key in FIT_SUB_SPORT:
        return text, FIT_SUB_SPORT[key]
    compact = key.replace("_", "")
    if compact in _STRAVA_LOWER:
        return text, _STRAVA_LOWER[compact]
    return None


#: TCX ``<Activity Sport="...">``: the schema allows these three; ``Other`` says nothing.
TCX_SPORT: dict[str, Category | None] = {
    "running": Category.RUN,
    "biking": Category.CROSS,
    "other": None,
}


def tcx_category(sport: str | None) -> tuple[str, Category] | None:
    """Sport name and category for a TCX ``Sport`` attribute, or ``None`` when it says
    nothing useful (``Other``, missing). Values outside the schema (``Walking``, some
    exporters write them) are read like a GPX ``<type>``."""
    key = _key(sport)
    if not key or sport is None:
        return None
    if key in TCX_SPORT:
        category = TCX_SPORT[key]
        return None if category is None else (sport.strip(), category)
    return gpx_category(sport)


def known_sport(name: str) -> bool:
    """Whether a sport name (as a GPX <type> or a setting) maps onto a category."""
    return gpx_category(name) is not None


def _key(name: str | None) -> str:
    """Normalise ``"Trail Running"``, ``"trail-running"`` and ``"trail_running"`` alike."""
    if not name:
        return ""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


# -- one sport vocabulary ---------------------------------------------------------------
#
# Every source spells sports its own way (FIT ``running``, GPX ``run``, Strava ``Run``).
# Each importer keeps that raw value as ``sport_raw`` and files the activity under one
# name from this vocabulary (the store keeps what it is given): FIT's own lower-case
# sport names, made specific where FIT hides the activity in its sub-sport
# (``training``/``strength_training`` is ``strength_training``). Variants (trail,
# treadmill, virtual, e-bike ...) stay in the raw value and the sub-sport.

#: FIT sub-sports that name the activity better than the sport does.
_SUB_SPORT_NAME: dict[str, str] = {
    "strength_training": "strength_training",
    "yoga": "yoga",
    "pilates": "pilates",
    "flexibility_training": "flexibility_training",
    "breathing": "breathing",
    "casual_walking": "walking",
    "speed_walking": "walking",
    "indoor_walking": "walking",
    "elliptical": "elliptical",
    "stair_climbing": "stair_climbing",
    "indoor_rowing": "rowing",
    "indoor_cycling": "cycling",
    "spin": "cycling",
    "treadmill": "running",
    "trail": "running",
    "track": "running",
    "indoor_running": "running",
    "virtual_activity": "running",
}

#: Strava sport types onto the vocabulary.
STRAVA_SPORT: dict[str, str] = {
    "Run": "running",
    "TrailRun": "running",
    "VirtualRun": "running",
    "WeightTraining": "strength_training",
    "Crossfit": "crossfit",
    "Yoga": "yoga",
    "Pilates": "pilates",
    "Walk": "walking",
    "Ride": "cycling",
    "VirtualRide": "cycling",
    "GravelRide": "cycling",
    "MountainBikeRide": "cycling",
    "EBikeRide": "e_biking",
    "EMountainBikeRide": "e_biking",
    "Handcycle": "handcycling",
    "Velomobile": "velomobile",
    "Swim": "swimming",
    "Rowing": "rowing",
    "VirtualRow": "rowing",
    "Canoeing": "paddling",
    "Kayaking": "kayaking",
    "StandUpPaddling": "stand_up_paddleboarding",
    "Surfing": "surfing",
    "Kitesurf": "kitesurfing",
    "Windsurf": "windsurfing",
    "Sail": "sailing",
    "Elliptical": "elliptical",
    "StairStepper": "stair_climbing",
    "Hike": "hiking",
    "AlpineSki": "alpine_skiing",
    "BackcountrySki": "backcountry_skiing",
    "NordicSki": "cross_country_skiing",
    "RollerSki": "roller_skiing",
    "Snowboard": "snowboarding",
    "Snowshoe": "snowshoeing",
    "IceSkate": "ice_skating",
    "InlineSkate": "inline_skating",
    "Skateboard": "skateboarding",
    "RockClimbing": "rock_climbing",
    "Wheelchair": "wheelchair",
    "Workout": "training",
    "HighIntensityIntervalTraining": "hiit",
    "Golf": "golf",
    "Soccer": "soccer",
    "Tennis": "tennis",
    "Badminton": "badminton",
    "Pickleball": "pickleball",
    "Racquetball": "racquetball",
    "Squash": "squash",
    "TableTennis": "table_tennis",
}

#: App spellings of GPX ``<type>`` onto the vocabulary (FIT sport names map to themselves).
_WORD_SPORT: dict[str, str] = {
    "run": "running",
    "jogging": "running",
    "trail_running": "running",
    "street_running": "running",
    "treadmill_running": "running",
    "walk": "walking",
    "strength": "strength_training",
    "strength_training": "strength_training",
    "bike": "cycling",
    "biking": "cycling",
    "ride": "cycling",
    "road_biking": "cycling",
    "mountain_biking": "cycling",
    "hike": "hiking",
    "swim": "swimming",
}

_STRAVA_SPORT_LOWER = {name.lower(): sport for name, sport in STRAVA_SPORT.items()}


def sport_name(raw_sport: str | None, sub_sport: str | None = None) -> str | None:
    """The vocabulary's name for a sport as any source recorded it (None when unknown).

    Idempotent, so a name already in the vocabulary maps to itself. A raw value no table
    knows is kept, in lower case with underscores (``SomethingNew`` -> ``something_new``).
    """
    sport_key = _key(raw_sport)
    sub_key = _key(sub_sport)
    if sub_key in _SUB_SPORT_NAME:
        named = _SUB_SPORT_NAME[sub_key]
        # As in fit_category: running sub-sports also occur under cycling.
        if named != "running" or sport_key in ("running", "", "generic"):
            return named
    if not sport_key:
        return None
    if sport_key in _WORD_SPORT:
        return _WORD_SPORT[sport_key]
    if sport_key in FIT_SPORT or sport_key in _SUB_SPORT_NAME:
        return _SUB_SPORT_NAME.get(sport_key, sport_key)
    compact = sport_key.replace("_", "")
    if compact in _STRAVA_SPORT_LOWER:
        return _STRAVA_SPORT_LOWER[compact]
    text = str(raw_sport).strip()
    if text in STRAVA_GPX_CODE:
        return STRAVA_SPORT[STRAVA_GPX_CODE[text]]
    return _key(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text))
