"""Hostile and unlucky input: special files, bombs, odd names, crashing decoders.

Every case ends in one line per problem on stderr and the rest of the batch imported;
nothing hangs, nothing takes much memory, no decoder crash ends the process.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fit_tool.profile.profile_type import FileType

from heavylegs_sync.decoding import DecodePool, Outcome, decode_job
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.ingest import import_one, import_paths
from heavylegs_sync.store import Store
from tests.archive_builder import non_activity_fit
from tests.conftest import FILES, SAMPLE, heavylegs_cli, import_measuring_memory

GOOD = sorted(SAMPLE.glob("2026-10-0*.fit"))
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GPX_HEAD = '<?xml version="1.0"?><gpx version="1.1" creator="t"><trk><trkseg>'


def run(tmp_path: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        "HEAVYLEGS_DB": str(tmp_path / "store.sqlite"),
        "HEAVYLEGS_CONFIG": str(config or SAMPLE / "heavylegs.toml"),
    }
    return heavylegs_cli(*args, env=env, timeout=120)


def gpx_points(n: int = 120, extra: str = "", time_suffix: str = "Z") -> str:
    points = "".join(
        f'<trkpt lat="{52.5 + i * 3 / 111_195:.7f}" lon="13.4">'
        f"<time>2026-10-15T05:{i // 60:02d}:{i % 60:02d}{time_suffix}</time>{extra}</trkpt>"
        for i in range(n)
    )
    return f"{GPX_HEAD}{points}</trkseg></trk></gpx>"


def assert_only_problem_lines(stderr: str) -> None:
    for line in stderr.splitlines():
        assert line.startswith(("error: ", "warning: ")), line
    assert "Traceback" not in stderr and "internal error" not in stderr


def test_fifo_and_device_links_are_refused_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "x.fit")
    (folder / "z.fit").symlink_to("/dev/zero")
    (folder / "y.gpx").symlink_to("/dev/urandom")
    shutil.copy(GOOD[0], folder / "good.fit")

    result = run(tmp_path, "import", str(folder))  # a hang would time out the call

    assert result.returncode == 1
    assert result.stdout.strip() == "1 new, 0 already imported, 0 skipped, 3 failed"
    assert_only_problem_lines(result.stderr)
    errors = sorted(result.stderr.splitlines())
    assert errors == [
        f"error: {folder / 'x.fit'}: not a regular file (a FIFO)",
        f"error: {folder / 'y.gpx'}: not a regular file (a character device)",
        f"error: {folder / 'z.fit'}: not a regular file (a character device)",
    ]
    # Named on the command line, too.
    named = run(tmp_path, "import", str(folder / "x.fit"), str(folder / "z.fit"))
    assert named.returncode == 1 and len(named.stderr.splitlines()) == 2


def test_names_that_are_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    good = os.fsdecode(bytes(folder) + b"/caf\xe9-run.fit")
    bad = os.fsdecode(bytes(folder) + b"/\xff\xfe-broken.fit")
    shutil.copy(GOOD[0], good)
    shutil.copy(FILES / "bad-crc.fit", bad)
    shutil.copy(FILES / "not-a-fit.fit", folder / "two\nlines.fit")

    result = run(tmp_path, "import", str(folder))

    assert result.returncode == 1
    assert result.stdout.strip() == "1 new, 0 already imported, 0 skipped, 2 failed"
    assert_only_problem_lines(result.stderr)
    first, second = sorted(result.stderr.splitlines())
    assert first.startswith(f"error: {folder}/\\xff\\xfe-broken.fit: corrupt FIT file")
    assert second.startswith(f"error: {folder}/two\\x0alines.fit: not a FIT file")
    listing = run(tmp_path, "activities")
    assert listing.returncode == 0 and " run " in listing.stdout


def write_gzip_bomb(path: Path, head: bytes, block: bytes, repeat: int, tail: bytes) -> None:
    """A gzip file of ``head + block * repeat + tail``, written in moments.

    After a full flush a deflate stream refers to nothing before it, so the compressed
    form of ``block`` can simply be repeated. The trailer's checksum is left zero: the
    importer must give up long before it reaches it.
    """
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)
    piece = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH) == piece
    rest = deflate.compress(tail) + deflate.flush()
    with path.open("wb") as handle:
        handle.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + first)  # gzip header
        for _ in range(repeat):
            handle.write(piece)
        handle.write(rest + bytes(8))


def test_gzip_bombs_take_little_memory(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_gzip_bomb(folder / "zeros.fit.gz", b"", b"\0" * (1 << 20), 10 * 1024, b"")  # 10 GB
    write_gzip_bomb(
        folder / "waypoints.gpx.gz",
        b'<?xml version="1.0"?><gpx version="1.1" creator="b">',
        b"<wpt/>" * (1 << 17),
        500 * (1 << 20) // (6 << 17),
        b"</gpx>",
    )
    assert (folder / "waypoints.gpx.gz").stat().st_size < 2_000_000
    assert (folder / "zeros.fit.gz").stat().st_size < 12_000_000
    shutil.copy(FILES / "run.gpx.gz", folder / "run.gpx.gz")
    config = tmp_path / "config.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\n[import]\nmax_file_mb = 50\n')

    result, peak_kb = import_measuring_memory(folder, config, tmp_path / "store.sqlite")
    summary = result.stdout.strip()
    assert summary == "1 new, 0 already imported, 0 skipped, 2 failed", result.stderr
    assert_only_problem_lines(result.stderr)
    assert "zeros.fit.gz: not a FIT file" in result.stderr
    assert "waypoints.gpx.gz: more than 3,000,000 XML elements" in result.stderr
    assert peak_kb < 250 * 1024, f"peak RSS {peak_kb // 1024} MB"
    print(f"peak RSS {peak_kb // 1024} MB")


def test_size_cap_on_plain_and_decompressed_files(tmp_path: Path) -> None:
    big = tmp_path / "big.gpx"
    big.write_text(gpx_points(120, extra="<desc>" + "x" * 20_000 + "</desc>"))
    assert big.stat().st_size > 1024 * 1024
    config = tmp_path / "config.toml"
    config.write_text("[import]\nmax_file_mb = 1\n")
    packed = tmp_path / "big.gpx.gz"
    packed.write_bytes(gzip.compress(big.read_bytes()))
    assert packed.stat().st_size < 100_000
    result = run(tmp_path, "import", str(big), str(packed), config=config)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {big}: larger than 1 MB (setting [import] max_file_mb)",
        f"error: {packed}: larger than 1 MB once decompressed (setting [import] max_file_mb)",
    ]


def test_bad_gpx_each_get_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    deep = "<extensions>" + "<a>" * 200_000 + "</a>" * 200_000 + "</extensions>"
    (folder / "deep.gpx").write_text(gpx_points(2, extra=deep))
    with gzip.open(folder / "deep.gpx.gz", "wt") as handle:
        handle.write(gpx_points(3, extra=deep))
    (folder / "plus25.gpx").write_text(gpx_points(time_suffix="+25:00"))
    (folder / "minus99.gpx").write_text(gpx_points(time_suffix="-99:99"))
    (folder / "fix.gpx").write_text(gpx_points(extra="<fix>something_not_in_the_spec</fix>"))
    (folder / "entities.gpx").write_text(
        '<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><gpx creator="&b;"></gpx>'
    )

    result = run(tmp_path, "import", str(folder))

    assert result.stdout.strip() == "1 new, 0 already imported, 0 skipped, 5 failed"
    assert_only_problem_lines(result.stderr)
    reasons = {
        Path(line.split(": ", 2)[1]).name: line.split(": ", 2)[2]
        for line in result.stderr.splitlines()
    }
    assert reasons == {
        "deep.gpx": "XML nested more than 100 levels deep",
        "deep.gpx.gz": "XML nested more than 100 levels deep",
        "plus25.gpx": "invalid time '2026-10-15T05:00:00+25:00' in a track point",
        "minus99.gpx": "invalid time '2026-10-15T05:00:00-99:99' in a track point",
        "entities.gpx": "XML entity declarations are not accepted (entity 'a')",
    }


def test_truncated_recording_is_stored_with_a_note(tmp_path: Path) -> None:
    result = run(tmp_path, "import", str(FILES / "truncated.fit"))
    assert result.returncode == 0 and result.stderr == ""
    listing = run(tmp_path, "activities").stdout
    table = listing.split("\n\n")[0]  # then the time zones the dates used
    (row,) = [line for line in table.splitlines() if "2026-06-19" in line]
    assert row.rstrip().endswith("truncated")


def test_settings_file_not_utf8_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'[athlete]\ntimezone = "Europe/Z\xfcrich"\n')
    result = run(tmp_path, "activities", config=config)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "not UTF-8 text" in result.stderr and "Traceback" not in result.stderr


# -- a decoder that crashes (real worker processes, a real SIGSEGV) -------------------


def crashing_job(path: Path, options: DecodeOptions, now: datetime) -> Outcome:
    """The real decoder, except that files named ``crash*`` kill the process."""
    if path.name.startswith("crash"):
        os.kill(os.getpid(), signal.SIGSEGV)
    return decode_job(path, options, now)


def test_a_crashing_decoder_costs_one_file(tmp_path: Path, options: DecodeOptions) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, path in enumerate(GOOD[:4]):
        shutil.copy(path, folder / f"{i}-{path.name}")
    shutil.copy(FILES / "multisport.fit", folder / "crash.fit")
    with Store.open(tmp_path / "store.sqlite") as store, DecodePool(2, crashing_job) as pool:
        summary = import_paths(store, [folder], options, now=NOW, pool=pool)
        assert summary.new == 4 and summary.failed == 1
        (failure,) = summary.failures
        assert failure.path.name == "crash.fit"
        assert failure.message == (  # the reference decoder, tried after the crash, too
            "the decoder crashed on this file (killed by SIGSEGV), the reference decoder too"
            " (killed by SIGSEGV); nothing was stored"
        )
        assert pool.crash_retries == 1
        # The pool recovers: the next single-file import (the watcher's path) works, and
        # a crash there fails that file without ending this process.
        alone = import_one(store, folder / "crash.fit", options, now=NOW, pool=pool)
        assert alone.outcome == "failed" and "killed by SIGSEGV" in (alone.message or "")
        extra = tmp_path / "extra.fit"
        shutil.copy(GOOD[4], extra)
        assert import_one(store, extra, options, now=NOW, pool=pool).outcome == "new"
        assert store.count() == 5


def hanging_job(path: Path, options: DecodeOptions, now: datetime) -> Outcome:
    """The real decoder, except that files named ``hang*`` never finish."""
    if path.name.startswith("hang"):
        time.sleep(3600)
    return decode_job(path, options, now)


def test_a_stuck_decoder_costs_one_file(tmp_path: Path, options: DecodeOptions) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(GOOD[0], folder / "a.fit")
    shutil.copy(GOOD[1], folder / "hang.fit")
    shutil.copy(GOOD[2], folder / "z.fit")
    started = time.monotonic()
    with (
        Store.open(tmp_path / "store.sqlite") as store,
        DecodePool(2, hanging_job, timeout_s=3) as pool,
    ):
        summary = import_paths(store, [folder], options, now=NOW, pool=pool)
        assert store.count() == 2
    assert time.monotonic() - started < 30
    assert summary.new == 2 and summary.failed == 1
    (failure,) = summary.failures
    assert failure.path.name == "hang.fit"
    assert failure.message == ("decoding took longer than 3 s and was stopped; nothing was stored")


@pytest.mark.parametrize("workers", [1, 3])
def test_import_decodes_in_workers_only(
    tmp_path: Path, options: DecodeOptions, workers: int
) -> None:
    with Store.open(tmp_path / "store.sqlite") as store, DecodePool(workers, crashing_job) as pool:
        crash = tmp_path / "crash-only.fit"
        shutil.copy(GOOD[0], crash)
        result = import_one(store, crash, options, now=NOW, pool=pool)
    assert result.outcome == "failed" and "SIGSEGV" in (result.message or "")


# -- the watcher on a watch's own drive ------------------------------------------------


def test_watch_on_a_device_drive_touches_nothing_of_the_device(tmp_path: Path) -> None:
    mount = tmp_path / "GARMIN_DRIVE"
    garmin = mount / "GARMIN"
    for sub in ("Activity", "Monitor", "Settings"):
        (garmin / sub).mkdir(parents=True)
    (garmin / "Settings" / "Settings.fit").write_bytes(non_activity_fit(FileType.SETTINGS))
    (garmin / "Monitor" / "M1234.FIT").write_bytes(non_activity_fit(FileType.MONITORING_B))
    shutil.copy(GOOD[0], os.fsdecode(bytes(garmin / "Activity") + b"/run-\xff.fit"))
    shutil.copy(FILES / "bad-crc.fit", garmin / "Activity" / "broken.fit")
    os.mkfifo(garmin / "Activity" / "pipe.fit")
    before = {p: p.read_bytes() for p in mount.rglob("*") if p.is_file()}
    rejected = tmp_path / "rejected"

    def watch_once() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "heavylegs_sync", "-v", "watch", str(mount), "--once",
             "--settle", "0.2", "--rejected", str(rejected)],
            env={**os.environ, "HEAVYLEGS_DB": str(tmp_path / "store.sqlite"),
                 "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml")},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    result = watch_once()

    assert result.returncode == 1  # the broken file failed
    after = {p: p.read_bytes() for p in mount.rglob("*") if p.is_file()}
    assert after == before  # nothing on the device moved, deleted or changed
    assert (garmin / "Activity" / "pipe.fit").exists()
    assert sorted(p.name for p in rejected.iterdir()) == ["broken.fit", "broken.fit.reason.txt"]
    assert (rejected / "broken.fit").read_bytes() == (FILES / "bad-crc.fit").read_bytes()
    assert "corrupt FIT file" in (rejected / "broken.fit.reason.txt").read_text()
    log = result.stderr
    assert "Traceback" not in log
    assert "Settings.fit" not in log and "M1234.FIT" not in log  # skipped silently
    assert "imported " in log and "run-\\xff.fit" in log
    assert "pipe.fit: not a regular file (a FIFO); skipped" in log
    assert log.count("ERROR") == 1

    # A second run remembers the failure: nothing retried, nothing copied again.
    again = watch_once()
    assert again.returncode == 0, again.stderr
    assert "ERROR" not in again.stderr
    assert sorted(p.name for p in rejected.iterdir()) == ["broken.fit", "broken.fit.reason.txt"]


def test_watch_refuses_a_file_over_the_size_cap(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "big.gpx").write_text(gpx_points(120, extra="<desc>" + "x" * 20_000 + "</desc>"))
    shutil.copy(GOOD[0], folder / "good.fit")
    config = tmp_path / "config.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\n[import]\nmax_file_mb = 1\n')
    result = subprocess.run(
        [sys.executable, "-m", "heavylegs_sync", "-v", "watch", str(folder), "--once", "--settle",
         "0.2", "--rejected", str(tmp_path / "rejected")],
        env={**os.environ, "HEAVYLEGS_DB": str(tmp_path / "store.sqlite"),
             "HEAVYLEGS_CONFIG": str(config)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"ERROR {folder / 'big.gpx'}: larger than 1 MB" in result.stderr
    assert "imported " in result.stderr and "Traceback" not in result.stderr
    assert (folder / "big.gpx").exists()
