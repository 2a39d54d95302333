"""Activities: storing one file's activities, linking copies of the same activity as
:mod:`heavylegs_sync.linking` plans it, and reading them back."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any

from heavylegs_sync import linked
from heavylegs_sync.errors import StoreError
from heavylegs_sync.model import (
    Activity,
    Category,
    HrSettings,
    OffsetSource,
    Samples,
    StrengthSet,
    WellnessRecord,
)
from heavylegs_sync.store.connection import Connection, Db, Part
from heavylegs_sync.store.files import FileOutcome, Files
from heavylegs_sync.store.rows import (
    _NOTE_SEP,
    Share,
    _format_ts,
    _metadata,
    _now,
    _parse_ts,
    _ref,
    _span,
    _stored_path,
    _watch_settings,
    _watch_values,
    _whose,
)
from heavylegs_sync.store.wellness import write_wellness

#: The columns a record's own values fill, in the order :func:`_record_values` gives them.
_RECORD_COLUMNS = (
    "file_sha256", "source_path", "sport", "sport_raw", "sub_sport", "category",
    "sport_inferred", "start_utc", "utc_offset_s", "offset_source", "timer_s", "elapsed_s",
    "distance_m", "avg_hr", "max_hr", "name", "device", "imported_at", "hr_coverage",
    "points_dropped", "watch_max_hr", "watch_lthr", "watch_resting_hr", "watch_zone_method",
    "watch_age", "notes", "decoder", "decoder_note",
)  # fmt: skip


#: One record's evidence of where the athlete was (:meth:`Activities.offsets_from_sources`):
#: start UTC, offset s, source, source id, file path, the IANA zone Strava named.
Evidence = tuple[datetime, int, str, str, str | None, str | None]


@dataclass(frozen=True)
class _Prepared:
    """What a decoding worker prepared for storing one activity."""

    packed: bytes | None  # the samples, encoded
    figures: Mapping[str, str]  # derived figures by kind, as JSON


def _record_values(a: Activity, sha256: str | None, path: str | None) -> tuple[object, ...]:
    """The values of :data:`_RECORD_COLUMNS` for a record about to be stored, as given:
    the importer already filed the sport under the vocabulary."""
    return (
        sha256,
        path,
        a.sport,
        a.sport_raw,
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
        a.decoder,
        a.decoder_note,
    )


class Activities(Part):
    """Activities and what hangs off them: samples, strength sets, copies."""

    def __init__(self, connection: Connection, files: Files) -> None:
        super().__init__(connection)
        self._files = files

    def add_file(
        self,
        path: Path | str,
        sha256: str,
        size: int,
        activities: Sequence[Activity],
        packed: Sequence[bytes | None] | None = None,
        figures: Sequence[Mapping[str, str]] | None = None,
        wellness: Sequence[WellnessRecord] = (),
    ) -> FileOutcome:
        """Store one file's activities (and wellness records) and log it, all in one
        transaction.

        An activity whose (source, source_id) is already stored counts as a duplicate and
        changes nothing, so a re-saved or renamed copy of a file adds nothing. ``packed``:
        the activities' samples already encoded (by a decoding worker), else encoded here;
        ``figures``: derived figures already computed, by kind (see ``derived``).
        ``wellness``: the file's sleep, resting-HR and HRV records, vetted; the file is new
        when it wrote any of them (``FileOutcome.wellness``).
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
                activity_id = self.insert(db, activity, sha256, stored, prepared)
                if activity_id is None:
                    duplicates += 1
                else:
                    new_ids.append(activity_id)
            days = write_wellness(db, self._athlete_to_write, wellness, sha256)
            db.execute(
                "INSERT INTO files (athlete_id, sha256, path, size, activities, imported_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (athlete_id, sha256) DO NOTHING",
                (self._athlete_to_write, sha256, stored, size, len(activities), _now()),
            )
            outcome = "new" if new_ids or days else "duplicate"
            message = None if new_ids or days else "already imported"
            self._files.add_log(db, stored, sha256, outcome, message, len(new_ids))
        return FileOutcome(tuple(new_ids), duplicates, days)

    def add_activity(self, activity: Activity) -> int | None:
        """Store one activity that came without a file (e.g. from an API); None if known."""
        with self._write() as db:
            return self.insert(db, activity, activity.file_sha256, None)

    def insert(
        self,
        db: Db,
        a: Activity,
        sha256: str | None,
        path: str | None,
        prepared: _Prepared | None = None,
    ) -> int | None:
        """Store one record inside the caller's transaction ``db``: its id when it is new
        (or replaced a flawed record), None when its source identity was already stored.

        What follows from the records already stored is :mod:`heavylegs_sync.linking`'s
        to say; this carries out its plan.
        """
        columns = ("athlete_id", "source", "source_id", *_RECORD_COLUMNS, "perceived_exertion",
                   "relative_effort", "weight_lifted_kg")  # fmt: skip
        inserted = db.execute(
            f"INSERT INTO activities ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}) "
            "ON CONFLICT (athlete_id, source, source_id) DO NOTHING RETURNING id",
            (
                self._athlete_to_write,
                a.source,
                a.source_id,
                *_record_values(a, sha256, path),
                *_metadata(a),
            ),
        ).fetchall()  # all: SQLite finishes the statement only once its rows are read
        if not inserted:
            return self._arrived_again(db, a, sha256, path, prepared)
        activity_id = int(inserted[0]["id"])
        self._add_details(db, activity_id, a, prepared)
        self._link(db, activity_id, a, sha256)
        return activity_id

    def _arrived_again(
        self,
        db: Db,
        a: Activity,
        sha256: str | None,
        path: str | None,
        prepared: _Prepared | None,
    ) -> int | None:
        """A record whose source identity is stored: carry out
        :func:`heavylegs_sync.linking.plan_duplicate` (fill metadata, replace a flawed
        record under the same id). The id when replaced, else None."""
        from heavylegs_sync import linking  # writing only: reads (today) never load it

        row = db.execute(
            "SELECT id, notes, perceived_exertion, relative_effort, weight_lifted_kg "
            "FROM activities WHERE athlete_id = ? AND source = ? AND source_id = ?",
            (self._athlete_to_write, a.source, a.source_id),
        ).fetchone()
        stored = linking.StoredRecord(
            id=int(row["id"]),
            notes=tuple(row["notes"].split(_NOTE_SEP)) if row["notes"] else (),
            perceived_exertion=row["perceived_exertion"],
            relative_effort=row["relative_effort"],
            weight_lifted_kg=row["weight_lifted_kg"],
        )
        plan = linking.plan_duplicate(stored, a)
        if plan.metadata is not None:
            db.execute(
                "UPDATE activities SET perceived_exertion = ?, relative_effort = ?,"
                " weight_lifted_kg = ? WHERE id = ?",
                (*plan.metadata, stored.id),
            )
        if not plan.replace:
            return None
        db.execute(
            f"UPDATE activities SET {', '.join(c + ' = ?' for c in _RECORD_COLUMNS)} WHERE id = ?",
            (*_record_values(a, sha256, path), stored.id),
        )
        for table in ("samples", "strength_sets", "derived"):
            db.execute(f"DELETE FROM {table} WHERE activity_id = ?", (stored.id,))
        self._add_details(db, stored.id, a, prepared)
        return stored.id

    def _add_details(
        self,
        db: Db,
        activity_id: int,
        a: Activity,
        prepared: _Prepared | None = None,
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
        db.executemany(
            "INSERT INTO strength_sets (activity_id, idx, category, reps, weight_kg, duration_s)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(activity_id, s.index, s.category, s.reps, s.weight_kg, s.duration_s) for s in a.sets],
        )

    def _link(self, db: Db, new_id: int, a: Activity, sha256: str | None) -> None:
        """Link a new record to an already stored copy of the same activity, as
        :func:`heavylegs_sync.linking.plan_link` says: the richer record stays primary and
        the other points to it, so the analysis counts the activity once and
        ``activities`` lists every source; the more trustworthy clock decides the time.
        """
        from heavylegs_sync import linking, matching  # writing only: reads (today) never load them

        since, until = linking.candidate_window(a)
        # "+a.primary_id": never search by primary_id (nearly every row has none), so
        # SQLite takes the start-time index; otherwise each import scans every activity.
        rows = db.execute(
            "SELECT a.id, a.source, a.start_utc, a.utc_offset_s, a.elapsed_s, a.timer_s, "
            "a.distance_m, a.offset_source, coalesce(s.n, 0) AS sample_count, "
            "a.avg_hr IS NOT NULL AS has_hr, a.device, a.file_sha256 "
            "FROM activities a LEFT JOIN samples s ON s.activity_id = a.id "
            "WHERE a.athlete_id = ? AND +a.primary_id IS NULL AND a.id != ?"
            " AND a.start_utc BETWEEN ? AND ? ORDER BY a.start_utc, a.id",
            (self._athlete_to_write, new_id, _format_ts(since), _format_ts(until)),
        ).fetchall()
        candidates = [
            matching.Candidate(
                id=int(r["id"]),
                source=r["source"],
                start_utc=_parse_ts(r["start_utc"]),
                elapsed_s=r["elapsed_s"],
                timer_s=r["timer_s"],
                distance_m=r["distance_m"],
                offset_source=OffsetSource(r["offset_source"]),
                sample_count=int(r["sample_count"]),
                has_hr=bool(r["has_hr"]),
                device=r["device"],
                utc_offset_s=int(r["utc_offset_s"]),
                file_sha256=r["file_sha256"],
            )
            for r in rows
        ]
        plan = linking.plan_link(a, sha256, candidates, self.samples)
        if plan is None:
            return
        if plan.new_is_primary:
            primary = new_id
            db.execute(
                "UPDATE activities SET primary_id = ? WHERE id = ? OR primary_id = ?",
                (new_id, plan.other_id, plan.other_id),
            )
        else:
            primary = plan.other_id
            db.execute("UPDATE activities SET primary_id = ? WHERE id = ?", (primary, new_id))
        clock = plan.primary_clock
        if clock is not None:
            db.execute(
                "UPDATE activities SET start_utc = ?, utc_offset_s = ?, offset_source = ?"
                " WHERE id = ?",
                (_format_ts(clock.start_utc), clock.utc_offset_s, clock.offset_source.value,
                 primary),
            )  # fmt: skip

    def primary_of(self, activity_id: int) -> int | None:
        """The primary record a secondary copy is linked to, or None."""
        row = self._db.execute(
            "SELECT primary_id FROM activities WHERE athlete_id = ? AND id = ?",
            (self._athlete, activity_id),
        ).fetchone()
        return None if row is None or row["primary_id"] is None else int(row["primary_id"])

    def activities(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        with_samples: bool = False,
    ) -> list[Activity]:
        """Stored activities starting in [since, until), oldest first, with their sets.

        Secondary copies (the same activity from another source, linked to a primary) are
        left out; their sources are listed on the primary, and their name and export
        metadata fill what the primary lacks (:func:`heavylegs_sync.linked.merged_metadata`).
        """
        found = [a for _, a in self._read(since, until, squad=False)]
        if with_samples:
            for activity in found:
                assert activity.id is not None
                activity.samples = self.samples(activity.id)
        return found

    def squad_activities(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        share: Share | None = None,
    ) -> dict[int, list[Activity]]:
        """Every athlete's activities starting in [since, until), by athlete id, each
        list as :meth:`activities` gives it: the coach's view reads the squad's window in
        a few statements, not a few per athlete (a store opened unscoped). ``share``:
        only that part of the squad's athletes."""
        result: dict[int, list[Activity]] = {}
        for athlete_id, activity in self._read(since, until, squad=True, share=share):
            result.setdefault(athlete_id, []).append(activity)
        for found in result.values():  # read unordered: see _read
            found.sort(key=_START_ORDER)
        return result

    def _read(
        self,
        since: datetime | None,
        until: datetime | None,
        *,
        squad: bool,
        share: Share | None = None,
    ) -> list[tuple[int, Activity]]:
        """Primary records starting in [since, until) with their athlete's id: the
        connection's athlete's, oldest first, or (``squad``) every athlete's (of
        ``share``) in no order: the server sorting a squad's window (some 16,000 wide rows
        a part on the club bench) took as long as finding them, the caller sorts each
        athlete's few dozen."""
        span, params = _span(since, until)
        if squad:  # by activities_window (start, primaries only)
            part, part_params = _whose("a.athlete_id", None, share)
            clauses = ["a.primary_id IS NULL", *span, *part]
            params.extend(part_params)
        else:  # by activities_start (athlete, start); "+": not by the primary_id index
            clauses = ["a.athlete_id = ?", "+a.primary_id IS NULL", *span]
            params.insert(0, self._athlete)
        rows = self._db.execute(
            "SELECT a.athlete_id, a.id, a.source, a.source_id, a.file_sha256, a.sport, "
            "a.sub_sport, a.category, a.sport_inferred, a.start_utc, a.utc_offset_s, "
            "a.offset_source, a.timer_s, a.elapsed_s, a.distance_m, a.avg_hr, a.max_hr, "
            "a.name, a.device, a.source_path, a.hr_coverage, a.points_dropped, "
            "a.watch_max_hr, a.watch_lthr, a.watch_resting_hr, a.watch_zone_method, "
            "a.watch_age, a.sport_raw, a.notes, a.perceived_exertion, a.relative_effort, "
            "a.weight_lifted_kg, a.decoder, a.decoder_note "
            f"FROM activities a WHERE {' AND '.join(clauses)}{'' if squad else _START_SQL}",
            params,
        ).fetchall()
        if squad:  # what hangs off the window's activities, one statement each
            window = " AND ".join(clauses)
            sets = self._sets_by_activity([], window=(window, params))
            copies, extra = self._copies_of([], window=(window, params))
        else:  # by the ids just read: an index lookup
            ids = [int(r[1]) for r in rows]
            sets = self._sets_by_activity(ids)
            copies, extra = self._copies_of(ids)
        result = []
        # By position, in the SELECT's order: a squad's window is tens of thousands of
        # rows, and a name looked up per column per row is a good part of reading them.
        for (
            athlete_id, activity_id, source, source_id, file_sha256, sport,
            sub_sport, category, sport_inferred, start_utc, utc_offset_s,
            offset_source, timer_s, elapsed_s, distance_m, avg_hr, max_hr,
            name, device, source_path, hr_coverage, points_dropped,
            watch_max_hr, watch_lthr, watch_resting_hr, watch_zone_method,
            watch_age, sport_raw, notes, perceived_exertion, relative_effort,
            weight_lifted_kg, decoder, decoder_note,
        ) in rows:  # fmt: skip
            activity_id = int(activity_id)
            own = (source, _ref(source, source_id, source_path))
            found = copies.get(activity_id)
            # Most records have no copy: what linking would say of none, without asking.
            sources, refs = linked.sources_of(own, found) if found else ([own[0]], [own[1]])
            more = extra.get(activity_id)
            if more:  # a copy's name or export metadata fills what this record lacks
                shown = linked.merged_metadata(
                    {
                        "name": name,
                        "perceived_exertion": perceived_exertion,
                        "relative_effort": relative_effort,
                        "weight_lifted_kg": weight_lifted_kg,
                    },
                    more,
                )
                name = shown.get("name")
                perceived_exertion = shown.get("perceived_exertion")
                relative_effort = shown.get("relative_effort")
                weight_lifted_kg = shown.get("weight_lifted_kg")
            activity = Activity.from_store(
                {
                    "id": activity_id,
                    "source": source,
                    "source_id": source_id,
                    "file_sha256": file_sha256,
                    "sport": sport,
                    "sub_sport": sub_sport,
                    "category": _CATEGORIES.get(category) or Category(category),
                    "sport_inferred": bool(sport_inferred),
                    "start_utc": _parse_ts(start_utc),
                    "utc_offset_s": int(utc_offset_s),
                    "offset_source": _OFFSET_SOURCES.get(offset_source)
                    or OffsetSource(offset_source),
                    "timer_s": timer_s,
                    "elapsed_s": elapsed_s,
                    "distance_m": distance_m,
                    "avg_hr": avg_hr,
                    "max_hr": max_hr,
                    "name": None if name is None else str(name),
                    "device": device,
                    "samples": None,
                    "sets": sets.get(activity_id, []),
                    "sources": sources,
                    "source_refs": refs,
                    "hr_coverage": hr_coverage,
                    "points_dropped": int(points_dropped or 0),
                    "hr_settings": _watch_settings(
                        watch_max_hr, watch_lthr, watch_resting_hr, watch_zone_method, watch_age
                    ),
                    "sport_raw": sport_raw,
                    "source_path": source_path,
                    "notes": tuple(notes.split(_NOTE_SEP)) if notes else (),
                    "perceived_exertion": _number(perceived_exertion),
                    "relative_effort": _number(relative_effort),
                    "weight_lifted_kg": _number(weight_lifted_kg),
                    "decoder": decoder,
                    "decoder_note": decoder_note,
                }
            )
            result.append((int(athlete_id), activity))
        return result

    def _copies_of(
        self, ids: list[int], *, window: tuple[str, list[object]] | None = None
    ) -> tuple[dict[int, list[tuple[str, str]]], dict[int, list[dict[str, object]]]]:
        """Of the primaries ``ids`` (or those ``window`` selects, every athlete's), in one
        read each: (source, reference) of every secondary copy, and the name and export
        metadata of the copies that have any, by primary id, oldest record first."""
        copies: dict[int, list[tuple[str, str]]] = {}
        extra: dict[int, list[dict[str, object]]] = {}
        keys = ("name", *linked.METADATA_FIELDS)
        for where, params in self._hung_off(ids, window):
            rows = self._db.execute(
                "SELECT c.primary_id, c.source, c.source_id, c.source_path,"
                f" {', '.join('c.' + key for key in keys)} FROM activities c"
                f" JOIN activities a ON a.id = c.primary_id WHERE {where}{_COPIES} ORDER BY c.id",
                params,
            )
            for primary, source, source_id, path, *values in rows:
                copies.setdefault(int(primary), []).append((source, _ref(source, source_id, path)))
                if any(v is not None for v in values):
                    extra.setdefault(int(primary), []).append(dict(zip(keys, values, strict=True)))
        return copies, extra

    def _hung_off(
        self, ids: list[int], window: tuple[str, list[object]] | None
    ) -> Iterator[tuple[str, list[object]]]:
        """The ``WHERE`` clauses (over primaries ``a``) that select what hangs off some
        activities: the connection's athlete's ``ids``, in lists of :data:`_CHUNK` (an
        index lookup, not everything of the athlete's: a club's database holds 1,000
        athletes); or the primaries ``window`` selects, every athlete's, in one."""
        if window is not None:
            yield window
            return
        for chunk, marks in _chunks(ids):
            yield f"a.athlete_id = ? AND a.id IN ({marks})", [self._athlete, *chunk]

    def watch_hr_settings(self) -> list[tuple[int, datetime, HrSettings]]:
        """The HR settings watches recorded with activities (every copy), oldest first,
        with the id of the primary record they came with."""
        return self._watch_hr_settings(squad=False).get(self._athlete, [])

    def squad_watch_hr_settings(
        self, *, share: Share | None = None
    ) -> dict[int, list[tuple[int, datetime, HrSettings]]]:
        """:meth:`watch_hr_settings` of every athlete (of ``share``) at once, by athlete id."""
        return self._watch_hr_settings(squad=True, share=share)

    def _watch_hr_settings(
        self, *, squad: bool, share: Share | None = None
    ) -> dict[int, list[tuple[int, datetime, HrSettings]]]:
        whose, params = _whose("athlete_id", None if squad else self._athlete, share)
        owner = "".join(f"{clause} AND " for clause in whose)
        rows = self._db.execute(
            "SELECT athlete_id, coalesce(primary_id, id) AS record, start_utc, watch_max_hr,"
            " watch_lthr, watch_resting_hr, watch_zone_method, watch_age FROM activities"
            f" WHERE {owner}(watch_max_hr IS NOT NULL OR watch_lthr IS NOT NULL"
            " OR watch_resting_hr IS NOT NULL OR watch_zone_method IS NOT NULL"
            " OR watch_age IS NOT NULL) ORDER BY start_utc, id",
            params,
        ).fetchall()
        result: dict[int, list[tuple[int, datetime, HrSettings]]] = {}
        # A watch records the same values with every activity (thousands in a squad's
        # history): one object for each set of values, shared (they are frozen).
        made: dict[tuple[object, ...], HrSettings | None] = {}
        for athlete_id, record, start, *columns in rows:  # by position, as _read
            key = tuple(columns)
            if key not in made:
                made[key] = _watch_settings(*key)
            values = made[key]
            if values is not None:
                result.setdefault(int(athlete_id), []).append(
                    (int(record), _parse_ts(start), values)
                )
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

    def latest_starts(
        self, until: datetime, min_seconds: float
    ) -> tuple[datetime | None, datetime | None]:
        """The latest start of a primary record before ``until``, and the latest of one
        not shorter than ``min_seconds`` (its duration unknown counts as not shorter):
        where an athlete gone silent was last, without reading all they did before."""
        span, params = _span(None, until)
        row = self._db.execute(
            "SELECT max(a.start_utc), max(CASE WHEN coalesce(a.timer_s, a.elapsed_s) IS NULL"
            " OR coalesce(a.timer_s, a.elapsed_s) >= ? THEN a.start_utc END)"
            f" FROM activities a WHERE a.athlete_id = ? AND a.primary_id IS NULL AND {span[0]}",
            (min_seconds, self._athlete, *params),
        ).fetchone()
        return (
            None if row[0] is None else _parse_ts(str(row[0])),
            None if row[1] is None else _parse_ts(str(row[1])),
        )

    def activities_local(
        self, first: date | None = None, last: date | None = None
    ) -> list[dict[str, Any]]:
        """Rows of the ``activities_local`` view (see docs/store.md) whose local day lies
        in [first, last], oldest first: the table other tools see, as plain dicts."""
        clauses: list[str] = ["athlete_id = ?"]
        params: list[object] = [self._athlete]
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
        return [dict(row) for row in cursor]

    def offsets_from_sources(
        self,
    ) -> list[Evidence]:
        """Every record whose own source gave its UTC offset (a FIT file's local time,
        Strava's local start), copies included, oldest first: the evidence of where the
        athlete was. Each as (start UTC, offset s, source, source id, file path, the IANA
        zone Strava named or None)."""
        return self._offsets_from_sources([self._athlete]).get(self._athlete, [])

    def squad_offsets_from_sources(self, athlete_ids: Sequence[int]) -> dict[int, list[Evidence]]:
        """:meth:`offsets_from_sources` of the athletes ``athlete_ids``, by athlete id."""
        return self._offsets_from_sources(athlete_ids)

    def _offsets_from_sources(self, athlete_ids: Sequence[int]) -> dict[int, list[Evidence]]:
        result: dict[int, list[Evidence]] = {}
        for chunk, marks in _chunks(athlete_ids):
            rows = self._db.execute(
                "SELECT a.athlete_id, a.start_utc, a.utc_offset_s, a.source, a.source_id,"
                " a.source_path, j.raw_json FROM activities a"
                " LEFT JOIN strava_json j ON j.activity_id = a.id"
                f" WHERE a.athlete_id IN ({marks}) AND a.offset_source = ?"
                " ORDER BY a.start_utc, a.id",
                (*chunk, OffsetSource.DEVICE.value),
            ).fetchall()
            for athlete_id, start, offset, source, source_id, path, raw in rows:
                zone: str | None = None
                if raw:
                    try:
                        summary = json.loads(raw)
                    except ValueError:
                        summary = {}
                    if not isinstance(summary, dict):
                        summary = {}
                    if (
                        summary.get("start_date_local") is None
                        and summary.get("utc_offset") is None
                    ):
                        continue  # Strava said nothing of the local time: no evidence
                    text = summary.get("timezone")
                    zone = text if isinstance(text, str) else None
                result.setdefault(int(athlete_id), []).append(
                    (_parse_ts(start), int(offset), source, source_id, path, zone)
                )
        return result

    def offsets_by_zone(self) -> list[tuple[int, datetime, int]]:
        """(id, start UTC, offset s) of every record whose source gave no offset, so a
        zone dated it (GPX, TCX, a Strava export's rows): what re-dating may change."""
        rows = self._db.execute(
            "SELECT id, start_utc, utc_offset_s FROM activities WHERE athlete_id = ?"
            " AND offset_source = ?",
            (self._athlete, OffsetSource.TIMEZONE.value),
        ).fetchall()
        return [(int(r[0]), _parse_ts(r[1]), int(r[2])) for r in rows]

    def set_offsets(self, offsets: Mapping[int, int]) -> int:
        """Re-date records a zone dated: their new UTC offsets by id, in one transaction.
        Records with an offset of their own are never changed. Returns how many changed."""
        if not offsets:
            return 0
        with self._write() as db:
            changed = 0
            for activity_id, offset in offsets.items():
                changed += db.execute(
                    "UPDATE activities SET utc_offset_s = ? WHERE athlete_id = ? AND id = ?"
                    " AND offset_source = ? AND utc_offset_s != ?",
                    (
                        offset,
                        self._athlete_to_write,
                        activity_id,
                        OffsetSource.TIMEZONE.value,
                        offset,
                    ),
                ).rowcount
        return changed

    def start_of(self, activity_id: int) -> datetime | None:
        """When a stored activity started (UTC), or None when there is no such id."""
        row = self._db.execute(
            "SELECT start_utc FROM activities WHERE athlete_id = ? AND id = ?",
            (self._athlete, activity_id),
        ).fetchone()
        return None if row is None else _parse_ts(row["start_utc"])

    def packed_samples(self, activity_id: int) -> bytes | None:
        """The stored samples of one activity as kept (``codec``), or None without samples:
        for a worker process to decode, so this one only reads."""
        row = self._db.execute(_SAMPLES_OF, (activity_id, self._athlete)).fetchone()
        return None if row is None else bytes(row["data"])

    def samples(self, activity_id: int) -> Samples | None:
        """The stored samples of one activity, or None when it has none."""
        row = self._db.execute(_SAMPLES_OF, (activity_id, self._athlete)).fetchone()
        if row is None:
            return None
        # numpy only here: reading stored figures (report, today) needs no samples.
        from heavylegs_sync.codec import CodecError, decode_samples

        try:
            return decode_samples(bytes(row["data"]))
        except CodecError as exc:
            raise StoreError(f"{self.path}: samples of activity {activity_id}: {exc}") from exc

    def _sets_by_activity(
        self, ids: list[int], *, window: tuple[str, list[object]] | None = None
    ) -> dict[int, list[StrengthSet]]:
        """Strength sets by activity id, in order (of ``ids``, or of ``window``'s)."""
        result: dict[int, list[StrengthSet]] = {}
        for where, params in self._hung_off(ids, window):
            rows = self._db.execute(
                "SELECT s.activity_id, s.idx, s.category, s.reps, s.weight_kg, s.duration_s"
                f" FROM strength_sets s JOIN activities a ON a.id = s.activity_id WHERE {where}"
                " ORDER BY s.activity_id, s.idx",
                params,
            )
            for r in rows:
                result.setdefault(int(r["activity_id"]), []).append(
                    StrengthSet(
                        index=r["idx"],
                        category=r["category"],
                        reps=r["reps"],
                        weight_kg=r["weight_kg"],
                        duration_s=r["duration_s"],
                    )
                )
        return result

    def sample_count(self) -> int:
        """Samples stored over all activities."""
        row = self._db.execute(
            "SELECT coalesce(sum(s.n), 0) AS n FROM samples s"
            " JOIN activities a ON a.id = s.activity_id WHERE a.athlete_id = ?",
            (self._athlete,),
        ).fetchone()
        return int(row["n"])

    def count(self) -> int:
        """Number of stored activities, secondary copies included."""
        return int(
            self._db.execute(
                "SELECT count(*) AS n FROM activities WHERE athlete_id = ?", (self._athlete,)
            ).fetchone()["n"]
        )


#: One activity's samples, if the activity is the scoped athlete's.
_SAMPLES_OF = (
    "SELECT s.data FROM samples s JOIN activities a ON a.id = s.activity_id"
    " WHERE s.activity_id = ? AND a.athlete_id = ?"
)


#: The stored spellings of the enumerations, looked up once (a squad's read makes tens of
#: thousands of records; an unknown spelling still raises, by the enumeration itself).
_CATEGORIES = {c.value: c for c in Category}
#: Records oldest first: the store's order (one athlete's read), and the key that puts
#: a squad's read in it.
_START_SQL = " ORDER BY a.start_utc, a.id"
_START_ORDER = attrgetter("start_utc", "id")
_OFFSET_SOURCES = {o.value: o for o in OffsetSource}

#: Said outright though the join implies it: PostgreSQL then finds the copies (few) by
#: their index instead of reading every record to join a squad's window (0.2 s a view).
_COPIES = " AND c.primary_id IS NOT NULL"

#: Ids per ``IN (...)`` list: well under SQLite's limit on parameters.
_CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterator[tuple[list[int], str]]:
    """``ids`` in lists of at most :data:`_CHUNK`, each with its ``?, ?, ...`` marks: what
    hangs off some activities is read by their ids (an index lookup), not by reading what
    hangs off every activity of the athlete (a club's database holds 1,000 athletes)."""
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        yield chunk, ",".join("?" * len(chunk))


def _number(value: object) -> float | None:
    return None if value is None else float(str(value))
