"""A signal during ``heavylegs import`` (issue 25): the import stops, its decoding workers
end with it (none is orphaned), what was committed is kept, and the exit status says
which signal interrupted it (128 + the signal's number)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from tests.conftest import SAMPLE, heavylegs_cli

FILES = 30


def write_runs(folder: Path) -> None:
    """Distinct 40-minute 1 Hz GPX runs: enough decoding that the import is mid-way when
    the signal comes."""
    folder.mkdir()
    for index in range(FILES):
        start = datetime(2026, 1, 1, 7, tzinfo=UTC) + timedelta(days=index)
        points = "".join(
            f'<trkpt lat="{52.5 + s * 0.00002:.6f}" lon="{13.4 + index * 0.0001:.6f}"><time>'
            f"{(start + timedelta(seconds=s)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
            for s in range(2400)
        )
        (folder / f"run-{index:03d}.gpx").write_text(
            '<?xml version="1.0"?><gpx version="1.1" creator="t" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><type>running</type><trkseg>'
            f"{points}</trkseg></trk></gpx>"
        )


def stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as raw:
            return int(raw.execute("SELECT count(*) FROM activities").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_ends_the_import_and_its_workers(tmp_path: Path, signum: int) -> None:
    runs = tmp_path / "runs"
    write_runs(runs)
    db = tmp_path / "store.sqlite"
    env = {
        **os.environ,
        "HEAVYLEGS_DB": str(db),
        "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "heavylegs_sync", "import", "--workers", "2", str(runs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    parent = psutil.Process(process.pid)
    workers: list[psutil.Process] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        workers = parent.children(recursive=True)
        if len(workers) >= 2 and stored(db) >= 2:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the import ended before the signal"
    assert len(workers) >= 2
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert f"interrupted by {signal.Signals(signum).name}" in lines[0]
    assert "every file stored is kept" in lines[0]
    psutil.wait_procs(workers, timeout=10)
    alive = [w.pid for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    assert alive == []
    kept = stored(db)
    assert 2 <= kept < FILES
    if signum != signal.SIGTERM:
        return
    again = heavylegs_cli("import", str(runs), env=env)
    assert again.returncode == 0, again.stderr
    assert f"{FILES - kept} new, {kept} already imported" in again.stdout
    assert stored(db) == FILES


def test_workers_die_with_a_killed_import(tmp_path: Path) -> None:
    """SIGKILL cannot be caught: the workers asked the kernel to end them with it."""
    runs = tmp_path / "runs"
    write_runs(runs)
    db = tmp_path / "store.sqlite"
    env = {
        **os.environ,
        "HEAVYLEGS_DB": str(db),
        "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "heavylegs_sync", "import", "--workers", "2", str(runs)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    parent = psutil.Process(process.pid)
    workers: list[psutil.Process] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(workers) < 2 and process.poll() is None:
        workers = parent.children(recursive=True)
        time.sleep(0.05)
    assert len(workers) >= 2
    process.kill()
    process.wait(30)
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert [w.pid for w in alive if w.status() != psutil.STATUS_ZOMBIE] == []
