"""``heavylegs check``: SQLite's integrity check, and which activities a damage touches.

SQLite names damaged *pages*; a person needs *activities*. The pages are mapped to the
tables (and indexes) that own them through the ``dbstat`` table, and then every activity
is read back row by row (its record, samples, strength sets, kept figures): an activity
whose rows cannot be read is affected. The store is opened read-only and never written,
so a check never makes a damaged store worse.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from heavylegs_sync.errors import StoreError

#: Problems SQLite reports at most (it stops there; the first ones say enough).
MAX_PROBLEMS = 100
#: Tables that hold an activity's rows, and the column naming the activity.
_ACTIVITY_ROWS = (
    ("activities", "id"),
    ("samples", "activity_id"),
    ("strength_sets", "activity_id"),
    ("derived", "activity_id"),
)
_PAGE = re.compile(r"\b[Pp]age (\d+)")


@dataclass(frozen=True)
class CheckResult:
    """What the check found; ``ok`` only when SQLite found nothing and every row read."""

    path: Path
    method: str  # "integrity_check" or "quick_check"
    problems: list[str] = field(default_factory=list)  # SQLite's own lines
    tables: list[str] = field(default_factory=list)  # tables and indexes with damaged pages
    activities: list[int] = field(default_factory=list)  # ids whose rows cannot be read
    activities_read: int = 0  # activities whose rows all read back
    unreadable: str | None = None  # the file could not be checked at all (header gone)

    @property
    def ok(self) -> bool:
        """Nothing wrong found."""
        return not self.problems and not self.activities and self.unreadable is None


def check_store(path: Path, *, quick: bool = False) -> CheckResult:
    """Check the store at ``path`` (read-only). Raises :class:`StoreError` only when the
    file is missing; damage of any kind is the result, not an exception."""
    if not path.is_file():
        raise StoreError(f"{path}: no store here to check")
    method = "quick_check" if quick else "integrity_check"
    try:
        db = _open(path)
    except sqlite3.Error as exc:
        return CheckResult(path, method, unreadable=str(exc))
    try:
        try:
            rows = db.execute(f"PRAGMA {method}({MAX_PROBLEMS})").fetchall()
        except sqlite3.Error as exc:
            return CheckResult(path, method, unreadable=str(exc))
        problems = [
            line
            for row in rows
            for line in str(row[0]).splitlines()
            if line and line != "ok" and not line.startswith("***")
        ]
        tables = _tables_of(db, problems)
        affected, read = _unreadable_activities(db)
        return CheckResult(path, method, problems, tables, affected, read)
    finally:
        db.close()


def _open(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    db = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        db.close()  # a folder this user cannot write: no -shm file, read it as it is
        db = sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return db


def _tables_of(db: sqlite3.Connection, problems: list[str]) -> list[str]:
    """The tables and indexes owning the pages the problems name (``dbstat``), else
    those whose own name appears in a problem (``row 5 missing from index x``)."""
    pages = {int(m.group(1)) for line in problems for m in _PAGE.finditer(line)}
    names: set[str] = set()
    try:
        known = [str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE rootpage > 0")]
    except sqlite3.Error:
        known = []
    for name in known:
        if any(re.search(rf"\b{re.escape(name)}\b", line) for line in problems):
            names.add(name)
        if not pages:
            continue
        try:  # one tree at a time: a damaged tree stops its own walk, not the others
            walk = db.execute("SELECT pageno FROM dbstat WHERE name = ?", (name,))
            owned = {int(r[0]) for r in walk}
        except sqlite3.Error:
            owned = set()
            names.add(name)  # its pages cannot even be listed: damaged itself
        if owned & pages:
            names.add(name)
    return sorted(names)


def _unreadable_activities(db: sqlite3.Connection) -> tuple[list[int], int]:
    """Activity ids whose rows cannot be read back, and how many read back whole."""
    ids: set[int] = set()
    for table, column in _ACTIVITY_ROWS:
        for sql in (
            f"SELECT DISTINCT {column} FROM {table} NOT INDEXED",
            f"SELECT DISTINCT {column} FROM {table}",  # an index may hold more
        ):
            try:
                for row in db.execute(sql):
                    ids.add(int(row[0]))
            except sqlite3.Error:
                continue  # ids up to the damage were taken; the other path may give the rest
    bad: list[int] = []
    for activity in sorted(ids):
        for table, column in _ACTIVITY_ROWS:
            try:
                for row in db.execute(f"SELECT * FROM {table} WHERE {column} = ?", (activity,)):
                    for value in row:
                        if isinstance(value, bytes):
                            len(value)  # the blob itself was read: its overflow pages too
            except sqlite3.Error:
                bad.append(activity)
                break
    return bad, len(ids) - len(bad)
