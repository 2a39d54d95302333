"""Decoders that degrade and say so (issue 21): the real command run in a subprocess
where fitfast or fastcrc cannot be imported, or where the fast decoder kills its process.

Each case imports real files and checks what was stored (which decoder read each
activity, and the note saying why), the note in the import's output and the exit status.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import fitparse.records
import pytest
from fastcrc import crc16
from hypothesis import given
from hypothesis import strategies as st

from heavylegs_sync.decoding import Decoded, DecodePool, Failure, Outcome, decode_job
from heavylegs_sync.importers import DecodeOptions, Decoder
from heavylegs_sync.importers import fit as fit_importer
from heavylegs_sync.importers.crc import PYTHON_CRC_NOTE, python_crc16_arc
from heavylegs_sync.importers.fit_fast import FITFAST_MISSING_NOTE
from heavylegs_sync.ingest import import_paths
from heavylegs_sync.store import Store
from tests.conftest import FILES, SAMPLE

RUNS = sorted(SAMPLE.glob("2026-10-0*-run.fit"))[:3]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OTHERS = [FILES / "strava-style.gpx", FILES / "strava-style.tcx.gz"]

#: Run the command with some modules unimportable, as if they were not installed.
BLOCKING = """
import importlib.abc, sys
blocked = set(sys.argv[1].split(","))
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"No module named {name!r}")
        return None
for name in list(sys.modules):
    if name.split(".")[0] in blocked:
        del sys.modules[name]
sys.meta_path.insert(0, Blocker())
sys.argv = ["heavylegs", *sys.argv[2:]]
from heavylegs_sync.cli import main
main()
"""

#: Run the command with the fast decoder killing its process (a segfault in native code)
#: on the file whose SHA-256 is the first argument.
CRASHING = """
import hashlib, os, signal, sys
target = sys.argv[1]
from heavylegs_sync.importers import fit
real = fit.fast_messages
def crashing(data):
    if hashlib.sha256(data).hexdigest() == target:
        os.kill(os.getpid(), signal.SIGSEGV)
    return real(data)
fit.fast_messages = crashing
sys.argv = ["heavylegs", *sys.argv[2:]]
from heavylegs_sync.cli import main
main()
"""


def run(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HEAVYLEGS_DB": str(tmp_path / "store.sqlite"),
        "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
    }
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )


def folder_of(tmp_path: Path, files: list[Path]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for file in files:
        shutil.copy(file, folder / file.name)
    return folder


def stored(tmp_path: Path) -> dict[str, tuple[str | None, str | None]]:
    """Each stored activity's source file name -> (decoder, decoder_note)."""
    with Store.open(tmp_path / "store.sqlite", read_only=True) as store:
        found = {}
        for activity in store.activities():
            assert activity.source_path is not None
            found[Path(activity.source_path).name] = (activity.decoder, activity.decoder_note)
        return found


def test_without_fitfast_fitparse_reads_every_fit_file_and_says_so_once(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, [*RUNS, *OTHERS])

    result = run(tmp_path, BLOCKING, "fitfast", "import", str(folder), "--workers", "2")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5 new, 0 already imported, 0 skipped, 0 failed"
    assert result.stderr.strip() == f"note: {FITFAST_MISSING_NOTE} (3 files)"
    activities = stored(tmp_path)
    for run_file in RUNS:
        assert activities[run_file.name] == ("fitparse", FITFAST_MISSING_NOTE)
    assert activities["strava-style.gpx"][1] is None


def test_without_fitfast_the_fast_decoder_alone_fails_each_fit_file(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, [RUNS[0], OTHERS[0]])

    result = run(tmp_path, BLOCKING, "fitfast", "import", str(folder), "--decoder", "fast")

    assert result.returncode == 1
    assert result.stdout.strip() == "1 new, 0 already imported, 0 skipped, 1 failed"
    (line,) = result.stderr.strip().splitlines()
    reason = "fast decoder: fitfast is not installed"
    assert line.startswith(f"error: {folder / RUNS[0].name}: {reason}")
    assert set(stored(tmp_path)) == {"strava-style.gpx"}


def test_without_fastcrc_checksums_are_computed_in_python(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, [*RUNS, *OTHERS, FILES / "bad-crc.fit"])

    result = run(tmp_path, BLOCKING, "fastcrc", "import", str(folder))

    assert result.returncode == 1  # the damaged file is still refused
    assert result.stdout.strip() == "5 new, 0 already imported, 0 skipped, 1 failed"
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: {folder / 'bad-crc.fit'}: corrupt FIT file: CRC Mismatch")
    assert lines[1:] == [f"note: {PYTHON_CRC_NOTE} (3 files)"]
    activities = stored(tmp_path)
    for run_file in RUNS:
        assert activities[run_file.name] == ("fitfast", PYTHON_CRC_NOTE)


def test_without_either_library_gpx_tcx_and_fit_are_all_read(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, [RUNS[0], *OTHERS])

    result = run(tmp_path, BLOCKING, "fitfast,fastcrc", "import", str(folder))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3 new, 0 already imported, 0 skipped, 0 failed"
    assert result.stderr.strip() == f"note: {FITFAST_MISSING_NOTE} (1 file)"


def test_a_fast_decoder_crash_is_retried_with_fitparse(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, RUNS)
    victim = RUNS[1]
    digest = hashlib.sha256(victim.read_bytes()).hexdigest()

    result = run(tmp_path, CRASHING, digest, "import", str(folder), "--workers", "2")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3 new, 0 already imported, 0 skipped, 0 failed"
    note = "the fast decoder crashed on this file (killed by SIGSEGV): read with fitparse"
    assert result.stderr.strip().splitlines() == [
        f"note: {folder / victim.name}: {note}",
        f"note: {note} (1 file)",
    ]
    activities = stored(tmp_path)
    assert activities[victim.name] == ("fitparse", note)
    assert activities[RUNS[0].name] == ("fitfast", None)
    assert activities[RUNS[2].name] == ("fitfast", None)


def test_a_fast_decoder_crash_fails_the_file_when_only_the_fast_decoder_may_read(
    tmp_path: Path,
) -> None:
    folder = folder_of(tmp_path, RUNS[:2])
    digest = hashlib.sha256(RUNS[0].read_bytes()).hexdigest()

    result = run(tmp_path, CRASHING, digest, "import", str(folder), "--decoder", "fast")

    assert result.returncode == 1
    assert result.stdout.strip() == "1 new, 0 already imported, 0 skipped, 1 failed"
    assert result.stderr.strip() == (
        f"error: {folder / RUNS[0].name}: the decoder crashed on this file "
        "(killed by SIGSEGV); nothing was stored"
    )


@given(st.binary(max_size=2000))
def test_the_python_crc_is_fits_checksum(data: bytes) -> None:
    assert python_crc16_arc(data) == crc16.arc(data) == fitparse.records.Crc.calculate(data)


def test_the_python_crc_check_value() -> None:
    assert python_crc16_arc(b"123456789") == 0xBB3D  # CRC-16/ARC's catalogue check value


@pytest.mark.parametrize("decoder", [Decoder.REFERENCE, Decoder.AUTO])
def test_our_own_bug_is_an_internal_error_not_an_unreadable_file(
    monkeypatch: pytest.MonkeyPatch, options: DecodeOptions, decoder: Decoder
) -> None:
    """A KeyError raised by our code on good data is a bug to report, never the user's
    "unreadable FIT data"; fitparse's own errors still are (tests/test_fit_importer.py)."""

    def broken(message: object) -> object:
        raise KeyError("a bug of ours")

    monkeypatch.setattr(fit_importer, "_session", broken)
    outcome = decode_job(RUNS[0], DecodeOptions(zone=options.zone, decoder=decoder), NOW)

    assert isinstance(outcome, Failure)
    assert outcome.reason.startswith("internal error while decoding (KeyError: 'a bug of ours')")


def test_a_file_fitparse_cannot_read_is_unreadable_fit_data(options: DecodeOptions) -> None:
    outcome = decode_job(
        FILES / "bad-crc.fit", DecodeOptions(zone=options.zone, decoder=Decoder.REFERENCE), NOW
    )
    assert isinstance(outcome, Failure)
    assert outcome.reason.startswith("corrupt FIT file: CRC Mismatch")
    good = decode_job(RUNS[0], DecodeOptions(zone=options.zone, decoder=Decoder.REFERENCE), NOW)
    assert isinstance(good, Decoded) and good.notes == ()


def crashing_fast_job(path: Path, options: DecodeOptions, now: datetime) -> Outcome:
    """The real decoder, except that any choice but the reference decoder kills the
    process (a segfault in native code)."""
    if options.decoder != Decoder.REFERENCE:
        os.kill(os.getpid(), signal.SIGSEGV)
    return decode_job(path, options, now)


def test_after_a_crash_the_reference_decoder_words_a_broken_file(
    tmp_path: Path, options: DecodeOptions
) -> None:
    folder = folder_of(tmp_path, [RUNS[0], FILES / "bad-crc.fit"])
    with Store.open(tmp_path / "store.sqlite") as store, DecodePool(2, crashing_fast_job) as pool:
        summary = import_paths(store, [folder], options, now=NOW, pool=pool)
    assert (summary.new, summary.failed, pool.crash_retries) == (1, 1, 2)
    (failure,) = summary.failures
    assert (failure.message or "").startswith(
        "the fast decoder crashed on this file (killed by SIGSEGV); the reference decoder:"
        " corrupt FIT file: CRC Mismatch"
    )
    assert summary.notes == {
        "the fast decoder crashed on this file (killed by SIGSEGV): read with fitparse": 1
    }


def test_the_watcher_says_once_that_fitfast_is_missing(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, RUNS)

    result = run(tmp_path, BLOCKING, "fitfast", "watch", str(folder), "--once", "--settle", "0.2")

    assert result.returncode == 0, result.stderr
    assert result.stderr.count(FITFAST_MISSING_NOTE) == 1
    assert "Traceback" not in result.stderr
    activities = stored(tmp_path)
    assert {activities[f.name] for f in RUNS} == {("fitparse", FITFAST_MISSING_NOTE)}
