"""Activities: storing one file's activities, linking copies of the same activity (the
policy lives in :mod:`heavylegs_sync.matching`), and reading them back."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from heavylegs_sync import matching
from heavylegs_sync.categories import sport_name
from heavylegs_sync.errors import StoreError
from heavylegs_sync.model import (
    Activity,
    Category,
    HrSettings,
    OffsetSource,
    Samples,
    StrengthSet,
)
from heavylegs_sync.store.derived import DerivedStore
from heavylegs_sync.store.files import FileOutcome
from heavylegs_sync.store.rows import (
    _NOTE_SEP,
    _first,
    _format_ts,
    _hr_settings,
    _metadata,
    _now,
    _parse_ts,
    _ref,
    _stored_path,
    _watch_values,
)


@dataclass(frozen=True)
class _Prepared:
    """What a decoding worker prepared for storing one activity."""

    packed: bytes | None  # the samples, encoded
    figures: Mapping[str, str]  # derived figures by kind, as JSON


class ActivitiesStore(DerivedStore):
    """Activities and what hangs off them: samples, strength sets, copies."""

    def add_file(
        self,
        path: Path | str,
        sha256: str,
        size: int,
        activities: Sequence[Activity],
        packed: Sequence[bytes | None] | None = None,
        figures: Sequence[Mapping[str, str]] | None = None,
    ) -> FileOutcome:
        """Store one file's activities and log it, all in one transaction.

        An activity whose (source, source_id) is already stored counts as a duplicate and
        changes nothing, so a re-saved or renamed copy of a file adds nothing. ``packed``:
        the activities' samples already encoded (by a decoding worker), else encoded here;
        ``figures``: derived figures already computed, by kind (see ``derived``).
        """
        new_ids: list[int] = []
        duplicates = 0
        stored = _stored_path(path)
        for name, given in (("packed samples", packed), ("figure sets", figures)):
            if given is not None and len(given) != len(activities):
                raise ValueError(f"{len(given)} {name} for {len(activities)} activities")
        with self._write() as db:
            for i, activity in enumerate(activities):
                prepared = _Prepared(
                    None if packed is None else packed[i], {} if figures is None else figures[i]
                )
                activity_id = self._insert_activity(db, activity, sha256, stored, prepared)
                if activity_id is None:
                    duplicates += 1
                else:
                    new_ids.append(activity_id)
            db.execute(
                "INSERT OR IGNORE INTO files (sha256, path, size, activities, imported_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (sha256, stored, size, len(activities), _now()),
            )
            outcome = "new" if new_ids else "duplicate"
            message = None if new_ids else "already imported"
            self._log(db, stored, sha256, outcome, message, len(new_ids))
        return FileOutcome(tuple(new_ids), duplicates)

    def add_activity(self, activity: Activity) -> int | None:
        """Store one activity that came without a file (e.g. from an API); None if known."""
        with self._write() as db:
            return self._insert_activity(db, activity, activity.file_sha256, None)

    def _insert_activity(
        self,
        db: sqlite3.Connection,
        a: Activity,
        sha256: str | None,
        path: str | None,
        prepared: _Prepared | None = None,
    ) -> int | None:
        cursor = db.execute(
            "INSERT OR IGNORE INTO activities (source, source_id, file_sha256, source_path, "
            "sport, sport_raw, sub_sport, category, sport_inferred, start_utc, utc_offset_s, "
            "offset_source, timer_s, elapsed_s, distance_m, avg_hr, max_hr, name, device, "
            "imported_at, hr_coverage, points_dropped, watch_max_hr, watch_lthr, "
            "watch_resting_hr, watch_zone_method, watch_age, notes, perceived_exertion, "
            "relative_effort, weight_lifted_kg, decoder, decoder_note) "
            f"VALUES ({', '.join('?' * 33)})",
            (
                a.source,
                a.source_id,
                sha256,
                path,
                sport_name(a.sport, a.sub_sport),  # the one vocabulary, whatever the source
                a.sport_raw if a.sport_raw is not None else a.sport,
                a.sub_sport,
                a.category.value,
                int(a.sport_inferred),
                _format_ts(a.start_utc),
                a.utc_offset_s,
                a.offset_source.value,
                a.timer_s,
                a.elapsed_s,
                a.distance_m,
                a.avg_hr,
                a.max_hr,
                a.name,
                a.device,
                _now(),
                a.hr_coverage,
                a.points_dropped,
                *_watch_values(a.hr_settings),
                _NOTE_SEP.join(a.notes) or None,
                *_metadata(a),
                a.decoder,
                a.decoder_note,
            ),
        )
        if cursor.rowcount == 0:
            if any(value is not None for value in _metadata(a)):
                # A later export's list knows what an earlier record did not.
                db.execute(
                    "UPDATE activities SET perceived_exertion = coalesce(perceived_exertion, ?),"
                    " relative_effort = coalesce(relative_effort, ?),"
                    " weight_lifted_kg = coalesce(weight_lifted_kg, ?)"
                    " WHERE source = ? AND source_id = ?",
                    (*_metadata(a), a.source, a.source_id),
                )
            return self._replace_flawed(db, a, sha256, path, prepared)
        activity_id = cursor.lastrowid
        assert activity_id is not None
        self._add_details(db, activity_id, a, sha256, prepared)
        return activity_id

    def _replace_flawed(
        self,
        db: sqlite3.Connection,
        a: Activity,
        sha256: str | None,
        path: str | None,
        prepared: _Prepared | None,
    ) -> int | None:
        """When two files claim one activity, the whole one wins over a flawed one.

        A stored record with notes (truncated, values dropped) gives way to a record of
        the same source identity that has none: its values, samples and sets replace
        the stored ones under the same id. Otherwise the first stays (None).
        """
        row = db.execute(
            "SELECT id, notes FROM activities WHERE source = ? AND source_id = ?",
            (a.source, a.source_id),
        ).fetchone()
        if row is None or not row[1] or a.notes:
            return None
        activity_id = int(row[0])
        db.execute(
            "UPDATE activities SET file_sha256 = ?, source_path = ?, sport = ?, sport_raw = ?,"
            " sub_sport = ?, category = ?, sport_inferred = ?, start_utc = ?, utc_offset_s = ?,"
            " offset_source = ?, timer_s = ?, elapsed_s = ?, distance_m = ?, avg_hr = ?,"
            " max_hr = ?, name = ?, device = ?, notes = NULL, imported_at = ?,"
            " hr_coverage = ?, points_dropped = ?, watch_max_hr = ?, watch_lthr = ?,"
            " watch_resting_hr = ?, watch_zone_method = ?, watch_age = ?, decoder = ?,"
            " decoder_note = ? WHERE id = ?",
            (
                sha256, path, sport_name(a.sport, a.sub_sport),
                a.sport_raw if a.sport_raw is not None else a.sport, a.sub_sport,
                a.category.value, int(a.sport_inferred),
                _format_ts(a.start_utc), a.utc_offset_s, a.offset_source.value, a.timer_s,
                a.elapsed_s, a.distance_m, a.avg_hr, a.max_hr, a.name, a.device, _now(),
                a.hr_coverage, a.points_dropped, *_watch_values(a.hr_settings),
                a.decoder, a.decoder_note, activity_id,
            ),
        )  # fmt: skip
        for table in ("samples", "strength_sets", "derived"):
            db.execute(f"DELETE FROM {table} WHERE activity_id = ?", (activity_id,))
        self._add_details(db, activity_id, a, sha256, prepared, link=False)
        return activity_id

    def _add_details(
        self,
        db: sqlite3.Connection,
        activity_id: int,
        a: Activity,
        sha256: str | None,
        prepared: _Prepared | None = None,
        *,
        link: bool = True,
    ) -> None:
        packed = None if prepared is None else prepared.packed
        if a.samples is not None and len(a.samples) > 0:
            if packed is None:
                from heavylegs_sync.codec import encode_samples  # numpy: only with samples

                packed = encode_samples(a.samples)
            db.execute(
                "INSERT INTO samples (activity_id, n, data) VALUES (?, ?, ?)",
                (activity_id, len(a.samples), packed),
            )
        if prepared is not None and prepared.figures:
            db.executemany(
                "INSERT INTO derived (activity_id, kind, data) VALUES (?, ?, ?)",
                [(activity_id, kind, data) for kind, data in prepared.figures.items()],
            )
        if link:
            self._link_same_activity(db, activity_id, a, sha256)
        db.executemany(
            "INSERT INTO strength_sets (activity_id, idx, category, reps, weight_kg, duration_s)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(activity_id, s.index, s.category, s.reps, s.weight_kg, s.duration_s) for s in a.sets],
        )

    def _link_same_activity(
        self, db: sqlite3.Connection, new_id: int, a: Activity, sha256: str | None
    ) -> None:
        """Link a new record to an already stored copy of the same activity.

        :mod:`heavylegs_sync.matching` decides which records are one activity. The richer
        record stays primary and the other points to it, so the analysis counts the
        activity once and ``activities`` lists every source; the record whose clock came
        from the device decides the time.
        """
        margin = timedelta(seconds=matching.MAX_SHIFT_S + matching.MATCH_START_S)
        # "+a.primary_id": never search by primary_id (nearly every row has none), so
        # SQLite takes the start-time index; otherwise each import scans every activity.
        rows = db.execute(
            "SELECT a.id, a.source, a.start_utc, a.elapsed_s, a.timer_s, a.distance_m, "
            "a.offset_source, coalesce(s.n, 0), a.avg_hr IS NOT NULL, a.device "
            "FROM activities a LEFT JOIN samples s ON s.activity_id = a.id "
            "WHERE +a.primary_id IS NULL AND a.id != ? "
            "AND a.start_utc BETWEEN ? AND ? AND coalesce(a.file_sha256, '') != ? "
            "ORDER BY abs(julianday(a.start_utc) - julianday(?))",
            (
                new_id,
                _format_ts(a.start_utc - margin),
                _format_ts(a.start_utc + margin),
                sha256 or "-",
                _format_ts(a.start_utc),
            ),
        ).fetchall()
        for row in rows:
            other = matching.Candidate(
                id=int(row[0]),
                source=row[1],
                start_utc=_parse_ts(row[2]),
                elapsed_s=row[3],
                timer_s=row[4],
                distance_m=row[5],
                offset_source=OffsetSource(row[6]),
                sample_count=int(row[7]),
                has_hr=bool(row[8]),
                device=row[9],
            )
            if not matching.same_by_time(a, other) and not (
                matching.shifted_start(a, other)
                and matching.same_by_samples(a, other, self.samples(other.id))
            ):
                continue
            new_rank = matching.activity_richness(a)
            old_rank = matching.richness(other.source, other.has_hr, other.sample_count)
            if new_rank > old_rank:
                primary, secondary = new_id, other.id
                db.execute(
                    "UPDATE activities SET primary_id = ? WHERE id = ? OR primary_id = ?",
                    (new_id, other.id, other.id),
                )
            else:
                primary, secondary = other.id, new_id
                db.execute("UPDATE activities SET primary_id = ? WHERE id = ?", (other.id, new_id))
            self._trust_device_clock(db, primary, secondary)
            return

    @staticmethod
    def _trust_device_clock(db: sqlite3.Connection, primary: int, secondary: int) -> None:
        """Give the primary the start and offset of a copy whose clock is more trustworthy."""
        rows = {
            int(r[0]): r
            for r in db.execute(
                "SELECT id, start_utc, utc_offset_s, offset_source, device FROM activities "
                "WHERE id IN (?, ?)",
                (primary, secondary),
            )
        }
        main, other = rows[primary], rows[secondary]
        main_trust = matching.clock_trust(OffsetSource(main[3]), main[4])
        if matching.clock_trust(OffsetSource(other[3]), other[4]) <= main_trust:
            return
        db.execute(
            "UPDATE activities SET start_utc = ?, utc_offset_s = ?, offset_source = ? WHERE id = ?",
            (other[1], other[2], other[3], primary),
        )

    def primary_of(self, activity_id: int) -> int | None:
        """The primary record a secondary copy is linked to, or None."""
        row = self._db.execute(
            "SELECT primary_id FROM activities WHERE id = ?", (activity_id,)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def activities(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        with_samples: bool = False,
    ) -> list[Activity]:
        """Stored activities starting in [since, until), oldest first, with their sets.

        Secondary copies (the same activity from another source, linked to a primary) are
        left out; their sources are listed on the primary.
        """
        clauses = ["+a.primary_id IS NULL"]  # "+": by the start-time index, never this
        params: list[str] = []
        if since is not None:
            clauses.append("a.start_utc >= ?")
            params.append(_format_ts(since))
        if until is not None:
            clauses.append("a.start_utc < ?")
            params.append(_format_ts(until))
        rows = self._db.execute(
            "SELECT a.id, a.source, a.source_id, a.file_sha256, a.sport, a.sub_sport, "
            "a.category, a.sport_inferred, a.start_utc, a.utc_offset_s, a.offset_source, "
            "a.timer_s, a.elapsed_s, a.distance_m, a.avg_hr, a.max_hr, a.name, a.device, "
            "a.source_path, a.hr_coverage, a.points_dropped, a.watch_max_hr, a.watch_lthr, "
            "a.watch_resting_hr, a.watch_zone_method, a.watch_age, a.sport_raw, a.notes, "
            "a.perceived_exertion, a.relative_effort, a.weight_lifted_kg, a.decoder, "
            "a.decoder_note "
            f"FROM activities a WHERE {' AND '.join(clauses)} ORDER BY a.start_utc, a.id",
            params,
        ).fetchall()
        ids = [int(r[0]) for r in rows]
        sets = self._sets_by_activity(ids)
        copies = self._copies_of(ids)
        extra = self._metadata_of_copies(ids)
        result = []
        for r in rows:
            own_ref = _ref(r[1], r[2], r[18])
            other_copies = copies.get(int(r[0]), [])
            activity = Activity(
                id=int(r[0]),
                source=r[1],
                source_id=r[2],
                file_sha256=r[3],
                sport=r[4],
                sub_sport=r[5],
                category=Category(r[6]),
                sport_inferred=bool(r[7]),
                start_utc=_parse_ts(r[8]),
                utc_offset_s=int(r[9]),
                offset_source=OffsetSource(r[10]),
                timer_s=r[11],
                elapsed_s=r[12],
                distance_m=r[13],
                avg_hr=r[14],
                max_hr=r[15],
                name=r[16],
                device=r[17],
                sets=sets.get(int(r[0]), []),
                sources=[r[1], *sorted({s for s, _ in other_copies} - {r[1]})],
                source_refs=[own_ref, *(ref for _, ref in other_copies)],
                hr_coverage=r[19],
                points_dropped=int(r[20] or 0),
                hr_settings=_hr_settings(r[21:26]),
                sport_raw=r[26],
                source_path=r[18],
                notes=tuple(r[27].split(_NOTE_SEP)) if r[27] else (),
                decoder=r[31],
                decoder_note=r[32],
            )
            # The export's metadata and name, whichever copy brought them.
            found = extra.get(int(r[0]), {})
            activity.perceived_exertion = _first(r[28], found.get("perceived_exertion"))
            activity.relative_effort = _first(r[29], found.get("relative_effort"))
            activity.weight_lifted_kg = _first(r[30], found.get("weight_lifted_kg"))
            if activity.name is None and found.get("name") is not None:
                activity.name = str(found["name"])
            if with_samples:
                activity.samples = self.samples(int(r[0]))
            result.append(activity)
        return result

    def _copies_of(self, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        """(source, reference) of every secondary copy, by primary id."""
        result: dict[int, list[tuple[str, str]]] = {}
        if not ids:
            return result
        wanted = set(ids)
        rows = self._db.execute(
            "SELECT primary_id, source, source_id, source_path FROM activities "
            "WHERE primary_id IS NOT NULL ORDER BY id"
        )
        for primary, source, source_id, path in rows:
            if primary in wanted:
                result.setdefault(int(primary), []).append((source, _ref(source, source_id, path)))
        return result

    def _metadata_of_copies(self, ids: list[int]) -> dict[int, dict[str, object]]:
        """Name and export metadata of secondary copies, by primary id (first copy wins)."""
        result: dict[int, dict[str, object]] = {}
        if not ids:
            return result
        wanted = set(ids)
        rows = self._db.execute(
            "SELECT primary_id, name, perceived_exertion, relative_effort, weight_lifted_kg "
            "FROM activities WHERE primary_id IS NOT NULL AND (name IS NOT NULL "
            "OR perceived_exertion IS NOT NULL OR relative_effort IS NOT NULL "
            "OR weight_lifted_kg IS NOT NULL) ORDER BY id"
        )
        keys = ("name", "perceived_exertion", "relative_effort", "weight_lifted_kg")
        for primary, *values in rows:
            if primary in wanted:
                found = result.setdefault(int(primary), {})
                for key, value in zip(keys, values, strict=True):
                    if value is not None:
                        found.setdefault(key, value)
        return result

    def watch_hr_settings(self) -> list[tuple[int, datetime, HrSettings]]:
        """The HR settings watches recorded with activities (every copy), oldest first,
        with the id of the primary record they came with."""
        rows = self._db.execute(
            "SELECT coalesce(primary_id, id), start_utc, watch_max_hr, watch_lthr,"
            " watch_resting_hr, watch_zone_method, watch_age FROM activities"
            " WHERE coalesce(watch_max_hr, watch_lthr, watch_resting_hr, watch_zone_method,"
            " watch_age) IS NOT NULL"
            " ORDER BY start_utc, id"
        ).fetchall()
        result = []
        for r in rows:
            values = _hr_settings(r[2:7])
            if values is not None:
                result.append((int(r[0]), _parse_ts(r[1]), values))
        return result

    def activities_on_days(
        self, first: date | None = None, last: date | None = None, *, with_samples: bool = False
    ) -> list[Activity]:
        """Activities whose *local* start day lies in [first, last] (either end open).

        UTC offsets reach 14 hours either way, so the UTC query is widened by that much and
        the local day decides.
        """
        margin = timedelta(hours=14)
        since = datetime.combine(first, time(), UTC) - margin if first else None
        until = datetime.combine(last + timedelta(days=1), time(), UTC) + margin if last else None
        rows = self.activities(since, until, with_samples=with_samples)
        return [
            a
            for a in rows
            if (first is None or a.start_local.date() >= first)
            and (last is None or a.start_local.date() <= last)
        ]

    def activities_local(
        self, first: date | None = None, last: date | None = None
    ) -> list[dict[str, Any]]:
        """Rows of the ``activities_local`` view (see docs/store.md) whose local day lies
        in [first, last], oldest first: the table other tools see, as plain dicts."""
        clauses, params = ["1"], []
        if first is not None:
            clauses.append("local_date >= ?")
            params.append(first.isoformat())
        if last is not None:
            clauses.append("local_date <= ?")
            params.append(last.isoformat())
        cursor = self._db.execute(
            f"SELECT * FROM activities_local WHERE {' AND '.join(clauses)} ORDER BY start_utc, id",
            params,
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def start_of(self, activity_id: int) -> datetime | None:
        """When a stored activity started (UTC), or None when there is no such id."""
        row = self._db.execute(
            "SELECT start_utc FROM activities WHERE id = ?", (activity_id,)
        ).fetchone()
        return None if row is None else _parse_ts(row[0])

    def packed_samples(self, activity_id: int) -> bytes | None:
        """The stored samples of one activity as kept (``codec``), or None without samples:
        for a worker process to decode, so this one only reads."""
        row = self._db.execute(
            "SELECT data FROM samples WHERE activity_id = ?", (activity_id,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def samples(self, activity_id: int) -> Samples | None:
        """The stored samples of one activity, or None when it has none."""
        row = self._db.execute(
            "SELECT data FROM samples WHERE activity_id = ?", (activity_id,)
        ).fetchone()
        if row is None:
            return None
        # numpy only here: reading stored figures (report, today) needs no samples.
        from heavylegs_sync.codec import CodecError, decode_samples

        try:
            return decode_samples(bytes(row[0]))
        except CodecError as exc:
            raise StoreError(f"{self.path}: samples of activity {activity_id}: {exc}") from exc

    def _sets_by_activity(self, ids: list[int]) -> dict[int, list[StrengthSet]]:
        result: dict[int, list[StrengthSet]] = {}
        if not ids:
            return result
        rows = self._db.execute(
            "SELECT activity_id, idx, category, reps, weight_kg, duration_s FROM strength_sets "
            "ORDER BY activity_id, idx"
        )
        wanted = set(ids)
        for r in rows:
            if r[0] in wanted:
                result.setdefault(int(r[0]), []).append(StrengthSet(r[1], r[2], r[3], r[4], r[5]))
        return result

    def sample_count(self) -> int:
        """Samples stored over all activities."""
        return int(self._db.execute("SELECT coalesce(sum(n), 0) FROM samples").fetchone()[0])

    def count(self) -> int:
        """Number of stored activities, secondary copies included."""
        return int(self._db.execute("SELECT count(*) FROM activities").fetchone()[0])
