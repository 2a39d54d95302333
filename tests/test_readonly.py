"""Commands that only look never create or migrate a store; source paths are absolute."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from heavylegs_sync.categories import sport_name
from heavylegs_sync.errors import StoreError
from heavylegs_sync.output import shown_path
from heavylegs_sync.store import MIGRATIONS, SCHEMA_VERSION, Store, _statements
from tests.conftest import SAMPLE, heavylegs_cli
from tests.test_store import make_activity

RUN = SAMPLE / "2026-09-29-0700-run.fit"


def cli(tmp_path: Path, *args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    env = {"HEAVYLEGS_DB": str(tmp_path / "store.sqlite"),
           "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml")}  # fmt: skip
    if cwd is None:
        result = heavylegs_cli(*args, env=env)
    else:
        here = os.getcwd()
        os.chdir(cwd)
        try:
            result = heavylegs_cli(*args, env={**env, "PYTHONPATH": str(Path(here))})
        finally:
            os.chdir(here)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("command", [["activities"], ["report"], ["report", "--format", "json"]])
def test_reading_commands_do_not_create_a_store(tmp_path: Path, command: list[str]) -> None:
    code, out, err = cli(tmp_path, *command)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "no store here yet" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no store, no -wal, no folder


def old_store(path: Path, version: int = SCHEMA_VERSION - 1) -> None:
    raw = sqlite3.connect(path)
    raw.create_function("heavylegs_sport_name", 2, sport_name)  # as Store.open registers it
    for script in MIGRATIONS[:version]:
        for statement in _statements(script):
            raw.execute(statement)
    raw.execute(f"PRAGMA user_version = {version}")
    raw.commit()
    raw.close()


def test_read_only_refuses_an_older_schema_and_leaves_it(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old_store(path)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="older schema") as caught:
        Store.open(path, read_only=True)
    assert "heavylegs import" in str(caught.value)
    assert path.read_bytes() == before
    code, _, err = cli(tmp_path, "--db", str(path), "activities")
    assert code == 1 and "older schema" in err and err.count("\n") == 1
    assert path.read_bytes() == before
    with Store.open(path) as store:  # a writing command migrates it
        assert store.schema_version() == SCHEMA_VERSION
    with Store.open(path, read_only=True) as store:
        assert store.count() == 0


def test_read_only_refuses_what_is_not_a_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    with pytest.raises(StoreError, match="not a heavylegs store"):
        Store.open(empty, read_only=True)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database\n" * 100)
    with pytest.raises(StoreError, match="not a usable heavylegs store"):
        Store.open(junk, read_only=True)
    with pytest.raises(StoreError, match="newer heavylegs"):
        raw = sqlite3.connect(tmp_path / "new.sqlite")
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        raw.close()
        Store.open(tmp_path / "new.sqlite", read_only=True)


def test_read_only_store_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Store.open(path).close()
    with Store.open(path, read_only=True) as store, pytest.raises(StoreError, match="read-only"):
        store.add_file("/x/a.fit", "sha", 1, [make_activity()])
    with Store.open(path, read_only=True) as store:
        store.save_derived("k", {1: "2"})  # held, not written
        assert store.derived("k", [1]) == {1: "2"}
        assert store.unsaved_derived() == {"k": {1: "2"}}
    with Store.open(path) as store:
        assert store.derived("k", [1]) == {}


def test_report_keeps_figures_it_computed(tmp_path: Path) -> None:
    """The report reads read-only, then keeps the figures (a cache) without migrating."""
    code, _, err = cli(tmp_path, "import", str(RUN))
    assert code == 0, err
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        raw.execute("DELETE FROM derived")
    code, _, err = cli(tmp_path, "report", "--since", "2026-09-28", "--until", "2026-10-04")
    assert code == 0, err
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        assert raw.execute("SELECT count(*) FROM derived").fetchone()[0] > 0


def test_source_paths_are_stored_absolute_and_shown_relative(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(RUN, inbox / "run.fit")
    code, _, err = cli(tmp_path, "import", "inbox/run.fit", cwd=tmp_path)
    assert code == 0, err
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        (path,) = raw.execute("SELECT source_path FROM activities").fetchone()
        (logged,) = raw.execute("SELECT path FROM import_log").fetchone()
        (file_path,) = raw.execute("SELECT path FROM files").fetchone()
    expected = str((inbox / "run.fit").resolve())
    assert path == logged == file_path == expected
    assert shown_path(path, cwd=tmp_path) == os.path.join("inbox", "run.fit")
    far = Path("/usr/share/doc")
    assert shown_path(path, cwd=far) == expected  # relative would be longer
