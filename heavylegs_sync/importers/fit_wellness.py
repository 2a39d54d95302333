"""The watch's own wellness FIT files: resting heart rate, sleep and HRV (docs/import.md).

A Garmin watch writes, beside its activities, monitoring files (GARMIN/Monitor, file type
``monitoring_b``), one sleep file a night (GARMIN/Sleep, type 49) and one HRV status file a
night (GARMIN/HRVStatus, type 68). fitparse's profile predates their messages, so they are
read with Garmin's own FIT SDK (``garmin-fit-sdk``), whose profile names them.

What each gives, as one :class:`~heavylegs_sync.model.WellnessRecord` per local day:

- monitoring: ``monitoring_hr_data.current_day_resting_heart_rate``, the day's own resting
  HR (``resting_heart_rate`` beside it is Garmin's 7-day average, not a day's value);
- sleep: the ``sleep_level`` stages, each lasting until the next (the last until the
  night's stop event): deep, light, REM and awake seconds, time asleep = deep + light +
  REM; the night belongs to the local date it ends on;
- HRV status: ``hrv_status_summary.last_night_average`` (ms), on the night's wake date.

Local dates come from the file's own clock where it says it (``monitoring_info``,
``timestamp_correlation`` and the sleep stop event carry local times), else from the
athlete's time zone, as for activities. A file that holds none of these values is
skipped (it holds nothing to import); a damaged one fails whole with the SDK's own words,
since a night cut short would store a wrong night.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from heavylegs_sync.errors import ImportFailed, NotAnActivity
from heavylegs_sync.importers.common import DecodeOptions
from heavylegs_sync.importers.wellness_read import WellnessRead, register
from heavylegs_sync.model import WellnessRecord, WellnessSource

#: FIT ``file`` types read here (49 and 68 are not in the published profile yet).
MONITORING_TYPES: dict[int, str] = {15: "monitoring_a", 28: "monitoring_daily", 32: "monitoring_b"}
SLEEP_TYPE = 49
HRV_STATUS_TYPE = 68
WELLNESS_TYPES: dict[int, str] = {
    **MONITORING_TYPES,
    SLEEP_TYPE: "sleep",
    HRV_STATUS_TYPE: "hrv_status",
}
#: The stages that count as asleep; ``awake`` is counted apart, ``unmeasurable`` not at all.
ASLEEP_STAGES: tuple[str, ...] = ("deep", "light", "rem")

_FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
#: FIT date_time values below this count seconds since the device powered on, not a date.
_MIN_ABSOLUTE = 0x10000000
_MAX_OFFSET_S = 14 * 3600
_RECORDS_BEFORE_FILE_ID = 8  # definitions a header may carry before file_id's data
#: How long one monitoring file's day may last after its start (a day that DST lengthens).
MONITORING_DAY = timedelta(hours=25)
_BEFORE = timedelta(seconds=1)


def file_type(head: bytes) -> int | None:
    """The FIT ``file_id.type`` read from the file's first bytes (its header and first
    definition and data messages), or None when they are not a FIT file's or do not say.

    Cheap on purpose: a folder scan asks it of every FIT file before decoding one."""
    if len(head) < 12 or head[8:12] != b".FIT" or head[0] < 12:
        return None
    pos = head[0]
    definitions: dict[int, tuple[int, list[tuple[int, int]]]] = {}
    for _ in range(_RECORDS_BEFORE_FILE_ID):
        if pos >= len(head):
            return None
        header = head[pos]
        if header & 0x80:  # a compressed-timestamp data message before file_id
            return None
        local = header & 0x0F
        if header & 0x40:
            if pos + 6 > len(head):
                return None
            raw = head[pos + 3 : pos + 5]
            number = int.from_bytes(raw, "big" if head[pos + 2] == 1 else "little")
            count = head[pos + 5]
            end = pos + 6 + 3 * count
            if end > len(head):
                return None
            fields = [(head[i], head[i + 1]) for i in range(pos + 6, end, 3)]
            pos = end
            if header & 0x20:  # developer fields follow
                if pos >= len(head):
                    return None
                pos += 1 + 3 * head[pos]
            definitions[local] = (number, fields)
            continue
        definition = definitions.get(local)
        if definition is None or definition[0] != 0:
            return None  # file_id must be the first data message
        offset = pos + 1
        for field, size in definition[1]:
            if field == 0:
                return head[offset] if size >= 1 and offset < len(head) else None
            offset += size
        return None
    return None


def recognises(path: Path, head: bytes) -> bool:
    """A ``.fit`` file whose file_id says monitoring, sleep or HRV status. With an empty
    head (a name-only check) no: FIT files are offered to the importers anyway."""
    return path.name.lower().endswith(".fit") and file_type(head) in WELLNESS_TYPES


def read_fit_wellness(path: Path, data: bytes, options: DecodeOptions) -> WellnessRead:
    """The file's days; raises :class:`ImportFailed` for a damaged file and
    :class:`NotAnActivity` (skipped) for one that holds no wellness value."""
    kind = file_type(data[:4096])
    if kind not in WELLNESS_TYPES:
        raise ImportFailed(path, "not a FIT monitoring, sleep or HRV status file")
    messages = _messages(path, data)
    offset = _device_offset(messages)
    if kind in MONITORING_TYPES:
        records, missing = _monitoring(path, messages, offset, options), "resting heart rate"
    elif kind == SLEEP_TYPE:
        records, missing = _sleep(path, messages, offset, options), "time asleep"
    else:
        records, missing = _hrv(path, messages, offset, options), "HRV average"
    if not records:
        raise NotAnActivity(path, f"a FIT {WELLNESS_TYPES[kind]} file with no {missing} in it")
    return WellnessRead(records=records)


Messages = dict[str, list[dict[Any, Any]]]


def _messages(path: Path, data: bytes) -> Messages:
    """Every message, by the SDK's name (``sleep_level_mesgs``); the SDK's first error
    (it stops at it) fails the file."""
    if len(data) >= 12 and data[8:12] == b".FIT":
        announced = data[0] + int.from_bytes(data[4:8], "little") + 2
        if len(data) < announced:
            raise ImportFailed(
                path,
                f"truncated FIT file: its header announces {announced} bytes, "
                f"the file has {len(data)}",
            )
    from garmin_fit_sdk import Decoder, Stream  # only wellness files pay for its import

    decoder = Decoder(Stream.from_byte_array(bytearray(data)))
    messages, errors = decoder.read(merge_heart_rates=False)
    if errors:
        raise ImportFailed(path, f"{_words(errors[0])} (garmin-fit-sdk)")
    return {name: found for name, found in messages.items() if isinstance(found, list)}


def _words(error: Exception) -> str:
    """The SDK's error as a reason: ``corrupt FIT file: CRC Error at byte 880``. Its stream
    words an early end as an IndexError, or fails while building that message (a
    TypeError from joining a string and a number): both mean the data ends early."""
    text = str(error)
    prefix = "FIT Runtime Error at byte: "
    if isinstance(error, RuntimeError) and text.startswith(prefix):
        where, _, what = text[len(prefix) :].partition(" ")
        return f"corrupt FIT file: {what.strip().rstrip('.') or 'error'} at byte {where}"
    if isinstance(error, IndexError) or (isinstance(error, TypeError) and "concatenate" in text):
        return f"truncated FIT file: the data ends inside a message ({type(error).__name__})"
    return f"corrupt FIT file: {type(error).__name__}: {text}"


def _device_offset(messages: Messages) -> int | None:
    """The device's UTC offset in seconds near the night's end: the latest
    ``timestamp_correlation`` (HRV status files), else the stop event's ``data``, which
    Garmin's sleep files fill with the local time. None when neither holds one; a value
    that is no whole quarter hour within 14 h of UTC is no offset."""
    for message in reversed(messages.get("timestamp_correlation_mesgs", [])):
        offset = _offset(message.get("timestamp"), message.get("local_timestamp"))
        if offset is not None:
            return offset
    for event in reversed(messages.get("event_mesgs", [])):
        if event.get("event_type") == "stop":
            offset = _offset(event.get("timestamp"), event.get("data"))
            if offset is not None:
                return offset
    return None


def _offset(timestamp: Any, local: Any) -> int | None:
    if not isinstance(timestamp, datetime) or isinstance(local, bool):
        return None
    if not isinstance(local, int) or local < _MIN_ABSOLUTE:
        return None
    seconds = local - (timestamp - _FIT_EPOCH).total_seconds()
    if abs(seconds) > _MAX_OFFSET_S or seconds % 900:
        return None
    return int(seconds)


def _instant(value: Any) -> datetime | None:
    """An absolute UTC time, or None (absent, or counted from the device's power-on)."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        return None
    if (value - _FIT_EPOCH).total_seconds() < _MIN_ABSOLUTE:
        return None
    return value.astimezone(UTC)


def _local_date(instant: datetime, offset: int | None, options: DecodeOptions) -> date:
    if offset is not None:
        return (instant + timedelta(seconds=offset)).date()
    return instant.astimezone(options.zone).date()


def _number(value: Any) -> float | None:
    """A positive number, or None (absent; 0 is how a device leaves a value unset)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def _monitoring(
    path: Path, messages: Messages, offset: int | None, options: DecodeOptions
) -> list[WellnessRecord]:
    """The day's resting HR, the latest the file has for each day.

    A monitoring file records one local day, from its ``monitoring_info`` (whose local
    timestamp names the day) to the next local midnight, where the watch writes the day's
    final figure: a value within :data:`MONITORING_DAY` of that start is that day's, on
    the device's own clock (a DST night included). Other values, or a file without the
    local start, are placed by the instant just before them, in the file's offset or the
    athlete's zone (a value stamped at midnight closes the day before)."""
    starts: list[tuple[datetime, date]] = []
    for info in messages.get("monitoring_info_mesgs", []):
        when, local = _instant(info.get("timestamp")), info.get("local_timestamp")
        if when is not None and _offset(when, local) is not None:
            starts.append((when, _fit_date(local)))
    latest: dict[date, tuple[datetime, float]] = {}
    for message in messages.get("monitoring_hr_data_mesgs", []):
        when = _instant(message.get("timestamp"))
        value = _number(message.get("current_day_resting_heart_rate"))
        if when is None or value is None:
            continue
        recorded = [d for start, d in starts if start <= when <= start + MONITORING_DAY]
        day = recorded[-1] if recorded else _local_date(when - _BEFORE, offset, options)
        if day not in latest or latest[day][0] <= when:
            latest[day] = (when, value)
    return [
        WellnessRecord(day=day, source=WellnessSource.FIT, origin=str(path), resting_hr=value)
        for day, (_, value) in sorted(latest.items())
    ]


def _fit_date(local: Any) -> date:
    """The calendar date of a FIT local_date_time (local seconds since the FIT epoch)."""
    return (_FIT_EPOCH + timedelta(seconds=int(local))).date()


def _sleep(
    path: Path, messages: Messages, offset: int | None, options: DecodeOptions
) -> list[WellnessRecord]:
    """The night from its stages: each lasts until the next, the last until the stop
    event (a last stage stamped at the stop itself lasts nothing)."""
    levels = sorted(
        (when, str(message.get("sleep_level")))
        for message in messages.get("sleep_level_mesgs", [])
        if (when := _instant(message.get("timestamp"))) is not None
    )
    if not levels:
        return []
    starts = _events(messages.get("event_mesgs", []), "start")
    stops = _events(messages.get("event_mesgs", []), "stop")
    first, last = levels[0][0], levels[-1][0]
    start = min(starts) if starts and min(starts) <= first else first
    end = max(stops) if stops and max(stops) >= last else last
    seconds: dict[str, float] = {}
    for (when, level), following in zip(levels, [*(w for w, _ in levels[1:]), end], strict=True):
        seconds[level] = seconds.get(level, 0.0) + (following - when).total_seconds()
    asleep = sum(seconds.get(stage, 0.0) for stage in ASLEEP_STAGES)
    if asleep <= 0:
        return []
    return [
        WellnessRecord(
            day=_local_date(end, offset, options),
            source=WellnessSource.FIT,
            origin=str(path),
            sleep_s=asleep,
            deep_s=seconds.get("deep", 0.0),
            light_s=seconds.get("light", 0.0),
            rem_s=seconds.get("rem", 0.0),
            awake_s=seconds.get("awake", 0.0),
            sleep_start=start,
            sleep_end=end,
        )
    ]


def _events(events: Iterable[dict[Any, Any]], kind: str) -> list[datetime]:
    return [
        when
        for event in events
        if event.get("event_type") == kind and (when := _instant(event.get("timestamp")))
    ]


def _hrv(
    path: Path, messages: Messages, offset: int | None, options: DecodeOptions
) -> list[WellnessRecord]:
    """The night's average HRV on its wake date: the date of the night's last HRV value
    (of the summary itself when the file has no values)."""
    values = [
        when
        for message in messages.get("hrv_value_mesgs", [])
        if (when := _instant(message.get("timestamp"))) is not None
    ]
    latest: dict[date, tuple[datetime, float]] = {}
    for summary in messages.get("hrv_status_summary_mesgs", []):
        average = _number(summary.get("last_night_average"))
        stamped = _instant(summary.get("timestamp"))
        if average is None or stamped is None:
            continue
        night = [w for w in values if w <= stamped]
        woke = max(night) if night else stamped
        day = _local_date(woke, offset, options)
        if day not in latest or latest[day][0] <= stamped:
            latest[day] = (stamped, average)
    return [
        WellnessRecord(day=day, source=WellnessSource.FIT, origin=str(path), hrv_ms=value)
        for day, (_, value) in sorted(latest.items())
    ]


register(recognises, read_fit_wellness)
