"""A message when a new cause appears (issue 24, item 16), through Apprise to a real HTTP
endpoint on 127.0.0.1 started by the test: sent once, masked when printed, a failure one
warning that never stops the sync or the watcher."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from heavylegs_sync.analysis.today import Cause, Signal, Today
from heavylegs_sync.config import Settings, load_settings
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.model import Category
from heavylegs_sync.notify import check, mask, notify_store, state_key
from heavylegs_sync.report.today import cause_fix
from heavylegs_sync.store import Store
from heavylegs_sync.watch import FolderWatcher, WatchOptions
from tests.conftest import BERLIN, heavylegs_cli
from tests.histories import activity, store_history
from tests.strava_server import FakeStrava, make_history
from tests.test_strava_program import START, connected, environment

SETTINGS = '[athlete]\ntimezone = "Europe/Berlin"\nmax_hr = 190\n'


class Endpoint:
    """A webhook on 127.0.0.1: records each JSON message; answers ``status``."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.status = 200
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if endpoint.status == 200:
                    endpoint.messages.append(json.loads(body))
                self.send_response(endpoint.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, secret: str = "s3cret-token") -> str:
        """An Apprise address for this endpoint, with a password that must never print."""
        return f"json://hook:{secret}@127.0.0.1:{self.port}/notify"

    def __enter__(self) -> Endpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    with Endpoint() as running:
        yield running


def three_weeks_without_rest(db: Path, last: date) -> None:
    """A run every day, too much of it hard, no strength, up to the day before ``last``."""
    runs = [
        activity(Category.RUN, last - timedelta(days=d), 50, hard_share=0.4) for d in range(1, 22)
    ]
    store_history(db, runs)


def settings_for(tmp_path: Path) -> Settings:
    config = tmp_path / "heavylegs.toml"
    config.write_text(SETTINGS, encoding="utf-8")
    return load_settings(config=config, db=tmp_path / "store.sqlite", env={})


def test_a_burst_of_short_nights_alone_tells_the_new_cause(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    day = date(2026, 11, 20)
    settings = settings_for(tmp_path)
    easy = [activity(Category.RUN, day - timedelta(days=d), 40) for d in (1, 3, 5, 8, 10, 12)]
    store_history(settings.db_path, easy)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nights = inbox / "wellness.csv"
    rows = "".join(f"{day - timedelta(days=d)},5.5\n" for d in range(3))
    nights.write_text("date,sleep_hours\n" + rows, encoding="utf-8")
    options = WatchOptions(folders=[inbox], once=True, notify=(endpoint.url(),))
    with Store.open(settings.db_path) as store:
        watcher = FolderWatcher(
            store,
            settings,
            DecodeOptions(zone=BERLIN),
            options,
            today=lambda: datetime.combine(day, time(12), BERLIN),
        )
        burst = watcher.import_burst([nights])
    assert [r.outcome for r in burst.results] == ["new"] and not burst.new_ids
    (message,) = endpoint.messages
    assert message["title"].startswith("Heavy legs on Fri 20 Nov: cause 10: Sleep deprivation")


# -- the library: decide, send, remember -------------------------------------------------


def test_new_causes_are_sent_once_in_the_words_of_today(tmp_path: Path, endpoint: Endpoint) -> None:
    day = date(2026, 11, 23)
    settings = settings_for(tmp_path)
    three_weeks_without_rest(settings.db_path, day)
    with Store.open(settings.db_path) as store:
        first = notify_store(store, settings, [endpoint.url()], day)
        again = notify_store(store, settings, [endpoint.url()], day)
        later = notify_store(store, settings, [endpoint.url()], day + timedelta(days=1))
    assert [d.outcome for d in first.deliveries] == ["sent"]
    assert first.deliveries[0].causes == ("cause 1", "cause 2", "cause 5")
    (message,) = endpoint.messages  # the second and third check found nothing new
    assert [d.outcome for d in again.deliveries] == ["nothing new"]
    assert [d.outcome for d in later.deliveries] == ["nothing new"]
    assert message["title"].startswith("Heavy legs on Mon 23 Nov: cause 1: Not enough recovery")
    body = message["message"]
    assert "21 training days in a row without rest" in body
    assert body.count("What to do: ") == 3 and "Rest today" in body


def test_a_failed_delivery_is_one_masked_warning_and_is_tried_again(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    day = date(2026, 11, 23)
    settings = settings_for(tmp_path)
    three_weeks_without_rest(settings.db_path, day)
    endpoint.status = 500
    with Store.open(settings.db_path) as store:
        failed = notify_store(store, settings, [endpoint.url()], day)
        assert store.get_state(state_key(endpoint.url())) is None  # nothing marked as told
        endpoint.status = 200
        retried = notify_store(store, settings, [endpoint.url()], day)
    (warning,) = failed.warnings()
    assert warning.startswith(f"notification to json://…@127.0.0.1:{endpoint.port}/… not")
    assert "s3cret" not in warning and "hook" not in warning
    assert [d.outcome for d in retried.deliveries] == ["sent"]
    assert len(endpoint.messages) == 1


def test_each_address_is_told_apart_and_a_cause_that_returns_is_new_again() -> None:
    values = {1: {"min_rest_days": 1, "days": 7}, 5: {"weekly": 2}}

    def cause(number: int) -> Cause:
        signal = Signal(f"message-{number}", 1.5, {})
        return Cause(number, f"code-{number}", 1.5, (signal,), values=values[number])

    sent: list[tuple[str, str]] = []

    def send(url: str, title: str, body: str) -> str | None:
        if url == "json://down":
            return "connection refused"
        sent.append((url, body))
        return None

    day = date(2026, 11, 23)
    state: dict[str, str | None] = {}
    urls = ["json://up", "json://down"]

    def run(*numbers: int) -> list[str]:
        answer = Today(day, [cause(n) for n in numbers], 30, 20)
        result, updates = check(answer, urls, state, send)
        state.update(updates)
        return [d.outcome for d in result.deliveries]

    assert run(1) == ["sent", "failed"]
    assert run(1) == ["nothing new", "failed"]  # the failed one is tried again
    assert run(1, 5) == ["sent", "failed"]
    # Only what is new, and a pointer to the rest.
    fix = cause_fix(cause(5))
    assert sent[-1][1].startswith(f"message 5 What to do: {fix}\n\nRun 'heavylegs today'")
    assert "message 1" not in sent[-1][1]
    assert run(5) == ["nothing new", "failed"]  # cause 1 went away ...
    assert run(1, 5) == ["sent", "failed"]  # ... and came back: new again
    assert len(sent) == 3


def test_addresses_are_masked() -> None:
    assert mask("json://user:pw@example.com:8080/hook?token=abc") == "json://…@example.com:8080/…"
    assert mask("ntfys://my-secret-topic") == "ntfys://…"
    assert mask("tgram://123456:ABCdef/987") == "tgram://…/…"
    assert mask("mailtos://me:pw@gmail.com") == "mailtos://…@gmail.com"
    assert mask("no address") == "…"
    assert mask("json://localhost:8000/x") == "json://localhost:8000/…"


# -- the commands ---------------------------------------------------------------------


def test_watch_notifies_once_and_a_dead_endpoint_never_stops_it(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    today = datetime.now(BERLIN).date()
    db = tmp_path / "store.sqlite"
    three_weeks_without_rest(db, today)
    config = tmp_path / "heavylegs.toml"
    config.write_text(SETTINGS, encoding="utf-8")
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(config)}
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    watch = ("watch", str(inbox), "--once", "--settle", "0.2", "--notify", endpoint.url())
    first = heavylegs_cli(*watch, env=env)
    assert first.returncode == 0, first.stderr
    assert len(endpoint.messages) == 1
    assert f"NOTICE notified json://…@127.0.0.1:{endpoint.port}/…: cause 1" in first.stderr
    again = heavylegs_cli(*watch, env=env)
    assert again.returncode == 0 and len(endpoint.messages) == 1 and "notified" not in again.stderr
    dead = f"json://hook:s3cret@127.0.0.1:{endpoint.port + 1 if endpoint.port < 65535 else 1}/x"
    endpoint.status = 503
    down = heavylegs_cli(
        "watch", str(inbox), "--once", "--notify", dead, "--notify", endpoint.url("other"),
        env=env,
    )  # fmt: skip
    assert down.returncode == 0, down.stderr
    warnings = [line for line in down.stderr.splitlines() if "not delivered" in line]
    assert len(warnings) == 2 and all(w.startswith("WARNING notification to ") for w in warnings)
    assert "s3cret" not in down.stderr and "other" not in down.stderr


def test_the_settings_file_names_addresses_too(tmp_path: Path, endpoint: Endpoint) -> None:
    today = datetime.now(BERLIN).date()
    db = tmp_path / "store.sqlite"
    three_weeks_without_rest(db, today)
    config = tmp_path / "heavylegs.toml"
    config.write_text(SETTINGS + f'[notify]\nurls = ["{endpoint.url()}"]\n', encoding="utf-8")
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(config)}
    assert heavylegs_cli("config", env=env).returncode == 0
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    done = heavylegs_cli("watch", str(inbox), "--once", env=env)
    assert done.returncode == 0, done.stderr
    assert len(endpoint.messages) == 1
    config.write_text(SETTINGS + '[notify]\nurls = ["not an address"]\n', encoding="utf-8")
    bad = heavylegs_cli("config", env=env)
    assert bad.returncode == 1 and str(config) in bad.stderr and "[notify] urls" in bad.stderr


def test_strava_sync_notifies_and_a_failed_delivery_keeps_the_exit_status(
    tmp_path: Path, endpoint: Endpoint
) -> None:
    today = datetime.now(BERLIN).date()
    three_weeks_without_rest(tmp_path / "store.sqlite", today)
    with FakeStrava(make_history(2, start=START), mode="2027") as fake:
        connected(fake, tmp_path)
        env = environment(fake, tmp_path)
        config = tmp_path / "heavylegs.toml"
        config.write_text(SETTINGS, encoding="utf-8")
        env["HEAVYLEGS_CONFIG"] = str(config)
        done = heavylegs_cli("strava", "sync", "--notify", endpoint.url(), env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("strava: 2 new activities")
        assert len(endpoint.messages) == 1
        assert "cause 1" in endpoint.messages[0]["title"]
        endpoint.status = 500
        quiet = heavylegs_cli(
            "strava", "sync", "-q", "--notify", endpoint.url("fresh"), env=env, timeout=120
        )
        assert quiet.returncode == 0 and quiet.stdout == ""
        (line,) = quiet.stderr.splitlines()
        assert line.startswith("warning: notification to json://…@127.0.0.1:")
        assert "fresh" not in line
