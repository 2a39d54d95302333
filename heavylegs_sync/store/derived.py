"""Figures derived from samples (zone times, HR peaks), kept so reports need not read
samples; a read-only store holds them for the caller to save."""

from __future__ import annotations

from collections.abc import Sequence

from heavylegs_sync.store.connection import Connection, Part, log


class Derived(Part):
    """Saved derived figures by kind and activity."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._unsaved: dict[str, dict[int, str]] = {}

    def derived(self, kind: str, ids: Sequence[int]) -> dict[int, str]:
        """Saved figures of one kind (e.g. a zone model's time in zones) by activity id."""
        result: dict[int, str] = {}
        wanted = list(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT d.activity_id, d.data FROM derived d"
                " JOIN activities a ON a.id = d.activity_id"
                f" WHERE a.athlete_id = ? AND d.kind = ? AND d.activity_id IN ({marks})",
                (self._athlete, kind, *chunk),
            )
            result.update((int(r["activity_id"]), str(r["data"])) for r in rows)
        held = self._unsaved.get(kind, {})
        result.update((i, held[i]) for i in wanted if i in held)
        return result

    def unsaved_derived(self) -> dict[str, dict[int, str]]:
        """Figures saved while read-only, by kind: a caller with write access may keep them."""
        return {kind: dict(values) for kind, values in self._unsaved.items()}

    def save_derived(self, kind: str, values: dict[int, str]) -> None:
        """Save figures of one kind; a later save replaces them."""
        if not values:
            return
        if self.read_only:
            log.debug("read-only store: %d %s figures held in memory", len(values), kind)
            self._unsaved.setdefault(kind, {}).update(values)
            return
        with self._write() as db:
            db.executemany(
                "INSERT INTO derived (activity_id, kind, data) VALUES (?, ?, ?) "
                "ON CONFLICT (activity_id, kind) DO UPDATE SET data = excluded.data",
                [(i, kind, data) for i, data in values.items()],
            )
