"""Athletes: whose every stored row is. One store may hold a squad (a coach's or a
club's PostgreSQL database); a runner's own store holds one, and needs no name."""

from __future__ import annotations

from dataclasses import dataclass

from heavylegs_sync.errors import AthleteError
from heavylegs_sync.store.connection import Part
from heavylegs_sync.store.rows import _now

#: The athlete a store gets when nobody named one: what every store written before
#: athletes existed holds (schema 11), and what a runner's first import creates.
DEFAULT_ATHLETE = "me"

MAX_NAME = 64


@dataclass(frozen=True)
class Athlete:
    """One athlete of the store: the name commands take (``--athlete``), and the zone
    that places their activities when the settings name none."""

    id: int
    name: str
    timezone: str | None = None


def check_name(name: str) -> str:
    """A name a person can type and a folder can carry (``watch --per-athlete``)."""
    text = name.strip()
    if not text or len(text) > MAX_NAME:
        raise AthleteError(f"athlete name {name!r}: 1 to {MAX_NAME} characters")
    if not text.isprintable() or "/" in text or "\\" in text or text[0] in "-.":
        raise AthleteError(
            f"athlete name {name!r}: letters, digits, spaces and . _ - only"
            " (no slash, not starting with - or .)"
        )
    return text


class Athletes(Part):
    """Adding, listing, renaming and removing athletes; finding the one a command means."""

    def list(self) -> list[Athlete]:
        """Every athlete, by name."""
        return [
            Athlete(int(r["id"]), str(r["name"]), r["timezone"])
            for r in self._db.execute("SELECT id, name, timezone FROM athletes ORDER BY name")
        ]

    def get(self, name: str) -> Athlete | None:
        """The athlete of this name, if any."""
        row = self._db.execute(
            "SELECT id, name, timezone FROM athletes WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else Athlete(int(row["id"]), str(row["name"]), row["timezone"])

    def add(self, name: str, timezone: str | None = None) -> Athlete:
        """Add an athlete; a name already taken is refused."""
        name = check_name(name)
        if timezone is not None:
            from heavylegs_sync.config import check_zone_name

            timezone = check_zone_name(timezone)
        with self._write() as db:
            row = db.execute(
                "INSERT INTO athletes (name, timezone, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO NOTHING RETURNING id",
                (name, timezone, _now()),
            ).fetchall()
        if not row:
            raise AthleteError(f"{self.path}: there is already an athlete {name!r}")
        return Athlete(int(row[0]["id"]), name, timezone)

    def ensure(self, name: str) -> Athlete:
        """The athlete of this name, added if missing (two writers at once add one)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO athletes (name, created_at) VALUES (?, ?)"
                " ON CONFLICT (name) DO NOTHING",
                (name, _now()),
            )
        found = self.get(name)
        assert found is not None
        return found

    def rename(self, old: str, new: str) -> Athlete:
        """Give an athlete another name; their data stays theirs."""
        found = self.get(old)
        if found is None:
            raise AthleteError(self.unknown(old))
        new = check_name(new)
        if self.get(new) is not None:
            raise AthleteError(f"{self.path}: there is already an athlete {new!r}")
        with self._write() as db:
            db.execute("UPDATE athletes SET name = ? WHERE id = ?", (new, found.id))
        return Athlete(found.id, new, found.timezone)

    def set_timezone(self, name: str, timezone: str | None) -> Athlete:
        """Set (None: clear) the zone that places an athlete's activities."""
        found = self.get(name)
        if found is None:
            raise AthleteError(self.unknown(name))
        if timezone is not None:
            from heavylegs_sync.config import check_zone_name

            timezone = check_zone_name(timezone)
        with self._write() as db:
            db.execute("UPDATE athletes SET timezone = ? WHERE id = ?", (timezone, found.id))
        return Athlete(found.id, found.name, timezone)

    def counts(self, athlete_id: int) -> tuple[int, int, int]:
        """(activities, files, wellness days) an athlete holds: what removing them loses."""
        row = self._db.execute(
            "SELECT (SELECT count(*) FROM activities WHERE athlete_id = ?"
            " AND primary_id IS NULL) AS a, (SELECT count(*) FROM files WHERE athlete_id = ?)"
            " AS f, (SELECT count(DISTINCT day) FROM wellness WHERE athlete_id = ?) AS w",
            (athlete_id, athlete_id, athlete_id),
        ).fetchone()
        return int(row["a"]), int(row["f"]), int(row["w"])

    def remove(self, name: str) -> int:
        """Remove an athlete and every row of theirs (activities, samples, files, the
        import log, Strava state, wellness); returns the activities removed."""
        found = self.get(name)
        if found is None:
            raise AthleteError(self.unknown(name))
        activities = self.counts(found.id)[0]
        with self._connection.scoped(found.id).write() as db:  # after their writers
            # Copies point at primaries of the same athlete only; unlink before the
            # cascade so no order of deletes trips over a row already gone.
            db.execute("UPDATE activities SET primary_id = NULL WHERE athlete_id = ?", (found.id,))
            db.execute("DELETE FROM athletes WHERE id = ?", (found.id,))
        return activities

    def unknown(self, name: str) -> str:
        """The line for a name the store does not hold."""
        names = [a.name for a in self.list()]
        known = f" (athletes: {', '.join(names[:8])}{', ...' if len(names) > 8 else ''})"
        return (
            f"{self.path}: no athlete {name!r}{known if names else ''};"
            f" add one: heavylegs athletes add {name}"
        )
