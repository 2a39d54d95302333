"""Athletes (issue 23): every row is one athlete's, on both backends; nothing of one
athlete reaches another's commands; an existing store becomes one athlete's, whole."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

import pytest

from heavylegs_sync import api
from heavylegs_sync.errors import AthleteError, ConfigError, StoreError
from heavylegs_sync.store import DEFAULT_ATHLETE, MIGRATIONS, Store, _statements
from tests.conftest import SAMPLE, SAMPLE_CONFIG, heavylegs_cli

UNTIL = "2026-11-30"


def run(target: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return heavylegs_cli("--db", str(target), "--config", str(SAMPLE_CONFIG), *args, env={})


@pytest.fixture
def squad(backend: str | Path) -> str | Path:
    """A store of two athletes: alice with the sample's history, bob with nothing yet."""
    for name in ("alice", "bob"):
        done = run(backend, "athletes", "add", name)
        assert done.returncode == 0, done.stderr
    done = run(backend, "--athlete", "alice", "import", str(SAMPLE))
    assert done.returncode == 0, done.stderr
    return backend


def test_one_athletes_data_never_reaches_another(squad: str | Path) -> None:
    alice = run(squad, "--athlete", "alice", "activities", "--format", "json")
    ids = [row["id"] for row in json.loads(alice.stdout)]
    assert len(ids) > 60
    bob = run(squad, "--athlete", "bob", "activities", "--format", "json")
    assert bob.returncode == 0 and json.loads(bob.stdout) == []
    report = run(squad, "--athlete", "bob", "report", "--until", UNTIL)
    assert report.returncode == 0 and "Nothing imported yet" in report.stdout
    wellness = run(squad, "--athlete", "bob", "wellness", "--format", "json")
    assert json.loads(wellness.stdout) == []
    # bob cannot forget alice's activity by its id: to him it does not exist
    forget = run(squad, "--athlete", "bob", "forget", "--yes", str(ids[0]))
    assert forget.returncode == 1 and str(ids[0]) in forget.stderr
    again = run(squad, "--athlete", "alice", "activities", "--format", "json")
    assert [row["id"] for row in json.loads(again.stdout)] == ids
    # the library sees what the command sees
    with Store.open(squad, athlete="bob", read_only=True) as store:
        assert api.activities(store).empty
        assert store.samples(ids[0]) is None and store.start_of(ids[0]) is None
        assert store.count() == 0 and store.import_log() == []
        assert store.activities_local() == []
    with Store.open(squad, athlete="alice", read_only=True) as store:
        assert len(api.activities(store)) == len(ids)
        assert {row["athlete"] for row in store.activities_local()} == {"alice"}
    # nor keep figures for it through his store: refused, in words, nothing written
    refused = pytest.raises(StoreError, match=f"activity {ids[0]} is not this athlete's")
    with Store.open(squad, athlete="bob") as store, refused:
        store.save_derived("test:kind", {ids[0]: "1.0"})
    with Store.open(squad, athlete="alice") as store:
        assert store.derived("test:kind", ids) == {}
        store.save_derived("test:kind", {ids[0]: "2.0"})  # hers: kept
        assert store.derived("test:kind", ids) == {ids[0]: "2.0"}


def test_the_same_file_is_new_for_each_athlete(squad: str | Path) -> None:
    done = run(squad, "--athlete", "bob", "import", str(SAMPLE))
    assert done.returncode == 0, done.stderr
    assert "69 new" in done.stdout and "0 already imported" in done.stdout
    alice = run(squad, "--athlete", "alice", "report", "--until", UNTIL)
    bob = run(squad, "--athlete", "bob", "report", "--until", UNTIL)
    assert "Week of" in alice.stdout

    def unnumbered(text: str) -> str:  # bob's copies have ids of their own
        return " ".join(re.sub(r"#\d+", "#", text).split())  # and wrapped apart

    assert unnumbered(alice.stdout) == unnumbered(bob.stdout)  # the same verdicts, apart
    run(squad, "athletes", "remove", "--yes", "bob")
    after = run(squad, "--athlete", "alice", "report", "--until", UNTIL)
    assert after.stdout == alice.stdout  # removing bob took nothing of alice's


def test_several_athletes_need_a_name_and_an_unknown_one_is_one_line(squad: str | Path) -> None:
    done = run(squad, "report")
    assert done.returncode == 1
    assert "2 athletes (alice, bob)" in done.stderr and "--athlete" in done.stderr
    assert "Traceback" not in done.stderr
    done = run(squad, "--athlete", "carol", "import", str(SAMPLE / "heavylegs.toml"))
    assert done.returncode == 1 and "no athlete 'carol'" in done.stderr
    assert "athletes add carol" in done.stderr
    done = run(squad, "athletes", "add", "alice")
    assert done.returncode == 1 and "already an athlete 'alice'" in done.stderr


def test_athletes_list_rename_and_remove(squad: str | Path) -> None:
    listed = run(squad, "athletes", "list").stdout.splitlines()
    assert listed[0].split() == [
        "athlete",
        "activities",
        "files",
        "wellness",
        "days",
        "time",
        "zone",
    ]
    alice = listed[1].split()
    assert alice[0] == "alice" and int(alice[1]) == 68 and int(alice[3]) == 112
    assert listed[2].split()[:4] == ["bob", "0", "0", "0"]
    assert max(len(line) for line in listed) <= 80
    assert run(squad, "athletes", "rename", "alice", "alicia").returncode == 0
    done = run(squad, "--athlete", "alicia", "activities", "--format", "json")
    assert len(json.loads(done.stdout)) == 68
    refused = run(squad, "athletes", "remove", "alicia")  # no terminal to ask on
    assert refused.returncode == 1 and "add --yes" in refused.stderr
    assert run(squad, "athletes", "remove", "--yes", "alicia").returncode == 0
    assert run(squad, "athletes", "list").stdout.splitlines()[1].split()[0] == "bob"
    # bob alone: commands need no name again
    assert run(squad, "report", "--until", UNTIL).returncode == 0


def test_per_athlete_settings_beat_the_shared_ones(squad: str | Path, tmp_path: Path) -> None:
    config = tmp_path / "squad.toml"
    config.write_text(
        SAMPLE_CONFIG.read_text()
        + "\n[athletes.bob.athlete]\nmax_hr = 200\nlthr = 180\n"
        + "\n[athletes.bob.rules]\nmin_rest_days = 3\n"
    )
    run(squad, "--athlete", "bob", "import", str(SAMPLE))

    def today(name: str) -> dict[str, object]:
        done = heavylegs_cli(
            "--db", str(squad), "--config", str(config), "--athlete", name,
            "today", "--date", "2026-11-20", "--format", "json", env={},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    assert today("alice") != today("bob")
    bad = tmp_path / "bad.toml"
    bad.write_text("[athletes.bob.rules]\nmin_rest_dayz = 3\n")
    done = heavylegs_cli(
        "--db", str(squad), "--config", str(bad), "--athlete", "alice", "info", env={}
    )  # fmt: skip
    assert (
        done.returncode == 1 and "[athletes.bob]" in done.stderr and "min_rest_days" in done.stderr
    )


def test_an_athletes_own_time_zone_places_their_activities(backend: str | Path) -> None:
    run(backend, "athletes", "add", "kai", "--timezone", "Asia/Tokyo")
    with Store.open(backend, unscoped=True, read_only=True) as store:
        assert store.athletes.get("kai") is not None
        assert store.athletes.get("kai").timezone == "Asia/Tokyo"  # type: ignore[union-attr]
    done = heavylegs_cli(
        "--db", str(backend), "athletes", "add", "x", "--timezone", "Mars/Base", env={}
    )  # fmt: skip
    assert done.returncode == 1 and "unknown time zone" in done.stderr


def test_a_store_from_before_athletes_becomes_one_athletes_whole(tmp_path: Path) -> None:
    """Schema 10 -> 11: every row (and the samples hanging off activities) is "me"'s."""
    from heavylegs_sync.categories import sport_name

    path = tmp_path / "old.sqlite"
    raw = sqlite3.connect(path)
    raw.create_function("heavylegs_sport_name", 2, sport_name)
    for script in MIGRATIONS[:10]:
        for statement in _statements(script):
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 10")
    stamp = "2026-11-02T07:00:00.000000Z"
    raw.execute(
        "INSERT INTO activities (id, source, source_id, category, start_utc, utc_offset_s,"
        " offset_source, timer_s, imported_at) VALUES (7, 'fit', 'a', 'run', ?, 3600,"
        " 'device', 3600, ?)",
        (stamp, stamp),
    )
    raw.execute("INSERT INTO samples (activity_id, n, data) VALUES (7, 1, x'00')")
    raw.execute(
        "INSERT INTO files (sha256, path, size, activities, imported_at)"
        " VALUES ('s1', '/x/a.fit', 10, 1, ?)",
        (stamp,),
    )
    raw.execute(
        "INSERT INTO import_log (at, path, sha256, outcome, activities)"
        " VALUES (?, '/x/a.fit', 's1', 'new', 1)",
        (stamp,),
    )
    raw.execute("INSERT INTO state (key, value) VALUES ('strava.after', '123')")
    raw.execute(
        "INSERT INTO wellness (day, source, origin, resting_hr, imported_at)"
        " VALUES ('2026-11-02', 'csv', 'x.csv', 48, ?)",
        (stamp,),
    )
    raw.commit()
    raw.close()
    with Store.open(path) as store:
        assert store.athlete is not None and store.athlete.name == DEFAULT_ATHLETE
        assert store.count() == 1 and store.start_of(7) is not None
        assert store.known_file("s1") is not None and len(store.import_log()) == 1
        assert store.get_state("strava.after") == "123"
        assert [w.resting_hr for w in store.wellness()] == [48]
        assert store.packed_samples(7) == b"\x00"
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA foreign_key_check").fetchall() == []
    assert check.execute("SELECT DISTINCT athlete_id FROM activities").fetchall() == [(1,)]
    check.close()


def test_a_new_store_gets_its_athlete_on_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    with Store.open(path) as store:
        assert store.athlete is not None and store.athlete.name == DEFAULT_ATHLETE
    with Store.open(path, unscoped=True) as store:
        store.athletes.add("zoe")
    with pytest.raises(AthleteError, match="2 athletes"):
        Store.open(path)
    with Store.open(path, athlete="zoe") as store:
        assert store.count() == 0
    with pytest.raises(AthleteError, match="letters, digits"), Store.open(path, unscoped=True) as s:
        s.athletes.add("../etc")


def test_an_athlete_table_that_is_not_one_is_refused(tmp_path: Path) -> None:
    from heavylegs_sync.config import load_settings

    bad = tmp_path / "bad.toml"
    bad.write_text("[athletes.bob.strava]\nclient_id = 1\n")
    with pytest.raises(ConfigError, match=r"\[athletes.bob\] has no table 'strava'"):
        load_settings(config=bad, db=tmp_path / "s.sqlite")
    good = tmp_path / "good.toml"
    good.write_text("[rules]\nmin_rest_days = 2\n[athletes.bob.rules]\nmin_rest_days = 3\n")
    assert load_settings(config=good, db=tmp_path / "s.sqlite").rules.min_rest_days == 2
    chosen = load_settings(config=good, db=tmp_path / "s.sqlite", athlete="bob")
    assert chosen.rules.min_rest_days == 3 and date(2026, 1, 1)
