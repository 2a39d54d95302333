"""A small run of the benchmark harness: it works end to end (figures live in bench/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import fitparse
import pytest

from bench.generate import generate
from heavylegs_sync.importers import DecodeOptions, Decoder, decode_file
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Forty generated activities (seed 3)."""
    return generate(tmp_path_factory.mktemp("history"), activities=40, seed=3)


def test_generated_history_is_real_shaped_and_read_by_fitparse(
    history: list[Path], tmp_path: Path
) -> None:
    files = history
    assert len(files) == 40
    assert files == sorted(files)
    again = generate(tmp_path / "again", activities=40, seed=3)
    assert [p.read_bytes() for p in files] == [p.read_bytes() for p in again]  # deterministic
    makers: Counter[str] = Counter()
    shapes = set()
    smallest: dict[str, Path] = {}  # of each kind ("run-garmin.fit", ...): fitparse is slow
    for path in sorted(files, key=lambda p: p.stat().st_size):
        smallest.setdefault(path.name[len("2026-01-01-0700-") :], path)
    assert len(smallest) >= 6
    for path in smallest.values():
        fit = fitparse.FitFile(path.read_bytes())  # checks the CRCs too
        messages = list(fit.get_messages())
        names = Counter(m.name for m in messages)
        (session,) = [m for m in messages if m.name == "session"]
        records = [m for m in messages if m.name == "record"]
        assert session.get_value("sport") in ("running", "cycling", "training")
        assert records and records[-1].get_value("timestamp") == session.get_value("timestamp")
        assert {"file_id", "device_info", "event", "lap", "session", "activity"} <= set(names)
        file_id = next(m for m in messages if m.name == "file_id")
        makers[str(file_id.get_value("manufacturer"))] += 1
        shapes.add(len(records[0].fields))
        if session.get_value("sport") == "running":
            assert records[5].get_value("position_lat") is not None  # GPS on runs
    assert makers["garmin"] >= 3 and len(makers) >= 2, makers
    assert len(shapes) >= 3  # several record layouts, not one


def test_generated_garmin_run_has_developer_fields_hrv_and_reads_fast(
    history: list[Path],
) -> None:
    import fitfast

    wanted = {"field_description", "hrv"}
    # fitfast's message counts pick the candidates; fitparse (slow) confirms them.
    stryd = [p for p in history if p.name.endswith("run-garmin.fit")]
    stryd.sort(key=lambda p: not wanted <= set(fitfast.message_counts(p.read_bytes())))
    found = False
    for path in stryd:
        fit = fitparse.FitFile(path.read_bytes())
        names: set[str] = set()
        for message in fit.get_messages():  # until both are seen: fitparse is slow
            names.add(message.name)
            if wanted <= names:
                break
        if wanted <= names:
            found = True
            fast = decode_file(
                path, path.read_bytes(), DecodeOptions(zone=ZoneInfo("UTC"), decoder=Decoder.AUTO)
            )
            assert [a.decoder for a in fast] == ["fitfast"]
            break
    assert found, "no Garmin run with Stryd developer fields and HRV in 40 files"


@pytest.mark.exhaustive  # quick part: the generated-history test; .ci/run runs this one
def test_benchmark_smoke_run(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    env = {k: v for k, v in os.environ.items() if k != "HEAVYLEGS_CORPUS"}
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--activities", "15", "--workers", "2",
         "--baseline-every", "5", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    (section,) = figures["sections"]
    names = [f["name"] for f in section["figures"]]
    assert names[:3] == [
        "fast decoder alone (1 process)",
        "import, 1 worker",
        "import, default workers (2)",
    ]
    assert "one new file + affected weeks (watch)" in names
    assert section["files"] == 14 and section["baseline_s"] > 0
    assert section["coverage"]["fast"] == 14 and not section["coverage"]["fallback"]
    assert "bare fitparse, 1 process" in result.stdout
    assert "fast path on 14 of 14 files read" in result.stdout
    assert section["speedup"] > 0  # 1 worker and 2 side by side (never a timing check)
    assert "second worker: 2 workers import" in result.stdout
    assert "the main process's own CPU time, 1 worker:" in result.stdout


# -- the club on PostgreSQL (bench/club.py) ---------------------------------------------


def _activity_rows(db: str) -> list[dict[str, object]]:
    """Every stored activity of the store's only athlete, as columns (no ids or times
    of storing: they differ between two stores of the same data), and the state."""
    from heavylegs_sync.store import Store

    with Store.open(db, read_only=True) as store:
        rows = store.connection.db.execute("SELECT * FROM activities ORDER BY source_id").fetchall()
        state = store.connection.db.execute("SELECT key, value FROM state ORDER BY key")
        kept = [(r["key"], r["value"]) for r in state]
    drop = {"id", "athlete_id", "imported_at"}
    return [{k: v for k, v in dict(r).items() if k not in drop} for r in rows] + [{"state": kept}]


def test_club_summaries_are_stored_as_a_sync_stores_them(tmp_path: Path) -> None:
    """The bench's one transaction per athlete stores, row for row, what the sync's
    ``Store.add_strava`` stores one activity at a time."""
    from bench.club import SYNCED_AT, as_synced, store_summaries, summaries_of
    from heavylegs_sync.store import Store
    from heavylegs_sync.strava.sync import CURSOR_KEY

    synced = as_synced(summaries_of(7, seed=3), SYNCED_AT)
    assert 150 <= len(synced) <= 400  # about 250 a year
    assert {a.sport for _, a, _ in synced} >= {"running", "strength_training"}
    one_by_one, bulk = tmp_path / "sync.sqlite", tmp_path / "bench.sqlite"
    with Store.open(one_by_one) as store:
        for strava_id, activity, text in synced:
            assert store.add_strava(strava_id, activity, text) is not None
        latest = max(int(a.start_utc.timestamp()) for _, a, _ in synced)
        store.set_state(CURSOR_KEY, str(latest - 1))
    with Store.open(bulk) as store:
        assert store_summaries(store, synced) == len(synced)
    assert _activity_rows(str(bulk)) == _activity_rows(str(one_by_one))


def test_club_bench_smoke_run(pg_server: object, tmp_path: Path) -> None:
    """A club of five athletes (one with samples) on the run's PostgreSQL server, timed
    end to end: every figure is there (never a timing check)."""
    import secrets

    out = tmp_path / "club.json"
    name = f"hl_club_{secrets.token_hex(4)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEAVYLEGS_")}
    result = subprocess.run(
        [sys.executable, "-m", "bench.club", "--server", str(pg_server), "--database", name,
         "--athletes", "5", "--with-samples", "1", "--year-files", "12", "--history", "12",
         "--repeats", "1", "--import-repeats", "1", "--workers", "2", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    club = figures["club"]
    assert club["athletes"] == 5 and club["with_samples"] == 1
    assert 4 * 150 + 12 <= club["activities"] <= 4 * 400 + 12 and club["samples"] > 0
    names = [t["name"] for t in figures["timings"]]
    assert names == [
        "team",
        "team, [athlete] max_hr set",
        "today --athlete a0001 (samples)",
        "today --athlete a0005 (summaries)",
        "report --athlete a0001, a year (samples)",
        "report --athlete a0005, a year (summaries)",
    ]
    assert all(t["first_s"] > 0 and len(t["runs_s"]) == 1 for t in figures["timings"])
    # Each run beside a run of the reference, and the ratio of their medians.
    assert all(len(t["reference_s"]) == 1 and t["ratio"] > 0 for t in figures["timings"])
    assert "reference: a new Python running 'import psycopg'" in result.stdout
    assert set(figures["imports"]) == {
        "sqlite", "postgresql", "postgresql, into the club's database"
    }  # fmt: skip
    assert figures["ratio"] > 0
    assert set(figures["inside"]) == {
        "today --athlete a0001, in one process",
        "report --athlete a0001, in one process",
        "today --athlete a0005, in one process",
        "report --athlete a0005, in one process",
        "team, max_hr set, in one process",
        "import psycopg, a new Python",
    }
    assert all(seconds > 0 for seconds in figures["inside"].values())
    assert "import into postgresql: the main process's own CPU" in result.stdout
    assert "import into postgresql: 12 new" in result.stdout
    assert "PostgreSQL / SQLite (medians)" in result.stdout


def test_startup_bench_smoke_run(pg_server: object, tmp_path: Path) -> None:
    """``today`` on both backends, compared with a copy of this package, timed end to end:
    every figure is there (never a timing check), and each copy's ``today`` opens one
    connection to the server."""
    import secrets
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "heavylegs_sync", copy / "heavylegs_sync",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    out = tmp_path / "startup.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEAVYLEGS_")}
    result = subprocess.run(
        [sys.executable, "-m", "bench.startup", "--server", str(pg_server), "--database",
         f"hl_startup_{secrets.token_hex(4)}", "--repeats", "1", "--compare", str(copy),
         "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    names = [v["name"] for v in figures["variants"]]
    assert names == ["this package", f"compared: {copy}"]
    for variant in figures["variants"]:
        assert variant["connections"] == 1 and variant["statements"] > 2, variant
        for side in ("pg", "sqlite"):
            assert len(variant[side]["wall_s"]) == 1 and variant[side]["wall"] > 0
    assert figures["import_psycopg"]["wall"] > 0 and figures["bare"]["wall"] > 0
    assert "pg: this / compared:" in result.stdout and "target (issue 23)" in result.stdout
    own = figures["own"]  # this package's own start-up, beside the libraries'
    assert "heavylegs_sync.report.today" in own["modules"]
    assert "heavylegs_sync.store.postgres" in own["modules"]
    assert own["dataclasses"] > 0 and len(own["making_s"]) == 1
    assert own["libraries"]["wall"] > 0 and own["with_ours"]["wall"] > 0
    assert "modules of ours today loads" in result.stdout
    compared = figures["variants"][1]["own"]  # the compared copy's, measured alike
    assert compared["modules"] == own["modules"] and compared["dataclasses"] > 0
    assert compared["with_ours"]["wall"] > 0 and len(compared["importing_s"]) == 1
    assert "ours, timed inside one process: this / compared:" in result.stdout
