"""The Strava sync against a real HTTP server on 127.0.0.1 that speaks Strava's API.

Scenarios: first and incremental sync, token expiry mid-sync, 429 then resume, 5xx and
timeouts, revoked access, manual activities, one run from FIT and Strava stored once, and a
2,000-activity history completing over several budget-limited runs with exact counts.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from heavylegs_sync.config import StravaSettings
from heavylegs_sync.errors import StravaReconnect
from heavylegs_sync.hr.strava import ZONES_KEY
from heavylegs_sync.model import Category
from heavylegs_sync.store import Store
from heavylegs_sync.strava.client import StravaAPI
from heavylegs_sync.strava.sync import LOOKBACK_S, SyncResult, sync
from heavylegs_sync.strava.tokens import Token, load_token, save_token
from tests.conftest import SAMPLE, heavylegs_cli
from tests.strava_server import FakeActivity, FakeStrava, make_history

START = datetime(2026, 9, 1, 5, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeStrava]:
    with FakeStrava(
        make_history(12, start=START, kinds=("Run", "Run", "WeightTraining"))
    ) as server:
        yield server


def settings_for(fake: FakeStrava, **overrides: object) -> StravaSettings:
    base = StravaSettings(
        client_id="1234", client_secret="s3cret", api_url=fake.url, timeout_s=5.0, per_page=200
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def connected_api(fake: FakeStrava, tmp_path: Path, **overrides: object) -> StravaAPI:
    """An API whose token file holds tokens the fake issued (as after ``connect``)."""
    tokens = fake.issue_tokens()
    path = tmp_path / "token.json"
    save_token(
        path, Token(tokens["access_token"], tokens["refresh_token"], int(tokens["expires_at"]))
    )
    return StravaAPI(settings_for(fake, **overrides), path, sleep=lambda _s: None)


def run_sync(fake: FakeStrava, tmp_path: Path, store: Store, **overrides: object) -> SyncResult:
    path = tmp_path / "token.json"
    api = StravaAPI(settings_for(fake, **overrides), path, sleep=lambda _s: None)
    return sync(api, store, per_page=int(overrides.get("per_page", 200)))  # type: ignore[call-overload]


def stream_fetches(fake: FakeStrava) -> Counter[str]:
    """Successful stream fetches per activity id."""
    return Counter(
        r.path.split("/")[4]
        for r in fake.requests
        if r.path.endswith("/streams") and r.status == 200
    )


def test_first_sync_then_nothing_new(fake: FakeStrava, tmp_path: Path, store: Store) -> None:
    connected_api(fake, tmp_path)
    first = run_sync(fake, tmp_path, store)
    assert first.paused is None and first.stored == 12 and first.remaining == 0
    stored = store.activities(with_samples=True)
    assert len(stored) == 12
    assert Counter(a.category for a in stored) == {Category.RUN: 8, Category.STRENGTH: 4}
    runs = [a for a in stored if a.category is Category.RUN]
    assert all(a.samples is not None and a.samples.hr is not None for a in runs)
    assert store.get_state(ZONES_KEY) is not None
    requests_before = len(fake.requests)
    second = run_sync(fake, tmp_path, store)
    assert second.stored == 0 and second.listed == 0
    # The zones (they may change on Strava) and one listing call, nothing else.
    assert [r.path for r in fake.requests[requests_before:]] == [
        "/api/v3/athlete/zones",
        "/api/v3/athlete/activities",
    ]


def test_incremental_sync_asks_only_for_what_is_new(
    fake: FakeStrava, tmp_path: Path, store: Store
) -> None:
    connected_api(fake, tmp_path)
    run_sync(fake, tmp_path, store)
    newest = max(a.start_epoch for a in fake.activities)
    fake.activities.extend(make_history(2, start=START + timedelta(days=40), first_id=99))
    result = run_sync(fake, tmp_path, store)
    assert result.stored == 2
    listing = [r for r in fake.requests if r.path.endswith("/athlete/activities")][-1]
    # It asks from the newest one known, less a look-back for late uploads: not from 0.
    assert int(listing.query["after"]) >= newest - 1 - LOOKBACK_S
    assert all(n == 1 for n in stream_fetches(fake).values())


def test_late_upload_of_an_older_activity_is_found(
    fake: FakeStrava, tmp_path: Path, store: Store
) -> None:
    connected_api(fake, tmp_path)
    run_sync(fake, tmp_path, store)
    # A watch synced two days late: the run starts before the newest one already listed.
    late = replace(
        fake.activities[-2], id=4242, start=fake.activities[-2].start + timedelta(hours=3)
    )
    fake.activities.append(late)
    result = run_sync(fake, tmp_path, store)
    assert result.stored == 1
    assert {a.source_id for a in store.activities()} >= {"4242"}
    assert sorted(stream_fetches(fake).values()) == [1] * 13


def test_unreachable_strava_at_refresh_is_a_pause_not_a_crash(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "token.json"
    save_token(path, Token("old", "refresh", 1000))  # long expired: login must refresh
    api = StravaAPI(
        StravaSettings(client_id="1", client_secret="s", api_url="http://127.0.0.1:9",
                       timeout_s=1.0, max_retries=0),
        path, sleep=lambda _s: None,
    )  # fmt: skip
    result = sync(api, store)
    assert result.paused is not None and result.failure
    assert load_token(path).refresh_token == "refresh"  # nothing lost


def test_manual_activity_is_stored_without_samples(tmp_path: Path, store: Store) -> None:
    manual = FakeActivity(
        id=5, sport_type="Yoga", start=START, utc_offset_s=7200, elapsed_s=3600, moving_s=3600,
        distance_m=0.0, manual=True, has_heartrate=False, average_heartrate=None,
        max_heartrate=None,
    )  # fmt: skip
    with FakeStrava([manual]) as fake:
        connected_api(fake, tmp_path)
        result = run_sync(fake, tmp_path, store)
        assert fake.count("/api/v3/activities/5/streams") == 0
    assert result.stored == 1
    (activity,) = store.activities(with_samples=True)
    assert activity.category is Category.LIGHT and activity.samples is None
    assert activity.start_local.hour == 7


def test_expired_token_is_refreshed_mid_sync_and_saved(
    fake: FakeStrava, tmp_path: Path, store: Store
) -> None:
    api = connected_api(fake, tmp_path)
    first_refresh = load_token(api.token_path).refresh_token
    fetched = 0

    def expire_after_three(message: str) -> None:
        nonlocal fetched
        if message.startswith("fetched"):
            fetched += 1
            if fetched == 3:
                fake.expire_tokens()

    result = sync(api, store, progress=expire_after_three)
    assert result.stored == 12 and result.paused is None
    saved = load_token(api.token_path)
    assert saved.refresh_token != first_refresh
    assert saved.refresh_token == fake.current_refresh_token
    assert not fake.refresh_token_valid(first_refresh)  # Strava rotated it: ours is the new one
    assert stat.S_IMODE(os.stat(api.token_path).st_mode) == 0o600


def test_token_expiring_by_the_clock_is_refreshed_before_use(
    fake: FakeStrava, tmp_path: Path, store: Store
) -> None:
    api = connected_api(fake, tmp_path)
    before = load_token(api.token_path)
    api.clock = lambda: before.expires_at - 10.0
    sync(api, store)
    assert load_token(api.token_path).access_token != before.access_token
    assert fake.count("/oauth/token") >= 2  # the exchange, then at least one refresh


def test_429_stops_cleanly_and_the_next_run_resumes(
    fake: FakeStrava, tmp_path: Path, store: Store
) -> None:
    connected_api(fake, tmp_path)
    fake.fail_next(429, count=1, path_prefix=f"/api/v3/activities/{fake.activities[5].id}")
    first = run_sync(fake, tmp_path, store)
    assert first.paused is not None and "rate limit" in first.paused and not first.failure
    assert first.stored == 5 and first.remaining == 7
    second = run_sync(fake, tmp_path, store)
    assert second.paused is None and second.stored == 7 and second.remaining == 0
    assert len(store.activities()) == 12
    assert sorted(stream_fetches(fake).values()) == [1] * 12


def test_server_errors_are_retried_then_stop(
    fake: FakeStrava, tmp_path: Path, store: Store
) -> None:
    connected_api(fake, tmp_path)
    fake.fail_next(500, count=2, path_prefix="/api/v3/athlete/activities")
    result = run_sync(fake, tmp_path, store, max_retries=3)
    assert result.paused is None and result.stored == 12  # two retries were enough
    fake.activities.extend(make_history(3, start=START + timedelta(days=60), first_id=500))
    listed_before = fake.count("/api/v3/athlete/activities")
    fake.fail_next(503, count=3, path_prefix="/api/v3/athlete/activities")
    result = run_sync(fake, tmp_path, store, max_retries=2)
    assert result.paused is not None and result.failure
    assert fake.count("/api/v3/athlete/activities") - listed_before == 3  # bounded retries
    result = run_sync(fake, tmp_path, store)
    assert result.stored == 3 and len(store.activities()) == 15


def test_timeouts_are_retried(fake: FakeStrava, tmp_path: Path, store: Store) -> None:
    connected_api(fake, tmp_path)
    fake.delay_next(2.0, count=1, path_prefix="/api/v3/athlete/activities")
    result = run_sync(fake, tmp_path, store, timeout_s=0.5)
    assert result.paused is None and result.stored == 12


def test_revoked_access_asks_to_connect_again(
    fake: FakeStrava, tmp_path: Path, store: Store
) -> None:
    connected_api(fake, tmp_path)
    fake.revoke()
    with pytest.raises(StravaReconnect, match="strava connect"):
        run_sync(fake, tmp_path, store)
    assert store.activities() == []


def test_fit_and_strava_copies_of_one_run_are_stored_once(tmp_path: Path, store: Store) -> None:
    from heavylegs_sync.importers import DecodeOptions
    from heavylegs_sync.ingest import import_paths
    from tests.conftest import BERLIN

    fit = SAMPLE / "2026-09-29-0700-run.fit"
    import_paths(store, [fit], DecodeOptions(zone=BERLIN))
    (fit_activity,) = store.activities()
    assert fit_activity.duration_s is not None
    twin = FakeActivity(
        id=77, sport_type="Run", start=fit_activity.start_utc + timedelta(seconds=20),
        utc_offset_s=7200, elapsed_s=int(fit_activity.duration_s),
        moving_s=int(fit_activity.duration_s) - 30, distance_m=fit_activity.distance_m or 0.0,
    )  # fmt: skip
    with FakeStrava([twin]) as fake:
        connected_api(fake, tmp_path)
        result = run_sync(fake, tmp_path, store)
    assert result.stored == 1 and result.linked == 1
    (only,) = store.activities()
    assert only.id == fit_activity.id and only.sources == ["fit", "strava"]


def test_strava_moving_time_far_below_the_watch_timer_still_matches(
    tmp_path: Path, store: Store
) -> None:
    """Strava's moving time leaves out stops; elapsed time is what both sources share."""
    from heavylegs_sync.importers import DecodeOptions
    from heavylegs_sync.ingest import import_paths
    from tests.conftest import BERLIN

    # The sample athlete's first long run (fixtures/sample-athlete/expected.json).
    planned = json.loads((SAMPLE / "expected.json").read_text())["activities"]
    long_run = next(a for a in planned if a["kind"] == "run" and a["duration_seconds"] >= 75 * 60)
    import_paths(store, [SAMPLE / long_run["file"]], DecodeOptions(zone=BERLIN))
    (fit_activity,) = store.activities()
    assert fit_activity.elapsed_s is not None
    twin = FakeActivity(
        id=78, sport_type="Run", start=fit_activity.start_utc,
        utc_offset_s=long_run["utc_offset_seconds"], elapsed_s=int(fit_activity.elapsed_s),
        moving_s=int(fit_activity.elapsed_s * 0.7), distance_m=fit_activity.distance_m or 0.0,
    )  # fmt: skip
    with FakeStrava([twin]) as fake:
        connected_api(fake, tmp_path)
        run_sync(fake, tmp_path, store)
    assert [a.sources for a in store.activities()] == [["fit", "strava"]]


@pytest.mark.exhaustive  # quick parts: test_strava_hostile's budget, test_strava_squad's turns
def test_two_thousand_activities_over_several_budgeted_runs(tmp_path: Path, store: Store) -> None:
    history = [  # ten-minute runs at their own speed (few stream points to send)
        replace(
            a,
            elapsed_s=600,
            moving_s=600,
            stream_step_s=60,
            distance_m=round(a.distance_m * 600 / a.moving_s, 1),
        )
        for a in make_history(2000, start=START - timedelta(days=2000), every_hours=24)
    ]
    with FakeStrava(history, short_limit=100, daily_limit=400) as fake:
        connected_api(fake, tmp_path)
        runs: list[SyncResult] = []
        for night in range(40):
            result = run_sync(fake, tmp_path, store, reserve=2)
            runs.append(result)
            if result.remaining == 0 and result.paused is None:
                break
            fake.reset_usage(short=True, daily=night % 4 == 3)  # 15 min later; a new day
        statuses = Counter(r.status for r in fake.requests)
    assert runs[-1].paused is None and runs[-1].remaining == 0
    assert len(runs) > 5  # it took several runs ...
    assert statuses[429] == 0  # ... and none of them ran into the limit
    assert sum(r.stored for r in runs) == 2000
    assert len(store.activities()) == 2000
    fetches = stream_fetches(fake)
    assert len(fetches) == 2000 and set(fetches.values()) == {1}  # nothing fetched twice
    assert all(r.requests <= 98 for r in runs)  # 100 per window, 2 kept in reserve


# -- the CLI ---------------------------------------------------------------------------------


def cli(
    fake: FakeStrava, tmp_path: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "HEAVYLEGS_DB": str(tmp_path / "store.sqlite"),
        "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
        "HEAVYLEGS_STRAVA_API_URL": fake.url,
        "STRAVA_CLIENT_ID": "1234",
        "STRAVA_CLIENT_SECRET": "s3cret",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    return heavylegs_cli(*args, env=env, timeout=120, stdin=stdin)


def test_cli_connect_with_code_sync_and_disconnect(fake: FakeStrava, tmp_path: Path) -> None:
    code = fake.issue_code()
    connect = cli(fake, tmp_path, "strava", "connect", "--code", code)
    assert connect.returncode == 0, connect.stderr
    token_file = tmp_path / "strava-token.json"
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert json.loads(token_file.read_text())["refresh_token"] == fake.current_refresh_token
    assert connect.stderr == ""

    synced = cli(fake, tmp_path, "strava", "sync")
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith("strava: 12 new activities")
    assert synced.stderr == ""
    listing = cli(fake, tmp_path, "activities").stdout
    assert listing.count("strava") == 12

    gone = cli(fake, tmp_path, "strava", "disconnect", "--purge")
    assert gone.returncode == 0, gone.stderr
    assert "deleted 12 Strava activities" in gone.stdout
    assert not token_file.exists()
    assert "no activities stored" in cli(fake, tmp_path, "activities").stdout


def test_cli_connect_without_a_terminal_refuses_at_once(fake: FakeStrava, tmp_path: Path) -> None:
    result = cli(fake, tmp_path, "strava", "connect")
    assert result.returncode == 1
    assert "--code" in result.stderr and result.stderr.count("\n") == 1
    assert fake.count("/oauth/token") == 0


def test_cli_revoked_token_is_one_line(fake: FakeStrava, tmp_path: Path) -> None:
    assert cli(fake, tmp_path, "strava", "connect", "--code", fake.issue_code()).returncode == 0
    fake.revoke()
    result = cli(fake, tmp_path, "strava", "sync")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "heavylegs strava connect" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_sync_without_connecting_says_so(fake: FakeStrava, tmp_path: Path) -> None:
    result = cli(fake, tmp_path, "strava", "sync")
    assert result.returncode == 1
    assert "not connected to Strava" in result.stderr


def test_cli_two_syncs_do_not_run_at_once(fake: FakeStrava, tmp_path: Path) -> None:
    from filelock import FileLock

    assert cli(fake, tmp_path, "strava", "connect", "--code", fake.issue_code()).returncode == 0
    with FileLock(str(tmp_path / "store.sqlite") + ".strava.lock"):
        result = cli(fake, tmp_path, "strava", "sync")
    assert result.returncode == 1 and "another 'heavylegs strava sync' is running" in result.stderr


def test_analysis_sees_strava_runs_like_fit_runs(
    fake: FakeStrava, tmp_path: Path, store: Store
) -> None:
    from heavylegs_sync.analysis import analyse
    from heavylegs_sync.config import AthleteSettings, RuleSettings, SeasonSettings, ZoneSettings

    connected_api(fake, tmp_path)
    run_sync(fake, tmp_path, store)
    activities = store.activities(with_samples=True)
    first = min(a.start_local.date() for a in activities)
    last = max(a.start_local.date() for a in activities)
    analysis = analyse(
        activities,
        first=first,
        last=last,
        athlete=AthleteSettings(max_hr=190),
        zones=ZoneSettings(method="hrmax"),
        rules=RuleSettings(),
        season=SeasonSettings(),
    )
    runs = [f for f in analysis.facts if f.category is Category.RUN]
    assert len(runs) == 8
    for run in runs:  # time-weighted zone time covers the whole stream, as for a FIT file
        assert run.zones.hr_seconds == pytest.approx(run.duration_s, rel=0.1)
    assert sum(w.run_seconds for w in analysis.weeks) == sum(r.duration_s for r in runs)


def _impossible_history() -> list[FakeActivity]:
    """Four runs: the second covers 2,000 km in its hour, the third's GPS jumps once."""
    runs = make_history(4, start=START, kinds=("Run",))
    runs[1] = replace(runs[1], distance_m=2_000_000.0)
    runs[2] = replace(runs[2], velocity_spike=30.0)  # 108 km/h for a moment
    return runs


def test_impossible_activities_are_refused_once_and_impossible_values_dropped(
    tmp_path: Path, store: Store
) -> None:
    """Strava activities pass the checks files pass (issue 10's plausibility)."""
    history = _impossible_history()
    bad, glitch = history[1].id, history[2].id
    with FakeStrava(history) as fake:
        connected_api(fake, tmp_path)
        first = run_sync(fake, tmp_path, store)
        assert (first.stored, first.refused, first.trimmed, first.remaining) == (3, 1, 1, 0)
        assert first.failure
        assert f"1 refused as impossible (activity {bad}: implausible distance 2000.0 km" in (
            first.line()
        )
        assert f"1 stored without impossible values (activity {glitch}:" in first.line()
        stored = {a.source_id: a for a in store.activities(with_samples=True)}
        assert str(bad) not in stored and len(stored) == 3
        trimmed = stored[str(glitch)]
        assert "impossible speeds dropped" in trimmed.notes
        assert trimmed.samples is not None and trimmed.samples.speed is not None
        assert np.nanmax(trimmed.samples.speed) < 12.5
        assert stored[str(history[0].id)].notes == ()
        (log,) = [e for e in store.import_log() if e.path == f"strava:{bad}"]
        assert log.outcome == "failed" and log.message and "2000.0 km" in log.message

        again = run_sync(fake, tmp_path, store)  # Strava still lists it, unchanged
        assert (again.stored, again.refused, again.remaining, again.failure) == (0, 0, 0, False)
        assert stream_fetches(fake)[str(bad)] == 1

        fake.activities[1] = replace(history[1], distance_m=10_000.0)  # the athlete fixed it
        fixed = run_sync(fake, tmp_path, store)  # listed again: within the look-back
        assert (fixed.stored, fixed.refused, fixed.failure) == (1, 0, False)
        assert str(bad) in {a.source_id for a in store.activities()}


def test_cli_sync_says_what_it_refused_and_fails(tmp_path: Path) -> None:
    with FakeStrava(_impossible_history()) as fake:
        assert cli(fake, tmp_path, "strava", "connect", "--code", fake.issue_code()).returncode == 0
        synced = cli(fake, tmp_path, "strava", "sync")
        assert synced.returncode == 1
        assert synced.stderr.startswith("error: strava: 3 new activities")
        assert "1 refused as impossible" in synced.stderr and synced.stderr.count("\n") == 1
        assert cli(fake, tmp_path, "strava", "sync").returncode == 0
