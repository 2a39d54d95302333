"""Strava for a squad: one application, an athlete's tokens of their own, ``sync --all``.

Against the fake Strava server on 127.0.0.1 with two athletes' accounts behind one
application (one rate limit for both), real stores, and the command line (in this process,
through Click's runner, as tests/conftest.py runs it).
"""

from __future__ import annotations

import json
import stat
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from filelock import FileLock

from heavylegs_sync.store import Store
from tests.conftest import SAMPLE, heavylegs_cli
from tests.strava_server import DEFAULT_ATHLETE, FakeStrava, make_history

START = datetime(2026, 9, 1, 5, 0, tzinfo=UTC)
ALICE_STRAVA = int(DEFAULT_ATHLETE["id"])  # the fake's first account
BEN_STRAVA = 27182818
ALICE_RUNS = make_history(6, start=START)
BEN_RUNS = make_history(6, start=START, every_hours=30, first_id=13_000_000_001)


@pytest.fixture
def fake() -> Iterator[FakeStrava]:
    with FakeStrava(ALICE_RUNS) as server:
        server.add_account(BEN_STRAVA, BEN_RUNS)
        yield server


def environment(fake: FakeStrava, target: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "HEAVYLEGS_DB": target,
        "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
        "HEAVYLEGS_STRAVA_API_URL": fake.url,
        "STRAVA_CLIENT_ID": "1234",
        "STRAVA_CLIENT_SECRET": "s3cret",
        "XDG_DATA_HOME": str(tmp_path / "data"),  # a server's local folder (tokens, locks)
        "NO_PROXY": "127.0.0.1,localhost",
        **extra,
    }


class Squad:
    """A store of two athletes, alice (the store's first) and ben, and the command line."""

    def __init__(self, fake: FakeStrava, target: str, tmp_path: Path) -> None:
        self.fake = fake
        self.target = target
        self.tmp_path = tmp_path
        self.outputs: list[str] = []
        for name in ("alice", "ben"):
            self.ok("athletes", "add", name)

    def run(self, *args: str, **extra: str) -> CompletedProcess[str]:
        done = heavylegs_cli(*args, env=environment(self.fake, self.target, self.tmp_path, **extra))
        self.outputs.append(done.stdout + done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def ok(self, *args: str, **extra: str) -> CompletedProcess[str]:
        done = self.run(*args, **extra)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def connect_both(self) -> None:
        self.ok("--athlete", "alice", "strava", "connect", "--code", self.fake.issue_code("a"))
        code = self.fake.issue_code("b", athlete_id=BEN_STRAVA)
        self.ok("strava", "connect", "--athlete", "ben", "--code", code)

    def stored(self, name: str) -> list[int]:
        with Store.open(self.target, athlete=name, read_only=True) as store:
            return sorted(int(a.source_id) for a in store.activities() if a.source == "strava")

    def no_token_shown(self) -> None:
        """No output of any command carried any token the server issued."""
        secrets = self.fake.issued_access_tokens + self.fake.issued_refresh_tokens
        assert secrets
        for text in self.outputs:
            assert not any(secret in text for secret in secrets), text


@pytest.fixture
def squad(fake: FakeStrava, tmp_path: Path) -> Squad:
    return Squad(fake, str(tmp_path / "store.sqlite"), tmp_path)


def stream_fetches(fake: FakeStrava) -> Counter[int]:
    """Successful stream fetches per Strava activity id."""
    return Counter(
        int(r.path.split("/")[-2])
        for r in fake.requests
        if r.path.endswith("/streams") and r.status == 200
    )


def ids(runs: list[object]) -> list[int]:
    return sorted(int(getattr(run, "id")) for run in runs)  # noqa: B009


def test_each_athlete_has_a_token_file_of_their_own(squad: Squad, tmp_path: Path) -> None:
    squad.connect_both()
    first = tmp_path / "strava-token.json"  # the store's first athlete keeps the old name
    folder = tmp_path / "strava-tokens"
    ben = folder / "athlete-2.json"
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert stat.S_IMODE(ben.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert json.loads(first.read_text())["athlete_id"] == ALICE_STRAVA
    assert json.loads(ben.read_text())["athlete_id"] == BEN_STRAVA
    assert "ben's tokens saved in" in squad.outputs[-1]
    # A rename changes nothing: the file is named by the athlete's id.
    squad.ok("athletes", "rename", "ben", "benjamin")
    assert squad.ok("strava", "sync", "--athlete", "benjamin").stdout.startswith(
        "strava: 6 new activities"
    )
    assert squad.stored("benjamin") == ids(list(BEN_RUNS))
    assert squad.stored("alice") == []
    # Without a name, a store of several athletes asks for one.
    done = squad.run("strava", "sync")
    assert done.returncode == 1 and "choose one with --athlete NAME" in done.stderr
    assert done.stderr.count("\n") == 1
    squad.no_token_shown()


def test_an_athletes_commands_never_read_another_athletes_tokens(
    squad: Squad, tmp_path: Path
) -> None:
    squad.connect_both()
    ben = tmp_path / "strava-tokens" / "athlete-2.json"
    ben.chmod(0o644)  # read by anyone, it would be refused: alice's commands never open it
    done = squad.ok("--athlete", "alice", "strava", "sync")
    assert done.stdout.startswith("strava: 6 new activities")
    assert squad.stored("alice") == ids(list(ALICE_RUNS)) and squad.stored("ben") == []
    refused = squad.run("strava", "sync", "--athlete", "ben")
    assert refused.returncode == 1 and "other users may read" in refused.stderr
    ben.unlink()
    missing = squad.run("strava", "sync", "--athlete", "ben")
    assert missing.returncode == 1
    assert "ben is not connected to Strava" in missing.stderr
    assert "strava connect --athlete ben" in missing.stderr
    again = squad.ok("--athlete", "alice", "strava", "sync")
    assert again.stdout.startswith("strava: 0 new activities")
    # Both ways of naming the athlete must agree.
    both = squad.run("--athlete", "alice", "strava", "sync", "--athlete", "ben")
    assert both.returncode == 2 and "name one athlete" in both.stderr
    squad.no_token_shown()


def test_one_strava_account_feeds_one_athlete(squad: Squad, tmp_path: Path) -> None:
    squad.ok("strava", "connect", "--athlete", "alice", "--code", squad.fake.issue_code("a"))
    done = squad.run("strava", "connect", "--athlete", "ben", "--code", squad.fake.issue_code("x"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert f"athlete {ALICE_STRAVA}) already feeds athlete alice" in done.stderr
    assert not (tmp_path / "strava-tokens" / "athlete-2.json").exists()
    # Once alice is disconnected, the account may feed ben.
    squad.ok("strava", "disconnect", "--athlete", "alice")
    squad.ok("strava", "connect", "--athlete", "ben", "--code", squad.fake.issue_code("y"))
    assert (tmp_path / "strava-tokens" / "athlete-2.json").exists()


def test_sync_all_takes_turns_within_one_budget_and_resumes(squad: Squad, tmp_path: Path) -> None:
    squad.connect_both()
    tiny = tmp_path / "tiny.toml"
    tiny.write_text((SAMPLE / "heavylegs.toml").read_text() + "\n[strava]\nmax_requests = 8\n")
    # 8 requests: each athlete's zones and list, then streams in turn: two runs each.
    first = squad.ok("strava", "sync", "--all", HEAVYLEGS_CONFIG=str(tiny))
    lines = first.stdout.splitlines()
    assert lines == [
        "alice: 2 new activities, 4 waiting, 4 requests",
        "ben: 2 new activities, 4 waiting, 4 requests",
        "squad of 2 athletes: 4 new activities, 8 waiting, 8 requests",
        "stopped: this run's budget of 8 requests is spent (setting [strava]",
        "  max_requests)",
        "the next run goes on with alice, ben",
    ]
    assert first.stderr == ""
    assert len(squad.stored("alice")) == 2 and len(squad.stored("ben")) == 2
    # The next runs resume where it stopped, until both are done.
    for _ in range(3):
        squad.ok("strava", "sync", "--all", HEAVYLEGS_CONFIG=str(tiny))
    last = squad.ok("strava", "sync", "--all")
    assert last.stdout.splitlines()[-1].startswith("squad of 2 athletes: 0 new activities, 0")
    assert squad.stored("alice") == ids(list(ALICE_RUNS))
    assert squad.stored("ben") == ids(list(BEN_RUNS))
    fetched = stream_fetches(squad.fake)
    assert sorted(fetched) == sorted(ids(list(ALICE_RUNS)) + ids(list(BEN_RUNS)))
    assert set(fetched.values()) == {1}  # nothing fetched twice
    squad.no_token_shown()


def test_sync_all_shares_stravas_rate_limit_then_resumes_in_the_next_window(
    tmp_path: Path,
) -> None:
    """Strava's headers count the application's requests: 10 per window, 3 kept in
    reserve, so 7 this window for both athletes together."""
    with FakeStrava(ALICE_RUNS, short_limit=10) as fake:
        fake.add_account(BEN_STRAVA, BEN_RUNS)
        squad = Squad(fake, str(tmp_path / "store.sqlite"), tmp_path)
        squad.connect_both()
        first = squad.ok("strava", "sync", "--all")
        assert first.stdout.splitlines()[:3] == [
            "alice: 2 new activities, 4 waiting, 4 requests",
            "ben: 1 new activity, 5 waiting, 3 requests",
            "squad of 2 athletes: 3 new activities, 9 waiting, 7 requests",
        ]
        assert "request budget reached (7/10 in 15 min" in first.stdout
        assert fake.read_usage[0] == 7
        for _ in range(3):  # 7 requests a window: 2 zones, 2 lists, 3 streams
            fake.reset_usage()  # a new 15-minute window
            squad.ok("strava", "sync", "--all")
        assert squad.stored("ben") == ids(list(BEN_RUNS))
        assert squad.stored("alice") == ids(list(ALICE_RUNS))
        assert set(stream_fetches(fake).values()) == {1}
        assert [r for r in fake.requests if r.status == 429] == []


def test_a_revoked_athlete_fails_alone(squad: Squad) -> None:
    squad.connect_both()
    squad.fake.revoke_account(BEN_STRAVA)  # on strava.com: 401, and the refresh refused
    done = squad.run("strava", "sync", "--all")
    assert done.returncode == 1
    assert done.stdout.splitlines() == ["alice: 6 new activities, 0 waiting, 8 requests"]
    errors = done.stderr.splitlines()
    assert len(errors) == 2, done.stderr  # ben's line, and the squad's
    assert errors[0].startswith("error: ben: failed: Strava no longer accepts")
    assert "'heavylegs strava connect --athlete ben'" in errors[0]
    assert errors[1] == "squad of 2 athletes: 6 new activities, 0 waiting, 9 requests"
    assert squad.stored("alice") == ids(list(ALICE_RUNS)) and squad.stored("ben") == []
    squad.no_token_shown()


def test_two_athletes_sync_at_once_one_never_twice(squad: Squad, tmp_path: Path) -> None:
    squad.connect_both()
    with FileLock(str(tmp_path / "store.sqlite") + ".strava.lock"):  # alice's sync runs
        busy = squad.run("strava", "sync", "--athlete", "alice")
        assert busy.returncode == 1
        assert "another 'heavylegs strava sync' of alice is running" in busy.stderr
        squad.ok("strava", "sync", "--athlete", "ben")
        everyone = squad.ok("strava", "sync", "--all")
    assert everyone.stdout.splitlines()[0] == (
        "alice: skipped: another 'heavylegs strava sync' of it is running"
    )
    assert squad.stored("alice") == [] and squad.stored("ben") == ids(list(BEN_RUNS))


def test_sync_all_with_nobody_connected_says_so(fake: FakeStrava, tmp_path: Path) -> None:
    target = tmp_path / "store.sqlite"
    env = environment(fake, str(target), tmp_path)
    nothing = heavylegs_cli("strava", "sync", "--all", env=env)
    assert nothing.returncode == 1 and "no store yet" in nothing.stderr
    assert not target.exists()
    squad = Squad(fake, str(target), tmp_path)
    done = squad.run("strava", "sync", "--all")
    assert done.returncode == 1 and done.stdout == "" and done.stderr.count("\n") == 1
    assert "no athlete of" in done.stderr and "strava connect --athlete NAME" in done.stderr
    named = squad.run("--athlete", "ben", "strava", "sync", "--all")
    assert named.returncode == 2 and "leave out --athlete ben" in named.stderr


def test_one_token_file_setting_for_several_athletes_is_refused(
    squad: Squad, tmp_path: Path
) -> None:
    done = squad.run(
        "strava",
        "connect",
        "--athlete",
        "ben",
        "--code",
        "c",
        HEAVYLEGS_STRAVA_TOKEN=str(tmp_path / "t.json"),
    )
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "token_file names one token file" in done.stderr
    assert "holds 2 athletes" in done.stderr


def test_a_runners_store_keeps_its_token_file_when_a_squad_joins(
    fake: FakeStrava, tmp_path: Path
) -> None:
    target = str(tmp_path / "store.sqlite")
    env = environment(fake, target, tmp_path)
    assert heavylegs_cli("strava", "connect", "--code", fake.issue_code(), env=env).returncode == 0
    assert heavylegs_cli("strava", "sync", env=env).returncode == 0  # the store gets "me"
    assert (tmp_path / "strava-token.json").exists()
    assert heavylegs_cli("athletes", "add", "ben", env=env).returncode == 0
    done = heavylegs_cli("--athlete", "me", "strava", "sync", env=env)
    assert done.returncode == 0 and done.stdout.startswith("strava: 0 new activities")


def test_removing_an_athlete_revokes_and_deletes_their_tokens(squad: Squad, tmp_path: Path) -> None:
    squad.connect_both()
    ben = tmp_path / "strava-tokens" / "athlete-2.json"
    refresh = json.loads(ben.read_text())["refresh_token"]
    squad.ok("athletes", "remove", "ben", "--yes")
    assert not ben.exists()
    assert not squad.fake.refresh_token_valid(refresh)
    # A new athlete may get the same id: they start unconnected.
    squad.ok("athletes", "add", "carol")
    done = squad.run("strava", "sync", "--athlete", "carol")
    assert done.returncode == 1 and "carol is not connected" in done.stderr
    assert squad.ok("strava", "sync", "--athlete", "alice").stdout.startswith("strava: 6 new")


def test_sync_all_on_postgresql(fake: FakeStrava, pg_url: str, tmp_path: Path) -> None:
    squad = Squad(fake, pg_url, tmp_path)
    squad.connect_both()
    folders = list((tmp_path / "data" / "heavylegs" / "servers").iterdir())
    assert len(folders) == 1
    assert (folders[0] / "strava-token.json").exists()
    assert (folders[0] / "strava-tokens" / "athlete-2.json").exists()
    done = squad.ok("strava", "sync", "--all")
    assert done.stdout.splitlines()[:2] == [
        "alice: 6 new activities, 0 waiting, 8 requests",
        "ben: 6 new activities, 0 waiting, 8 requests",
    ]
    assert squad.stored("alice") == ids(list(ALICE_RUNS))
    assert squad.stored("ben") == ids(list(BEN_RUNS))
    squad.no_token_shown()
