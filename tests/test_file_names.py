"""File names in any case: exports write ``.FIT``, ``.TCX.gz`` and ``.Gpx`` as often as ``.fit``."""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _gen_tcx import run_activity, write_tcx

from heavylegs_sync.importers import decode_path, is_importable, kind_of
from heavylegs_sync.importers.common import DecodeOptions
from heavylegs_sync.ingest import find_files
from tests.conftest import SAMPLE
from tests.test_watch import Service, count, gpx_run, wait_for

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.fit", (".fit", False)),
        ("A.FIT", (".fit", False)),
        ("run.Fit", (".fit", False)),
        ("b.fit.GZ", (".fit", True)),
        ("B.FIT.GZ", (".fit", True)),
        ("c.Gpx", (".gpx", False)),
        ("C.GPX.gz", (".gpx", True)),
        ("d.tcx", (".tcx", False)),
        ("D.TCX", (".tcx", False)),
        ("e.TCX.gz", (".tcx", True)),
        ("e.Tcx.Gz", (".tcx", True)),
        ("notes.txt", None),
        ("archive.GZ", None),
        ("fit", None),
        ("x.fitx", None),
    ],
)
def test_the_kind_comes_from_the_name_in_any_case(name: str, kind: tuple[str, bool] | None) -> None:
    assert kind_of(Path(name)) == kind
    assert is_importable(Path("folder") / name) is (kind is not None)


def test_a_folder_of_upper_case_names_is_found_and_decoded(
    tmp_path: Path, options: DecodeOptions
) -> None:
    fits = sorted(SAMPLE.glob("2026-10-0*.fit"))[:2]
    shutil.copy(fits[0], tmp_path / "MORNING.FIT")
    (tmp_path / "EVENING.FIT.GZ").write_bytes(gzip.compress(fits[1].read_bytes()))
    (tmp_path / "Walk.Gpx").write_text(gpx_run(0))
    (tmp_path / "RIDE.TCX.gz").write_bytes(gzip.compress(write_tcx([run_activity(START)]).encode()))
    (tmp_path / "README.TXT").write_text("not an activity")
    found = [path.name for path, problem in find_files([tmp_path]) if problem is None]
    assert found == ["EVENING.FIT.GZ", "MORNING.FIT", "RIDE.TCX.gz", "Walk.Gpx"]
    sources = [decode_path(tmp_path / name, options)[0].source for name in found]
    assert sources == ["fit", "fit", "tcx", "gpx"]


def test_the_watcher_takes_upper_case_names(tmp_path: Path) -> None:
    folder = tmp_path / "GARMIN" / "Activity"
    folder.mkdir(parents=True)
    service = Service(tmp_path, folder)
    run = run_activity(START + timedelta(days=1))
    (folder / "RUN.TCX").write_text(write_tcx([run], leading="\n  "))
    (folder / "Walk.GPX.GZ").write_bytes(gzip.compress(gpx_run(3).encode()))
    wait_for(lambda: count(tmp_path) == 2, 30, "both upper-case files")
    assert service.stop() == 0
    assert count(tmp_path, "source = 'tcx'") == 1
