"""A small run of the benchmark harness: it works end to end (figures live in bench/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import fitparse

from bench.generate import generate
from tests.conftest import ROOT


def test_generated_history_is_read_by_fitparse(tmp_path: Path) -> None:
    files = generate(tmp_path, activities=12, seed=3)
    assert len(files) == 12
    assert files == sorted(files)
    again = generate(tmp_path / "again", activities=12, seed=3)
    assert [p.read_bytes() for p in files] == [p.read_bytes() for p in again]  # deterministic
    for path in files:
        fit = fitparse.FitFile(str(path))  # checks the CRCs too
        (session,) = list(fit.get_messages("session"))
        records = list(fit.get_messages("record"))
        assert session.get_value("sport") in ("running", "cycling", "training")
        assert records and records[-1].get_value("timestamp") == session.get_value("timestamp")


def test_benchmark_smoke_run(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--activities", "15", "--workers", "2",
         "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    names = [f["name"] for f in figures["figures"]]
    assert names[0] == "first import" and "one new file + affected weeks" in names
    assert figures["files"] == 14 and figures["samples"] > 10_000
    assert "bare fitparse on the same files" in result.stdout
