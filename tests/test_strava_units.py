"""Strava pieces that need no server: tokens, budget, mapping, redirect catcher, matching."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from heavylegs_sync.errors import ConfigError, StravaError, StravaReconnect
from heavylegs_sync.hr.strava import zone_bounds
from heavylegs_sync.model import Category
from heavylegs_sync.store import Store
from heavylegs_sync.strava.budget import Budget
from heavylegs_sync.strava.mapping import to_activity, utc_offset
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


def test_token_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    save_token(path, Token("a1", "r1", 1_800_000_000))
    for mode in (0o640, 0o604, 0o660):
        path.chmod(mode)
        with pytest.raises(StravaError, match=f"other users may read.*{mode:04o}.*chmod 600"):
            load_token(path)
    path.chmod(0o600)
    assert load_token(path).access_token == "a1"


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
    assert activity.category is Category.RUN
    assert (activity.sport, activity.sport_raw) == ("running", "TrailRun")
    assert activity.start_utc == datetime(2026, 10, 25, 7, 30, tzinfo=UTC)
    assert activity.utc_offset_s == 3600
    assert activity.start_local.hour == 8
    assert (activity.timer_s, activity.elapsed_s, activity.distance_m) == (3000, 3100, 9000)
    assert activity.samples is not None and activity.samples.hr is not None
    assert np.isnan(activity.samples.hr[-1])  # 255 is no heart rate
    assert activity.samples.cadence is None


def test_unknown_sport_type_is_kept_raw() -> None:
    activity = to_activity({**SUMMARY, "sport_type": "Padel", "type": "Workout"}, None)
    assert (activity.sport, activity.sport_raw) == ("padel", "Padel")
    assert activity.category is Category.OTHER
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


def test_redirect_catcher_idle_connections_block_nothing() -> None:
    catcher = RedirectCatcher("expected-state", idle_timeout_s=0.5)
    port = catcher.server.server_address[1]
    idle = socket.create_connection(("127.0.0.1", port))  # connects and says nothing
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(b"GET /authorized?state=exp")  # stops in the middle of the request line
    half.settimeout(5)
    result: dict[str, str] = {}
    waiter = threading.Thread(target=lambda: result.update(code=catcher.wait(10)))
    began = time.monotonic()
    waiter.start()
    status, _ = _get(f"{catcher.redirect_uri}?state=expected-state&code=c0de&scope=read")
    waiter.join(10)
    assert status == 200 and result == {"code": "c0de"}
    assert time.monotonic() - began < 5
    assert half.recv(1) == b""  # the silent client was dropped after its idle timeout
    idle.close()
    half.close()


def test_redirect_catcher_deadline_holds_with_an_idle_connection() -> None:
    catcher = RedirectCatcher("s")  # the default idle timeout is longer than this wait
    idle = socket.create_connection(("127.0.0.1", catcher.server.server_address[1]))
    began = time.monotonic()
    with pytest.raises(StravaError, match="no answer"):
        catcher.wait(0.6)
    assert time.monotonic() - began < 3
    idle.close()


def test_answers_are_checked_against_the_pending_state(tmp_path: Path) -> None:
    from heavylegs_sync.strava.oauth import (
        check_answer,
        load_pending,
        parse_answer,
        pending_path,
        save_pending,
    )

    token = tmp_path / "strava-token.json"
    assert load_pending(token) is None
    save_pending(token, "s1")
    assert load_pending(token) == "s1"
    assert stat.S_IMODE(os.stat(pending_path(token)).st_mode) == 0o600
    answer = parse_answer(" http://127.0.0.1:8765/authorized?state=s1&code=abc&scope=read \n")
    assert (answer.code, answer.state, answer.scope, answer.address) == ("abc", "s1", "read", True)
    check_answer(answer, "s1")
    with pytest.raises(StravaError, match="another connect link"):
        check_answer(answer, "s2")
    with pytest.raises(StravaError, match="answers no link"):
        check_answer(answer, None)
    with pytest.raises(StravaError, match="whole address"):
        check_answer(parse_answer("abc"), "s1")
    check_answer(parse_answer("abc"), None)  # a code from elsewhere, no link of ours waiting
    with pytest.raises(StravaError, match="not granted"):
        parse_answer("http://127.0.0.1:8765/authorized?state=s1&error=access_denied")
    with pytest.raises(StravaError, match="no code"):
        parse_answer("http://127.0.0.1:8765/authorized?state=s1")


def test_strava_base_settings_and_their_precedence(tmp_path: Path) -> None:
    from heavylegs_sync.config import load_settings

    def strava(toml: str = "", **env: str) -> tuple[str, str]:
        config = tmp_path / "settings.toml"
        config.write_text(toml)
        got = load_settings(config=config, db=tmp_path / "s.sqlite", env=env).strava
        return got.api_root, got.oauth_root

    assert strava() == ("https://www.strava.com/api/v3", "https://www.strava.com")
    assert strava(HEAVYLEGS_STRAVA_API_URL="http://127.0.0.1:9/") == (
        "http://127.0.0.1:9/api/v3",
        "http://127.0.0.1:9",
    )
    new = "https://www.api-v3.strava.com"
    assert strava(f'[strava]\napi_base = "{new}/"\n') == (new, "https://www.strava.com")
    # api_base and oauth_base win over api_url, wherever each is given.
    assert strava(f'[strava]\napi_base = "{new}"\n', HEAVYLEGS_STRAVA_API_URL="http://h:1") == (
        new,
        "http://h:1",
    )
    assert strava(
        '[strava]\napi_url = "http://h:1"\n',
        HEAVYLEGS_STRAVA_API_BASE="http://a:2",
        HEAVYLEGS_STRAVA_OAUTH_BASE="http://o:3",
    ) == ("http://a:2", "http://o:3")
    # The environment wins over the file for the same key.
    assert (
        strava('[strava]\napi_base = "http://file:1"\n', HEAVYLEGS_STRAVA_API_BASE="http://env:2")[
            0
        ]
        == "http://env:2"
    )
    with pytest.raises(ConfigError, match="api_base"):
        strava('[strava]\napi_base = "www.api-v3.strava.com"\n')


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
    summary = {**SUMMARY, "id": 8, "sport_type": "Run", "start_date": "2026-10-06T04:59:30Z",
               "start_date_local": "2026-10-06T06:59:30Z", "moving_time": 595,
               "elapsed_time": 605}  # fmt: skip
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
    # Same start, another length: a strength session is not the run.
    strength = replace(
        make_activity("c", start, category=Category.STRENGTH), elapsed_s=2700.0, timer_s=2700.0
    )
    store.add_file("/x/c.fit", "c", 1, [strength])
    assert len(store.activities()) == 3


def test_granted_scope_is_checked() -> None:
    from heavylegs_sync.strava.oauth import check_scope

    assert check_scope("read,activity:read_all,profile:read_all") is None
    assert check_scope(None) is None
    assert "private" in (check_scope("read,activity:read") or "")
    with pytest.raises(StravaError, match="not granted"):
        check_scope("read,profile:read_all")
