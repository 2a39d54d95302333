"""The coach's view reads the whole squad at once (``heavylegs_sync.squad_reads``): every
row it gives is the row the athlete's own store gives (each zone source, the max-HR
estimate from every run's peak, wellness, Strava's zones, a time zone from evidence,
the days a bounded read cannot decide), on both backends; the statements it runs do
not grow with the squad; and what it had to read from an athlete's store says so."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from heavylegs_sync import service
from heavylegs_sync.config import Settings, load_settings
from heavylegs_sync.diagnosis import athlete_zones, derive, today_store
from heavylegs_sync.hr.strava import ZONES_KEY
from heavylegs_sync.model import Category, WellnessRecord, WellnessSource
from heavylegs_sync.store import Store
from heavylegs_sync.store.connection import Connection
from heavylegs_sync.team import TeamRow, team_row
from tests.histories import activity, runs_only_year, varied_year

#: Shared settings name no max HR and no zone: each athlete's come from their own tables,
#: the store, Strava or their runs.
SETTINGS = """\
[athletes.var.athlete]
timezone = "Europe/Berlin"
max_hr = 190
"""
FIRST = date(2025, 9, 1)  # varied_year's first day
#: Days across the year, each judged by both paths: regular weeks, the 60-day streak,
#: the weeks off, the return, silence.
DAYS = [FIRST + timedelta(days=n) for n in (10, 30, 50, 75, 101, 120, 165, 180, 190, 215, 251)]
STRAVA_ZONES = {"zones": [{"min": 0, "max": 130}, {"min": 130, "max": 150},
                          {"min": 150, "max": 165}, {"min": 165, "max": 178},
                          {"min": 178, "max": -1}]}  # fmt: skip


def _history(name: str) -> list[Any]:
    """Each athlete's activities: ``var`` the varied year, the others a runner's year
    (``strava``'s from Strava), thinned so their weeks differ."""
    if name == "var":
        return varied_year()
    keep = {"est": 1, "roam": 2, "strava": 3}[name]
    runs = runs_only_year(FIRST, weeks=36, step=5.0)  # peaks for the max-HR estimate
    chosen = [a for i, a in enumerate(runs) if i % 4 != keep]
    if name == "strava":
        return [activity(Category.RUN, a.start_local.date(), 40, source="strava",
                         hard_share=0.3) for a in chosen[::2]]  # fmt: skip
    if name == "est":  # and strength on Mondays
        chosen += [activity(Category.STRENGTH, FIRST + timedelta(weeks=w), 30, hhmm="18:00")
                   for w in range(36)]  # fmt: skip
    return chosen


def _nights() -> list[WellnessRecord]:
    """``est``'s short nights in the autumn (cause 10 around hard runs)."""
    hours = {d: 5.5 if d % 3 else 7.5 for d in range(20, 140)}
    return [
        WellnessRecord(FIRST + timedelta(days=d), WellnessSource.CSV, "sleep.csv", sleep_s=h * 3600)
        for d, h in hours.items()
    ]


@dataclass
class Club:
    target: str
    settings: Settings


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def club(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Club]:
    """Five athletes in one store: ``var`` (max HR and zone from their settings), ``est``
    (zone from the store, max HR estimated from their runs, wellness), ``roam`` (zone
    from their files' own offsets), ``strava`` (zones from Strava), ``none`` (nothing)."""
    folder = tmp_path_factory.mktemp("club")
    config = folder / "heavylegs.toml"
    config.write_text(SETTINGS)
    if request.param == "sqlite":
        yield from _club(str(folder / "store.sqlite"), config)
    else:
        with request.getfixturevalue("pg_server").database() as url:
            yield from _club(url, config)


def _club(target: str, config: Path) -> Iterator[Club]:
    shared = load_settings(config=config, db=target)
    with Store.open(target, unscoped=True) as store:
        store.athletes.add("var")
        store.athletes.add("est", "Europe/Berlin")
        store.athletes.add("roam")
        store.athletes.add("strava", "Europe/Berlin")
        store.athletes.add("none")
        for name in ("var", "est", "roam", "strava"):
            mine = store.for_athlete(name)
            for a in _history(name):
                mine.add_activity(a)
        store.for_athlete("est").add_wellness(_nights(), None)
        store.for_athlete("strava").set_state(ZONES_KEY, json.dumps(STRAVA_ZONES))
        var = store.athletes.get("var")
        assert var is not None
        derive(store.for_athlete("var"), service.settings_of(shared, var))
    yield Club(target, shared)


def _clock(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=19)


def _rows_one_by_one(club: Club, day: date) -> dict[str, TeamRow]:
    """Each athlete's row from their own scoped store: the path ``team`` took before."""
    rows = {}
    with Store.open(club.target, read_only=True, unscoped=True) as store:
        for athlete in store.athletes.list():
            scoped = store.scoped_to(athlete)
            own = service.settings_of(club.settings, athlete)
            zones = athlete_zones(scoped, own)
            now = zones.today(_clock(day))
            rows[athlete.name] = team_row(scoped, own, day, athlete=athlete.name, current=now,
                                          zones=zones)  # fmt: skip
    return rows


def test_every_row_is_the_row_the_athletes_own_store_gives(club: Club) -> None:
    judged: set[str] = set()
    for day in DAYS:
        squad = {r.athlete: r for r in service.team(club.settings, day, clock=_clock(day)).rows}
        alone = _rows_one_by_one(club, day)
        assert squad.keys() == alone.keys() == {"var", "est", "roam", "strava", "none"}
        for name, row in alone.items():
            assert squad[name] == row, (name, day)
            judged.update(c.code for c in row.causes)
    # The paths met real verdicts: recovery, speed, strength and sleep among them.
    assert {"no-rest-day", "too-much-hard", "too-little-strength"} <= judged, judged
    assert "short-sleep" in judged, judged


def test_without_a_max_hr_the_weeks_read_give_todays_answer(club: Club) -> None:
    """A row reads the weeks before the day; the max-HR estimate still rests on every
    run before it (their kept peaks, read alone): the answer is ``today``'s, which reads
    all history."""
    with Store.open(club.target, read_only=True, unscoped=True) as store:
        for name in ("est", "roam"):
            athlete = store.athletes.get(name)
            assert athlete is not None
            scoped = store.scoped_to(athlete)
            own = service.settings_of(club.settings, athlete)
            assert own.athlete.max_hr is None
            for day in DAYS:
                row = team_row(scoped, own, day, athlete=name, current=day)
                full = today_store(scoped, own, day, current=day)
                assert (row.causes, row.answer.notes) == (full.causes, full.notes), (name, day)


def test_each_zone_source_is_the_one_its_settings_and_data_give(club: Club) -> None:
    """Judged by each athlete's own zones: ``est`` and ``roam`` on the max HR their runs'
    peaks give (the hard share says it rests on an estimate), ``strava`` on Strava's
    zones, ``var`` on its setting; nobody left without zones."""
    day = DAYS[1]
    rows = {r.athlete: r for r in service.team(club.settings, day, clock=_clock(day)).rows}
    for name in ("var", "est", "roam", "strava"):
        assert not any(n.code == "zones-missing" for n in rows[name].answer.notes), name
    estimated = {
        name
        for name, row in rows.items()
        for cause in row.causes
        if cause.evidence.get("zones_estimated")
    }
    assert estimated <= {"est", "roam"}, estimated
    assert rows["none"].answer.activities == 0


def _statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL every SQLite connection opened from now on runs, as it runs it."""
    seen: list[str] = []
    opened = Connection.open.__func__  # type: ignore[attr-defined]

    def open_traced(cls: type[Connection], *args: Any, **kwargs: Any) -> Connection:
        connection: Connection = opened(cls, *args, **kwargs)
        raw = connection.db
        assert isinstance(raw, sqlite3.Connection)
        raw.set_trace_callback(seen.append)
        return connection

    monkeypatch.setattr(Connection, "open", classmethod(open_traced))
    return seen


def test_summaries_without_samples_cost_no_figures(
    backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Strava summaries have no samples, so every figure of them is nothing: the squad
    read says which of its records have samples, and the view neither reads nor computes
    nor keeps a figure for the others, while every row stays the row the athlete's own
    store gives (which computes and keeps the nothings)."""
    config = tmp_path / "heavylegs.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\nmax_hr = 190\n')
    settings = load_settings(config=config, db=backend)
    day = FIRST + timedelta(days=60)
    with Store.open(backend, unscoped=True) as store:
        for name in ("watch", "summaries"):
            store.athletes.add(name, "Europe/Berlin")
        for n, d in enumerate(range(0, 61, 2)):
            run = activity(Category.RUN, FIRST + timedelta(days=d), 40, hard_share=0.3)
            store.for_athlete("watch").add_activity(run)
            summary = replace(
                activity(Category.RUN, FIRST + timedelta(days=d), 40 + n % 3, source="strava"),
                samples=None,
                avg_hr=150.0 + n % 20,
                max_hr=180.0,
            )
            store.for_athlete("summaries").add_activity(summary)
    with Store.open(backend, read_only=True, unscoped=True) as store:
        ids = {
            name: {a.id for a in store.for_athlete(name).activities_on_days()}
            for name in ("watch", "summaries")
        }
        since = datetime.combine(FIRST, datetime.min.time(), UTC)
        read = store.squad_derived(since, since + timedelta(days=90))
    # Every record with samples has an entry (nothing kept yet: empty), no summary has one.
    assert read == {i: {} for i in ids["watch"]}, read

    caplog.set_level(logging.DEBUG, logger="heavylegs.team")
    first = service.team(settings, day, clock=_clock(day))
    asked = [r.getMessage() for r in caplog.records if "not the squad's read" in r.getMessage()]
    assert not [m for m in asked if m.startswith("summaries")], asked
    # The watch's zone times were computed from samples (to keep); the summaries' none.
    assert set(first.unsaved) == {"watch"}, first.unsaved
    alone = _rows_one_by_one(Club(backend, settings), day)
    assert {r.athlete: r for r in first.rows} == alone
    assert alone["summaries"].answer.activities > 0


def test_the_statements_do_not_grow_with_the_squad(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five athletes or twenty, the view runs the same statements: each table once for
    the squad (the figures kept, athlete by athlete, come after, and there are none)."""
    config = tmp_path / "heavylegs.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\nmax_hr = 190\n')
    day = FIRST + timedelta(days=60)
    counts = []
    for size in (5, 20):
        db = tmp_path / f"squad-{size}.sqlite"
        settings = load_settings(config=config, db=db)
        with Store.open(db, unscoped=True) as store:
            for n in range(size):
                store.athletes.add(f"a{n:02d}")
                mine = store.for_athlete(f"a{n:02d}")
                for d in range(0, 60, 2 + n % 3):
                    mine.add_activity(activity(Category.RUN, FIRST + timedelta(days=d), 40))
                derive(mine, settings)
        service.team(settings, day, clock=_clock(day))  # zone times for the day: kept
        seen = _statements(monkeypatch)
        result = service.team(settings, day, clock=_clock(day))
        monkeypatch.undo()
        assert len(result.rows) == size and not result.unsaved
        counts.append(len([s for s in seen if s.lstrip().upper().startswith("SELECT")]))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 15, counts


def test_what_the_squad_read_did_not_hold_is_read_from_the_store_and_logged(
    club: Club, caplog: pytest.LogCaptureFixture
) -> None:
    """Inside the 60-day streak the window decides nothing: that row reads the athlete's
    whole history from their store, and the log says so (as for an athlete with nothing
    in the window); on an ordinary day only the athlete with nothing does."""
    caplog.set_level(logging.DEBUG, logger="heavylegs.team")
    streak = FIRST + timedelta(days=101)
    service.team(club.settings, streak, clock=_clock(streak))
    asked = [r.getMessage() for r in caplog.records if "not the squad's read" in r.getMessage()]
    # ``var`` in its streak: all its history; ``none``, with nothing in the window: where
    # it was last (nowhere: the window is all there is).
    assert sorted(asked) == [
        "none: the latest starts before 2025-10-31 read from the store, not the squad's read",
        "var: activities from the first to 2025-12-13 read from the store, not the squad's read",
    ], asked
    caplog.clear()
    ordinary = FIRST + timedelta(days=30)
    service.team(club.settings, ordinary, clock=_clock(ordinary))
    asked = [r.getMessage() for r in caplog.records if "not the squad's read" in r.getMessage()]
    assert [m.split(":")[0] for m in asked] == ["none"], asked


def test_one_athlete_named_reads_only_their_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``team --athlete NAME``: their row, the squad's answer for them, and every
    statement on the athletes' tables scoped to them (nobody else's rows read at all)."""
    config = tmp_path / "heavylegs.toml"
    config.write_text(SETTINGS)
    db = tmp_path / "store.sqlite"
    with Store.open(db, unscoped=True) as store:
        for name in ("var", "roam"):
            store.athletes.add(name)
            mine = store.for_athlete(name)
            for a in _history(name)[:120]:
                mine.add_activity(a)
    day = DAYS[3]
    squad = load_settings(config=config, db=db)
    everyone = {r.athlete: r for r in service.team(squad, day, clock=_clock(day)).rows}
    seen = _statements(monkeypatch)
    (row,) = service.team(load_settings(config=config, db=db, athlete="var"), day,
                          clock=_clock(day)).rows  # fmt: skip
    monkeypatch.undo()
    assert row == everyone["var"]
    tables = ("FROM activities", "FROM derived", "FROM wellness", "FROM state", "FROM samples")
    touched = [
        s for s in seen if s.lstrip().upper().startswith("SELECT") and any(t in s for t in tables)
    ]
    assert touched and all("athlete_id = " in s or "athlete_id IN" in s for s in touched), touched


#: Judged in one process and in parts, in a Python of its own: a process may fork its
#: parts only while no other thread runs (``heavylegs_sync.forked``), and tests before
#: these in the same pytest worker leave threads (Apprise's pools, test servers).
_PARTS = """
import json, sys
from datetime import date
from heavylegs_sync import service
from heavylegs_sync.config import load_settings
from tests.test_squad_reads import _clock

target, config, workers, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
settings = load_settings(config=config, db=target)
found = []
for text in sys.argv[5:]:
    day = date.fromisoformat(text)
    if first == "parts":
        many = service.team(settings, day, clock=_clock(day), workers=workers)
        one = service.team(settings, day, clock=_clock(day), workers=1)
    else:
        one = service.team(settings, day, clock=_clock(day), workers=1)
        many = service.team(settings, day, clock=_clock(day), workers=workers)
    found.append({"day": text, "parts": [one.parts, many.parts], "same": many.rows == one.rows,
                  "order": [r.athlete for r in many.rows] == [r.athlete for r in one.rows],
                  "unsaved": [sorted(one.unsaved), sorted(many.unsaved)]})
print(json.dumps(found))
"""


def _in_parts(
    target: str, config: Path, workers: int, days: list[date], first: str = "one"
) -> list[Any]:
    """For each day: parts of both runs, rows the same, order the same, and the athletes
    whose figures each run computed (``first``: "one" or "parts" runs first)."""
    done = subprocess.run(
        [sys.executable, "-c", _PARTS, target, str(config), str(workers), first,
         *map(str, days)],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found: list[Any] = json.loads(done.stdout)
    return found


def test_a_squad_judged_in_parts_gives_the_same_rows(club: Club, tmp_path: Path) -> None:
    """In three processes (a part of the athletes each, every third athlete id) the rows are
    the rows of one process, in the same order, and the result says how many parts ran."""
    config = tmp_path / "heavylegs.toml"
    config.write_text(SETTINGS)
    found = _in_parts(club.target, config, 3, DAYS[::3])
    assert [f["day"] for f in found] == [str(d) for d in DAYS[::3]]
    for day in found:
        assert day["parts"] == [1, 3] and day["same"] and day["order"], day


def test_figures_computed_in_the_parts_are_kept(tmp_path: Path) -> None:
    """Zone times a part computed from samples (its store read-only) come back to the
    parent, which keeps them: the view after it, in one process, computes none."""
    config = tmp_path / "heavylegs.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\nmax_hr = 190\n')
    db = tmp_path / "store.sqlite"
    day = FIRST + timedelta(days=60)
    with Store.open(db, unscoped=True) as store:
        for n in range(4):
            store.athletes.add(f"a{n}")
            mine = store.for_athlete(f"a{n}")
            for d in range(0, 60, 2 + n):
                mine.add_activity(activity(Category.RUN, FIRST + timedelta(days=d), 40))
    with closing(sqlite3.connect(db)) as raw:
        before = raw.execute("SELECT count(*) FROM derived").fetchone()[0]
    (found,) = _in_parts(str(db), config, 2, [day], first="parts")
    assert found["parts"] == [1, 2] and found["same"], found
    # [one process, parts]: the parts computed every athlete's, and their parent kept
    # them, so the one process after them computed none.
    assert found["unsaved"] == [[], ["a0", "a1", "a2", "a3"]], found
    with closing(sqlite3.connect(db)) as raw:
        assert raw.execute("SELECT count(*) FROM derived").fetchone()[0] > before
