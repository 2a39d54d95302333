"""The test run's PostgreSQL server (tests/pg_server.py): a real server, reachable only on
127.0.0.1 and its socket, one fresh database per test, skipped or failed without one."""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests import pg_server as pg
from tests.conftest import ROOT


def test_a_table_written_and_read_back(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE run (id serial PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO run (name) VALUES (%s), (%s)", ("easy", "tempo"))
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT name FROM run ORDER BY id").fetchall()
        dbname = conn.execute("SELECT current_database()").fetchone()
    assert rows == [("easy",), ("tempo",)]
    assert dbname is not None and dbname[0].startswith("hl_")
    assert pg_url.startswith("postgresql://postgres@127.0.0.1:") and pg_url.endswith(dbname[0])


def test_each_database_is_its_own_and_dropped_after(pg_server: pg.PgServer) -> None:
    with pg_server.database() as first, pg_server.database() as second:
        assert first != second
        with psycopg.connect(first) as conn:
            conn.execute("CREATE TABLE athlete (name text)")
            conn.execute("INSERT INTO athlete VALUES ('anna')")
        with psycopg.connect(second) as conn:
            found = conn.execute("SELECT to_regclass('athlete')").fetchone()
            assert found == (None,)
            open_conn = psycopg.connect(first)  # still open when the database is dropped
    try:
        with psycopg.connect(pg_server.url("postgres")) as admin:
            names = {row[0] for row in admin.execute("SELECT datname FROM pg_database").fetchall()}
        assert first.rsplit("/", 1)[1] not in names
        assert second.rsplit("/", 1)[1] not in names
    finally:
        open_conn.close()


def test_listens_on_loopback_and_its_socket_only(pg_server: pg.PgServer) -> None:
    with psycopg.connect(pg_server.url("postgres")) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
        rules = conn.execute(
            "SELECT type, address FROM pg_hba_file_rules ORDER BY line_number"
        ).fetchall()
    assert rules == [("local", None), ("host", "127.0.0.1")]
    # The port is bound to 127.0.0.1 alone: another loopback address is refused.
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.2", pg_server.port), timeout=5),
    ):
        pass
    # The unix socket lives in the server's temporary folder.
    with psycopg.connect(
        host=pg_server.socket_dir, port=pg_server.port, user=pg_server.user, dbname="postgres"
    ) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert Path(pg_server.socket_dir, f".s.PGSQL.{pg_server.port}").is_socket()


def test_server_runs_unprivileged(pg_server: pg.PgServer) -> None:
    pid = int(Path(pg_server.root, "data", "postmaster.pid").read_text().split()[0])
    status = Path(f"/proc/{pid}/status").read_text()
    (uid_line,) = [line for line in status.splitlines() if line.startswith("Uid:")]
    uid = int(uid_line.split()[1])
    assert uid != 0
    assert uid == (os.geteuid() if os.geteuid() != 0 else pwd.getpwnam(pg.UNPRIVILEGED).pw_uid)


def test_backend_gives_a_target_for_each(backend: str, tmp_path: Path) -> None:
    if backend.startswith("postgresql://"):
        with psycopg.connect(backend) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")\
                .fetchone() == (0,)  # fmt: skip
    else:
        assert backend == str(tmp_path / "store.sqlite") and not Path(backend).exists()


def test_bindir_found_newest_first_or_unavailable(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(pg.Unavailable, match=r"no PostgreSQL server programs .* in "):
        pg.find_bindir({pg.BINDIR_ENV: str(empty)})
    for name in ("initdb", "pg_ctl", "postgres"):
        (empty / name).write_text("#!/bin/sh\n")
        (empty / name).chmod(0o755)
    assert pg.find_bindir({pg.BINDIR_ENV: str(empty)}) == empty
    assert pg._version("/usr/lib/postgresql/9.6/bin") < pg._version("/usr/lib/postgresql/15/bin")


def test_unavailable_skips_unless_required() -> None:
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL tests are skipped"):
        pg.unavailable("no PostgreSQL server programs", env={})
    with pytest.raises(pytest.fail.Exception, match="HEAVYLEGS_REQUIRE_POSTGRES=1 requires"):
        pg.unavailable("no PostgreSQL server programs", env={pg.REQUIRE_ENV: "1"})


@pytest.mark.exhaustive  # the quick part: the test above, on the function itself
@pytest.mark.parametrize("required", ["", "1"])
def test_without_server_programs_a_run_skips_or_fails(tmp_path: Path, required: str) -> None:
    """The whole way, in a pytest of its own: a test on ``pg_url`` (and ``backend``'s
    PostgreSQL half) is skipped with the reason, and CI's variable makes it fail."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    env |= {pg.BINDIR_ENV: str(tmp_path), pg.REQUIRE_ENV: required}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider", "-q", "-rsE",
         "--basetemp", str(tmp_path / "run"), "-m", "postgresql",
         "tests/test_pg_server.py::test_a_table_written_and_read_back",
         "tests/test_pg_server.py::test_backend_gives_a_target_for_each"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    out = done.stdout
    assert "1 deselected" in out, out  # backend[sqlite] is not marked postgresql
    if required:
        assert done.returncode == 1, out
        assert "2 errors" in out, out
        assert "HEAVYLEGS_REQUIRE_POSTGRES=1 requires them" in out, out
    else:
        assert done.returncode == 0, out
        assert "2 skipped" in out, out
        assert f"no PostgreSQL server programs (initdb, pg_ctl, postgres) in {pg.BINDIR_ENV}" in out
