"""The watched-folder service, running in a subprocess on a real folder.

Slow partial writes, a corrupt file between good ones, a 500-file burst while a Strava sync
runs, the same file under two names, SIGTERM mid-burst and a restart that completes.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FILES, SAMPLE
from tests.strava_server import FakeStrava, make_history

GOOD = sorted(SAMPLE.glob("2026-10-0*.fit"))


def env_for(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HEAVYLEGS_DB=str(tmp_path / "store.sqlite"),
        HEAVYLEGS_CONFIG=str(SAMPLE / "heavylegs.toml"),
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


class Service:
    """``heavylegs watch`` in a subprocess, its log collected in a file."""

    def __init__(self, tmp_path: Path, folder: Path, *args: str) -> None:
        self.log_path = tmp_path / f"watch-{time.monotonic_ns()}.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "heavylegs_sync", "watch", str(folder), "--settle", "0.6",
             *args],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            env=env_for(tmp_path),
        )  # fmt: skip
        wait_for(lambda: "watching" in self.text(), 60, "the service to start")

    def text(self) -> str:
        return self.log_path.read_text()

    def stop(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self.log.close()
        return code


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def count(tmp_path: Path, where: str = "1") -> int:
    db = tmp_path / "store.sqlite"
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=30) as raw:
        try:
            return int(raw.execute(f"SELECT count(*) FROM activities WHERE {where}").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "GARMIN" / "Activity"
    path.mkdir(parents=True)
    yield path


def gpx_run(index: int) -> str:
    """A distinct 5-minute GPX run per index (one a day from 2025-01-01)."""
    start = datetime(2025, 1, 1, 6, 0, tzinfo=UTC) + timedelta(days=index)
    points = "".join(
        f'<trkpt lat="{52.5 + i * 3 / 111_195:.7f}" lon="13.4"><time>'
        f"{(start + timedelta(seconds=i * 5)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for i in range(61)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><type>running</type><trkseg>'
        f"{points}</trkseg></trk></gpx>"
    )


def test_slow_partial_write_is_imported_once_complete(tmp_path: Path, folder: Path) -> None:
    service = Service(tmp_path, folder)
    data = GOOD[0].read_bytes()
    target = folder / GOOD[0].name
    with target.open("wb") as handle:
        for i in range(0, len(data), len(data) // 4 + 1):
            handle.write(data[i : i + len(data) // 4 + 1])
            handle.flush()
            time.sleep(0.3)  # shorter than --settle: the copy is still going
    wait_for(lambda: count(tmp_path) == 1, 60, "the import")
    assert service.stop() == 0
    log = service.text()
    assert "ERROR" not in log
    assert log.count("imported") == 1
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        (n,) = raw.execute("SELECT n FROM samples").fetchone()
    assert n > 2000  # the whole 50-minute 1 Hz run, not a truncated part


def test_corrupt_file_between_good_ones(tmp_path: Path, folder: Path) -> None:
    service = Service(tmp_path, folder, "--rejected", str(tmp_path / "rejected"))
    shutil.copy(GOOD[0], folder / "a.fit")
    shutil.copy(FILES / "bad-crc.fit", folder / "b-broken.fit")
    shutil.copy(GOOD[1], folder / "c.fit")
    wait_for(lambda: count(tmp_path) == 2, 60, "the good files")
    wait_for(lambda: (tmp_path / "rejected" / "b-broken.fit.reason.txt").exists(), 60, "reject")
    assert "corrupt FIT file" in (tmp_path / "rejected" / "b-broken.fit.reason.txt").read_text()
    # A copy is kept; the file itself is never moved (the folder may be a watch's drive).
    assert (folder / "b-broken.fit").read_bytes() == (FILES / "bad-crc.fit").read_bytes()
    assert (tmp_path / "rejected" / "b-broken.fit").read_bytes() == (
        FILES / "bad-crc.fit"
    ).read_bytes()
    # The service is still running and takes more files.
    shutil.copy(GOOD[2], folder / "d.fit")
    wait_for(lambda: count(tmp_path) == 3, 60, "a file after the bad one")
    assert service.process.poll() is None
    assert service.stop() == 0
    assert service.text().count("ERROR") == 1


def test_unchanged_bad_file_is_not_retried(tmp_path: Path, folder: Path) -> None:
    service = Service(tmp_path, folder)
    shutil.copy(FILES / "bad-crc.fit", folder / "bad.fit")
    wait_for(lambda: "ERROR" in service.text(), 60, "the failure")
    (folder / "bad.fit").touch()  # a new mtime, the same content
    shutil.copy(FILES / "bad-crc.fit", folder / "bad-again.fit")
    shutil.copy(GOOD[0], folder / "good.fit")
    wait_for(lambda: count(tmp_path) == 1, 60, "the good file")
    time.sleep(1.5)
    assert service.stop() == 0
    assert service.text().count("ERROR") == 1


def test_same_file_under_two_names_is_stored_once(tmp_path: Path, folder: Path) -> None:
    service = Service(tmp_path, folder)
    shutil.copy(GOOD[0], folder / "one.fit")
    shutil.copy(GOOD[0], folder / "copy of one.fit")
    wait_for(lambda: "already imported" in service.text(), 60, "the second copy")
    assert service.stop() == 0
    assert count(tmp_path) == 1


def test_hidden_and_temporary_files_are_ignored(tmp_path: Path, folder: Path) -> None:
    service = Service(tmp_path, folder)
    shutil.copy(GOOD[0], folder / ".hidden.fit")
    shutil.copy(GOOD[1], folder / "copying.fit.part")
    (folder / ".Trash").mkdir()
    shutil.copy(GOOD[2], folder / ".Trash" / "old.fit")
    shutil.copy(GOOD[3], folder / "real.fit")
    wait_for(lambda: count(tmp_path) == 1, 60, "the real file")
    time.sleep(1.0)
    assert service.stop() == 0
    assert count(tmp_path) == 1


@pytest.mark.exhaustive  # quick parts: the smaller bursts here, test_store's writers at once
def test_burst_of_500_while_strava_syncs(tmp_path: Path, folder: Path) -> None:
    history = make_history(60, start=datetime(2020, 1, 1, 6, tzinfo=UTC), kinds=("Ride",))
    with FakeStrava(history) as fake:
        env = env_for(tmp_path)
        env.update(HEAVYLEGS_STRAVA_API_URL=fake.url, STRAVA_CLIENT_ID="1234",
                   STRAVA_CLIENT_SECRET="s3cret")  # fmt: skip
        connect = subprocess.run(
            [sys.executable, "-m", "heavylegs_sync", "strava", "connect", "--code",
             fake.issue_code()],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert connect.returncode == 0, connect.stderr
        service = Service(tmp_path, folder)
        staging = tmp_path / "staging"
        staging.mkdir()
        for i in range(500):
            (staging / f"{i:04d}.gpx").write_text(gpx_run(i))
        sync = subprocess.Popen(
            [sys.executable, "-m", "heavylegs_sync", "strava", "sync"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        shutil.copytree(staging, folder / "burst")  # a whole folder arrives at once
        out, err = sync.communicate(timeout=300)
        assert out.startswith("strava: 60 new activities"), out
        assert sync.returncode == 0, err
        wait_for(lambda: count(tmp_path, "source = 'gpx'") == 500, 300, "500 imports")
        assert service.stop() == 0
    assert count(tmp_path, "source = 'strava'") == 60
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        paths = [p for (p,) in raw.execute("SELECT source_path FROM activities WHERE source='gpx'")]
    assert len(paths) == len(set(paths)) == 500


def test_sigterm_mid_burst_then_restart_completes(tmp_path: Path, folder: Path) -> None:
    service = Service(tmp_path, folder)
    staging = tmp_path / "staging"
    staging.mkdir()
    for i in range(300):
        (staging / f"{i:04d}.gpx").write_text(gpx_run(i))
    shutil.copytree(staging, folder / "burst")
    wait_for(lambda: count(tmp_path) >= 20, 120, "the burst to start")
    assert service.stop() == 0
    stopped_at = count(tmp_path)
    assert stopped_at < 300
    again = subprocess.run(
        [sys.executable, "-m", "heavylegs_sync", "watch", str(folder), "--once", "--settle", "0.2"],
        env=env_for(tmp_path), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert count(tmp_path) == 300
    with sqlite3.connect(tmp_path / "store.sqlite") as raw:
        assert raw.execute("SELECT count(*) FROM import_log WHERE outcome='failed'").fetchone() == (
            0,
        )


def test_once_reports_failure_in_the_exit_status(tmp_path: Path, folder: Path) -> None:
    shutil.copy(GOOD[0], folder / "good.fit")
    shutil.copy(FILES / "not-a-fit.fit", folder / "bad.fit")
    result = subprocess.run(
        [sys.executable, "-m", "heavylegs_sync", "watch", str(folder), "--once", "--settle", "0.2"],
        env=env_for(tmp_path), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert count(tmp_path) == 1
    assert "bad.fit: not a FIT file" in result.stderr


def test_a_mid_week_file_brings_its_findings(tmp_path: Path, folder: Path) -> None:
    """The third strength session of a peak week arrives on a Wednesday: one new finding."""
    late = "2026-11-18-1830-strength.fit"
    for path in SAMPLE.glob("*.fit"):
        if path.name != late:
            shutil.copy(path, folder / path.name)
    first = subprocess.run(
        [sys.executable, "-m", "heavylegs_sync", "watch", str(folder), "--once", "--settle", "0.2"],
        env=env_for(tmp_path), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    shutil.copy(SAMPLE / late, folder / late)
    second = subprocess.run(
        [sys.executable, "-m", "heavylegs_sync", "watch", str(folder), "--once", "--settle", "0.2"],
        env=env_for(tmp_path), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    findings = [line for line in second.stderr.splitlines() if "finding:" in line]
    assert len(findings) == 1
    assert "week of 2026-11-16" in findings[0] and "too-much-strength" in findings[0]
