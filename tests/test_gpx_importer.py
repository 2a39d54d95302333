"""GPX importer on real files written to disk: namespaces, sport, times, bad input."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import DecodeOptions, decode_file
from heavylegs_sync.model import Category, OffsetSource

START = datetime(2026, 10, 15, 5, 0, tzinfo=UTC)  # 07:00 in Berlin (CEST)


def gpx_text(
    *,
    speed: float = 3.0,
    seconds: int = 600,
    step: int = 1,
    sport: str | None = None,
    hr: str = "ns3",
    declare: bool = True,
    times: bool = True,
) -> str:
    """A GPX 1.1 track moving north at ``speed`` m/s, HR in a TrackPointExtension."""
    ns = (
        f' xmlns:{hr}="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"'
        if declare and hr
        else ""
    )
    points = []
    for i in range(0, seconds + 1, step):
        lat = 52.5 + (speed * i) / 111_195.0
        when = (START + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ext = ""
        if hr == "heartrate":
            ext = f"<extensions><heartrate>{140 + i % 5}</heartrate></extensions>"
        elif hr:
            ext = (
                f"<extensions><{hr}:TrackPointExtension><{hr}:hr>{140 + i % 5}</{hr}:hr>"
                f"<{hr}:cad>86</{hr}:cad></{hr}:TrackPointExtension></extensions>"
            )
        time_el = f"<time>{when}</time>" if times else ""
        points.append(f'<trkpt lat="{lat:.7f}" lon="13.4">{time_el}{ext}</trkpt>')
    type_el = f"<type>{sport}</type>" if sport else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"{ns}>'
        f"<trk><name>Test</name>{type_el}<trkseg>{''.join(points)}</trkseg></trk></gpx>"
    )


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def decode(path: Path, options: DecodeOptions) -> list:  # type: ignore[type-arg]
    return decode_file(path, path.read_bytes(), options)


def test_run_with_ns3_prefix_and_no_type(tmp_path: Path, options: DecodeOptions) -> None:
    (activity,) = decode(write(tmp_path, "run.gpx", gpx_text()), options)
    assert activity.category is Category.RUN
    assert activity.sport == "running" and activity.sport_inferred
    assert activity.start_utc == START
    assert activity.utc_offset_s == 7200 and activity.offset_source is OffsetSource.TIMEZONE
    assert activity.elapsed_s == 600
    assert activity.distance_m == pytest.approx(1800, rel=0.01)
    assert activity.samples is not None and activity.samples.hr is not None
    assert activity.samples.hr[:5].tolist() == [140, 141, 142, 143, 144]
    assert activity.samples.cadence is not None and activity.samples.cadence[0] == 86
    assert activity.avg_hr == pytest.approx(142.0, abs=0.1)


def test_undeclared_prefix_is_still_read(tmp_path: Path, options: DecodeOptions) -> None:
    text = gpx_text(hr="gpxtpx", declare=False)
    assert "xmlns:gpxtpx" not in text
    (activity,) = decode(write(tmp_path, "strava.gpx", text), options)
    assert activity.samples is not None and activity.samples.hr is not None
    assert np.isfinite(activity.samples.hr).all()


def test_bare_heartrate_element(tmp_path: Path, options: DecodeOptions) -> None:
    (activity,) = decode(write(tmp_path, "amazfit.gpx", gpx_text(hr="heartrate")), options)
    assert activity.max_hr == 144


@pytest.mark.parametrize(
    ("speed", "sport", "category"),
    [
        (1.3, "walking", Category.LIGHT),
        (3.2, "running", Category.RUN),
        (8.0, "cycling", Category.CROSS),
    ],
)
def test_sport_is_inferred_from_pace(
    tmp_path: Path, options: DecodeOptions, speed: float, sport: str, category: Category
) -> None:
    (activity,) = decode(write(tmp_path, "x.gpx", gpx_text(speed=speed)), options)
    assert (activity.sport, activity.category, activity.sport_inferred) == (sport, category, True)


def test_type_element_wins_over_inference(tmp_path: Path, options: DecodeOptions) -> None:
    # Strava writes numeric codes: 9 is Run, even at a walking pace.
    (activity,) = decode(write(tmp_path, "x.gpx", gpx_text(speed=1.3, sport="9")), options)
    assert activity.sport == "running"
    assert (activity.sport_raw, activity.category, activity.sport_inferred) == (
        "Run",
        Category.RUN,
        False,
    )


def test_setting_overrides_inference(tmp_path: Path) -> None:
    options = DecodeOptions(zone=__import__("zoneinfo").ZoneInfo("UTC"), gpx_sport="running")
    (activity,) = decode(write(tmp_path, "x.gpx", gpx_text(speed=8.0)), options)
    assert activity.category is Category.RUN and not activity.sport_inferred
    assert activity.utc_offset_s == 0


def test_gzipped_gpx(tmp_path: Path, options: DecodeOptions) -> None:
    path = write(tmp_path, "run.gpx.gz", gzip.compress(gpx_text().encode()))
    (activity,) = decode(path, options)
    assert activity.category is Category.RUN


def test_byte_order_mark(tmp_path: Path, options: DecodeOptions) -> None:
    path = write(tmp_path, "bom.gpx", b"\xef\xbb\xbf" + gpx_text().encode())
    (activity,) = decode(path, options)
    assert activity.start_utc == START


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"<html><body>502 Bad Gateway</body></html>", "not a GPX file"),
        (b'<?xml version="1.0"?><gpx version="1.1"><trk><trkseg>', "not valid XML"),
        (
            b'<?xml version="1.0"?><gpx version="1.1" creator="x"><metadata/></gpx>',
            "no timed track points",
        ),
    ],
)
def test_bad_gpx_fails_with_reason(
    tmp_path: Path, options: DecodeOptions, content: bytes, reason: str
) -> None:
    path = write(tmp_path, "bad.gpx", content)
    with pytest.raises(ImportFailed, match=reason) as caught:
        decode(path, options)
    assert caught.value.path == path
    assert "\n" not in str(caught.value)


def test_gpx_without_times_fails(tmp_path: Path, options: DecodeOptions) -> None:
    with pytest.raises(ImportFailed, match="no timed track points"):
        decode(write(tmp_path, "route.gpx", gpx_text(times=False)), options)


def test_bad_gzip_fails(tmp_path: Path, options: DecodeOptions) -> None:
    with pytest.raises(ImportFailed, match="gzip"):
        decode(write(tmp_path, "x.gpx.gz", b"not gzip at all"), options)


def test_whitespace_before_the_declaration_is_skipped(
    tmp_path: Path, options: DecodeOptions
) -> None:
    """expat refuses anything before ``<?xml``; exporters write newlines there."""
    path = write(tmp_path, "leading.gpx", "\n   \n" + gpx_text(sport="running"))
    (activity,) = decode_file(path, path.read_bytes(), options)
    assert activity.start_utc == START
