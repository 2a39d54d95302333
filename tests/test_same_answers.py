"""The sample athlete's report and ``today`` answers, byte for byte as committed in
tests/golden/: a refactoring of the analysis, the report or the service layer must not
change what a runner reads. After a deliberate change of wording, regenerate with
``HEAVYLEGS_UPDATE_GOLDEN=1 pytest tests/test_same_answers.py`` and review the diff
(tests/golden/no-wellness/: the sample without its wellness.csv, as before issue 22)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import SAMPLE, copy_sample, heavylegs_cli

GOLDEN = Path(__file__).parent / "golden"
SPAN = ("--since", "2026-09-28", "--until", "2026-11-22")
#: The planted days of docs/today.md, and a day after the last activity.
DAYS = ("2026-10-12", "2026-10-26", "2026-10-28", "2026-11-02", "2026-11-08", "2026-11-21",
        "2026-11-30")  # fmt: skip


@pytest.fixture(scope="module")
def env(sample_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    db = copy_sample(sample_template, tmp_path_factory.mktemp("golden"))  # imported by the CLI
    return {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
            "COLUMNS": "100"}  # fmt: skip


def outputs(env: dict[str, str], tmp: Path) -> dict[str, str]:
    result = {
        "report.txt": heavylegs_cli("report", *SPAN, env=env).stdout,
        "report.json": heavylegs_cli("report", *SPAN, "--format", "json", env=env).stdout,
    }
    page = tmp / "report.html"
    assert heavylegs_cli("report", *SPAN, "-o", str(page), env=env).returncode == 0
    # The page embeds its charts as SVG whose ids differ run to run: compare the words.
    text = re.sub(r"<svg.*?</svg>", "<svg/>", page.read_text(), flags=re.S)
    result["report.html"] = text
    for day in DAYS:
        result[f"today-{day}.txt"] = heavylegs_cli("today", "--date", day, env=env).stdout
        result[f"today-{day}.json"] = heavylegs_cli(
            "today", "--date", day, "--format", "json", env=env
        ).stdout
    return result


def test_the_sample_athletes_answers_are_unchanged(env: dict[str, str], tmp_path: Path) -> None:
    got = outputs(env, tmp_path)
    if os.environ.get("HEAVYLEGS_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        for name, text in got.items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
    for name, text in got.items():
        assert text == (GOLDEN / name).read_text(encoding="utf-8"), name


@pytest.fixture(scope="module")
def env_without_wellness(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The sample athlete's activity files alone, without its wellness.csv."""
    db = tmp_path_factory.mktemp("golden-plain") / "store.sqlite"
    env = {"HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml"),
           "COLUMNS": "100"}  # fmt: skip
    files = sorted(str(p) for p in SAMPLE.iterdir() if p.suffix in (".fit", ".gpx"))
    done = heavylegs_cli("import", *files, env=env)
    assert done.returncode == 0, done.stderr
    return env


def test_without_wellness_data_every_answer_is_as_before(
    env_without_wellness: dict[str, str], tmp_path: Path
) -> None:
    """tests/golden/no-wellness/ holds the answers from before wellness was judged (issue
    22): without any wellness data not a byte of them changes."""
    got = outputs(env_without_wellness, tmp_path)
    plain = GOLDEN / "no-wellness"
    if os.environ.get("HEAVYLEGS_UPDATE_GOLDEN"):
        for name, text in got.items():
            (plain / name).write_text(text, encoding="utf-8")
    for name, text in got.items():
        assert text == (plain / name).read_text(encoding="utf-8"), name


def test_every_format_names_each_cause_from_the_one_catalogue() -> None:
    from heavylegs_sync.causes import CAUSES

    seen: dict[str, set[tuple[int, str]]] = {}
    for path in GOLDEN.iterdir():
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        found = re.findall(r"\[cause (\d+): ([^\]]+)\]", text)
        found += re.findall(r'<span class="cause">Cause (\d+): ([^<]+)</span>', text)
        seen[path.name] = {(int(n), title) for n, title in found}
    names = {pair for pairs in seen.values() for pair in pairs}
    assert {n for n, _ in names} == {1, 2, 5, 6, 10}  # the sample shows every cause
    assert names == {(n, CAUSES[n].title) for n, _ in names}
    assert seen["report.txt"] and seen["report.html"] and seen["today-2026-11-08.txt"]
