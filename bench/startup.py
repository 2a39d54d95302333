"""``today --athlete X`` as a whole command on PostgreSQL and on SQLite: start-up included.

    python -m bench.startup --server postgresql://postgres@127.0.0.1:55432
                            [--repeats 9] [--database heavylegs_startup] [--json FILE]
                            [--compare DIR]

Imports the bundled sample athlete (eight weeks, ``fixtures/sample-athlete``) as ``ana``
beside a second athlete ``bob`` into a fresh database ``--database`` on the server
(dropped at the end) and into an SQLite file, then runs ``heavylegs --athlete ana today
--date 2026-11-20`` in a subprocess on each, the runs alternating, ``--repeats`` times
after one run each that may keep figures: the median wall time and the median CPU time
of the process (user + system; less sensitive than wall time to other work on a shared
machine), and the ratio PostgreSQL / SQLite. Beside it: ``import psycopg`` alone in a
new Python (what a PostgreSQL command pays before it connects), Python's bare start-up,
and the connections and statements one ``today`` makes on the server (from
``pg_stat_database``). And where each copy's own start-up goes: ``import psycopg,
click, tomllib`` (the libraries ``today`` needs on a server with a settings file)
against the same followed by every module of ours one ``today`` on the server loaded
(found by running it once), and how long making those modules' dataclasses took inside
that import (Python 3.11 compiles each generated method from source, at every start).

``--compare DIR``: a folder holding another copy of the ``heavylegs_sync`` package (say
``git archive main heavylegs_sync | tar -x -C DIR``), timed the same way on stores of its
own, its runs alternating with this package's, so that a change is measured as a ratio
under the same load rather than by two runs minutes apart. The load average is printed
beside the figures. Issue 23's target (``today`` <= 0.5 s on a server) is printed, never
asserted: a benchmark is not a test.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

from bench.club import database
from bench.run import CLI, byte_compile

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample-athlete"
DAY = "2026-11-20"
TODAY = ["--athlete", "ana", "today", "--date", DAY]
#: The libraries ``today`` on a server loads whichever copy runs: the driver, the command
#: line, and the settings file's parser (the bench names a settings file).
LIBRARIES = "psycopg, click, tomllib"


@dataclass
class Runs:
    """One command's runs: wall and CPU seconds of each."""

    name: str
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float) -> None:
        self.wall_s.append(wall)
        self.cpu_s.append(cpu)

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_s)

    def line(self) -> str:
        return f"{self.wall:.3f} s wall, {self.cpu:.3f} s CPU"


@dataclass
class Variant:
    """One copy of the package: where it runs from, its stores and its runs."""

    name: str
    env: dict[str, str]
    url: str
    lite: str
    pg: Runs
    sqlite: Runs
    connections: int = 0
    statements: int = 0


def run(args: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one process; its failure stops the bench."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def server_counts(url: str) -> tuple[int, int]:
    """Sessions opened and transactions committed on the database so far (each statement
    in autocommit is one transaction)."""
    with psycopg.connect(url, autocommit=True) as raw:
        raw.execute("SELECT pg_stat_force_next_flush()")
        row = raw.execute(
            "SELECT sessions, xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


#: Prints the modules of ours that ``today`` loaded, as JSON, on its last line.
LOADED = """\
import json, sys
from heavylegs_sync.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps(sorted(m for m in sys.modules if m.startswith("heavylegs_sync"))))
"""

#: Imports the libraries, then the given modules of ours, timing the whole import of ours
#: (in the process: no process start-up's noise in it) and each dataclass made on the
#: way (the wrapper is one clock reading either side of each), and prints the count of
#: dataclasses, their seconds and the import's seconds.
MAKING = f"""\
import dataclasses, importlib, sys, time
import {LIBRARIES}
spent = [0, 0.0]
make = dataclasses._process_class
def timed(cls, *args):
    start = time.perf_counter()
    made = make(cls, *args)
    if cls.__module__.startswith("heavylegs_sync"):
        spent[0] += 1
        spent[1] += time.perf_counter() - start
    return made
dataclasses._process_class = timed
begun = time.perf_counter()
for name in sys.argv[1:]:
    importlib.import_module(name)
print(spent[0], spent[1], time.perf_counter() - begun)
"""


def ours_loaded(variant: Variant, cwd: Path) -> list[str]:
    """The modules of this package one ``today`` on the server loads."""
    env = dict(variant.env, HEAVYLEGS_DB=variant.url)
    done = subprocess.run([sys.executable, "-c", LOADED, *TODAY], env=env, cwd=cwd,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"today failed:\n{done.stderr}")
    return [m for m in json.loads(done.stdout.splitlines()[-1]) if m != "heavylegs_sync.__main__"]


def round_trips(variant: Variant, cwd: Path) -> None:
    """The connections and statements one ``today`` makes: the server's counters before
    and after it, less what reading them costs (measured with nothing between)."""

    def settled() -> tuple[int, int]:
        time.sleep(1.0)  # a backend's counters reach the server when it exits
        return server_counts(variant.url)

    first = settled()
    second = settled()
    run([*CLI, *TODAY], dict(variant.env, HEAVYLEGS_DB=variant.url), cwd)
    third = settled()
    variant.connections = (third[0] - second[0]) - (second[0] - first[0])
    variant.statements = (third[1] - second[1]) - (second[1] - first[1])


def prepare(variant: Variant, cwd: Path) -> None:
    """Athletes ana (the sample) and bob in both of the variant's stores."""
    for target in (variant.url, variant.lite):
        env = dict(variant.env, HEAVYLEGS_DB=target)
        for name in ("ana", "bob"):
            run([*CLI, "athletes", "add", name], env, cwd)
        run([*CLI, "--athlete", "ana", "import", str(SAMPLE)], env, cwd)
        run([*CLI, *TODAY], env, cwd)  # the first run may keep figures it computed


@dataclass
class Own:
    """A copy's own part of the start-up: the libraries alone, then with its modules."""

    modules: list[str]
    libraries: Runs = field(default_factory=lambda: Runs(f"import {LIBRARIES}"))
    with_ours: Runs = field(default_factory=lambda: Runs("... and our modules"))
    dataclasses: int = 0
    making_s: list[float] = field(default_factory=list)
    importing_s: list[float] = field(default_factory=list)

    def measure(self, env: dict[str, str], cwd: Path) -> None:
        self.libraries.add(*run([sys.executable, "-c", f"import {LIBRARIES}"], env, cwd))
        code = f"import {LIBRARIES}\nimport " + ", ".join(self.modules)
        self.with_ours.add(*run([sys.executable, "-c", code], env, cwd))
        done = subprocess.run([sys.executable, "-c", MAKING, *self.modules], env=env,
                              cwd=cwd, capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"timing the dataclasses failed:\n{done.stderr}")
        count, making, importing = done.stdout.split()
        self.dataclasses = int(count)
        self.making_s.append(float(making))
        self.importing_s.append(float(importing))

    def lines(self) -> list[str]:
        ours = self.with_ours.wall - self.libraries.wall
        ours_cpu = self.with_ours.cpu - self.libraries.cpu
        return [
            f"    import {LIBRARIES}:  {self.libraries.line()}",
            f"    ... and the {len(self.modules)} modules of ours today loads:"
            f" {self.with_ours.line()}",
            f"      ours: {ours:.3f} s wall, {ours_cpu:.3f} s CPU; timed inside one process:"
            f" {statistics.median(self.importing_s):.3f} s, of it making their"
            f" {self.dataclasses} dataclasses {statistics.median(self.making_s):.3f} s",
        ]


def own_figures(own: Own) -> dict[str, object]:
    """One copy's own start-up figures, for ``--json``."""
    return {
        "modules": own.modules,
        "dataclasses": own.dataclasses,
        "making_s": own.making_s,
        "importing_s": own.importing_s,
        **{name: dict(asdict(r), wall=r.wall, cpu=r.cpu)
           for name, r in (("libraries", own.libraries), ("with_ours", own.with_ours))},
    }  # fmt: skip


def show(
    variants: list[Variant],
    bare: Runs,
    alone: Runs,
    load: tuple[float, float],
    owns: list[Own],
) -> None:
    print(f"today --athlete ana --date {DAY}, the sample athlete, median of"
          f" {len(bare.wall_s)} (load average {load[0]:.1f} at the start,"
          f" {load[1]:.1f} at the end):")  # fmt: skip
    for variant in variants:
        print(f"  {variant.name}:")
        print(f"    PostgreSQL {variant.pg.line()}")
        print(f"    SQLite     {variant.sqlite.line()}")
        print(f"    PostgreSQL / SQLite: {variant.pg.wall / variant.sqlite.wall:.2f} wall,"
              f" {variant.pg.cpu / variant.sqlite.cpu:.2f} CPU")  # fmt: skip
        print(f"    on the server, one today: {variant.connections} connection(s),"
              f" {variant.statements} statements")  # fmt: skip
    if len(variants) == 2:
        this, other = variants
        for side in ("pg", "sqlite"):
            mine, theirs = getattr(this, side), getattr(other, side)
            print(f"  {side}: this / compared: {mine.wall / theirs.wall:.2f} wall,"
                  f" {mine.cpu / theirs.cpu:.2f} CPU")  # fmt: skip
    print(f"  import psycopg alone: {alone.line()}")
    print(f"  python -c pass:       {bare.line()}")
    for variant, own in zip(variants, owns, strict=True):
        print(f"  {variant.name}, its own start-up:")
        print("\n".join(own.lines()))
    if len(owns) == 2:
        mine, theirs = ((statistics.median(o.importing_s), statistics.median(o.making_s))
                        for o in owns)  # fmt: skip
        print(
            f"  ours, timed inside one process: this / compared: importing"
            f" {mine[0] / theirs[0]:.2f}, making dataclasses {mine[1] / theirs[1]:.2f}"
        )
    print(f"  target (issue 23): today on PostgreSQL <= 0.5 s; {variants[0].pg.wall:.3f} s")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="postgresql://user@host:port")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--database", default="heavylegs_startup")
    parser.add_argument("--compare", type=Path, help="a folder holding another heavylegs_sync")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    if args.compare and not (args.compare / "heavylegs_sync" / "__init__.py").is_file():
        parser.error(f"--compare {args.compare}: no heavylegs_sync package in it")

    compiled = byte_compile()
    if args.compare and not compileall.compile_dir(args.compare / "heavylegs_sync", quiet=1):
        raise SystemExit(f"could not byte-compile {args.compare}")
    work = Path(tempfile.mkdtemp(prefix="heavylegs-startup-"))  # the runs' folder too
    env = dict(os.environ, HEAVYLEGS_CONFIG=str(SAMPLE / "heavylegs.toml"))
    for name in ("HEAVYLEGS_ATHLETE", "HEAVYLEGS_DB", "PYTHONPATH"):
        env.pop(name, None)
    copies = [("this package", env)]
    if args.compare:
        copies.append((f"compared: {args.compare}", dict(env, PYTHONPATH=str(args.compare))))
    bare, alone = Runs("python -c pass"), Runs("import psycopg")
    try:
        with ExitStack() as stack:
            variants = []
            for index, (name, copy_env) in enumerate(copies):
                url = stack.enter_context(database(args.server, f"{args.database}_{index}"))
                lite = str(work / f"store-{index}.sqlite")
                variants.append(Variant(name, copy_env, url, lite, Runs("pg"), Runs("sqlite")))
            for variant in variants:
                prepare(variant, work)
            owns = [Own(ours_loaded(variant, work)) for variant in variants]
            load = os.getloadavg()[0]
            for _ in range(args.repeats):
                for variant in variants:
                    pg_env = dict(variant.env, HEAVYLEGS_DB=variant.url)
                    variant.pg.add(*run([*CLI, *TODAY], pg_env, work))
                    lite_env = dict(variant.env, HEAVYLEGS_DB=variant.lite)
                    variant.sqlite.add(*run([*CLI, *TODAY], lite_env, work))
                bare.add(*run([sys.executable, "-c", "pass"], env, work))
                alone.add(*run([sys.executable, "-c", "import psycopg"], env, work))
                for variant, own in zip(variants, owns, strict=True):
                    own.measure(variant.env, work)
            for variant in variants:
                round_trips(variant, work)
            end_load = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    show(variants, bare, alone, (load, end_load), owns)
    print(compiled)
    if args.json:
        payload = {
            "load": [load, end_load],
            "variants": [
                {
                    "name": v.name,
                    "connections": v.connections,
                    "statements": v.statements,
                    "own": own_figures(o),
                    **{s: dict(asdict(getattr(v, s)), wall=getattr(v, s).wall,
                               cpu=getattr(v, s).cpu) for s in ("pg", "sqlite")},
                }
                for v, o in zip(variants, owns, strict=True)
            ],
            "import_psycopg": dict(asdict(alone), wall=alone.wall, cpu=alone.cpu),
            "bare": dict(asdict(bare), wall=bare.wall, cpu=bare.cpu),
            "own": own_figures(owns[0]),  # this package's (each variant holds its own)
        }  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
