"""``today --athlete X`` as a whole command on PostgreSQL and on SQLite: start-up included.

    python -m bench.startup --server postgresql://postgres@127.0.0.1:55432
                            [--repeats 9] [--database heavylegs_startup] [--json FILE]

Imports the bundled sample athlete (eight weeks, ``fixtures/sample-athlete``) as ``ana``
beside a second athlete ``bob`` into a fresh database ``--database`` on the server
(dropped at the end) and into an SQLite file, then runs ``heavylegs --athlete ana today
--date 2026-11-20`` in a subprocess on each, the runs alternating, ``--repeats`` times
after one run each that may keep figures: the median wall time and the median CPU time
of the process (user + system; less sensitive than wall time to other work on a shared
machine), and the ratio PostgreSQL / SQLite. Beside it: ``import psycopg`` alone in a
new Python (what a PostgreSQL command pays before it connects), Python's bare start-up,
and the connections and statements one ``today`` makes on the server (from
``pg_stat_database``). The load average is printed beside the figures. Issue 23's target
(``today`` <= 0.5 s on a server) is printed, never asserted: a benchmark is not a test.
"""

from __future__ import annotations

import argparse
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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

from bench.club import database
from bench.run import CLI, byte_compile

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample-athlete"
DAY = "2026-11-20"
TODAY = ["--athlete", "ana", "today", "--date", DAY]


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


def run(args: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one process; its failure stops the bench."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
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


def round_trips(url: str, env: dict[str, str]) -> tuple[int, int]:
    """The connections and statements one ``today`` makes: the server's counters before
    and after it, less what reading them costs (measured with nothing between)."""

    def settled() -> tuple[int, int]:
        time.sleep(1.0)  # a backend's counters reach the server when it exits
        return server_counts(url)

    first = settled()
    second = settled()
    cost = (second[0] - first[0], second[1] - first[1])
    run([*CLI, *TODAY], dict(env, HEAVYLEGS_DB=url))
    third = settled()
    return third[0] - second[0] - cost[0], third[1] - second[1] - cost[1]


def prepare(target: str, env: dict[str, str]) -> None:
    """Athletes ana (the sample) and bob in the store at ``target``."""
    env = dict(env, HEAVYLEGS_DB=target)
    for name in ("ana", "bob"):
        run([*CLI, "athletes", "add", name], env)
    run([*CLI, "--athlete", "ana", "import", str(SAMPLE)], env)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="postgresql://user@host:port")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--database", default="heavylegs_startup")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)

    compiled = byte_compile()
    work = Path(tempfile.mkdtemp(prefix="heavylegs-startup-"))
    env = dict(os.environ, HEAVYLEGS_CONFIG=str(SAMPLE / "heavylegs.toml"))
    for name in ("HEAVYLEGS_ATHLETE", "HEAVYLEGS_DB"):
        env.pop(name, None)
    python = [sys.executable]
    bare, psycopg_import = Runs("python -c pass"), Runs("python -c 'import psycopg'")
    pg, sqlite = Runs("today, PostgreSQL"), Runs("today, SQLite")
    try:
        with database(args.server, args.database) as url:
            lite = str(work / "store.sqlite")
            prepare(url, env)
            prepare(lite, env)
            load = os.getloadavg()[0]
            for target in (url, lite):  # the first run may keep figures it computed
                run([*CLI, *TODAY], dict(env, HEAVYLEGS_DB=target))
            for _ in range(args.repeats):
                pg.add(*run([*CLI, *TODAY], dict(env, HEAVYLEGS_DB=url)))
                sqlite.add(*run([*CLI, *TODAY], dict(env, HEAVYLEGS_DB=lite)))
                bare.add(*run([*python, "-c", "pass"], env))
                psycopg_import.add(*run([*python, "-c", "import psycopg"], env))
            connections, statements = round_trips(url, env)
            end_load = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"today --athlete ana --date {DAY}, sample athlete, median of {args.repeats}"
          f" (load average {load:.1f} at the start, {end_load:.1f} at the end):")  # fmt: skip
    for runs in (pg, sqlite, psycopg_import, bare):
        print(f"  {runs.name:<28} {runs.wall:6.3f} s wall  {runs.cpu:6.3f} s CPU")
    print(f"  PostgreSQL / SQLite: {pg.wall / sqlite.wall:.2f} wall, {pg.cpu / sqlite.cpu:.2f} CPU")
    print(f"  target (issue 23): today on PostgreSQL <= 0.5 s; {pg.wall:.3f} s")
    print(f"  on the server, one today: {connections} connection(s), {statements} statements")
    print(compiled)
    if args.json:
        payload = {
            "load": [load, end_load],
            "runs": [
                dict(asdict(r), wall=r.wall, cpu=r.cpu) for r in (pg, sqlite, psycopg_import, bare)
            ],
            "connections": connections,
            "statements": statements,
        }
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
