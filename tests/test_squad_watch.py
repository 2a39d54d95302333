"""Watched folders for a squad (issue 23): ``watch --athlete NAME`` and ``watch
--per-athlete ROOT``, where each sub-folder is the inbox of the athlete of its name.

Real files from the sample athlete, a real store (SQLite and PostgreSQL), the command
itself; the long-running squad watcher runs on real file events in a thread.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from heavylegs_sync.config import load_settings
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.model import Category
from heavylegs_sync.squad_watch import SquadWatcher, athlete_report
from heavylegs_sync.store import Store
from heavylegs_sync.watch import WatchOptions
from tests.conftest import BERLIN, SAMPLE, SAMPLE_CONFIG, heavylegs_cli
from tests.histories import activity
from tests.test_notify import SETTINGS as NOTIFY_SETTINGS
from tests.test_notify import Endpoint
from tests.test_watch import wait_for

RUNS = sorted(SAMPLE.glob("*-run.fit"))


def env_of(target: str, config: Path = SAMPLE_CONFIG) -> dict[str, str]:
    return {"HEAVYLEGS_DB": target, "HEAVYLEGS_CONFIG": str(config)}


def add_athletes(env: dict[str, str], *names: str) -> None:
    for name in names:
        done = heavylegs_cli("athletes", "add", name, env=env)
        assert done.returncode == 0, done.stderr


def sources(env: dict[str, str], athlete: str) -> list[str]:
    """The file names each of the athlete's activities came from, as they list them."""
    done = heavylegs_cli("--athlete", athlete, "activities", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    return sorted(Path(s).name for row in json.loads(done.stdout) for s in row["sources"])


def put(folder: Path, *files: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        shutil.copy(file, folder / file.name)


def test_the_athlete_flag_and_the_watch_option_name_whose_inbox_it_is(
    backend: str, tmp_path: Path
) -> None:
    env = env_of(backend)
    add_athletes(env, "anna", "ben")
    put(tmp_path / "a", RUNS[0])
    put(tmp_path / "b", RUNS[1])
    report = tmp_path / "reports" / "{athlete}.txt"
    first = heavylegs_cli("--athlete", "anna", "watch", "--once", "--settle", "0.1",
                          str(tmp_path / "a"), env=env)  # fmt: skip
    second = heavylegs_cli("watch", "--athlete", "ben", "--once", "--settle", "0.1",
                           "--report", str(report), str(tmp_path / "b"), env=env)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert sources(env, "anna") == [RUNS[0].name]
    assert sources(env, "ben") == [RUNS[1].name]
    assert (tmp_path / "reports" / "ben.txt").is_file()  # {athlete}: whose report it is
    # Without a name, a store of two athletes is refused in one line, nothing imported.
    refused = heavylegs_cli("watch", "--once", str(tmp_path / "a"), env=env)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "--athlete NAME" in refused.stderr


def test_per_athlete_each_folder_goes_to_its_athlete_and_no_one_else(
    backend: str, tmp_path: Path
) -> None:
    env = env_of(backend)
    add_athletes(env, "anna", "ben", "Ana María")
    root = tmp_path / "squad"
    put(root / "anna", RUNS[0], RUNS[1])
    put(root / "anna" / "2026" / "october", RUNS[2])  # sub-folders of an inbox count
    put(root / "ben", RUNS[3], RUNS[0])  # the same file as anna's: each holds their own
    put(root / "Ana María", RUNS[4])
    put(root / "carl", RUNS[5])  # no such athlete
    put(root / ".stfolder", RUNS[6])  # a sync app's: hidden, left alone in silence
    put(root, RUNS[7])  # directly in the root: nobody's
    reports = tmp_path / "www" / "reports"
    command = ("watch", "--per-athlete", str(root), "--once", "--settle", "0.1",
               "--report", str(reports / "{athlete}.html"))  # fmt: skip

    done = heavylegs_cli(*command, env=env)

    assert done.returncode == 0, done.stderr
    assert sources(env, "anna") == sorted(f.name for f in RUNS[:3])
    assert sources(env, "ben") == sorted([RUNS[3].name, RUNS[0].name])
    assert sources(env, "Ana María") == [RUNS[4].name]
    lines = done.stderr.splitlines()
    (unknown,) = [line for line in lines if "carl" in line]
    assert unknown.startswith("WARNING") and unknown.endswith("heavylegs athletes add carl")
    (loose,) = [line for line in lines if RUNS[7].name in line]
    assert loose.startswith("WARNING") and "not imported" in loose
    assert not any(".stfolder" in line or RUNS[6].name in line for line in lines)
    for name, new in (("anna", 3), ("ben", 2), ("Ana María", 1)):
        assert f"NOTICE {name}: {new} new, 0 already imported, 0 skipped, 0 failed" in lines
    # One report per athlete, named as `heavylegs team` links them; none for carl.
    assert sorted(p.name for p in reports.iterdir()) == [
        "Ana%20Mar%C3%ADa.html", "anna.html", "ben.html"
    ]  # fmt: skip

    # Again: nothing twice; carl's folder and the stray file are said again, once each.
    again = heavylegs_cli(*command, env=env)
    assert again.returncode == 0, again.stderr
    assert "NOTICE anna: 0 new, 3 already imported, 0 skipped, 0 failed" in again.stderr
    assert again.stderr.count("heavylegs athletes add carl") == 1
    assert sources(env, "anna") == sorted(f.name for f in RUNS[:3])

    # carl added: his folder is his.
    add_athletes(env, "carl")
    third = heavylegs_cli(*command, env=env)
    assert third.returncode == 0 and "athletes add carl" not in third.stderr, third.stderr
    assert sources(env, "carl") == [RUNS[5].name]


def test_per_athlete_settings_weigh_each_athletes_files(tmp_path: Path) -> None:
    """The same run in two folders: anna's zones (estimated from her runs) find it too
    hard; ben's own maximum heart rate (``[athletes.ben.athlete]``) finds it easy."""
    config = tmp_path / "heavylegs.toml"
    config.write_text(
        SAMPLE_CONFIG.read_text() + "\n[athletes.ben.athlete]\nmax_hr = 240\n", encoding="utf-8"
    )
    env = env_of(str(tmp_path / "store.sqlite"), config)
    add_athletes(env, "anna", "ben")
    root = tmp_path / "squad"
    put(root / "anna", RUNS[0])
    put(root / "ben", RUNS[0])
    done = heavylegs_cli("watch", "--per-athlete", "--once", "--settle", "0.1", str(root), env=env)
    assert done.returncode == 0, done.stderr
    findings = [line for line in done.stderr.splitlines() if "finding:" in line]
    assert any(line.startswith("WARNING anna: finding:") and "too-much-hard" in line
               for line in findings), done.stderr  # fmt: skip
    assert not any("ben:" in line and "too-much-hard" in line for line in findings)
    assert any(line.startswith("WARNING ben: finding:") for line in findings)  # others yes


def test_a_link_into_another_athletes_folder_is_not_read(tmp_path: Path) -> None:
    env = env_of(str(tmp_path / "store.sqlite"))
    add_athletes(env, "anna", "ben")
    root = tmp_path / "squad"
    put(root / "ben", RUNS[0])
    (root / "anna").mkdir()
    (root / "anna" / "bens.fit").symlink_to(root / "ben" / RUNS[0].name)
    done = heavylegs_cli("watch", "--per-athlete", "--once", "--settle", "0.1", str(root), env=env)
    assert done.returncode == 0, done.stderr
    assert sources(env, "anna") == []
    assert sources(env, "ben") == [RUNS[0].name]
    assert "bens.fit: a symbolic link to" in done.stderr and "not read" in done.stderr


def test_a_folder_that_links_to_another_athletes_or_the_root_is_not_watched(
    tmp_path: Path,
) -> None:
    """ROOT/al -> ROOT/ben would give al ben's files (al comes first by name, and still
    does not take ben's folder); ROOT/cleo -> ROOT every file."""
    env = env_of(str(tmp_path / "store.sqlite"))
    add_athletes(env, "ben", "al", "cleo")
    root = tmp_path / "squad"
    put(root / "ben", RUNS[0])
    (root / "al").symlink_to(root / "ben")
    (root / "cleo").symlink_to(root)
    done = heavylegs_cli("watch", "--per-athlete", "--once", "--settle", "0.1", str(root), env=env)
    assert done.returncode == 0, done.stderr
    assert sources(env, "ben") == [RUNS[0].name]
    assert sources(env, "al") == sources(env, "cleo") == []
    lines = done.stderr.splitlines()
    assert any("al: a link to" in line and "ben's files; not watched" in line for line in lines)
    assert any("cleo: a link to" in line and "the whole squad; not watched" in line
               for line in lines), done.stderr  # fmt: skip


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--athlete", "anna", "watch", "--per-athlete", "ROOT"], "leave out --athlete"),
        (["watch", "--athlete", "anna", "--per-athlete", "ROOT"], "leave out --athlete"),
        (["watch", "--per-athlete", "ROOT", "ROOT"], "takes one folder"),
        (["watch", "--per-athlete", "ROOT", "--report", "r.html"], "{athlete} in its name"),
        (["watch", "--per-athlete", "ROOT", "--rejected", "ROOT/bad"], "outside it"),
    ],
)
def test_what_per_athlete_refuses(tmp_path: Path, args: list[str], says: str) -> None:
    root = tmp_path / "squad"
    root.mkdir()
    words = [a.replace("ROOT", str(root)) for a in args]
    done = heavylegs_cli(*words, "--once", env=env_of(str(tmp_path / "store.sqlite")))
    assert done.returncode == 2 and says in done.stderr, done.stderr
    assert not (tmp_path / "store.sqlite").exists()  # refused before any work


def test_the_athlete_variable_is_set_aside_for_a_squad(tmp_path: Path) -> None:
    """HEAVYLEGS_ATHLETE (meant for other commands, in a shared server.env) does not stop
    the squad's watcher; -v says it was not used."""
    env = env_of(str(tmp_path / "store.sqlite")) | {"HEAVYLEGS_ATHLETE": "anna"}
    add_athletes(env, "anna", "ben")
    root = tmp_path / "squad"
    put(root / "ben", RUNS[0])
    done = heavylegs_cli("-v", "watch", "--per-athlete", "--once", str(root), env=env)
    assert done.returncode == 0, done.stderr
    assert "HEAVYLEGS_ATHLETE=anna not used" in done.stderr
    assert sources(env, "ben") == [RUNS[0].name]


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    root = tmp_path / "squad"
    root.mkdir()
    env = env_of(str(tmp_path / "store.sqlite"))
    yield root, tmp_path / "store.sqlite", env


def squad_watcher(
    store: Store, root: Path, db: Path, config: Path = SAMPLE_CONFIG, **more: Any
) -> SquadWatcher:
    """The squad's watcher as ``watch --per-athlete`` builds it, looking again often."""
    settings = load_settings(config=config, db=db, env={})
    options = replace(WatchOptions(folders=[root.resolve()], settle_s=0.2, tick_s=0.05), **more)
    return SquadWatcher(
        store, settings, options, lambda _: DecodeOptions(zone=BERLIN), recheck_s=0.3
    )


class Lines(logging.Handler):
    """Every line heavylegs logs (the commands run here keep it from the root logger)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def lines() -> Iterator[Lines]:
    logger = logging.getLogger("heavylegs")
    handler = Lines()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_the_serving_squad_picks_up_new_folders_and_new_athletes(
    serving: tuple[Path, Path, dict[str, str]], lines: Lines
) -> None:
    root, db, env = serving
    add_athletes(env, "anna", "dora")
    put(root / "anna", RUNS[0])
    put(root / "carl", RUNS[1])
    with Store.open(db, unscoped=True) as store:
        squad = squad_watcher(store, root, db)
        thread = threading.Thread(target=squad.run)
        thread.start()
        try:
            wait_for(lambda: "anna" in squad.watchers, 30, "anna's watcher")
            wait_for(lambda: sources(env, "anna") == [RUNS[0].name], 30, "anna's file")
            put(root / "anna" / "later", RUNS[2])  # while running, in a new sub-folder
            put(root / "dora", RUNS[3])  # a folder that appears, of an athlete
            put(root, RUNS[4])  # a stray file
            wait_for(lambda: sources(env, "dora") == [RUNS[3].name], 30, "dora's new folder")
            wait_for(lambda: len(sources(env, "anna")) == 2, 30, "anna's later file")
            add_athletes(env, "carl")  # nothing on disk changes: the periodic look finds him
            wait_for(lambda: sources(env, "carl") == [RUNS[1].name], 30, "carl, once added")
            done = heavylegs_cli("athletes", "remove", "--yes", "dora", env=env)
            assert done.returncode == 0, done.stderr
            wait_for(lambda: "dora" not in squad.watchers, 30, "dora's folder let go")
            put(root / "dora", RUNS[5])
        finally:
            squad.stop.set()
            thread.join(30)
    assert not thread.is_alive()
    messages = lines.messages
    assert sum("heavylegs athletes add carl" in m for m in messages) == 1
    assert sum(RUNS[4].name in m and "nobody's" in m for m in messages) == 1
    assert sum("not watched any more" in m and "dora" in m for m in messages) == 1
    assert not any("heavylegs athletes add dora" in m for m in messages)  # said once: gone
    assert sources(env, "anna") == sorted([RUNS[0].name, RUNS[2].name])
    assert messages[-1] == "stopped"


def test_a_squad_message_names_the_athlete(tmp_path: Path) -> None:
    """Short nights dropped into anna's folder bring cause 10 today: the coach's address
    hears it as anna's."""
    db = tmp_path / "store.sqlite"
    config = tmp_path / "heavylegs.toml"
    config.write_text(NOTIFY_SETTINGS, encoding="utf-8")
    add_athletes(env_of(str(db), config), "anna", "ben")
    today = datetime.now(BERLIN).date()
    with Store.open(db, athlete="anna") as store:
        for days in (1, 3, 5, 8, 10, 12):
            store.add_activity(activity(Category.RUN, today - timedelta(days=days), 40))
    nights = "".join(f"{today - timedelta(days=d)},5.5\n" for d in range(3))
    (root := tmp_path / "squad" / "anna").mkdir(parents=True)
    (root / "wellness.csv").write_text("date,sleep_hours\n" + nights, encoding="utf-8")
    (tmp_path / "squad" / "ben").mkdir()
    with Endpoint() as endpoint, Store.open(db, unscoped=True) as store:
        squad = squad_watcher(
            store, tmp_path / "squad", db, config, once=True, notify=(endpoint.url(),)
        )
        assert squad.run() == 0
    (message,) = endpoint.messages
    assert message["title"].startswith(f"anna: Heavy legs on {today:%a %d %b}: cause 10")


def test_athlete_report_names_a_file_per_athlete() -> None:
    assert athlete_report(Path("r/{athlete}.html"), "anna") == Path("r/anna.html")
    assert athlete_report(Path("r/{athlete}.json"), "a/b") == Path("r/a%2Fb.json")
    assert athlete_report(Path("r/report.txt"), "anna") == Path("r/report.txt")


def test_the_squad_outlives_a_lost_database_connection(
    pg_url: str, tmp_path: Path, lines: Lines
) -> None:
    """The server ends every heavylegs connection (a restart, an idle timeout): the
    watcher connects again and the next file is imported, with one warning."""
    env = env_of(pg_url)
    add_athletes(env, "anna")
    root = tmp_path / "squad"
    put(root / "anna", RUNS[0])
    status: list[int] = []
    with Store.open(pg_url, unscoped=True) as store:
        squad = squad_watcher(store, root, tmp_path / "unused.sqlite", retry_s=0.1)
        thread = threading.Thread(target=lambda: status.append(squad.run()))
        thread.start()
        try:
            wait_for(lambda: sources(env, "anna") == [RUNS[0].name], 30, "the first file")
            with psycopg.connect(pg_url, autocommit=True) as admin:
                ended = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name = 'heavylegs'"
                ).fetchone()
            assert ended is not None and ended[0] >= 1
            put(root / "anna", RUNS[1])
            wait_for(lambda: len(sources(env, "anna")) == 2, 30, "the file after the loss")
        finally:
            squad.stop.set()
            thread.join(30)
    assert status == [0]
    assert any("the connection was lost; connecting again" in m for m in lines.messages)
