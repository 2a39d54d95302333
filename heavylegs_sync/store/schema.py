"""The schema: forward migrations, and the SQL functions they use."""

from __future__ import annotations

import sqlite3

from heavylegs_sync.categories import sport_name

#: One row a day with each value from the richest source (as
#: :func:`heavylegs_sync.wellness.merge_days` decides), in SQL both backends speak.
WELLNESS_DAYS_VIEW = """
    CREATE VIEW wellness_days AS
    WITH ranked AS (
        SELECT athlete_id, day, source, sleep_s, resting_hr, hrv_ms,
            CASE source WHEN 'fit' THEN 0 WHEN 'garmin' THEN 1 WHEN 'csv' THEN 2 ELSE 3 END
                AS source_rank,
            (deep_s IS NOT NULL OR light_s IS NOT NULL OR rem_s IS NOT NULL) AS staged
        FROM wellness
    ),
    sleep AS (
        SELECT athlete_id, day, sleep_s, source,
            row_number() OVER (PARTITION BY athlete_id, day ORDER BY staged DESC, source_rank)
                AS n
        FROM ranked WHERE sleep_s IS NOT NULL
    ),
    resting AS (
        SELECT athlete_id, day, resting_hr, source,
            row_number() OVER (PARTITION BY athlete_id, day ORDER BY source_rank) AS n
        FROM ranked WHERE resting_hr IS NOT NULL
    ),
    hrv AS (
        SELECT athlete_id, day, hrv_ms, source,
            row_number() OVER (PARTITION BY athlete_id, day ORDER BY source_rank) AS n
        FROM ranked WHERE hrv_ms IS NOT NULL
    )
    SELECT d.athlete_id,
        (SELECT name FROM athletes t WHERE t.id = d.athlete_id) AS athlete,
        d.day AS date,
        CAST(round(CAST(s.sleep_s / 3600.0 AS NUMERIC), 2) AS DOUBLE PRECISION) AS sleep_hours,
        r.resting_hr AS resting_hr,
        h.hrv_ms AS hrv_ms,
        s.source AS sleep_source,
        r.source AS resting_hr_source,
        h.source AS hrv_source
    FROM (SELECT DISTINCT athlete_id, day FROM wellness) d
    LEFT JOIN sleep s ON s.athlete_id = d.athlete_id AND s.day = d.day AND s.n = 1
    LEFT JOIN resting r ON r.athlete_id = d.athlete_id AND r.day = d.day AND r.n = 1
    LEFT JOIN hrv h ON h.athlete_id = d.athlete_id AND h.day = d.day AND h.n = 1
    ORDER BY d.athlete_id, d.day;
"""

#: The views other tools read (docs/store.md), one row per athlete's activity, week and
#: day, as schema 11 made them; :mod:`.dialect` holds PostgreSQL's spelling of the same.
VIEWS_SQLITE = (
    """
    CREATE VIEW activities_local AS
    SELECT id, athlete_id, athlete, local_date, local_time, weekday,
        strftime('%Y', date(week_start, '+3 days')) || '-W'
            || printf('%02d', (strftime('%j', date(week_start, '+3 days')) - 1) / 7 + 1)
            AS iso_week,
        week_start, category, sport, sport_raw, sub_sport, duration_s, distance_m,
        avg_hr, max_hr, sources, name, start_utc, utc_offset, source_path
    FROM (
        SELECT *, date(local_date, '-' || ((strftime('%w', local_date) + 6) % 7) || ' days')
            AS week_start
        FROM (
            SELECT a.id, a.athlete_id, (SELECT name FROM athletes t WHERE t.id = a.athlete_id)
                    AS athlete,
                date(a.start_utc, a.utc_offset_s || ' seconds') AS local_date,
                strftime('%H:%M:%S', a.start_utc, a.utc_offset_s || ' seconds') AS local_time,
                substr('SunMonTueWedThuFriSat',
                    1 + 3 * strftime('%w', a.start_utc, a.utc_offset_s || ' seconds'), 3)
                    AS weekday,
                a.category, a.sport, a.sport_raw, a.sub_sport,
                coalesce(a.timer_s, a.elapsed_s) AS duration_s, a.distance_m,
                a.avg_hr, a.max_hr,
                a.source || coalesce((SELECT ',' || group_concat(DISTINCT s.source)
                    FROM activities s WHERE s.primary_id = a.id AND s.source != a.source), '')
                    AS sources,
                a.name, a.start_utc,
                CASE WHEN a.utc_offset_s < 0 THEN '-' ELSE '+' END
                    || printf('%02d:%02d', abs(a.utc_offset_s) / 3600,
                        abs(a.utc_offset_s) % 3600 / 60) AS utc_offset,
                a.source_path
            FROM activities a
            WHERE a.primary_id IS NULL
        )
    );
    CREATE VIEW weekly AS
    WITH RECURSIVE weeks(athlete_id, week_start) AS (
        SELECT athlete_id, min(week_start) FROM activities_local GROUP BY athlete_id
        UNION ALL
        SELECT w.athlete_id, date(w.week_start, '+7 days') FROM weeks w
        WHERE w.week_start < (SELECT max(l.week_start) FROM activities_local l
            WHERE l.athlete_id = w.athlete_id)
    ),
    figures AS (
        SELECT athlete_id, week_start,
            count(*) AS activities,
            sum(category = 'run') AS runs,
            sum(CASE WHEN category = 'run' THEN coalesce(duration_s, 0) ELSE 0 END)
                AS run_seconds,
            sum(CASE WHEN category = 'run' THEN coalesce(distance_m, 0) ELSE 0 END)
                AS run_distance_m,
            sum(category = 'strength') AS strength_sessions,
            sum(category = 'cross') AS cross_sessions,
            count(DISTINCT CASE WHEN category != 'light' THEN local_date END) AS training_days
        FROM activities_local
        GROUP BY athlete_id, week_start
    )
    SELECT w.athlete_id,
        (SELECT name FROM athletes t WHERE t.id = w.athlete_id) AS athlete,
        w.week_start,
        strftime('%Y', date(w.week_start, '+3 days')) || '-W'
            || printf('%02d', (strftime('%j', date(w.week_start, '+3 days')) - 1) / 7 + 1)
            AS iso_week,
        coalesce(f.activities, 0) AS activities,
        coalesce(f.runs, 0) AS runs,
        coalesce(f.run_seconds, 0) AS run_seconds,
        round(coalesce(f.run_distance_m, 0) / 1000.0, 2) AS run_km,
        coalesce(f.run_distance_m, 0) AS run_distance_m,
        coalesce(f.strength_sessions, 0) AS strength_sessions,
        coalesce(f.cross_sessions, 0) AS cross_sessions,
        coalesce(f.training_days, 0) AS training_days,
        max(0, min(7, CAST(julianday(date('now', 'localtime')) - julianday(w.week_start) AS INTEGER)
            + 1) - coalesce(f.training_days, 0)) AS rest_days
    FROM weeks w LEFT JOIN figures f
        ON f.athlete_id = w.athlete_id AND f.week_start = w.week_start
    WHERE w.week_start IS NOT NULL
    ORDER BY w.athlete_id, w.week_start;
"""
    + WELLNESS_DAYS_VIEW
)


#: Forward migrations; schema version N is reached by running the first N scripts.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE activities (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        file_sha256 TEXT,
        source_path TEXT,
        sport TEXT,
        sub_sport TEXT,
        category TEXT NOT NULL,
        sport_inferred INTEGER NOT NULL DEFAULT 0,
        start_utc TEXT NOT NULL,
        utc_offset_s INTEGER NOT NULL,
        offset_source TEXT NOT NULL,
        timer_s REAL,
        elapsed_s REAL,
        distance_m REAL,
        avg_hr REAL,
        max_hr REAL,
        name TEXT,
        device TEXT,
        primary_id INTEGER REFERENCES activities(id) ON DELETE SET NULL,
        imported_at TEXT NOT NULL,
        UNIQUE (source, source_id)
    );
    CREATE INDEX activities_start ON activities (start_utc);
    CREATE INDEX activities_file ON activities (file_sha256);
    CREATE TABLE samples (
        activity_id INTEGER PRIMARY KEY REFERENCES activities(id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    CREATE TABLE strength_sets (
        activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        category TEXT,
        reps INTEGER,
        weight_kg REAL,
        duration_s REAL,
        PRIMARY KEY (activity_id, idx)
    );
    CREATE TABLE files (
        sha256 TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        activities INTEGER NOT NULL,
        imported_at TEXT NOT NULL
    );
    CREATE TABLE import_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('new', 'duplicate', 'failed')),
        activities INTEGER NOT NULL DEFAULT 0,
        message TEXT
    );
    CREATE INDEX import_log_path ON import_log (path);
    CREATE INDEX import_log_sha ON import_log (sha256);
    """,
    """
    ALTER TABLE activities ADD COLUMN raw_json TEXT;
    CREATE INDEX activities_primary ON activities (primary_id);
    CREATE TABLE state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE strava_queue (
        strava_id INTEGER PRIMARY KEY,
        start_utc TEXT NOT NULL,
        summary TEXT NOT NULL,
        queued_at TEXT NOT NULL
    );
    CREATE TABLE derived (
        activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (activity_id, kind)
    );
    """,
    """
    ALTER TABLE activities ADD COLUMN hr_coverage REAL;
    ALTER TABLE activities ADD COLUMN points_dropped INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE activities ADD COLUMN watch_max_hr REAL;
    ALTER TABLE activities ADD COLUMN watch_lthr REAL;
    ALTER TABLE activities ADD COLUMN watch_resting_hr REAL;
    ALTER TABLE activities ADD COLUMN watch_zone_method TEXT;
    ALTER TABLE activities ADD COLUMN watch_age REAL;
    """,
    # 4: one sport vocabulary (raw value kept), local-time views for other tools.
    # heavylegs_sport_name() is categories.sport_name, registered on every connection.
    """
    ALTER TABLE activities ADD COLUMN sport_raw TEXT;
    UPDATE activities SET sport_raw = sport, sport = heavylegs_sport_name(sport, sub_sport)
        WHERE sport IS NOT NULL;
    CREATE VIEW activities_local AS
    SELECT id, local_date, local_time, weekday,
        strftime('%Y', date(week_start, '+3 days')) || '-W'
            || printf('%02d', (strftime('%j', date(week_start, '+3 days')) - 1) / 7 + 1)
            AS iso_week,
        week_start, category, sport, sport_raw, sub_sport, duration_s, distance_m,
        avg_hr, max_hr, sources, name, start_utc, utc_offset, source_path
    FROM (
        SELECT *, date(local_date, '-' || ((strftime('%w', local_date) + 6) % 7) || ' days')
            AS week_start
        FROM (
            SELECT a.id,
                date(a.start_utc, a.utc_offset_s || ' seconds') AS local_date,
                strftime('%H:%M:%S', a.start_utc, a.utc_offset_s || ' seconds') AS local_time,
                substr('SunMonTueWedThuFriSat',
                    1 + 3 * strftime('%w', a.start_utc, a.utc_offset_s || ' seconds'), 3)
                    AS weekday,
                a.category, a.sport, a.sport_raw, a.sub_sport,
                coalesce(a.timer_s, a.elapsed_s) AS duration_s, a.distance_m,
                a.avg_hr, a.max_hr,
                a.source || coalesce((SELECT ',' || group_concat(DISTINCT s.source)
                    FROM activities s WHERE s.primary_id = a.id AND s.source != a.source), '')
                    AS sources,
                a.name, a.start_utc,
                CASE WHEN a.utc_offset_s < 0 THEN '-' ELSE '+' END
                    || printf('%02d:%02d', abs(a.utc_offset_s) / 3600,
                        abs(a.utc_offset_s) % 3600 / 60) AS utc_offset,
                a.source_path
            FROM activities a
            WHERE a.primary_id IS NULL
        )
    );
    CREATE VIEW weekly AS
    WITH RECURSIVE weeks(week_start) AS (
        SELECT min(week_start) FROM activities_local
        UNION ALL
        SELECT date(week_start, '+7 days') FROM weeks
        WHERE week_start < (SELECT max(week_start) FROM activities_local)
    ),
    figures AS (
        SELECT week_start,
            count(*) AS activities,
            sum(category = 'run') AS runs,
            sum(CASE WHEN category = 'run' THEN coalesce(duration_s, 0) ELSE 0 END)
                AS run_seconds,
            sum(CASE WHEN category = 'run' THEN coalesce(distance_m, 0) ELSE 0 END)
                AS run_distance_m,
            sum(category = 'strength') AS strength_sessions,
            sum(category = 'cross') AS cross_sessions,
            count(DISTINCT CASE WHEN category != 'light' THEN local_date END) AS training_days
        FROM activities_local
        GROUP BY week_start
    )
    SELECT w.week_start,
        strftime('%Y', date(w.week_start, '+3 days')) || '-W'
            || printf('%02d', (strftime('%j', date(w.week_start, '+3 days')) - 1) / 7 + 1)
            AS iso_week,
        coalesce(f.activities, 0) AS activities,
        coalesce(f.runs, 0) AS runs,
        coalesce(f.run_seconds, 0) AS run_seconds,
        round(coalesce(f.run_distance_m, 0) / 1000.0, 2) AS run_km,
        coalesce(f.run_distance_m, 0) AS run_distance_m,
        coalesce(f.strength_sessions, 0) AS strength_sessions,
        coalesce(f.cross_sessions, 0) AS cross_sessions,
        coalesce(f.training_days, 0) AS training_days,
        max(0, min(7, CAST(julianday(date('now', 'localtime')) - julianday(w.week_start) AS INTEGER)
            + 1) - coalesce(f.training_days, 0)) AS rest_days
    FROM weeks w LEFT JOIN figures f ON f.week_start = w.week_start
    WHERE w.week_start IS NOT NULL
    ORDER BY w.week_start;
    """,
    # 5: what is not whole about a record (a truncated file, dropped values).
    """
    ALTER TABLE activities ADD COLUMN notes TEXT;
    """,
    # 6: what a Strava export's list says of an activity (on the row's own record), and
    # files that hold no activity logged as skipped, not failed.
    """
    ALTER TABLE activities ADD COLUMN perceived_exertion REAL;
    ALTER TABLE activities ADD COLUMN relative_effort REAL;
    ALTER TABLE activities ADD COLUMN weight_lifted_kg REAL;
    CREATE TABLE import_log_6 (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('new', 'duplicate', 'skipped', 'failed')),
        activities INTEGER NOT NULL DEFAULT 0,
        message TEXT
    );
    INSERT INTO import_log_6 (id, at, path, sha256, outcome, activities, message)
        SELECT id, at, path, sha256,
            CASE WHEN outcome = 'failed' AND message LIKE 'not an activity file%'
                THEN 'skipped' ELSE outcome END,
            activities, message
        FROM import_log;
    DROP TABLE import_log;
    ALTER TABLE import_log_6 RENAME TO import_log;
    CREATE INDEX import_log_path ON import_log (path);
    CREATE INDEX import_log_sha ON import_log (sha256);
    """,
    # 7: which decoder read a file, and why the fast one did not (issue 11).
    """
    ALTER TABLE activities ADD COLUMN decoder TEXT;
    ALTER TABLE activities ADD COLUMN decoder_note TEXT;
    """,
    # 8: wellness (issue 22): what each source says of a day (sleep, resting HR, HRV); one
    # row per day and source, the values of several files of one source merged into it.
    """
    CREATE TABLE wellness (
        day TEXT NOT NULL,
        source TEXT NOT NULL,
        origin TEXT NOT NULL,
        file_sha256 TEXT,
        sleep_s REAL,
        deep_s REAL,
        light_s REAL,
        rem_s REAL,
        awake_s REAL,
        sleep_start TEXT,
        sleep_end TEXT,
        resting_hr REAL,
        hrv_ms REAL,
        imported_at TEXT NOT NULL,
        PRIMARY KEY (day, source)
    );
    CREATE INDEX wellness_file ON wellness (file_sha256);
    """,
    # 9: which files filled each wellness row (the sleep file, the daily summaries and
    # the HRV file of one export all fill a day's row), so forgetting a file knows what it
    # touched and whose values went with it.
    """
    CREATE TABLE wellness_files (
        day TEXT NOT NULL,
        source TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        PRIMARY KEY (day, source, file_sha256)
    );
    CREATE INDEX wellness_files_file ON wellness_files (file_sha256);
    INSERT INTO wellness_files (day, source, file_sha256)
        SELECT day, source, file_sha256 FROM wellness WHERE file_sha256 IS NOT NULL;
    """,
    # 10: wellness_days, one row a day with each value from the richest source, as
    # heavylegs_sync.wellness.merge_days decides (docs/store.md; a test holds them equal).
    """
    CREATE VIEW wellness_days AS
    WITH ranked AS (
        SELECT day, source, sleep_s, resting_hr, hrv_ms,
            CASE source WHEN 'fit' THEN 0 WHEN 'garmin' THEN 1 WHEN 'csv' THEN 2 ELSE 3 END
                AS source_rank,
            (deep_s IS NOT NULL OR light_s IS NOT NULL OR rem_s IS NOT NULL) AS staged
        FROM wellness
    ),
    sleep AS (
        SELECT day, sleep_s, source,
            row_number() OVER (PARTITION BY day ORDER BY staged DESC, source_rank) AS n
        FROM ranked WHERE sleep_s IS NOT NULL
    ),
    resting AS (
        SELECT day, resting_hr, source,
            row_number() OVER (PARTITION BY day ORDER BY source_rank) AS n
        FROM ranked WHERE resting_hr IS NOT NULL
    ),
    hrv AS (
        SELECT day, hrv_ms, source,
            row_number() OVER (PARTITION BY day ORDER BY source_rank) AS n
        FROM ranked WHERE hrv_ms IS NOT NULL
    )
    SELECT d.day AS date,
        round(s.sleep_s / 3600.0, 2) AS sleep_hours,
        r.resting_hr AS resting_hr,
        h.hrv_ms AS hrv_ms,
        s.source AS sleep_source,
        r.source AS resting_hr_source,
        h.source AS hrv_source
    FROM (SELECT DISTINCT day FROM wellness) d
    LEFT JOIN sleep s ON s.day = d.day AND s.n = 1
    LEFT JOIN resting r ON r.day = d.day AND r.n = 1
    LEFT JOIN hrv h ON h.day = d.day AND h.n = 1
    ORDER BY d.day;
    """,
    # 11: athletes (issue 23): every row belongs to one; an id is never given twice
    # (what is kept beside the store by id, the Strava tokens, never passes on). A store
    # that holds anything gets the athlete "me" and all of it; keys that were unique in the
    # store are unique per athlete (two athletes may import the same file). SQLite
    # changes a key only by rebuilding the table (foreign keys are off while migrations
    # run: connection.py).
    """
    CREATE TABLE athletes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        timezone TEXT,
        created_at TEXT NOT NULL
    );
    INSERT INTO athletes (id, name, created_at)
        SELECT 1, 'me', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        WHERE EXISTS (SELECT 1 FROM activities) OR EXISTS (SELECT 1 FROM files)
            OR EXISTS (SELECT 1 FROM import_log) OR EXISTS (SELECT 1 FROM state)
            OR EXISTS (SELECT 1 FROM strava_queue) OR EXISTS (SELECT 1 FROM wellness);
    DROP VIEW activities_local;
    DROP VIEW weekly;
    DROP VIEW wellness_days;
    CREATE TABLE activities_11 (
        id INTEGER PRIMARY KEY,
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        file_sha256 TEXT,
        source_path TEXT,
        sport TEXT,
        sub_sport TEXT,
        category TEXT NOT NULL,
        sport_inferred INTEGER NOT NULL DEFAULT 0,
        start_utc TEXT NOT NULL,
        utc_offset_s INTEGER NOT NULL,
        offset_source TEXT NOT NULL,
        timer_s REAL,
        elapsed_s REAL,
        distance_m REAL,
        avg_hr REAL,
        max_hr REAL,
        name TEXT,
        device TEXT,
        primary_id INTEGER REFERENCES activities(id) ON DELETE SET NULL,
        imported_at TEXT NOT NULL,
        raw_json TEXT,
        hr_coverage REAL,
        points_dropped INTEGER NOT NULL DEFAULT 0,
        watch_max_hr REAL,
        watch_lthr REAL,
        watch_resting_hr REAL,
        watch_zone_method TEXT,
        watch_age REAL,
        sport_raw TEXT,
        notes TEXT,
        perceived_exertion REAL,
        relative_effort REAL,
        weight_lifted_kg REAL,
        decoder TEXT,
        decoder_note TEXT,
        UNIQUE (athlete_id, source, source_id)
    );
    INSERT INTO activities_11 SELECT id, 1, source, source_id, file_sha256, source_path,
        sport, sub_sport, category, sport_inferred, start_utc, utc_offset_s, offset_source,
        timer_s, elapsed_s, distance_m, avg_hr, max_hr, name, device, primary_id,
        imported_at, raw_json, hr_coverage, points_dropped, watch_max_hr, watch_lthr,
        watch_resting_hr, watch_zone_method, watch_age, sport_raw, notes,
        perceived_exertion, relative_effort, weight_lifted_kg, decoder, decoder_note
        FROM activities;
    DROP TABLE activities;
    ALTER TABLE activities_11 RENAME TO activities;
    CREATE INDEX activities_start ON activities (athlete_id, start_utc);
    CREATE INDEX activities_file ON activities (file_sha256);
    CREATE INDEX activities_primary ON activities (primary_id);
    CREATE TABLE files_11 (
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        sha256 TEXT NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        activities INTEGER NOT NULL,
        imported_at TEXT NOT NULL,
        PRIMARY KEY (athlete_id, sha256)
    );
    INSERT INTO files_11 SELECT 1, sha256, path, size, activities, imported_at FROM files;
    DROP TABLE files;
    ALTER TABLE files_11 RENAME TO files;
    CREATE INDEX files_path ON files (athlete_id, path);
    CREATE TABLE import_log_11 (
        id INTEGER PRIMARY KEY,
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('new', 'duplicate', 'skipped', 'failed')),
        activities INTEGER NOT NULL DEFAULT 0,
        message TEXT
    );
    INSERT INTO import_log_11 SELECT id, 1, at, path, sha256, outcome, activities, message
        FROM import_log;
    DROP TABLE import_log;
    ALTER TABLE import_log_11 RENAME TO import_log;
    CREATE INDEX import_log_path ON import_log (athlete_id, path);
    CREATE INDEX import_log_sha ON import_log (athlete_id, sha256);
    CREATE TABLE state_11 (
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (athlete_id, key)
    );
    INSERT INTO state_11 SELECT 1, key, value FROM state;
    DROP TABLE state;
    ALTER TABLE state_11 RENAME TO state;
    CREATE TABLE strava_queue_11 (
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        strava_id INTEGER NOT NULL,
        start_utc TEXT NOT NULL,
        summary TEXT NOT NULL,
        queued_at TEXT NOT NULL,
        PRIMARY KEY (athlete_id, strava_id)
    );
    INSERT INTO strava_queue_11 SELECT 1, strava_id, start_utc, summary, queued_at
        FROM strava_queue;
    DROP TABLE strava_queue;
    ALTER TABLE strava_queue_11 RENAME TO strava_queue;
    CREATE TABLE wellness_11 (
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        source TEXT NOT NULL,
        origin TEXT NOT NULL,
        file_sha256 TEXT,
        sleep_s REAL,
        deep_s REAL,
        light_s REAL,
        rem_s REAL,
        awake_s REAL,
        sleep_start TEXT,
        sleep_end TEXT,
        resting_hr REAL,
        hrv_ms REAL,
        imported_at TEXT NOT NULL,
        PRIMARY KEY (athlete_id, day, source)
    );
    INSERT INTO wellness_11 SELECT 1, day, source, origin, file_sha256, sleep_s, deep_s,
        light_s, rem_s, awake_s, sleep_start, sleep_end, resting_hr, hrv_ms, imported_at
        FROM wellness;
    DROP TABLE wellness;
    ALTER TABLE wellness_11 RENAME TO wellness;
    CREATE INDEX wellness_file ON wellness (file_sha256);
    CREATE TABLE wellness_files_11 (
        athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        source TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        PRIMARY KEY (athlete_id, day, source, file_sha256)
    );
    INSERT INTO wellness_files_11 SELECT 1, day, source, file_sha256 FROM wellness_files;
    DROP TABLE wellness_files;
    ALTER TABLE wellness_files_11 RENAME TO wellness_files;
    CREATE INDEX wellness_files_file ON wellness_files (athlete_id, file_sha256);
    """
    + VIEWS_SQLITE,
    # 12: the coach's view reads every athlete's weeks at once (heavylegs_sync.squad_reads):
    # the primaries of a span of days, and what hangs off them, by start alone. Covering
    # (start, id), so finding them never reads the wide rows.
    # The watches' heart-rate settings, every athlete's (a few records of each watch's):
    # found without reading every row.
    """
    CREATE INDEX activities_window ON activities (start_utc, id) WHERE primary_id IS NULL;
    CREATE INDEX activities_watch ON activities (start_utc, id) WHERE watch_max_hr IS NOT NULL
        OR watch_lthr IS NOT NULL OR watch_resting_hr IS NOT NULL
        OR watch_zone_method IS NOT NULL OR watch_age IS NOT NULL;
    """,
    # 13: Strava's JSON of an activity (some 800 bytes) beside the record, not in it: in
    # the record it made a club's activities table four times the size, and every read of
    # a squad's weeks four times the pages. SQLite keeps the emptied column (it cannot drop
    # one before 3.35); PostgreSQL drops it and rewrites the table (:mod:`.dialect`).
    """
    CREATE TABLE strava_json (
        activity_id INTEGER PRIMARY KEY REFERENCES activities(id) ON DELETE CASCADE,
        raw_json TEXT NOT NULL
    );
    INSERT INTO strava_json (activity_id, raw_json)
        SELECT id, raw_json FROM activities WHERE raw_json IS NOT NULL;
    UPDATE activities SET raw_json = NULL WHERE raw_json IS NOT NULL;
    """,
)


SCHEMA_VERSION = len(MIGRATIONS)


def _register_functions(connection: sqlite3.Connection) -> None:
    """SQL functions the migrations use (the sport vocabulary lives in categories.py)."""
    connection.create_function("heavylegs_sport_name", 2, sport_name, deterministic=True)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
