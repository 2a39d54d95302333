"""The importers over every real file in $HEAVYLEGS_CORPUS (see its MANIFEST.md).

Every file must end either stored with plausible values or rejected with our own one-line
error, never a traceback; a second run must find everything already imported.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import sqlite3
import subprocess
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import fitparse
import numpy as np
import pytest

import heavylegs_sync.categories
import heavylegs_sync.importers
import heavylegs_sync.model
from heavylegs_sync.codec import decode_samples, normalise
from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import DecodeOptions, Decoder, decode_file
from heavylegs_sync.model import Activity
from tests.conftest import corpus_dir, heavylegs_cli


@dataclass(frozen=True)
class ManifestRow:
    file_type: str
    records: int
    sports: str
    fitparse_ok: bool
    quirk: bool  # rejected by fitparse for a device quirk, not damage: may be read
    truncated: bool  # fitparse met the end of the file early: the part before may be kept
    verdict: str  # the MANIFEST's last column: "ok" or what fitparse said


#: fitparse errors that come from real-device quirks a careful decoder still reads.
QUIRKS = ("Invalid field size", "invalid local message type")


def manifest(corpus: Path) -> dict[str, ManifestRow]:
    rows: dict[str, ManifestRow] = {}
    in_fit = False
    for line in (corpus / "MANIFEST.md").read_text().splitlines():
        if line.startswith("## "):
            in_fit = line.startswith("## FIT")
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not in_fit or len(cells) < 9 or not cells[0].lower().endswith(".fit"):
            continue
        # The sports cell may itself hold "|" (multisport): read the fixed cells from the end.
        rows["fit/" + cells[0]] = ManifestRow(
            file_type=cells[2],
            records=int(cells[-4]),
            sports="|".join(cells[4:-4]),
            fitparse_ok=cells[-1] == "ok",
            quirk=any(q in cells[-1] for q in QUIRKS),
            truncated="Tried to read" in cells[-1],
            verdict=cells[-1],
        )
    return rows


@dataclass
class CorpusRun:
    corpus: Path
    db: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]

    def outcomes(self) -> dict[str, set[str]]:
        """Corpus-relative path -> outcomes logged for it in the first run."""
        result: dict[str, set[str]] = {}
        with sqlite3.connect(self.db) as raw:
            rows = raw.execute("SELECT path, outcome FROM import_log").fetchall()
        for path, outcome in rows:
            rel = Path(path).resolve().relative_to(self.corpus).as_posix()
            result.setdefault(rel, set()).add(outcome)
        return result


def heavylegs(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = db.with_name("config.toml")
    config.write_text('[athlete]\ntimezone = "UTC"\n')
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(config)}
    return heavylegs_cli(*args, env=env, timeout=1800)


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    corpus = corpus_dir()
    db = tmp_path_factory.mktemp("corpus") / "store.sqlite"
    paths = [
        str(corpus / "fit"),
        str(corpus / "gpx"),
        str(corpus / "tcx"),
        str(corpus / STRAVA_TCX),
    ]
    first = heavylegs(db, "import", "--workers", "2", *paths)
    second = heavylegs(db, "import", "--workers", "2", *paths)
    return CorpusRun(corpus, db, first, second)


#: stravalib's TCX ride; the rest of strava/ is API JSON, not files to import.
STRAVA_TCX = "strava/sample.tcx"


def corpus_files(corpus: Path) -> list[str]:
    found = [
        p.relative_to(corpus).as_posix()
        for sub in ("fit", "gpx", "tcx")
        for p in (corpus / sub).rglob("*")
        if p.is_file()
    ]
    return sorted([*found, STRAVA_TCX])


def test_every_file_is_stored_or_rejected_in_words(corpus_run: CorpusRun) -> None:
    first = corpus_run.first
    assert first.returncode == 1, first.stderr[-2000:]
    assert "Traceback" not in first.stderr
    assert "internal error" not in first.stderr
    outcomes = corpus_run.outcomes()
    files = corpus_files(corpus_run.corpus)
    assert len(files) >= 230
    assert sum(rel.endswith(".tcx") for rel in files) >= 48
    for rel in files:
        assert rel in outcomes, f"{rel} never reached the import log"
    failed = sorted(rel for rel, seen in outcomes.items() if "failed" in seen)
    lines = first.stderr.splitlines()
    error_lines = [line for line in lines if line.startswith("error: ")]
    assert len(error_lines) == len(failed)
    for line in lines:  # nothing but one line per problem: no panic text, no numpy warnings
        assert line.startswith(("error: ", "warning: ")) and ": " in line[9:], line
    skipped = sorted(rel for rel, seen in outcomes.items() if "skipped" in seen)
    _, _, rest = first.stdout.partition(" new")
    assert rest.strip().endswith(f"{len(skipped)} skipped, {len(failed)} failed")


def test_manifest_verdicts_hold(corpus_run: CorpusRun) -> None:
    outcomes = corpus_run.outcomes()
    rows = manifest(corpus_run.corpus)
    assert len(rows) >= 140
    truncated = stored_notes(corpus_run, "truncated")
    for rel, row in rows.items():
        seen = outcomes[rel]
        if row.truncated and "new" in seen:
            assert rel in truncated, f"{rel}: a truncated file was stored without its note"
        elif row.truncated and "duplicate" in seen:
            pass  # its readable part is an activity another (whole) file brought
        elif not row.fitparse_ok and not row.quirk:
            assert seen == {"failed"}, f"{rel}: a broken file was stored"
        elif row.quirk and "Invalid field size" in row.verdict:
            # A real device's misaligned fields: fitparse 1.2.0 refuses them, fitfast reads
            # them (the MANIFEST's pitfalls): the run must not be lost.
            assert seen & {"new", "duplicate"}, f"{rel}: a device quirk cost a real activity"
        elif row.fitparse_ok and row.file_type == "activity" and row.records >= 10 and row.sports:
            assert seen & {"new", "duplicate"}, f"{rel}: a real activity was not stored"


def stored_notes(corpus_run: CorpusRun, note: str) -> set[str]:
    """Corpus-relative paths of stored activities that carry ``note``."""
    with sqlite3.connect(corpus_run.db) as raw:
        rows = raw.execute(
            "SELECT source_path, notes FROM activities WHERE notes IS NOT NULL"
        ).fetchall()
    return {
        Path(path).resolve().relative_to(corpus_run.corpus).as_posix()
        for path, notes in rows
        if note in notes.split("; ")
    }


def test_real_truncated_recordings_keep_their_readable_part(corpus_run: CorpusRun) -> None:
    outcomes = corpus_run.outcomes()
    assert "new" in outcomes["fit/python-fitparse/nick.fit"]
    assert "fit/python-fitparse/nick.fit" in stored_notes(corpus_run, "truncated")
    with sqlite3.connect(corpus_run.db) as raw:
        (n,) = raw.execute(
            "SELECT s.n FROM activities a JOIN samples s ON s.activity_id = a.id "
            "WHERE a.source_path LIKE '%/nick.fit'"
        ).fetchone()
    assert n == 14391  # every record before the break
    listing = heavylegs(
        corpus_run.db, "activities", "--since", "2020-09-12", "--until", "2020-09-12"
    )
    assert "truncated" in listing.stdout
    # The readable part of this one is the activity Activity.fit holds whole: the whole
    # record was stored first and the truncated copy does not replace it.
    assert outcomes["fit/python-fitparse/activity-unexpected-eof.fit"] == {"duplicate"}
    assert "fit/python-fitparse/Activity.fit" not in stored_notes(corpus_run, "truncated")


def test_stored_values_are_plausible(corpus_run: CorpusRun) -> None:
    with sqlite3.connect(corpus_run.db) as raw:
        rows = raw.execute(
            "SELECT a.id, a.source_path, a.start_utc, a.timer_s, a.elapsed_s, a.distance_m, "
            "a.avg_hr, a.max_hr, a.utc_offset_s, s.data FROM activities a "
            "LEFT JOIN samples s ON s.activity_id = a.id"
        ).fetchall()
    assert len(rows) > 150
    for _id, path, start, timer, elapsed, distance, avg_hr, max_hr, offset, blob in rows:
        when = datetime.strptime(start, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert datetime(2000, 1, 1, tzinfo=UTC) <= when <= datetime(2027, 1, 1, tzinfo=UTC), path
        duration = timer if timer is not None else elapsed
        assert duration is not None and 0 < duration < 48 * 3600, path
        assert distance is None or 0 <= distance < 1_000_000, path
        for hr in (avg_hr, max_hr):
            assert hr is None or 25 <= hr <= 250, path
        assert abs(offset) <= 14 * 3600 and offset % 900 == 0, path
        if blob is not None:
            samples = decode_samples(blob)
            assert np.all(np.diff(samples.t) >= 0), path
            if samples.hr is not None:
                finite = samples.hr[np.isfinite(samples.hr)]
                assert finite.size and finite.min() >= 25 and finite.max() <= 250, path
            if samples.speed is not None:
                assert np.nanmax(samples.speed) < 60, path


def test_second_run_finds_everything_already_imported(corpus_run: CorpusRun) -> None:
    first, second = corpus_run.first, corpus_run.second
    assert second.returncode == 1
    skipped, failed = first.stdout.strip().rsplit(", ", 2)[1:]
    with sqlite3.connect(corpus_run.db) as raw:
        files = raw.execute("SELECT count(*) FROM files").fetchone()[0]
    # Files that hold no activity are looked at again, and skipped again.
    assert second.stdout.strip() == f"0 new, {files} already imported, {skipped}, {failed}"


#: The watch's own wellness files (MANIFEST.md, "Wellness FIT"): stored as wellness days.
WELLNESS_FIT = {
    "fit/fit_data_whiz/hrv1.fit",
    "fit/fit_data_whiz/hrv2.fit",
    "fit/fit_data_whiz/monitor1_with_all.fit",
    "fit/fit_data_whiz/monitor2_with_all.fit",
    "fit/fit_data_whiz/monitor_with_intensities.fit",
    "fit/fit_data_whiz/sleep1.fit",
    "fit/fit_data_whiz/sleep2.fit",
}


def test_the_watchs_wellness_files_are_stored_as_wellness_days(corpus_run: CorpusRun) -> None:
    """tests/test_fit_wellness.py checks each value; here, that the whole-corpus run
    stores them and no other FIT file gives wellness."""
    outcomes = corpus_run.outcomes()
    for rel in WELLNESS_FIT:
        assert "new" in outcomes[rel] and "failed" not in outcomes[rel], rel
    # a vivofit monitoring file without resting HR holds nothing to import
    assert outcomes["fit/python-fitparse/MonitoringFile.fit"] == {"skipped"}
    with sqlite3.connect(corpus_run.db) as raw:
        days = raw.execute(
            "SELECT day, sleep_s, resting_hr, hrv_ms FROM wellness ORDER BY day"
        ).fetchall()
        sources = raw.execute("SELECT DISTINCT source FROM wellness").fetchall()
    assert days == [
        ("2023-09-26", None, 35.0, None),
        ("2023-09-27", 407 * 60.0, 33.0, 92.0),
        ("2023-09-28", 322 * 60.0, None, 85.0),
        ("2023-10-02", None, 35.0, None),
    ]
    assert sources == [("fit",)]


@pytest.mark.parametrize(
    "rel",
    [
        "fit/Runalyze/Standard.fit",
        "fit/GoldenCheetah/3386684871.fit",
        "fit/Runalyze/Zwift-bad-training-effect.fit",
        "fit/Runalyze/multisport-triathlon-fenix3.fit",
    ],
)
def test_values_match_fitparse(corpus_run: CorpusRun, rel: str) -> None:
    path = corpus_run.corpus / rel
    fit = fitparse.FitFile(str(path))
    every_session = list(fit.get_messages("session"))
    sessions = [s for s in every_session if s.get_value("sport") != "transition"]
    record_times = [r.get_value("timestamp") for r in fit.get_messages("record")]
    with sqlite3.connect(corpus_run.db) as raw:
        stored = raw.execute(
            "SELECT a.start_utc, a.timer_s, a.distance_m, a.avg_hr, a.sport_raw, s.n, s.data "
            "FROM activities a LEFT JOIN samples s ON s.activity_id = a.id "
            "WHERE a.source_path = ? ORDER BY a.start_utc",
            (str(path),),
        ).fetchall()
    assert len(stored) == len(sessions)
    for session, (start, timer, distance, avg_hr, sport, _n, blob) in zip(
        sessions, stored, strict=True
    ):
        assert start.startswith(session.get_value("start_time").strftime("%Y-%m-%dT%H:%M:%S"))
        assert timer == pytest.approx(session.get_value("total_timer_time"))
        assert distance == pytest.approx(session.get_value("total_distance"))
        assert avg_hr == session.get_value("avg_heart_rate")
        assert sport == session.get_value("sport")
        samples = decode_samples(blob)
        assert samples.distance is not None and math.isfinite(float(np.nanmax(samples.distance)))
    # Records belong to the latest session started before them; transitions are not stored.
    starts = sorted((s.get_value("start_time"), s.get_value("sport")) for s in every_session)
    kept = 0
    for ts in record_times:
        if isinstance(ts, datetime):
            owner = [sport for start, sport in starts if start <= ts] or [starts[0][1]]
            kept += owner[-1] != "transition"
    assert sum(n for *_, n, _ in stored) == kept


@pytest.mark.parametrize(
    ("rel", "has_hr"),
    [
        ("gpx/Runalyze/garmin-ns3-extension.gpx", True),
        ("gpx/Runalyze/strava-export.gpx", True),
        ("gpx/GoldenCheetah/Move_2014_01_17_09_33_11.gpx", True),  # Movescount gpxdata:hr
        ("gpx/Runalyze/Movescount-mixed-extensions.gpx", True),
        ("gpx/Runalyze/12010401.gpx", False),
    ],
)
def test_gpx_heart_rate_found_under_any_prefix(
    corpus_run: CorpusRun, rel: str, has_hr: bool
) -> None:
    with sqlite3.connect(corpus_run.db) as raw:
        (blob,) = raw.execute(
            "SELECT s.data FROM activities a JOIN samples s ON s.activity_id = a.id "
            "WHERE a.source_path = ?",
            (str(corpus_run.corpus / rel),),
        ).fetchone()
    samples = decode_samples(blob)
    assert (samples.hr is not None) is has_hr


#: The importer's own code: a reference decode cached under an older version is stale.
_IMPORTER_SOURCES = ("fit.py", "fit_records.py", "common.py", "__init__.py")


def _reference_key() -> str:
    digest = hashlib.sha256(f"fitparse {fitparse.__version__}".encode())
    importers = Path(heavylegs_sync.importers.__file__).parent
    for name in _IMPORTER_SOURCES:
        digest.update((importers / name).read_bytes())
    for module in (heavylegs_sync.model, heavylegs_sync.categories):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module")
def reference_cache(request: pytest.FixtureRequest) -> Path:
    """Where fitparse's decodes of the corpus are kept between runs (by file and code hash).

    fitparse takes over a minute for the corpus; the fast path a few seconds. Set
    HEAVYLEGS_TEST_CACHE to share the cache between clones.
    """
    configured = os.environ.get("HEAVYLEGS_TEST_CACHE")
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    if configured:
        base = Path(configured)
    elif cache is not None:
        base = cache.mkdir("fit-reference")
    else:
        base = request.getfixturevalue("tmp_path_factory").mktemp("fit-reference")
    folder = base / _reference_key()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _decode(path: Path, data: bytes, decoder: Decoder) -> list[Activity] | str:
    try:
        return decode_file(path, data, DecodeOptions(zone=ZoneInfo("UTC"), decoder=decoder))
    except ImportFailed as exc:
        return exc.reason


def _reference(path: Path, data: bytes, cache: Path) -> list[Activity] | str:
    """fitparse's decode of the file, from the cache when this code decoded it before."""
    cached = _cached(cache, data)
    if cached.exists():
        result: list[Activity] | str = pickle.loads(cached.read_bytes())
        return result
    result = _decode(path, data, Decoder.REFERENCE)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(pickle.dumps(result))
    partial.replace(cached)
    return result


def _cached(cache: Path, data: bytes) -> Path:
    return cache / (hashlib.sha256(data).hexdigest() + ".pickle")


def _fill_cache(paths: list[Path], cache: Path) -> None:
    """Decode the files the cache lacks with fitparse, one process per CPU (a cold cache)."""
    missing = [
        p
        for p in paths
        if not (cache / (hashlib.sha256(p.read_bytes()).hexdigest() + ".pickle")).exists()
    ]
    if len(missing) < 4:
        return
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(_reference_of_file, missing, [cache] * len(missing)))


def _reference_of_file(path: Path, cache: Path) -> None:
    _reference(path, path.read_bytes(), cache)


def _fit_files(corpus: Path) -> list[Path]:
    files = sorted(p for p in (corpus / "fit").rglob("*") if p.suffix.lower() == ".fit")
    assert len(files) >= 140
    return files


def test_fast_path_reads_the_real_activity_files() -> None:
    """fitfast, not the fallback, reads at least 95% of the activity files fitparse reads."""
    corpus = corpus_dir()
    rows = manifest(corpus)
    activity_files = fast = 0
    for path in _fit_files(corpus):
        rel = path.relative_to(corpus).as_posix()
        row = rows[rel]
        result = _decode(path, path.read_bytes(), Decoder.AUTO)
        if isinstance(result, str):
            continue
        decoders = {a.decoder for a in result}
        assert len(decoders) == 1, rel
        for activity in result:
            if activity.decoder == "fitparse":
                assert activity.decoder_note, f"{rel}: a fallback without its reason"
            else:
                assert activity.decoder == "fitfast" and activity.decoder_note is None, rel
        if row.file_type == "activity" and row.fitparse_ok:
            activity_files += 1
            fast += decoders == {"fitfast"}
    assert activity_files >= 110
    assert fast >= 0.95 * activity_files, f"fast path on {fast} of {activity_files} files"


def test_damaged_files_are_rejected_by_every_decoder() -> None:
    corpus = corpus_dir()
    rows = manifest(corpus)
    damaged = [rel for rel, row in rows.items() if not row.fitparse_ok and not row.quirk]
    assert len(damaged) >= 4
    for rel in damaged:
        data = (corpus / rel).read_bytes()
        for decoder in (Decoder.FAST, Decoder.AUTO):
            result = _decode(corpus / rel, data, decoder)
            if isinstance(result, str):
                continue
            # A recording cut short keeps what was read before the break (issue 10), and
            # says so; anything else damaged must be refused.
            assert all("truncated" in a.notes for a in result), (
                f"{rel}: the {decoder} decoder stored a damaged file"
            )


#: Files up to this size are compared with fitparse in every run: half the corpus by
#: count, a tenth of the time. The rest are compared in the exhaustive run (or when cached).
QUICK_REFERENCE_BYTES = 50_000


def test_fast_decoding_equals_fitparse_on_the_small_and_cached_files(
    reference_cache: Path,
) -> None:
    """The quick part of the comparison below: every corpus FIT up to
    :data:`QUICK_REFERENCE_BYTES`, and every bigger one whose fitparse decode is cached."""
    corpus = corpus_dir()
    files = [
        p
        for p in _fit_files(corpus)
        if p.stat().st_size <= QUICK_REFERENCE_BYTES
        or _cached(reference_cache, p.read_bytes()).exists()
    ]
    compared, verdicts = _compare_with_fitparse(corpus, files, reference_cache)
    assert compared >= 50
    assert verdicts >= 10


@pytest.mark.exhaustive
def test_fast_decoding_equals_fitparse_where_the_fast_path_ran(reference_cache: Path) -> None:
    """fitparse is the reference: where fitfast read a file, it must store exactly the same.

    The fast decoder alone (``Decoder.FAST``) either reads a file or says why it cannot
    ("fast decoder: ..."); every file it did read is compared field by field, sample by
    sample, and every verdict it reached ("not an activity file", ...) word by word.
    """
    corpus = corpus_dir()
    compared, verdicts = _compare_with_fitparse(corpus, _fit_files(corpus), reference_cache)
    assert compared >= 130
    assert verdicts >= 10


def _compare_with_fitparse(corpus: Path, files: list[Path], cache: Path) -> tuple[int, int]:
    """Hold the fast path to fitparse on ``files``: (activities compared, verdicts)."""
    rows = manifest(corpus)
    compared = verdicts = 0
    _fill_cache(files, cache)
    for path in files:
        data = path.read_bytes()
        rel = path.relative_to(corpus).as_posix()
        fast = _decode(path, data, Decoder.FAST)
        if isinstance(fast, str) and fast.startswith("fast decoder: "):
            continue  # the fast path did not run; auto mode falls back (counted above)
        reference = _reference(path, data, cache)
        if isinstance(reference, str):
            if isinstance(fast, list):  # fitfast reads a file fitparse cannot
                assert rows[rel].quirk, f"{rel}: only the fast path reads it: {reference}"
            else:
                assert fast.startswith(reference), rel  # the fast path may add where
                verdicts += 1
            continue
        assert isinstance(fast, list), f"{rel}: fast path failed: {fast}"
        assert len(fast) == len(reference), rel
        for a, b in zip(reference, fast, strict=True):
            assert (a.decoder, b.decoder) == ("fitparse", "fitfast"), rel
            for name in [f.name for f in fields(a) if f.name not in _NOT_COMPARED]:
                assert getattr(a, name) == getattr(b, name), f"{rel}: {name}"
            assert (a.samples is None) == (b.samples is None), rel
            if a.samples is not None and b.samples is not None:
                assert normalise(a.samples).equals(normalise(b.samples)), rel
            compared += 1
    return compared, verdicts


#: Re-saved copies in the corpus and the device files they came from.
SAVED_PAIRS = [
    (f"fit/GoldenCheetah/{saved}", f"fit/GoldenCheetah/{original}")
    for saved, original in (
        ("3386684871-saved.fit", "3386684871.fit"),
        ("Fr955v19.28andStryd-saved.fit", "Fr955v19.28andStryd.fit"),
        ("FR55-loaded-and-saved-via-GC.fit", "FR55-CoreTemp-Walk.fit"),
    )
]


@pytest.mark.parametrize(("saved", "original"), SAVED_PAIRS)
def test_a_resaved_copy_and_its_original_are_one_activity(
    corpus_run: CorpusRun, saved: str, original: str
) -> None:
    corpus = corpus_run.corpus
    with sqlite3.connect(corpus_run.db) as raw:
        rows = raw.execute(
            "SELECT id, source_path, primary_id, start_utc, offset_source FROM activities "
            "WHERE source_path IN (?, ?)",
            (str(corpus / saved), str(corpus / original)),
        ).fetchall()
    assert len(rows) == 2
    by_path = {Path(r[1]).relative_to(corpus).as_posix(): r for r in rows}
    primaries = [r for r in rows if r[2] is None]
    assert len(primaries) == 1, f"{saved} and {original} are stored as two activities"
    secondary = next(r for r in rows if r[2] is not None)
    assert secondary[2] == primaries[0][0]
    # The device's own file decides the time, whichever copy's samples were kept.
    assert primaries[0][3] == by_path[original][3]


def test_no_activity_moves_faster_than_its_sport_allows(corpus_run: CorpusRun) -> None:
    from heavylegs_sync.importers.track import max_speed_for
    from heavylegs_sync.model import Category

    with sqlite3.connect(corpus_run.db) as raw:
        rows = raw.execute(
            "SELECT source_path, category, distance_m, coalesce(timer_s, elapsed_s) "
            "FROM activities WHERE distance_m > 0"
        ).fetchall()
    assert len(rows) > 100
    for path, category, distance, duration in rows:
        speed = distance / duration
        assert speed <= max_speed_for(Category(category)), f"{path}: {speed * 3.6:.0f} km/h"


#: TCX values read by hand from the files: (start UTC, sport, laps' summed time and
#: distance, their time-weighted average heart rate), one row per <Activity>.
TCX_BY_HAND: dict[str, list[tuple[str, str, float, float, float | None]]] = {
    STRAVA_TCX: [("2009-02-21T12:57:26", "cycling", 8187.22, 64670.19, 136.9)],
    "tcx/GoldenCheetah/10kUNLP2014-Garmin15.tcx": [
        ("2014-10-11T18:08:45", "running", 2223.8, 10010.82, None)
    ],
    "tcx/Runalyze/Multiple-Trainings.tcx": [
        ("2012-01-19T10:30:21", "running", 3000.0, 9196.57, 155.0),
        ("2012-01-20T09:21:02", "running", 2084.59, 7236.49, 167.0),
        ("2012-01-22T14:10:39", "running", 3600.0, 11500.15, 155.0),
    ],
    "tcx/Runalyze/Standard.tcx": [("2011-07-10T09:47:00", "running", 6523.83, 22224.3, 145.1)],
    # Polar writes local times with their offset: 18:40:59+01:00 is 17:40:59 UTC.
    "tcx/Runalyze/Wrong-time-zone-by-polar.tcx": [
        ("2016-04-10T17:40:59", "running", 1923.0, 3643.0, None)
    ],
}


@pytest.mark.parametrize("rel", sorted(TCX_BY_HAND))
def test_tcx_values_match_the_file(corpus_run: CorpusRun, rel: str) -> None:
    with sqlite3.connect(corpus_run.db) as raw:
        stored = raw.execute(
            "SELECT start_utc, sport, timer_s, distance_m, avg_hr, source FROM activities "
            "WHERE source_path = ? ORDER BY start_utc",
            (str(corpus_run.corpus / rel),),
        ).fetchall()
    expected = TCX_BY_HAND[rel]
    assert len(stored) == len(expected)
    for (start, sport, timer, distance, avg_hr, source), row in zip(stored, expected, strict=True):
        assert source == "tcx"
        assert start.startswith(row[0])
        assert sport == row[1]
        assert timer == pytest.approx(row[2], abs=0.5)
        assert distance == pytest.approx(row[3], abs=0.5)
        if row[4] is not None:
            assert avg_hr == pytest.approx(row[4], abs=0.05)


def test_tcx_multisport_and_odd_files(corpus_run: CorpusRun) -> None:
    outcomes = corpus_run.outcomes()
    with sqlite3.connect(corpus_run.db) as raw:
        sports = [
            r[0]
            for r in raw.execute(
                "SELECT sport FROM activities WHERE source_path LIKE '%/Multisport.tcx' "
                "ORDER BY start_utc"
            )
        ]
        (samples,) = raw.execute(
            "SELECT s.n FROM activities a JOIN samples s ON s.activity_id = a.id "
            "WHERE a.source_path LIKE '%/First-point-empty.tcx'"
        ).fetchone()
    assert sports == ["cycling", "running", "cycling"]  # one activity per sport
    assert samples == 24  # a first trackpoint with only a time is still a sample
    assert outcomes["tcx/Runalyze/Route-only.tcx"] == {"failed"}  # a course, no activity
    assert (
        "error: "
        + str(corpus_run.corpus / "tcx/Runalyze/Route-only.tcx")
        + (": no activities (only courses, workouts or other data)")
        in corpus_run.first.stderr.splitlines()
    )


#: Fields that say how a file was read, not what it holds.
_NOT_COMPARED = {"samples", "decoder", "decoder_note"}


def test_files_spanning_days_and_contradicting_summaries(corpus_run: CorpusRun) -> None:
    """Issue 20: no real file is refused for lasting days; a clock jump is no pause; a
    summary its records contradict gives way to them, with a note."""
    stderr = corpus_run.first.stderr
    assert "implausible duration" not in stderr
    outcomes = corpus_run.outcomes()
    with sqlite3.connect(corpus_run.db) as raw:
        jumped = raw.execute(
            "SELECT start_utc, elapsed_s, round(distance_m), notes FROM activities "
            "WHERE source_path LIKE '%/Runalyze/time-jump.fit'"
        ).fetchall()
        (big,) = raw.execute(
            "SELECT elapsed_s, round(distance_m), notes FROM activities "
            "WHERE source_path LIKE '%/fit/big_activity.fit'"
        ).fetchall()
        split = raw.execute(
            "SELECT source_path, elapsed_s FROM activities WHERE notes LIKE '%spanning days%'"
        ).fetchall()
    # Runalyze's time-jump.fit: the records jump 20 days ahead and go on where they left
    # off, the session counted 56 minutes: one run on its own day, not two.
    assert "new" in outcomes["fit/Runalyze/time-jump.fit"]
    assert [row[:3] for row in jumped] == [("2017-02-22T09:04:45.000000Z", 3389.127, 10497.0)]
    # A synthetic file whose 1 Hz records run 27:46 h past a session of 8:34 h.
    assert big[0] == 99998.0 and big[1] == 32172.0
    assert big[2] == "summary duration 8:34 h contradicts the samples (27:46 h): samples kept"
    for _, elapsed in split:  # no corpus file spans days today; any that does is cut
        assert elapsed < 48 * 3600
