"""Small inputs, large costs (issue 25, item 17): memory that does not grow with the
workers, zips whose entries share data, a Strava export of endless rows, endless names.
"""

from __future__ import annotations

import csv
import io
import struct
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.importers.strava_export import parse_activities_csv
from heavylegs_sync.limits import MAX_NAME_CHARS
from heavylegs_sync.store import Store
from tests.conftest import BERLIN, SAMPLE, heavylegs_cli

MB = 1024 * 1024
RUN = SAMPLE / "2026-10-03-0800-run.fit"
HEADER = ["Activity ID", "Activity Date", "Activity Name", "Activity Type", "Elapsed Time"]
HEADER += ["Filename"]


def write_config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[athlete]\ntimezone = "Europe/Berlin"\n[import]\n{extra}')
    return config


def cli(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"HEAVYLEGS_DB": str(tmp_path / "store.sqlite"), "HEAVYLEGS_CONFIG": str(config)}
    return heavylegs_cli(*args, env=env, timeout=120)


def import_measuring_tree(
    target: Path, config: Path, db: Path, workers: int
) -> tuple[subprocess.CompletedProcess[str], int, int]:
    """``heavylegs import --workers N``; the peak RSS (bytes) of the command itself and the
    peak of the largest decoding worker, sampled with psutil while it runs."""
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(config)}
    command = [sys.executable, "-m", "heavylegs_sync", "import", "--workers", str(workers)]
    process = subprocess.Popen(
        [*command, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**psutil.Process().environ(), **env},
    )
    watched = psutil.Process(process.pid)
    main_peak = worker_peak = 0
    deadline = time.monotonic() + 240
    while process.poll() is None and time.monotonic() < deadline:
        try:
            main_peak = max(main_peak, watched.memory_info().rss)
            for child in watched.children(recursive=True):
                worker_peak = max(worker_peak, child.memory_info().rss)
        except psutil.Error:
            pass  # a worker ended between listing and reading it
        time.sleep(0.01)
    stdout, stderr = process.communicate(timeout=60)
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return result, main_peak, worker_peak


def test_memory_does_not_grow_with_the_workers(tmp_path: Path) -> None:
    """30 members just under the file cap, in a small zip, with 8 workers."""
    archive = tmp_path / "members.zip"
    member = bytes(19 * MB)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as opened:
        for number in range(30):
            opened.writestr(f"activities/{number:02d}.fit", member)
        opened.writestr("activities/run.fit", RUN.read_bytes())
    assert archive.stat().st_size < 3 * MB
    config = write_config(tmp_path, "max_file_mb = 20\n")

    result, main_peak, worker_peak = import_measuring_tree(
        archive, config, tmp_path / "store.sqlite", workers=8
    )

    assert result.stdout.strip() == "1 new, 0 already imported, 0 skipped, 30 failed", result.stderr
    assert result.returncode == 1
    # Eight workers holding a member each, and the command holding 17 waiting ones, would
    # be 8 x 19 MB and 17 x 19 MB; what is in flight is bounded by bytes instead.
    assert main_peak < 220 * MB, f"command peak RSS {main_peak // MB} MB"
    assert worker_peak < 220 * MB, f"worker peak RSS {worker_peak // MB} MB"


def overlapping_zip(path: Path, copies: int, *, same_name: bool) -> Path:
    """A zip whose ``copies`` directory entries all point at one deflated member of
    99 MB of zeros: each entry within the file cap, their sum without end."""
    plain = path.with_suffix(".one")
    with (
        zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as opened,
        opened.open("activities/a.fit", "w") as member,
    ):
        for _ in range(99):
            member.write(bytes(MB))
    data = plain.read_bytes()
    plain.unlink()
    end = data.rindex(b"PK\x05\x06")
    (cd_size, cd_offset) = struct.unpack("<II", data[end + 12 : end + 20])
    central = data[cd_offset : cd_offset + cd_size]
    name_length = struct.unpack("<H", central[28:30])[0]
    entries = []
    for number in range(copies):
        entry = bytearray(central)
        if not same_name:  # a different name of the same length, as in a quoted overlap
            name = f"activities/{number:05d}.fit".encode()[:name_length].ljust(name_length, b"x")
            entry[46 : 46 + name_length] = name
        entries.append(bytes(entry))
    directory = b"".join(entries)
    tail = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, copies, copies, len(directory), cd_offset, 0
    )
    path.write_bytes(data[:cd_offset] + directory + tail)
    return path


def test_overlapping_entries_are_refused_at_once(tmp_path: Path) -> None:
    bomb = overlapping_zip(tmp_path / "bomb.zip", 300, same_name=True)
    other = overlapping_zip(tmp_path / "other.zip", 300, same_name=False)
    assert bomb.stat().st_size < 130 * 1024
    with zipfile.ZipFile(bomb) as opened:  # what zipfile itself would read: 300 x 99 MB
        assert len(opened.infolist()) == 300
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as opened:
        opened.writestr("run.fit", RUN.read_bytes())
    began = time.monotonic()

    result = cli(tmp_path, write_config(tmp_path), "import", str(bomb), str(other), str(good))

    assert time.monotonic() - began < 20
    assert result.returncode == 1
    assert result.stdout.strip() == "1 new, 0 already imported, 0 skipped, 2 failed"
    assert sorted(result.stderr.splitlines()) == [
        f"error: {bomb}: overlapping entries ('activities/a.fit' and 'activities/a.fit' share"
        " compressed data, as in a zip bomb); nothing in it was read",
        f"error: {other}: overlapping entries ('activities/00000' and"
        " 'activities/00001' share compressed data, as in a zip bomb); nothing in it"
        " was read",
    ]


def manual_rows(count: int, name: str = "Gym") -> str:
    """An ``activities.csv`` of ``count`` manual strength sessions, six hours apart."""
    start = datetime(2026, 1, 1, 7, 0, tzinfo=UTC)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for i in range(count):
        moment = start + timedelta(hours=6 * i)
        date = f"{moment:%b} {moment.day}, {moment:%Y}, {moment:%I:%M:%S %p}"
        writer.writerow([18_000_000_000 + i, date, name, "Weight Training", 1800, ""])
    return out.getvalue()


def test_export_rows_are_capped_with_one_line(tmp_path: Path) -> None:
    listing = tmp_path / "export" / "activities.csv"
    listing.parent.mkdir()
    listing.write_text(manual_rows(300))

    rows, warnings = parse_activities_csv(
        listing, listing.read_bytes(), DecodeOptions(zone=BERLIN, max_export_rows=100)
    )
    assert len(rows) == 100
    assert warnings == [
        "only the first 100 rows were read (setting [import] max_export_rows);"
        " row 102 and the rest were left out"
    ]

    result = cli(
        tmp_path, write_config(tmp_path, "max_export_rows = 100\n"), "import", str(listing)
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"warning: {listing}: only the first 100 rows were read (setting [import]"
        " max_export_rows); row 102 and the rest were left out"
    ]
    with Store.open(tmp_path / "store.sqlite") as store:
        assert len(store.activities()) == 100


def test_export_names_are_cut_with_a_note(tmp_path: Path) -> None:
    listing = tmp_path / "activities.csv"
    listing.write_text(manual_rows(2, name="n" * 100_000))  # within csv's own field limit
    result = cli(tmp_path, write_config(tmp_path), "import", str(listing))
    assert result.returncode == 0, result.stderr
    with Store.open(tmp_path / "store.sqlite") as store:
        stored = store.activities()
    assert [len(a.name or "") for a in stored] == [MAX_NAME_CHARS] * 2
    assert all(f"name cut to {MAX_NAME_CHARS} characters" in a.notes for a in stored)
    assert "name of 100,000 characters cut to 500" in result.stderr


def test_a_field_past_the_csv_limit_costs_its_row_only(tmp_path: Path) -> None:
    listing = tmp_path / "activities.csv"
    text = manual_rows(3)
    lines = text.splitlines(keepends=True)
    lines[2] = lines[2].replace(",Gym,", "," + "n" * 200_000 + ",")
    listing.write_text("".join(lines))
    rows, warnings = parse_activities_csv(listing, listing.read_bytes(), DecodeOptions(zone=BERLIN))
    assert len(rows) == 2
    assert len(warnings) == 1 and warnings[0].startswith("row 3 left out: not readable as CSV (")
