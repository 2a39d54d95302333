"""One history, three ways in: files, a Strava export, a Garmin export — one diagnosis.

End to end through the real ``heavylegs`` command on archives built from the sample
athlete's own files (tests/archive_builder.py), each into a real store.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.archive_builder import garmin_export, rows_for, sample_files, strava_export
from tests.conftest import SAMPLE, heavylegs_cli

#: Logged by hand in Strava (no file): a yoga session and a strength session.
MANUAL = ("2026-09-28-1900-yoga.fit", "2026-10-24-1700-strength.fit")
REPORT = ("report", "--since", "2026-09-28", "--until", "2026-11-22", "--format", "json")
#: Evidence only a Strava export can give (the files carry no perceived exertion).
EXPORT_ONLY = ("perceived_exertion", "weight_lifted_kg")


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml")}
    return heavylegs_cli(*args, env=env)


def imported(db: Path, *paths: Path) -> str:
    result = run(db, "import", *map(str, paths))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.strip()


def diagnosis(db: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The findings with activity ids replaced by local start times (ids depend on the
    order things arrived), and the activity listing."""
    listing = run(db, "activities", "--format", "json")
    assert listing.returncode == 0, listing.stderr
    activities = json.loads(listing.stdout)
    start = {a["id"]: a["start_local"] for a in activities}
    report = run(db, *REPORT)
    assert report.returncode == 0, report.stderr
    findings = json.loads(report.stdout)["findings"]
    for finding in findings:
        finding["activities"] = [start[i] for i in finding["activities"]]
    return findings, activities


def without_export_evidence(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**f, "evidence": {k: v for k, v in f["evidence"].items() if k not in EXPORT_ONLY}}
        for f in findings
    ]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("exports")
    files = sample_files()
    strava = strava_export(folder / "export_12345678.zip", rows_for(files, MANUAL))
    garmin = garmin_export(folder / "garmin-export.zip", files)
    return strava, garmin


def test_same_diagnosis_from_files_strava_export_garmin_export_and_all_three(
    tmp_path: Path, exports: tuple[Path, Path]
) -> None:
    strava, garmin = exports
    files = sample_files()
    n = len(files)
    members = n - len(MANUAL)

    assert imported(tmp_path / "files.sqlite", SAMPLE) == (
        f"{n} new, 0 already imported, 0 skipped, 0 failed"
    )
    # The files, the list (one more file), and the two manual activities from the list.
    assert imported(tmp_path / "strava.sqlite", strava) == (
        f"{members + 1} new ({n} activities), 0 already imported, 0 skipped, 0 failed"
    )
    # The settings and monitoring files among the uploads and the empty health-status
    # file are skipped, not failed.
    assert imported(tmp_path / "garmin.sqlite", garmin) == (
        f"{n} new, 0 already imported, 3 skipped, 0 failed"
    )
    together = tmp_path / "together.sqlite"
    imported(together, SAMPLE)
    # Every file from the export is the same activity again; the list adds no activity.
    assert imported(together, strava) == (
        f"1 new (0 activities), {members} already imported, 0 skipped, 0 failed"
    )
    assert imported(together, garmin) == f"0 new, {n} already imported, 3 skipped, 0 failed"

    expected, listing = diagnosis(tmp_path / "files.sqlite")
    assert len(listing) == n and expected
    seen = {
        name: diagnosis(tmp_path / f"{name}.sqlite") for name in ("strava", "garmin", "together")
    }
    for name, (findings, activities) in seen.items():
        assert [a["start_local"] for a in activities] == [a["start_local"] for a in listing]
        assert [a["category"] for a in activities] == [a["category"] for a in listing]
        assert without_export_evidence(findings) == expected, name

    # The export's weight and exertion reach the strength findings, whichever is primary.
    for name in ("strava", "together"):
        findings, activities = seen[name]
        strength = [f for f in findings if f["code"].startswith("strength-")]
        assert strength
        for finding in strength:
            assert finding["evidence"]["perceived_exertion"] == 7.0
            assert finding["evidence"]["weight_lifted_kg"] == 2450.5
        lifted = [a for a in activities if a["category"] == "strength"]
        assert all(a["weight_lifted_kg"] == 2450.5 for a in lifted)
        assert all(a["name"].startswith("Weight Training ") for a in lifted)
        # The file stays primary: its samples and sets are the richest copy.
        by_file = [a for a in lifted if not a["sources"][0].startswith("strava:")]
        assert len(by_file) == len(lifted) - (1 if name == "strava" else 0)


def test_export_records_keep_strava_ids_and_archive_paths(
    tmp_path: Path, exports: tuple[Path, Path]
) -> None:
    strava, garmin = exports
    db = tmp_path / "store.sqlite"
    imported(db, strava)
    listing = json.loads(run(db, "activities", "--format", "json").stdout)
    manual = [a for a in listing if a["sources"][0].startswith("strava:")]
    assert [a["start_local"][:16] for a in manual] == ["2026-09-28T19:00", "2026-10-24T17:00"]
    assert all(len(a["sources"]) == 1 and a["distance_m"] is None for a in manual)
    csv_path = f"{strava.resolve()}!activities.csv"
    assert manual[0]["sources"] == [f"strava:17000000001 ({csv_path})"]
    first_run = next(a for a in listing if a["category"] == "run")
    assert first_run["sources"] == [
        f"{strava.resolve()}!activities/17000000002.fit.gz",
        f"strava:17000000002 ({csv_path})",
    ]
    day = run(db, "activities", "--since", "2026-10-24", "--until", "2026-10-24").stdout
    assert "RPE 7," in day and "2450 kg" in day and "strava" in day  # wrapped at the comma

    # The watch's file arrives later (Garmin's export): it becomes the primary copy, the
    # hand-logged record joins it, and what the list said stays on the activity.
    imported(db, garmin)
    after = json.loads(run(db, "activities", "--format", "json").stdout)
    assert len(after) == len(listing)
    late = next(a for a in after if a["start_local"].startswith("2026-10-24T17:00"))
    # The exports number the sample's files in name order, from 1.
    number = 1 + [p.name for p in sample_files()].index("2026-10-24-1700-strength.fit")
    assert late["sources"][0].endswith(f"!someone@example.com_{9_000_000 + number}.fit")
    assert "!DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip!" in late["sources"][0]
    assert late["sources"][1] == f"strava:{17_000_000_000 + number} ({csv_path})"
    assert (late["perceived_exertion"], late["weight_lifted_kg"]) == (7.0, 2450.5)
    assert late["name"] == "Weight Training 2026-10-24-1700-strength"
    assert late["avg_hr"] is not None and late["hr_coverage"] == 1.0


def test_unpacked_exports_are_read_like_the_archives(
    tmp_path: Path, exports: tuple[Path, Path]
) -> None:
    strava, garmin = exports
    for archive in exports:
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(tmp_path / archive.stem)
    folder_db, zip_db = tmp_path / "folder.sqlite", tmp_path / "zip.sqlite"
    n = len(sample_files())
    members = n - len(MANUAL)
    assert imported(folder_db, tmp_path / strava.stem) == (
        f"{members + 1} new ({n} activities), 0 already imported, 0 skipped, 0 failed"
    )
    # In the unpacked Garmin export the uploads are still zipped, as Garmin ships them;
    # the two hand-logged activities arrive there as files (joining their Strava rows).
    assert imported(folder_db, tmp_path / garmin.stem) == (
        f"{len(MANUAL)} new, {members} already imported, 3 skipped, 0 failed"
    )
    imported(zip_db, strava, garmin)
    (from_folders, folder_list), (from_zips, zip_list) = diagnosis(folder_db), diagnosis(zip_db)
    assert from_folders == from_zips

    def essentials(listing: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        keys = ("start_local", "category", "name", "perceived_exertion", "weight_lifted_kg")
        return [(*tuple(a[k] for k in keys), len(a["sources"])) for a in listing]

    assert essentials(folder_list) == essentials(zip_list)
