"""Faults after the store is open (issue 25): corrupt pages, a read-only file or folder, a
full disk, a SQLite file that is not ours, and how the store's files are created.

Every command ends with exactly one error line and a non-zero status (never a traceback),
nothing stored before is lost, and a store that can be read serves the reading commands.
The store is a real one, built from the sample athlete; pages are overwritten in a copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from heavylegs_sync.cli import main
from heavylegs_sync.errors import StoreFull
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.ingest import import_paths
from heavylegs_sync.store import Store
from tests.conftest import BERLIN, FILES, SAMPLE, heavylegs_cli

CONFIG = SAMPLE / "heavylegs.toml"
PAGE = 4096
NEW_RUN = FILES / "run-1hz.fit.gz"  # not in the sample athlete: importing it writes
#: Every command that opens the store, with arguments that make it read or write.
COMMANDS = [
    ["report", "--since", "2026-09-01", "--until", "2026-11-30"],
    ["report", "--format", "json", "--since", "2026-09-01", "--until", "2026-11-30"],
    ["today", "--date", "2026-10-05"],
    ["activities"],
    ["info"],
    ["forget", "--yes", "3"],
    ["import", str(NEW_RUN)],
    ["check"],
]
READING = [c for c in COMMANDS if c[0] in ("report", "today", "activities", "info")]


@pytest.fixture(scope="module")
def sample_store(sample_template: Path) -> Path:
    """A real store holding the sample athlete (built once; tests work on copies)."""
    return sample_template


@pytest.fixture
def store_copy(sample_store: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store.sqlite"
    shutil.copy(sample_store, target)
    return target


def _env(db: Path) -> dict[str, str]:
    return {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(CONFIG)}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.lower().startswith("error")]


def assert_one_error(code: int, stderr: str, *needles: str) -> str:
    """Exit status 1, exactly one error line (with every needle), no traceback."""
    assert code == 1, stderr
    assert "Traceback" not in stderr
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def overwrite_page(path: Path, page: int, data: bytes | None = None) -> None:
    """Overwrite 4 KB page ``page`` (0-based) with noise (the same noise every run)."""
    noise = data if data is not None else hashlib.sha256(str(page).encode()).digest() * 128
    with path.open("r+b") as handle:
        handle.seek(page * PAGE)
        handle.write(noise[:PAGE])


def activity_count(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as raw:
        return int(raw.execute("SELECT count(*) FROM activities").fetchone()[0])


# -- corrupt pages --------------------------------------------------------------------


def test_corrupt_pages_give_one_line_in_every_command(sample_store: Path, tmp_path: Path) -> None:
    """4 KB of noise at many offsets, every command: either it works (the page was not
    needed) or it says, in one line naming the store, what to do; never a traceback."""
    pages = os.path.getsize(sample_store) // PAGE
    outcomes: dict[str, int] = {"ok": 0, "error": 0}
    runner = CliRunner()
    for page in [0, 1, *range(2, pages, 11)]:
        for command in COMMANDS:
            copy = tmp_path / "c.sqlite"
            shutil.copy(sample_store, copy)
            for suffix in ("-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
            overwrite_page(copy, page)
            result = runner.invoke(main, ["--config", str(CONFIG), "--db", str(copy), *command])
            where = f"page {page}, {' '.join(command)}"
            assert result.exception is None or isinstance(result.exception, SystemExit), where
            assert "Traceback" not in result.stderr, where
            lines = error_lines(result.stderr)
            if result.exit_code == 0:
                assert lines == [], where
                assert "malformed" not in result.output, where  # not hidden in a note
                outcomes["ok"] += 1
                continue
            assert result.exit_code == 1, where
            assert len(lines) == 1, (where, result.stderr)
            if command[0] == "forget" and "no such activity" in lines[0]:
                outcomes["ok"] += 1  # the activity's row was in the noise: said so
                continue
            assert str(copy) in lines[0] or "c.sqlite" in lines[0], (where, lines)
            assert any(
                hint in lines[0]
                for hint in ("heavylegs check", "restore a backup", "not a usable heavylegs store")
            ), (where, lines)
            outcomes["error"] += 1
    assert outcomes["error"] >= len(COMMANDS)  # page 0 at least: the damage was met
    assert outcomes["ok"] > 0


def test_a_damaged_table_is_one_line_in_a_real_process(store_copy: Path) -> None:
    raw = sqlite3.connect(store_copy)
    (root,) = raw.execute("SELECT rootpage FROM sqlite_master WHERE name = 'activities'").fetchone()
    raw.close()
    overwrite_page(store_copy, root - 1)
    for command in (["activities"], ["report"], ["import", str(NEW_RUN)]):
        done = heavylegs_cli(*command, env=_env(store_copy))
        assert done.returncode == 1, (command, done.stdout[-500:])
        assert_one_error(done.returncode, done.stderr, "damaged", "heavylegs check")
    done = heavylegs_cli("check", env=_env(store_copy))
    assert_one_error(done.returncode, done.stderr, "damaged", "restore a backup")
    assert "tables and indexes damaged: activities" in done.stdout


def _samples_overflow_page(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as raw:
        pages = [
            int(r[0])
            for r in raw.execute(
                "SELECT pageno FROM dbstat WHERE name = 'samples' AND pagetype = 'overflow'"
                " ORDER BY pageno"
            )
        ]
    return pages[len(pages) // 2]


def _changed_samples(before: Path, after: Path) -> list[int]:
    """Activities whose stored samples differ between two copies (the test's own oracle)."""
    with sqlite3.connect(before) as a, sqlite3.connect(after) as b:
        ids = [int(r[0]) for r in a.execute("SELECT activity_id FROM samples")]
        changed = []
        for activity in ids:
            sql = "SELECT data FROM samples WHERE activity_id = ?"
            try:
                same = (
                    a.execute(sql, (activity,)).fetchone() == b.execute(sql, (activity,)).fetchone()
                )
            except sqlite3.DatabaseError:
                same = False
            if not same:
                changed.append(activity)
    return changed


def test_check_names_the_activity_a_damaged_page_holds(
    sample_store: Path, store_copy: Path
) -> None:
    done = heavylegs_cli("check", env=_env(store_copy))
    assert done.returncode == 0, done.stderr
    assert "ok (integrity_check; 68 activities read)" in done.stdout
    page = _samples_overflow_page(store_copy)
    overwrite_page(store_copy, page - 1, b"\xff" * PAGE)  # a broken overflow chain
    expected = _changed_samples(sample_store, store_copy)
    assert len(expected) == 1
    done = heavylegs_cli("check", env=_env(store_copy))
    assert_one_error(done.returncode, done.stderr, "damaged", "restore a backup")
    assert "tables and indexes damaged: samples" in done.stdout
    assert f"activities affected: {expected[0]}\n" in done.stdout
    quick = heavylegs_cli("check", "--quick", env=_env(store_copy))
    assert quick.returncode == 1 and "quick_check" in quick.stdout


def test_check_on_a_file_without_its_header(store_copy: Path) -> None:
    overwrite_page(store_copy, 0)
    done = heavylegs_cli("check", env=_env(store_copy))
    assert_one_error(done.returncode, done.stderr, "cannot be checked", "restore a backup")


# -- read-only ------------------------------------------------------------------------


def _as_plain_user() -> list[str]:
    """A prefix that runs a command without root's power to ignore file modes: as root,
    the capabilities are dropped (setpriv), so a 0444 file is read-only even to uid 0."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only to us")
    prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"]
    if subprocess.run([*prefix, "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("setpriv cannot drop capabilities here: a 0444 file stays writable to root")
    return prefix


def run_plain(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import sys

    return subprocess.run(
        [*_as_plain_user(), sys.executable, "-m", "heavylegs_sync", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **_env(db)},
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def read_only_store(store_copy: Path) -> Iterator[Path]:
    store_copy.chmod(0o444)
    yield store_copy
    store_copy.parent.chmod(0o755)
    store_copy.chmod(0o644)


@pytest.mark.parametrize("folder_too", [False, True], ids=["file", "file-and-folder"])
def test_a_read_only_store_serves_reading_commands(read_only_store: Path, folder_too: bool) -> None:
    before = digest(read_only_store)
    if folder_too:
        read_only_store.parent.chmod(0o555)
    for command in READING:
        done = run_plain(read_only_store, *command)
        assert done.returncode == 0, (command, done.stderr)
        assert error_lines(done.stderr) == [] and "Traceback" not in done.stderr
    for command in (["import", str(NEW_RUN)], ["forget", "--yes", "3"]):
        done = run_plain(read_only_store, *command)
        assert_one_error(done.returncode, done.stderr, "cannot be written", "permissions")
    assert digest(read_only_store) == before
    assert activity_count(read_only_store) == 68


def test_watch_on_a_read_only_store_keeps_running(read_only_store: Path, tmp_path: Path) -> None:
    """The watcher logs the store error, waits and retries the file; it does not die."""
    import sys
    import time

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE / "2026-10-05-0700-run.fit", inbox / "new.fit")
    log = tmp_path / "watch.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [*_as_plain_user(), sys.executable, "-m", "heavylegs_sync", "watch", str(inbox),
             "--settle", "0.3"],
            stdout=subprocess.DEVNULL, stderr=sink, env={**os.environ, **_env(read_only_store)},
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while log.read_text().count("retrying in") < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert process.poll() is None, log.read_text()
        finally:
            process.terminate()
            code = process.wait(30)
    text = log.read_text()
    assert "retrying in 5 s" in text and "retrying in 10 s" in text, text
    assert "cannot be written" in text and "Traceback" not in text
    assert code == 0


# -- a full disk ----------------------------------------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 600 KB tmpfs (root only): a disk that really fills."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root; the page-limit test covers a full store")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_during_import_on_a_real_tmpfs(
    small_tmpfs: Path, record_property: Callable[[str, object], None]
) -> None:
    """The real thing (ENOSPC from the kernel): one line, what was stored is kept."""
    record_property("full_disk", "a 600 KB tmpfs")
    db = small_tmpfs / "store.sqlite"
    # Several times: stopping the workers mid-answer once hung about one run in four.
    for _ in range(4):
        for stale in small_tmpfs.iterdir():
            stale.unlink()
        done = heavylegs_cli(
            "import", "--workers", "1", str(SAMPLE), env=_env(db), timeout=90, process=True
        )  # a real process: its end frees what it held on the full disk
        line = assert_one_error(done.returncode, done.stderr, "disk is full", "free space")
        assert "stopped after:" in line
    kept = activity_count(db)
    assert 0 < kept < 68
    check = heavylegs_cli("check", env=_env(db))
    assert check.returncode == 0, check.stdout + check.stderr
    subprocess.run(["mount", "-o", "remount,size=20m", str(small_tmpfs)], check=True)
    again = heavylegs_cli("import", str(SAMPLE), env=_env(db))
    assert again.returncode == 0, again.stderr
    assert activity_count(db) == 68


def test_a_full_store_page_limit_stops_the_import_with_our_error(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """Where no tmpfs can be mounted: SQLite's max_page_count makes the store "full"
    (SQLITE_FULL, the code a full disk gives) on this connection."""
    record_property("full_disk", "PRAGMA max_page_count")
    db = tmp_path / "store.sqlite"
    files = sorted(SAMPLE.glob("*.fit"))
    with Store.open(db) as store:
        import_paths(store, files[:3], _options())
        pages = int(store.connection.db.execute("PRAGMA page_count").fetchone()[0])
        store.connection.db.execute(f"PRAGMA max_page_count = {pages + 8}")
        with pytest.raises(StoreFull, match="disk is full"):
            import_paths(store, files[3:], _options())
        assert not store.connection.db.in_transaction  # type: ignore[attr-defined]
    assert activity_count(db) >= 3
    with Store.open(db) as store:  # the limit was this connection's: the next run goes on
        summary = import_paths(store, files, _options())
    assert summary.failed == 0 and activity_count(db) == len(files)


def _options() -> DecodeOptions:
    return DecodeOptions(zone=BERLIN)


# -- files that are not ours ------------------------------------------------------------


def test_a_writing_command_refuses_a_sqlite_file_that_is_not_a_store(tmp_path: Path) -> None:
    other = tmp_path / "notes.sqlite"
    with sqlite3.connect(other) as raw:
        raw.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        raw.execute("INSERT INTO notes (text) VALUES ('mine')")
    before = digest(other)
    for command in (["import", str(NEW_RUN)], ["forget", "--yes", "1"], ["strava", "sync"]):
        done = heavylegs_cli(*command, env=_env(other))
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert len(error_lines(done.stderr)) == 1, done.stderr
    done = heavylegs_cli("import", str(NEW_RUN), env=_env(other))
    assert_one_error(done.returncode, done.stderr, "not a heavylegs store", "notes")
    assert digest(other) == before
    assert not Path(f"{other}-wal").exists()
    with sqlite3.connect(other) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        names = [r[0] for r in raw.execute("SELECT name FROM sqlite_master")]
    assert names == ["notes"]


def test_store_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "new" / "folder" / "store.sqlite"
    old = os.umask(0o022)
    try:
        with Store.open(db) as store:
            import_paths(store, [NEW_RUN], _options())
            modes = {
                name: stat.S_IMODE(os.stat(f"{db}{name}").st_mode) for name in ("", "-wal", "-shm")
            }
            assert store.count() == 1
    finally:
        os.umask(old)
    assert modes == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


# -- settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[athlete]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested 100000 deep"),
        ("[athlete]\nx = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n", "nested 3000 deep"),
        ("[athlete]\n" + ".".join(["a"] * 50_000) + " = 1\n", "dots"),
    ],
    ids=["arrays", "inline-tables", "dotted-keys"],
)
def test_a_deeply_nested_settings_file_is_one_line(tmp_path: Path, text: str, needle: str) -> None:
    config = tmp_path / "deep.toml"
    config.write_text(text)
    for command in (["info"], ["report"], ["import", str(NEW_RUN)]):
        env = {"HEAVYLEGS_DB": str(tmp_path / "s.sqlite"), "HEAVYLEGS_CONFIG": str(config)}
        done = heavylegs_cli(*command, env=env, timeout=60)
        assert_one_error(done.returncode, done.stderr, str(config), needle)
        assert "RecursionError" not in done.stderr
    assert not (tmp_path / "s.sqlite").exists()


# -- strava sync ------------------------------------------------------------------------


def test_strava_sync_on_a_damaged_or_read_only_store_is_one_line(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from tests.strava_server import FakeStrava, make_history
    from tests.test_strava_program import connected, environment, synced

    start = datetime(2026, 9, 1, 5, 0, tzinfo=UTC)
    with FakeStrava(make_history(6, start=start), mode="2027") as fake:
        connected(fake, tmp_path)
        assert not synced(fake, tmp_path).failure
        db = tmp_path / "store.sqlite"
        kept = activity_count(db)
        assert kept > 0
        env = environment(fake, tmp_path)
        fake.activities.extend(
            make_history(2, start=datetime(2026, 10, 20, 5, 0, tzinfo=UTC), first_id=900)
        )

        db.chmod(0o444)
        done = run_plain_env(env, "strava", "sync")
        assert_one_error(done.returncode, done.stderr, "cannot be written")
        for lock in tmp_path.glob("*.strava.lock"):
            lock.unlink()
        tmp_path.chmod(0o555)  # the folder too: not even the sync lock can be made
        try:
            done = run_plain_env(env, "strava", "sync")
        finally:
            tmp_path.chmod(0o755)
        assert_one_error(done.returncode, done.stderr, "sync lock", "permissions")
        db.chmod(0o600)
        assert activity_count(db) == kept

        raw = sqlite3.connect(db)
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the page lives in the main file
        (root,) = raw.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'activities'"
        ).fetchone()
        raw.close()
        overwrite_page(db, root - 1)
        done = heavylegs_cli("strava", "sync", env=env, timeout=120)
        assert_one_error(done.returncode, done.stderr, "damaged", "heavylegs check")


def run_plain_env(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    import sys

    return subprocess.run(
        [*_as_plain_user(), sys.executable, "-m", "heavylegs_sync", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
