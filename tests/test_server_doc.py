"""docs/server.md and its systemd units: every heavylegs command they show is one the
command line has (its subcommands and options), and the backup they describe restores a
PostgreSQL store that heavylegs reads back the same."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import psycopg
import pytest

from heavylegs_sync.cli import main
from tests.conftest import ROOT, SAMPLE, SAMPLE_CONFIG, heavylegs_cli
from tests.pg_server import PgServer
from tests.test_systemd import UNITS, parse

DOC = ROOT / "docs" / "server.md"
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def shown_commands() -> list[list[str]]:
    """The words of each ``heavylegs`` command in the doc's sh blocks and inline code, and
    in the units' ExecStart= lines (environment assignments before it dropped)."""
    text = DOC.read_text()
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        lines += block.replace("\\\n", " ").splitlines()
    lines += re.findall(r"`(heavylegs [^`]+)`", text)
    for unit in sorted(UNITS.glob("heavylegs-squad-*.service")):
        (line,) = parse(unit)["Service"]["ExecStart"]
        lines.append(line.replace("%h/.local/bin/heavylegs", "heavylegs"))
    commands = []
    for line in lines:
        words = shlex.split(line, comments=True)
        while words and ASSIGNMENT.match(words[0]):
            words.pop(0)
        if words and words[0] == "heavylegs":
            commands.append(words[1:])
    return commands


def check_command(words: list[str]) -> None:
    """Walk the command tree as click would: each option must belong to the command it
    follows, each word after a group must name one of its commands."""
    command: click.Command = main
    path = ["heavylegs"]
    at = 0
    while at < len(words):
        word = words[at]
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            options = {
                opt: param
                for param in command.params
                if isinstance(param, click.Option)
                for opt in (*param.opts, *param.secondary_opts)
            }
            assert name in options, f"{' '.join(path)} has no option {name}"
            param = options[name]
            if not (param.is_flag or param.count) and "=" not in word:
                at += 1  # its value
        elif isinstance(command, click.Group):
            assert word in command.commands, f"{' '.join(path)} has no command {word!r}"
            command = command.commands[word]
            path.append(word)
        at += 1
    assert not isinstance(command, click.Group), f"{' '.join(path)} names no command"


def test_the_doc_shows_commands() -> None:
    shown = {" ".join(words[:2]) for words in shown_commands()}
    for expected in (
        "athletes add",
        "team",
        "strava sync",
        "watch --athlete",
        "watch --per-athlete",
    ):
        assert any(line.startswith(expected) for line in shown), expected


@pytest.mark.parametrize("words", shown_commands(), ids=" ".join)
def test_every_command_shown_exists(words: list[str]) -> None:
    check_command(words)


def test_the_checker_refuses_what_does_not_exist() -> None:
    for words in (["strava", "sync", "--everyone"], ["teams"], ["strava"], ["--athlete"]):
        with pytest.raises(AssertionError):
            check_command(words)


def test_backup_and_restore_as_documented(pg_server: PgServer, pg_url: str, tmp_path: Path) -> None:
    """pg_dump --format=custom, then pg_restore --no-owner into a new database: the restored
    store lists the same activities. The server's own client programs, as root or not."""
    env = {"HEAVYLEGS_DB": pg_url, "HEAVYLEGS_CONFIG": str(SAMPLE_CONFIG)}
    runs = sorted(SAMPLE.glob("*.fit"))[:3]
    done = heavylegs_cli("import", *map(str, runs), env=env)
    assert done.returncode == 0, done.stderr
    before = heavylegs_cli("activities", env=env)
    assert before.returncode == 0 and before.stdout.count("\n") >= 3, before.stderr
    dump = tmp_path / "heavylegs.dump"
    bindir = Path(pg_server.bindir)
    pg_dump = shutil.which("pg_dump", path=str(bindir)) or "pg_dump"
    pg_restore = shutil.which("pg_restore", path=str(bindir)) or "pg_restore"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    subprocess.run([pg_dump, "--format=custom", f"--file={dump}", pg_url],
                   env=clean, check=True, timeout=60, capture_output=True)  # fmt: skip
    with pg_server.database() as restored:
        subprocess.run([pg_restore, "--no-owner", f"--dbname={restored}", str(dump)],
                       env=clean, check=True, timeout=60, capture_output=True)  # fmt: skip
        after = heavylegs_cli("activities", env={**env, "HEAVYLEGS_DB": restored})
        assert after.returncode == 0, after.stderr
        assert after.stdout == before.stdout
        with psycopg.connect(restored) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")\
                .fetchone() != (0,)  # fmt: skip


def test_a_socket_url_and_libpq_environment(pg_server: PgServer, pg_url: str) -> None:
    """``postgresql:///dbname`` (the account's own socket, as on the server) with the rest
    from libpq's environment variables."""
    dbname = pg_url.rsplit("/", 1)[1]
    env = {"PGHOST": pg_server.socket_dir, "PGPORT": str(pg_server.port),
           "PGUSER": pg_server.user}  # fmt: skip
    done = heavylegs_cli(
        "--db", f"postgresql:///{dbname}", "athletes", "add", "anna",
        env={**env, "HEAVYLEGS_CONFIG": str(SAMPLE_CONFIG)}, process=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = heavylegs_cli("athletes", "list", env={"HEAVYLEGS_DB": pg_url})
    assert listed.returncode == 0, listed.stderr
    assert "anna" in listed.stdout
