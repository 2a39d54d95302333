"""The GPX reader held to gpxpy, the reference, as the fast FIT path is held to fitparse.

On every GPX in $HEAVYLEGS_CORPUS both readers must give the same points (times to the
microsecond, latitude, longitude, elevation, heart rate and cadence from extensions), the
same tracks and the same verdict, and ``--decoder reference`` must import the same
activities. The differences that remain are deliberate and listed in :data:`DELIBERATE`
(docs/import.md says why); a difference not listed, or a listed one that went away,
fails.
"""

from __future__ import annotations

import gzip
import sqlite3
from dataclasses import fields
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import DecodeOptions, Decoder, decode_file
from heavylegs_sync.importers.gpx_read import GpxPoints, read_gpx
from heavylegs_sync.importers.gpx_reference import read_gpx_reference
from heavylegs_sync.model import Activity
from tests.conftest import FILES, SAMPLE, corpus_dir, heavylegs_cli

#: Corpus file -> what differs, and why it is meant to.
DELIBERATE = {
    # A track point without coordinates: the streaming reader leaves the point out (it
    # cannot be placed; the others are fine), gpxpy refuses the whole file.
    "gpx/Runalyze/standard.gpx": "verdict",
    # GPX 1.0 has no track <type>, so gpxpy does not read it; the streaming reader reads
    # it in any version, as a sport hint.
    "gpx/gpxpy/korita-zbevnica.gpx": "tracks",
}
_COLUMNS = ("lat", "lon", "elevation", "hr", "cadence")


def gpx_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.name.lower().endswith((".gpx", ".gpx.gz")))


def content(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.lower().endswith(".gz") else data


def read(reader: object, path: Path, data: bytes) -> GpxPoints | str:
    try:
        return reader(path, data)  # type: ignore[operator,no-any-return]
    except ImportFailed as exc:
        return exc.reason


def differences(fast: GpxPoints | str, reference: GpxPoints | str) -> list[str]:
    """What differs between the two readings of one file (empty: nothing)."""
    if isinstance(fast, str) or isinstance(reference, str):
        return [] if isinstance(fast, str) and isinstance(reference, str) else ["verdict"]
    found = []
    if fast.times != reference.times:
        found.append("times")
    for name in _COLUMNS:
        if not np.array_equal(getattr(fast, name), getattr(reference, name), equal_nan=True):
            found.append(name)
    if [(t.name, t.type) for t in fast.tracks] != [(t.name, t.type) for t in reference.tracks]:
        found.append("tracks")
    if (fast.name, fast.creator) != (reference.name, reference.creator):
        found.append("name")
    return found


def test_the_reader_equals_gpxpy_point_by_point_on_every_corpus_gpx() -> None:
    corpus = corpus_dir()
    files = gpx_files(corpus)
    assert len(files) >= 45
    found: dict[str, str] = {}
    points = 0
    for path in files:
        data = content(path)
        fast, reference = read(read_gpx, path, data), read(read_gpx_reference, path, data)
        if isinstance(fast, GpxPoints):
            points += len(fast.times)
        diff = differences(fast, reference)
        if diff:
            found[str(path.relative_to(corpus))] = ", ".join(diff)
    assert found == DELIBERATE
    assert points > 30_000  # the comparison saw real tracks, not only empty files


def _comparable(activity: Activity) -> dict[str, object]:
    values = {f.name: getattr(activity, f.name) for f in fields(activity)}
    samples = values.pop("samples")
    values.pop("decoder")
    if samples is not None:
        for name in ("t", "hr", "speed", "distance", "cadence"):
            column = getattr(samples, name)
            values[f"samples.{name}"] = None if column is None else column.tobytes()
    return values


def test_reference_decoding_imports_the_same_activities() -> None:
    corpus = corpus_dir()
    compared = 0
    for path in gpx_files(corpus):
        rel = str(path.relative_to(corpus))
        if rel in DELIBERATE:
            continue
        data = path.read_bytes()
        outcomes = []
        for decoder in (Decoder.AUTO, Decoder.REFERENCE):
            options = DecodeOptions(zone=ZoneInfo("Europe/Berlin"), decoder=decoder)
            try:
                outcomes.append([_comparable(a) for a in decode_file(path, data, options)])
            except ImportFailed as exc:
                outcomes.append([{"failed": True, "bad_gpx": "GPX" in exc.reason}])
        fast, reference = outcomes
        if fast and "failed" in fast[0]:
            assert "failed" in reference[0], rel  # both refuse, each in its own words
            continue
        assert fast == reference, rel
        compared += 1
    assert compared >= 25


def test_import_with_the_reference_decoder_records_gpxpy(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml")}
    files = [str(FILES / "strava-style.gpx"), str(FILES / "run.gpx.gz")]
    done = heavylegs_cli("import", "--decoder", "reference", *files, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2 new, 0 already imported, 0 skipped, 0 failed"
    with sqlite3.connect(db) as raw:
        decoders = raw.execute("SELECT decoder FROM activities ORDER BY id").fetchall()
    assert decoders == [("gpxpy",), ("gpxpy",)]
    not_gpx = FILES / "not-xml.gpx"
    done = heavylegs_cli("import", "--decoder", "reference", str(not_gpx), env=env)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {not_gpx}: not valid GPX (gpxpy): Error parsing XML")


@pytest.mark.parametrize(
    ("declared", "expected"),
    [('version="1.1" xmlns="http://www.topografix.com/GPX/1/1"', 150.0), ('version="1.0"', None)],
)
def test_points_labelled_1_0_in_the_1_1_namespace_keep_their_heart_rate(
    tmp_path: Path, declared: str, expected: float | None
) -> None:
    """sportractive labels 1.1 content as version 1.0: the namespace decides for gpxpy."""
    text = (
        f'<?xml version="1.0"?><gpx {declared.replace("1.1", "1.0", 1)} creator="t"'
        ' xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        '<trk><trkseg><trkpt lat="52.5" lon="13.4"><time>2026-10-01T05:00:00Z</time>'
        "<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>150</gpxtpx:hr>"
        "</gpxtpx:TrackPointExtension></extensions></trkpt></trkseg></trk></gpx>"
    ).encode()
    points = read_gpx_reference(tmp_path / "x.gpx", text)
    assert isinstance(points, GpxPoints)
    hr = points.hr[0]
    assert (None if np.isnan(hr) else float(hr)) == expected
    assert float(read_gpx(tmp_path / "x.gpx", text).hr[0]) == 150.0  # the reader: always
