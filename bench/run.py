"""The import/report benchmark: every figure as time, ratio to bare fitparse, peak memory.

    python -m bench.run [--activities 1500] [--workers N] [--baseline-every K]
                        [--corpus DIR] [--data DIR] [--json FILE]

Measures in one run, side by side, on a generated five-year history of real-shaped files
(``bench.generate``) and, when ``--corpus`` or ``HEAVYLEGS_CORPUS`` names the real-file
corpus, on its FIT files too:

- bare fitparse decoding every message of the files in one process (the baseline);
- the fast decoder alone (fitfast and its adapter, one process, no store);
- ``heavylegs import`` with one decoding worker, and with the default workers (fresh
  stores), both as whole commands, start-up included, the runs alternating; what the
  second worker buys is printed as a speed-up (1 worker's time / the default workers'),
  with the main process's own share of the import's CPU time (what no worker can take);
- per-file fast-path coverage: which decoder read each file, and why any fell back.

On the generated history also: re-import of the unchanged folder, the report and
``today`` over five years (library call and whole commands), one new file through the
watched-folder path, ``heavylegs --version`` start-up and ``today`` over the bundled sample
athlete. The imports use a new user's settings (the time zone only), and the package is
byte-compiled first, as ``pip install .`` leaves it. Ratios are baseline seconds /
figure seconds in the same run, so a busy machine slows both sides. Targets (issue 15)
are printed beside the results, never asserted: a benchmark is not a test.
``--baseline-every K`` decodes every K-th generated file with fitparse and scales up
(fitparse needs about 0.7 s per generated file); the corpus baseline always decodes every
file.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import fitparse
import psutil

from bench.generate import generate
from heavylegs_sync.config import load_settings
from heavylegs_sync.diagnosis import analyse_store
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.importers.fit_fast import FastPathError, fast_messages
from heavylegs_sync.store import Store
from heavylegs_sync.watch import FolderWatcher, WatchOptions

CLI = [sys.executable, "-m", "heavylegs_sync"]


@dataclass
class Figure:
    name: str
    seconds: float
    target: str = ""
    peak_mb: float | None = None
    ratio: float | None = None  # baseline seconds / these seconds


@dataclass
class Coverage:
    """Which decoder read the files of one import."""

    files: int = 0
    fast: int = 0
    fallback: dict[str, str] = field(default_factory=dict)  # path -> reason
    failed: dict[str, str] = field(default_factory=dict)  # path -> error

    def line(self) -> str:
        read = self.fast + len(self.fallback)
        share = f"{100 * self.fast / read:.1f}%" if read else "-"
        return (
            f"fast path on {self.fast} of {read} files read ({share}); "
            f"{len(self.fallback)} fell back to fitparse; {len(self.failed)} failed"
        )


@dataclass
class Section:
    title: str
    files: int
    megabytes: float
    baseline_s: float
    baseline_note: str
    figures: list[Figure] = field(default_factory=list)
    coverage: Coverage | None = None
    notes: list[str] = field(default_factory=list)
    speedup: float | None = None  # 1 worker's import time / the default workers'


class PeakMemory:
    """Peak memory (proportional set size) of a process and its children, every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.own_cpu = 0.0  # the process's own CPU seconds (not its children's), last seen
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.stop.wait(0.02):
            try:
                processes = [self.process, *self.process.children(recursive=True)]
                # PSS, not RSS: forked workers share pages that RSS would count twice.
                total = sum(p.memory_full_info().pss for p in processes if p.is_running())
                times = self.process.cpu_times()
            except psutil.Error:
                continue
            self.peak = max(self.peak, total)
            self.own_cpu = times.user + times.system

    def finish(self) -> float:
        self.stop.set()
        self.thread.join()
        return self.peak / 1e6


def timed_command(
    args: list[str],
    env: dict[str, str],
    ok: tuple[int, ...] = (0,),
    cpu: list[tuple[float, float]] | None = None,
) -> tuple[float, float, str]:
    """Wall time, peak memory (MB, process tree) and stdout of one CLI run; ``cpu`` gets
    (the command's own CPU seconds, last seen every 20 ms; its whole tree's CPU seconds):
    on a busy machine the share of the work only the main process can do says what more
    workers can buy better than wall times do."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    memory = PeakMemory(process.pid)
    out, err = process.communicate()
    elapsed = time.perf_counter() - start
    peak = memory.finish()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        tree = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        cpu.append((memory.own_cpu, tree))
    if process.returncode not in ok:
        raise SystemExit(f"{' '.join(args)} failed:\n{err.decode()}")
    return elapsed, peak, out.decode().strip()


def bare_fitparse(files: list[Path], every: int) -> float:
    """Decode every message of the files with fitparse, nothing else (scaled if sampled).

    A file fitparse rejects costs what it took to find out, as it does in an import.
    """
    chosen = files[::every]
    start = time.perf_counter()
    for path in chosen:
        try:
            for _ in fitparse.FitFile(path.read_bytes()).get_messages():
                pass
        except Exception:  # the baseline times what fitparse does, errors included
            pass
    return (time.perf_counter() - start) * len(files) / len(chosen)


def fast_alone(files: list[Path]) -> float:
    """The fast decoder alone: fitfast plus its adapter, every file, one process."""
    start = time.perf_counter()
    for path in files:
        with contextlib.suppress(FastPathError):
            fast_messages(path.read_bytes())
    return time.perf_counter() - start


def coverage(db: Path, root: Path) -> Coverage:
    """Per file: read by fitfast, by fitparse after a fallback (with why), or failed."""
    result = Coverage()
    with sqlite3.connect(db) as raw:
        rows = raw.execute(
            "SELECT source_path, decoder, decoder_note FROM activities WHERE source = 'fit'"
        ).fetchall()
        failures = raw.execute(
            "SELECT path, message FROM import_log WHERE outcome = 'failed'"
        ).fetchall()
    by_file: dict[str, tuple[str, str | None]] = {}
    for path, decoder, note in rows:
        by_file[path] = (decoder, note)
    for path, (decoder, note) in by_file.items():
        if decoder == "fitfast":
            result.fast += 1
        else:
            result.fallback[_relative(path, root)] = note or f"read by {decoder}"
    for path, message in failures:
        result.failed[_relative(path, root)] = message or ""
    result.files = len(by_file) + len(result.failed)
    return result


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


def imports(
    section: Section,
    folder: Path,
    work: Path,
    workers: int,
    env_base: dict[str, str],
    repeats: int = 1,
) -> tuple[Path, dict[str, str]]:
    """The import with 1 worker and with the default workers, each into a fresh store;
    the best of ``repeats`` runs (peak memory: the highest), for imports of a second or
    two, where one run says more about the machine's moment than about the import. The
    runs alternate (1, N, 1, N ...), so both sides meet the same moments of a busy
    machine, and the section records what the second worker buys (``speedup``)."""
    config = work / "settings.toml"
    # A new user's settings: the time zone only. Zones come from the watch's own settings
    # in the files, or from an estimate, which needs every run's sustained HR peak.
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\n')
    db = work / "store.sqlite"
    env = dict(env_base, HEAVYLEGS_DB=str(db), HEAVYLEGS_CONFIG=str(config))
    counts = (1, workers)
    runs: dict[int, list[tuple[float, float, str]]] = {count: [] for count in counts}
    cpu: list[tuple[float, float]] = []
    for _ in range(repeats):
        for count in counts:
            for old in work.glob("store.sqlite*"):
                old.unlink()
            command = [*CLI, "import", str(folder), "--workers", str(count)]
            runs[count].append(timed_command(command, env, (0, 1), cpu if count == 1 else None))
    best = {count: min(r[0] for r in runs[count]) for count in counts}
    for count in counts:
        label = "1 worker" if count == 1 else f"default workers ({workers})"
        seconds, line = best[count], runs[count][-1][2]
        peak = max(r[1] for r in runs[count])
        if repeats > 1:
            label += f", best of {repeats}"
        target = ">= 15x (real files)" if count == 1 else ">= 25x on 2 cores (real files)"
        if section.title.startswith("generated"):
            target = "<= 20 s, <= 300 MB" if count == workers else ""
        section.figures.append(
            Figure(f"import, {label}", seconds, target, peak, section.baseline_s / seconds)
        )
        section.notes.append(f"import, {label}: {line}")
    if workers > 1:
        section.speedup = best[1] / best[workers]
        section.notes.insert(
            0,
            f"second worker: {workers} workers import {section.speedup:.2f}x as fast as 1 "
            f"({best[workers]:.2f} s and {best[1]:.2f} s, runs alternating; "
            "target >= 1.3x on 2 idle cores)",
        )
    own, tree = (min(values) for values in zip(*cpu, strict=True))
    section.notes.insert(
        0,
        f"the main process's own CPU time, 1 worker: {own:.2f} s of the {tree:.2f} s the "
        f"import's processes used ({100 * own / tree:.0f}%, start-up included; the rest "
        "is the workers', which more workers share)",
    )
    return db, env


def generated_section(args: argparse.Namespace, work: Path) -> Section:
    data = args.data or work / "history"
    marker = data / f".generated-{args.activities}-v2"
    if not marker.exists():
        shutil.rmtree(data, ignore_errors=True)
        started = time.perf_counter()
        generate(data, args.activities)
        marker.touch()
        print(f"generated {args.activities} files in {time.perf_counter() - started:.1f} s")
    files = sorted(data.glob("*.fit"))
    newest = files.pop()  # kept back: the "new file" of the watched-folder figure
    history = work / "import"
    history.mkdir()
    for path in files:
        shutil.copy(path, history / path.name)
    every = args.baseline_every
    section = Section(
        "generated five years",
        len(files),
        sum(p.stat().st_size for p in files) / 1e6,
        bare_fitparse(files, every),
        "every file" if every == 1 else f"every {every}th file, scaled",
    )
    alone = fast_alone(files)
    section.figures.append(
        Figure("fast decoder alone (1 process)", alone, "", None, section.baseline_s / alone)
    )
    db, env = imports(section, history, work, args.workers, dict(os.environ))
    section.coverage = coverage(db, history)
    seconds, peak, _ = timed_command(
        [*CLI, "import", str(history), "--workers", str(args.workers)], env
    )
    section.figures.append(Figure("re-import (unchanged)", seconds, "<= 2 s", peak))

    settings = load_settings(config=Path(env["HEAVYLEGS_CONFIG"]), db=db)
    with Store.open(db) as store:
        first_day = min(a.start_local.date() for a in store.activities())
        last_day = date(2026, 11, 1)
        section.notes.append(f"{store.sample_count():,} samples stored")
        for name in ("report, 5 years, library (first)", "report, 5 years, library (again)"):
            start = time.perf_counter()
            analysis = analyse_store(store, settings, last_day, first_day)
            section.figures.append(Figure(name, time.perf_counter() - start, "<= 0.5 s"))
        section.notes.append(f"{len(analysis.weeks)} weeks analysed")
        report = [*CLI, "report", "--since", str(first_day), "--until", str(last_day)]
        for name, command in (
            ("report", report),
            ("today", [*CLI, "today", "--date", str(last_day)]),
        ):
            runs = [timed_command(command, env) for _ in range(3)]
            seconds, peak = min(r[0] for r in runs), max(r[1] for r in runs)
            section.figures.append(
                Figure(f"{name} command, best of 3 (incl. start-up)", seconds, "<= 0.5 s", peak)
            )

        incoming = work / "incoming"
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
        section.figures.append(
            Figure("one new file + affected weeks (watch)", time.perf_counter() - start, "<= 1 s")
        )
        assert burst.new_ids, "the new file was not imported"

    starts = [timed_command([*CLI, "--version"], env)[0] for _ in range(3)]
    section.figures.append(Figure("heavylegs --version (best of 3)", min(starts), "<= 0.3 s"))
    section.figures.append(Figure("today command, sample athlete", sample_today(work), "<= 0.3 s"))
    return section


def sample_today(work: Path) -> float:
    """``heavylegs today`` over the bundled sample athlete (eight weeks): its start-up."""
    sample = Path(__file__).resolve().parent.parent / "fixtures" / "sample-athlete"
    env = dict(
        os.environ,
        HEAVYLEGS_DB=str(work / "sample.sqlite"),
        HEAVYLEGS_CONFIG=str(sample / "heavylegs.toml"),
    )
    timed_command([*CLI, "import", str(sample)], env)
    return min(timed_command([*CLI, "today", "--date", "2026-11-22"], env)[0] for _ in range(3))


def corpus_section(args: argparse.Namespace, corpus: Path, work: Path) -> Section:
    folder = corpus / "fit"
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".fit")
    section = Section(
        f"real corpus ({folder})",
        len(files),
        sum(p.stat().st_size for p in files) / 1e6,
        bare_fitparse(files, 1),
        "every file",
    )
    alone = fast_alone(files)
    section.figures.append(
        Figure("fast decoder alone (1 process)", alone, "", None, section.baseline_s / alone)
    )
    db, _ = imports(section, folder, work, args.workers, dict(os.environ), repeats=3)
    section.coverage = coverage(db, folder)
    return section


def show(section: Section) -> None:
    print()
    print(
        f"== {section.title}: {section.files} files, {section.megabytes:.0f} MB; "
        f"bare fitparse, 1 process ({section.baseline_note}): {section.baseline_s:.1f} s"
    )
    print(f"{'figure':<42} {'time':>9} {'vs fitparse':>12} {'peak MB':>8}  target")
    for f in section.figures:
        ratio = f"{f.ratio:.1f}x" if f.ratio else ""
        memory = f"{f.peak_mb:.0f}" if f.peak_mb else ""
        print(f"{f.name:<42} {f.seconds:>8.2f}s {ratio:>12} {memory:>8}  {f.target}")
    if section.coverage is not None:
        print(section.coverage.line())
        for path, reason in sorted(section.coverage.fallback.items()):
            print(f"  fell back: {path}: {reason}")
        reasons = Counter(m.split(":")[0] for m in section.coverage.failed.values())
        if reasons:
            print("  failed: " + ", ".join(f"{n} {r}" for r, n in reasons.most_common()))
    for note in section.notes:
        print(f"  {note}")


def byte_compile() -> str:
    """Byte-compile the package as ``pip install .`` (the README's install) does.

    An editable install under ``PYTHONDONTWRITEBYTECODE=1`` (set on some CI machines)
    would otherwise compile every module from source at each start: a cost no installed
    copy pays. Python reads the cached bytecode whatever that variable says.
    """
    package = Path(__file__).resolve().parent.parent / "heavylegs_sync"
    if not compileall.compile_dir(package, quiet=1):
        raise SystemExit(f"could not byte-compile {package}")
    return f"{package} byte-compiled first, as pip install does"


def installed(folder: Path) -> list[str]:
    """The ``heavylegs`` command of a virtual environment at ``folder`` holding this
    checkout installed as the README installs it (``pip install .``, not editable): made
    there when missing; the checkout's package is installed into it anew each time, so it
    is this checkout's code. An editable install's finder adds its own start-up to every
    command, which no installed copy pays."""
    checkout = Path(__file__).resolve().parent.parent
    python = folder / "bin" / "python"
    fresh = not python.exists()
    if fresh:
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    with tempfile.TemporaryDirectory() as copy:  # setuptools builds in the tree: not ours
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (checkout / name).exists():
                shutil.copy2(checkout / name, copy)
        shutil.copytree(checkout / "heavylegs_sync", Path(copy) / "heavylegs_sync",
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        # A new environment gets the dependencies too; an earlier one this checkout again.
        again = [] if fresh else ["--force-reinstall", "--no-deps"]
        subprocess.run([str(python), "-m", "pip", "install", "-q", *again, copy], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    return [str(folder / "bin" / "heavylegs")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--baseline-every", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=os.environ.get("HEAVYLEGS_CORPUS"))
    parser.add_argument("--data", type=Path, help="where the history is kept between runs")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="heavylegs-bench-"))
    compiled = byte_compile()
    load = os.getloadavg()
    for sub in ("generated", "corpus"):
        (work / sub).mkdir()
    sections = [generated_section(args, work / "generated")]
    if args.corpus:
        sections.append(corpus_section(args, Path(args.corpus), work / "corpus"))
    for section in sections:
        show(section)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}; "
        f"load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    print(f"\nmachine: {machine}")
    print(compiled)
    if args.json:
        payload = {"machine": machine, "sections": [asdict(s) for s in sections]}
        args.json.write_text(json.dumps(payload, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
