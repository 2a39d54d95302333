"""Zip archives and Strava's activity list: caps, nesting, damage, languages — real files."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fit_tool.profile.profile_type import FileType

from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.importers.strava_export import parse_activities_csv
from heavylegs_sync.ingest import FileResult, ImportSummary, import_paths
from heavylegs_sync.model import Category
from heavylegs_sync.store import MIGRATIONS, SCHEMA_VERSION, Store
from tests.archive_builder import (
    activities_csv,
    non_activity_fit,
    rows_for,
    sample_files,
    strava_export,
)
from tests.conftest import BERLIN, SAMPLE, import_measuring_memory

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
RUN = SAMPLE / "2026-10-03-0800-run.fit"
MB = 1024 * 1024


def run_import(
    store: Store, *paths: Path, options: DecodeOptions | None = None
) -> tuple[ImportSummary, list[FileResult]]:
    results: list[FileResult] = []
    summary = import_paths(
        store, list(paths), options or DecodeOptions(zone=BERLIN), progress=results.append, now=NOW
    )
    return summary, results


def failures(results: list[FileResult]) -> list[str]:
    return [f"{r.shown}: {r.message}" for r in results if r.outcome == "failed"]


def nest(path: Path, depth: int, inner_name: str, inner: bytes) -> Path:
    """``a.zip!1.zip!2.zip!...!inner_name``: ``depth`` archives in all."""
    data, name = inner, inner_name
    for level in range(depth - 1, 0, -1):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, data)
        data, name = buffer.getvalue(), f"{level}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return path


def test_nested_archives_up_to_the_bound_and_one_line_beyond(tmp_path: Path, store: Store) -> None:
    ok = nest(tmp_path / "ok.zip", 4, "run.fit", RUN.read_bytes())
    deep = nest(tmp_path / "deep.zip", 5, "run.fit", RUN.read_bytes())
    summary, results = run_import(store, ok, deep)
    assert summary.line() == "1 new, 0 already imported, 0 skipped, 1 failed"
    (new,) = [r for r in results if r.outcome == "new"]
    assert new.shown == f"{ok}!1.zip!2.zip!3.zip!run.fit"
    assert store.activities()[0].source_path == f"{ok.resolve()}!1.zip!2.zip!3.zip!run.fit"
    assert failures(results) == [
        f"{deep}!1.zip!2.zip!3.zip!4.zip: zip archives nested more than 4 deep; not opened"
    ]


def test_member_and_total_caps(tmp_path: Path, store: Store) -> None:
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as opened:
        opened.writestr("a/run.fit", RUN.read_bytes())
        opened.writestr("a/huge.gpx", b"<gpx>" + b" " * (2 * MB))  # over the member cap
        for n in range(5):  # each under the member cap, together over the total
            opened.writestr(f"b/{n}.gpx", b"<gpx>" + bytes([65 + n]) * (MB - 100))
    options = DecodeOptions(zone=BERLIN, max_bytes=MB, max_archive_bytes=3 * MB)
    summary, results = run_import(store, archive, options=options)
    lines = failures(results)
    assert (
        f"{archive}!a/huge.gpx: larger than 1 MB once decompressed (setting [import] max_file_mb)"
    ) in lines
    # One line for the archive once the total is spent; the rest is not read.
    assert (
        f"{archive}!b/2.gpx: the archive inflates to more than 3 MB in all "
        "(setting [import] max_archive_mb); the rest of it was not read"
    ) in lines
    assert not any("b/3.gpx" in line or "b/4.gpx" in line for line in lines)
    assert summary.new == 1 and summary.failed == 4  # huge, b/0, b/1 (not GPX), the cap
    assert [a.source_path for a in store.activities()] == [f"{archive.resolve()}!a/run.fit"]


def test_damaged_and_foreign_archives_fail_in_one_line_and_the_batch_goes_on(
    tmp_path: Path, store: Store
) -> None:
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as opened:
        opened.writestr("run.fit", RUN.read_bytes())
    not_zip = tmp_path / "photos.zip"
    not_zip.write_bytes(b"PK\x03\x04 but nothing after")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[:-30])  # the central directory broken off
    crc = tmp_path / "crc.zip"
    data = bytearray(good.read_bytes())
    data[100] ^= 0xFF  # a byte of the stored member flipped
    crc.write_bytes(bytes(data))
    summary, results = run_import(store, not_zip, cut, crc, good)
    lines = failures(results)
    assert len(lines) == 3 and all("\n" not in line for line in lines)
    assert lines[0].startswith(f"{not_zip}: not a valid zip archive (")
    assert lines[1].startswith(f"{cut}: not a valid zip archive (")
    assert lines[2].startswith(f"{crc}!run.fit: damaged archive member (Bad CRC-32")
    assert summary.new == 1


def test_zip_bomb_takes_little_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as opened:
        with opened.open("activities/zeros.fit", "w", force_zip64=True) as member:
            chunk = bytes(MB)
            for _ in range(400):  # 400 MB of zeros in a few hundred KB
                member.write(chunk)
        opened.writestr("activities/run.fit", RUN.read_bytes())
    assert bomb.stat().st_size < 2 * MB
    config = tmp_path / "config.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\n[import]\nmax_file_mb = 50\n')
    result, peak_kb = import_measuring_memory(bomb, config, tmp_path / "store.sqlite")
    summary = result.stdout.strip()
    assert summary == "1 new, 0 already imported, 0 skipped, 1 failed", result.stderr
    assert result.stderr.splitlines() == [
        f"error: {bomb}!activities/zeros.fit: larger than 50 MB once decompressed "
        "(setting [import] max_file_mb)"
    ]
    assert peak_kb < 250 * 1024, f"peak RSS {peak_kb // 1024} MB"


def test_non_activity_fit_files_are_skipped_not_failed(tmp_path: Path, store: Store) -> None:
    (tmp_path / "Settings.fit").write_bytes(non_activity_fit(FileType.SETTINGS))
    (tmp_path / "course.FIT").write_bytes(non_activity_fit(FileType.COURSE))
    summary, results = run_import(store, tmp_path / "Settings.fit", tmp_path / "course.FIT", RUN)
    assert summary.line() == "1 new, 0 already imported, 2 skipped, 0 failed"
    assert [r.outcome for r in results] == ["skipped", "skipped", "new"]
    assert all("not an activity file" in (r.message or "") for r in results[:2])


def test_german_export_with_manual_activities(tmp_path: Path, store: Store) -> None:
    files = [SAMPLE / "2026-10-03-0800-run.fit", SAMPLE / "2026-10-15-0700-run.gpx"]
    files += [SAMPLE / "2026-10-16-1830-strength.fit", SAMPLE / "2026-10-19-1900-yoga.fit"]
    rows = rows_for(files, manual=(files[2].name, files[3].name))
    export = strava_export(tmp_path / "export_42.zip", rows, german=True)
    summary, results = run_import(store, export)
    assert summary.line() == "3 new (4 activities), 0 already imported, 0 skipped, 0 failed"
    assert [r.shown for r in results] == [
        f"{export}!activities/17000000001.fit.gz",
        f"{export}!activities/17000000002.gpx.gz",
        f"{export}!activities.csv",
    ]
    stored = store.activities()
    assert [a.category for a in stored] == [
        Category.RUN, Category.RUN, Category.STRENGTH, Category.LIGHT
    ]  # fmt: skip
    strength, yoga = stored[2], stored[3]
    assert (strength.source, strength.source_id) == ("strava", "17000000003")
    assert strength.sport == "strength_training"  # "Weight Training" in the one vocabulary
    assert strength.start_local.isoformat() == "2026-10-16T18:30:00+02:00"
    assert strength.elapsed_s == 2400.0 and strength.samples is None
    assert (strength.perceived_exertion, strength.weight_lifted_kg) == (7.0, 2450.5)
    assert yoga.sport == "yoga" and yoga.name == "Yoga 2026-10-19-1900-yoga"
    # The GPX run's distance came in German as "9,79" km and exactly in metres.
    gpx_run = stored[1]
    assert gpx_run.sources == ["gpx", "strava"]
    assert gpx_run.relative_effort == 12.0
    # A later Strava API sync recognises the hand-logged activities by their ids.
    summaries = [(17000000003, strength.start_utc, "{}"), (17000000004, yoga.start_utc, "{}")]
    assert store.queue_strava(summaries, "cursor") == 0


def test_english_dates_and_units_read_exactly(options: DecodeOptions) -> None:
    rows = rows_for([SAMPLE / "2026-10-14-0020-run.fit"])
    (activity,), warnings = parse_activities_csv(Path("a.csv"), activities_csv(rows), options)
    source = rows[0].activity
    assert warnings == []
    assert activity.start_utc == source.start_utc == datetime(2026, 10, 13, 22, 20, tzinfo=UTC)
    assert activity.start_local.isoformat() == "2026-10-14T00:20:00+02:00"
    assert activity.distance_m == pytest.approx(source.distance_m, abs=0.05)
    assert activity.elapsed_s == source.elapsed_s and activity.timer_s == source.timer_s
    assert activity.category is Category.RUN
    assert (activity.sport, activity.sport_raw) == ("running", "Run")
    text = "Activity ID,Activity Date,Activity Type,Elapsed Time,Distance,Filename\n"
    text += '1,"Jan 19, 2026, 11:30:00 PM",Weight Training,1800,"1,234.5",\n'
    text += '2,"Feb 30, 2026, 1:00:00 AM",Run,1800,5.0,\n'
    (old,), warnings = parse_activities_csv(Path("a.csv"), text.encode(), options)
    assert old.start_utc == datetime(2026, 1, 19, 23, 30, tzinfo=UTC)
    assert old.category is Category.STRENGTH and old.distance_m == 1_234_500.0
    assert warnings == ["row 3 left out: impossible date 'Feb 30, 2026, 1:00:00 AM'"]
    german = "Aktivitäts-ID,Aktivitätsdatum,Aktivitätsart,Verstrichene Zeit,Distanz,Dateiname\n"
    german += '5,"19.01.2026, 23:30:00",Lauf,3600,"10,5",\n'
    (row,), _ = parse_activities_csv(Path("a.csv"), german.encode(), options)
    assert row.start_utc == datetime(2026, 1, 19, 23, 30, tzinfo=UTC)
    assert (row.distance_m, row.elapsed_s) == (10_500.0, 3600.0)
    assert row.category is Category.RUN and (row.sport, row.sport_raw) == ("running", "Run")
    german = german.replace("19.01.2026", "19. Jan. 2026")
    (row,), _ = parse_activities_csv(Path("a.csv"), german.encode(), options)
    assert row.start_utc == datetime(2026, 1, 19, 23, 30, tzinfo=UTC)


def test_unknown_header_language_fails_naming_it(tmp_path: Path, store: Store) -> None:
    text = "Identifiant de l'activité,Date de l'activité,Type d'activité,Nom du fichier\n1,x,y,\n"
    folder = tmp_path / "export_7"
    folder.mkdir()
    (folder / "activities.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        parse_activities_csv(folder / "activities.csv", text.encode(), DecodeOptions(zone=BERLIN))
    assert "Identifiant de l'activité" in caught.value.reason
    summary, results = run_import(store, folder)
    assert summary.line() == "0 new, 0 already imported, 0 skipped, 1 failed"
    (line,) = failures(results)
    assert line.startswith(f"{folder / 'activities.csv'}: unknown Strava export header (")
    assert "English and German" in line and "\n" not in line


def test_a_strava_export_imported_twice_adds_nothing(tmp_path: Path, store: Store) -> None:
    files = sample_files()[:6]
    export = strava_export(tmp_path / "export_1.zip", rows_for(files, manual=(files[0].name,)))
    first, _ = run_import(store, export)
    assert first.line() == "6 new, 0 already imported, 0 skipped, 0 failed"
    again, _ = run_import(store, export)
    assert again.line() == "0 new, 6 already imported, 0 skipped, 0 failed"
    assert len(store.activities()) == 6


def test_a_file_and_the_same_file_in_an_archive_are_imported_once(tmp_path: Path) -> None:
    archive = tmp_path / "some.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as opened:
        opened.writestr("deep/inside/copy.FIT", RUN.read_bytes())
        opened.writestr("notes.txt", "not an activity")
    with Store.open(tmp_path / "a.sqlite") as store:
        assert run_import(store, RUN)[0].line() == "1 new, 0 already imported, 0 skipped, 0 failed"
        summary, results = run_import(store, archive)
        assert summary.line() == "0 new, 1 already imported, 0 skipped, 0 failed"
        assert results[0].message == f"already imported from {RUN}"
    with Store.open(tmp_path / "b.sqlite") as store:
        assert run_import(store, archive)[0].new == 1
        summary, results = run_import(store, RUN)
        assert summary.line() == "0 new, 1 already imported, 0 skipped, 0 failed"
        assert (
            results[0].message == f"already imported from {archive.resolve()}!deep/inside/copy.FIT"
        )
        log = store.import_log()
        assert [(e.path, e.outcome) for e in log] == [
            (str(RUN), "duplicate"), (f"{archive.resolve()}!deep/inside/copy.FIT", "new")
        ]  # fmt: skip


def test_an_original_we_cannot_read_fails_and_its_row_still_counts(
    tmp_path: Path, store: Store
) -> None:
    rows = rows_for([RUN])
    export = strava_export(tmp_path / "export_9.zip", rows)
    text = activities_csv(rows).decode().replace(".fit.gz", ".kmz")
    with zipfile.ZipFile(export, "w") as opened:  # the list names an original in a new format
        opened.writestr("activities.csv", text)
        opened.writestr("activities/17000000001.kmz", b"PK not read")
    summary, results = run_import(store, export)
    assert summary.line() == "1 new, 0 already imported, 0 skipped, 1 failed"
    assert failures(results) == [
        f"{export}!activities/17000000001.kmz: unsupported file type for an activity's "
        "original; the activity is stored from activities.csv alone"
    ]
    (stored,) = store.activities()
    assert (stored.source, stored.category, stored.distance_m) == (
        "strava",
        Category.RUN,
        rows[0].activity.distance_m and round(rows[0].activity.distance_m, 1),
    )
    # The same export unpacked: the original fails the same way, the row counts.
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(export) as opened:
        opened.extractall(folder)
    with Store.open(tmp_path / "other.sqlite") as other:
        summary, results = run_import(other, folder)
        assert summary.line() == "1 new, 0 already imported, 0 skipped, 1 failed"
        assert failures(results)[0].startswith(f"{folder}/activities/17000000001.kmz: unsupported")
        assert len(other.activities()) == 1


def test_strava_purge_keeps_an_imported_export(tmp_path: Path, store: Store) -> None:
    files = [SAMPLE / "2026-10-16-1830-strength.fit", SAMPLE / "2026-10-19-1900-yoga.fit"]
    rows = rows_for(files, manual=tuple(f.name for f in files))
    run_import(store, strava_export(tmp_path / "export_3.zip", rows))
    api = replace(rows[0].activity, source="strava", source_id="555", samples=None)
    api.start_utc += timedelta(days=3)
    assert store.add_strava(555, api, "{}") is not None
    assert len(store.activities()) == 3
    assert store.purge_source("strava") == 1  # what came from the API, not the export
    assert sorted(a.source_id for a in store.activities()) == ["17000000001", "17000000002"]


def test_migration_turns_old_non_activity_failures_into_skips(tmp_path: Path) -> None:
    from tests.test_readonly import old_store

    path = tmp_path / "old.sqlite"
    # A store from before the migration that brought the "skipped" outcome.
    old_store(path, next(i for i, script in enumerate(MIGRATIONS) if "import_log_6" in script))
    with sqlite3.connect(path) as raw:
        raw.executemany(
            "INSERT INTO import_log (at, path, sha256, outcome, message) VALUES (?, ?, ?, ?, ?)",
            [
                ("2026-01-01T00:00:00.000000Z", "/a/Settings.fit", "aa", "failed",
                 "not an activity file (FIT file type settings)"),
                ("2026-01-01T00:00:00.000000Z", "/a/bad.fit", "bb", "failed", "corrupt FIT file"),
            ],
        )  # fmt: skip
    with Store.open(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [(e.path, e.outcome) for e in store.import_log()] == [
            ("/a/bad.fit", "failed"), ("/a/Settings.fit", "skipped")
        ]  # fmt: skip
        assert store.failure_of("aa") == "not an activity file (FIT file type settings)"
        store.log("/a/other.fit", "cc", "skipped", "not an activity file (FIT file type course)")


def test_a_strava_export_with_fit_gpx_and_tcx_members(tmp_path: Path, store: Store) -> None:
    """Strava's export gzips every original: FIT, GPX and TCX (with its leading spaces)."""
    from _gen_tcx import run_activity, write_tcx

    tcx = tmp_path / "treadmill.tcx"
    start = datetime(2026, 10, 20, 5, 0, tzinfo=UTC)
    tcx.write_text(write_tcx([run_activity(start, minutes=30)], leading="   \n"))
    files = [SAMPLE / "2026-10-03-0800-run.fit", SAMPLE / "2026-10-15-0700-run.gpx", tcx]
    export = strava_export(tmp_path / "export_7.zip", rows_for(files))
    summary, results = run_import(store, export)
    assert failures(results) == []
    assert summary.line() == "4 new (3 activities), 0 already imported, 0 skipped, 0 failed"
    assert f"{export}!activities/17000000003.tcx.gz" in [r.shown for r in results]
    stored = store.activities()
    assert [sorted(a.sources) for a in stored] == [
        ["fit", "strava"], ["gpx", "strava"], ["strava", "tcx"]
    ]  # fmt: skip
    (from_tcx,) = [a for a in stored if "tcx" in a.sources]
    assert from_tcx.start_utc == start and from_tcx.category is Category.RUN
