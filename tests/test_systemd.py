"""The systemd units in docs/systemd/: ``systemd-analyze verify`` when it is installed, and
always the same rules checked by hand, plus each ExecStart run for real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE, heavylegs_cli

UNITS = ROOT / "docs" / "systemd"
DOCS = (ROOT / "docs" / "watch.md", ROOT / "docs" / "strava.md", ROOT / "docs" / "server.md")
#: Where the documented install (``pipx install heavylegs-sync``) puts the command.
INSTALLED = "%h/.local/bin/heavylegs"
#: What systemd accepts in Documentation= (src/basic/unit-def.c, documentation_url_is_valid).
DOC_URL = re.compile(r"^(https?://[^\s/]+\S*|file:/\S+|man:\S+|info:\S+)$")


def parse(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> values, as systemd reads them (comments, continuation lines)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    text = re.sub(r"\\\n", " ", path.read_text())
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}: {line!r} outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: {line!r} is not KEY=VALUE"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def unit_files() -> list[Path]:
    files = sorted(UNITS.iterdir())
    assert {p.suffix for p in files} == {".service", ".timer"}
    return files


@pytest.mark.parametrize("path", unit_files(), ids=lambda p: p.name)
def test_unit_rules(path: Path) -> None:
    unit = parse(path)
    docs = unit["Unit"].get("Documentation", [])
    assert docs, f"{path.name}: no Documentation="
    for url in " ".join(docs).split():
        assert DOC_URL.match(url), f"{path.name}: systemd ignores Documentation={url}"
    for key in ("After", "Wants", "Requires", "BindsTo"):
        for value in unit["Unit"].get(key, []):
            # A user manager has no network-online.target to wait for (systemd#3312).
            assert "network-online.target" not in value, f"{path.name}: {key}={value}"
    if path.suffix == ".service":
        (exec_start,) = unit["Service"]["ExecStart"]
        assert exec_start.split()[0] == INSTALLED
    if path.name.endswith("watch.service"):
        assert unit["Install"]["WantedBy"] == ["default.target"]


@pytest.mark.parametrize("name", ["heavylegs-strava-sync", "heavylegs-squad-sync"])
def test_timer_is_persistent_and_randomized(name: str) -> None:
    timer = parse(UNITS / f"{name}.timer")["Timer"]
    assert timer["Persistent"] == ["true"]
    assert re.fullmatch(r"\d+(min|s|h)?", timer["RandomizedDelaySec"][0])
    assert timer["OnCalendar"]
    # The timer starts the service of its own name, which must exist.
    assert (UNITS / f"{name}.service").is_file()
    assert "Unit" not in timer  # so it starts the service of its own name


def test_squad_units_read_the_database_from_their_environment_file() -> None:
    """No database URL (and so no password) in a unit: it is in server.env."""
    for name in ("heavylegs-squad-sync.service", "heavylegs-squad-watch.service"):
        service = parse(UNITS / name)["Service"]
        assert "-%h/.config/heavylegs/server.env" in service["EnvironmentFile"], name
        assert "postgres" not in " ".join(service["ExecStart"] + service.get("Environment", []))


def test_docs_show_the_install_the_units_expect() -> None:
    for doc in DOCS:
        text = doc.read_text()
        assert "pipx install heavylegs-sync" in text, doc.name
        assert "~/.local/bin/heavylegs" in text, doc.name


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home folder with the command where pipx puts it."""
    home = tmp_path / "home"
    command = home / ".local" / "bin" / "heavylegs"
    command.parent.mkdir(parents=True)
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m heavylegs_sync "$@"\n')
    command.chmod(0o755)
    return home


def exec_start(name: str, home: Path) -> list[str]:
    (line,) = parse(UNITS / name)["Service"]["ExecStart"]
    return [word.replace("%h", str(home)) for word in line.split()]


def test_watch_unit_command_runs(home: Path, tmp_path: Path) -> None:
    (home / "Training" / "inbox").mkdir(parents=True)
    shutil.copy(SAMPLE / "2026-09-29-0700-run.fit", home / "Training" / "inbox")
    env = dict(os.environ, HOME=str(home), HEAVYLEGS_DB=str(tmp_path / "s.sqlite"),
               HEAVYLEGS_CONFIG=str(SAMPLE / "heavylegs.toml"),
               PYTHONPATH=str(ROOT))  # fmt: skip
    result = subprocess.run(
        [*exec_start("heavylegs-watch.service", home), "--once", "--settle", "0.2"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "1 new, 0 already imported, 0 skipped, 0 failed" in result.stderr
    assert (home / "Training" / "heavylegs-report.txt").is_file()


def test_sync_unit_command_runs(home: Path, tmp_path: Path) -> None:
    """Not connected: one line that says what to do, exit 1 (not a usage error)."""
    env = dict(os.environ, HOME=str(home), HEAVYLEGS_DB=str(tmp_path / "s.sqlite"),
               HEAVYLEGS_CONFIG=str(SAMPLE / "heavylegs.toml"), STRAVA_CLIENT_ID="1",
               STRAVA_CLIENT_SECRET="x", PYTHONPATH=str(ROOT))  # fmt: skip
    result = subprocess.run(
        exec_start("heavylegs-strava-sync.service", home),
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "heavylegs strava connect" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not found")
def test_systemd_analyze_verify(home: Path, tmp_path: Path) -> None:
    units = tmp_path / "units"
    shutil.copytree(UNITS, units)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, HOME=str(home), XDG_RUNTIME_DIR=str(runtime),
               SYSTEMD_LOG_LEVEL="notice")  # fmt: skip
    names = [p.name for p in sorted(units.iterdir())]

    def verify(*mode: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["systemd-analyze", *mode, "verify", *names],
            cwd=units, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    result = verify("--user")
    if "Failed to initialize manager" in result.stderr:  # no user session bus here
        result = verify()
    # verify exits 0 on warnings such as "Invalid URL, ignoring": any output is a failure.
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_squad_watch_unit_command_runs(home: Path, pg_url: str) -> None:
    """The squad's watcher on a real PostgreSQL database: each sub-folder's file lands with
    the athlete of its name, and only there."""
    store = {"HEAVYLEGS_DB": pg_url, "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml")}
    files = {"anna": "2026-09-29-0700-run.fit", "ben": "2026-10-01-0700-run.fit"}
    for name, file in files.items():
        added = heavylegs_cli("athletes", "add", name, env=store)
        assert added.returncode == 0, added.stderr
        (home / "squad" / name).mkdir(parents=True)
        shutil.copy(SAMPLE / file, home / "squad" / name)
    env = dict(os.environ, HOME=str(home), PYTHONPATH=str(ROOT), **store)
    result = subprocess.run(
        [*exec_start("heavylegs-squad-watch.service", home), "--once", "--settle", "0.2"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name, day in (("anna", "2026-09-29"), ("ben", "2026-10-01")):
        listed = heavylegs_cli("--athlete", name, "activities", env=store)
        assert listed.returncode == 0, listed.stderr
        assert day in listed.stdout
        assert listed.stdout.count(" run ") == 1, listed.stdout


def test_squad_sync_unit_command_runs(home: Path, pg_url: str) -> None:
    """On a real PostgreSQL database of two athletes, none connected: one line that says
    what to do, exit 1 (not a usage error)."""
    store = {"HEAVYLEGS_DB": pg_url, "HEAVYLEGS_CONFIG": str(SAMPLE / "heavylegs.toml")}
    for name in ("anna", "ben"):
        assert heavylegs_cli("athletes", "add", name, env=store).returncode == 0
    env = dict(os.environ, HOME=str(home), STRAVA_CLIENT_ID="1", STRAVA_CLIENT_SECRET="x",
               PYTHONPATH=str(ROOT), **store)  # fmt: skip
    result = subprocess.run(
        exec_start("heavylegs-squad-sync.service", home),
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "heavylegs strava connect --athlete NAME" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
