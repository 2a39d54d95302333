"""The wellness readers on any bytes: records and problem lines, or ImportFailed, nothing else.

Property tests (hypothesis) over the Garmin export reader and the CSV reader: random bytes,
random JSON in the export's shape (any value where a number, a date or a list belongs),
and byte-level mutations of a real-shaped file. Every record they return passes through
the checks the decoding worker applies; no other exception may escape. The random JSON's
long run (300 examples; 50 always run) is ``pytest -m fuzz tests/test_wellness_fuzz.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from _gen_garmin_wellness import members, weeks
from hypothesis import given, settings
from hypothesis import strategies as st

from heavylegs_sync.decoding import Decoded, Failure, decode_job
from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.importers.garmin_wellness import read_garmin_wellness
from heavylegs_sync.importers.wellness_csv import read_wellness_csv
from heavylegs_sync.importers.wellness_read import WellnessRead
from heavylegs_sync.wellness import vet
from tests.conftest import BERLIN

OPTIONS = DecodeOptions(zone=BERLIN)
TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
NAMES = (
    "DI_CONNECT/DI-Connect-Wellness/x_sleepData.json",
    "DI_CONNECT/DI-Connect-Aggregator/UDSFile_1.json",
    "DI_CONNECT/DI-Connect-Wellness/x_healthStatusData.json",
)
#: The export's three wellness files, real-shaped, by name.
SEEDS = [
    (name, data)
    for name, data in sorted(members(weeks(date(2026, 11, 2), 4)).items())
    if name.endswith(("sleepData.json", "healthStatusData.json")) or "UDSFile" in name
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["2026-11-02", "2026-11-02T22:00:00.0", "Nov 2, 2026 1:00:00 AM", "HRV"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
KEYS = [
    "calendarDate", "deepSleepSeconds", "lightSleepSeconds", "remSleepSeconds",
    "awakeSleepSeconds", "sleepTimeSeconds", "sleepStartTimestampGMT", "sleepEndTimestampGMT",
    "sleepWindowConfirmationType", "restingHeartRate", "metrics", "type", "value",
]  # fmt: skip
entries = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)
metric_entries = st.builds(
    lambda day, metrics: {"calendarDate": day, "metrics": metrics},
    values,
    st.lists(st.dictionaries(st.sampled_from(["type", "value"]), values), max_size=4),
)


def survives(read: Any, name: str, data: bytes) -> None:
    """Only ImportFailed may escape; whatever is returned is records and lines."""
    try:
        result = read(Path(name), data, OPTIONS)
    except ImportFailed as exc:
        assert exc.reason
        return
    assert isinstance(result, WellnessRead)
    assert all(isinstance(line, str) and line for line in result.problems)
    for record in result.records:
        vet(record, TODAY)  # the worker's check runs on every record without raising


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from(NAMES))
def test_random_bytes(data: bytes, name: str) -> None:
    survives(read_garmin_wellness, name, data)
    survives(read_wellness_csv, "wellness.csv", data)


def random_json_survives(examples: int) -> None:
    """Random JSON in the export's shape, ``examples`` of them: hypothesis's nested values
    are slow to draw (the reader is not), so the long run is marked ``fuzz``."""

    @settings(max_examples=examples, deadline=None)
    @given(st.lists(entries | metric_entries | values, max_size=6), st.sampled_from(NAMES))
    def check(items: list[Any], name: str) -> None:
        survives(read_garmin_wellness, name, json.dumps(items).encode())

    check()


def test_random_json_in_the_exports_shape() -> None:
    """The quick part of the long run below."""
    random_json_survives(50)


@pytest.mark.fuzz
def test_long_random_json_in_the_exports_shape(request: pytest.FixtureRequest) -> None:
    if "fuzz" not in str(request.config.getoption("markexpr") or ""):
        pytest.skip("the long fuzz run: pytest -m fuzz tests/test_wellness_fuzz.py")
    random_json_survives(300)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(range(len(SEEDS))),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_mutated_real_shaped_files(seed: int, flips: list[tuple[int, int]]) -> None:
    assert len(SEEDS) == 3
    name, seeded = SEEDS[seed]
    data = bytearray(seeded)
    for at, value in flips:
        data[at % len(data)] = value
    survives(read_garmin_wellness, name, bytes(data))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.text(alphabet='0123456789-.,e nai"x\n\r', max_size=12), max_size=5),
        max_size=8,
    )
)
def test_random_csv_rows(rows: list[list[str]]) -> None:
    body = "\n".join(",".join(cells) for cells in rows)
    survives(read_wellness_csv, "w.csv", f"date,sleep_hours,resting_hr,hrv_ms\n{body}".encode())


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(range(3)),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=6),
)
def test_the_workers_whole_job_on_mutants_ends_in_our_words(
    seed: int, flips: list[tuple[int, int]]
) -> None:
    """Read, vet and shape for storing, as the decoding worker does: stored records or a
    failure in our words, never an internal error."""
    name, seeded = SEEDS[seed]
    data = bytearray(seeded)
    for at, value in flips:
        data[at % len(data)] = value
    outcome = decode_job(Path(f"export.zip!{name}"), OPTIONS, NOW, bytes(data))
    if isinstance(outcome, Failure):
        assert "internal error" not in outcome.reason and outcome.reason
    else:
        assert isinstance(outcome, Decoded) and outcome.wellness
        assert all(vet(r, TODAY) is None for r in outcome.wellness)
