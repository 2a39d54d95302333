"""The import/report benchmark: every figure as time, ratio to bare fitparse, peak memory.

    python -m bench.run [--activities 1500] [--workers N] [--baseline-every 1] [--json FILE]

Generates (or reuses) a deterministic five-year history, then measures in one run:
bare fitparse decoding of the same files (the baseline), the first import, a re-import of
the unchanged folder, the report over all five years (first, then with derived figures
kept), and the watched-folder path: one new file imported and its weeks analysed again.
Targets are those of the performance issue; they are printed beside the results, never
asserted: a benchmark is not a test. ``--baseline-every K`` decodes every K-th file with
fitparse and scales up (for quick runs; the default decodes all of them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import fitparse
import psutil

from bench.generate import generate
from heavylegs_sync.config import load_settings
from heavylegs_sync.diagnosis import analyse_store
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.store import Store
from heavylegs_sync.watch import FolderWatcher, WatchOptions


@dataclass
class Figure:
    name: str
    seconds: float
    target: str
    peak_mb: float | None = None
    ratio: float | None = None  # baseline seconds / these seconds


class PeakMemory:
    """Peak memory (proportional set size) of a process and its children, every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.stop.wait(0.02):
            try:
                processes = [self.process, *self.process.children(recursive=True)]
                # PSS, not RSS: forked workers share pages that RSS would count twice.
                total = sum(p.memory_full_info().pss for p in processes if p.is_running())
            except psutil.Error:
                continue
            self.peak = max(self.peak, total)

    def finish(self) -> float:
        self.stop.set()
        self.thread.join()
        return self.peak / 1e6


def timed_command(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall time, peak memory (MB, process tree) and stdout of one CLI run."""
    start = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    memory = PeakMemory(process.pid)
    out, err = process.communicate()
    elapsed = time.perf_counter() - start
    peak = memory.finish()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{err.decode()}")
    return elapsed, peak, out.decode().strip()


def baseline(files: list[Path], every: int) -> float:
    """Bare fitparse: decode every message of the files, nothing else (scaled if sampled)."""
    chosen = files[::every]
    start = time.perf_counter()
    for path in chosen:
        for _ in fitparse.FitFile(str(path)).get_messages():
            pass
    elapsed = time.perf_counter() - start
    return elapsed * len(files) / len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--baseline-every", type=int, default=1)
    parser.add_argument("--data", type=Path, help="where the history is kept between runs")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="heavylegs-bench-"))
    data = args.data or work / "history"
    marker = data / f".generated-{args.activities}"
    if not marker.exists():
        shutil.rmtree(data, ignore_errors=True)
        started = time.perf_counter()
        generate(data, args.activities)
        marker.touch()
        print(f"generated {args.activities} files in {time.perf_counter() - started:.1f} s")
    files = sorted(data.glob("*.fit"))
    newest = files.pop()  # kept back: the "new file" of the watched-folder figure
    incoming = work / "incoming"
    history = work / "import"
    history.mkdir()
    for path in files:
        shutil.copy(path, history / path.name)
    size_mb = sum(p.stat().st_size for p in files) / 1e6

    db = work / "store.sqlite"
    config = work / "settings.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\nmax_hr = 190\n')
    env = dict(os.environ, HEAVYLEGS_DB=str(db), HEAVYLEGS_CONFIG=str(config))
    cli = [sys.executable, "-m", "heavylegs_sync"]

    base = baseline(files, args.baseline_every)
    figures: list[Figure] = []
    seconds, peak, line = timed_command(
        [*cli, "import", str(history), "--workers", str(args.workers)], env
    )
    print(f"first import: {line}")
    figures.append(Figure("first import", seconds, "<= 60 s, >= 10x", peak, base / seconds))
    seconds, peak, line = timed_command(
        [*cli, "import", str(history), "--workers", str(args.workers)], env
    )
    print(f"re-import: {line}")
    figures.append(Figure("re-import (unchanged)", seconds, "<= 3 s", peak, base / seconds))

    settings = load_settings(config=config, db=db)
    with Store.open(db) as store:
        first_day = min(a.start_local.date() for a in store.activities())
        records = store.sample_count()
        last_day = date(2026, 11, 1)
        for name in ("report, 5 years (first after import)", "report, 5 years (again)"):
            start = time.perf_counter()
            analysis = analyse_store(store, settings, last_day, first_day)
            figures.append(Figure(name, time.perf_counter() - start, "<= 0.5 s"))
        weeks = len(analysis.weeks)

        seconds, peak, _ = timed_command(
            [*cli, "report", "--since", str(first_day), "--until", str(last_day)], env
        )
        figures.append(Figure("report command (incl. start-up)", seconds, "<= 0.5 s", peak))

        incoming.mkdir()
        target = incoming / newest.name
        shutil.copy(newest, target)
        watcher = FolderWatcher(
            store,
            settings,
            DecodeOptions(zone=settings.zoneinfo()),
            WatchOptions(folders=[incoming]),
        )
        start = time.perf_counter()
        burst = watcher.import_burst([target])
        figures.append(
            Figure("one new file + affected weeks", time.perf_counter() - start, "<= 1 s")
        )
        assert burst.new_ids, "the new file was not imported"

    print()
    print(
        f"{len(files)} files, {size_mb:.0f} MB, {records:,} samples, {weeks} weeks; "
        f"bare fitparse on the same files: {base:.1f} s"
        + ("" if args.baseline_every == 1 else f" (every {args.baseline_every}th file, scaled)")
    )
    print(f"{'figure':<42} {'time':>9} {'vs fitparse':>12} {'peak MB':>8}  target")
    for f in figures:
        ratio = f"{f.ratio:.1f}x" if f.ratio else ""
        memory = f"{f.peak_mb:.0f}" if f.peak_mb else ""
        print(f"{f.name:<42} {f.seconds:>8.2f}s {ratio:>12} {memory:>8}  {f.target}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "files": len(files),
                    "samples": records,
                    "baseline_s": base,
                    "figures": [asdict(f) for f in figures],
                },
                indent=2,
            )
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
