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
_CELL = re.compile(r"tree page (\d+) cell (\d+)")
#: A b-tree page holding table rows (its cells start with the row's size and rowid).
_TABLE_LEAF = 0x0D


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
            own = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'activities'"
            ).fetchone()[0]
        except sqlite3.Error as exc:
            return CheckResult(path, method, unreadable=str(exc))
        if not own:
            return CheckResult(path, method, unreadable="not a heavylegs store: no activities")
        try:
            rows = db.execute(f"PRAGMA {method}({MAX_PROBLEMS})").fetchall()
        except sqlite3.Error as exc:  # some damage stops the check itself: go on without it
            rows = [(f"{method} stopped: {exc}",)]
        problems = [
            line
            for row in rows
            for line in str(row[0]).splitlines()
            if line and line != "ok" and not line.startswith("***")
        ]
        tables = _tables_of(db, problems)
        affected, read = _unreadable_activities(db)
        named = _activities_at_cells(path, db, problems) - set(affected)
        if named:  # rows that read back, but whose pages SQLite found wrong
            affected = sorted({*affected, *named})
            read -= len(named)
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
        tables = {
            str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.Error:
        known, tables = [], set()
    for name in known:
        try:  # every row of a table, without an index: a damaged tree fails here
            if name in tables:
                for _ in db.execute(f'SELECT * FROM "{name}" NOT INDEXED'):
                    pass
        except sqlite3.Error:
            names.add(name)
        if any(re.search(rf"\b{re.escape(name)}\b", line) for line in problems):
            names.add(name)
        if not problems:
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


def _activities_at_cells(path: Path, db: sqlite3.Connection, problems: list[str]) -> set[int]:
    """Activities whose row sits in a cell SQLite names (``On tree page 101 cell 0: ...``,
    a broken overflow chain: the row may read back, with wrong bytes). The cell's rowid
    is read from the page in the file itself (SQLite's b-tree format: a table leaf page's
    cells begin with two varints, the payload size and the rowid). The main file only:
    a page whose newer copy is still in the -wal file is read as last checkpointed."""
    cells = {(int(m.group(1)), int(m.group(2))) for line in problems for m in _CELL.finditer(line)}
    if not cells:
        return set()
    owners: dict[int, tuple[str, str]] = {}
    for table, column in _ACTIVITY_ROWS:
        try:
            walk = db.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,))
            owners.update({int(r[0]): (table, column) for r in walk})
        except sqlite3.Error:
            continue
    found: set[int] = set()
    try:
        page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
        with path.open("rb") as handle:
            for page, cell in sorted(cells):
                if page not in owners:
                    continue
                handle.seek((page - 1) * page_size)
                rowid = _rowid_in_cell(handle.read(page_size), page == 1, cell)
                if rowid is None:
                    continue
                table, column = owners[page]
                sql = f"SELECT {column} FROM {table} WHERE rowid = ?"
                try:
                    row = db.execute(sql, (rowid,)).fetchone()
                except sqlite3.Error:
                    row = (rowid,) if column == "id" else None
                if row is not None:
                    found.add(int(row[0]))
    except (OSError, sqlite3.Error):
        return found
    return found


def _rowid_in_cell(page: bytes, first: bool, cell: int) -> int | None:
    """The rowid of cell ``cell`` of a table leaf page, or None for another kind."""
    header = 100 if first else 0  # page 1 starts with the file header
    if len(page) < header + 8 or page[header] != _TABLE_LEAF:
        return None
    cells = int.from_bytes(page[header + 3 : header + 5], "big")
    if cell >= cells:
        return None
    pointer_at = header + 8 + 2 * cell
    offset = int.from_bytes(page[pointer_at : pointer_at + 2], "big")
    _, offset = _varint(page, offset)  # the payload size
    rowid, _ = _varint(page, offset)
    return rowid


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    """SQLite's big-endian varint (1-9 bytes) at ``offset``: the value and the next offset."""
    value = 0
    for index in range(9):
        if offset + index >= len(data):
            break
        byte = data[offset + index]
        if index == 8:
            return (value << 8) | byte, offset + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, offset + index + 1
    return value, offset + 9
