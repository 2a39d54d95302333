"""Shared test fixtures: real files on disk, a real SQLite store in a temporary folder."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from heavylegs_sync.importers import DecodeOptions
from heavylegs_sync.store import Store
from tests import pg_server as pg

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
# The fixture writers (fit-tool FIT, GPX) make the files tests need on the spot.
sys.path.insert(0, str(FIXTURES))
# pytest-xdist's workers set COLUMNS=80 (and LINES); every test that depends on the width
# sets COLUMNS itself, so the commands tests run see what they see under plain pytest.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)
SAMPLE = FIXTURES / "sample-athlete"
FILES = FIXTURES / "files"
SAMPLE_CONFIG = SAMPLE / "heavylegs.toml"
BERLIN = ZoneInfo("Europe/Berlin")


#: Test files that take longest, longest first (``--durations`` of a whole run): with
#: ``--dist loadfile --no-loadscope-reorder`` they are dealt out first, so no long file is
#: left to one worker at the end while the other idles.
SLOW_FIRST = (
    "test_squad_concurrency.py",
    "test_html_report.py",
    "test_import_spans.py",
    "test_timezones.py",
    "test_bench_smoke.py",
    "test_watch.py",
    "test_squad_watch.py",
    "test_store_faults.py",
    "test_corpus.py",
    "test_corpus_gpx.py",
    "test_edges.py",
    "test_fixtures.py",
    "test_hostile.py",
    "test_strava_sync.py",
    "test_watch_faults.py",
    "test_strava_hostile.py",
    "test_interrupt.py",
    "test_archive_import.py",
    "test_plausible.py",
    "test_silence.py",
    "test_degraded_decoders.py",
    "test_archive_bounds.py",
    "test_archives.py",
)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: three workers for two CPUs. Many tests wait on a subprocess, a socket or
    a watcher (a file at a time on one core: 40% busy); a third worker uses what they leave.
    PYTEST_XDIST_AUTO_NUM_WORKERS still decides when set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return max(1, ((os.cpu_count() or 1) * 3 + 1) // 2)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long files first (see :data:`SLOW_FIRST`); ``exhaustive`` tests skipped unless asked
    for (``pytest -m exhaustive``, as ``.ci/run`` does in its second step), and the
    PostgreSQL half likewise (``pytest -m postgresql``, its third step: a real server
    per run, and the squad's concurrency, would take the README's command past 5
    minutes)."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
    chosen = str(config.getoption("markexpr") or "")
    held = {
        "exhaustive": "exhaustive: pytest -m exhaustive (.ci/run runs it)",
        "postgresql": "PostgreSQL: pytest -m postgresql (.ci/run runs it on a real server)",
    }
    for marker, reason in held.items():
        if marker in chosen or (marker == "exhaustive" and "postgresql" in chosen):
            continue  # the PostgreSQL step runs its half whole: nothing of it is skipped
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if item.get_closest_marker(marker):
                item.add_marker(skip)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Every test on the PostgreSQL server is marked ``postgresql`` (``pytest -m
    postgresql`` selects them); ``backend``'s PostgreSQL half is marked by its param."""
    if "pg_server" in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.postgresql)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the run's PostgreSQL server, if a test started one: here, in the process that
    runs the session (xdist's controller, after every worker is done, or pytest -n 0)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    if isinstance(factory, pytest.TempPathFactory):
        pg.stop_shared(factory.getbasetemp())


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> pg.PgServer:
    """The run's real PostgreSQL server (one for every xdist worker; see tests/pg_server.py).
    No server programs here: the test is skipped, or fails when HEAVYLEGS_REQUIRE_POSTGRES=1."""
    try:
        return pg.shared_server(pg.run_root(tmp_path_factory.getbasetemp()))
    except pg.Unavailable as error:
        pg.unavailable(str(error))
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def pg_url(pg_server: pg.PgServer) -> Iterator[str]:
    """``postgresql://postgres@127.0.0.1:PORT/hl_<random>``: a fresh empty database of
    this test's own, dropped afterwards."""
    with pg_server.database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store target for tests that must hold on both backends: an SQLite file path in
    tmp_path, or a fresh PostgreSQL database's URL (``pg_url``)."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def options() -> DecodeOptions:
    """Decode options with the sample athlete's time zone."""
    return DecodeOptions(zone=BERLIN)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's store lives."""
    return tmp_path / "store.sqlite"


@pytest.fixture
def store(backend: str) -> Iterator[Store]:
    """A fresh store on each backend: a real SQLite file, a real PostgreSQL database."""
    with Store.open(backend) as opened:
        yield opened


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample athlete imported once by the real command (``heavylegs import
    fixtures/sample-athlete`` with its settings), shared by the xdist workers of one run.

    Never open it: take a copy with :func:`copy_sample` (copying a file is cheaper than
    importing 70 files again).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    template = root / "sample-template" / "store.sqlite"
    template.parent.mkdir(exist_ok=True)
    with (root / "sample-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            building = template.with_name("building.sqlite")
            building.unlink(missing_ok=True)
            env = {"HEAVYLEGS_DB": str(building), "HEAVYLEGS_CONFIG": str(SAMPLE_CONFIG)}
            done = heavylegs_cli("import", str(SAMPLE), env=env, process=True)
            assert done.returncode == 0, done.stderr
            assert not building.with_name(building.name + "-wal").exists()
            building.replace(template)
    return template


def copy_sample(template: Path, folder: Path) -> Path:
    """A fresh copy of the imported sample athlete: ``folder/store.sqlite``."""
    target = folder / "store.sqlite"
    shutil.copyfile(template, target)
    return target


#: Environment variables only a new process honours (the C library reads TZ and the
#: locale once; PYTHON* shape the interpreter): with any of these, a real process runs.
_PROCESS_ENV = ("TZ", "LANG", "LC_ALL", "LC_TIME", "PATH", "PYTHONPATH", "PYTHONHASHSEED")
#: ``HEAVYLEGS_TEST_SUBPROCESS=1`` runs every command in a real process, as it ships.
_ALWAYS_SUBPROCESS = os.environ.get("HEAVYLEGS_TEST_SUBPROCESS") == "1"


def heavylegs_cli(
    *args: str,
    env: Mapping[str, str],
    timeout: float = 300,
    stdin: str | None = None,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the ``heavylegs`` command with these environment additions: in this process
    through Click's runner (a new Python costs about half a second), or, with ``process``
    (or an environment only a new process honours), in a real subprocess."""
    if process or _ALWAYS_SUBPROCESS or any(name in env for name in _PROCESS_ENV):
        return subprocess.run(
            [sys.executable, "-m", "heavylegs_sync", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    return heavylegs_in_process(*args, env=env, stdin=stdin)


def heavylegs_in_process(
    *args: str, env: Mapping[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The command through Click's runner, seen as a subprocess would see it: stdout and
    stderr apart, output not to a terminal, warnings printed to stderr, an unexpected
    exception printed as a traceback with exit status 1."""
    import logging
    import traceback
    import warnings

    from click.testing import CliRunner

    from heavylegs_sync.cli import main

    # logs.configure() keeps its handler on the stderr of the first run: give it this one.
    logger = logging.getLogger("heavylegs")
    for handler in [h for h in logger.handlers if getattr(h, "_heavylegs", False)]:
        logger.removeHandler(handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.simplefilter("ignore", category)  # as in a new process
        result = CliRunner().invoke(main, list(args), input=stdin, env=dict(env))
    for handler in [h for h in logger.handlers if getattr(h, "_heavylegs", False)]:
        logger.removeHandler(handler)
    stderr = result.stderr
    stderr += "".join(
        warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught
    )
    code = result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
        code = 1
    return subprocess.CompletedProcess(
        ["heavylegs", *args], code, stdout=result.stdout, stderr=stderr
    )


def corpus_dir() -> Path:
    """The real-file corpus: skip when HEAVYLEGS_CORPUS is unset, fail when it is missing."""
    value = os.environ.get("HEAVYLEGS_CORPUS")
    if not value:
        pytest.skip("HEAVYLEGS_CORPUS is not set; the real-file corpus tests are skipped")
    path = Path(value)
    if not (path / "MANIFEST.md").is_file():
        pytest.fail(f"HEAVYLEGS_CORPUS={value} but {path / 'MANIFEST.md'} does not exist")
    return path.resolve()


def import_measuring_memory(
    target: Path, config: Path, db: Path
) -> tuple[subprocess.CompletedProcess[str], int]:
    """``heavylegs import --workers 1 TARGET``, and the peak resident memory (KiB) of the
    command and its workers, measured by a wrapper process (RUSAGE_CHILDREN)."""
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    env = {**os.environ, "HEAVYLEGS_DB": str(db), "HEAVYLEGS_CONFIG": str(config)}
    result = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "heavylegs_sync", "import",
         "--workers", "1", str(target)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    *lines, peak_kb = result.stdout.strip().splitlines()
    result.stdout = "\n".join(lines) + "\n"
    return result, int(peak_kb)


def modules_after(
    args: list[str], env: Mapping[str, str], timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``heavylegs ARGS`` in a new Python (with these environment additions) and
    return the finished process and every module it held once the command was done:
    what a command loads is what its start-up costs."""
    code = (
        "import json, sys\n"
        "from heavylegs_sync.cli import main\n"
        "try:\n"
        f"    main({args!r}, standalone_mode=False)\n"
        "finally:\n"
        "    print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(done.stdout.splitlines()[-1])
    return done, modules
