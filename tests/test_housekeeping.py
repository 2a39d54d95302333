"""Housekeeping: the README's demo store, ``heavylegs info`` and ``heavylegs forget``."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from heavylegs_sync.model import Activity
from heavylegs_sync.store import Store
from tests.conftest import ROOT, SAMPLE, copy_sample, heavylegs_cli

CONFIG = SAMPLE / "heavylegs.toml"


def sample_files() -> list[Path]:
    """The sample athlete's activity files (one activity each)."""
    return [p for p in SAMPLE.iterdir() if p.suffix in (".fit", ".gpx")]


def setup_commands() -> list[str]:
    """The shell blocks of the README's set-up section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def test_the_readme_keeps_two_set_up_commands_of_one_line() -> None:
    blocks = setup_commands()
    assert len(blocks) == 2
    assert all(block.count("\n") == 1 for block in blocks)
    first = blocks[0].strip()
    assert "pip install ." in first
    for step in ("import fixtures/sample-athlete", " activities", " report --since 2026-09-28"):
        assert step in first
    # Every heavylegs call names the demo store, never the default one.
    calls = re.findall(r"\.venv/bin/heavylegs[^&]*", first)
    assert len(calls) == 3
    assert all('--db "$demo"' in call for call in calls)


def test_the_readme_demo_leaves_the_default_store_alone(tmp_path: Path) -> None:
    """Run the README's first command (its heavylegs part, with this checkout's
    interpreter) with the user folders in a temporary place: the default store must not
    appear, and the demo must import, list and diagnose the sample athlete."""
    first = setup_commands()[0].strip()
    install = ("python3 -m venv", ".venv/bin/pip")
    steps = [s for s in first.split(" && ") if not s.startswith(install)]
    assert len(steps) == 4  # the demo store, import, activities, report
    script = " && ".join(steps).replace(
        ".venv/bin/heavylegs", f"{sys.executable} -m heavylegs_sync"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HEAVYLEGS_DB", "HEAVYLEGS_CONFIG")}
    env.update(
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        TMPDIR=str(tmp_path / "tmp"),
        PYTHONPATH=str(ROOT),
    )
    (tmp_path / "tmp").mkdir()
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    count = len(sample_files())
    assert f"{count + 1} new ({count} activities, " in done.stdout  # and wellness.csv
    assert "[cause 1" in done.stdout
    assert "[cause 10: Sleep deprivation]" in done.stdout  # the README demo shows it
    assert not (tmp_path / "data" / "heavylegs").exists()
    assert list((tmp_path / "tmp").glob("*/demo.sqlite"))


@pytest.fixture
def sample_store(sample_template: Path, tmp_path: Path) -> dict[str, str]:
    """The sample athlete imported into a fresh store; the environment to reach it."""
    db = copy_sample(sample_template, tmp_path)
    return {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(CONFIG)}


@pytest.fixture(scope="module")
def shared_sample(
    sample_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """One imported sample athlete for tests that only read."""
    db = copy_sample(sample_template, tmp_path_factory.mktemp("info"))
    return {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(CONFIG)}


# -- info ------------------------------------------------------------------------------


def test_info_on_the_sample_athlete(shared_sample: dict[str, str]) -> None:
    db = Path(shared_sample["HEAVYLEGS_DB"])
    before = db.stat().st_mtime_ns
    done = heavylegs_cli("info", env=shared_sample)
    assert done.returncode == 0, done.stderr
    # "key: value" lines; a value wrapped at 80 columns goes on indented lines.
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines() if line[:1] != " ")
    assert lines["store"].strip() == str(db)
    assert lines["settings"].strip() == str(CONFIG)
    # The counts of the plan (fixtures/sample-athlete/expected.json), as info words them.
    planned = json.loads((SAMPLE / "expected.json").read_text())["activities"]
    assert lines["activities"].strip() == str(len(planned))
    assert lines["files"].strip() == str(len(planned) + 1)  # and wellness.csv
    category = {"run": "run", "strength": "strength", "yoga": "light", "ride": "cross"}
    kinds = Counter(category[a["kind"]] for a in planned).most_common()
    assert lines["by category"].strip() == ", ".join(f"{k} {n}" for k, n in kinds)
    sources = Counter(a["file"].rsplit(".", 1)[1] for a in planned).most_common()
    assert lines["by source"].strip() == ", ".join(f"{k} {n}" for k, n in sources)
    assert lines["dates"].strip() == "2026-09-28 .. 2026-11-22 (local days)"
    assert (
        lines["max HR"].strip()
        == "190 bpm, from the watch's settings in the files (since 2026-09-28)"
    )
    assert db.stat().st_mtime_ns == before


def test_info_on_a_missing_store_says_so_and_creates_nothing(tmp_path: Path) -> None:
    env = {"HEAVYLEGS_DB": str(tmp_path / "none.sqlite"), "HEAVYLEGS_CONFIG": str(CONFIG)}
    done = heavylegs_cli("info", env=env)
    assert done.returncode == 0, done.stderr
    assert "does not exist yet: nothing imported" in done.stdout
    assert str(CONFIG) in done.stdout
    assert not (tmp_path / "none.sqlite").exists()


def test_info_names_the_settings_file_it_would_read_and_an_unknown_max_hr(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.sqlite"
    gpx = next(SAMPLE.glob("*.gpx"))
    shutil.copy(gpx, tmp_path / gpx.name)
    env = {
        "HEAVYLEGS_DB": str(db),
        "HEAVYLEGS_CONFIG": "",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    assert heavylegs_cli("import", str(tmp_path / gpx.name), env=env).returncode == 0
    done = heavylegs_cli("info", env=env)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())  # lines wrap at words within 80 columns
    assert f"would be read from {tmp_path / 'config' / 'heavylegs' / 'config.toml'}" in said
    assert "activities:  1" in done.stdout
    assert "max HR:" in done.stdout


def test_info_on_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database")
    done = heavylegs_cli("info", env={"HEAVYLEGS_DB": str(bad), "HEAVYLEGS_CONFIG": str(CONFIG)})
    assert done.returncode == 1
    assert "not a usable heavylegs store" in done.stderr and "Traceback" not in done.stderr


# -- forget ----------------------------------------------------------------------------


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute(sql).fetchone()[0])


def add_strava_copy(db: Path, activity_id: int) -> int:
    """Store a Strava copy of an activity, which the store links to it as a secondary."""
    with Store.open(db) as store:
        (original,) = [a for a in store.activities() if a.id == activity_id]
        copy = Activity(
            source="strava",
            source_id="9001",
            category=original.category,
            start_utc=original.start_utc,
            utc_offset_s=original.utc_offset_s,
            offset_source=original.offset_source,
            sport=original.sport,
            timer_s=original.timer_s,
            elapsed_s=original.elapsed_s,
            distance_m=original.distance_m,
        )
        new_id = store.add_strava(9001, copy, "{}")
        assert new_id is not None
        assert store.primary_of(new_id) == activity_id
    return new_id


def test_forget_a_copy_id_removes_the_whole_activity(sample_store: dict[str, str]) -> None:
    db = Path(sample_store["HEAVYLEGS_DB"])
    copy = add_strava_copy(db, 3)
    assert count(db, "SELECT count(*) FROM derived WHERE activity_id = 3") > 0
    done = heavylegs_cli("forget", str(copy), "--yes", env=sample_store)
    assert done.returncode == 0, done.stderr
    assert "     3  2026-09-30 Wed 07:00  run       fit,strava (+ 1 copy)" in done.stdout
    assert "forgot 1 activity (2 stored records, 1 file records)" in done.stdout
    for table, column in (
        ("activities", "id"),
        ("samples", "activity_id"),
        ("derived", "activity_id"),
    ):
        assert count(db, f"SELECT count(*) FROM {table} WHERE {column} IN (3, {copy})") == 0
    assert count(db, "SELECT count(*) FROM activities") == len(sample_files()) - 1
    assert count(db, "SELECT count(*) FROM activities WHERE primary_id IS NOT NULL") == 0
    listing = heavylegs_cli("activities", "--format", "json", env=sample_store)
    assert '"id": 3,' not in listing.stdout


def test_forget_without_a_terminal_refuses_without_yes(sample_store: dict[str, str]) -> None:
    db = Path(sample_store["HEAVYLEGS_DB"])
    done = heavylegs_cli("forget", "5", env=sample_store, timeout=30)
    assert done.returncode == 1
    assert "no terminal to confirm on; add --yes" in done.stderr
    assert count(db, "SELECT count(*) FROM activities WHERE id = 5") == 1
    piped = heavylegs_cli("forget", "5", env=sample_store, stdin="y\n", timeout=30)
    assert piped.returncode == 1  # a pipe is not a terminal: an answer there is not asked for
    assert count(db, "SELECT count(*) FROM activities WHERE id = 5") == 1


def run_on_terminal(args: list[str], env: dict[str, str], answer: bytes) -> tuple[int, str]:
    """Run heavylegs with a pseudo-terminal as standard input, typing ``answer``."""
    primary, secondary = os.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "heavylegs_sync", *args],
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )
        os.write(primary, answer)
        out, _ = process.communicate(timeout=60)
    finally:
        os.close(primary)
        os.close(secondary)
    return process.returncode, out.decode()


def test_forget_asks_on_a_terminal(sample_store: dict[str, str]) -> None:
    db = Path(sample_store["HEAVYLEGS_DB"])
    status, out = run_on_terminal(["forget", "5"], sample_store, b"n\n")
    assert status == 1 and "Remove them from the store?" in out and "nothing removed" in out
    assert count(db, "SELECT count(*) FROM activities WHERE id = 5") == 1
    status, out = run_on_terminal(["forget", "5"], sample_store, b"y\n")
    assert status == 0, out
    assert count(db, "SELECT count(*) FROM activities WHERE id = 5") == 0


def test_forget_by_source_and_import_it_again(sample_store: dict[str, str], tmp_path: Path) -> None:
    db = Path(sample_store["HEAVYLEGS_DB"])
    fit = SAMPLE / "2026-10-20-0700-run.fit"
    done = heavylegs_cli("forget", "--source", str(fit), "--yes", env=sample_store)
    assert done.returncode == 0, done.stderr
    assert "forgot 1 activity (1 stored records, 1 file records)" in done.stdout
    assert count(db, "SELECT count(*) FROM activities") == len(sample_files()) - 1
    again = heavylegs_cli("import", str(fit), env=sample_store)
    assert again.stdout.strip() == "1 new, 0 already imported, 0 skipped, 0 failed"
    # A renamed copy of the file names the same activity by its content.
    renamed = tmp_path / "renamed.fit"
    shutil.copy(fit, renamed)
    done = heavylegs_cli("forget", "--source", str(renamed), "--yes", env=sample_store)
    assert done.returncode == 0, done.stderr
    assert count(db, "SELECT count(*) FROM activities") == len(sample_files()) - 1


def test_forget_reports_unknown_ids_and_removes_the_rest(sample_store: dict[str, str]) -> None:
    db = Path(sample_store["HEAVYLEGS_DB"])
    done = heavylegs_cli(
        "forget", "7", "9999", "--source", "/no/such.fit", "--yes", env=sample_store
    )
    assert done.returncode == 1
    assert "error: 9999: no such activity in the store" in done.stderr
    assert "error: /no/such.fit: no such activity in the store" in done.stderr
    assert count(db, "SELECT count(*) FROM activities WHERE id = 7") == 0
    nothing = heavylegs_cli("forget", "9999", "--yes", env=sample_store)
    assert nothing.returncode == 1
    assert count(db, "SELECT count(*) FROM activities") == len(sample_files()) - 1


def test_forget_needs_something_to_forget_and_a_store(tmp_path: Path) -> None:
    env = {"HEAVYLEGS_DB": str(tmp_path / "none.sqlite"), "HEAVYLEGS_CONFIG": str(CONFIG)}
    usage = heavylegs_cli("forget", env=env)
    assert usage.returncode == 2 and "name the activities to forget" in usage.stderr
    missing = heavylegs_cli("forget", "1", "--yes", env=env)
    assert missing.returncode == 1 and "no store here yet" in missing.stderr
    assert not (tmp_path / "none.sqlite").exists()
