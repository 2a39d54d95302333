"""Shell completion as the README documents it (click's ``_HEAVYLEGS_COMPLETE``), through
the installed ``heavylegs`` command (completion keys on the program's name)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

COMMAND = Path(sys.executable).parent / "heavylegs"


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if not COMMAND.is_file():
        pytest.fail(f"{COMMAND} is missing: install the project (pip install -e '.[dev]')")
    return subprocess.run([str(COMMAND)], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip


def complete(words: str, index: int) -> list[str]:
    result = run({"_HEAVYLEGS_COMPLETE": "bash_complete", "COMP_WORDS": words,
                  "COMP_CWORD": str(index)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def test_commands_options_and_choices_complete() -> None:
    assert complete("heavylegs rep", 1) == ["report"]
    assert "--format" in complete("heavylegs report --fo", 2)
    assert complete("heavylegs report --format ", 3) == ["text", "json", "html"]
    assert {"-v", "--verbose", "-q", "--quiet"} <= set(complete("heavylegs -", 1))


def test_readme_names_the_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    for shell in ("bash", "zsh", "fish"):
        assert f"_HEAVYLEGS_COMPLETE={shell}_source heavylegs" in readme
        script = run({"_HEAVYLEGS_COMPLETE": f"{shell}_source"})
        assert script.returncode == 0 and "_HEAVYLEGS_COMPLETE" in script.stdout
