"""A fake Strava API for tests: a real HTTP server on 127.0.0.1 with scenario controls.

Standard library only. It speaks enough of Strava's OAuth and API v3 for a sync: the token
endpoint (code exchange, refresh with rotation), revocation (``/oauth/revoke``) and the older
deauthorization, the athlete, heart-rate zones, the activity list (filters, order,
pagination), activity details and streams. Rate limits are counted per request, and reset
only when a test says a new window has begun.

Two modes. ``"legacy"``: the API under ``/api/v3`` as Strava served it until 2026.
``"2027"``: Strava after its 2026 developer-program changes take full effect (1 June 2027):
the API only at root paths (``/athlete/activities``, as on ``www.api-v3.strava.com``), an
``access_token`` in a query string or form body answered 401, ``/oauth/deauthorize`` retired
(410). In both, :meth:`FakeStrava.set_inactive` makes the application "inactive": every
API and token call answers 403, as for an application without a Strava subscription.

    with FakeStrava(make_history(10, start=START)) as strava:
        tokens = strava.issue_tokens()
        ...  # point the code under test at strava.url
        assert strava.count("/api/v3/activities/") == 10

Behaviour chosen where Strava's own is not documented is noted on each method.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

API = "/api/v3"

#: Strava's legacy ``type`` values; a ``sport_type`` outside these maps through
#: ``_NEW_SPORT_TO_TYPE`` or else to ``"Workout"``, as Strava does.
LEGACY_TYPES = frozenset(
    [
        "AlpineSki",
        "BackcountrySki",
        "Canoeing",
        "Crossfit",
        "EBikeRide",
        "Elliptical",
        "Golf",
        "Handcycle",
        "Hike",
        "IceSkate",
        "InlineSkate",
        "Kayaking",
        "Kitesurf",
        "NordicSki",
        "Ride",
        "RockClimbing",
        "RollerSki",
        "Rowing",
        "Run",
        "Sail",
        "Skateboard",
        "Snowboard",
        "Snowshoe",
        "Soccer",
        "StairStepper",
        "StandUpPaddling",
        "Surfing",
        "Swim",
        "Velomobile",
        "VirtualRide",
        "VirtualRun",
        "Walk",
        "WeightTraining",
        "Wheelchair",
        "Windsurf",
        "Workout",
        "Yoga",
    ]
)
_NEW_SPORT_TO_TYPE = {
    "TrailRun": "Run",
    "MountainBikeRide": "Ride",
    "GravelRide": "Ride",
    "EMountainBikeRide": "EBikeRide",
    "VirtualRow": "Rowing",
}
_FOOT = frozenset(("Run", "TrailRun", "VirtualRun", "Walk", "Hike"))
#: Typical speeds (m/s) used by :func:`make_history`; other kinds get no distance.
_SPEED = {
    "Run": 2.9,
    "TrailRun": 2.5,
    "VirtualRun": 3.0,
    "Walk": 1.4,
    "Hike": 1.2,
    "Ride": 7.5,
    "VirtualRide": 8.5,
    "GravelRide": 6.5,
    "MountainBikeRide": 5.0,
    "Swim": 0.7,
}
_TIMEZONES = {
    0: "(GMT+00:00) Europe/London",
    3600: "(GMT+01:00) Europe/Berlin",
    7200: "(GMT+01:00) Europe/Berlin",  # Strava names the standard offset, even in summer
    -18000: "(GMT-05:00) America/New_York",
    -14400: "(GMT-05:00) America/New_York",
    -28800: "(GMT-08:00) America/Los_Angeles",
    -25200: "(GMT-08:00) America/Los_Angeles",
}

DEFAULT_ATHLETE: dict[str, Any] = {
    "id": 31415926,
    "username": "heavylegs",
    "resource_state": 2,
    "firstname": "Hanna",
    "lastname": "Läufer",
    "bio": "",
    "city": "Berlin",
    "state": "Berlin",
    "country": "Germany",
    "sex": "F",
    "premium": True,
    "summit": True,
    "created_at": "2019-03-01T08:00:00Z",
    "updated_at": "2026-10-01T08:00:00Z",
    "badge_type_id": 1,
    "weight": 61.0,
    "profile_medium": "avatar/athlete/medium.png",
    "profile": "avatar/athlete/large.png",
    "friend": None,
    "follower": None,
}
DEFAULT_ZONES: dict[str, Any] = {
    "heart_rate": {
        "custom_zones": False,
        "zones": [
            {"min": 0, "max": 123},
            {"min": 123, "max": 153},
            {"min": 153, "max": 169},
            {"min": 169, "max": 184},
            {"min": 184, "max": -1},
        ],
    }
}


def _error(message: str, resource: str, field: str, code: str) -> dict[str, Any]:
    return {"message": message, "errors": [{"resource": resource, "field": field, "code": code}]}


AUTHORIZATION_ERROR = _error("Authorization Error", "Athlete", "access_token", "invalid")
RATE_LIMIT_EXCEEDED = _error("Rate Limit Exceeded", "Application", "rate limit", "exceeded")
ACTIVITY_NOT_FOUND = _error("Record Not Found", "Activity", "id", "invalid")
APPLICATION_INACTIVE = _error("Forbidden", "Application", "Status", "Inactive")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _gmt(offset_s: int) -> str:
    sign = "+" if offset_s >= 0 else "-"
    hours, rest = divmod(abs(offset_s), 3600)
    return f"GMT{sign}{hours:02d}:{rest // 60:02d}"


def timezone_name(utc_offset_s: int) -> str:
    """Strava's ``timezone`` text for an offset, e.g. ``(GMT+01:00) Europe/Berlin``."""
    known = _TIMEZONES.get(utc_offset_s)
    if known:
        return known
    if utc_offset_s % 3600 == 0:
        hours = utc_offset_s // 3600
        return f"({_gmt(utc_offset_s)}) Etc/GMT{-hours:+d}"
    return f"({_gmt(utc_offset_s)}) UTC"


def legacy_type(sport_type: str) -> str:
    """Strava's deprecated ``type`` for a ``sport_type`` (``"Workout"`` when unknown)."""
    if sport_type in LEGACY_TYPES:
        return sport_type
    return _NEW_SPORT_TO_TYPE.get(sport_type, "Workout")


@dataclass
class FakeActivity:
    """One activity of the fake athlete; its streams are derived from these fields."""

    id: int
    sport_type: str
    start: datetime  # aware
    utc_offset_s: int
    elapsed_s: int
    moving_s: int
    distance_m: float
    name: str = "Morning Run"
    manual: bool = False  # no streams: the streams endpoint answers 404
    has_heartrate: bool = True  # ignored (False) for manual activities
    average_heartrate: float | None = 140.0
    max_heartrate: float | None = 165.0
    stream_step_s: int = 1
    timezone: str | None = None  # default: from utc_offset_s, see timezone_name()
    total_elevation_gain: float = 0.0
    trainer: bool = False
    commute: bool = False
    device_name: str | None = None  # only in the detailed activity, as on Strava
    velocity_spike: float | None = None  # one velocity_smooth value half-way (a GPS glitch)
    #: Values that replace (or add to) the summary's, as a broken or hostile server sends
    #: them: numbers as strings, NaN, ``utc_offset`` Infinity, a far-off local time ...
    raw: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError(f"activity {self.id}: start must be timezone-aware")
        if self.elapsed_s < 0 or self.moving_s < 0 or self.stream_step_s < 1:
            raise ValueError(f"activity {self.id}: negative duration or step < 1")

    @property
    def start_epoch(self) -> int:
        """Start in whole seconds since the epoch (what ``before``/``after`` compare to)."""
        return math.floor(self.start.timestamp())

    @property
    def heartrate(self) -> bool:
        """Whether Strava would say ``has_heartrate`` (never for manual activities)."""
        return self.has_heartrate and not self.manual

    @property
    def has_distance_streams(self) -> bool:
        """Whether there are ``distance``, ``velocity_smooth`` and ``cadence`` streams."""
        return not self.manual and self.distance_m > 0 and self.elapsed_s > 0

    def summary(self, athlete_id: int) -> dict[str, Any]:
        """The SummaryActivity JSON, as ``GET /athlete/activities`` lists it."""
        utc = self.start.astimezone(UTC)
        local = utc + timedelta(seconds=self.utc_offset_s)
        speed = self.distance_m / self.moving_s if self.moving_s else 0.0
        item: dict[str, Any] = {
            "resource_state": 2,
            "athlete": {"id": athlete_id, "resource_state": 1},
            "name": self.name,
            "distance": round(self.distance_m, 1),
            "moving_time": self.moving_s,
            "elapsed_time": self.elapsed_s,
            "total_elevation_gain": self.total_elevation_gain,
            "type": legacy_type(self.sport_type),
            "sport_type": self.sport_type,
            "workout_type": None,
            "id": self.id,
            "start_date": _iso(utc),
            "start_date_local": _iso(local),  # local wall time with a literal Z, like Strava
            "timezone": self.timezone or timezone_name(self.utc_offset_s),
            "utc_offset": float(self.utc_offset_s),
            "location_city": None,
            "location_state": None,
            "location_country": None,
            "achievement_count": 0,
            "kudos_count": 0,
            "comment_count": 0,
            "athlete_count": 1,
            "photo_count": 0,
            "map": {
                "id": f"a{self.id}",
                "summary_polyline": None if self.manual else "",
                "resource_state": 2,
            },
            "trainer": self.trainer,
            "commute": self.commute,
            "manual": self.manual,
            "private": False,
            "visibility": "everyone",
            "flagged": False,
            "gear_id": None,
            "start_latlng": [],
            "end_latlng": [],
            "average_speed": round(speed, 3),
            "max_speed": round(speed * 1.35, 3),
            "has_heartrate": self.heartrate,
            "heartrate_opt_out": False,
            "display_hide_heartrate_option": self.heartrate,
            "upload_id": None if self.manual else self.id + 1_000_000_000,
            "external_id": None if self.manual else f"fake-{self.id}.fit",
            "from_accepted_tag": False,
            "pr_count": 0,
            "total_photo_count": 0,
            "has_kudoed": False,
        }
        if self.heartrate:
            average = self.average_heartrate if self.average_heartrate is not None else 140.0
            item["average_heartrate"] = average
            item["max_heartrate"] = (
                self.max_heartrate if self.max_heartrate is not None else average + 25.0
            )
        if self.has_distance_streams:
            item["average_cadence"] = 85.0 if self.sport_type in _FOOT else 88.0
        if self.raw:
            item.update(self.raw)
        return item

    def detail(self, athlete_id: int) -> dict[str, Any]:
        """The DetailedActivity JSON of ``GET /activities/{id}`` (no laps, splits, efforts)."""
        item = self.summary(athlete_id)
        item.update(
            resource_state=3,
            description=None,
            calories=round(self.moving_s / 60 * 10.0, 1),
            segment_efforts=[],
            splits_metric=[],
            laps=[],
            best_efforts=[],
            photos={"primary": None, "count": 0},
            hide_from_home=False,
            embed_token=hashlib.sha1(f"embed-{self.id}".encode()).hexdigest(),
        )
        if self.device_name is not None:
            item["device_name"] = self.device_name
        return item

    def streams(self) -> dict[str, list[Any]]:
        """The raw stream data this activity has, by type (empty for manual activities).

        ``time`` runs 0..elapsed in ``stream_step_s`` steps; ``distance``,
        ``velocity_smooth`` and ``cadence`` exist when there is a distance; ``heartrate``
        (a deterministic wave around the average, at most the maximum) when it has one.
        """
        if self.manual:
            return {}
        times = list(range(0, self.elapsed_s + 1, self.stream_step_s))
        result: dict[str, list[Any]] = {"time": times}
        if self.has_distance_streams:
            speed = self.distance_m / self.elapsed_s
            result["distance"] = [round(self.distance_m * t / self.elapsed_s, 1) for t in times]
            result["velocity_smooth"] = [0.0] + [round(speed, 3)] * (len(times) - 1)
            if self.velocity_spike is not None:
                result["velocity_smooth"][len(times) // 2] = self.velocity_spike
            base, spread = (85, 1) if self.sport_type in _FOOT else (88, 2)
            result["cadence"] = [base + (i % (2 * spread + 1)) - spread for i in range(len(times))]
        if self.heartrate:
            average = self.average_heartrate if self.average_heartrate is not None else 140.0
            peak = self.max_heartrate if self.max_heartrate is not None else average + 25.0
            amplitude = max(0.0, min(peak - average, 25.0))
            result["heartrate"] = [
                min(round(peak), round(average + amplitude * math.sin(2 * math.pi * t / 600)))
                for t in times
            ]
        return result


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server answered (in the order the answers were sent)."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    authorization: str | None
    status: int

    @property
    def carries_token_outside_header(self) -> bool:
        """Whether an access token came in the query string or the form body."""
        return "access_token" in self.query or "access_token" in self.form


@dataclass
class _Scenario:
    path_prefix: str | None  # None: any API request of the server's mode
    remaining: int
    status: int = 0
    seconds: float = 0.0
    body: bytes | None = None
    headers: dict[str, str] | None = None


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] | None = None
    dribble_s: float = 0.0  # > 0: the body is sent one byte at a time, this far apart


def _json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> _Reply:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _Reply(status, body, headers=headers)


def _error_reply(status: int, headers: dict[str, str] | None = None) -> _Reply:
    """An injected failure, with the body Strava (or its load balancer) would send."""
    if status in (502, 503, 504):
        phrase = f"{status} {HTTPStatus(status).phrase}"
        html = f"<html><head><title>{phrase}</title></head><body><h1>{phrase}</h1></body></html>"
        return _Reply(status, html.encode(), "text/html", headers)
    payloads = {
        401: AUTHORIZATION_ERROR,
        403: APPLICATION_INACTIVE,
        404: ACTIVITY_NOT_FOUND,
        429: RATE_LIMIT_EXCEEDED,
    }
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return _json_reply(status, payloads.get(status, {"message": phrase, "errors": []}), headers)


def _flatten(pairs: Mapping[str, list[str]]) -> dict[str, str]:
    return {key: values[-1] for key, values in pairs.items()}


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("true", "1", "yes")


@dataclass
class FakeAccount:
    """Another athlete who allowed the same application (:meth:`FakeStrava.add_account`)."""

    athlete: dict[str, Any]
    activities: list[FakeActivity]
    zones: dict[str, Any]


class FakeStrava:
    """A Strava-compatible HTTP server on 127.0.0.1 for one athlete, with scenario controls.

    More athletes may allow the same application (:meth:`add_account`): each code and token
    then belongs to one of them, the API answers with that athlete's activities, and the
    rate limits count every athlete's requests together, as Strava counts an application's.

    Use as a context manager (or :meth:`start` / :meth:`close`). Every control and
    attribute may be used from the test thread while the server answers requests.
    """

    def __init__(
        self,
        activities: Sequence[FakeActivity] = (),
        *,
        client_id: str = "1234",
        client_secret: str = "s3cret",
        short_limit: int = 100,
        daily_limit: int = 1000,
        token_lifetime_s: int = 21600,
        clock: Callable[[], float] = time.time,
        athlete: Mapping[str, Any] | None = None,
        zones: Mapping[str, Any] | None = None,
        extra_distance_stream: bool = True,
        mode: str = "legacy",
        revoke_available: bool = True,
    ) -> None:
        if mode not in ("legacy", "2027"):
            raise ValueError(f"mode must be 'legacy' or '2027', not {mode!r}")
        self.mode = mode
        #: Where API paths start: ``/api/v3`` (legacy) or the root (2027).
        self.api_prefix = API if mode == "legacy" else ""
        #: Whether ``/oauth/revoke`` exists (False: 404, as before June 2026).
        self.revoke_available = revoke_available
        self.activities: list[FakeActivity] = list(activities)
        self.client_id = str(client_id)
        self.client_secret = client_secret
        self.short_limit = short_limit
        self.daily_limit = daily_limit
        self.token_lifetime_s = token_lifetime_s
        self.clock = clock
        self.athlete: dict[str, Any] = dict(athlete if athlete is not None else DEFAULT_ATHLETE)
        self.zones: dict[str, Any] = dict(zones if zones is not None else DEFAULT_ZONES)
        #: Strava sends the ``distance`` stream even when ``keys`` does not ask for it
        #: (it is the series the others are indexed by); False honours ``keys`` exactly.
        self.extra_distance_stream = extra_distance_stream
        #: Rate-limit usage every answer claims (``"0,0"``: a server that never counts).
        self.usage_override: str | None = None
        #: Every page of the activity list is full, of activities never listed before.
        self.endless_list = False
        #: The athlete a refresh answer names (Strava names none there).
        self.refresh_athlete: dict[str, Any] | None = None
        self._endless_next = 50_000_000_001
        self._dribbles: list[_Scenario] = []
        self.requests: list[RecordedRequest] = []
        self.issued_access_tokens: list[str] = []
        self.issued_refresh_tokens: list[str] = []
        #: Tracebacks of exceptions inside the server (a bug in the fake, answered 500).
        self.errors: list[str] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._serial = 0
        self._codes: set[str] = set()
        self._access: dict[str, float] = {}  # token -> expires_at
        self._refresh: set[str] = set()
        self._failures: list[_Scenario] = []
        self._delays: list[_Scenario] = []
        self._short_all = self._daily_all = self._short_read = self._daily_read = 0
        self._inactive = False
        self._inactive_after: int | None = None
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        #: The other athletes, by Strava id; codes and tokens of none are the first one's.
        self.accounts: dict[int, FakeAccount] = {}
        self._owner: dict[str, int] = {}  # code or token -> the other athlete it is for

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``; the server must have been started."""
        if self._httpd is None:
            raise RuntimeError("FakeStrava is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve from a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("FakeStrava is already started")
        self._stop.clear()
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-strava",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and close the socket; delayed answers are woken and dropped."""
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- scenario controls ---------------------------------------------------------------

    def add_account(
        self, athlete_id: int, activities: Sequence[FakeActivity] = (), firstname: str = "Ben"
    ) -> FakeAccount:
        """Another athlete of the application, with their own activities."""
        athlete = {**DEFAULT_ATHLETE, "id": athlete_id, "firstname": firstname}
        with self._lock:
            account = FakeAccount(athlete, list(activities), dict(DEFAULT_ZONES))
            self.accounts[athlete_id] = account
        return account

    def issue_code(self, code: str = "good-code", athlete_id: int | None = None) -> str:
        """Make ``code`` a valid, single-use authorization code (of another athlete's
        account, :meth:`add_account`, with ``athlete_id``)."""
        with self._lock:
            self._codes.add(code)
            if athlete_id is not None:
                self._owner[code] = athlete_id
        return code

    def issue_tokens(self) -> dict[str, Any]:
        """Tokens for an already-connected athlete: the body a code exchange would return."""
        with self._lock:
            return self._grant(with_athlete=True)

    def revoke_account(self, athlete_id: int) -> None:
        """Every token of one other athlete is invalid, as after they revoke access."""
        with self._lock:
            self._drop_tokens(athlete_id)

    def _drop_tokens(self, owner: int | None) -> None:
        """Invalidate the tokens of ``owner`` (None: the first athlete's)."""
        for token in [t for t in self._access if self._owner.get(t) == owner]:
            del self._access[token]
        self._refresh = {t for t in self._refresh if self._owner.get(t) != owner}

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired (401); refresh tokens still work."""
        with self._lock:
            for token in self._access:
                self._access[token] = -math.inf

    def revoke(self) -> None:
        """Every access and refresh token is invalid, as after the athlete revokes access."""
        with self._lock:
            self._access.clear()
            self._refresh.clear()

    def set_inactive(self, inactive: bool = True, *, after: int = 0) -> None:
        """Make the application inactive (every API and token call answers 403) or active.

        With ``after``, the next ``after`` API or token calls are still answered normally
        and the application turns inactive from the one after them.
        """
        with self._lock:
            if inactive and after > 0:
                self._inactive_after = after
                return
            self._inactive = inactive
            self._inactive_after = None

    @property
    def inactive(self) -> bool:
        """Whether the application is inactive now."""
        with self._lock:
            return self._inactive

    def fail_next(
        self,
        status: int,
        count: int = 1,
        path_prefix: str | None = None,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next ``count`` requests whose path starts with ``path_prefix`` answer ``status``.

        ``None`` (the default) matches any API request of the server's mode.

        They neither check the token nor count against the rate limits (API responses
        still carry the usage headers). Bodies: 429 rate-limit JSON, 403 "application
        inactive" JSON, 502/503/504 an HTML page (as a load balancer sends), else JSON.
        """
        with self._lock:
            self._failures.append(
                _Scenario(path_prefix, count, status=status, body=body, headers=headers)
            )

    def dribble_next(self, seconds: float, count: int = 1, path_prefix: str | None = None) -> None:
        """The next ``count`` matching answers are sent one byte every ``seconds``."""
        with self._lock:
            self._dribbles.append(_Scenario(path_prefix, count, seconds=seconds))

    def delay_next(self, seconds: float, count: int = 1, path_prefix: str | None = None) -> None:
        """The next ``count`` matching requests wait ``seconds`` before being handled.

        The request is then handled normally (a refresh still rotates the tokens) even if
        the client has given up meanwhile; closing the server cuts the wait short.
        """
        with self._lock:
            self._delays.append(_Scenario(path_prefix, count, seconds=seconds))

    def reset_usage(self, *, short: bool = True, daily: bool = False) -> None:
        """Start a new 15-minute window (``short``) and/or a new day (``daily``)."""
        with self._lock:
            if short:
                self._short_all = self._short_read = 0
            if daily:
                self._daily_all = self._daily_read = 0

    # -- inspection ----------------------------------------------------------------------

    @property
    def read_usage(self) -> tuple[int, int]:
        """``(15-minute, daily)`` read (GET) requests counted so far."""
        with self._lock:
            return self._short_read, self._daily_read

    @property
    def overall_usage(self) -> tuple[int, int]:
        """``(15-minute, daily)`` API requests of any method counted so far."""
        with self._lock:
            return self._short_all, self._daily_all

    @property
    def current_access_token(self) -> str | None:
        """The most recently issued access token (valid or not), None before any."""
        with self._lock:
            return self.issued_access_tokens[-1] if self.issued_access_tokens else None

    @property
    def current_refresh_token(self) -> str | None:
        """The most recently issued refresh token (valid or not), None before any."""
        with self._lock:
            return self.issued_refresh_tokens[-1] if self.issued_refresh_tokens else None

    @property
    def current_access_tokens(self) -> list[str]:
        """Every access token that the API would accept now."""
        with self._lock:
            now = self.clock()
            return [token for token, expires in self._access.items() if expires > now]

    def refresh_token_valid(self, token: str) -> bool:
        """Whether ``/oauth/token`` would accept ``token`` as a refresh token now."""
        with self._lock:
            return token in self._refresh

    def count(self, path_prefix: str, method: str | None = None) -> int:
        """How many recorded requests have a path starting with ``path_prefix``."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.path.startswith(path_prefix) and (method is None or r.method == method)
            )

    # -- request handling ----------------------------------------------------------------

    def _handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> _Reply:
        """Answer one request (called from the server's threads)."""
        split = urlsplit(target)
        path = split.path
        query = _flatten(parse_qs(split.query, keep_blank_values=True))
        form: dict[str, str] = {}
        content_type = headers.get("content-type", "")
        try:
            if body and content_type.startswith("application/x-www-form-urlencoded"):
                form = _flatten(parse_qs(body.decode("utf-8"), keep_blank_values=True))
            elif body and content_type.startswith("application/json"):
                loaded = json.loads(body)
                if isinstance(loaded, dict):
                    form = {str(k): str(v) for k, v in loaded.items()}
        except (UnicodeDecodeError, ValueError):
            form = {}
        authorization = headers.get("authorization")
        delay = self._take(self._delays, path, self._is_api(path))
        if delay is not None and delay.seconds > 0:
            self._stop.wait(delay.seconds)
        dribble = self._take(self._dribbles, path, self._is_api(path))
        try:
            reply = self._route(method, path, query, form, authorization)
            if dribble is not None:
                reply.dribble_s = dribble.seconds
        except Exception:
            with self._lock:
                self.errors.append(traceback.format_exc())
            reply = _json_reply(500, {"message": "Internal Server Error", "errors": []})
        with self._lock:
            self.requests.append(
                RecordedRequest(method, path, query, form, authorization, reply.status)
            )
        return reply

    def _is_api(self, path: str) -> bool:
        if self.mode == "legacy":
            return (path == API or path.startswith(f"{API}/")) and not path.startswith(
                f"{API}/oauth/"
            )
        return not path.startswith(("/oauth/", f"{API}/"))

    def _take(self, queue: list[_Scenario], path: str, is_api: bool) -> _Scenario | None:
        with self._lock:
            for item in queue:
                matches = is_api if item.path_prefix is None else path.startswith(item.path_prefix)
                if matches and item.remaining > 0:
                    item.remaining -= 1
                    if item.remaining == 0:
                        queue.remove(item)
                    return item
        return None

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        form: dict[str, str],
        authorization: str | None,
    ) -> _Reply:
        is_api = self._is_api(path)
        if self.mode == "legacy":
            # Strava also answers its OAuth endpoints under /api/v3 (stravalib's deauthorize
            # posts to /api/v3/oauth/deauthorize); those are not rate-limited API calls.
            oauth = path.removeprefix(API) if path.startswith(f"{API}/oauth/") else path
        else:
            oauth = path
        failure = self._take(self._failures, path, is_api)
        if failure is not None:
            headers = self._rate_headers() if is_api else None
            if failure.headers:
                headers = {**(headers or {}), **failure.headers}
            if failure.body is not None:
                return _Reply(failure.status, failure.body, headers=headers)
            return _error_reply(failure.status, headers)
        if self.mode == "2027":
            if path == API or path.startswith(f"{API}/"):
                return _json_reply(404, _error("Record Not Found", "resource", "path", "invalid"))
            if "access_token" in query or "access_token" in form:
                # Tokens only in the Authorization header, from 1 June 2027.
                return _json_reply(401, AUTHORIZATION_ERROR)
        checked = is_api or oauth in ("/oauth/token", "/oauth/revoke", "/oauth/deauthorize")
        if checked and self._turns_inactive():
            headers = self._rate_headers() if is_api else None
            return _json_reply(403, APPLICATION_INACTIVE, headers)
        params = {**query, **form}
        if oauth == "/oauth/token" and method == "POST":
            return self._token(params)
        if oauth == "/oauth/revoke" and method == "POST" and self.revoke_available:
            return self._revoke(form, authorization)
        if oauth == "/oauth/deauthorize" and method == "POST":
            if self.mode == "2027":
                return _json_reply(410, _error("Gone", "Application", "endpoint", "retired"))
            return self._deauthorize(params, authorization)
        if oauth == "/oauth/authorize" and method == "GET":
            return self._authorize(query)
        if is_api:
            return self._api(method, path.removeprefix(self.api_prefix), query, authorization)
        return _json_reply(404, _error("Record Not Found", "resource", "path", "invalid"))

    def _turns_inactive(self) -> bool:
        """Whether this call finds the application inactive (counting down ``after``)."""
        with self._lock:
            if self._inactive_after is not None:
                if self._inactive_after == 0:
                    self._inactive, self._inactive_after = True, None
                else:
                    self._inactive_after -= 1
            return self._inactive

    # -- OAuth ---------------------------------------------------------------------------

    def _new_token(self, kind: str) -> str:
        self._serial += 1
        return hashlib.sha1(f"{kind}-{self._serial}".encode()).hexdigest()

    def _grant(self, *, with_athlete: bool, owner: int | None = None) -> dict[str, Any]:
        access, refresh = self._new_token("access"), self._new_token("refresh")
        expires_at = int(self.clock()) + self.token_lifetime_s
        self._access[access] = float(expires_at)
        self._refresh.add(refresh)
        if owner is not None:
            self._owner[access] = self._owner[refresh] = owner
        self.issued_access_tokens.append(access)
        self.issued_refresh_tokens.append(refresh)
        payload: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_at": expires_at,
            "expires_in": self.token_lifetime_s,
            "refresh_token": refresh,
            "access_token": access,
        }
        if with_athlete:
            account = self.accounts.get(owner) if owner is not None else None
            payload["athlete"] = dict(account.athlete if account else self.athlete)
        return payload

    def _token(self, params: dict[str, str]) -> _Reply:
        """``POST /oauth/token``: Strava reads form fields or query parameters alike."""
        with self._lock:
            if params.get("client_id") != self.client_id:
                return _json_reply(
                    400, _error("Bad Request", "Application", "client_id", "invalid")
                )
            if params.get("client_secret") != self.client_secret:
                # What Strava answered for a wrong secret in public reports.
                return _json_reply(401, _error("Authorization Error", "Application", "", "invalid"))
            grant = params.get("grant_type")
            if grant == "authorization_code":
                code = params.get("code", "")
                if code not in self._codes:
                    return _json_reply(
                        400, _error("Bad Request", "AuthorizationCode", "code", "invalid")
                    )
                self._codes.discard(code)
                owner = self._owner.pop(code, None)
                return _json_reply(200, self._grant(with_athlete=True, owner=owner))
            if grant == "refresh_token":
                old = params.get("refresh_token", "")
                if old not in self._refresh:
                    return _json_reply(
                        400, _error("Bad Request", "RefreshToken", "refresh_token", "invalid")
                    )
                self._refresh.discard(old)  # rotated: the old one no longer works
                payload = self._grant(with_athlete=False, owner=self._owner.get(old))
                if self.refresh_athlete is not None:
                    payload["athlete"] = dict(self.refresh_athlete)
                return _json_reply(200, payload)
            return _json_reply(400, _error("Bad Request", "Application", "grant_type", "invalid"))

    def _deauthorize(self, params: dict[str, str], authorization: str | None) -> _Reply:
        """``POST /oauth/deauthorize``: the ``access_token`` parameter or the bearer token."""
        token = params.get("access_token") or _bearer(authorization)
        with self._lock:
            if token is None or not self._valid(token):
                return _json_reply(401, AUTHORIZATION_ERROR)
            self._drop_tokens(self._owner.get(token))
        return _json_reply(200, {"access_token": token})

    def _revoke(self, form: dict[str, str], authorization: str | None) -> _Reply:
        """``POST /oauth/revoke``: HTTP Basic ``client_id:client_secret`` and the form field
        ``token`` (access or refresh; either revokes both). An unknown token is a success,
        as RFC 7009 has it."""
        if _basic(authorization) != (self.client_id, self.client_secret):
            return _json_reply(401, _error("Authorization Error", "Application", "", "invalid"))
        token = form.get("token")
        if not token:
            return _json_reply(400, _error("Bad Request", "Token", "token", "missing"))
        with self._lock:
            if token in self._access or token in self._refresh:
                self._drop_tokens(self._owner.get(token))
        return _json_reply(200, {})

    def _authorize(self, query: dict[str, str]) -> _Reply:
        """``GET /oauth/authorize``: the athlete approves at once; redirect with a new code."""
        if query.get("client_id") != self.client_id:
            return _json_reply(400, _error("Bad Request", "Application", "client_id", "invalid"))
        redirect = query.get("redirect_uri")
        if not redirect:
            return _json_reply(400, _error("Bad Request", "Application", "redirect_uri", "invalid"))
        with self._lock:
            code = self.issue_code(self._new_token("code"))
        back = {"state": query.get("state", ""), "code": code, "scope": query.get("scope", "read")}
        location = redirect + ("&" if "?" in redirect else "?") + urlencode(back)
        return _Reply(302, b"", "text/plain", {"Location": location})

    # -- API -----------------------------------------------------------------------------

    def _valid(self, token: str) -> bool:
        expires = self._access.get(token)
        return expires is not None and expires > self.clock()

    def _rate_headers(self) -> dict[str, str]:
        with self._lock:
            override = self.usage_override
            return {
                "X-RateLimit-Limit": f"{2 * self.short_limit},{2 * self.daily_limit}",
                "X-RateLimit-Usage": override or f"{self._short_all},{self._daily_all}",
                "X-ReadRateLimit-Limit": f"{self.short_limit},{self.daily_limit}",
                "X-ReadRateLimit-Usage": override or f"{self._short_read},{self._daily_read}",
            }

    def _api(
        self, method: str, path: str, query: dict[str, str], authorization: str | None
    ) -> _Reply:
        """An ``/api/v3`` request: token, then usage (counted before answering), then route.

        Requests with a bad token are answered 401 without being counted.
        """
        with self._lock:
            token = _bearer(authorization)
            if token is None or not self._valid(token):
                return _json_reply(401, AUTHORIZATION_ERROR, self._rate_headers())
            self._short_all += 1
            self._daily_all += 1
            exceeded = (
                self._short_all > 2 * self.short_limit or self._daily_all > 2 * self.daily_limit
            )
            if method == "GET":
                self._short_read += 1
                self._daily_read += 1
                exceeded = exceeded or (
                    self._short_read > self.short_limit or self._daily_read > self.daily_limit
                )
            headers = self._rate_headers()
            if exceeded and self.usage_override is None:
                return _json_reply(429, RATE_LIMIT_EXCEEDED, headers)
            account = self.accounts.get(self._owner.get(token, -1))
            activities = list(account.activities if account else self.activities)
            athlete = dict(account.athlete if account else self.athlete)
            zones = dict(account.zones if account else self.zones)
        athlete_id = int(athlete.get("id", 0))
        if method == "GET" and path == "/athlete":
            detailed = {**athlete, "resource_state": 3, "measurement_preference": "meters"}
            detailed.update(
                follower_count=0, friend_count=0, ftp=None, clubs=[], bikes=[], shoes=[]
            )
            return _json_reply(200, detailed, headers)
        if method == "GET" and path == "/athlete/zones":
            return _json_reply(200, zones, headers)
        if method == "GET" and path == "/athlete/activities":
            if self.endless_list:
                return self._endless(athlete_id, headers)
            return self._list(activities, athlete_id, query, headers)
        match = re.fullmatch(r"/activities/(\d+)(/streams)?", path)
        if method == "GET" and match:
            found = next((a for a in activities if a.id == int(match.group(1))), None)
            if found is None:
                return _json_reply(404, ACTIVITY_NOT_FOUND, headers)
            if match.group(2) is None:
                return _json_reply(200, found.detail(athlete_id), headers)
            return self._streams(found, query, headers)
        return _json_reply(404, _error("Record Not Found", "resource", "path", "invalid"), headers)

    def _list(
        self,
        activities: list[FakeActivity],
        athlete_id: int,
        query: dict[str, str],
        headers: dict[str, str],
    ) -> _Reply:
        """``after < start < before``; ascending when ``after`` is given, else newest first."""
        numbers: dict[str, float] = {}
        for name in ("before", "after", "page", "per_page"):
            text = query.get(name, "")
            if text == "":
                continue
            try:
                numbers[name] = float(text)
            except ValueError:
                return _json_reply(
                    400, _error("Bad Request", "Application", name, "invalid"), headers
                )
        before, after = numbers.get("before"), numbers.get("after")
        page = max(1, int(numbers.get("page", 1)))
        per_page = int(numbers.get("per_page", 30))
        per_page = 30 if per_page < 1 else min(per_page, 200)
        chosen = [
            a
            for a in activities
            if (after is None or a.start_epoch > after)
            and (before is None or a.start_epoch < before)
        ]
        chosen.sort(key=lambda a: (a.start_epoch, a.id), reverse=after is None)
        window = chosen[(page - 1) * per_page : page * per_page]
        return _json_reply(200, [a.summary(athlete_id) for a in window], headers)

    def _endless(self, athlete_id: int, headers: dict[str, str]) -> _Reply:
        """A full page of 200 activities never listed before, whatever was asked."""
        with self._lock:
            first, self._endless_next = self._endless_next, self._endless_next + 200
        start = datetime(2026, 1, 1, 5, 0, tzinfo=UTC)
        page = make_history(200, start=start, every_hours=1, first_id=first)
        return _json_reply(200, [a.summary(athlete_id) for a in page], headers)

    def _streams(
        self, activity: FakeActivity, query: dict[str, str], headers: dict[str, str]
    ) -> _Reply:
        """Only the streams the activity has; the dict form with ``key_by_type=true``."""
        available = activity.streams()
        if not available:
            return _json_reply(404, ACTIVITY_NOT_FOUND, headers)
        wanted = [k for k in query.get("keys", "").split(",") if k] or list(available)
        if self.extra_distance_stream and "distance" not in wanted:
            wanted.append("distance")
        series = "distance" if "distance" in available else "time"
        chosen = [k for k in wanted if k in available]
        chosen = list(dict.fromkeys(chosen))

        def stream(key: str) -> dict[str, Any]:
            data = available[key]
            return {
                "data": data,
                "series_type": series,
                "original_size": len(data),
                "resolution": "high",
            }

        if _truthy(query.get("key_by_type")):
            return _json_reply(200, {k: stream(k) for k in chosen}, headers)
        return _json_reply(200, [{"type": k, **stream(k)} for k in chosen], headers)


def _basic(authorization: str | None) -> tuple[str, str] | None:
    """``(user, password)`` from an HTTP Basic header, None when there is none."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class _Handler(BaseHTTPRequestHandler):
    """Hands each request to the FakeStrava; HTTP/1.0, one request per connection."""

    server_version = "FakeStrava/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no request log on stderr."""

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        fake = cast(_Server, self.server).fake
        reply = fake._handle(method, self.path, headers, body)
        try:
            self.send_response(reply.status)
            for key, value in (reply.headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.dribble_s <= 0:
                self.wfile.write(reply.body)
            for index in range(len(reply.body) if reply.dribble_s > 0 else 0):
                self.wfile.write(reply.body[index : index + 1])
                self.wfile.flush()
                if fake._stop.wait(reply.dribble_s):
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout): nothing to answer

    def do_GET(self) -> None:
        """GET."""
        self._serve("GET")

    def do_POST(self) -> None:
        """POST."""
        self._serve("POST")

    def do_PUT(self) -> None:
        """PUT."""
        self._serve("PUT")

    def do_DELETE(self) -> None:
        """DELETE."""
        self._serve("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the default 5 drops bursts of connections (1 s SYN retry)

    def __init__(self, fake: FakeStrava) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Record instead of printing to stderr."""
        with self.fake._lock:
            self.fake.errors.append(traceback.format_exc())


def _words(kind: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", kind)


def _part_of_day(hour: int) -> str:
    if hour < 5:
        return "Night"
    if hour < 12:
        return "Morning"
    if hour < 14:
        return "Lunch"
    if hour < 18:
        return "Afternoon"
    if hour < 22:
        return "Evening"
    return "Night"


def make_history(
    n: int,
    *,
    start: datetime,
    every_hours: float = 24,
    kinds: Sequence[str] = ("Run",),
    zone: str = "Europe/Berlin",
    first_id: int = 12_000_000_001,
) -> list[FakeActivity]:
    """``n`` deterministic activities, ``every_hours`` apart from ``start``, kinds in turn.

    Local offsets follow ``zone`` (so DST changes show); ids are 11-digit, like Strava's.
    Kinds without a typical speed (Yoga, WeightTraining, ...) get no distance.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if not kinds:
        raise ValueError("kinds must not be empty")
    tz = ZoneInfo(zone)
    result = []
    for i in range(n):
        begin = (start + timedelta(hours=every_hours * i)).astimezone(UTC)
        local = begin.astimezone(tz)
        offset = int((local.utcoffset() or timedelta(0)).total_seconds())
        standard = offset - int((local.dst() or timedelta(0)).total_seconds())
        kind = kinds[i % len(kinds)]
        moving = 1800 + (i * 617) % 1800
        elapsed = moving + (i % 4) * 45
        speed = _SPEED.get(kind, 0.0)
        distance = round(speed * moving * (1 + ((i * 7) % 11 - 5) / 100), 1)
        average = 130.0 + (i * 3) % 25
        result.append(
            FakeActivity(
                id=first_id + i,
                sport_type=kind,
                start=begin,
                utc_offset_s=offset,
                elapsed_s=elapsed,
                moving_s=moving,
                distance_m=distance,
                name=f"{_part_of_day(local.hour)} {_words(kind)}",
                average_heartrate=average,
                max_heartrate=average + 18 + i % 5,
                timezone=f"({_gmt(standard)}) {zone}",
                total_elevation_gain=float((i * 13) % 120) if distance else 0.0,
            )
        )
    return result
