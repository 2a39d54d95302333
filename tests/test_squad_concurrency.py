"""A squad's writers at once on one PostgreSQL database (issue 23): 8 folder watchers, a
Strava sync, an import and reports, each a real ``heavylegs`` process.

The sample athlete's 69 files are dealt out to eight athletes. Five have a watcher each;
one ``watch --per-athlete`` process serves three more folders (a6, a7 and twin); "twin"
also has two watchers of their own, and an import of the same files runs beside them:
four writers of one athlete at once, the same content under other names (and gzipped,
so two writers decode and store the same activities), queued by the athlete's lock. A
Strava sync of a ninth athlete and ``report``/``today`` for others run during the burst.
Then: every process exits 0 and says nothing of a lock or a busy database, and each
athlete holds exactly the activities of their own files (by source id, as an import of
the whole sample into SQLite stores them), each once.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import psycopg
import pytest

from heavylegs_sync.importers.source import sha256_of
from tests.conftest import SAMPLE, SAMPLE_CONFIG, heavylegs_cli
from tests.strava_server import FakeStrava, make_history
from tests.test_watch import wait_for

pytestmark = pytest.mark.postgresql

SINGLES = ["a1", "a2", "a3", "a4", "a5"]  # a watcher each
SQUAD = ["a6", "a7", "twin"]  # the folders of one `watch --per-athlete`
TWIN = "twin"  # two watchers of their own, the squad's folder and an import: one content
OWNERS = [*SINGLES, *SQUAD]
RUNNER = "runner"  # Strava only
STRAVA_ACTIVITIES = 30
#: What a lock or a busy database would say, in any output.
TROUBLE = re.compile(r"\block|busy|deadlock|could not serialize|Traceback|^ERROR", re.I | re.M)


class Process:
    """One ``heavylegs`` process, its output in a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.path = logs / f"{name}.log"
        self.sink: IO[str] = self.path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "heavylegs_sync", *args],
            stdout=self.sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip

    def text(self) -> str:
        return self.path.read_text()

    def finish(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self.sink.close()


def expected_sources(template: Path) -> dict[str, set[tuple[str, str]]]:
    """Each file's activities by content hash, as the whole sample imported stores them."""
    by_file: dict[str, set[tuple[str, str]]] = {}
    with sqlite3.connect(f"file:{template}?mode=ro", uri=True) as raw:
        for sha, source, source_id in raw.execute(
            "SELECT file_sha256, source, source_id FROM activities"
        ):
            by_file.setdefault(sha, set()).add((source, source_id))
    return by_file


def stored(url: str) -> dict[str, list[tuple[str, str]]]:
    """Every athlete's activities as (source, source id), duplicates kept."""
    rows: dict[str, list[tuple[str, str]]] = {}
    with psycopg.connect(url) as db:
        for name, source, source_id in db.execute(
            "SELECT t.name, a.source, a.source_id FROM activities a"
            " JOIN athletes t ON t.id = a.athlete_id"
        ):
            rows.setdefault(name, []).append((source, source_id))
    return rows


def files_of(db: psycopg.Connection[tuple[str]]) -> Counter[str]:
    """Files stored, by athlete (asked often: one connection, autocommit)."""
    rows = db.execute("SELECT t.name FROM files f JOIN athletes t ON t.id = f.athlete_id")
    return Counter(name for (name,) in rows)


def new_by_athlete(text: str, athlete: str | None = None) -> Counter[str]:
    """Files stored as new, by the summary lines: a watcher's bursts (a squad's name
    their athlete), an import's one line."""
    found: Counter[str] = Counter()
    for who, count in re.findall(r"^(?:NOTICE )?(?:(\S+): )?(\d+) new\b", text, re.M):
        found[who or str(athlete)] += int(count)
    return found


def test_eight_watchers_a_sync_an_import_and_reports_at_once(
    pg_url: str, tmp_path: Path, sample_template: Path
) -> None:
    env = {
        **os.environ,
        "HEAVYLEGS_DB": pg_url,
        "HEAVYLEGS_CONFIG": str(SAMPLE_CONFIG),
        "XDG_DATA_HOME": str(tmp_path / "data"),  # the server's local folder (tokens)
        "NO_PROXY": "127.0.0.1,localhost",
    }
    for name in [*OWNERS, RUNNER]:
        added = heavylegs_cli("athletes", "add", name, env=env)
        assert added.returncode == 0, added.stderr
    files = sorted(p for p in SAMPLE.iterdir() if p.suffix in (".fit", ".gpx", ".csv"))
    assert len(files) == 69
    dealt = {name: files[i :: len(OWNERS)] for i, name in enumerate(OWNERS)}
    inbox = tmp_path / "inbox"
    root = tmp_path / "squad"
    folders = {name: (name, inbox / name) for name in SINGLES}
    folders |= {"twin-1": (TWIN, inbox / "twin-1"), "twin-2": (TWIN, inbox / "twin-2")}
    folders |= {f"squad-{name}": (name, root / name) for name in SQUAD}
    staging = tmp_path / "staging"
    for key, (athlete, folder) in folders.items():
        folder.mkdir(parents=True)
        (staging / key).mkdir(parents=True)
        for file in dealt[athlete]:
            # The twin's folders get each file under another name (content decides), and
            # one of them gzipped: another file of the same activities, which no lookup of
            # content spares from decoding, so two writers store the same activities.
            if key == "twin-2":
                data = gzip.compress(file.read_bytes(), mtime=0)
                (staging / key / f"{key}-{file.name}.gz").write_bytes(data)
            else:
                shutil.copy(file, staging / key / f"{key}-{file.name}")
    logs = tmp_path / "logs"
    logs.mkdir()

    history = make_history(STRAVA_ACTIVITIES, start=datetime(2026, 9, 1, 6, tzinfo=UTC))
    with FakeStrava(history) as fake:
        strava = {**env, "STRAVA_CLIENT_ID": "1234", "STRAVA_CLIENT_SECRET": "s3cret",
                  "HEAVYLEGS_STRAVA_API_URL": fake.url}  # fmt: skip
        connect = heavylegs_cli("--athlete", RUNNER, "strava", "connect", "--code",
                                fake.issue_code(), env=strava)  # fmt: skip
        assert connect.returncode == 0, connect.stderr

        settle = ["--settle", "0.3"]
        watchers = [
            Process(key, ["--athlete", athlete, "watch", str(folder), *settle], env, logs)
            for key, (athlete, folder) in folders.items()
            if not key.startswith("squad-")
        ]
        watchers.append(Process("squad", ["watch", "--per-athlete", str(root), *settle], env, logs))
        assert len(watchers) == 8
        others: list[Process] = []
        watching = psycopg.connect(pg_url, autocommit=True)
        try:
            wait_for(lambda: all("watching" in w.text() for w in watchers), 60, "8 watchers")
            # Everything at once: each file arrives whole (a rename), the others start.
            for key, (_athlete, folder) in folders.items():
                for file in sorted((staging / key).iterdir()):
                    file.rename(folder / file.name)
            twin_files = [str(p) for p in sorted((inbox / "twin-1").iterdir())]
            others += [
                Process("sync", ["--athlete", RUNNER, "strava", "sync"], strava, logs),
                Process("import", ["--athlete", TWIN, "import", *twin_files], env, logs),
            ]
            # The readers once their athletes hold something, while the rest goes on.
            wait_for(lambda: all(files_of(watching)[n] for n in ("a1", "a6", TWIN)), 60, "files")
            others += [
                Process("report-a1", ["--athlete", "a1", "report"], env, logs),
                Process("today-twin", ["--athlete", TWIN, "today"], env, logs),
                Process("report-a6", ["--athlete", "a6", "report", "--format", "json"], env,
                        logs),
            ]  # fmt: skip
            want = Counter({name: len(dealt[name]) for name in OWNERS})
            both = want + Counter({TWIN: len(dealt[TWIN])})  # the twin's plain and gzipped
            wait_for(lambda: files_of(watching) == both, 90, "every file stored")
            codes = {p.name: p.finish(120) for p in others}
        finally:
            for process in [*watchers, *others]:
                if process.process.poll() is None:
                    process.process.send_signal(signal.SIGTERM)
            stopped = {w.name: w.finish(60) for w in watchers}
            watching.close()

    outputs = {p.name: p.text() for p in [*watchers, *others]}
    assert codes == dict.fromkeys(codes, 0), outputs
    assert stopped == dict.fromkeys(stopped, 0), outputs
    for name, text in outputs.items():
        assert not TROUBLE.search(text), f"{name}:\n{text}"
    assert "Nothing imported yet" not in outputs["report-a1"]  # it read a1's first files

    # Each athlete holds exactly their files' activities, each once; the runner Strava's.
    by_file = expected_sources(sample_template)
    held = stored(pg_url)
    for name in OWNERS:
        expected = set().union(
            *(by_file.get(sha256_of(f.read_bytes()), set()) for f in dealt[name])
        )
        assert sorted(held.get(name, [])) == sorted(expected), name
    every = set().union(*by_file.values())
    assert sum(len(rows) for name, rows in held.items() if name != RUNNER) == len(every)
    assert sorted(held[RUNNER]) == sorted(("strava", str(a.id)) for a in history)
    assert outputs["sync"].startswith(f"strava: {STRAVA_ACTIVITIES} new activities")
    # Every file's activities were stored as new once, by whichever writer came first:
    # the twin's four writers' new counts add up to their files, the rest said "already
    # imported" (the gzipped copies too, though each is a file of its own).
    news = new_by_athlete(outputs["squad"]) + new_by_athlete(outputs["import"], TWIN)
    for name in [*SINGLES, "twin-1", "twin-2"]:
        news += new_by_athlete(outputs[name], folders[name][0])
    assert news == want, outputs
