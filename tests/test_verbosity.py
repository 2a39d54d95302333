"""Global -v/-q: quiet by default for unattended runs, one summary line, no per-file noise."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from heavylegs_sync.logs import NOTICE, level_for
from tests.conftest import FILES, SAMPLE, heavylegs_cli

#: The sample athlete's planted week without a rest day, Monday 5 to Sunday 11 October 2026
#: (fixtures/sample-athlete/EXPECTED.md, W2): nine files, six runs with heart rate.
WEEK = sorted(p for p in SAMPLE.glob("*.fit") if "2026-10-05" <= p.name[:10] <= "2026-10-11")


def cli(
    tmp_path: Path, *args: str, config: Path = SAMPLE / "heavylegs.toml"
) -> subprocess.CompletedProcess[str]:
    env = {"HEAVYLEGS_DB": str(tmp_path / "store.sqlite"), "HEAVYLEGS_CONFIG": str(config)}
    return heavylegs_cli(*args, env=env)


@pytest.mark.parametrize(
    ("verbosity", "level"), [(-5, 40), (-2, 40), (-1, 30), (0, NOTICE), (1, 20), (2, 10), (9, 10)]
)
def test_levels(verbosity: int, level: int) -> None:
    assert level_for(verbosity) == level


def test_quiet_import_says_nothing_on_success(tmp_path: Path) -> None:
    result = cli(tmp_path, "-q", "import", str(WEEK[0]))
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    loud = cli(tmp_path, "import", str(WEEK[1]))
    assert loud.stdout == "1 new, 0 already imported, 0 skipped, 0 failed\n"


def test_quiet_import_still_reports_failures(tmp_path: Path) -> None:
    result = cli(tmp_path, "-q", "import", str(WEEK[0]), str(FILES / "bad-crc.fit"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "bad-crc.fit: corrupt FIT file" in result.stderr
    assert result.stdout == "1 new, 0 already imported, 0 skipped, 1 failed\n"


def inbox_with(tmp_path: Path, files: list[Path]) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    for path in files:
        shutil.copy(path, inbox / path.name)
    return inbox


def watch_once(
    tmp_path: Path, inbox: Path, *args: str, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    (*before,) = (a for a in args if a.startswith("-") and a in ("-v", "-vv", "-q"))
    after = [a for a in args if a not in before]
    return cli(tmp_path, *before, "watch", str(inbox), "--once", "--settle", "0.2", *after,
               config=config or SAMPLE / "heavylegs.toml")  # fmt: skip


def test_watcher_restart_logs_one_line_not_one_per_file(tmp_path: Path) -> None:
    inbox = inbox_with(tmp_path, WEEK)
    first = watch_once(tmp_path, inbox)
    assert first.returncode == 0, first.stderr
    n = len(WEEK)
    assert f"NOTICE {n} new, 0 already imported, 0 skipped, 0 failed" in first.stderr
    assert "INFO" not in first.stderr  # no line per file by default
    again = watch_once(tmp_path, inbox)
    assert again.returncode == 0, again.stderr
    assert again.stderr.splitlines() == [f"NOTICE 0 new, {n} already imported, 0 skipped, 0 failed"]
    debug = watch_once(tmp_path, inbox, "-vv")
    assert debug.stderr.count("DEBUG already imported: ") == n


def test_watch_v_is_the_global_v(tmp_path: Path) -> None:
    inbox = inbox_with(tmp_path, WEEK[:2])
    local = cli(tmp_path, "watch", str(inbox), "--once", "--settle", "0.2", "-v")
    assert local.returncode == 0, local.stderr
    assert local.stderr.count("INFO imported ") == 2
    shutil.copy(WEEK[2], inbox / WEEK[2].name)
    global_ = cli(tmp_path, "-v", "watch", str(inbox), "--once", "--settle", "0.2")
    assert global_.stderr.count("INFO imported ") == 1
    assert "DEBUG" not in global_.stderr
    both = cli(tmp_path, "-v", "watch", str(inbox), "--once", "--settle", "0.2", "-v")
    assert both.stderr.count("DEBUG already imported: ") == 3  # -v twice is -vv


def test_quiet_watch_keeps_failures_and_findings_only(tmp_path: Path) -> None:
    inbox = inbox_with(tmp_path, [*WEEK, FILES / "bad-crc.fit"])
    result = watch_once(tmp_path, inbox, "-q")
    assert result.returncode == 1
    lines = [x for x in result.stderr.splitlines() if not x.startswith("WARNING finding:")]
    assert len(lines) == 1
    assert lines[0].startswith(f"ERROR {inbox / 'bad-crc.fit'}: corrupt FIT file")
    assert "WARNING finding:" in result.stderr


def test_first_burst_without_zones_does_not_skip_the_analysis(tmp_path: Path) -> None:
    """No max HR configured: zones come from the runs. Without the burst's own files there is
    nothing to estimate them from; that must not hide the burst's findings."""
    config = tmp_path / "no-zones.toml"
    config.write_text('[athlete]\ntimezone = "Europe/Berlin"\n')
    inbox = inbox_with(tmp_path, WEEK)
    report = tmp_path / "report.txt"
    result = watch_once(tmp_path, inbox, "--report", str(report), config=config)
    assert result.returncode == 0, result.stderr
    assert "analysis skipped" not in result.stderr
    assert "report not written" not in result.stderr
    assert report.is_file()
    # The week of 2026-10-05 has no rest day (planted): the first burst brings that finding.
    assert len(WEEK) == 9
    assert "WARNING finding: week of 2026-10-05, cause 1" in result.stderr


def test_the_summary_fits_80_columns_broken_between_its_counts(tmp_path: Path) -> None:
    """The README's own first import (wellness files and three-digit counts) at 80
    columns: every line fits, no count is broken ("0 failed" stays whole), the rest is
    indented, and the lines read as the one summary line a wider terminal prints."""
    env = {
        "HEAVYLEGS_DB": str(tmp_path / "store.sqlite"),
        "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
        "COLUMNS": "80",
    }
    done = heavylegs_cli("import", str(SAMPLE), env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines), lines
    assert lines[1] == "  0 failed"
    assert " ".join(line.strip() for line in lines) == (
        "69 new (68 activities, 112 wellness days), 0 already imported, 0 skipped, 0 failed"
    )


LONG_SUMMARY = (
    "1,234 new (1,200 activities, 340 wellness days), 12,345 already imported, 17 skipped,"
    " 11 failed, 12 rows left out"
)


def test_a_summary_stays_one_line_for_cron_and_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off a terminal and without COLUMNS (cron, systemd, a pipe) the summary is the one
    line the README promises, however long; at COLUMNS it is broken between counts, each
    line within the width."""
    from heavylegs_sync.cli import _fitted

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.delenv("COLUMNS", raising=False)
    assert _fitted(LONG_SUMMARY) == LONG_SUMMARY
    monkeypatch.setenv("COLUMNS", "80")
    lines = _fitted(LONG_SUMMARY).splitlines()
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines), lines
    assert lines[0].endswith("already imported,")
    assert lines[1] == "  17 skipped, 11 failed, 12 rows left out"
    assert " ".join(line.strip() for line in lines) == LONG_SUMMARY
