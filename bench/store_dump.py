"""Everything a store holds, as text that two versions of heavylegs can be compared by.

    python -m bench.store_dump STORE > before.txt   (then again with the other version)

Each table's rows, sorted, with records named by their source identity
(``fit:<identity>``) instead of the store's ids, which depend on import order; blobs by
their SHA-256; wall-clock columns (when a file was imported or logged) left out. Two
stores that dump alike hold the same activities, links, clocks, samples, sets, figures,
files, log and sync state. Used to hold a store refactoring to "behaviour unchanged" on
the sample athlete, the exports and the corpus.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
from pathlib import Path
from urllib.parse import quote

_KEY = "(SELECT k.source || ':' || k.source_id FROM activities k WHERE k.id = {})"

#: What is dumped of each table: records named by source identity, not id.
QUERIES = {
    "activities": f"SELECT a.*, {_KEY.format('a.primary_id')} AS primary_key FROM activities a",
    "samples": f"SELECT {_KEY.format('t.activity_id')} AS record, t.* FROM samples t",
    "derived": f"SELECT {_KEY.format('t.activity_id')} AS record, t.* FROM derived t",
    "strength_sets": f"SELECT {_KEY.format('t.activity_id')} AS record, t.* FROM strength_sets t",
    "files": "SELECT * FROM files",
    "import_log": "SELECT * FROM import_log",
    "state": "SELECT * FROM state",
    "strava_queue": "SELECT * FROM strava_queue",
    "activities_local": "SELECT * FROM activities_local",
}
#: Columns that name a row by id or say when something happened: never compared.
LEFT_OUT = frozenset({"id", "primary_id", "activity_id", "imported_at", "queued_at", "at"})


def dump(path: Path) -> str:
    """The store at ``path`` (opened read-only) as sorted lines, table by table."""
    db = sqlite3.connect(f"file:{quote(str(path.absolute()))}?mode=ro", uri=True)
    try:
        lines: list[str] = []
        for table, sql in QUERIES.items():
            cursor = db.execute(sql)
            names = [d[0] for d in cursor.description]
            kept = [i for i, name in enumerate(names) if name not in LEFT_OUT]
            rows = sorted(repr(tuple(_shown(row[i]) for i in kept)) for row in cursor)
            lines.append(f"## {table} {[names[i] for i in kept]}")
            lines.extend(rows)
        return "\n".join(lines) + "\n"
    finally:
        db.close()


def _shown(value: object) -> object:
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return value


def main(argv: list[str] | None = None) -> int:
    """Print the dump of one store."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    args = parser.parse_args(argv)
    sys.stdout.write(dump(args.store))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
