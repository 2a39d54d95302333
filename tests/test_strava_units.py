"""Strava pieces that need no server: tokens, budget, mapping, redirect catcher, matching."""

from __future__ import annotations

import json
import os
import stat
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from heavylegs_sync.errors import StravaError, StravaReconnect
from heavylegs_sync.model import Category
from heavylegs_sync.store import Store
from heavylegs_sync.strava.budget import Budget
from heavylegs_sync.strava.mapping import to_activity, utc_offset, zone_bounds
from heavylegs_sync.strava.oauth import RedirectCatcher, code_from_paste
from heavylegs_sync.strava.tokens import Token, load_token, save_token
from tests.test_store import make_activity


def test_token_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "token.json"
    token = Token("a1", "r1", 1_800_000_000, 42, "read")
    save_token(path, token)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_token(path) == token
    save_token(path, Token("a2", "r2", 1_800_000_100))
    assert load_token(path).refresh_token == "r2"
    assert [p.name for p in path.parent.iterdir()] == ["token.json"]


def test_missing_or_corrupt_token_asks_to_connect(tmp_path: Path) -> None:
    with pytest.raises(StravaReconnect, match="connect"):
        load_token(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    bad.chmod(0o600)
    with pytest.raises(StravaReconnect, match="corrupt"):
        load_token(bad)


def test_budget_reads_headers_and_keeps_a_reserve() -> None:
    budget = Budget(reserve=3)
    assert budget.allows()  # nothing known yet: Strava's defaults
    budget.update({"X-ReadRateLimit-Limit": "100,1000", "X-ReadRateLimit-Usage": "96,500"})
    assert budget.allows(1)  # 96 + 1 + 3 = 100
    budget.spend()
    assert not budget.allows(1)
    budget.update({"X-ReadRateLimit-Limit": "100,1000", "X-ReadRateLimit-Usage": "5,997"})
    assert not budget.allows(1)  # the daily window is the one that is full


SUMMARY = {
    "id": 101,
    "name": "Lunch Run",
    "sport_type": "TrailRun",
    "type": "Run",
    "start_date": "2026-10-25T07:30:00Z",
    "start_date_local": "2026-10-25T08:30:00Z",
    "timezone": "(GMT+01:00) Europe/Berlin",
    "utc_offset": 3600.0,
    "moving_time": 3000,
    "elapsed_time": 3100,
    "distance": 9000.0,
    "average_heartrate": 142.0,
    "max_heartrate": 171.0,
    "manual": False,
}


def test_summary_and_streams_map_to_an_activity() -> None:
    n = 3001
    streams = {
        "time": {"data": list(range(n))},
        "heartrate": {"data": [140] * (n - 1) + [255]},
        "distance": {"data": [3.0 * i for i in range(n)]},
        "velocity_smooth": {"data": [3.0] * n},
    }
    activity = to_activity(SUMMARY, streams)
    assert activity.category is Category.RUN and activity.sport == "TrailRun"
    assert activity.start_utc == datetime(2026, 10, 25, 7, 30, tzinfo=UTC)
    assert activity.utc_offset_s == 3600
    assert activity.start_local.hour == 8
    assert (activity.timer_s, activity.elapsed_s, activity.distance_m) == (3000, 3100, 9000)
    assert activity.samples is not None and activity.samples.hr is not None
    assert np.isnan(activity.samples.hr[-1])  # 255 is no heart rate
    assert activity.samples.cadence is None


def test_unknown_sport_type_is_kept_raw() -> None:
    activity = to_activity({**SUMMARY, "sport_type": "Padel", "type": "Workout"}, None)
    assert activity.sport == "Padel" and activity.category is Category.OTHER
    assert activity.samples is None


def test_offset_from_local_start_across_dst() -> None:
    summer = {
        **SUMMARY,
        "start_date": "2026-10-24T06:00:00Z",
        "start_date_local": "2026-10-24T08:00:00Z",
    }
    assert utc_offset(summer) == 7200
    assert utc_offset(SUMMARY) == 3600


def test_strava_zone_bounds() -> None:
    zones = {"zones": [{"min": 0, "max": 123}, {"min": 123, "max": 153}, {"min": 153, "max": 169},
                       {"min": 169, "max": 184}, {"min": 184, "max": -1}]}  # fmt: skip
    assert zone_bounds(zones) == (123, 153, 169, 184)
    assert zone_bounds({"zones": []}) is None


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_redirect_catcher_checks_state() -> None:
    catcher = RedirectCatcher("expected-state")
    result: dict[str, str] = {}
    waiter = threading.Thread(target=lambda: result.update(code=catcher.wait(10)))
    waiter.start()
    base = catcher.redirect_uri
    status, _ = _get(f"{base}?state=forged&code=evil")
    assert status == 400
    status, body = _get(f"{base}?state=expected-state&code=the-code&scope=read")
    assert status == 200 and "connected" in body
    waiter.join(10)
    assert result == {"code": "the-code"}


def test_redirect_catcher_times_out() -> None:
    with pytest.raises(StravaError, match="no answer"):
        RedirectCatcher("s").wait(0.6)


def test_code_from_paste() -> None:
    assert code_from_paste("http://127.0.0.1/authorized?state=x&code=abc123&scope=read") == "abc123"
    assert code_from_paste("  abc123\n") == "abc123"
    with pytest.raises(StravaError):
        code_from_paste("two words")


def test_fit_then_strava_is_one_activity(store: Store) -> None:
    fit = make_activity("fit-run", datetime(2026, 10, 6, 5, 0, tzinfo=UTC))
    (fit_id,) = store.add_file("/x/run.fit", "sha-fit", 10, [fit]).new_ids
    summary = {**SUMMARY, "id": 7, "sport_type": "Run", "start_date": "2026-10-06T05:01:00Z",
               "start_date_local": "2026-10-06T07:01:00Z", "moving_time": 590,
               "elapsed_time": 600}  # fmt: skip
    strava_id = store.add_strava(7, to_activity(summary, None), json.dumps(summary))
    assert strava_id is not None and store.primary_of(strava_id) == fit_id
    (listed,) = store.activities()
    assert listed.id == fit_id and listed.sources == ["fit", "strava"]


def test_strava_then_fit_makes_the_fit_primary(store: Store) -> None:
    summary = {**SUMMARY, "id": 8, "sport_type": "Run", "start_date": "2026-10-06T04:58:00Z",
               "start_date_local": "2026-10-06T06:58:00Z", "moving_time": 610,
               "elapsed_time": 620}  # fmt: skip
    strava_id = store.add_strava(8, to_activity(summary, None), json.dumps(summary))
    fit = make_activity("fit-run", datetime(2026, 10, 6, 5, 0, tzinfo=UTC))
    (fit_id,) = store.add_file("/x/run.fit", "sha-fit", 10, [fit]).new_ids
    assert strava_id is not None and store.primary_of(strava_id) == fit_id
    assert [a.id for a in store.activities()] == [fit_id]


def test_different_activities_are_not_matched(store: Store) -> None:
    start = datetime(2026, 10, 6, 5, 0, tzinfo=UTC)
    store.add_file("/x/a.fit", "a", 1, [make_activity("a", start)])
    # Ten minutes later: another activity.
    store.add_file("/x/b.fit", "b", 1, [make_activity("b", start + timedelta(minutes=10))])
    # Same start, other category: a strength session after a warm-up is not the run.
    store.add_file("/x/c.fit", "c", 1, [make_activity("c", start, category=Category.STRENGTH)])
    assert len(store.activities()) == 3


def test_granted_scope_is_checked() -> None:
    from heavylegs_sync.strava.oauth import check_scope

    assert check_scope("read,activity:read_all,profile:read_all") is None
    assert check_scope(None) is None
    assert "private" in (check_scope("read,activity:read") or "")
    with pytest.raises(StravaError, match="not granted"):
        check_scope("read,profile:read_all")
