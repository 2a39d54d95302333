"""The fast FIT path: fitfast (Rust) decodes, values are given fitparse's conventions.

fitparse stays the reference; this module only adapts fitfast's output to what fitparse
would have said, and says exactly why when it cannot (:class:`FastPathError`).

- **Checksums are ours.** fitfast wrongly rejects files whose 14-byte header carries a
  zero header CRC (it checks the data CRC as if the header's own CRC were there). Every
  segment's header and file CRC are verified here, exactly as fitparse verifies them
  (CRC-16 with FIT's table, which is CRC-16/ARC, over header and data); a segment fitfast
  would misjudge is handed to it with a header CRC filled in, so its own check passes.
- **Chained files** (several FIT files back to back) are decoded segment by segment, each
  with its own ``file_id``, as fitparse reads them.
- **Files cut short** (a flat battery, a copy interrupted) keep the messages fitparse reads
  before the break: the complete messages become a file of their own (size and CRCs set)
  for fitfast, and :attr:`FastRead.truncated` says why the file ended early.
- **Records are columnar**: the record fields the importer reads come straight from the
  bytes as NumPy columns (:mod:`~heavylegs_sync.importers.fit_columns`), or from one
  ``fitfast.records`` call where a layout is unusual; the other messages (a few dozen per
  file) come from ``fitfast.parse`` of the same bytes with everything else cut out.
- **Compressed speed/distance** (old Garmin devices) is expanded and accumulated as
  fitparse does it.
- **Developer fields named like standard ones** would shadow the standard value in
  fitfast's output (fitparse keeps the standard one first): such developer fields are
  renamed in the bytes handed to fitfast, after the checksum has been verified.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from fitparse import profile

from heavylegs_sync.importers.crc import crc16_arc
from heavylegs_sync.importers.fit_columns import Layout, RecordRuns, read_records
from heavylegs_sync.model import FloatArray

_FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
_RELATIVE_LIMIT = 0x10000000  # FIT times below this count from device power-on
_GARMIN_PRODUCT_MAKERS = {1, 15, 13}  # garmin, dynastream, dynastream_oem (fitparse's rule)
#: Messages handed to the importer besides records (zones_target and user_profile carry
#: the athlete's heart-rate settings).
WANTED = ("file_id", "sport", "session", "set", "activity", "zones_target", "user_profile")
_RECORD = 20
_FIELD_DESCRIPTION = 206
_DEVELOPER_DATA_ID = 207
#: Record columns the importer reads, with fitparse's scale (value = raw / scale).
RECORD_SCALES = {"heart_rate": 1.0, "speed": 1000.0, "enhanced_speed": 1000.0,
                 "distance": 100.0, "cadence": 1.0}  # fmt: skip


#: The note recorded on an activity read with fitparse because fitfast is not installed.
FITFAST_MISSING_NOTE = "fitfast is not installed: FIT files read with fitparse (slower)"
_fitfast: list[Any] = []  # the module, or why it cannot be imported, once tried


def load_fitfast() -> Any:
    """The fitfast module, or :class:`FastDecoderMissing` saying why it cannot be used.

    Imported on first use, not with this module: without fitfast, fitparse reads every
    FIT file (``--decoder auto``) and GPX and TCX files are not affected at all.
    """
    if not _fitfast:
        try:
            import fitfast
        except ImportError as exc:
            _fitfast.append(f"fitfast is not installed ({exc})")
        else:
            _fitfast.append(fitfast)
    if isinstance(_fitfast[0], str):
        raise FastDecoderMissing(_fitfast[0])
    return _fitfast[0]


class FastPathError(Exception):
    """Why the fast path did not decode a file, with where in the file when known."""

    def __init__(self, reason: str, offset: int | None = None) -> None:
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{reason}{where}")
        self.reason = reason
        self.offset = offset


class FastDecoderMissing(FastPathError):
    """fitfast cannot be imported: the fast path cannot read any file."""


class DamagedFile(FastPathError):
    """A checksum that does not match: the file is corrupt, whichever decoder reads it."""


class _RunsPast(FastPathError):
    """A message that does not end inside the bytes walked (``position``: where it starts)."""

    def __init__(self, position: int, at: int) -> None:
        super().__init__("the last message runs past the data", at + position)
        self.position = position


@dataclass
class FieldKind:
    """How fitparse renders one field: an enum's names, a date, a scale."""

    enum: dict[int, str] | None = None
    date_time: bool = False
    local_date_time: bool = False
    boolean: bool = False
    scale: float | None = None


def _kinds() -> dict[tuple[str, str], FieldKind]:
    """From fitparse's own profile: what each field of the wanted messages becomes."""
    result: dict[tuple[str, str], FieldKind] = {}
    for message in profile.MESSAGE_TYPES.values():
        if message.name not in WANTED:
            continue
        for item in message.fields.values():
            type_name = getattr(item.type, "name", "")
            values = getattr(item.type, "values", None)
            kind = FieldKind(
                enum=dict(values) if values and type_name not in ("date_time",) else None,
                date_time=type_name == "date_time",
                local_date_time=type_name == "local_date_time",
                boolean=type_name == "bool",
                scale=float(item.scale) if item.scale and item.scale != 1 else None,
            )
            result[message.name, item.name] = kind
    return result


_KINDS = _kinds()
#: Global numbers of the messages taken from fitfast.parse: the wanted ones, and what
#: declares developer fields (their values sit in the wanted messages too).
_KEPT = {number for number, message in profile.MESSAGE_TYPES.items() if message.name in WANTED} | {
    _FIELD_DESCRIPTION,
    _DEVELOPER_DATA_ID,
}
#: Names of standard fields per global message number, to spot shadowing developer fields.
_STANDARD_NAMES = {
    number: {item.name for item in message.fields.values()}
    for number, message in profile.MESSAGE_TYPES.items()
}
_ALL_STANDARD_NAMES = set().union(*_STANDARD_NAMES.values())


class FastMessage:
    """A message with fitparse's ``name`` and ``get_value`` and fitparse's values."""

    __slots__ = ("name", "values")

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        self.name = name
        self.values = values

    def get_value(self, key: str) -> Any:
        """The value fitparse would return for this field (None when absent)."""
        return self.values.get(key)


class RecordBlock:
    """All record messages of one segment, columnar (the message named ``records``).

    ``timestamp`` is in FIT seconds as fitparse reads it before conversion (NaN when a
    record has none); every other column holds fitparse's values with NaN for "absent".
    """

    __slots__ = ("columns", "name", "timestamp")

    def __init__(self, timestamp: FloatArray, columns: dict[str, FloatArray]) -> None:
        self.name = "records"
        self.timestamp = timestamp
        self.columns = columns

    def __len__(self) -> int:
        return len(self.timestamp)

    def get_value(self, key: str) -> Any:
        """A record block has no single values (present for the message protocol)."""
        return None


@dataclass
class FastRead:
    """What the fast path read from one file."""

    messages: list[FastMessage | RecordBlock]
    #: why the file ended early, when it did: the messages are then those fitparse reads
    #: before the break (a recording cut short keeps its readable part)
    truncated: str | None = None


def fast_messages(data: bytes) -> FastRead:
    """Every message the importer reads, segment by segment (file_id first in each).

    Raises :class:`FastPathError` when the file is damaged (fitparse then words the
    error) or uses something this path does not handle.
    """
    fitfast = load_fitfast()
    read = FastRead([])
    position = 0
    while position < len(data):
        if len(data) - position < 12:
            # fitparse goes on to read another file's header and meets the end instead.
            read.truncated = f"{len(data) - position} bytes after the last FIT file"
            break
        start = position
        try:
            segment, plan, position, read.truncated = _segment(data, start)
        except (IndexError, struct.error) as exc:
            raise FastPathError(f"malformed definition message: {exc}", start) from exc
        if plan is None:  # the file ends before this segment's first whole message
            break
        if plan.shadowing:
            segment = _rename_shadowing(segment, plan)
        columns = None
        if not plan.shadowing and not plan.compressed_resets:
            body = np.frombuffer(segment, dtype=np.uint8)[segment[0] : -2]
            columns = read_records(body, plan.runs, plan.layouts, plan.records)
        try:
            if columns is None:
                columns = fitfast.records(segment, "record") if plan.records else {}
            whole = not plan.cuts or plan.compressed_others or plan.compressed_resets
            others = segment if whole else _wanted_only(segment, plan)
            parsed = fitfast.parse(others, enum_names=False, datetimes=False)
        except fitfast.FitDecodeError as exc:
            raise FastPathError(f"fitfast: {exc}", start) from exc
        except BaseException as exc:  # a Rust panic surfaces as a BaseException
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            raise FastPathError(f"fitfast crashed: {type(exc).__name__}: {exc}", start) from exc
        aliases = plan.aliases()
        segment_messages: list[FastMessage | RecordBlock] = [
            FastMessage(name, _convert(name, raw, aliases))
            for name in WANTED
            for raw in parsed.get(name, [])
        ]
        if plan.records:
            segment_messages.insert(
                1 if parsed.get("file_id") else 0, _record_block(columns, plan, parsed)
            )
        read.messages.extend(segment_messages)
    return read


def _segment(data: bytes, start: int) -> tuple[bytes, _Plan | None, int, str | None]:
    """One FIT file of a chain, checked and walked: (its bytes for fitfast, its plan, where
    the next one starts, why it ends early or None). No plan: the file ends before the
    segment's first whole message.

    Structure comes first: a recording cut short is truncated (the part before the break
    is kept, as fitparse keeps it), not merely corrupt, even though its checksum fails too.
    """
    header_size = data[start]
    if data[start + 8 : start + 12] != b".FIT" or header_size < 12:
        raise FastPathError("no FIT header", start)
    (data_size,) = struct.unpack_from("<I", data, start + 4)
    end = start + header_size + data_size + 2  # the file CRC included
    if end <= len(data):
        body = memoryview(data)[start + header_size : end - 2]
        try:
            plan = _walk(body, start + header_size)
        except _RunsPast:
            pass  # the file may end inside that message: read it as fitparse does
        else:
            return _checked(data, start, end), plan, end, None
    return _cut_short(data, start, data_size)


def _cut_short(data: bytes, start: int, data_size: int) -> tuple[bytes, _Plan | None, int, str]:
    """A segment the file ends inside, read as fitparse reads it, or FastPathError.

    fitparse reads whole messages while fewer than ``data_size`` bytes are read (the last
    one may run past that), then the 2-byte CRC. Meeting the end of the file on the way
    is a break: the messages before it are kept and no checksum is read. The complete
    messages are handed to fitfast as a file of their own, with its size and CRCs set.
    """
    header_size = data[start]
    body_start = start + header_size
    if body_start > len(data):
        # fitparse judges what it has of the header before meeting the end: its size,
        # then its CRC once the 14 bytes that hold it are there.
        if header_size == 13:
            raise FastPathError("a 13-byte header (fitfast reads 12 or 14 bytes)", start)
        if header_size > 14 and len(data) - start >= 14:
            _checked_header_crc(data, start)
        return b"", None, len(data), "the file ends inside a FIT header"
    _checked_header(data, start)
    rest = memoryview(data)[body_start:]
    try:
        walked = _walk(rest, body_start, stop=data_size)
    except _RunsPast as exc:
        complete = exc.position
        why = f"the file ends inside a message at byte {body_start + complete}"
    else:
        complete = walked.size
        if complete + 2 <= len(rest):
            # fitparse reads a checksum from inside the data here: let it say what it finds
            raise FastPathError("the last message runs past the data", body_start + data_size)
        if complete < data_size:
            why = f"the file ends after {complete} of the {data_size} bytes its header announces"
        else:
            why = "the file ends before its checksum"
    if complete == 0:
        return b"", None, len(data), why
    segment = _with_crcs(data[start : start + 12], bytes(rest[:complete]))
    plan = _walk(memoryview(segment)[14:-2], body_start)
    return segment, plan, len(data), why


def _checked_header(data: bytes, start: int) -> None:
    """A header fitfast can read, with a header CRC that is zero or right (as fitparse)."""
    header_size = data[start]
    if header_size not in (12, 14):  # fitfast rejects it ("not a FIT file")
        raise FastPathError(f"a {header_size}-byte header (fitfast reads 12 or 14 bytes)", start)
    if header_size == 14:
        _checked_header_crc(data, start)


def _checked_header_crc(data: bytes, start: int) -> None:
    """The CRC after a header's first 12 bytes: zero (none) or right, as fitparse has it."""
    (header_crc,) = struct.unpack_from("<H", data, start + 12)
    computed = crc16_arc(data[start : start + 12])
    if header_crc not in (0, computed):
        raise DamagedFile(_crc_mismatch(computed, header_crc, "header"), start)


def _checked(data: bytes, start: int, end: int) -> bytes:
    """One segment's bytes after verifying its CRCs as fitparse does, ready for fitfast."""
    _checked_header(data, start)
    (file_crc,) = struct.unpack_from("<H", data, end - 2)
    computed = crc16_arc(data[start : end - 2])
    if file_crc != computed:
        raise DamagedFile(_crc_mismatch(computed, file_crc, "file"), end - 2)
    segment = data[start:end]
    if data[start] == 14 and segment[12:14] == b"\0\0":
        # fitfast checks only the data's CRC after a 14-byte header, which equals the
        # whole-file CRC only when the header's own CRC is present: fill it in.
        return _with_crcs(segment[:12], segment[14:-2])
    return segment


def _crc_mismatch(computed: int, read: int, which: str) -> str:
    # fitparse's words, so both decoders reject a corrupt file alike.
    return f"CRC Mismatch [computed: 0x{computed:04X}, read: 0x{read:04X}] ({which} CRC)"


def _with_crcs(header12: bytes, body: bytes) -> bytes:
    """A segment with a 14-byte header, correct header CRC and correct file CRC."""
    header = bytes([14]) + header12[1:4] + struct.pack("<I", len(body)) + header12[8:12]
    header += struct.pack("<H", crc16_arc(header))
    # With the header CRC in place, the CRC over header and body equals the body's CRC.
    return header + body + struct.pack("<H", crc16_arc(body))


@dataclass
class _Plan:
    """What walking a segment's messages found."""

    records: int  # record data messages
    #: where the data messages not needed from fitfast.parse lie (records among them), as
    #: offsets into the segment's data
    cuts: list[_Cut]
    #: index of the first record after each record definition with compressed_speed_distance
    compressed_resets: list[int]
    compressed_others: bool  # a kept message uses a compressed timestamp header
    #: developer field names that repeat standard ones: (offset into the data, name)
    shadowing: list[tuple[int, str]]
    runs: RecordRuns  # where the records are, for reading their columns directly
    layouts: list[Layout]  # every definition, in file order (runs refer to them)
    size: int  # where the last message ends

    def aliases(self) -> dict[str, str]:
        """Renamed developer field -> the standard name it repeats."""
        return {_renamed(name): name for _, name in self.shadowing}


def _walk(data: memoryview, at: int, stop: int | None = None) -> _Plan:
    """Walk the messages of one segment's data (headers only, no field decoding).

    Messages start before ``stop`` (default: the end of ``data``) and must end inside
    ``data``; one that does not raises :class:`_RunsPast`. Offsets in the plan count from
    the start of ``data``; those in errors from the file (``data`` starts at ``at``).

    Long regular stretches (a record every second, or a record and an HRV message every
    second) are stepped over with NumPy: when the last few data messages repeat, the
    header bytes where the next repetitions must start are compared in one go. A header
    byte names its local type and so its size; the first one that differs ends the
    stretch, exactly where a message walk would.
    """
    array = np.frombuffer(data, dtype=np.uint8)
    end = len(data)
    stop = end if stop is None else min(stop, end)  # fitparse meets the end of the file
    position = 0
    sizes: dict[int, int] = {}
    numbers: dict[int, int] = {}
    layouts: dict[int, Layout] = {}
    every_layout: list[Layout] = []
    layout_of: dict[int, int] = {}  # local type -> index in every_layout
    layout_index: dict[Layout, int] = {}
    runs = RecordRuns([])
    records = 0
    cuts: list[_Cut] = []
    span_start = -1
    resets: list[int] = []
    compressed_others = False
    shadowing: list[tuple[int, str]] = []
    recent: list[tuple[int, int, int, int]] = []  # (position, header, size, message number)
    retry_at = walked = 0
    while position < stop:
        header = data[position]
        if header & 0x80 or not header & 0x40:
            walked += 1
            if len(recent) >= 2 and walked >= retry_at:
                stretch = _repeat(array[:stop], position, recent)
                if stretch is not None:
                    if span_start >= 0:
                        cuts.append(_Cut(span_start, 1, 0, ((0, position - span_start),)))
                        span_start = -1
                    repeats, stride, cut, in_cycle = stretch
                    records += repeats * len(in_cycle)
                    for offset, local in in_cycle:
                        runs.runs.append((position + offset, repeats, stride, layout_of[local]))
                    if cut.parts:
                        cuts.append(cut)
                    position += repeats * stride
                    recent.clear()
                    continue
                retry_at = walked + _RETRY_AFTER  # not regular here: look again later
            local = (header >> 5) & 0x3 if header & 0x80 else header & 0xF
            size = sizes.get(local)
            if size is None:
                raise FastPathError(f"data message of undefined local type {local}", at + position)
            if numbers[local] == _RECORD:
                records += 1
                runs.runs.append((position, 1, 0, layout_of[local]))
                if header & 0x80:
                    runs.plain = False  # its time counts from the message before
            if numbers[local] not in _KEPT:
                if span_start < 0:
                    span_start = position
            else:
                if span_start >= 0:
                    cuts.append(_Cut(span_start, 1, 0, ((0, position - span_start),)))
                    span_start = -1
                if header & 0x80:
                    compressed_others = True
                if numbers[local] == _FIELD_DESCRIPTION:
                    shadowing.extend(_shadowing_name(data, position + 1, layouts[local]))
            if position + 1 + size > end:
                raise _RunsPast(position, at)
            recent.append((position, header, size, numbers[local]))
            if len(recent) > 8:
                del recent[0]
            position += 1 + size
            continue
        recent.clear()
        if span_start >= 0:  # a definition message ends a run of messages to cut
            cuts.append(_Cut(span_start, 1, 0, ((0, position - span_start),)))
            span_start = -1
        if position + 6 > end:
            raise _RunsPast(position, at)
        local = header & 0xF
        endian = ">" if data[position + 2] else "<"
        (number,) = struct.unpack_from(endian + "H", data, position + 3)
        count = data[position + 5]
        length = 6 + 3 * count
        if position + length + (1 if header & 0x20 else 0) > end:
            raise _RunsPast(position, at)
        fields = tuple(
            (data[position + 6 + 3 * i], data[position + 7 + 3 * i], data[position + 8 + 3 * i])
            for i in range(count)
        )
        size = sum(f[1] for f in fields)
        if header & 0x20:
            developer = data[position + length]
            if position + length + 1 + 3 * developer > end:
                raise _RunsPast(position, at)
            size += sum(data[position + length + 2 + 3 * i] for i in range(developer))
            length += 1 + 3 * developer
        sizes[local], numbers[local] = size, number
        layouts[local] = Layout(endian == ">", fields, 1 + size)
        # Some devices (Suunto) repeat the same definition before every record.
        known = layout_index.get(layouts[local])
        if known is None:
            known = layout_index[layouts[local]] = len(every_layout)
            every_layout.append(layouts[local])
        layout_of[local] = known
        if number == _RECORD and any(f[0] == 8 for f in fields):
            resets.append(records)
        position += length
    if span_start >= 0:
        cuts.append(_Cut(span_start, 1, 0, ((0, position - span_start),)))
    return _Plan(records, cuts, resets, compressed_others, shadowing, runs, every_layout, position)


@dataclass(frozen=True)
class _Cut:
    """Record bytes to cut: ``parts`` (offset, length) repeated ``repeats`` times."""

    start: int
    repeats: int
    stride: int
    parts: tuple[tuple[int, int], ...]


_MIN_REPEATS = 16  # a jump costs a few NumPy calls: worth it from here on
_MAX_REPEATS = 2048  # compare at most this far ahead at once
_RETRY_AFTER = 32  # messages to walk one by one after a stretch that did not repeat


def _repeat(
    array: npt.NDArray[np.uint8], position: int, recent: list[tuple[int, int, int, int]]
) -> tuple[int, int, _Cut, list[tuple[int, int]]] | None:
    """How often the last few messages repeat from ``position`` on, if worth a jump.

    Tries cycles of 1 to 4 messages; a cycle must already have occurred twice in a row,
    hold no compressed-timestamp header (its low bits change) and no field description
    (each is read for its name), and start at ``position``.
    """
    for length in (1, 2, 3, 4):
        if len(recent) < 2 * length:
            break
        cycle = recent[-length:]
        before = recent[-2 * length : -length]
        if any(
            c[1] != b[1] or c[1] & 0x80 or c[3] == _FIELD_DESCRIPTION
            for c, b in zip(cycle, before, strict=True)
        ):
            continue
        first = cycle[0][0]
        stride = position - first
        if stride != first - before[0][0] or array[position] != cycle[0][1]:
            continue
        room = min((len(array) - position) // stride, _MAX_REPEATS)
        if room < _MIN_REPEATS:
            return None
        match = np.ones(room, dtype=bool)
        for offset, header in ((p - first, h) for p, h, _, _ in cycle):
            start = position + offset
            match &= array[start : start + room * stride : stride] == header
        misses = np.flatnonzero(~match)
        repeats = int(misses[0]) if misses.size else room
        if repeats < _MIN_REPEATS:
            return None
        parts = tuple((p - first, 1 + size) for p, _, size, number in cycle if number not in _KEPT)
        in_cycle = [(p - first, h & 0xF) for p, h, _, number in cycle if number == _RECORD]
        return repeats, stride, _Cut(position, repeats, stride, parts), in_cycle
    return None


def _shadowing_name(data: memoryview, position: int, layout: Layout) -> Iterator[tuple[int, str]]:
    """A field_description's name when it repeats a standard field's name, with its offset."""
    for number, size, _ in layout.fields:
        if number == 3:  # field_name
            raw = bytes(data[position : position + size]).split(b"\0", 1)[0]
            name = raw.decode("utf-8", "replace")
            if name in _ALL_STANDARD_NAMES:
                yield position, name
        position += size


def _renamed(name: str) -> str:
    return "~" + name[1:]


def _rename_shadowing(segment: bytes, plan: _Plan) -> bytes:
    """The segment with shadowing developer field names starting with "~" (same length)."""
    body = bytearray(segment[segment[0] : -2])
    for offset, _ in plan.shadowing:
        body[offset] = ord("~")
    return _with_crcs(segment[:12], bytes(body))


def _wanted_only(segment: bytes, plan: _Plan) -> bytes:
    """The segment with only the data messages fitfast.parse must give (definitions kept).

    Records come from ``fitfast.records``; HRV and the like are not read at all.
    """
    data = np.frombuffer(segment, dtype=np.uint8)[segment[0] : -2]
    keep = np.ones(len(data), dtype=bool)
    for cut in plan.cuts:
        for offset, length in cut.parts:
            if cut.repeats == 1:
                keep[cut.start + offset : cut.start + offset + length] = False
            else:
                starts = cut.start + offset + cut.stride * np.arange(cut.repeats)
                keep[(starts[:, None] + np.arange(length)).ravel()] = False
    return _with_crcs(segment[:12], data[keep].tobytes())


def _record_block(
    columns: dict[str, FloatArray], plan: _Plan, parsed: dict[str, list[dict[str | int, Any]]]
) -> RecordBlock:
    n = plan.records
    timestamp = columns.get("timestamp")
    if timestamp is None:
        timestamp = np.full(n, np.nan)
    if len(timestamp) != n:
        raise FastPathError(f"fitfast gave {len(timestamp)} records of {n}")
    out: dict[str, FloatArray] = {}
    for name, scale in RECORD_SCALES.items():
        column = columns.get(name)
        if column is None:
            continue
        out[name] = np.round(column * scale) / scale if scale != 1.0 else column
    if "speed" in out:
        # fitparse expands the 16-bit speed into enhanced_speed exactly; fitfast's own
        # expansion can be a thousandth off, so the speed itself wins where present. Only
        # the standard speed expands: a developer "speed" (below) never does.
        enhanced = out.get("enhanced_speed")
        out["enhanced_speed"] = (
            out["speed"]
            if enhanced is None
            else np.where(np.isnan(out["speed"]), enhanced, out["speed"])
        )
    for renamed, name in plan.aliases().items():
        # fitparse reads a developer field of a standard name when the standard is absent.
        developer = columns.get(renamed)
        if developer is not None and name in RECORD_SCALES:
            standard = out.get(name)
            out[name] = (
                developer if standard is None else np.where(np.isnan(standard), developer, standard)
            )
    if plan.compressed_resets:
        _expand_compressed(out, plan, parsed.get("record", []))
    return RecordBlock(timestamp - _FIT_EPOCH, out)


def _expand_compressed(
    out: dict[str, FloatArray], plan: _Plan, records: list[dict[str | int, Any]]
) -> None:
    """Speed and accumulated distance from compressed_speed_distance, as fitparse does.

    fitfast leaves the 3-byte field out of its columns, so it is read from the record
    dictionaries (only old devices write it). fitparse restarts the distance accumulator
    at every record definition holding the field, and so does this.
    """
    if len(records) != plan.records:
        raise FastPathError(f"fitfast gave {len(records)} record dictionaries of {plan.records}")
    speed = out.setdefault("speed", np.full(plan.records, np.nan))
    distance = out.setdefault("distance", np.full(plan.records, np.nan))
    resets = set(plan.compressed_resets)
    accumulated = 0
    for index, record in enumerate(records):
        if index in resets:
            accumulated = 0
        packed = record.get("compressed_speed_distance")
        if not isinstance(packed, bytes | bytearray | list | tuple) or len(packed) < 3:
            continue
        value = packed[0] | packed[1] << 8 | packed[2] << 16
        if np.isnan(speed[index]):
            speed[index] = (value & 0xFFF) / 100.0
        raw = (value >> 12) & 0xFFF
        base = raw + (accumulated & ~0xFFF)
        if raw < (accumulated & 0xFFF):
            base += 0x1000
        accumulated = base
        if np.isnan(distance[index]):
            distance[index] = base / 16.0


def _convert(name: str, raw: dict[str | int, Any], aliases: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            continue
        kind = _KINDS.get((name, key))
        if kind is None or value is None:
            values[key] = value
        elif kind.date_time:
            values[key] = _date_time(value)
        elif kind.local_date_time:
            values[key] = datetime.utcfromtimestamp(value)
        elif kind.enum is not None:
            values[key] = _enum(kind.enum, value)
        elif kind.boolean:
            values[key] = bool(value)
        elif kind.scale is not None and isinstance(value, float):
            values[key] = round(value * kind.scale) / kind.scale  # fitparse: raw / scale
        else:
            values[key] = value
    for renamed, standard in aliases.items():
        # fitparse reads a developer field of a standard name when the standard is absent.
        if renamed in raw and standard not in raw:
            values[standard] = raw[renamed]
    if name == "file_id":
        maker = raw.get("manufacturer")
        product = raw.get("product")
        if maker in _GARMIN_PRODUCT_MAKERS and product is not None:
            names = profile.FIELD_TYPES["garmin_product"].values
            values["garmin_product"] = _enum(names, product)
            values.pop("product", None)
    return values


def _date_time(value: Any) -> Any:
    """fitparse's conversion: a datetime (naive UTC) unless the time is device-relative."""
    raw = int(value) - _FIT_EPOCH
    if raw >= _RELATIVE_LIMIT:
        return datetime.utcfromtimestamp(_FIT_EPOCH + raw)
    return raw


def _enum(names: dict[int, str], value: Any) -> Any:
    if isinstance(value, list | tuple):
        converted = [names.get(v, v) if isinstance(v, int) else v for v in value]
        return converted[0] if len(converted) == 1 else converted
    return names.get(value, value) if isinstance(value, int) else value
