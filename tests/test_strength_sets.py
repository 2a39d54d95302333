"""Strength sets' exercise categories, as Garmin writes them (issue 26).

Garmin writes a set's ``category`` as an array: the exercise first, then 65534
("unknown") and other guesses. fitparse leaves enum values inside arrays as numbers, so
the reference decoder once stored ``'21'`` where the fast path stored ``pull_up``, and a
leg day's squats were not leg work whenever fitfast was missing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from _gen_fit import Series, SessionSpec, SetSpec, write_fit

from heavylegs_sync.analysis.facts import leg_sets
from heavylegs_sync.importers import DecodeOptions, Decoder, decode_file
from heavylegs_sync.importers.fit import exercise_category
from heavylegs_sync.model import Activity
from tests.conftest import BERLIN, corpus_dir

DECODERS = [Decoder.FAST, Decoder.REFERENCE]
UNKNOWN = 65534


def _decode(path: Path, decoder: Decoder) -> list[Activity]:
    return decode_file(
        path, path.read_bytes(), DecodeOptions(zone=ZoneInfo("UTC"), decoder=decoder)
    )


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ((28, UNKNOWN, 17), "squat"),  # the exercise comes first
        ([21, UNKNOWN, 7], "pull_up"),
        ((UNKNOWN, 7, 0), "unknown"),  # Garmin's own "unknown": not an exercise
        (45, "sled"),  # newer than fitparse's profile: named from the FIT SDK's
        ("deadlift", "deadlift"),  # already named (the fast path names arrays)
        (4000, "4000"),  # a number no profile knows stays visible
        ((None, 65535), None),  # nothing valid
        (None, None),
    ],
)
def test_exercise_category_names_what_the_profile_knows(value: object, name: str | None) -> None:
    assert exercise_category(value) == name


@pytest.mark.parametrize("decoder", DECODERS)
def test_a_leg_day_written_as_garmin_does_is_leg_work_through_either_decoder(
    tmp_path: Path, decoder: Decoder
) -> None:
    t = list(range(0, 1801, 10))
    sets = (
        SetSpec(0, 60, True, "squat", reps=8, weight=60.0, also=(UNKNOWN, 17)),
        SetSpec(60, 90, False),
        SetSpec(150, 60, True, "lunge", reps=10, also=(28, UNKNOWN)),
        SetSpec(210, 60, True, "deadlift", reps=5, weight=80.0, also=(UNKNOWN, 28)),
        SetSpec(270, 60, True, "bench_press", reps=10, also=(UNKNOWN, 22)),
    )
    spec = SessionSpec(
        "training",
        "strength_training",
        datetime(2026, 10, 20, 16, 30, tzinfo=UTC),
        Series(t=t, hr=[110] * len(t)),
        sets=sets,
    )
    path = tmp_path / "leg-day.fit"
    path.write_bytes(write_fit([spec], BERLIN))

    [activity] = _decode(path, decoder)

    assert activity.decoder == ("fitfast" if decoder is Decoder.FAST else "fitparse")
    assert [s.category for s in activity.sets] == ["squat", "lunge", "deadlift", "bench_press"]
    assert leg_sets(activity.sets) == 3


#: The real strength file whose name lists its sets (rgmf/fit_data_whiz, see MANIFEST.md).
REAL_SETS = (
    "fit/fit_data_whiz/training_4pull_up_3push_up_3curl_3bench_press_1deadlift_1sit_up_5unknown.fit"
)


@pytest.mark.parametrize("decoder", DECODERS)
def test_a_real_garmin_strength_file_names_its_sets_through_either_decoder(
    decoder: Decoder,
) -> None:
    [activity] = _decode(corpus_dir() / REAL_SETS, decoder)

    counts: dict[str | None, int] = {}
    for s in activity.sets:
        counts[s.category] = counts.get(s.category, 0) + 1
    # The file's name says what its sets are.
    assert counts == {
        "pull_up": 4,
        "push_up": 3,
        "curl": 3,
        "bench_press": 3,
        "deadlift": 1,
        "sit_up": 1,
        "unknown": 5,
    }
    assert leg_sets(activity.sets) == 1  # the deadlift; "unknown" is no leg exercise
