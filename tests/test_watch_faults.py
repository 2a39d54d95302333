"""The watcher and files it does not own (issue 25): symbolic links out of the inbox are
never read, nothing planted in the rejected folder is written through, copies are no more
readable than their source; and a store error (a full store) re-queues the files.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import stat
import sys
import time
from pathlib import Path

import pytest

from heavylegs_sync.config import load_settings
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.store import Store
from heavylegs_sync.watch import FolderWatcher, WatchOptions
from tests.conftest import BERLIN, FILES, SAMPLE
from tests.test_watch import Service, count, wait_for

GOOD = sorted(SAMPLE.glob("2026-10-0*.fit"))
BAD = FILES / "bad-crc.fit"


def test_symlinks_out_of_the_inbox_are_not_read_and_planted_links_not_followed(
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("TOPSECRET\n")
    secret.chmod(0o600)
    victim = outside / "victim.txt"
    victim.write_text("original\n")
    victim_note = outside / "victim-note.txt"
    victim_note.write_text("original note\n")
    rejected = tmp_path / "rejected"
    rejected.mkdir()
    # Planted: the temporary name the old code wrote through, a note's name, and a
    # dangling link where a copy could go.
    (rejected / ".bad.fit.part").symlink_to(victim)
    (rejected / "bad.fit.reason.txt").symlink_to(victim_note)
    (rejected / "bad-1.fit").symlink_to(outside / "would-be-created")
    (inbox / "passwd.fit").symlink_to("/etc/passwd")
    (inbox / "secret.fit").symlink_to(secret)
    (inbox / "environ.fit").symlink_to("/proc/self/environ")
    sub = inbox / "sub"
    sub.mkdir()
    (sub / "etc.fit").symlink_to(Path("/etc/hostname"))
    shutil.copy(BAD, inbox / "bad.fit")
    (inbox / "bad.fit").chmod(0o640)
    shutil.copy(GOOD[0], inbox / "good.fit")
    (inbox / "inside.fit").symlink_to(inbox / "good.fit")  # inside the inbox: fine

    service = Service(tmp_path, inbox, "--rejected", str(rejected))
    wait_for(lambda: count(tmp_path) == 1, 60, "the good file")
    wait_for(lambda: any(rejected.glob("bad-*.fit.reason.txt")), 60, "the rejected copy")
    time.sleep(1.5)  # a few more settle periods: anything else would have happened by now
    assert service.stop() == 0
    log = service.text()

    assert victim.read_text() == "original\n" and victim_note.read_text() == "original note\n"
    assert not (outside / "would-be-created").exists()
    copy = rejected / "bad-2.fit"
    assert copy.read_bytes() == BAD.read_bytes()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600  # 0640 at most 0600
    assert stat.S_IMODE((rejected / "bad-2.fit.reason.txt").stat().st_mode) == 0o600
    names = sorted(p.name for p in rejected.iterdir())
    assert names == [
        ".bad.fit.part", "bad-1.fit", "bad-2.fit", "bad-2.fit.reason.txt", "bad.fit.reason.txt"
    ]  # fmt: skip
    for path in rejected.iterdir():
        if not path.is_symlink():
            content = path.read_bytes()
            assert b"TOPSECRET" not in content and b"root:" not in content
    for name in ("passwd.fit", "secret.fit", "environ.fit", "sub/etc.fit"):
        assert f"{name}: a symbolic link to" in log, log
        assert "outside the watched folders; not read" in log
    assert "inside.fit: a symbolic link" not in log


def test_a_created_rejected_folder_is_private_and_copies_keep_a_tighter_mode(
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(BAD, inbox / "bad.fit")
    (inbox / "bad.fit").chmod(0o400)
    rejected = tmp_path / "new" / "rejected"
    service = Service(tmp_path, inbox, "--rejected", str(rejected))
    wait_for(lambda: (rejected / "bad.fit.reason.txt").exists(), 60, "the rejected copy")
    assert service.stop() == 0
    assert stat.S_IMODE(rejected.stat().st_mode) == 0o700
    assert stat.S_IMODE((rejected / "bad.fit").stat().st_mode) == 0o400


def test_a_store_error_requeues_the_files_and_the_watcher_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A full store (SQLite's max_page_count on the watcher's connection: SQLITE_FULL, as
    a full disk gives): the burst fails, is logged, the files go back to the queue, the
    wait doubles; once there is room they are imported."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in GOOD:
        shutil.copy(path, inbox / path.name)
    settings = load_settings(config=SAMPLE / "heavylegs.toml", db=tmp_path / "s.sqlite", env={})
    options = WatchOptions(folders=[inbox], settle_s=0.0, retry_s=0.01, retry_max_s=0.02)
    with Store.open(settings.db_path) as store:
        pages = int(store.connection.db.execute("PRAGMA page_count").fetchone()[0])
        store.connection.db.execute(f"PRAGMA max_page_count = {pages + 3}")
        watcher = FolderWatcher(store, settings, DecodeOptions(zone=BERLIN), options)
        try:
            watcher.scan()
            caplog.set_level(logging.INFO, logger="heavylegs.watch")
            for _ in range(3):
                watcher._guarded_burst(watcher.settled(time.monotonic() + 1))
            assert watcher.store_errors == 3
            assert sorted(watcher.pending) == sorted(inbox / p.name for p in GOOD)
            stored = store.count()
            assert stored < len(GOOD)
            errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
            assert sum("import interrupted, retrying in" in e for e in errors) == 3
            assert all("disk is full" in e for e in errors if "retrying" in e)
            assert "retrying in 0.01 s" in errors[0] and "retrying in 0.02 s" in errors[2]

            store.connection.db.execute("PRAGMA max_page_count = 1073741823")
            watcher._guarded_burst(watcher.settled(time.monotonic() + 1))
            assert watcher.store_errors == 0 and not watcher.pending
            assert store.count() == len(GOOD)
        finally:
            watcher.close()


def test_watch_once_on_a_damaged_store_is_one_line(tmp_path: Path) -> None:
    from tests.conftest import heavylegs_cli

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(GOOD[0], inbox / "a.fit")
    db = tmp_path / "store.sqlite"
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml")}
    done = heavylegs_cli("import", str(GOOD[1]), env=env)
    assert done.returncode == 0, done.stderr
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    (root,) = raw.execute("SELECT rootpage FROM sqlite_master WHERE name = 'activities'").fetchone()
    raw.close()
    with db.open("r+b") as handle:  # the activities table's root page
        handle.seek(4096 * (root - 1))
        handle.write(os.urandom(4096))
    done = heavylegs_cli("watch", "--once", str(inbox), env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if "damaged" in line]
    assert len(lines) == 1 and "heavylegs check" in lines[0], done.stderr


def test_the_watcher_outlives_a_full_disk_and_imports_once_there_is_room(
    tmp_path: Path,
) -> None:
    """A real full disk (a 600 KB tmpfs; root only): the service logs, waits, retries,
    and imports everything once the disk is made larger."""
    import subprocess

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root; the page-limit test covers a full store")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(disk)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        files = sorted(SAMPLE.glob("*.fit"))[:30]
        for path in files:
            shutil.copy(path, inbox / path.name)
        env = os.environ | {
            "HEAVYLEGS_DB": str(disk / "store.sqlite"),
            "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
        }
        log = tmp_path / "watch.log"
        with log.open("w") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "heavylegs_sync", "watch", str(inbox), "--settle", "0.3"],
                stdout=subprocess.DEVNULL, stderr=sink, env=env,
            )  # fmt: skip
            try:
                wait_for(lambda: "retrying in" in log.read_text(), 120, "a full disk")
                assert process.poll() is None
                assert "the disk is full" in log.read_text()
                subprocess.run(["mount", "-o", "remount,size=50m", str(disk)], check=True)
                db = disk / "store.sqlite"
                wait_for(lambda: _stored(db) == len(files), 120, "every file after the retry")
                assert process.poll() is None
            finally:
                process.terminate()
                code = process.wait(30)
        assert code == 0
        assert "Traceback" not in log.read_text()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _stored(db: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as raw:
            return int(raw.execute("SELECT count(*) FROM activities").fetchone()[0])
    except sqlite3.Error:
        return 0
