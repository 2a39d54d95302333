"""heavylegs_sync.api: the store as DataFrames, and the notebook in docs/ executed."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from heavylegs_sync import api
from heavylegs_sync.config import load_settings
from heavylegs_sync.diagnosis import analyse_store
from heavylegs_sync.errors import StoreError
from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.ingest import import_paths
from heavylegs_sync.report.json import to_dict
from heavylegs_sync.store import Store
from tests.conftest import BERLIN, ROOT, SAMPLE
from tests.test_store import make_activity

CONFIG = SAMPLE / "heavylegs.toml"
SINCE, UNTIL = "2026-09-28", "2026-11-22"
FILES = [p for p in SAMPLE.iterdir() if p.suffix in (".fit", ".gpx")]


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api") / "heavylegs.sqlite"
    with Store.open(path) as store:
        assert import_paths(store, [SAMPLE], DecodeOptions(zone=BERLIN)).failed == 0
    return path


def report_data(db: Path) -> dict[str, object]:
    settings = load_settings(config=CONFIG, db=db)
    with Store.open(db, read_only=True) as store:
        return to_dict(analyse_store(store, settings, date(2026, 11, 22), date(2026, 9, 28)))


def test_activities(sample_db: Path) -> None:
    frame = api.activities(sample_db, config=CONFIG)
    assert len(frame) == len(FILES) and frame.index.name == "id"
    utc = frame["start_utc"].dtype
    assert isinstance(utc, pd.DatetimeTZDtype) and str(utc.tz) == "UTC"
    assert pd.api.types.is_datetime64_dtype(frame["local_date"])
    assert set(frame["category"]) == {"run", "strength", "light", "cross"}
    assert set(frame["sport"]) == {"running", "strength_training", "yoga", "cycling"}
    day = api.activities(sample_db, since="2026-10-14", until=date(2026, 10, 14), config=CONFIG)
    # The run at 00:20 Berlin time belongs to Wednesday, though it is Tuesday in UTC.
    assert "00:20:00" in set(day["local_time"])
    assert day["start_utc"].min() < pd.Timestamp("2026-10-14", tz="UTC")
    with Store.open(sample_db, read_only=True) as store:
        assert api.activities(store).equals(frame)


def test_a_missing_store_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store here yet"):
        api.activities(tmp_path / "nothing.sqlite")
    assert list(tmp_path.iterdir()) == []


def test_samples(sample_db: Path) -> None:
    frame = api.activities(sample_db, config=CONFIG)
    run_id = int(frame.index[frame["category"] == "run"][0])
    samples = api.samples(run_id, sample_db, config=CONFIG)
    with Store.open(sample_db, read_only=True) as store:
        stored = store.samples(run_id)
        start = store.start_of(run_id)
    assert stored is not None and stored.hr is not None and start is not None
    assert list(samples.columns) == ["t_s", "time", "hr", "speed", "distance", "cadence"]
    assert len(samples) == len(stored)
    assert samples["hr"].to_numpy() == pytest.approx(stored.hr, nan_ok=True)
    first = pd.Timestamp(start) + pd.Timedelta(seconds=float(stored.t[0]))
    assert samples["time"].iloc[0] == first
    with pytest.raises(api.ActivityNotFound, match="no activity with id 999999"):
        api.samples(999999, sample_db, config=CONFIG)
    with pytest.raises(LookupError):
        api.samples(999999, sample_db, config=CONFIG)


def test_samples_of_an_activity_without_any(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        activity = make_activity()
        activity.samples = None
        new_id = store.add_activity(activity)
    assert new_id is not None
    empty = api.samples(new_id, tmp_path / "s.sqlite")
    assert empty.empty and list(empty.columns)[:2] == ["t_s", "time"]


def test_weeks_and_findings_are_the_report(sample_db: Path) -> None:
    data = report_data(sample_db)
    weeks = api.weeks(sample_db, SINCE, UNTIL, config=CONFIG)
    assert [d.date().isoformat() for d in weeks.index] == [
        w["week_start"]
        for w in data["weeks"]  # type: ignore[attr-defined]
    ]
    assert list(weeks["run_seconds"]) == [w["run_seconds"] for w in data["weeks"]]  # type: ignore[attr-defined]
    assert weeks.loc["2026-10-05", "rest_days"] == 0
    findings = api.findings(sample_db, SINCE, UNTIL, config=CONFIG)
    expected = data["findings"]
    assert list(findings["code"]) == [f["code"] for f in expected]  # type: ignore[attr-defined]
    assert set(findings["cause"]) == {1, 2, 5, 6, 10}  # 10: the sample's wellness.csv
    assert pd.api.types.is_datetime64_dtype(findings["week_start"])
    with pytest.raises(ValueError, match="is after"):
        api.weeks(sample_db, UNTIL, SINCE, config=CONFIG)
    with pytest.raises(ValueError, match="not a date"):
        api.findings(sample_db, "last week", config=CONFIG)


def test_pandas_is_imported_only_when_used() -> None:
    code = "import sys, heavylegs_sync.api, heavylegs_sync.cli; print('pandas' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert result.stdout.strip() == "False"


def test_the_notebook_example_runs(
    sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbclient = pytest.importorskip("nbclient")  # in the dev extra
    import nbformat

    monkeypatch.setenv("HEAVYLEGS_DB", str(sample_db))
    monkeypatch.setenv("HEAVYLEGS_CONFIG", str(CONFIG))
    notebook = nbformat.read(  # type: ignore[no-untyped-call]
        ROOT / "docs" / "notebook-example.ipynb", as_version=4
    )
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []  # only what this run prints counts
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # raises CellExecutionError on any error
    outputs = [
        "".join(o.get("data", {}).get("text/plain", o.get("text", "")) for o in cell.outputs)
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]
    causes = Counter(f["cause"] for f in report_data(sample_db)["findings"])  # type: ignore[attr-defined]
    last = {int(k): int(v) for k, v in (line.split() for line in outputs[-1].splitlines()[1:-1])}
    assert last == dict(causes)
    assert "strength_training" in outputs[0] and "2026-W41    52.1" in outputs[2]
