"""``-o FILE`` picks the format from the suffix unless ``--format`` says otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heavylegs_sync.output import OutputFormatError, choose_format
from tests.conftest import copy_sample
from tests.test_cli import run

BOTH = ("text", "json")


@pytest.mark.parametrize(
    ("output", "explicit", "expected"),
    [
        (None, None, "text"),
        ("r.json", None, "json"),
        ("R.JSON", None, "json"),
        ("r.txt", None, "text"),
        ("r", None, "text"),  # no suffix: the default
        ("r.md", None, "text"),  # a suffix no format claims: the default
        ("r.json", "text", "text"),  # --format wins
        ("r.html", "json", "json"),
        (None, "json", "json"),
    ],
)
def test_choose_format(output: str | None, explicit: str | None, expected: str) -> None:
    assert choose_format(None if output is None else Path(output), explicit, BOTH) == expected


def test_a_suffix_the_command_cannot_write_is_an_error() -> None:
    with pytest.raises(OutputFormatError, match=r"r\.html: HTML output is not supported yet"):
        choose_format(Path("r.html"), None, BOTH)
    with pytest.raises(OutputFormatError, match="CSV"):
        choose_format(Path("out/r.csv"), None, BOTH)
    assert choose_format(Path("r.csv"), None, ("text", "json", "csv")) == "csv"


@pytest.fixture(scope="module")
def store_dir(sample_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("output")
    copy_sample(sample_template, tmp)  # run()'s store: tmp/store.sqlite
    return tmp


RANGE = ("--since", "2026-10-05", "--until", "2026-10-18")


def test_report_json_by_suffix(store_dir: Path) -> None:
    out = store_dir / "week.json"
    result = run(store_dir, "report", *RANGE, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["range"] == {"since": "2026-10-05", "until": "2026-10-18"}


def test_report_format_flag_beats_the_suffix(store_dir: Path) -> None:
    out = store_dir / "odd.json"
    result = run(store_dir, "report", *RANGE, "--format", "text", "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert not text.lstrip().startswith("{") and "[cause " in text


def test_report_txt_is_text(store_dir: Path) -> None:
    out = store_dir / "r.txt"
    assert run(store_dir, "report", *RANGE, "-o", str(out)).returncode == 0
    assert "[cause " in out.read_text()


def test_report_html_by_suffix(store_dir: Path) -> None:
    out = store_dir / "r.html"
    result = run(store_dir, "report", *RANGE, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_report_csv_is_not_supported(store_dir: Path) -> None:
    out = store_dir / "r.csv"
    result = run(store_dir, "report", *RANGE, "-o", str(out))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "CSV output is not supported yet" in result.stderr
    assert not out.exists()


def test_watch_report_csv_fails_at_start(store_dir: Path) -> None:
    """HTML is a report format the watcher writes (issue 24); CSV is not one."""
    inbox = store_dir / "inbox"
    inbox.mkdir(exist_ok=True)
    result = run(store_dir, "watch", str(inbox), "--once", "--report", str(store_dir / "r.csv"))
    assert result.returncode == 2 and "CSV output is not supported yet" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (store_dir / "r.csv").exists()
