"""A real PostgreSQL server for the tests: one per test run, shared by the xdist workers.

The first worker that needs it runs ``initdb`` and ``pg_ctl start`` in a temporary folder
(trust on loopback only, ``fsync=off``: the data is thrown away), and writes where it
listens to a state file under the run's base temporary folder, under a lock (as
``sample_template`` shares its store); the others read that file. The process that runs
the session (the xdist controller, or pytest itself with ``-n 0``) stops the server at the
end, when every worker is done with it. Each test gets a database of its own.

PostgreSQL refuses to run as root: as root, the server runs as ``nobody``.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

import psycopg
import pytest
from psycopg import sql

#: ``HEAVYLEGS_REQUIRE_POSTGRES=1`` (CI) turns "no server, skipped" into a failure.
REQUIRE_ENV = "HEAVYLEGS_REQUIRE_POSTGRES"
#: A folder holding ``initdb`` and ``pg_ctl``: the only place looked when set.
BINDIR_ENV = "HEAVYLEGS_POSTGRES_BINDIR"
#: Where Debian's packages put each major version's server programs.
DEBIAN_BINDIRS = "/usr/lib/postgresql/*/bin"
#: Who runs the server when the tests run as root.
UNPRIVILEGED = "nobody"
#: The cluster's superuser (initdb -U); trust authentication, so no password.
SUPERUSER = "postgres"
STATE = "pg-server.json"
LOCK = "pg-server.lock"
#: The settings of a server whose data nobody keeps: fast, small, loopback only.
SETTINGS = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{socket_dir}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 32MB
log_min_messages = warning
"""
#: Who may connect, and how: the socket and 127.0.0.1, nothing else.
HBA = """\
local all all trust
host  all all 127.0.0.1/32 trust
"""


@dataclass(frozen=True)
class PgServer:
    """A running server: where it listens and as whom to connect."""

    host: str
    port: int
    socket_dir: str
    user: str
    #: The temporary folder holding the data, the socket and the log.
    root: str
    bindir: str
    #: The OS account the server runs as.
    os_user: str

    @property
    def base(self) -> str:
        """The DSN base, ``postgresql://postgres@127.0.0.1:PORT``: add ``/dbname``."""
        return f"postgresql://{self.user}@{self.host}:{self.port}"

    def url(self, dbname: str) -> str:
        return f"{self.base}/{dbname}"

    def __str__(self) -> str:
        return self.base

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """A fresh empty database (``hl_<random>``), dropped afterwards even if a
        connection to it is still open: its URL."""
        name = f"hl_{secrets.token_hex(6)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield self.url(name)
        finally:
            with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


class Unavailable(Exception):
    """No PostgreSQL server programs on this machine (a skip, or a failure in CI)."""


def unavailable(reason: str, env: Mapping[str, str] = os.environ) -> NoReturn:
    """Skip the test for ``reason``; fail it when :data:`REQUIRE_ENV` is ``1``."""
    if env.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 requires them", pytrace=False)
    pytest.skip(f"{reason}: the PostgreSQL tests are skipped")


def _version(bindir: str) -> tuple[int, ...]:
    match = re.search(r"/(\d+(?:\.\d+)*)/bin$", bindir)
    return tuple(int(part) for part in match.group(1).split(".")) if match else ()


def find_bindir(env: Mapping[str, str] = os.environ) -> Path:
    """The folder of ``initdb`` and ``pg_ctl`` (and ``postgres`` beside them): the one
    :data:`BINDIR_ENV` names, else the one on PATH, else the newest of Debian's."""
    wanted = ("initdb", "pg_ctl", "postgres")
    if BINDIR_ENV in env:
        candidates = [env[BINDIR_ENV]]
        where = f"{BINDIR_ENV}={env[BINDIR_ENV]}"
    else:
        on_path = shutil.which("initdb", path=env.get("PATH", os.defpath))
        debian = sorted(glob.glob(DEBIAN_BINDIRS), key=_version, reverse=True)
        # /usr/local/bin/initdb may be a link into a Debian folder: pg_ctl finds postgres
        # beside the real initdb, so resolve it.
        candidates = ([str(Path(on_path).resolve().parent)] if on_path else []) + debian
        where = f"PATH or {DEBIAN_BINDIRS}"
    for folder in candidates:
        if all(os.access(Path(folder, name), os.X_OK) for name in wanted):
            return Path(folder)
    raise Unavailable(f"no PostgreSQL server programs (initdb, pg_ctl, postgres) in {where}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_as(account: pwd.struct_passwd | None, args: list[str], cwd: str) -> None:
    """Run a server program, as ``account`` when given (we are root): one clear failure
    with the program's output when it fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    extra: dict[str, Any] = {}
    if account is not None:
        env["HOME"] = cwd
        extra = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
        stdin=subprocess.DEVNULL, **extra,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )


def _account() -> pwd.struct_passwd | None:
    """Whom the server runs as: nobody when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(UNPRIVILEGED)
    except KeyError:
        raise Unavailable(
            f"running as root and there is no user {UNPRIVILEGED!r} to run PostgreSQL as"
        ) from None


def start(bindir: Path) -> PgServer:
    """initdb and start a server in a new temporary folder (under /tmp, which the
    unprivileged account can reach; pytest's own folders are root's alone)."""
    account = _account()
    root = tempfile.mkdtemp(prefix="heavylegs-pg-")
    if account is not None:
        os.chown(root, account.pw_uid, account.pw_gid)
    data = os.path.join(root, "data")
    try:
        return _init_and_start(bindir, account, root, data)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _init_and_start(
    bindir: Path, account: pwd.struct_passwd | None, root: str, data: str
) -> PgServer:
    _run_as(account, [str(bindir / "initdb"), "-D", data, "-U", SUPERUSER, "-A", "trust",
                      "-E", "UTF8", "--no-locale", "--no-sync"], root)  # fmt: skip
    with open(os.path.join(data, "postgresql.conf"), "a") as conf:
        conf.write(SETTINGS.format(socket_dir=root))
    with open(os.path.join(data, "pg_hba.conf"), "w") as hba:
        hba.write(HBA)
    log = os.path.join(root, "server.log")
    for attempt in range(5):  # a free port may be taken before the server binds it
        port = _free_port()
        try:
            _run_as(account, [str(bindir / "pg_ctl"), "-D", data, "-l", log, "-w", "-t", "60",
                              "-o", f"-p {port}", "start"], root)  # fmt: skip
            break
        except RuntimeError:
            if attempt == 4:
                raise RuntimeError(f"PostgreSQL did not start:\n{_tail(log)}") from None
    return PgServer(host="127.0.0.1", port=port, socket_dir=root, user=SUPERUSER, root=root,
                    bindir=str(bindir), os_user=account.pw_name if account else
                    pwd.getpwuid(os.geteuid()).pw_name)  # fmt: skip


def stop(server: PgServer) -> None:
    """Stop the server at once (its data is thrown away) and remove its folder."""
    data = os.path.join(server.root, "data")
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            _run_as(_account(), [os.path.join(server.bindir, "pg_ctl"), "-D", data,
                                 "-m", "immediate", "-w", "stop"], server.root)  # fmt: skip
    shutil.rmtree(server.root, ignore_errors=True)


def _tail(log: str, lines: int = 20) -> str:
    try:
        return "\n".join(Path(log).read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(no log: {error})"


def run_root(basetemp: Path) -> Path:
    """The run's folder, shared by the xdist workers (each has its own below it)."""
    return basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp


def shared_server(root: Path) -> PgServer:
    """The run's server, started by whichever process asks first."""
    with (root / LOCK).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = root / STATE
        if state.exists():
            server = PgServer(**json.loads(state.read_text()))
        else:
            server = start(find_bindir())
            state.write_text(json.dumps(asdict(server)))
    try:
        with psycopg.connect(server.url("postgres"), connect_timeout=10):
            pass
    except psycopg.OperationalError as error:
        raise RuntimeError(
            f"the run's PostgreSQL server at {server.base} does not answer: {error}\n"
            f"{_tail(os.path.join(server.root, 'server.log'))}"
        ) from error
    return server


def stop_shared(root: Path) -> None:
    """At the end of the run: stop the server if one was started."""
    state = root / STATE
    if state.exists():
        stop(PgServer(**json.loads(state.read_text())))
        state.unlink()
