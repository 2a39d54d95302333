"""Seeded mutation fuzzing of the FIT, GPX and TCX importers, decoded in real worker processes.

Every mutant must end as plausible activities or a failure in our own words: a worker
that dies (the decoder crashed), an "internal error" or an implausible value stored is a
test failure naming the mutant. The default budget keeps this to a few seconds; the long
run is ``pytest -m fuzz tests/test_fuzz.py`` (HEAVYLEGS_FUZZ_COUNT sets its size).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from _gen_tcx import run_activity, write_tcx
from fastcrc import crc16

from heavylegs_sync.decoding import Decoded, DecodePool, Known
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.importers.plausible import vet
from heavylegs_sync.limits import SENSOR_HR_RANGE
from tests.conftest import BERLIN, FILES, SAMPLE, heavylegs_cli

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
Rng = np.random.Generator


def fit_seeds() -> list[bytes]:
    return [
        (FILES / "no-local-timestamp.fit").read_bytes(),
        (FILES / "hr-sentinels.fit").read_bytes(),
        fix_crc(bytearray((FILES / "bad-crc.fit").read_bytes())),
    ]


def gpx_seed(points: int = 150) -> bytes:
    start = datetime(2026, 10, 15, 5, 0, tzinfo=UTC)
    body = "".join(
        f'<trkpt lat="{52.5 + i * 3 / 111_195:.7f}" lon="13.4"><ele>{40 + i % 7}</ele>'
        f"<time>{(start + timedelta(seconds=i)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time>"
        "<extensions><gpxtpx:TrackPointExtension>"
        f"<gpxtpx:hr>{140 + i % 9}</gpxtpx:hr><gpxtpx:cad>86</gpxtpx:cad>"
        "</gpxtpx:TrackPointExtension></extensions></trkpt>"
        for i in range(points)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="fuzz" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        f"<metadata><name>seed</name></metadata><trk><name>Run</name><type>running</type>"
        f"<trkseg>{body}</trkseg></trk></gpx>"
    ).encode()


def fix_crc(data: bytearray) -> bytes:
    """Recompute a FIT file's header and file CRCs, so a mutation reaches the decoder."""
    if len(data) >= 14 and data[0] >= 14:
        data[12:14] = crc16.arc(bytes(data[:12])).to_bytes(2, "little")
    if len(data) >= 16:
        data[-2:] = crc16.arc(bytes(data[:-2])).to_bytes(2, "little")
    return bytes(data)


# -- mutations ---------------------------------------------------------------------------

_INTERESTING = (0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE)


def flip_bits(rng: Rng, data: bytearray) -> None:
    for _ in range(int(rng.integers(1, 8))):
        position = int(rng.integers(0, len(data)))
        data[position] ^= 1 << int(rng.integers(0, 8))


def set_bytes(rng: Rng, data: bytearray) -> None:
    for _ in range(int(rng.integers(1, 6))):
        position = int(rng.integers(0, len(data)))
        data[position] = (
            int(rng.choice(_INTERESTING)) if rng.random() < 0.7 else int(rng.integers(0, 256))
        )


def cut_slice(rng: Rng, data: bytearray) -> None:
    start = int(rng.integers(0, len(data)))
    del data[start : start + int(rng.integers(1, 64))]


def repeat_slice(rng: Rng, data: bytearray) -> None:
    start = int(rng.integers(0, len(data)))
    piece = data[start : start + int(rng.integers(1, 256))]
    at = int(rng.integers(0, len(data)))
    data[at:at] = piece * int(rng.integers(1, 4))


def truncate(rng: Rng, data: bytearray) -> None:
    del data[int(rng.integers(0, len(data))) :]


_TEXT_PIECES = (
    b"<", b">", b"&", b"&amp;", b"]]>", b"<a>", b"</trkpt>", b"<trkpt>", b'lat="999"',
    b"+25:00", b"-99:99", b"NaN", b"1e309", b"-0", b"<extensions><a><b><c>", b"\xff\xfe",
    b"<!DOCTYPE x [<!ENTITY e 'x'>]>", b"<time>2090-01-01T00:00:00Z</time>",
    b"<time>1970-01-01T00:00:00Z</time>", b"<fix>bogus</fix>", b"<hr>255</hr>",
)  # fmt: skip


def splice_text(rng: Rng, data: bytearray) -> None:
    for _ in range(int(rng.integers(1, 4))):
        at = int(rng.integers(0, len(data)))
        data[at:at] = _TEXT_PIECES[int(rng.integers(0, len(_TEXT_PIECES)))]


def swap_digits(rng: Rng, data: bytearray) -> None:
    digits = [i for i, b in enumerate(data) if 0x30 <= b <= 0x39]
    for _ in range(int(rng.integers(1, 20))):
        data[digits[int(rng.integers(0, len(digits)))]] = int(rng.integers(0x30, 0x3A))


BINARY: tuple[Callable[[Rng, bytearray], None], ...] = (
    flip_bits, set_bytes, cut_slice, repeat_slice, truncate,
)  # fmt: skip
TEXT = (*BINARY, splice_text, splice_text, swap_digits, swap_digits)


def mutants(count: int, seed: int, folder: Path) -> list[Path]:
    """``count`` mutated FIT files and as many GPX files, some gzipped, written to disk."""
    rng = np.random.default_rng(seed)
    fits, gpx = fit_seeds(), gpx_seed()
    paths: list[Path] = []
    for i in range(count):
        for kind in ("fit", "gpx"):
            base = fits[int(rng.integers(0, len(fits)))] if kind == "fit" else gpx
            data = bytearray(base)
            operators = BINARY if kind == "fit" else TEXT
            names = []
            for _ in range(int(rng.integers(1, 4))):
                operator = operators[int(rng.integers(0, len(operators)))]
                if data:
                    operator(rng, data)
                    names.append(operator.__name__)
            out = bytes(data)
            if kind == "fit" and rng.random() < 0.6:
                out = fix_crc(bytearray(out))  # past the checksum, into the decoder
            suffix = f".{kind}"
            if rng.random() < 0.15:
                out = gzip.compress(out, mtime=0)
                suffix += ".gz"
                if rng.random() < 0.3:
                    broken = bytearray(out)
                    flip_bits(rng, broken)
                    out = bytes(broken)
            path = folder / f"{i:05d}-{'+'.join(names) or 'none'}{suffix}"
            path.write_bytes(out)
            paths.append(path)
    return paths


#: Mostly value changes, so many mutants stay XML and reach the TCX decoder's arithmetic.
TCX_OPS = (swap_digits, swap_digits, swap_digits, splice_text, flip_bits, cut_slice, truncate)


def tcx_seed() -> bytes:
    """A Strava-style TCX run: whitespace before ``<?xml``, laps, HR, TPX speed/cadence."""
    start = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
    return write_tcx([run_activity(start, minutes=10, laps=2)], leading="   \n").encode()


def tcx_mutants(count: int, seed: int, folder: Path) -> list[Path]:
    """``count`` mutated TCX files (a seed of their own, so the FIT/GPX mutants stay)."""
    rng = np.random.default_rng(seed)
    base = tcx_seed()
    paths: list[Path] = []
    for i in range(count):
        data = bytearray(base)
        names = []
        for _ in range(int(rng.integers(1, 4))):
            operator = TCX_OPS[int(rng.integers(0, len(TCX_OPS)))]
            if data:
                operator(rng, data)
                names.append(operator.__name__)
        out, suffix = bytes(data), ".tcx"
        if rng.random() < 0.15:
            out, suffix = gzip.compress(out, mtime=0), ".tcx.gz"
        path = folder / f"tcx-{i:05d}-{'+'.join(names) or 'none'}{suffix}"
        path.write_bytes(out)
        paths.append(path)
    return paths


def check_all(paths: list[Path], workers: int = 2) -> int:
    """Decode every mutant in workers; return how many gave activities."""
    options = DecodeOptions(zone=BERLIN)
    stored = 0
    problems: list[str] = []
    with DecodePool(workers) as pool:
        futures = [(path, pool.submit(path, options, NOW)) for path in paths]
        for path, future in futures:
            outcome = pool.outcome(future, path, options, NOW)
            if isinstance(outcome, Decoded):
                stored += 1
                problems.extend(f"{path.name}: {p}" for p in implausible(outcome))
            elif isinstance(outcome, Known):
                problems.append(f"{path.name}: looked up in a store it was never given")
            elif "internal error" in outcome.reason or "crashed" in outcome.reason:
                problems.append(f"{path.name}: {outcome.reason}")
            elif "\n" in outcome.reason or not outcome.reason:
                problems.append(f"{path.name}: not one line: {outcome.reason!r}")
        assert pool.crashes == 0, f"{pool.crashes} worker(s) died"
    assert not problems, "\n".join(problems[:20])
    return stored


def implausible(decoded: Decoded) -> list[str]:
    """What a stored result must never hold (checked again here, independently)."""
    found: list[str] = []
    again = vet(decoded.activities, NOW)
    if again.warnings:
        found.append(f"values the checks should have dropped: {again.warnings}")
    low, high = SENSOR_HR_RANGE
    for a in decoded.activities:
        if not datetime(1990, 1, 1, tzinfo=UTC) <= a.start_utc <= NOW + timedelta(days=1):
            found.append(f"start {a.start_utc}")
        for value in (a.avg_hr, a.max_hr):
            if value is not None and not low <= value <= high:
                found.append(f"heart rate {value}")
        if a.samples is not None:
            if not np.isfinite(a.samples.t).all():
                found.append("sample time not finite")
            if a.samples.hr is not None:
                with np.errstate(invalid="ignore"):
                    if ((a.samples.hr < low) | (a.samples.hr > high)).any():
                        found.append("sample heart rate out of range")
    return found


def test_mutated_files_are_stored_plausibly_or_refused_in_words(tmp_path: Path) -> None:
    paths = mutants(150, seed=20261126, folder=tmp_path)
    paths += tcx_mutants(60, seed=20261126, folder=tmp_path)
    stored = check_all(paths)
    assert 0 < stored < len(paths)  # the mutations both keep and break files


@pytest.mark.fuzz
def test_long_fuzz(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if "fuzz" not in str(request.config.getoption("markexpr") or ""):
        pytest.skip("the long fuzz run: pytest -m fuzz tests/test_fuzz.py")
    count = int(os.environ.get("HEAVYLEGS_FUZZ_COUNT", "1500"))
    seed = int(os.environ.get("HEAVYLEGS_FUZZ_SEED", "7"))
    paths = mutants(count, seed=seed, folder=tmp_path)
    paths += tcx_mutants(count // 2, seed=seed, folder=tmp_path)
    check_all(paths, workers=os.cpu_count() or 2)


def test_the_command_prints_one_line_per_problem_and_nothing_else(tmp_path: Path) -> None:
    """Mutants that make fitfast panic among others, imported by the real command: its
    stderr holds error and warning lines only (no panic text, no numpy warnings)."""
    import fitfast

    (tmp_path / "all").mkdir()
    made = mutants(300, seed=3, folder=tmp_path / "all")
    panicking = [p for p in made if p.name.startswith(("00029-", "00134-", "00291-"))]
    panics = 0
    for path in panicking:
        try:
            fitfast.parse(path.read_bytes())
        except Exception:
            pass
        except BaseException:  # pyo3's PanicException
            panics += 1
    assert panics >= 1, "the seed no longer makes fitfast panic: pick another"
    batch = tmp_path / "batch"
    batch.mkdir()
    for path in {*panicking, *made[::12]}:
        os.replace(path, batch / path.name)

    result = heavylegs_cli(
        "import", "--workers", "2", str(batch),
        env={"HEAVYLEGS_DB": str(tmp_path / "store.sqlite"),
             "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml")},
    )  # fmt: skip

    lines = result.stderr.splitlines()
    assert lines and all(line.startswith(("error: ", "warning: ")) for line in lines), lines
    assert "panicked" not in result.stderr and "Warning" not in result.stderr
    assert "internal error" not in result.stderr
    failed = sum(line.startswith("error: ") for line in lines)
    assert result.stdout.strip().endswith(f", {failed} failed")
