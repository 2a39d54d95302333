"""The fake Strava server: raw HTTP behaviour, and stravalib 2.6 talking to it."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from stravalib import Client, exc
from stravalib.util import limiter

from tests.strava_server import (
    DEFAULT_ZONES,
    FakeActivity,
    FakeStrava,
    legacy_type,
    make_history,
    timezone_name,
)

STRAVA = "https://www.strava.com"
START = datetime(2026, 10, 1, 5, 0, tzinfo=UTC)
ID, SECRET = "1234", "s3cret"


def run(
    activity_id: int,
    start: datetime,
    *,
    sport_type: str = "Run",
    manual: bool = False,
    has_heartrate: bool = True,
    elapsed_s: int = 600,
) -> FakeActivity:
    """A short activity (600 s) with a round distance."""
    return FakeActivity(
        id=activity_id,
        sport_type=sport_type,
        start=start,
        utc_offset_s=7200,
        elapsed_s=elapsed_s,
        moving_s=elapsed_s - 30,
        distance_m=1800.0,
        manual=manual,
        has_heartrate=has_heartrate,
    )


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A session that ignores proxy settings from the environment."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.fixture
def fake() -> Iterator[FakeStrava]:
    """A server with ten daily runs, a manual hike, a yoga session and an unknown sport."""
    activities = make_history(10, start=START)
    activities += [
        run(501, START - timedelta(days=3), sport_type="Hike", manual=True),
        run(502, START - timedelta(days=2), sport_type="Yoga", has_heartrate=False),
        run(503, START - timedelta(days=1), sport_type="SomethingNew"),
    ]
    with FakeStrava(activities) as server:
        yield server


def bearer(token: str | None) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def exchange(http: requests.Session, fake: FakeStrava, code: str) -> requests.Response:
    """POST a code exchange as stravalib does (form body)."""
    form = {"client_id": ID, "client_secret": SECRET, "code": code}
    return http.post(f"{fake.url}/oauth/token", data={**form, "grant_type": "authorization_code"})


def refresh(http: requests.Session, fake: FakeStrava, token: str) -> requests.Response:
    """POST a refresh as stravalib does (form body)."""
    form = {"client_id": ID, "client_secret": SECRET, "refresh_token": token}
    return http.post(f"{fake.url}/oauth/token", data={**form, "grant_type": "refresh_token"})


def get(
    http: requests.Session, fake: FakeStrava, path: str, token: str | None, **params: Any
) -> requests.Response:
    """GET an API path with a bearer token."""
    return http.get(f"{fake.url}/api/v3{path}", params=params, headers=bearer(token), timeout=5)


# -- OAuth ---------------------------------------------------------------------------------


def test_code_exchange_then_refresh_rotates_tokens(
    http: requests.Session, fake: FakeStrava
) -> None:
    first = exchange(http, fake, fake.issue_code())
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 21600
    assert abs(body["expires_at"] - (time.time() + 21600)) < 5
    assert body["athlete"]["id"] == 31415926
    assert body["athlete"]["lastname"] == "Läufer"
    assert get(http, fake, "/athlete", body["access_token"]).status_code == 200

    second = refresh(http, fake, body["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert "athlete" not in rotated
    assert rotated["access_token"] != body["access_token"]
    assert rotated["refresh_token"] != body["refresh_token"]
    assert fake.issued_refresh_tokens == [body["refresh_token"], rotated["refresh_token"]]
    assert fake.current_access_token == rotated["access_token"]
    assert get(http, fake, "/athlete", rotated["access_token"]).status_code == 200

    again = refresh(http, fake, body["refresh_token"])
    assert again.status_code == 400
    assert again.json() == {
        "message": "Bad Request",
        "errors": [{"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}],
    }
    assert not fake.refresh_token_valid(body["refresh_token"])
    assert fake.refresh_token_valid(rotated["refresh_token"])


def test_code_is_single_use_and_query_parameters_work(
    http: requests.Session, fake: FakeStrava
) -> None:
    code = fake.issue_code("abc")
    params = {"client_id": ID, "client_secret": SECRET, "code": code}
    params["grant_type"] = "authorization_code"
    assert http.post(f"{fake.url}/oauth/token", params=params).status_code == 200
    reused = http.post(f"{fake.url}/oauth/token", params=params)
    assert reused.status_code == 400
    assert reused.json()["errors"][0]["resource"] == "AuthorizationCode"
    assert exchange(http, fake, "never-issued").status_code == 400


def test_bad_client_is_refused(http: requests.Session, fake: FakeStrava) -> None:
    code = fake.issue_code()
    form = {"code": code, "grant_type": "authorization_code"}
    wrong_id = http.post(
        f"{fake.url}/oauth/token", data={**form, "client_id": "9", "client_secret": SECRET}
    )
    assert wrong_id.status_code == 400
    assert wrong_id.json()["errors"] == [
        {"resource": "Application", "field": "client_id", "code": "invalid"}
    ]
    wrong_secret = http.post(
        f"{fake.url}/oauth/token", data={**form, "client_id": ID, "client_secret": "x"}
    )
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["message"] == "Authorization Error"
    assert exchange(http, fake, code).status_code == 200  # the code was not used up


def test_authorize_redirects_with_a_code(http: requests.Session, fake: FakeStrava) -> None:
    query = {"client_id": ID, "redirect_uri": "http://127.0.0.1:9/cb", "state": "xyz"}
    url = f"{fake.url}/oauth/authorize"
    answer = http.get(url, params={**query, "scope": "read"}, allow_redirects=False)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    back = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert location.netloc == "127.0.0.1:9" and back["state"] == "xyz"
    assert exchange(http, fake, back["code"]).status_code == 200


def test_expired_token_is_refused_but_refresh_works(
    http: requests.Session, fake: FakeStrava
) -> None:
    tokens = fake.issue_tokens()
    fake.expire_tokens()
    refused = get(http, fake, "/athlete", tokens["access_token"])
    assert refused.status_code == 401
    assert refused.json() == {
        "message": "Authorization Error",
        "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}],
    }
    assert "X-ReadRateLimit-Usage" in refused.headers
    assert fake.read_usage == (0, 0)  # a refused token is not counted
    assert fake.current_access_tokens == []
    fresh = refresh(http, fake, tokens["refresh_token"]).json()
    assert get(http, fake, "/athlete", fresh["access_token"]).status_code == 200


def test_token_expiry_follows_the_clock(http: requests.Session) -> None:
    now = [1_800_000_000.0]
    with FakeStrava(token_lifetime_s=100, clock=lambda: now[0]) as fake:
        tokens = fake.issue_tokens()
        assert tokens["expires_at"] == 1_800_000_100
        now[0] += 99
        assert get(http, fake, "/athlete", tokens["access_token"]).status_code == 200
        now[0] += 1
        assert get(http, fake, "/athlete", tokens["access_token"]).status_code == 401


def test_revoke_invalidates_access_and_refresh(http: requests.Session, fake: FakeStrava) -> None:
    tokens = fake.issue_tokens()
    fake.revoke()
    assert get(http, fake, "/athlete", tokens["access_token"]).status_code == 401
    answer = refresh(http, fake, tokens["refresh_token"])
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["resource"] == "RefreshToken"


def test_deauthorize_with_parameter_or_bearer(http: requests.Session, fake: FakeStrava) -> None:
    tokens = fake.issue_tokens()
    answer = http.post(
        f"{fake.url}/oauth/deauthorize", data={"access_token": tokens["access_token"]}
    )
    assert answer.status_code == 200
    assert answer.json() == {"access_token": tokens["access_token"]}
    assert get(http, fake, "/athlete", tokens["access_token"]).status_code == 401
    assert refresh(http, fake, tokens["refresh_token"]).status_code == 400
    again = http.post(f"{fake.url}/oauth/deauthorize", headers=bearer(tokens["access_token"]))
    assert again.status_code == 401
    other = fake.issue_tokens()
    via_api = http.post(
        f"{fake.url}/api/v3/oauth/deauthorize", headers=bearer(other["access_token"])
    )
    assert via_api.status_code == 200
    assert "X-RateLimit-Usage" not in via_api.headers


def test_missing_or_malformed_authorization(http: requests.Session, fake: FakeStrava) -> None:
    token = fake.issue_tokens()["access_token"]
    assert http.get(f"{fake.url}/api/v3/athlete").status_code == 401
    assert (
        http.get(f"{fake.url}/api/v3/athlete", headers={"Authorization": token}).status_code == 401
    )
    assert http.get(f"{fake.url}/api/v3/athlete", params={"access_token": token}).status_code == 401
    assert [r.authorization for r in fake.requests] == [None, token, None]


# -- API -----------------------------------------------------------------------------------


def test_rate_limit_headers_and_429(http: requests.Session) -> None:
    with FakeStrava(short_limit=3, daily_limit=5) as fake:
        token = fake.issue_tokens()["access_token"]
        answers = [get(http, fake, "/athlete", token) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[0].headers["X-ReadRateLimit-Limit"] == "3,5"
        assert answers[0].headers["X-RateLimit-Limit"] == "6,10"
        assert [a.headers["X-ReadRateLimit-Usage"] for a in answers] == ["1,1", "2,2", "3,3", "4,4"]
        assert answers[3].headers["X-RateLimit-Usage"] == "4,4"
        assert answers[3].json() == {
            "message": "Rate Limit Exceeded",
            "errors": [{"resource": "Application", "field": "rate limit", "code": "exceeded"}],
        }
        fake.reset_usage()  # a new 15-minute window, same day
        assert fake.read_usage == (0, 4)
        assert get(http, fake, "/athlete", token).status_code == 200
        daily = get(http, fake, "/athlete", token)
        assert daily.status_code == 429
        assert daily.headers["X-ReadRateLimit-Usage"] == "2,6"
        fake.reset_usage(daily=True)
        assert get(http, fake, "/athlete", token).status_code == 200
        assert fake.read_usage == (1, 1)


def test_writes_count_against_the_overall_limit_only(http: requests.Session) -> None:
    with FakeStrava(short_limit=1) as fake:
        token = fake.issue_tokens()["access_token"]
        for _ in range(2):
            answer = http.put(f"{fake.url}/api/v3/not-served", headers=bearer(token))
            assert answer.status_code == 404
        assert fake.overall_usage == (2, 2) and fake.read_usage == (0, 0)
        assert http.put(f"{fake.url}/api/v3/not-served", headers=bearer(token)).status_code == 429


def test_activity_list_filters_orders_and_pages(http: requests.Session) -> None:
    history = make_history(25, start=START)
    with FakeStrava(history) as fake:
        token = fake.issue_tokens()["access_token"]
        ids = [a.id for a in history]

        def listed(**params: Any) -> list[int]:
            answer = get(http, fake, "/athlete/activities", token, **params)
            assert answer.status_code == 200
            return [item["id"] for item in answer.json()]

        assert listed() == ids[::-1][:30]  # newest first without ``after``
        after = history[4].start_epoch  # strictly after: the fifth is not listed
        pages = [listed(after=after, per_page=8, page=p) for p in (1, 2, 3, 4)]
        assert pages == [ids[5:13], ids[13:21], ids[21:25], []]
        before = history[10].start_epoch
        assert listed(after=after, before=before) == ids[5:10]
        assert listed(before=before, per_page=3, page=2) == ids[6:3:-1]
        bad = get(http, fake, "/athlete/activities", token, after="yesterday")
        assert bad.status_code == 400
        latest = history[-1].start_epoch
        assert listed(after=latest) == []
        fake.activities.append(run(777, history[-1].start + timedelta(hours=3)))
        assert listed(after=latest) == [777]  # a new activity since the last sync


def test_per_page_is_capped_at_200(http: requests.Session) -> None:
    with FakeStrava(make_history(205, start=START, every_hours=1)) as fake:
        token = fake.issue_tokens()["access_token"]
        first = get(http, fake, "/athlete/activities", token, after=0, per_page=500)
        assert len(first.json()) == 200
        second = get(http, fake, "/athlete/activities", token, after=0, per_page=500, page=2)
        assert len(second.json()) == 5


def test_summary_shape(http: requests.Session, fake: FakeStrava) -> None:
    token = fake.issue_tokens()["access_token"]
    items = get(http, fake, "/athlete/activities", token, per_page=200).json()
    by_id = {item["id"]: item for item in items}
    first = by_id[12_000_000_001]
    assert first["resource_state"] == 2
    assert first["start_date"] == "2026-10-01T05:00:00Z"
    assert first["start_date_local"] == "2026-10-01T07:00:00Z"
    assert first["utc_offset"] == 7200.0
    assert first["timezone"] == "(GMT+01:00) Europe/Berlin"
    assert first["type"] == first["sport_type"] == "Run"
    assert first["athlete"] == {"id": 31415926, "resource_state": 1}
    assert first["has_heartrate"] is True
    assert isinstance(first["average_heartrate"], float)
    unknown = by_id[503]
    assert (unknown["type"], unknown["sport_type"]) == ("Workout", "SomethingNew")
    yoga = by_id[502]
    assert yoga["has_heartrate"] is False
    assert "average_heartrate" not in yoga and "max_heartrate" not in yoga
    hike = by_id[501]
    assert hike["manual"] is True and hike["has_heartrate"] is False
    assert hike["upload_id"] is None
    detail = get(http, fake, "/activities/503", token).json()
    assert detail["resource_state"] == 3 and detail["sport_type"] == "SomethingNew"


def test_athlete_and_zones(http: requests.Session, fake: FakeStrava) -> None:
    token = fake.issue_tokens()["access_token"]
    athlete = get(http, fake, "/athlete", token).json()
    assert athlete["id"] == 31415926 and athlete["firstname"] == "Hanna"
    assert get(http, fake, "/athlete/zones", token).json() == DEFAULT_ZONES
    fake.zones = {"heart_rate": {"custom_zones": True, "zones": [{"min": 0, "max": -1}]}}
    assert get(http, fake, "/athlete/zones", token).json()["heart_rate"]["custom_zones"] is True


def test_streams_keyed_by_type(http: requests.Session, fake: FakeStrava) -> None:
    token = fake.issue_tokens()["access_token"]
    keys = "time,heartrate,distance,velocity_smooth,cadence"
    path = "/activities/12000000001/streams"
    streams = get(http, fake, path, token, keys=keys, key_by_type="true").json()
    assert set(streams) == set(keys.split(","))
    time_stream = streams["time"]
    assert set(time_stream) == {"data", "series_type", "original_size", "resolution"}
    elapsed = fake.activities[0].elapsed_s
    assert time_stream["data"] == list(range(elapsed + 1))
    assert time_stream["original_size"] == elapsed + 1
    assert {len(s["data"]) for s in streams.values()} == {elapsed + 1}
    assert streams["distance"]["data"][-1] == pytest.approx(fake.activities[0].distance_m, abs=0.1)
    assert max(streams["heartrate"]["data"]) <= 165

    only = get(http, fake, path, token, keys="heartrate", key_by_type="True").json()
    assert set(only) == {"heartrate", "distance"}  # Strava adds the distance series
    fake.extra_distance_stream = False
    assert set(get(http, fake, path, token, keys="heartrate", key_by_type="true").json()) == {
        "heartrate"
    }

    listed = get(http, fake, path, token, keys="time,heartrate", key_by_type="false").json()
    assert [s["type"] for s in listed] == ["time", "heartrate"]

    no_heart = get(http, fake, "/activities/502/streams", token, keys=keys, key_by_type="true")
    assert set(no_heart.json()) == {"time", "distance", "velocity_smooth", "cadence"}


def test_manual_or_unknown_activity_streams_are_404(
    http: requests.Session, fake: FakeStrava
) -> None:
    token = fake.issue_tokens()["access_token"]
    manual = get(http, fake, "/activities/501/streams", token, keys="time", key_by_type="true")
    assert manual.status_code == 404
    assert manual.json() == {
        "message": "Record Not Found",
        "errors": [{"resource": "Activity", "field": "id", "code": "invalid"}],
    }
    assert get(http, fake, "/activities/999/streams", token, keys="time").status_code == 404
    assert get(http, fake, "/activities/999", token).status_code == 404
    assert get(http, fake, "/nothing/here", token).status_code == 404
    other = http.get(f"{fake.url}/somewhere")
    assert other.status_code == 404 and other.json()["message"] == "Record Not Found"
    assert fake.count("/api/v3/activities/") == 3
    assert fake.count("/api/v3", method="GET") == 4


def test_fail_next(http: requests.Session, fake: FakeStrava) -> None:
    token = fake.issue_tokens()["access_token"]
    fake.fail_next(503, count=2, path_prefix="/api/v3/activities")
    assert get(http, fake, "/athlete", token).status_code == 200  # other paths unaffected
    first = get(http, fake, "/activities/501", token)
    assert first.status_code == 503
    assert first.headers["Content-Type"] == "text/html"
    assert "X-ReadRateLimit-Usage" in first.headers
    assert get(http, fake, "/activities/501", token).status_code == 503
    assert get(http, fake, "/activities/501", token).status_code == 200
    assert fake.read_usage == (2, 2)  # injected failures are not counted

    fake.fail_next(429)
    limited = get(http, fake, "/athlete", token)
    assert limited.status_code == 429 and limited.json()["message"] == "Rate Limit Exceeded"
    fake.fail_next(500, path_prefix="/oauth/token")
    assert refresh(http, fake, fake.issued_refresh_tokens[-1]).status_code == 500
    assert fake.refresh_token_valid(fake.issued_refresh_tokens[-1])  # nothing was rotated
    assert [r.status for r in fake.requests[-3:]] == [200, 429, 500]


def test_delay_next_triggers_client_timeouts(http: requests.Session, fake: FakeStrava) -> None:
    token = fake.issue_tokens()["access_token"]
    fake.delay_next(1.0, path_prefix="/api/v3/athlete")
    began = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(f"{fake.url}/api/v3/athlete", headers=bearer(token), timeout=0.2)
    assert get(http, fake, "/athlete", token).status_code == 200  # only the next one waits
    assert time.monotonic() - began < 0.9
    fake.delay_next(30.0)

    def slow() -> None:
        with contextlib.suppress(requests.RequestException):
            http.get(f"{fake.url}/api/v3/athlete", headers=bearer(token), timeout=5)

    waiting = threading.Thread(target=slow)
    waiting.start()
    time.sleep(0.1)
    began = time.monotonic()
    fake.close()  # closing cuts the wait short instead of hanging
    waiting.join(timeout=5)
    assert time.monotonic() - began < 2


def test_concurrent_requests_are_all_counted(http: requests.Session, fake: FakeStrava) -> None:
    token = fake.issue_tokens()["access_token"]
    statuses: list[int] = []

    def worker() -> None:
        with requests.Session() as own:
            own.trust_env = False
            for _ in range(5):
                statuses.append(get(own, fake, "/athlete/zones", token).status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 40
    assert fake.read_usage == (40, 40)
    assert fake.count("/api/v3/athlete/zones") == 40
    assert fake.errors == []


def test_make_history_is_deterministic() -> None:
    kinds = ("Run", "WeightTraining", "Ride")
    history = make_history(30, start=START, kinds=kinds)
    assert history == make_history(30, start=START, kinds=kinds)
    assert [a.sport_type for a in history[:4]] == ["Run", "WeightTraining", "Ride", "Run"]
    assert history[0].name == "Morning Run" and history[1].name == "Morning Weight Training"
    assert history[1].distance_m == 0.0 and "distance" not in history[1].streams()
    # Berlin leaves summer time on 25 October 2026; the zone text keeps the standard offset.
    assert {a.utc_offset_s for a in history[:24]} == {7200}
    assert {a.utc_offset_s for a in history[25:]} == {3600}
    assert {a.timezone for a in history} == {"(GMT+01:00) Europe/Berlin"}
    assert len({a.id for a in history}) == 30
    assert all(a.moving_s <= a.elapsed_s for a in history)


def test_small_helpers() -> None:
    assert legacy_type("TrailRun") == "Run"
    assert legacy_type("Pickleball") == "Workout"
    assert legacy_type("Yoga") == "Yoga"
    assert timezone_name(-28800) == "(GMT-08:00) America/Los_Angeles"
    assert timezone_name(10800) == "(GMT+03:00) Etc/GMT-3"
    with pytest.raises(ValueError):
        FakeActivity(1, "Run", datetime(2026, 1, 1), 0, 10, 10, 0.0)
    with pytest.raises(RuntimeError):
        _ = FakeStrava().url


# -- the 2027 mode, revoke, an inactive application ---------------------------------------


def test_2027_mode_serves_the_api_only_at_root_paths(http: requests.Session) -> None:
    with FakeStrava(make_history(3, start=START), mode="2027") as fake:
        token = fake.issue_tokens()["access_token"]
        assert http.get(f"{fake.url}/athlete", headers=bearer(token)).status_code == 200
        listed = http.get(f"{fake.url}/athlete/activities", headers=bearer(token))
        assert len(listed.json()) == 3
        assert http.get(f"{fake.url}/api/v3/athlete", headers=bearer(token)).status_code == 404
        # The token anywhere but in the header is refused, even with a good header.
        query = http.get(f"{fake.url}/athlete", params={"access_token": token})
        assert query.status_code == 401
        both = http.get(f"{fake.url}/athlete", params={"access_token": token},
                        headers=bearer(token))  # fmt: skip
        assert both.status_code == 401
        form = http.post(f"{fake.url}/oauth/deauthorize", data={"access_token": token})
        assert form.status_code == 401 and fake.requests[-1].carries_token_outside_header
        gone = http.post(f"{fake.url}/oauth/deauthorize", headers=bearer(token))
        assert gone.status_code == 410
        assert fake.current_access_tokens == [token]  # neither revoked anything


def test_revoke_needs_client_credentials_and_revokes_both_tokens(
    http: requests.Session, fake: FakeStrava
) -> None:
    tokens = fake.issue_tokens()
    url = f"{fake.url}/oauth/revoke"
    assert http.post(url, data={"token": tokens["access_token"]}).status_code == 401
    wrong = http.post(url, auth=(ID, "nope"), data={"token": tokens["access_token"]})
    assert wrong.status_code == 401
    assert http.post(url, auth=(ID, SECRET), data={}).status_code == 400
    assert fake.current_access_tokens == [tokens["access_token"]]
    form = {"token": tokens["access_token"], "token_type_hint": "access_token"}
    done = http.post(url, auth=(ID, SECRET), data=form)
    assert done.status_code == 200
    assert fake.current_access_tokens == [] and not fake.refresh_token_valid(
        tokens["refresh_token"]
    )
    again = http.post(url, auth=(ID, SECRET), data={"token": tokens["refresh_token"]})
    assert again.status_code == 200  # an unknown token is a success (RFC 7009)
    with FakeStrava(revoke_available=False) as older:
        assert http.post(f"{older.url}/oauth/revoke", auth=(ID, SECRET)).status_code == 404


def test_inactive_application_answers_403_everywhere_and_back(
    http: requests.Session, fake: FakeStrava
) -> None:
    tokens = fake.issue_tokens()
    fake.set_inactive(after=2)
    assert get(http, fake, "/athlete", tokens["access_token"]).status_code == 200
    assert get(http, fake, "/athlete/zones", tokens["access_token"]).status_code == 200
    refused = get(http, fake, "/athlete", tokens["access_token"])
    assert refused.status_code == 403 and fake.inactive
    assert refused.json() == {
        "message": "Forbidden",
        "errors": [{"resource": "Application", "field": "Status", "code": "Inactive"}],
    }
    assert "X-ReadRateLimit-Usage" in refused.headers
    assert refresh(http, fake, tokens["refresh_token"]).status_code == 403
    assert exchange(http, fake, fake.issue_code()).status_code == 403
    fake.set_inactive(False)
    assert get(http, fake, "/athlete", tokens["access_token"]).status_code == 200
    assert refresh(http, fake, tokens["refresh_token"]).status_code == 200


# -- stravalib -----------------------------------------------------------------------------


class RewriteAdapter(HTTPAdapter):
    """Send ``https://www.strava.com`` requests to the fake, with a default timeout."""

    def __init__(self, base_url: str, timeout_s: float = 5.0) -> None:
        super().__init__(max_retries=0)
        self.base_url = base_url
        self.timeout_s = timeout_s

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        """Rewrite the origin, then send as usual."""
        if request.url and request.url.startswith(STRAVA):
            request.url = self.base_url + request.url[len(STRAVA) :]
        return super().send(
            request,
            stream=stream,
            timeout=self.timeout_s if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


@pytest.fixture(autouse=True)
def no_strava_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """stravalib reads these at construction; tests must not see a developer's own."""
    monkeypatch.delenv("STRAVA_CLIENT_ID", raising=False)
    monkeypatch.delenv("STRAVA_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("SILENCE_TOKEN_WARNINGS", "true")


def client_for(fake: FakeStrava, timeout_s: float = 5.0, **kwargs: Any) -> Client:
    """A stravalib Client whose session talks to ``fake``."""
    session = requests.Session()
    session.trust_env = False
    session.mount(STRAVA, RewriteAdapter(fake.url, timeout_s))
    kwargs.setdefault("rate_limit_requests", False)
    return Client(requests_session=session, **kwargs)


def test_stravalib_exchange_and_refresh(fake: FakeStrava) -> None:
    client = client_for(fake)
    answer = client.exchange_code_for_token(
        client_id=int(ID), client_secret=SECRET, code=fake.issue_code(), return_athlete=True
    )
    assert isinstance(answer, tuple)
    info, athlete = answer
    assert athlete is not None and athlete.id == 31415926
    assert client.access_token == info["access_token"]
    assert client.refresh_token is None and client.token_expires is None  # not kept!
    sent = fake.requests[-1]
    assert (sent.method, sent.path, sent.query, sent.authorization) == (
        "POST",
        "/oauth/token",
        {},
        None,
    )
    assert sent.form == {
        "client_id": ID,
        "client_secret": SECRET,
        "code": "good-code",
        "grant_type": "authorization_code",
    }

    rotated = client.refresh_access_token(int(ID), SECRET, info["refresh_token"])
    assert rotated["refresh_token"] != info["refresh_token"]
    assert client.refresh_token == rotated["refresh_token"]
    assert client.token_expires == rotated["expires_at"]
    assert fake.requests[-1].form["grant_type"] == "refresh_token"
    with pytest.raises(exc.Fault) as refused:
        client.refresh_access_token(int(ID), SECRET, info["refresh_token"])
    assert not isinstance(refused.value, exc.AccessUnauthorized)
    assert refused.value.response is not None and refused.value.response.status_code == 400


def test_stravalib_reads(fake: FakeStrava) -> None:
    client = client_for(fake, access_token=fake.issue_tokens()["access_token"])
    assert client.get_athlete().firstname == "Hanna"
    zones = client.get_athlete_zones()
    assert zones.heart_rate is not None and zones.heart_rate.zones is not None
    assert [z.max for z in zones.heart_rate.zones.root] == [123, 153, 169, 184, -1]

    after = START - timedelta(days=4)
    listed = list(client.get_activities(after=after))
    query = {"after": str(int(after.timestamp())), "page": "1", "per_page": "200"}
    assert fake.requests[-1].query == query
    assert [a.id for a in listed][:3] == [501, 502, 503]  # ascending with ``after``
    unknown = listed[2]
    assert unknown.sport_type == "Workout"  # stravalib drops the raw "SomethingNew"
    first = listed[3]
    assert first.start_date == START
    assert first.start_date_local == datetime(2026, 10, 1, 7, 0, tzinfo=UTC)  # wall time as UTC
    assert first.timezone == "(GMT+01:00) Europe/Berlin"
    raw = client.protocol.get("/athlete/activities", after=0, per_page=200)
    assert {item["sport_type"] for item in raw} >= {"SomethingNew"}

    assert first.id is not None
    streams = client.get_activity_streams(first.id, types=["time", "heartrate"])
    assert set(streams) == {"time", "heartrate", "distance"}
    assert fake.requests[-1].query["key_by_type"] == "True"
    assert streams["time"].data is not None and len(streams["time"].data) > 1000


def test_stravalib_error_types(fake: FakeStrava) -> None:
    tokens = fake.issue_tokens()
    client = client_for(fake, timeout_s=0.3, access_token=tokens["access_token"])
    with pytest.raises(exc.ObjectNotFound):
        client.get_activity_streams(501, types=["time"])

    for status in (500, 502, 503):
        fake.fail_next(status)
        with pytest.raises(exc.Fault) as failed:
            client.get_athlete()
        assert failed.type is exc.Fault
        assert str(failed.value).startswith(f"{status} Server Error")
    fake.fail_next(429)
    with pytest.raises(exc.Fault) as limited:
        client.get_athlete()
    assert limited.type is exc.Fault  # not exc.RateLimitExceeded
    fake.fail_next(403)
    with pytest.raises(exc.ApplicationInactive):
        client.get_athlete()

    fake.delay_next(1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):  # not wrapped by stravalib
        client.get_athlete()

    fake.expire_tokens()
    with pytest.raises(exc.AccessUnauthorized):
        client.get_athlete()


def test_stravalib_refreshes_by_itself_only_with_environment_credentials(
    fake: FakeStrava, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = fake.issue_tokens()
    past = int(time.time()) - 1
    kwargs = {"refresh_token": tokens["refresh_token"], "token_expires": past}
    silent = client_for(fake, access_token=tokens["access_token"], **kwargs)
    assert silent.get_athlete().id == 31415926  # stale expiry, no credentials: no refresh
    assert fake.count("/oauth/token") == 0

    monkeypatch.setenv("STRAVA_CLIENT_ID", ID)
    monkeypatch.setenv("STRAVA_CLIENT_SECRET", SECRET)
    auto = client_for(fake, access_token=tokens["access_token"], **kwargs)
    auto.get_athlete()
    assert [r.path for r in fake.requests[-2:]] == ["/oauth/token", "/api/v3/athlete"]
    assert auto.refresh_token == fake.current_refresh_token != tokens["refresh_token"]

    fake.expire_tokens()  # expired on the server, not by the client's clock: no refresh
    with pytest.raises(exc.AccessUnauthorized):
        auto.get_athlete()


def test_stravalib_deauthorize_posts_under_api_v3(fake: FakeStrava) -> None:
    tokens = fake.issue_tokens()
    client = client_for(fake, access_token=tokens["access_token"])
    client.deauthorize()
    sent = fake.requests[-1]
    assert (sent.path, sent.status) == ("/api/v3/oauth/deauthorize", 200)
    assert sent.authorization == f"Bearer {tokens['access_token']}"
    assert fake.current_access_tokens == []


def test_stravalib_default_limiter_sleeps_when_usage_reaches_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    naps: list[float] = []
    monkeypatch.setattr(time, "sleep", naps.append)  # the limiter's time.sleep
    monkeypatch.setattr(limiter, "get_seconds_until_next_quarter", lambda: 600)
    with FakeStrava(short_limit=2) as fake:
        token = fake.issue_tokens()["access_token"]
        client = client_for(fake, access_token=token, rate_limit_requests=True)
        client.get_athlete()
        assert naps == [0]
        client.get_athlete()  # usage 2 of 2: it waits for the next quarter hour
        assert naps == [0, 600]
        with pytest.raises(exc.Fault):
            client.get_athlete()
        assert naps == [0, 600, 600]  # it sleeps first, then raises for the 429
