"""A broken or hostile Strava server (issue 25, items 6-12 and 16), each attack reproduced
with the real HTTP server on 127.0.0.1: one line, the exit status, nothing stored lost.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from heavylegs_sync.config import Settings, load_settings
from heavylegs_sync.model import Activity
from heavylegs_sync.store import Store
from heavylegs_sync.strava.checks import MAX_OFFSET_S, Refused, check_summary
from heavylegs_sync.strava.oauth import connect
from heavylegs_sync.strava.sync import SyncResult, sync_store
from heavylegs_sync.strava.transport import MAX_JSON_DEPTH, json_depth
from tests.conftest import SAMPLE, heavylegs_cli
from tests.strava_server import FakeActivity, FakeStrava, make_history

START = datetime(2026, 9, 1, 5, 0, tzinfo=UTC)
OTHER_ATHLETE = 27182818


@pytest.fixture
def fake() -> Iterator[FakeStrava]:
    with FakeStrava(make_history(6, start=START)) as server:
        yield server


def environment(fake: FakeStrava, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "HEAVYLEGS_DB": str(tmp_path / "store.sqlite"),
        "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
        "HEAVYLEGS_STRAVA_API_URL": fake.url,
        "STRAVA_CLIENT_ID": "1234",
        "STRAVA_CLIENT_SECRET": "s3cret",
        "NO_PROXY": "127.0.0.1,localhost",
        **extra,
    }


def settings(fake: FakeStrava, tmp_path: Path, toml: str = "", **extra: str) -> Settings:
    env = environment(fake, tmp_path, **extra)
    if toml:
        path = tmp_path / "settings.toml"
        path.write_text(f'[athlete]\ntimezone = "Europe/Berlin"\n{toml}')
        env["HEAVYLEGS_CONFIG"] = str(path)
    return load_settings(env=env)


class _NoUI:
    def show(self, text: str) -> None:
        raise AssertionError(text)

    def ask(self, text: str) -> str:
        raise AssertionError(text)

    def open_browser(self, url: str) -> None:
        raise AssertionError(url)


def connected(fake: FakeStrava, tmp_path: Path) -> Path:
    """Connect as the fake's athlete; the token file."""
    connect(settings(fake, tmp_path), _NoUI(), code=fake.issue_code())
    return tmp_path / "strava-token.json"


def synced(fake: FakeStrava, tmp_path: Path, toml: str = "") -> SyncResult:
    result = sync_store(settings(fake, tmp_path, toml))
    assert "\n" not in result.line()
    return result


def cli(fake: FakeStrava, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return heavylegs_cli(*args, env=environment(fake, tmp_path), timeout=120)


def stored(tmp_path: Path) -> dict[str, Activity]:
    with Store.open(tmp_path / "store.sqlite") as store:
        return {a.source_id: a for a in store.activities()}


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.lower().startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def with_raw(fake: FakeStrava, index: int, **raw: object) -> int:
    """Make one listed activity carry ``raw`` values; its id."""
    fake.activities[index] = replace(fake.activities[index], raw=raw)
    return fake.activities[index].id


# -- item 6: utc_offset Infinity ---------------------------------------------------------------


def test_infinite_utc_offset_is_refused_once_and_the_rest_is_stored(
    fake: FakeStrava, tmp_path: Path
) -> None:
    connected(fake, tmp_path)
    assert synced(fake, tmp_path).stored == 6
    fake.activities.extend(make_history(3, start=START + timedelta(days=20), first_id=700))
    bad = with_raw(fake, 7, utc_offset=float("inf"), start_date_local=None)

    result = cli(fake, tmp_path, "strava", "sync")

    line = one_error_line(result)
    assert f"1 refused as impossible (activity {bad}: utc_offset Infinity is not a number" in line
    assert "2 new activities" in line and "0 waiting" in line
    ids = stored(tmp_path)
    assert len(ids) == 8 and str(bad) not in ids  # the six before are all kept
    again = cli(fake, tmp_path, "strava", "sync")  # not queued again, no crash
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert fake.count(f"/api/v3/activities/{bad}/streams") == 0


def test_an_entry_queued_before_the_checks_is_refused_not_kept(
    fake: FakeStrava, tmp_path: Path
) -> None:
    """A store whose queue already holds the Infinity entry (as issue 25 found it)."""
    connected(fake, tmp_path)
    summary = fake.activities[0].summary(31415926)
    summary.update(utc_offset=float("inf"), start_date_local=None)
    with Store.open(tmp_path / "store.sqlite") as store:
        store.queue_strava([(fake.activities[0].id, START, json.dumps(summary))], "0")
    result = synced(fake, tmp_path)
    assert result.refused == 1 and result.stored == 5 and result.remaining == 0
    assert "utc_offset Infinity" in (result.refused_reason or "")


# -- item 7: local time a day away ---------------------------------------------------------------


def test_local_time_far_from_utc_falls_back_to_the_offset_or_is_refused(
    fake: FakeStrava, tmp_path: Path
) -> None:
    connected(fake, tmp_path)
    noted = with_raw(fake, 1, start_date_local="2026-09-04T07:00:00Z")  # a day and more off
    bad = with_raw(fake, 2, start_date_local="2026-09-06T07:00:00Z", utc_offset=86400.0)

    result = synced(fake, tmp_path)

    assert (result.stored, result.refused, result.remaining) == (5, 1, 0)
    assert f"activity {bad}: no usable local time" in (result.refused_reason or "")
    kept = stored(tmp_path)[str(noted)]
    assert kept.utc_offset_s == 7200  # from utc_offset (Berlin, summer)
    assert any("local time from utc_offset" in n for n in kept.notes)
    for command in (("activities",), ("report",), ("today",)):  # nothing crashes after
        shown = cli(fake, tmp_path, *command)
        assert "Traceback" not in shown.stderr and shown.returncode in (0, 2), shown.stderr


def test_check_summary_bounds_the_local_offset() -> None:
    base = {"id": 1, "start_date": "2026-09-01T05:00:00Z"}
    assert check_summary({**base, "start_date_local": "2026-09-01T19:00:00Z"}).utc_offset_s == (
        MAX_OFFSET_S
    )
    with pytest.raises(Refused, match="more than 14 h"):
        check_summary({**base, "start_date_local": "2026-09-01T19:15:00Z"})
    with pytest.raises(Refused, match="not a date"):
        check_summary({**base, "start_date": 12})
    assert check_summary(base).notes == ("no local time given: taken as UTC",)


# -- item 12: numbers as strings, NaN, negative values ----------------------------------------


def test_unusable_numbers_are_dropped_with_a_note(fake: FakeStrava, tmp_path: Path) -> None:
    connected(fake, tmp_path)
    strings = with_raw(fake, 0, distance="5000", moving_time="1800")
    nan = with_raw(fake, 1, average_heartrate=float("nan"), max_heartrate=float("inf"))
    negative = with_raw(fake, 2, elapsed_time=-60, distance=-1.0)
    long_name = with_raw(fake, 3, name="x" * 1_000_000, description="y" * 1_000_000)

    result = synced(fake, tmp_path)

    assert result.stored == 6 and result.amended == 4 and not result.failure
    assert "4 stored with unusable Strava values dropped or cut" in result.line()
    kept = stored(tmp_path)
    notes = {key: kept[str(key)].notes for key in (strings, nan, negative, long_name)}
    assert notes[strings] == (
        "distance '5000' dropped (a str, not a number)",
        "moving_time '1800' dropped (a str, not a number)",
    )
    assert kept[str(strings)].distance_m is None
    assert "average_heartrate NaN dropped (not a number)" in notes[nan]
    assert "max_heartrate Infinity dropped (not finite)" in notes[nan]
    assert kept[str(nan)].avg_hr is not None  # from the heart-rate stream instead
    assert "elapsed_time -60 dropped (negative)" in notes[negative]
    assert "name cut to 500 characters (it had 1,000,000)" in notes[long_name]
    assert len(kept[str(long_name)].name or "") == 500
    with closing(sqlite3.connect(tmp_path / "store.sqlite")) as db:  # the kept JSON is bounded
        (raw,) = db.execute(
            "SELECT j.raw_json FROM activities a JOIN strava_json j ON j.activity_id = a.id"
            " WHERE a.source_id = ?",
            (str(long_name),),
        ).fetchone()
    assert len(raw) < 20_000 and "description cut to 5000" in raw


# -- item 8: rate-limit headers that say "0 used", a list that never ends -----------------------


def test_a_run_ends_when_its_budget_is_spent_whatever_the_headers_say(
    fake: FakeStrava, tmp_path: Path
) -> None:
    connected(fake, tmp_path)
    assert synced(fake, tmp_path).stored == 6
    fake.usage_override = "0,0"
    fake.endless_list = True
    began = time.monotonic()

    result = synced(fake, tmp_path, "[strava]\nmax_requests = 40\n")

    assert time.monotonic() - began < 30
    assert result.requests == 40 and not result.failure
    assert (
        result.paused == "this run's budget of 40 requests is spent (setting [strava] max_requests)"
    )
    assert "the next run continues" in result.line()
    assert len(stored(tmp_path)) == 6
    minutes = synced(fake, tmp_path, "[strava]\nmax_run_minutes = 0.02\n")  # 1.2 s
    assert minutes.paused is not None and "time budget of 0.02 minutes" in minutes.paused
    assert time.monotonic() - began < 60


# -- item 9: one byte every few seconds --------------------------------------------------------


def test_a_dribbling_answer_ends_at_the_timeout_and_frees_the_lock(
    fake: FakeStrava, tmp_path: Path
) -> None:
    from filelock import FileLock

    connected(fake, tmp_path)
    fake.dribble_next(0.5, count=2, path_prefix="/api/v3/athlete/activities")
    began = time.monotonic()

    result = synced(fake, tmp_path, "[strava]\ntimeout_s = 2\nmax_retries = 1\n")

    took = time.monotonic() - began
    assert took < 10, f"{took:.1f} s"  # two tries of 2 s, with a backoff of 2 s
    assert result.failure and result.paused is not None
    assert "did not answer after 2 tries (Timeout)" in result.paused
    lock = FileLock(str(tmp_path / "store.sqlite") + ".strava.lock")
    lock.acquire(timeout=0)  # released
    lock.release()
    assert synced(fake, tmp_path).stored == 6


# -- item 10: a redirect to another host from the token endpoint -------------------------------


def test_a_token_redirect_is_not_followed(fake: FakeStrava, tmp_path: Path) -> None:
    token_file = connected(fake, tmp_path)
    assert synced(fake, tmp_path).stored == 6
    saved = token_file.read_text()
    with FakeStrava() as elsewhere:
        fake.expire_tokens()
        fake.fail_next(
            307,
            path_prefix="/oauth/token",
            headers={"Location": f"{elsewhere.url}/oauth/token"},
        )
        result = cli(fake, tmp_path, "strava", "sync")
        assert elsewhere.requests == []  # neither the secret nor the refresh token went there
    line = one_error_line(result)
    assert "answered 307 with a redirect to" in line and "not followed" in line
    assert token_file.read_text() == saved
    assert len(stored(tmp_path)) == 6


# -- item 11: another athlete's token ----------------------------------------------------------


def test_a_refresh_for_another_athlete_is_refused(fake: FakeStrava, tmp_path: Path) -> None:
    token_file = connected(fake, tmp_path)
    saved = token_file.read_text()
    fake.expire_tokens()
    fake.refresh_athlete = {"id": OTHER_ATHLETE}

    result = cli(fake, tmp_path, "strava", "sync")

    line = one_error_line(result)
    assert f"a token for athlete {OTHER_ATHLETE}, not the connected athlete 31415926" in line
    assert token_file.read_text() == saved
    assert fake.count("/api/v3/athlete/activities") == 0
    assert stored(tmp_path) == {}


def test_activities_of_another_athlete_are_not_stored(fake: FakeStrava, tmp_path: Path) -> None:
    connected(fake, tmp_path)
    assert synced(fake, tmp_path).stored == 6
    fake.athlete = {**fake.athlete, "id": OTHER_ATHLETE}  # the token now reads someone else
    fake.activities.extend(make_history(2, start=START + timedelta(days=20), first_id=700))
    result = synced(fake, tmp_path)
    assert result.failure and result.paused is not None
    assert f"activities of athlete {OTHER_ATHLETE}, not of the connected athlete" in result.paused
    assert len(stored(tmp_path)) == 6 and result.remaining == 0


# -- item 4, the JSON half: nesting depth --------------------------------------------------------


@pytest.mark.parametrize("where", ["/api/v3/athlete/activities", "/oauth/token"])
def test_deeply_nested_json_is_refused_before_it_is_parsed(
    fake: FakeStrava, tmp_path: Path, where: str
) -> None:
    token_file = connected(fake, tmp_path)
    saved = token_file.read_text()
    if where == "/oauth/token":
        fake.expire_tokens()
    deep = b'{"message": "x", "errors": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    fake.fail_next(200 if where != "/oauth/token" else 400, path_prefix=where, body=deep)

    result = cli(fake, tmp_path, "strava", "sync")

    line = one_error_line(result)
    assert "nests 200001 levels deep (more than 64)" in line, line
    assert token_file.read_text() == saved
    assert "RecursionError" not in result.stderr


def test_json_depth_ignores_brackets_in_strings() -> None:
    assert json_depth(b'{"a": "[[[[", "b": [1, {"c": "\\"]]"}]}') == 3
    assert json_depth(b"[" * (MAX_JSON_DEPTH + 1)) == MAX_JSON_DEPTH + 1


def test_an_answer_larger_than_the_cap_stops_the_run(fake: FakeStrava, tmp_path: Path) -> None:
    connected(fake, tmp_path)
    fake.fail_next(
        200, path_prefix="/api/v3/athlete/activities", body=b"[" + b" " * 2_000_000 + b"]"
    )
    result = synced(fake, tmp_path, "[strava]\nmax_answer_mb = 1\n")
    assert result.failure and result.paused is not None
    assert "the answer is larger than 1 MB" in result.paused
    assert synced(fake, tmp_path).stored == 6


# -- item 16: a token "file" that is not a file --------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_token_file_that_is_not_a_regular_file(
    fake: FakeStrava, tmp_path: Path, kind: str
) -> None:
    token = tmp_path / "token-fifo"
    if kind == "fifo":
        os.mkfifo(token, 0o600)
    else:
        token = Path("/dev/zero")
    env = environment(fake, tmp_path, HEAVYLEGS_STRAVA_TOKEN=str(token))
    began = time.monotonic()
    result = heavylegs_cli("strava", "sync", env=env, timeout=60)
    assert time.monotonic() - began < 30
    line = one_error_line(result)
    shown = "a FIFO" if kind == "fifo" else "a character device"
    assert (
        line == f"Error: {token}: cannot read the Strava token file: not a regular file ({shown})\n"
    )


def test_a_listing_entry_without_a_usable_start_is_refused_alone(
    fake: FakeStrava, tmp_path: Path
) -> None:
    """A listed entry whose start is unusable is refused alone; the sync goes on."""
    connected(fake, tmp_path)
    bad = with_raw(fake, 3, start_date="yesterday")
    result = synced(fake, tmp_path)
    assert (result.stored, result.refused, result.remaining) == (5, 1, 0)
    assert f"activity {bad}: start_date 'yesterday' is not a date" in (result.refused_reason or "")
    assert result.failure and result.paused is None


def test_fake_activity_raw_values_reach_the_summary() -> None:
    activity = FakeActivity(
        id=1, sport_type="Run", start=START, utc_offset_s=0, elapsed_s=60, moving_s=60,
        distance_m=100.0, raw={"distance": "100"},
    )  # fmt: skip
    assert activity.summary(1)["distance"] == "100"


def test_a_start_in_the_year_9999_does_not_move_the_cursor(
    fake: FakeStrava, tmp_path: Path
) -> None:
    connected(fake, tmp_path)
    far = with_raw(fake, 5, start_date="9999-01-01T05:00:00Z", start_date_local=None)
    first = synced(fake, tmp_path)
    assert (first.stored, first.refused) == (5, 1)
    assert f"activity {far}: implausible start 9999-01-01 05:00 UTC" in (first.refused_reason or "")
    fake.activities.extend(make_history(2, start=START + timedelta(days=20), first_id=700))
    assert synced(fake, tmp_path).stored == 2  # still listed after it


def test_an_id_past_sqlite_integers_stops_the_run_with_one_line(
    fake: FakeStrava, tmp_path: Path
) -> None:
    connected(fake, tmp_path)
    fake.activities[0] = replace(fake.activities[0], id=2**70)
    result = synced(fake, tmp_path)
    assert result.failure and result.paused is not None
    assert "without a usable id" in result.paused


def test_check_summary_takes_any_json_value_without_crashing() -> None:
    """Property: whatever the values, a checked summary or Refused, never another error."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    values = st.recursive(
        st.none() | st.booleans() | st.integers(min_value=-(10**400), max_value=10**400)
        | st.floats() | st.text(max_size=30),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=10,
    )  # fmt: skip
    keys = st.sampled_from(
        ["start_date", "start_date_local", "utc_offset", "distance", "moving_time", "name",
         "elapsed_time", "average_heartrate", "manual", "sport_type", "description"]
    )  # fmt: skip
    dates = st.datetimes(timezones=st.just(UTC)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))

    @settings(max_examples=300, deadline=None)
    @given(st.dictionaries(keys, values | dates, max_size=8))
    def check(summary: dict[str, object]) -> None:
        try:
            checked = check_summary({"id": 1, **summary}, START)
        except Refused:
            return
        assert abs(checked.utc_offset_s) <= MAX_OFFSET_S
        json.dumps(checked.summary)

    check()


def test_listing_stops_while_the_queue_is_full(
    fake: FakeStrava, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list that never ends fills the queue to its bound over runs, and no further."""
    from heavylegs_sync.strava import sync as sync_module

    monkeypatch.setattr(sync_module, "MAX_QUEUE", 1000)
    connected(fake, tmp_path)
    fake.endless_list = True
    first = synced(fake, tmp_path, "[strava]\nmax_requests = 30\n")
    assert first.held is not None and first.paused is not None
    assert "1,000 listed activities wait to be fetched (at most 1,000)" in first.line()
    assert first.listed == 1000 and first.stored == 24  # zones, five pages, then fetching
    runs = [synced(fake, tmp_path, "[strava]\nmax_requests = 30\n") for _ in range(3)]
    assert all(r.listed <= 200 and r.stored > 0 for r in runs)
    assert all(r.remaining <= 1000 + 200 for r in runs)  # bounded, run after run
