"""The ``heavylegs`` command end to end, in a subprocess, against real files and a real store."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FILES, SAMPLE, heavylegs_cli

BAD_FILES = {
    "bad-crc.fit": "corrupt FIT file",
    "not-a-fit.fit": "not a FIT file",
    "zero-bytes.fit": "empty file",
    "empty.gpx": "no timed track points",
    "no-times.gpx": "no timed track points",
    "not-xml.gpx": "not a GPX file",
}


def run(tmp_path: Path, *args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        "HEAVYLEGS_DB": str(db or tmp_path / "store.sqlite"),
        "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
    }
    return heavylegs_cli(*args, env=env)


#: The sample athlete's wellness (fixtures/_gen_wellness.py).
WELLNESS_CSV = SAMPLE / "wellness.csv"


def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLE.iterdir() if p.suffix in (".fit", ".gpx"))


def test_import_sample_then_again(tmp_path: Path) -> None:
    count = len(sample_files())
    assert count > 40
    first = run(tmp_path, "import", str(SAMPLE))
    assert first.returncode == 0, first.stderr
    # The activity files and wellness.csv (one row a day).
    days = len(WELLNESS_CSV.read_text().splitlines()) - 1
    assert first.stdout.strip() == (
        f"{count + 1} new ({count} activities, {days} wellness days), 0 already imported,"
        " 0 skipped, 0 failed"
    )
    assert first.stderr == ""
    second = run(tmp_path, "import", str(SAMPLE))
    assert second.returncode == 0
    assert second.stdout.strip() == f"0 new, {count + 1} already imported, 0 skipped, 0 failed"


def test_activities_lists_local_dates(tmp_path: Path) -> None:
    assert run(tmp_path, "import", str(SAMPLE)).returncode == 0
    listing = run(tmp_path, "activities")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.split("\n\n")[0].splitlines()  # then the time zones used
    assert lines[0].split()[:3] == ["id", "date", "(local)"]
    assert len(lines) == 1 + len(sample_files())
    # The midnight run: Wednesday 00:20 in Berlin although it is Tuesday in UTC.
    assert any("2026-10-14 Wed 00:20 +02:00" in line and "run" in line for line in lines)
    # After the end of summer time the offset is +01:00.
    assert any("2026-10-27 Tue" in line and "+01:00" in line for line in lines)
    # The GPX run has no <type>: its sport is inferred, and said so.
    assert any("2026-10-15 Thu 07:00" in line and "(inferred)" in line for line in lines)
    # Then the zones the dates used: the files' own, and the setting for the GPX run.
    zones = listing.stdout.split("\n\n")[1]
    assert zones.startswith("time zones:  Europe/Berlin (setting) for activities without")
    assert (
        "2026-09-28 .. 2026-10-24 +02:00: 32 by their own offset, 1 by Europe/Berlin (setting)"
        in (" ".join(zones.split()))
    )
    only_strength = run(tmp_path, "activities", "--category", "strength", "--since", "2026-11-16")
    rows = only_strength.stdout.split("\n\n")[0].splitlines()[1:]
    assert len(rows) == 3 and all(" strength " in row for row in rows)


def test_bad_files_each_get_one_line_and_the_batch_goes_on(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    good = sample_files()[:3]
    for path in good:
        shutil.copy(path, batch / path.name)
    for name in BAD_FILES:
        shutil.copy(FILES / name, batch / name)
    db = tmp_path / "store.sqlite"
    assert run(tmp_path, "import", str(sample_files()[10]), db=db).returncode == 0

    result = run(tmp_path, "import", str(batch), db=db)

    assert result.returncode == 1
    assert result.stdout.strip() == f"3 new, 0 already imported, 0 skipped, {len(BAD_FILES)} failed"
    errors = result.stderr.splitlines()
    assert len(errors) == len(BAD_FILES)
    for name, reason in BAD_FILES.items():
        (line,) = [e for e in errors if f"{batch / name}:" in e]
        assert line.startswith("error: ") and reason in line
    assert "Traceback" not in result.stderr
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM activities").fetchone()[0] == 4
        failed = raw.execute("SELECT path, message FROM import_log WHERE outcome = 'failed'")
        assert {Path(p).name for p, _ in failed} == set(BAD_FILES)


def test_renamed_and_compressed_copies_are_not_stored_twice(tmp_path: Path) -> None:
    source = FILES / "run-1hz.fit.gz"
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(source, folder / "a.fit.gz")
    shutil.copy(source, folder / "renamed-copy.fit.gz")
    result = run(tmp_path, "import", str(folder))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 new, 1 already imported, 0 skipped, 0 failed"


def test_multisport_file_gives_one_activity_per_session(tmp_path: Path) -> None:
    result = run(tmp_path, "import", str(FILES / "multisport.fit"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 new (2 activities)")
    listing = run(tmp_path, "activities").stdout
    assert " run " in listing and " cross " in listing


def test_missing_path_and_unsupported_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    result = run(tmp_path, "import", str(tmp_path / "nope.fit"), str(notes))
    assert result.returncode == 1
    assert "no such file or folder" in result.stderr
    assert "unsupported file type" in result.stderr
    assert result.stdout.strip() == "0 new, 0 already imported, 0 skipped, 2 failed"


def test_a_store_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_text("not a database\n" * 200)
    result = run(tmp_path, "import", str(SAMPLE), db=bogus)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "not a usable heavylegs store" in result.stderr
    assert bogus.read_text().startswith("not a database")


def test_bad_settings_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[athlete]\ntimezone = "Mars/Olympus"\n')
    env = dict(os.environ, HEAVYLEGS_DB=str(tmp_path / "s.sqlite"))
    result = subprocess.run(
        [sys.executable, "-m", "heavylegs_sync", "--config", str(config), "activities"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert "unknown time zone 'Mars/Olympus'" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_flag_beats_environment(tmp_path: Path) -> None:
    flag_db = tmp_path / "flag.sqlite"
    result = run(tmp_path, "--db", str(flag_db), "import", str(FILES / "multisport.fit"))
    assert result.returncode == 0
    assert flag_db.exists() and not (tmp_path / "store.sqlite").exists()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[athlete]\ntimezone = "Europe"\n', "unknown time zone 'Europe'"),
        ('[season]\npeek = [["2026-01-05", "2026-02-01"]]\n', "[season] has no setting 'peek'"),
        ("[zone]\nmethod = 'hrmax'\n", "unknown section(s) zone"),
        ("[strava]\nper_page = 0\n", "per_page must be from 1 to 200"),
        ('[import]\ngpx_sport = "Runing"\n', "'Runing' is not a sport"),
        ("[rules]\nmax_hard_share = 20\n", "share from 0 to 1"),
        ("[rules]\nmin_rest_day = 1\n", "[rules] has no setting 'min_rest_day'"),
    ],
)
def test_settings_mistakes_are_one_line(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(toml)
    env = dict(os.environ, HEAVYLEGS_DB=str(tmp_path / "s.sqlite"))
    result = subprocess.run(
        [sys.executable, "-m", "heavylegs_sync", "--config", str(config), "activities"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert message in result.stderr and result.stderr.count("\n") == 1
