"""Strava after its 2026 developer-program changes, and Strava answering badly.

Against the fake server's "2027" mode (API only at root paths, tokens only in the header,
``/oauth/deauthorize`` retired, ``/oauth/revoke``, an application that turns inactive) and
against malformed answers: every run ends with one line, nothing stored is lost, and the
next run completes with every activity exactly once. The CLI runs as a subprocess where its
output is the point; the many malformed-answer cases call the same library functions the
CLI calls, in this process, to keep the suite fast.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import stat
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from heavylegs_sync.config import Settings, load_settings
from heavylegs_sync.errors import StravaError
from heavylegs_sync.strava.oauth import Connected, connect, disconnect
from heavylegs_sync.strava.sync import SyncResult, sync_store
from tests.conftest import SAMPLE, heavylegs_cli
from tests.strava_server import FakeStrava, make_history

START = datetime(2026, 9, 1, 5, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeStrava]:
    with FakeStrava(
        make_history(12, start=START, kinds=("Run", "Run", "WeightTraining")), mode="2027"
    ) as server:
        yield server


def environment(fake: FakeStrava, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Settings for ``fake`` through the new variables.

    HEAVYLEGS_STRAVA_API_URL points nowhere: api_base and oauth_base must win over it.
    """
    return {
        "HEAVYLEGS_DB": str(tmp_path / "store.sqlite"),
        "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
        "HEAVYLEGS_STRAVA_API_URL": "http://127.0.0.1:9",
        "HEAVYLEGS_STRAVA_API_BASE": fake.url,
        "HEAVYLEGS_STRAVA_OAUTH_BASE": fake.url,
        "STRAVA_CLIENT_ID": "1234",
        "STRAVA_CLIENT_SECRET": "s3cret",
        "NO_PROXY": "127.0.0.1,localhost",
        **extra,
    }


def cli(
    fake: FakeStrava, tmp_path: Path, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    """The real command against ``fake``, in a subprocess."""
    return heavylegs_cli(*args, env=environment(fake, tmp_path, **extra), timeout=120)


def settings(fake: FakeStrava, tmp_path: Path, **extra: str) -> Settings:
    """What the command would resolve from the same environment."""
    env = environment(fake, tmp_path, **extra)
    return load_settings(env={k: v for k, v in env.items() if v})


class NoUI:
    """A connect flow that must not talk to anyone."""

    def show(self, text: str) -> None:
        raise AssertionError(f"unexpected output: {text}")

    def ask(self, text: str) -> str:
        raise AssertionError(f"unexpected prompt: {text}")

    def open_browser(self, url: str) -> None:
        raise AssertionError(f"unexpected browser: {url}")


def connected(fake: FakeStrava, tmp_path: Path, **extra: str) -> Connected:
    """``heavylegs strava connect --code CODE``, in this process."""
    return connect(settings(fake, tmp_path, **extra), NoUI(), code=fake.issue_code())


def synced(fake: FakeStrava, tmp_path: Path, *, full: bool = False, **extra: str) -> SyncResult:
    """``heavylegs strava sync``, in this process; the result has one line."""
    result = sync_store(settings(fake, tmp_path, **extra), full=full)
    assert "\n" not in result.line()
    return result


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The whole output of a failed run: exactly one line, on stderr, no traceback."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def stream_fetches(fake: FakeStrava) -> Counter[str]:
    """Successful stream fetches per activity id."""
    return Counter(
        r.path.split("/")[2]
        for r in fake.requests
        if r.path.endswith("/streams") and r.status == 200
    )


def stored_ids(tmp_path: Path) -> list[str]:
    """Strava ids in the store, one entry per row."""
    from heavylegs_sync.store import Store

    with Store.open(tmp_path / "store.sqlite") as store:
        return sorted(a.source_id for a in store.activities())


def test_sync_sends_the_token_only_in_the_header(fake: FakeStrava, tmp_path: Path) -> None:
    connect_cli = cli(fake, tmp_path, "strava", "connect", "--code", fake.issue_code())
    assert connect_cli.returncode == 0, connect_cli.stderr
    result = cli(fake, tmp_path, "strava", "sync")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("strava: 12 new activities") and result.stderr == ""
    assert len(stored_ids(tmp_path)) == 12
    assert fake.errors == []
    assert [r for r in fake.requests if r.status == 401] == []
    assert not any(r.carries_token_outside_header for r in fake.requests)
    api_calls = [r for r in fake.requests if not r.path.startswith("/oauth/")]
    assert len(api_calls) == 14  # zones, one listing, twelve streams
    assert all(r.path.startswith(("/athlete", "/activities/")) for r in api_calls)
    assert all(r.authorization == f"Bearer {fake.current_access_token}" for r in api_calls)
    # The token endpoint gets client credentials, never an access token.
    token_calls = [r for r in fake.requests if r.path == "/oauth/token"]
    assert token_calls and all(r.authorization is None for r in token_calls)


def test_only_the_old_setting_reaches_no_api_in_2027(fake: FakeStrava, tmp_path: Path) -> None:
    """HEAVYLEGS_STRAVA_API_URL alone means /api/v3 paths: the sync stops with one line."""
    connected(fake, tmp_path)
    old = {"HEAVYLEGS_STRAVA_API_URL": fake.url, "HEAVYLEGS_STRAVA_API_BASE": "",
           "HEAVYLEGS_STRAVA_OAUTH_BASE": ""}  # fmt: skip
    result = sync_store(settings(fake, tmp_path, **old))
    assert result.failure and result.paused is not None
    assert "404 for the activity list" in result.paused and "api_base" in result.paused
    assert fake.count("/api/v3/athlete/activities") == 1


def test_headless_link_carries_a_state_that_code_checks(fake: FakeStrava, tmp_path: Path) -> None:
    started = cli(fake, tmp_path, "strava", "connect")  # no terminal: the link, exit 1
    line = one_line(started)
    link = re.search(r"(http://\S+/oauth/authorize\S+)", line)
    assert link is not None
    state = re.search(r"[?&]state=([^&\s]+)", link.group(1))
    assert state is not None and len(state.group(1)) >= 16
    pending = tmp_path / "strava-token-pending.json"
    assert stat.S_IMODE(os.stat(pending).st_mode) == 0o600

    # The runner opens the link anywhere; Strava sends the browser to the address to copy.
    address = authorize(link.group(1))
    assert f"state={state.group(1)}" in address and "code=" in address
    given = settings(fake, tmp_path)
    forged = address.replace(state.group(1), "forged-state-000000")
    with pytest.raises(StravaError, match="another connect link"):
        connect(given, NoUI(), code=forged)
    code = re.search(r"code=([^&]+)", address)
    assert code is not None
    with pytest.raises(StravaError, match="whole address"):
        connect(given, NoUI(), code=code.group(1))
    assert fake.count("/oauth/token") == 0  # nothing was exchanged for a refused answer

    done = cli(fake, tmp_path, "strava", "connect", "--code", address)
    assert done.returncode == 0, done.stderr
    assert "connected to Strava as athlete 31415926" in done.stdout
    assert not pending.exists()
    with pytest.raises(StravaError, match="answers no link"):  # the same address again
        connect(given, NoUI(), code=address)


def authorize(link: str) -> str:
    """Follow Strava's authorization page once; the redirect address the browser would show."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))
    try:
        opener.open(link, timeout=5)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302
        return str(redirect.headers["Location"])
    raise AssertionError("Strava's page did not redirect")


def test_paste_flow_checks_the_state(fake: FakeStrava, tmp_path: Path) -> None:
    shown: list[str] = []

    class PasteUI(NoUI):
        def show(self, text: str) -> None:
            shown.append(text)

        def ask(self, text: str) -> str:
            link = re.search(r"(http://\S+/oauth/authorize\S+)", "".join(shown))
            assert link is not None
            return "  " + authorize(link.group(1)) + "\n"

    done = connect(settings(fake, tmp_path), PasteUI(), paste=True)
    assert done.athlete_id == 31415926 and done.warnings == []


def test_disconnect_revokes_with_client_credentials(fake: FakeStrava, tmp_path: Path) -> None:
    connected(fake, tmp_path)
    assert synced(fake, tmp_path).stored == 12
    refresh_token = fake.current_refresh_token
    assert refresh_token is not None
    result = cli(fake, tmp_path, "strava", "disconnect", "--purge")
    assert result.returncode == 0, result.stderr
    assert "revoked with /oauth/revoke" in result.stdout
    assert "deleted 12 Strava activities" in result.stdout
    (revoke,) = [r for r in fake.requests if r.path == "/oauth/revoke"]
    basic = base64.b64encode(b"1234:s3cret").decode()
    assert revoke.authorization == f"Basic {basic}" and revoke.status == 200
    assert revoke.form == {"token": refresh_token, "token_type_hint": "refresh_token"}
    assert fake.count("/oauth/deauthorize") == 0
    assert fake.current_access_tokens == [] and not fake.refresh_token_valid(refresh_token)
    assert not (tmp_path / "strava-token.json").exists()
    assert stored_ids(tmp_path) == []


def test_disconnect_falls_back_to_deauthorize_only_on_404(tmp_path: Path) -> None:
    with FakeStrava(make_history(2, start=START), revoke_available=False) as legacy:
        connected(legacy, tmp_path)
        legacy.expire_tokens()  # the fallback needs a live access token: it refreshes
        done = disconnect(settings(legacy, tmp_path))
        assert done.error is None and done.removed
        assert done.revoked_with is not None and "/oauth/deauthorize" in done.revoked_with
        statuses = [(r.path, r.status) for r in legacy.requests if r.path.startswith("/oauth/")]
        assert statuses[-4:] == [("/oauth/revoke", 404), ("/oauth/deauthorize", 401),
                                 ("/oauth/token", 200), ("/oauth/deauthorize", 200)]  # fmt: skip
        deauthorize = [r for r in legacy.requests if r.path == "/oauth/deauthorize"]
        assert deauthorize[-1].authorization == f"Bearer {legacy.current_access_token}"
        assert not any(r.carries_token_outside_header for r in deauthorize)
        assert legacy.current_access_tokens == []


def test_failed_revocation_keeps_the_tokens(fake: FakeStrava, tmp_path: Path) -> None:
    connected(fake, tmp_path)
    fake.fail_next(500, path_prefix="/oauth/revoke")
    done = disconnect(settings(fake, tmp_path))
    assert done.error is not None and "did not revoke" in done.error
    assert "tokens are kept" in done.error and not done.removed
    assert fake.count("/oauth/deauthorize") == 0  # only a 404 falls back
    assert (tmp_path / "strava-token.json").exists()
    again = disconnect(settings(fake, tmp_path))
    assert again.error is None and again.removed


def test_inactive_phase_stops_cleanly_and_the_next_sync_completes(
    fake: FakeStrava, tmp_path: Path
) -> None:
    connected(fake, tmp_path)
    fake.set_inactive(after=5)  # zones, the listing, three activities; then 403
    line = one_line(cli(fake, tmp_path, "strava", "sync"))
    assert "3 new activities" in line
    assert "inactive" in line and "strava.com/settings/api" in line and "next run continues" in line
    assert fake.inactive and len(stored_ids(tmp_path)) == 3

    line = one_line(cli(fake, tmp_path, "strava", "sync"))  # still inactive: still one line
    assert "0 new activities" in line and "strava.com/settings/api" in line

    fake.set_inactive(False)
    result = cli(fake, tmp_path, "strava", "sync")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("strava: 9 new activities") and "0 waiting" in result.stdout
    ids = stored_ids(tmp_path)
    assert len(ids) == 12 and len(set(ids)) == 12
    assert set(stream_fetches(fake).values()) == {1} and len(stream_fetches(fake)) == 12


def test_inactive_at_connect(fake: FakeStrava, tmp_path: Path) -> None:
    fake.set_inactive()
    with pytest.raises(StravaError, match=r"inactive.*strava\.com/settings/api"):
        connected(fake, tmp_path)
    assert not (tmp_path / "strava-token.json").exists()


def test_revocation_noticed_at_refresh_offers_purge(fake: FakeStrava, tmp_path: Path) -> None:
    connected(fake, tmp_path)
    assert synced(fake, tmp_path).stored == 12
    fake.expire_tokens()
    fake.fail_next(401, path_prefix="/oauth/token")  # Strava's answer once access is revoked
    line = one_line(cli(fake, tmp_path, "strava", "sync"))
    assert "no longer accepts" in line
    assert "heavylegs strava connect" in line and "heavylegs strava disconnect --purge" in line
    assert len(stored_ids(tmp_path)) == 12  # nothing deleted without asking


def test_token_file_readable_by_others_is_refused(fake: FakeStrava, tmp_path: Path) -> None:
    connected(fake, tmp_path)
    token_file = tmp_path / "strava-token.json"
    before = token_file.read_text()
    token_file.chmod(0o644)
    line = one_line(cli(fake, tmp_path, "strava", "sync"))
    assert str(token_file) in line and "other users may read" in line and "chmod 600" in line
    assert token_file.read_text() == before
    assert not any(not r.path.startswith("/oauth/") for r in fake.requests)  # no API call
    token_file.chmod(0o600)
    assert synced(fake, tmp_path).stored == 12


# -- malformed answers --------------------------------------------------------------------


def test_malformed_token_answer_is_one_line(fake: FakeStrava, tmp_path: Path) -> None:
    fake.fail_next(200, path_prefix="/oauth/token", body=b'{"access_token": "a",'
                   b' "refresh_token": "r", "expires_at": "soon"}')  # fmt: skip
    line = one_line(cli(fake, tmp_path, "strava", "connect", "--code", fake.issue_code()))
    assert "token endpoint answered something unexpected (expires_at is 'soon')" in line
    assert not (tmp_path / "strava-token.json").exists()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{}", "not a token"),
        (b"[]", "not a token"),
        (b'{"access_token": "", "refresh_token": "r", "expires_at": 1}', "no access or"),
        (b'{"access_token": "a", "refresh_token": "r", "expires_at": "soon"}', "'soon'"),
        (b"<html>maintenance</html>", "not JSON"),
    ],
)
def test_malformed_token_answers(
    fake: FakeStrava, tmp_path: Path, body: bytes, detail: str
) -> None:
    fake.fail_next(200, path_prefix="/oauth/token", body=body)
    with pytest.raises(StravaError, match="token endpoint answered something unexpected") as exc:
        connected(fake, tmp_path)
    assert detail in str(exc.value)
    assert not (tmp_path / "strava-token.json").exists()

    connected(fake, tmp_path)
    assert synced(fake, tmp_path).stored == 12
    saved = (tmp_path / "strava-token.json").read_text()
    fake.expire_tokens()
    fake.fail_next(200, path_prefix="/oauth/token", body=body)  # the refresh during a sync
    result = synced(fake, tmp_path)
    assert result.failure and result.paused is not None
    assert "token endpoint answered something unexpected" in result.paused
    assert (tmp_path / "strava-token.json").read_text() == saved  # the old tokens are kept
    assert len(stored_ids(tmp_path)) == 12
    assert synced(fake, tmp_path).failure is False  # the next run refreshes and goes on


@pytest.mark.parametrize(
    ("status", "count", "body", "says"),
    [
        (200, 1, b"<html>Strava is down for maintenance</html>", "body that is not JSON"),
        (200, 1, b'{"activities": []}', "not a list but dict"),
        (200, 1, b'[{"name": "Morning Run"}]', "without a usable id"),
        (404, 1, None, "404 for the activity list"),
        (503, 2, None, "after 2 tries: HTTP 503"),  # max_retries = 1
    ],
)
def test_unexpected_activity_list_ends_the_sync_and_loses_nothing(
    fake: FakeStrava, tmp_path: Path, status: int, count: int, body: bytes | None, says: str
) -> None:
    connected(fake, tmp_path)
    assert synced(fake, tmp_path).stored == 12
    fake.activities.extend(make_history(2, start=START + timedelta(days=30), first_id=900))
    retry_once = tmp_path / "settings.toml"
    retry_once.write_text("[strava]\nmax_retries = 1\n")
    fake.fail_next(status, count=count, path_prefix="/athlete/activities", body=body)
    result = synced(fake, tmp_path, HEAVYLEGS_CONFIG=str(retry_once))
    assert result.failure and result.paused is not None and says in result.paused
    assert "next run continues" in result.line()
    assert len(stored_ids(tmp_path)) == 12
    after = synced(fake, tmp_path)
    assert not after.failure and after.stored == 2
    ids = stored_ids(tmp_path)
    assert len(ids) == 14 and len(set(ids)) == 14


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"not json at all", "streams were not JSON"),
        (b"[]", "not an object keyed by stream type"),
        (b'{"heartrate": {"data": [120, 121]}}', "no time stream"),
        (b'{"time": {"data": ["a", "b"]}}', "not numbers"),
        (b'{"time": {"data": [0, 1, 2]}, "heartrate": {"data": [120]}}', "differ in length"),
    ],
)
def test_malformed_streams_leave_that_activity_queued(
    fake: FakeStrava, tmp_path: Path, body: bytes, says: str
) -> None:
    connected(fake, tmp_path)
    broken = fake.activities[4].id
    fake.fail_next(200, path_prefix=f"/activities/{broken}/streams", body=body)
    result = synced(fake, tmp_path)
    assert result.failure and result.stored == 11 and result.remaining == 1
    assert f"activity {broken}" in result.line() and says in result.line()
    assert str(broken) not in stored_ids(tmp_path)
    after = synced(fake, tmp_path)
    assert not after.failure and after.stored == 1
    ids = stored_ids(tmp_path)
    assert len(ids) == 12 and len(set(ids)) == 12
    fetches = stream_fetches(fake)  # the unusable answer, then the good one: no more
    assert fetches.pop(str(broken)) == 2 and set(fetches.values()) == {1}


# -- sync --full --------------------------------------------------------------------------


def test_full_rescan_finds_what_the_cursor_passed_and_fetches_no_stream_twice(
    tmp_path: Path,
) -> None:
    with FakeStrava(make_history(30, start=START), mode="2027") as fake:
        connected(fake, tmp_path)
        small_pages = tmp_path / "settings.toml"
        small_pages.write_text("[strava]\nper_page = 5\nreserve = 2\n")

        def sync(*, full: bool = False) -> str:
            result = synced(fake, tmp_path, full=full, HEAVYLEGS_CONFIG=str(small_pages))
            assert not result.failure, result.line()
            fake.reset_usage()  # the next run comes in the next 15-minute window
            return result.line()

        sync()
        assert len(stored_ids(tmp_path)) == 30
        # An activity uploaded long after it happened: older than the look-back reaches.
        fake.activities.extend(
            make_history(1, start=START + timedelta(days=3, hours=2), first_id=4242)
        )
        assert "0 new activities" in sync()
        fake.short_limit = 8  # six requests per run, two kept in reserve: the re-read spans runs
        listed_from = len(fake.requests)
        lines = [sync(full=True)]
        assert "full re-read continues" in lines[0] and "budget reached" in lines[0]
        while "stopped" in lines[-1]:
            lines.append(sync())
            assert len(lines) < 10
        assert any("full re-read done" in line for line in lines[1:])
        assert all(r.status != 429 for r in fake.requests)
        afters = [
            int(r.query["after"])
            for r in fake.requests[listed_from:]
            if r.path == "/athlete/activities"
        ]
        assert afters[0] == 0 and len(afters) >= 7  # from the very start, page by page
        ids = stored_ids(tmp_path)
        assert "4242" in ids and len(ids) == 31 and len(set(ids)) == 31
        fetches = stream_fetches(fake)
        assert len(fetches) == 31 and set(fetches.values()) == {1}  # no stream twice
        assert "full re-read" not in sync()  # done: plain syncs again


def test_connect_through_the_browser_despite_an_idle_connection(
    fake: FakeStrava, tmp_path: Path
) -> None:
    """An idle TCP connection to the redirect catcher holds nothing up."""
    any_port = tmp_path / "settings.toml"
    any_port.write_text("[strava]\nredirect_port = 0\n")
    sockets: list[socket.socket] = []

    class Browser(NoUI):
        def show(self, text: str) -> None:
            pass

        def open_browser(self, url: str) -> None:
            redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
            port = urlsplit(redirect).port
            assert port is not None
            sockets.append(socket.create_connection(("127.0.0.1", port)))  # says nothing
            half = socket.create_connection(("127.0.0.1", port))
            half.sendall(b"GET /authorized?state=")  # and stops mid-line
            sockets.append(half)

            def follow() -> None:
                urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                    authorize(url), timeout=5
                ).read()

            threading.Thread(target=follow, daemon=True).start()

    began = time.monotonic()
    done = connect(
        settings(fake, tmp_path, HEAVYLEGS_CONFIG=str(any_port)), Browser(), timeout_s=30
    )
    assert time.monotonic() - began < 10
    assert done.athlete_id == 31415926
    assert not (tmp_path / "strava-token-pending.json").exists()
    for idle in sockets:
        idle.close()


def test_since_leaves_out_what_an_export_brought(fake: FakeStrava, tmp_path: Path) -> None:
    connected(fake, tmp_path)
    result = cli(fake, tmp_path, "strava", "sync", "--full", "--since", "2026-09-07")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("strava: 6 new activities")
    assert "full re-read done" in result.stdout
    listings = [r for r in fake.requests if r.path == "/athlete/activities"]
    assert len(listings) == 2  # the re-read, then the plain listing
    local_midnight = datetime(2026, 9, 7, tzinfo=ZoneInfo("Europe/Berlin"))  # the sample's zone
    assert {int(r.query["after"]) for r in listings} == {int(local_midnight.timestamp()) - 1}
    fake.activities.extend(make_history(1, start=START - timedelta(days=100), first_id=77))
    later = synced(fake, tmp_path, full=True)  # the floor lasts, also for a full re-read
    assert later.stored == 0 and later.rescan == "done"
    ids = stored_ids(tmp_path)
    assert len(ids) == 6 and "77" not in ids
