"""The club benchmark: a generated club in one PostgreSQL database, and what a coach runs.

    python -m bench.club --server postgresql://postgres@127.0.0.1:55432
                         [--athletes 1000] [--with-samples 24] [--repeats 5]
                         [--history 1500] [--import-repeats 3] [--workers N]
                         [--database NAME] [--json FILE] [--keep] [--reuse]
                         [--skip-imports] [--installed DIR]

Generates (seed ``--seed``, deterministic) a club of ``--athletes`` athletes, each with one
year of training (2025-11-01 to 2026-10-31, about 250 activities each), into a fresh
database ``--database`` (``heavylegs_club``) on the server, dropped at the end unless
``--keep`` (``--reuse`` times a club kept so, without generating it again):

- ``--with-samples`` athletes from watch files: a year of real-shaped FIT files each
  (:func:`bench.generate.generate`), imported by ``heavylegs import`` as a runner would;
- every other athlete from Strava summaries, stored exactly as ``heavylegs strava sync``
  stores an activity whose streams it did not get: the summary checked
  (:func:`~heavylegs_sync.strava.checks.check_summary`), mapped
  (:func:`~heavylegs_sync.strava.mapping.to_activity`), vetted
  (:func:`~heavylegs_sync.importers.plausible.vet_one`), stored with its JSON and the
  listing cursor set, by the store's own insert (what ``Store.add_strava`` runs), one
  transaction per athlete instead of one per activity (:func:`store_summaries`).

Then it times whole commands, as a coach runs them (``heavylegs`` in a subprocess, start-up
included, as ``bench.run`` times commands), the first run and the median of ``--repeats``:
``team`` (with the club's settings, and with a max HR set for everyone), ``today
--athlete X`` and ``report --athlete X`` over the year, for an athlete with samples and
one without. And the import of one athlete's five years
(``bench.generate``, ``--history`` files) into PostgreSQL and into SQLite, the same files
and workers, runs alternating (fresh database or file each time), and the ratio; once more
into the club's database as a new athlete. The load average is printed beside each group:
other work on the machine slows both sides of a ratio alike, not a single time.
Targets (issue 23) are printed beside the results, never asserted. ``--installed DIR``
times the commands of this checkout installed into a virtual environment ``DIR`` as the
README installs it (``pip install .``; made when missing), not this Python's (an editable
install in development adds its finder's start-up to every command).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psutil
import psycopg
from psycopg import sql

from bench.generate import generate
from bench.run import CLI, byte_compile, installed, timed_command
from heavylegs_sync.importers.plausible import vet_one
from heavylegs_sync.model import Activity
from heavylegs_sync.store import Store
from heavylegs_sync.strava.checks import check_summary
from heavylegs_sync.strava.mapping import to_activity
from heavylegs_sync.strava.sync import CURSOR_KEY

BERLIN = ZoneInfo("Europe/Berlin")
#: The club's year, and the day the coach looks at (its last).
FIRST_DAY = date(2025, 11, 1)
LAST_DAY = date(2026, 10, 31)
#: When the sync ran: the club's data is judged plausible against it.
SYNCED_AT = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
#: The club's database on the server (``--database``); the five-year imports go to a
#: fresh one of the same name with ``_import`` after it.
CLUB_DB = "heavylegs_club"
#: Sport types of the summary athletes' sessions, as Strava names them.
RUN, STRENGTH, RIDE = "Run", "WeightTraining", "Ride"


@dataclass
class Timing:
    """One command's wall times: the first run, then ``repeats`` more, each just after a
    run of :data:`REFERENCE` (``reference_s``): this machine's speed moves by half between
    minutes, and the reference moves with it, so the ratio says what a time alone does not."""

    name: str
    first_s: float
    runs_s: list[float]
    target: str = ""
    load: float = 0.0  # the 1-minute load average when the runs began
    reference_s: list[float] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.runs_s)

    @property
    def ratio(self) -> float:
        """The median run over the median reference run."""
        return self.median_s / statistics.median(self.reference_s)


#: The reference a command's runs alternate with: a new Python importing psycopg, the
#: same work every time and what every command on a server pays before any of ours.
REFERENCE = "import psycopg"


@dataclass
class Club:
    """What was generated, and how long it took."""

    athletes: int
    with_samples: int
    activities: int
    samples: int
    summaries_s: float
    samples_s: float
    database_mb: float


@dataclass
class Results:
    club: Club | None = None
    timings: list[Timing] = field(default_factory=list)
    imports: dict[str, list[float]] = field(default_factory=dict)
    ratio: float | None = None
    #: Where a command's time goes: the work in one process, and psycopg's import.
    inside: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def athlete_name(index: int) -> str:
    """``a0001`` ... : the club's athletes, by number (with samples: the first ones)."""
    return f"a{index + 1:04d}"


# -- summaries as a Strava sync stores them ---------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def summary(
    strava_id: int, athlete_id: int, sport: str, local: datetime, moving_s: int,
    speed: float, hr: float | None, rng: np.random.Generator,
) -> dict[str, Any]:  # fmt: skip
    """One SummaryActivity as ``GET /athlete/activities`` lists it (the fields Strava sends
    for an activity recorded on a watch and uploaded)."""
    utc = local.astimezone(UTC)
    offset = local.utcoffset()
    assert offset is not None
    elapsed = moving_s + int(rng.integers(0, 300))
    distance = round(speed * moving_s, 1)
    names = {RUN: "Morning Run", STRENGTH: "Weight Training", RIDE: "Evening Ride"}
    item: dict[str, Any] = {
        "resource_state": 2,
        "athlete": {"id": athlete_id, "resource_state": 1},
        "name": names[sport],
        "distance": distance,
        "moving_time": moving_s,
        "elapsed_time": elapsed,
        "total_elevation_gain": round(float(rng.uniform(0, 200)), 1) if distance else 0.0,
        "type": sport,
        "sport_type": sport,
        "workout_type": None,
        "id": strava_id,
        "start_date": _iso(utc),
        "start_date_local": _iso(utc + offset),  # wall time with a literal Z, like Strava
        "timezone": "(GMT+01:00) Europe/Berlin",
        "utc_offset": float(offset.total_seconds()),
        "map": {"id": f"a{strava_id}", "summary_polyline": "", "resource_state": 2},
        "trainer": False,
        "commute": False,
        "manual": False,
        "private": False,
        "visibility": "everyone",
        "flagged": False,
        "gear_id": None,
        "average_speed": round(speed, 3),
        "max_speed": round(speed * 1.35, 3),
        "has_heartrate": hr is not None,
        "upload_id": strava_id + 1_000_000_000,
        "external_id": f"garmin_ping_{strava_id}",
    }
    if hr is not None:
        item["average_heartrate"] = round(hr, 1)
        item["max_heartrate"] = float(round(hr + rng.uniform(12, 30)))
    return item


def summaries_of(index: int, seed: int) -> list[dict[str, Any]]:
    """One summary athlete's year: 2-5 runs a week (a long one on Sunday when there are
    four or more; a hard session in some weeks), 0-2 strength sessions, sometimes a ride;
    about 250 activities. Deterministic for (index, seed)."""
    rng = np.random.default_rng([seed, index])
    athlete_id = 10_000_000 + index
    runs_a_week = int(rng.integers(2, 6))
    strength_a_week = int(rng.integers(0, 3))
    easy_hr = float(rng.uniform(132, 150))
    pace = float(rng.uniform(2.6, 3.6))  # m/s
    result = []
    n = 0
    monday = FIRST_DAY - timedelta(days=FIRST_DAY.weekday())
    while monday <= LAST_DAY:
        runs = sorted(rng.choice(7, size=runs_a_week, replace=False).tolist())
        lifts = rng.choice(7, size=strength_a_week, replace=False).tolist()
        rides = [int(rng.integers(0, 7))] if rng.random() < 0.3 else []
        hard_day = runs[len(runs) // 2] if rng.random() < 0.5 else None
        sessions: list[tuple[int, str, int]] = []  # (weekday, sport, hour)
        sessions += [(d, RUN, 7) for d in runs]
        sessions += [(d, STRENGTH, 18) for d in lifts]
        sessions += [(d, RIDE, 17) for d in rides]
        for weekday, sport, hour in sorted(sessions):
            day = monday + timedelta(days=weekday)
            if not FIRST_DAY <= day <= LAST_DAY:
                continue
            local = datetime(day.year, day.month, day.day, hour, int(rng.integers(0, 45)),
                             tzinfo=BERLIN)  # fmt: skip
            hr: float | None = None if rng.random() < 0.08 else easy_hr
            if sport == RUN:
                long = weekday == 6 and runs_a_week >= 4
                minutes = rng.uniform(90, 140) if long else rng.uniform(30, 70)
                speed = pace * float(rng.uniform(0.93, 1.05))
                if hr is not None and weekday == hard_day:
                    hr += float(rng.uniform(14, 22))
            elif sport == STRENGTH:
                minutes, speed = rng.uniform(30, 60), 0.0
                hr = None if hr is None else hr - 25
            else:
                minutes, speed = rng.uniform(60, 150), float(rng.uniform(7, 9))
                hr = None if hr is None else hr - 8
            strava_id = athlete_id * 1000 + n
            n += 1
            result.append(summary(strava_id, athlete_id, sport, local, int(minutes * 60),
                                  speed, hr, rng))  # fmt: skip
        monday += timedelta(days=7)
    return result


def as_synced(items: Sequence[dict[str, Any]], now: datetime) -> list[tuple[int, Activity, str]]:
    """(Strava id, activity, stored JSON) of each summary, as a sync makes them: listed
    (checked against ``now``, kept as JSON), fetched without streams (checked again,
    mapped, vetted). A summary a sync would refuse is an error of the generator."""
    result = []
    for item in items:
        text = json.dumps(check_summary(item, now).summary)
        checked = check_summary(json.loads(text))
        activity, _ = vet_one(to_activity(checked.summary, None), now)
        result.append((int(item["id"]), activity, text))
    return result


def store_summaries(store: Store, synced: Sequence[tuple[int, Activity, str]]) -> int:
    """Store one athlete's synced activities in one transaction, row for row what
    ``Store.add_strava`` stores one by one (the activity and its JSON; nothing was
    queued), and the listing cursor as the sync leaves it. Returns how many were new."""
    new = 0
    with store.connection.write() as db:
        for _, activity, text in synced:
            new_id = store.records.insert(db, activity, None, None)
            if new_id is not None:
                db.execute(
                    "INSERT INTO strava_json (activity_id, raw_json) VALUES (?, ?)", (new_id, text)
                )
                new += 1
    latest = max((int(a.start_utc.timestamp()) for _, a, _ in synced), default=1)
    store.set_state(CURSOR_KEY, str(latest - 1))
    return new


# -- the club ----------------------------------------------------------------------------


@contextmanager
def database(server: str, name: str, keep: bool = False, reuse: bool = False) -> Iterator[str]:
    """A fresh empty database ``name`` on the server (dropped first if it was there, and
    afterwards unless ``keep``): its URL. ``reuse``: the database as an earlier run with
    ``keep`` left it, kept again."""
    admin_url = f"{server.rstrip('/')}/postgres"
    if reuse:
        yield f"{server.rstrip('/')}/{name}"
        return

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    drop()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{server.rstrip('/')}/{name}"
    finally:
        if not keep:
            drop()


def generate_club(
    url: str, args: argparse.Namespace, work: Path, env: dict[str, str], results: Results
) -> None:
    """Every athlete added (zone Europe/Berlin), the summary athletes stored, then the
    athletes with samples imported from their generated watch files."""
    started = time.perf_counter()
    with Store.open(url, unscoped=True) as store:
        for index in range(args.athletes):
            store.athletes.add(athlete_name(index), "Europe/Berlin")
        for index in range(args.with_samples, args.athletes):
            scoped = store.for_athlete(athlete_name(index))
            store_summaries(scoped, as_synced(summaries_of(index, args.seed), SYNCED_AT))
            if index % 100 == 0:
                print(f"  summaries: {index} athletes, {time.perf_counter() - started:.0f} s",
                      flush=True)  # fmt: skip
    summaries_s = time.perf_counter() - started
    started = time.perf_counter()
    for index in range(args.with_samples):
        folder = work / f"watch-{index}"
        generate(folder, args.year_files, args.seed * 1000 + index,
                 first_day=datetime(2025, 11, 1, tzinfo=UTC), years=1)  # fmt: skip
        command = [*args.cli, "--athlete", athlete_name(index), "import", str(folder),
                   "--workers", str(args.workers)]  # fmt: skip
        timed_command(command, dict(env, HEAVYLEGS_DB=url))
        shutil.rmtree(folder)
    samples_s = time.perf_counter() - started
    with psycopg.connect(url) as raw:
        activities = raw.execute("SELECT count(*) FROM activities").fetchone()
        samples = raw.execute("SELECT coalesce(sum(n), 0) FROM samples").fetchone()
        size = raw.execute("SELECT pg_database_size(current_database())").fetchone()
    assert activities and samples and size
    results.club = Club(args.athletes, args.with_samples, int(activities[0]), int(samples[0]),
                        summaries_s, samples_s, size[0] / 1e6)  # fmt: skip


def time_commands(
    url: str, args: argparse.Namespace, env: dict[str, str], results: Results
) -> None:
    """``team``, ``today`` and ``report`` over the year as whole commands: the first run
    (it may keep figures it computed), then the median of ``--repeats``. ``team`` twice:
    with the club's settings (no max HR: each row reads all its athlete's history, as
    zones then rest on every run's peak) and with ``[athlete] max_hr`` set for everyone
    (each row reads the eight weeks that decide it, docs/team.md)."""
    env = dict(env, HEAVYLEGS_DB=url)
    bounded = Path(env["HEAVYLEGS_CONFIG"]).with_name("max-hr.toml")
    bounded.write_text("[athlete]\nmax_hr = 190\n")
    sampled, summarised = athlete_name(0), athlete_name(args.athletes - 1)
    year = ["--since", str(FIRST_DAY), "--until", str(LAST_DAY)]
    commands = [
        ("team", ["team", "--date", str(LAST_DAY)], "<= 2 s"),
        ("team, [athlete] max_hr set",
         ["--config", str(bounded), "team", "--date", str(LAST_DAY)], "<= 2 s"),
        (f"today --athlete {sampled} (samples)",
         ["--athlete", sampled, "today", "--date", str(LAST_DAY)], "<= 0.5 s"),
        (f"today --athlete {summarised} (summaries)",
         ["--athlete", summarised, "today", "--date", str(LAST_DAY)], "<= 0.5 s"),
        (f"report --athlete {sampled}, a year (samples)",
         ["--athlete", sampled, "report", *year], "<= 1 s"),
        (f"report --athlete {summarised}, a year (summaries)",
         ["--athlete", summarised, "report", *year], "<= 1 s"),
    ]  # fmt: skip
    if args.athletes <= args.with_samples:
        commands = [c for c in commands if "summaries" not in c[0]]
    reference = [_python(args), "-c", REFERENCE]
    for name, command, target in commands:
        load = os.getloadavg()[0]
        first = timed_command([*args.cli, *command], env)[0]
        runs, references = [], []
        for _ in range(args.repeats):
            references.append(timed_command(reference, env)[0])
            runs.append(timed_command([*args.cli, *command], env)[0])
        results.timings.append(Timing(name, first, runs, target, load, references))


def _python(args: argparse.Namespace) -> str:
    """The Python of the timed install (``--installed``), else this one."""
    return str(Path(args.cli[0]).with_name("python")) if args.installed else sys.executable


def time_inside(url: str, args: argparse.Namespace, config: Path, results: Results) -> None:
    """The same work without a command's start-up: ``today`` and ``report`` through the
    service functions the commands call, in this process (median of ``--repeats``), and
    ``team`` with a max HR set (one run); and ``import psycopg`` alone in a new Python
    (median of 3), which every command on PostgreSQL pays and none on SQLite."""
    from heavylegs_sync import service
    from heavylegs_sync.config import load_settings

    clock = datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time(), UTC)
    names = [athlete_name(0)]
    if args.athletes > args.with_samples:
        names.append(athlete_name(args.athletes - 1))
    for name in names:
        own = service.athlete_settings(load_settings(config, url, athlete=name))
        work: dict[str, Callable[[], object]] = {
            "today": partial(service.today, own, LAST_DAY, clock=clock),
            "report": partial(service.report, own, last=LAST_DAY, first=FIRST_DAY, clock=clock),
        }
        for what, run in work.items():
            seconds = []
            for _ in range(max(1, args.repeats)):
                started = time.perf_counter()
                run()
                seconds.append(time.perf_counter() - started)
            results.inside[f"{what} --athlete {name}, in one process"] = statistics.median(seconds)
    bounded = load_settings(config.with_name("max-hr.toml"), url)
    started = time.perf_counter()
    service.team(bounded, LAST_DAY, clock=clock)
    results.inside["team, max_hr set, in one process"] = time.perf_counter() - started
    code = "import time; t = time.perf_counter(); import psycopg; print(time.perf_counter() - t)"
    imports = [float(timed_command([_python(args), "-c", code], dict(os.environ))[2])
               for _ in range(3)]  # fmt: skip
    results.inside["import psycopg, a new Python"] = statistics.median(imports)


def time_imports(
    server: str, args: argparse.Namespace, club_url: str, work: Path, env: dict[str, str],
    results: Results,
) -> None:  # fmt: skip
    """One athlete's five years into a fresh PostgreSQL database and into a fresh SQLite
    file, alternating, ``--import-repeats`` each; then once into the club's database as a
    new athlete. The ratio compares the medians."""
    history = work / "history"
    started = time.perf_counter()
    files = generate(history, args.history, seed=7)
    print(f"  generated {len(files)} files in {time.perf_counter() - started:.1f} s", flush=True)
    command = [*args.cli, "import", str(history), "--workers", str(args.workers)]
    runs: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    lines: dict[str, str] = {}
    cpu: dict[str, list[tuple[float, float]]] = {"sqlite": [], "postgresql": []}
    load = os.getloadavg()[0]
    for _ in range(args.import_repeats):
        db = work / "five-years.sqlite"
        for old in work.glob("five-years.sqlite*"):
            old.unlink()
        seconds, _, lines["sqlite"] = timed_command(
            command, dict(env, HEAVYLEGS_DB=str(db)), cpu=cpu["sqlite"]
        )
        runs["sqlite"].append(seconds)
        with database(server, f"{args.database}_import") as url:
            seconds, _, lines["postgresql"] = timed_command(
                command, dict(env, HEAVYLEGS_DB=url), cpu=cpu["postgresql"]
            )
        runs["postgresql"].append(seconds)
    with Store.open(club_url, unscoped=True) as store:
        if store.athletes.get("five-years") is not None:  # a club kept from an earlier run
            store.athletes.remove("five-years")
        store.athletes.add("five-years", "Europe/Berlin")
    club = [*args.cli, "--athlete", "five-years", "import", str(history), "--workers",
            str(args.workers)]  # fmt: skip
    seconds, _, lines["club"] = timed_command(club, dict(env, HEAVYLEGS_DB=club_url))
    runs["postgresql, into the club's database"] = [seconds]
    results.imports = runs
    results.ratio = statistics.median(runs["postgresql"]) / statistics.median(runs["sqlite"])
    results.notes.append(f"import load average at the start: {load:.1f}")
    for where, used in cpu.items():  # what no worker can take: the storing process's
        own, tree = (min(values) for values in zip(*used, strict=True))
        results.notes.append(
            f"import into {where}: the main process's own CPU {own:.2f} s of the {tree:.2f} s"
            " its processes used (least of the runs)"
        )
    results.notes += [f"import into {k}: {v}" for k, v in lines.items()]
    shutil.rmtree(history)


def show(results: Results, machine: str) -> None:
    club = results.club
    if club is not None:
        print(
            f"\n== club: {club.athletes} athletes ({club.with_samples} with samples), "
            f"{club.activities:,} activities, {club.samples:,} samples, "
            f"database {club.database_mb:,.0f} MB\n"
            f"generated in {club.summaries_s:.0f} s (summaries) + {club.samples_s:.0f} s "
            "(watch files, imported)"
        )
    print(f"\n{'command':<44} {'first':>7} {'median':>7} {'min':>6} {'max':>6} load  target"
          f"    reference  ratio")  # fmt: skip
    for t in results.timings:
        print(f"{t.name:<44} {t.first_s:>6.2f}s {t.median_s:>6.2f}s {min(t.runs_s):>5.2f}s "
              f"{max(t.runs_s):>5.2f}s {t.load:>4.1f}  {t.target:<8} "
              f"{statistics.median(t.reference_s):>6.3f}s {t.ratio:>6.2f}")  # fmt: skip
    print(
        f"(reference: a new Python running {REFERENCE!r}, alternating with each command's"
        " runs; ratio: median over median)"
    )
    if results.imports:
        print("\nimport of one athlete's five years (runs, seconds):")
        for where, runs in results.imports.items():
            print(f"  {where}: {', '.join(f'{s:.2f}' for s in runs)}"
                  f" (median {statistics.median(runs):.2f})")  # fmt: skip
        print(f"  PostgreSQL / SQLite (medians): {results.ratio:.2f}x  (target <= 1.5x)")
    if results.inside:
        print("\nwithout start-up (seconds):")
        for name, seconds in results.inside.items():
            print(f"  {name}: {seconds:.3f}")
    for note in results.notes:
        print(f"  {note}")
    print(f"\nmachine: {machine}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--server",
        required=True,
        help="postgresql://user@host:port (the bench makes its databases)",
    )
    parser.add_argument("--athletes", type=int, default=1000)
    parser.add_argument("--with-samples", type=int, default=24)
    parser.add_argument(
        "--year-files",
        type=int,
        default=250,
        help="watch files of a year, per athlete with samples",
    )
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--history",
        type=int,
        default=1500,
        help="files of the five-year history imported into each store",
    )
    parser.add_argument("--import-repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--database", default=CLUB_DB, help="the club's database name")
    parser.add_argument("--keep", action="store_true", help="keep the club's database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the club an earlier --keep run left (no generation)",
    )
    parser.add_argument(
        "--skip-imports", action="store_true", help="leave out the five-year import"
    )
    parser.add_argument(
        "--installed",
        type=Path,
        help="time the heavylegs of a virtual environment here, this checkout installed"
        " into it as the README installs it (made when missing): not an editable install",
    )
    args = parser.parse_args(argv)  # fmt: skip
    args.with_samples = min(args.with_samples, args.athletes)
    args.cli = installed(args.installed) if args.installed else CLI

    work = Path(tempfile.mkdtemp(prefix="heavylegs-club-"))
    compiled = None if args.installed else byte_compile()  # pip compiles an install
    config = work / "settings.toml"
    config.write_text("# the club bench: each athlete's zone is the store's\n")
    env = dict(os.environ, HEAVYLEGS_CONFIG=str(config))
    env.pop("HEAVYLEGS_ATHLETE", None)
    start_load = os.getloadavg()[0]
    started = datetime.now(UTC)
    results = Results()
    try:
        with database(args.server, args.database, keep=args.keep, reuse=args.reuse) as url:
            if not args.reuse:
                generate_club(url, args, work, env, results)
            time_commands(url, args, env, results)
            time_inside(url, args, config, results)
            if not args.skip_imports:
                time_imports(args.server, args, url, work, env, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"PostgreSQL {_server_version(args.server)}; {started:%Y-%m-%d %H:%M} to "
        f"{datetime.now(UTC):%H:%M} UTC; load average {start_load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    show(results, machine)
    print(compiled if not args.installed else f"timed: {args.cli[0]} (pip install ., not editable)")
    if args.json:
        payload = {"machine": machine, **asdict(results)}
        for timing, row in zip(results.timings, payload["timings"], strict=True):
            row["median_s"] = timing.median_s
            row["ratio"] = timing.ratio
        args.json.write_text(json.dumps(payload, indent=2))


def _server_version(server: str) -> str:
    with psycopg.connect(f"{server.rstrip('/')}/postgres") as raw:
        row = raw.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


if __name__ == "__main__":
    main(sys.argv[1:])
