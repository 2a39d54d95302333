"""Strava- and Garmin-export-shaped archives built from the sample athlete's real files.

The files inside are the bundled FIT and GPX files themselves (gzipped as Strava does);
the list's values (start, times, distance) are the ones those files decode to, as Strava
would have computed them from the same upload.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.profile_type import FileType, Manufacturer

from heavylegs_sync.importers import DecodeOptions, decode_path
from heavylegs_sync.model import Activity, Category
from tests.conftest import BERLIN, SAMPLE

#: A recent English header, with Strava's repeated names (and columns we do not read).
ENGLISH = [
    "Activity ID", "Activity Date", "Activity Name", "Activity Type", "Activity Description",
    "Elapsed Time", "Distance", "Max Heart Rate", "Relative Effort", "Commute",
    "Activity Private Note", "Activity Gear", "Filename", "Athlete Weight", "Bike Weight",
    "Elapsed Time", "Moving Time", "Distance", "Max Speed", "Average Speed", "Elevation Gain",
    "Average Heart Rate", "Calories", "Relative Effort", "Perceived Exertion",
    "Total Weight Lifted", "From Upload",
]  # fmt: skip
#: Strava's German header of the same columns (as German exports spell them).
GERMAN = [
    "Aktivitäts-ID", "Aktivitätsdatum", "Name der Aktivität", "Aktivitätsart",
    "Aktivitätsbeschreibung", "Verstrichene Zeit", "Distanz", "Max. Herzfrequenz",
    "Relative Leistung", "Pendeln", "Hinweis zur Privatsphäre für Aktivitäten",
    "Aktivitätsausrüstung", "Dateiname", "Sportlergewicht", "Fahrradgewicht",
    "Verstrichene Zeit", "Bewegungszeit", "Distanz", "Höchstgeschw.",
    "Durchschnittliche Geschwindigkeit", "Höhenzunahme", "Durchschnittliche Herzfrequenz",
    "Kalorien", "Relative Leistung", "Gefühlte Anstrengung", "Insgesamt gestemmtes Gewicht",
    "Von Upload",
]  # fmt: skip
DISPLAY_TYPE = {
    Category.RUN: "Run",
    Category.STRENGTH: "Weight Training",
    Category.LIGHT: "Yoga",
    Category.CROSS: "Ride",
}


@dataclass(frozen=True)
class Row:
    """One activity of the export: its Strava id, the file (None: manual) and metadata."""

    strava_id: int
    activity: Activity
    source: Path | None
    name: str
    perceived_exertion: float | None = None
    weight_lifted_kg: float | None = None
    relative_effort: float | None = None


def sample_files() -> list[Path]:
    """The sample athlete's activity files, in name order."""
    return sorted(p for p in SAMPLE.iterdir() if p.suffix in (".fit", ".gpx"))


def decoded(path: Path) -> Activity:
    """What the file decodes to (one activity per sample file)."""
    (activity,) = decode_path(path, DecodeOptions(zone=BERLIN))
    return activity


def rows_for(files: Sequence[Path], manual: Sequence[str] = ()) -> list[Row]:
    """One row per file; files named in ``manual`` become manual activities (no file)."""
    rows = []
    for number, path in enumerate(files, start=1):
        activity = decoded(path)
        strength = activity.category is Category.STRENGTH
        rows.append(
            Row(
                strava_id=17_000_000_000 + number,
                activity=activity,
                source=None if path.name in manual else path,
                name=f"{DISPLAY_TYPE[activity.category]} {path.stem}",
                perceived_exertion=7.0 if strength else None,
                weight_lifted_kg=2450.5 if strength else None,
                relative_effort=float(10 + number),
            )
        )
    return rows


def member_name(row: Row) -> str:
    """``activities/<id>.fit.gz`` as Strava names the original upload."""
    assert row.source is not None
    return f"activities/{row.strava_id}{row.source.suffix}.gz"


def activities_csv(rows: Sequence[Row], *, german: bool = False) -> bytes:
    """Strava's ``activities.csv`` for these rows, in English or German."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GERMAN if german else ENGLISH)
    for row in rows:
        a = row.activity
        elapsed = a.elapsed_s or a.timer_s or 0.0
        km = (a.distance_m or 0.0) / 1000.0
        start = a.start_utc
        if german:
            date = f"{start:%d.%m.%Y, %H:%M:%S}"  # as German exports write it
            km_text = f"{km:.2f}".replace(".", ",")
        else:
            date = f"{start:%b} {start.day}, {start:%Y}, {start:%I:%M:%S %p}".replace(" 0", " ")
            km_text = f"{km:.2f}"
        effort = "" if row.relative_effort is None else f"{row.relative_effort:g}"
        writer.writerow(
            [
                row.strava_id, date, row.name, DISPLAY_TYPE[a.category], "", f"{elapsed:.0f}",
                km_text, f"{a.max_hr or ''}", effort, "false", "", "",
                "" if row.source is None else member_name(row), "70.0", "",
                f"{elapsed:.1f}", f"{a.timer_s or elapsed:.1f}", f"{a.distance_m or 0.0:.1f}",
                "", "", "", f"{a.avg_hr or ''}", "500", effort,
                "" if row.perceived_exertion is None else f"{row.perceived_exertion:g}",
                "" if row.weight_lifted_kg is None else f"{row.weight_lifted_kg:g}",
                "1" if row.source is not None else "0",
            ]
        )  # fmt: skip
    return out.getvalue().encode()


def strava_export(target: Path, rows: Sequence[Row], *, german: bool = False) -> Path:
    """``export_NNN.zip``: the list, the gzipped originals, and things that are no activity."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("activities.csv", activities_csv(rows, german=german))
        for row in rows:
            if row.source is not None:
                data = gzip.compress(row.source.read_bytes(), mtime=0)
                archive.writestr(member_name(row), data, zipfile.ZIP_STORED)
        # A route is a GPX too, but not an activity; nor is the rest.
        archive.writestr("routes/1234.gpx", (SAMPLE / "2026-10-15-0700-run.gpx").read_bytes())
        archive.writestr("profile.csv", "Athlete ID,Email Address\n1,someone@example.com\n")
        archive.writestr("media/abc.jpg", b"\xff\xd8\xff\xe0 not really a photo")
        archive.writestr("clubs.csv", "Club Name\nRunners\n")
    return target


def non_activity_fit(kind: FileType) -> bytes:
    """A well-formed FIT file of another type (settings, monitoring ...)."""
    builder = FitFileBuilder(auto_define=True, min_string_size=0)
    file_id = FileIdMessage()
    file_id.type = kind
    file_id.manufacturer = Manufacturer.GARMIN.value
    file_id.serial_number = 3951234567
    file_id.time_created = 1_790_000_000_000
    builder.add(file_id)
    data: bytes = builder.build().to_bytes()
    return data


def garmin_export(target: Path, files: Sequence[Path]) -> Path:
    """A Garmin Connect data export: the originals in a zip inside the zip, and much else."""
    uploads = io.BytesIO()
    with zipfile.ZipFile(uploads, "w", zipfile.ZIP_DEFLATED) as inner:
        for number, path in enumerate(files, start=1):
            name = f"someone@example.com_{9_000_000 + number}{path.suffix}"
            inner.writestr(name, path.read_bytes())
        inner.writestr("someone@example.com_1.fit", non_activity_fit(FileType.SETTINGS))
        inner.writestr("someone@example.com_2.fit", non_activity_fit(FileType.MONITORING_B))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        base = "DI_CONNECT/"
        archive.writestr(
            base + "DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip", uploads.getvalue()
        )
        archive.writestr(base + "DI-Connect-Fitness/someone_0_summarizedActivities.json", "[]")
        # A health-status file of a watch without HRV: no wellness day in it, skipped.
        archive.writestr(base + "DI-Connect-Wellness/2026_healthStatusData.json", "[]")
        # A FIT file outside the uploads (a course): not an activity, not even looked at.
        archive.writestr(base + "DI-Connect-Fitness/course.fit", b"not read at all")
        archive.writestr("customer_data/readme.txt", "hello")
    return target
