"""FIT files (fitparse): bytes in, one :class:`Activity` per session out.

Fields are read one by one with ``get_value``: fitparse's ``get_values`` keeps the last of
two same-named fields and so loses ``distance`` in Zwift files. Values outside what a body
or a device can produce (FIT "no data" sentinels such as HR 255, speed 65.535 m/s) become
NaN, never numbers.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fitparse
import fitparse.utils
import numpy as np

from heavylegs_sync.categories import fit_category, sport_name
from heavylegs_sync.errors import ImportFailed, NotAnActivity
from heavylegs_sync.hr.trace import hr_coverage
from heavylegs_sync.importers.common import (
    MAX_DISTANCE,
    DecodeOptions,
    Decoder,
    build_samples,
    check_start,
    summary_hr,
    utc_offset_for,
)
from heavylegs_sync.importers.crc import CRC_NOTE, PYTHON_CRC_NOTE
from heavylegs_sync.importers.fit_fast import (
    FITFAST_MISSING_NOTE,
    DamagedFile,
    FastDecoderMissing,
    FastPathError,
    fast_messages,
)
from heavylegs_sync.importers.fit_records import (
    RecordCollector,
    RecordTable,
    naive_utc,
    split_by_start,
    unix_seconds,
)
from heavylegs_sync.importers.parts import keep, pauses
from heavylegs_sync.importers.summary import Figures, reconcile
from heavylegs_sync.importers.track import moving_time
from heavylegs_sync.limits import SPLIT_PAUSE_S, positive
from heavylegs_sync.model import Activity, FloatArray, HrSettings, OffsetSource, StrengthSet

#: The note on an activity read from a file that ends early.
TRUNCATED = "truncated"
_NOT_ACTIVITY = "not an activity file"
#: Sessions of these sports are the gaps between the legs of a multisport file.
_SKIPPED_SPORTS = {"transition"}
_MAX_OFFSET_S = 14 * 3600
# fitparse raises its own errors for broken files, but some malformed field data reaches
# Python's own decoding inside fitparse first; raised by fitparse, all of these mean "this
# file is broken". Raised by our own code, they are bugs and are not caught as such.
_DECODE_ERRORS = (
    fitparse.utils.FitParseError,
    struct.error,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    OverflowError,
    UnicodeDecodeError,
)
#: Notes that say a decoder library is missing (not something about the file): the
#: import summary shows each once, with the number of files it concerns.
ENVIRONMENT_NOTES = frozenset({FITFAST_MISSING_NOTE, PYTHON_CRC_NOTE})


class _Unreadable(Exception):
    """fitparse itself failed on the file's bytes (``cause``); only this, never an error
    raised by our code on fitparse's output, makes a file "unreadable FIT data"."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


_FILE_ID_KEYS = (
    "type",
    "manufacturer",
    "product",
    "garmin_product",
    "serial_number",
    "time_created",
)


@dataclass
class _Session:
    sport: str | None
    sub_sport: str | None
    start: datetime | None
    end: datetime | None
    timer_s: float | None
    elapsed_s: float | None
    distance_m: float | None
    avg_hr: float | None
    max_hr: float | None
    records: RecordTable | None = None
    sets: list[StrengthSet] = field(default_factory=list)
    set_times: list[datetime | None] = field(default_factory=list)
    notes: tuple[str, ...] = ()
    whole: bool = True  # False for a part of a session split at its pauses


def decode_fit(path: Path, data: bytes, options: DecodeOptions) -> list[Activity]:
    """Decode one FIT file into activities, or raise :class:`ImportFailed`.

    ``options.decoder`` chooses: ``fast`` (fitfast only; its failure is the file's
    error), ``reference`` (fitparse only) or ``auto`` (fitfast, and fitparse when the fast
    path cannot read the file). Every activity records which decoder read it and, after a
    fallback, why (``Activity.decoder``, ``Activity.decoder_note``), a missing library
    included (:data:`ENVIRONMENT_NOTES`: fitfast, so fitparse read it; fastcrc, so the
    checksums were computed in Python). A checksum mismatch is the file's error under
    every choice: the fast path checks CRCs as fitparse does.
    """
    if not data:
        raise ImportFailed(path, "empty file (0 bytes)")
    if len(data) < 12 or data[8:12] != b".FIT":
        raise ImportFailed(path, "not a FIT file (no .FIT signature in the header)")
    fallback: str | None = None
    if options.decoder != Decoder.REFERENCE:
        try:
            activities = _decode_fast(path, data, options)
        except DamagedFile as exc:
            raise ImportFailed(path, f"corrupt FIT file: {exc}") from exc
        except FastDecoderMissing as exc:
            if options.decoder == Decoder.FAST:
                raise ImportFailed(path, f"fast decoder: {exc}") from exc
            fallback = FITFAST_MISSING_NOTE
        except FastPathError as exc:
            if options.decoder == Decoder.FAST:
                raise ImportFailed(path, f"fast decoder: {exc}") from exc
            fallback = f"fast decoder: {exc}"
        else:
            return _read_by(activities, FAST_DECODER, CRC_NOTE)
    return _read_by(_decode_reference(path, data, options), REFERENCE_DECODER, fallback)


#: What ``Activity.decoder`` says for each decoder.
FAST_DECODER = "fitfast"
REFERENCE_DECODER = "fitparse"


def _read_by(activities: list[Activity], decoder: str, note: str | None) -> list[Activity]:
    for activity in activities:
        activity.decoder = decoder
        activity.decoder_note = note
    return activities


def _decode_fast(path: Path, data: bytes, options: DecodeOptions) -> list[Activity]:
    """The fast path; :class:`FastPathError` says why it could not read the file.

    Once fitfast has decoded the file, the importer's verdict (e.g. "not an activity
    file") is final: the corpus test holds both paths to the same verdicts.
    """
    try:
        read = fast_messages(data)
    except FastPathError:
        raise
    except _DECODE_ERRORS as exc:  # a file the adapter did not foresee: fitparse decides
        raise FastPathError(f"adapter failed: {type(exc).__name__}: {exc}") from exc
    try:
        activities = _decode_messages(path, read.messages, options)
    except ImportFailed as exc:
        if read.truncated:  # nothing usable before the break: fitparse words the error
            raise FastPathError(f"truncated: {read.truncated} ({exc.reason})") from exc
        raise
    except _DECODE_ERRORS as exc:
        raise FastPathError(f"unexpected value: {type(exc).__name__}: {exc}") from exc
    if read.truncated:
        _mark_truncated(activities)
    return activities


def _decode_reference(path: Path, data: bytes, options: DecodeOptions) -> list[Activity]:
    """fitparse, the reference decoder, which also words every error."""
    broke: list[fitparse.utils.FitEOFError] = []
    try:
        activities = _decode_messages(path, _fitparse_messages(data, broke), options)
    except ImportFailed as exc:
        if broke:
            raise ImportFailed(path, f"truncated FIT file: {broke[0]} ({exc.reason})") from exc
        raise
    except _Unreadable as exc:
        cause = exc.cause
        if isinstance(cause, fitparse.utils.FitCRCError):
            raise ImportFailed(path, f"corrupt FIT file: {cause}") from cause
        if isinstance(cause, fitparse.utils.FitEOFError):
            raise ImportFailed(path, f"truncated FIT file: {cause}") from cause
        if isinstance(cause, fitparse.utils.FitHeaderError):
            raise ImportFailed(path, f"corrupt FIT header: {cause}") from cause
        raise ImportFailed(path, f"unreadable FIT data: {cause}") from cause
    if broke:
        _mark_truncated(activities)
    return activities


def _fitparse_messages(data: bytes, broke: list[fitparse.utils.FitEOFError]) -> Iterator[Any]:
    """fitparse's messages up to where the file ends early (noted in ``broke``).

    Only an early end is forgiven: a checksum or header error still fails the file. What
    fitparse raises while reading comes out as :class:`_Unreadable`; what the caller
    raises while handling a message is left alone.
    """
    try:
        fit = fitparse.FitFile(io.BytesIO(data), check_crc=True)
        messages = iter(fit.get_messages())
    except _DECODE_ERRORS as exc:
        raise _Unreadable(exc) from exc
    while True:
        try:
            message = next(messages)
        except StopIteration:
            return
        except fitparse.utils.FitEOFError as exc:
            broke.append(exc)
            return
        except _DECODE_ERRORS as exc:
            raise _Unreadable(exc) from exc
        yield message  # fields are decoded already: reading them is ours


def _mark_truncated(activities: list[Activity]) -> None:
    """The recording broke off (battery, crash, a copy cut short): what was read before
    the break is kept, marked, and the plausibility checks judge it."""
    for activity in activities:
        activity.notes = (*activity.notes, TRUNCATED)


@dataclass
class _Segment:
    """One FIT file's worth of messages; chained files hold several, each with a file_id."""

    file_id: dict[str, Any] = field(default_factory=dict)
    sessions: list[_Session] = field(default_factory=list)
    records: RecordCollector = field(default_factory=RecordCollector)
    sets: list[tuple[datetime | None, StrengthSet]] = field(default_factory=list)
    sport: tuple[Any, Any] | None = None
    local_offset: int | None = None
    relative_times: bool = False  # the device clock was unset: times count from power-on
    hr: dict[str, Any] = field(default_factory=dict)  # zones_target / user_profile values


def _decode_messages(path: Path, messages: Iterable[Any], options: DecodeOptions) -> list[Activity]:
    """Activities from a stream of messages with fitparse's ``name``/``get_value``."""
    segments = [_Segment()]
    for message in messages:
        name = message.name
        segment = segments[-1]
        if name == "record":
            ts = message.get_value("timestamp")
            if isinstance(ts, datetime):
                speed = message.get_value("enhanced_speed")
                if speed is None:
                    speed = message.get_value("speed")
                segment.records.add(
                    ts,
                    message.get_value("heart_rate"),
                    speed,
                    message.get_value("distance"),
                    message.get_value("cadence"),
                )
        elif name == "records":  # the fast path's columnar block of record messages
            segment.records.add_block(message)
        elif name == "session":
            segment.sessions.append(_session(message))
            if isinstance(message.get_value("start_time"), int):
                segment.relative_times = True
        elif name == "file_id":
            if segment.file_id or segment.records or segment.sessions:
                segment = _Segment()
                segments.append(segment)
            segment.file_id = {key: message.get_value(key) for key in _FILE_ID_KEYS}
        elif name == "set":
            parsed = _strength_set(message, len(segment.sets))
            if parsed is not None:
                segment.sets.append(parsed)
        elif name == "sport" and segment.sport is None:
            segment.sport = (message.get_value("sport"), message.get_value("sub_sport"))
        elif name == "activity":
            segment.local_offset = _offset(
                message.get_value("timestamp"), message.get_value("local_timestamp")
            )
        elif name in ("zones_target", "user_profile"):
            for key in _HR_KEYS[name]:
                value = message.get_value(key)
                if value is not None and segment.hr.get(key) is None:
                    segment.hr[key] = value

    activities: list[Activity] = []
    reasons: list[str] = []
    for segment in segments:
        file_type = segment.file_id.get("type")
        if file_type is not None and file_type != "activity":
            reasons.append(f"{_NOT_ACTIVITY} (FIT file type {file_type})")
            continue
        if segment.relative_times and not segment.records:
            reasons.append("the device clock was not set (relative timestamps): date unknown")
            continue
        records = segment.records.table()
        sessions = segment.sessions or [_session_from_records(records, segment.sport)]
        _assign(sessions, records, segment.sets)
        device = _device(segment.file_id)
        identity = _identity(segment.file_id)
        watch = hr_settings(segment.hr)
        for whole in sessions:
            if whole.sport in _SKIPPED_SPORTS:
                continue
            for session in _split_session(whole):
                activity = _activity(path, session, identity, device, segment.local_offset, options)
                if activity is not None:
                    activity.hr_settings = watch
                    activities.append(activity)
    if not activities:
        if reasons and all(r.startswith(_NOT_ACTIVITY) for r in reasons):
            raise NotAnActivity(path, reasons[0])
        raise ImportFailed(
            path, reasons[0] if reasons else "no activity data (no session with a duration)"
        )
    return activities


_HR_KEYS = {
    "zones_target": ("max_heart_rate", "threshold_heart_rate", "hr_calc_type"),
    "user_profile": ("resting_heart_rate", "default_max_heart_rate", "age"),
}
#: zones_target.hr_calc_type: fitparse 1.2 names 0-2; 3 (percent of LTHR) came later.
_CALC_METHODS = {"percent_max_hr": "hrmax", "percent_hrr": "hrr", "percent_lthr": "lthr", 3: "lthr"}


def hr_settings(values: dict[str, Any]) -> HrSettings | None:
    """The watch's own heart-rate settings, with FIT's "unset" zeros and typos left out.

    ``zones_target`` holds what the athlete set (max and threshold HR, the zone basis);
    ``user_profile``'s default max HR is only a fallback, since watches ship with one.
    """
    max_hr = _bpm(values.get("max_heart_rate"), 100, 240) or _bpm(
        values.get("default_max_heart_rate"), 100, 240
    )
    lthr = _bpm(values.get("threshold_heart_rate"), 80, 235)
    if lthr is not None and max_hr is not None and lthr >= max_hr:
        lthr = None
    resting = _bpm(values.get("resting_heart_rate"), 25, 120)
    if resting is not None and max_hr is not None and resting >= max_hr - 20:
        resting = None
    age = values.get("age")
    settings = HrSettings(
        max_hr=max_hr,
        lthr=lthr,
        resting_hr=resting,
        zone_method=_CALC_METHODS.get(values.get("hr_calc_type")),
        age=float(age) if isinstance(age, int | float) and 5 <= age <= 100 else None,
    )
    return settings if settings else None


def _bpm(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, int | float) and low <= value <= high:
        return float(value)
    return None


def _session(message: Any) -> _Session:
    start = message.get_value("start_time")
    end = message.get_value("timestamp")
    return _Session(
        sport=_name(message.get_value("sport")),
        sub_sport=_name(message.get_value("sub_sport")),
        start=start if isinstance(start, datetime) else None,
        end=end if isinstance(end, datetime) else None,
        timer_s=positive(message.get_value("total_timer_time")),
        elapsed_s=positive(message.get_value("total_elapsed_time")),
        distance_m=_distance(message.get_value("total_distance")),
        avg_hr=message.get_value("avg_heart_rate"),
        max_hr=message.get_value("max_heart_rate"),
    )


def _session_from_records(records: RecordTable, sport: tuple[Any, Any] | None) -> _Session:
    """Some devices write records but no session; the records alone still make a run."""
    start = records.first()
    end = records.last()
    return _Session(
        sport=_name(sport[0]) if sport else None,
        sub_sport=_name(sport[1]) if sport else None,
        start=start,
        end=end,
        timer_s=None,
        elapsed_s=positive((end - start).total_seconds()) if start and end else None,
        distance_m=None,
        avg_hr=None,
        max_hr=None,
    )


def _assign(
    sessions: list[_Session],
    records: RecordTable,
    sets: list[tuple[datetime | None, StrengthSet]],
) -> None:
    """Give each record and set to the last session that started at or before it."""
    starts = [s.start for s in sessions]
    known = [(start, i) for i, start in enumerate(starts) if start is not None]
    known.sort()

    def owner(ts: datetime | None) -> int:
        if ts is None or not known:
            return known[0][1] if known else 0
        chosen = known[0][1]
        for start, index in known:
            if start <= ts:
                chosen = index
            else:
                break
        return chosen

    if len(sessions) == 1:
        sessions[0].records = records
        sessions[0].sets = [s for _, s in sets]
        sessions[0].set_times = [ts for ts, _ in sets]
        return
    for session, own in zip(sessions, split_by_start(records, starts), strict=True):
        session.records = own
    for ts, strength_set in sets:
        sessions[owner(ts)].sets.append(strength_set)
        sessions[owner(ts)].set_times.append(ts)


def _split_session(session: _Session) -> list[_Session]:
    """A session whose records pause for hours, as the activities it holds (importers/parts.py).

    A gap longer than the session's own elapsed time is the clock jumping, not a pause
    (the records go on where they left off): such a session stays whole. A session start
    hours before its first record is a pause too. The parts' figures come from their own
    records: the session's totals describe them all together.
    """
    records = session.records
    if records is None or len(records) < 2:
        return [session]
    records = records.sorted()
    t = records.ts
    start = unix_seconds(session.start) if session.start is not None else float(t[0])
    lasted = session.elapsed_s if session.elapsed_s is not None else session.timer_s
    ranges = pauses(t, lasted=lasted)
    late = t[0] - start > SPLIT_PAUSE_S
    if len(ranges) == 1 and not late:
        return [session]
    split = keep(t, ranges)
    notes = split.notes() if not split.whole else ("session start hours before its records",)
    parts: list[_Session] = []
    for index, part in enumerate(split.parts):
        own = _from_zero(records.take(np.arange(part.start, part.stop)))
        first, last = float(own.ts[0]), float(own.ts[-1])
        begin = start if part.start == 0 and not late and start <= first else first
        parts.append(
            _Session(
                sport=session.sport,
                sub_sport=session.sub_sport,
                start=naive_utc(begin),
                end=naive_utc(last),
                timer_s=moving_time(own.ts),
                elapsed_s=positive(last - begin),
                distance_m=_covered(own.distance),
                avg_hr=None,
                max_hr=None,
                records=own,
                sets=[
                    s
                    for s, ts in zip(session.sets, session.set_times, strict=True)
                    if _part_of(ts, split.parts, t) == index
                ],
                notes=(*session.notes, *notes),
                whole=False,
            )
        )
    return parts


def _part_of(ts: datetime | None, parts: list[slice], t: FloatArray) -> int:
    """The part a set belongs to: the last one started at or before it (else the first)."""
    if ts is None:
        return 0
    moment = unix_seconds(ts)
    chosen = 0
    for index, part in enumerate(parts):
        if float(t[part.start]) <= moment:
            chosen = index
    return chosen


def _from_zero(records: RecordTable) -> RecordTable:
    """A part's records with their distance counted from the part's first reading (the
    device counts on from the start of the whole file)."""
    finite = records.distance[np.isfinite(records.distance)]
    if not finite.size or finite[0] == 0:
        return records
    return dataclasses.replace(records, distance=records.distance - finite[0])


def _covered(distance: FloatArray) -> float | None:
    """Metres a part's cumulative distance readings cover (last less first)."""
    finite = distance[np.isfinite(distance)]
    return positive(float(finite.max() - finite[0])) if finite.size >= 2 else None


def _activity(
    path: Path,
    session: _Session,
    identity: str,
    device: str | None,
    local_offset: int | None,
    options: DecodeOptions,
) -> Activity | None:
    start = session.start
    if start is None and session.records is not None:
        start = session.records.first()
    if start is None:
        return None
    start_utc = start.replace(tzinfo=UTC)
    check_start(path, start_utc)

    samples = None
    if session.records is not None and len(session.records):
        records = session.records.sorted()
        samples = build_samples(
            records.ts - unix_seconds(start),
            hr=records.hr,
            speed=records.speed,
            distance=records.distance,
            cadence=records.cadence,
        )
    elapsed = session.elapsed_s
    if elapsed is None and session.end is not None:
        elapsed = positive((session.end - start).total_seconds())
    if elapsed is None and samples is not None and len(samples) > 1:
        elapsed = positive(float(samples.t[-1] - samples.t[0]))
    if session.timer_s is None and elapsed is None:
        return None
    distance = session.distance_m
    if distance is None and session.whole and samples is not None and samples.distance is not None:
        finite = samples.distance[np.isfinite(samples.distance)]
        distance = float(finite.max()) if finite.size else None
    figures = reconcile(Figures(elapsed, session.timer_s, distance, session.notes), samples)
    avg_hr, max_hr = summary_hr(session.avg_hr, session.max_hr, samples)
    coverage = hr_coverage(samples)

    if local_offset is not None:
        offset, offset_source = local_offset, OffsetSource.DEVICE
    else:
        offset, offset_source = utc_offset_for(start_utc, options.zone), OffsetSource.TIMEZONE
    return Activity(
        source="fit",
        source_id=f"{identity}/{start_utc:%Y%m%dT%H%M%SZ}",
        category=fit_category(session.sport, session.sub_sport),
        start_utc=start_utc,
        utc_offset_s=offset,
        offset_source=offset_source,
        sport=sport_name(session.sport, session.sub_sport),
        sport_raw=session.sport,
        sub_sport=session.sub_sport,
        timer_s=figures.timer_s,
        elapsed_s=figures.elapsed_s,
        distance_m=figures.distance_m,
        avg_hr=avg_hr,
        max_hr=max_hr,
        device=device,
        samples=samples,
        sets=session.sets,
        hr_coverage=coverage,
        notes=figures.notes,
    )


def _strength_set(message: Any, index: int) -> tuple[datetime | None, StrengthSet] | None:
    if message.get_value("set_type") == "rest":
        return None
    category = exercise_category(message.get_value("category"))
    reps = message.get_value("repetitions")
    weight = message.get_value("weight")
    duration = message.get_value("duration")
    ts = message.get_value("start_time") or message.get_value("timestamp")
    return (
        ts if isinstance(ts, datetime) else None,
        StrengthSet(
            index=index,
            category=category,
            reps=int(reps) if isinstance(reps, int | float) else None,
            weight_kg=float(weight) if isinstance(weight, int | float) else None,
            duration_s=float(duration) if isinstance(duration, int | float) else None,
        ),
    )


#: FIT's "invalid" for the uint16 exercise category (65534 is Garmin's "unknown").
_INVALID_CATEGORY = 0xFFFF


def exercise_category(value: Any) -> str | None:
    """A set's exercise category by its FIT profile name, whichever decoder read it.

    Garmin writes ``category`` as an array: the exercise first, then other guesses (a set
    of pull-ups is ``[21, 65534, 7]``). fitparse leaves enum values inside arrays as numbers
    and its profile predates categories such as ``sled``, so numbers are named from the FIT
    SDK's profile; a number that profile does not know stays visible as the number.
    """
    if isinstance(value, list | tuple):
        value = next((v for v in value if v is not None and v != _INVALID_CATEGORY), None)
    if value is None or value == _INVALID_CATEGORY:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    return _exercise_names().get(value, str(value))


@functools.cache
def _exercise_names() -> dict[int, str]:
    from garmin_fit_sdk import Profile  # the newest FIT profile; imported where sets are read

    names: dict[int, str] = Profile["types"]["exercise_category"]
    return names


def _offset(timestamp: Any, local_timestamp: Any) -> int | None:
    """The device's UTC offset, rounded to a quarter hour; None when absent or absurd."""
    if not isinstance(timestamp, datetime) or not isinstance(local_timestamp, datetime):
        return None
    seconds = (local_timestamp - timestamp).total_seconds()
    rounded = round(seconds / 900.0) * 900
    if abs(rounded) > _MAX_OFFSET_S or abs(seconds - rounded) > 120:
        return None
    return rounded


def _identity(file_id: dict[str, Any]) -> str:
    """Who recorded the file and when, as stable as the file allows.

    A serial number of 0 is FIT's "none" for its type; it reads as absent either way.
    """
    created = file_id.get("time_created")
    created_text = f"{created:%Y%m%dT%H%M%SZ}" if isinstance(created, datetime) else str(created)
    serial = file_id.get("serial_number") or None
    return f"{file_id.get('manufacturer')}/{serial}/{created_text}"


def _device(file_id: dict[str, Any]) -> str | None:
    manufacturer = file_id.get("manufacturer")
    product = file_id.get("garmin_product") or file_id.get("product")
    parts = [str(p) for p in (manufacturer, product) if p is not None]
    return " ".join(parts) or None


def _name(value: Any) -> str | None:
    return None if value is None else str(value)


def _distance(value: Any) -> float | None:
    """Total distance; FIT's 0xFFFFFFFF sentinel (42.9 million m) is no distance."""
    number = positive(value)
    return number if number is not None and number < MAX_DISTANCE else None
