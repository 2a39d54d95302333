"""The FIT decoder policy: which decoder read a file is chosen, recorded and stored.

fitparse is the reference; the fast path (fitfast plus its adapter) must give the same
activities wherever it reads a file, say why where it does not, and reject what is damaged.
Files are real fixture files, altered byte by byte, or written with the benchmark's FIT
writer for layouts no fixture has (compressed speed/distance, shadowing developer fields).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from zoneinfo import ZoneInfo

import fitfast
import numpy as np
import pytest
from fastcrc import crc16

from bench.fitwriter import BYTE, UINT8, UINT32, DevField, Field, FitBuilder, MessageType, text
from bench.generate import Plan, Signal, encode, signal_for
from heavylegs_sync.codec import normalise
from heavylegs_sync.errors import ImportFailed
from heavylegs_sync.importers import DecodeOptions, Decoder, decode_file
from heavylegs_sync.model import Activity
from heavylegs_sync.store import Store
from tests.conftest import SAMPLE

RUN = SAMPLE / "2026-09-29-0700-run.fit"
OTHER_RUN = SAMPLE / "2026-10-03-0800-run.fit"
_NOT_COMPARED = {"samples", "decoder", "decoder_note"}


def decode(path: Path, data: bytes, decoder: Decoder) -> list[Activity]:
    return decode_file(path, data, DecodeOptions(zone=ZoneInfo("UTC"), decoder=decoder))


def assert_same(reference: list[Activity], fast: list[Activity]) -> None:
    assert len(reference) == len(fast)
    for a, b in zip(reference, fast, strict=True):
        for name in [f.name for f in fields(a) if f.name not in _NOT_COMPARED]:
            assert getattr(a, name) == getattr(b, name), name
        assert a.samples is not None and b.samples is not None
        assert normalise(a.samples).equals(normalise(b.samples))


def body_of(data: bytes) -> bytes:
    (size,) = struct.unpack_from("<I", data, 4)
    return data[data[0] : data[0] + size]


def with_header(body: bytes, size: int, header_crc: bool) -> bytes:
    """A FIT file around ``body`` with a header of ``size`` bytes (CRC zero if not asked)."""
    header = struct.pack("<BBHI4s", size, 0x20, 2132, len(body), b".FIT")
    if size >= 14:
        header += struct.pack("<H", crc16.arc(header) if header_crc else 0)
        header += b"\0" * (size - 14)
    data = header + body
    return data + struct.pack("<H", crc16.arc(data))


def test_each_decoder_is_recorded_and_reads_the_same(tmp_path: Path) -> None:
    data = RUN.read_bytes()
    (fast,) = decode(RUN, data, Decoder.FAST)
    (auto,) = decode(RUN, data, Decoder.AUTO)
    (reference,) = decode(RUN, data, Decoder.REFERENCE)
    assert (fast.decoder, fast.decoder_note) == ("fitfast", None)
    assert (auto.decoder, auto.decoder_note) == ("fitfast", None)
    assert (reference.decoder, reference.decoder_note) == ("fitparse", None)
    assert_same([reference], [fast])


def test_zero_header_crc_is_read_by_the_fast_path() -> None:
    """fitfast alone rejects these valid files (a false checksum error); we do not."""
    data = with_header(body_of(RUN.read_bytes()), 14, header_crc=False)
    with pytest.raises(fitfast.FitDecodeError, match="checksum"):
        fitfast.parse(data)
    fast = decode(RUN, data, Decoder.FAST)
    assert [a.decoder for a in fast] == ["fitfast"]
    assert_same(decode(RUN, data, Decoder.REFERENCE), fast)


def test_chained_files_are_read_segment_by_segment() -> None:
    data = RUN.read_bytes() + OTHER_RUN.read_bytes()
    fast = decode(RUN, data, Decoder.FAST)
    assert len(fast) == 2 and fast[0].start_utc < fast[1].start_utc
    assert_same(decode(RUN, data, Decoder.REFERENCE), fast)


def test_a_fallback_keeps_its_reason_and_the_store_keeps_both(tmp_path: Path) -> None:
    """A 16-byte header is valid FIT that fitfast refuses: fitparse reads it, on record."""
    data = with_header(body_of(RUN.read_bytes()), 16, header_crc=True)
    with pytest.raises(fitfast.FitDecodeError, match="not a FIT file"):
        fitfast.parse(data)
    with pytest.raises(ImportFailed, match="fast decoder: a 16-byte header"):
        decode(RUN, data, Decoder.FAST)
    (auto,) = decode(RUN, data, Decoder.AUTO)
    assert auto.decoder == "fitparse"
    assert (
        auto.decoder_note
        == "fast decoder: a 16-byte header (fitfast reads 12 or 14 bytes) at byte 0"
    )
    assert_same(decode(RUN, data, Decoder.REFERENCE), [auto])
    with Store.open(tmp_path / "store.sqlite") as store:
        store.add_file(RUN, "0" * 64, len(data), [auto])
        (stored,) = store.activities()
    assert (stored.decoder, stored.decoder_note) == (auto.decoder, auto.decoder_note)


def test_a_damaged_file_is_rejected_by_every_decoder() -> None:
    data = bytearray(RUN.read_bytes())
    data[len(data) // 2] ^= 0x55
    for decoder in Decoder:
        with pytest.raises(ImportFailed, match="corrupt FIT file: CRC Mismatch"):
            decode(RUN, bytes(data), decoder)


def _definition_offsets(data: bytes) -> list[int]:
    """Where the definition messages of a plain (uncompressed) FIT file start."""
    position, end, sizes, found = data[0], data[0] + body_size(data), {}, []
    while position < end:
        header = data[position]
        if header & 0x40:
            found.append(position)
            count = data[position + 5]
            sizes[header & 0xF] = sum(data[position + 7 + 3 * i] for i in range(count))
            position += 6 + 3 * count
        else:
            position += 1 + sizes[header & 0xF]
    return found


def body_size(data: bytes) -> int:
    (size,) = struct.unpack_from("<I", data, 4)
    return int(size)


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda data: data[:-500], id="inside-a-record"),
        pytest.param(lambda data: data[:-1], id="inside-the-checksum"),
        pytest.param(lambda data: data[:-2], id="before-the-checksum"),
        pytest.param(lambda data: data[: _definition_offsets(data)[-1] + 4], id="in-a-definition"),
        pytest.param(lambda data: data + b"\0" * 5, id="bytes-after-the-file"),
        pytest.param(lambda data: data + OTHER_RUN.read_bytes()[:13], id="in-a-second-header"),
        pytest.param(lambda data: data + OTHER_RUN.read_bytes()[:30], id="in-a-second-file"),
    ],
)
def test_the_fast_path_recovers_a_cut_file_as_fitparse_does(cut: Callable[[bytes], bytes]) -> None:
    """A file that ends early keeps what precedes the break, read by fitfast (issue 15)."""
    data = cut(RUN.read_bytes())
    reference = decode(RUN, data, Decoder.REFERENCE)
    fast = decode(RUN, data, Decoder.FAST)
    assert [a.notes for a in reference] == [("truncated",)]
    assert_same(reference, fast)
    (auto,) = decode(RUN, data, Decoder.AUTO)
    assert (auto.decoder, auto.decoder_note, auto.notes) == ("fitfast", None, ("truncated",))
    whole = decode(RUN, RUN.read_bytes(), Decoder.REFERENCE)[0].samples
    assert reference[0].samples is not None and whole is not None
    assert 0 < len(reference[0].samples) <= len(whole)


def test_a_file_cut_before_its_first_record_is_worded_by_fitparse() -> None:
    data = RUN.read_bytes()[:40]
    with pytest.raises(ImportFailed, match="fast decoder: truncated"):
        decode(RUN, data, Decoder.FAST)
    for decoder in (Decoder.AUTO, Decoder.REFERENCE):
        with pytest.raises(ImportFailed, match="truncated FIT file: Tried to read"):
            decode(RUN, data, decoder)


def _second_header(size: int, crc: str, keep: int = 16) -> bytes:
    """The first ``keep`` bytes of a second file's header of ``size`` bytes (then the file
    ends)."""
    header = struct.pack("<BBHI4s", size, 0x20, 2132, 100, b".FIT")
    value = {"right": crc16.arc(header), "wrong": crc16.arc(header) ^ 0x0101, "zero": 0}[crc]
    return (header + struct.pack("<H", value) + b"\0" * 8)[:keep]


@pytest.mark.parametrize(
    ("tail", "error"),
    [
        pytest.param(_second_header(13, "zero", 12), "corrupt FIT header", id="13-byte"),
        pytest.param(_second_header(20, "wrong"), "corrupt FIT file: CRC Mismatch", id="bad-crc"),
        pytest.param(_second_header(20, "right"), None, id="good-crc"),
        pytest.param(_second_header(20, "zero"), None, id="no-crc"),
    ],
)
def test_a_cut_second_header_is_judged_as_fitparse_judges_it(
    tail: bytes, error: str | None
) -> None:
    """fitparse checks a header's size, then its CRC, before it meets the end of the file."""
    data = RUN.read_bytes() + tail
    if error is not None:
        for decoder in (Decoder.REFERENCE, Decoder.AUTO):
            with pytest.raises(ImportFailed, match=error):
                decode(RUN, data, decoder)
        return
    reference = decode(RUN, data, Decoder.REFERENCE)
    assert [a.notes for a in reference] == [("truncated",)]
    fast = decode(RUN, data, Decoder.FAST)
    assert_same(reference, fast)


def test_a_message_running_past_the_announced_size_is_left_to_fitparse() -> None:
    """Here fitparse reads a checksum from inside the data, and finds it wrong."""
    data = bytearray(RUN.read_bytes())
    struct.pack_into("<I", data, 4, body_size(bytes(data)) - 3)
    if data[0] == 14:
        data[12:14] = b"\0\0"
    with pytest.raises(ImportFailed, match="fast decoder: the last message runs past the data"):
        decode(RUN, bytes(data), Decoder.FAST)
    with pytest.raises(ImportFailed, match="corrupt FIT file: CRC Mismatch"):
        decode(RUN, bytes(data), Decoder.AUTO)


def _activity_file(
    record: MessageType, rows: list[dict[str, object]], dev: bool, dev_name: str = "heart_rate"
) -> bytes:
    """A small running activity with these record rows (FIT times from 1,000,000,000); with
    ``dev``, developer field 0 of index 0 is a uint8 called ``dev_name``."""
    fit = FitBuilder()
    start, end = 1_000_000_000, 1_000_000_000 + len(rows) - 1
    file_id = MessageType(0, (Field(0, 0), Field(1, 0x84), Field(3, 0x8C), Field(4, UINT32)))
    fit.write(0, file_id, f0=4, f1=1, f3=1234, f4=start)
    if dev:
        developer = MessageType(207, (Field(0, BYTE, 16), Field(3, UINT8)))
        fit.write(1, developer, f0=np.arange(16), f3=0)
        description = MessageType(
            206, (Field(0, UINT8), Field(1, UINT8), Field(2, UINT8), Field(3, 0x07, 16))
        )
        fit.write(2, description, f0=0, f1=0, f2=UINT8, f3=text(dev_name, 16))
    fit.define(3, record)
    for row in rows:
        fit.write(3, record, **row)
    session = MessageType(
        18, (Field(253, UINT32), Field(2, UINT32), Field(7, UINT32), Field(5, 0), Field(6, 0))
    )
    fit.write(4, session, f253=end, f2=start, f7=(end - start) * 1000, f5=1, f6=0)
    return fit.finish()


def test_compressed_speed_and_distance_accumulate_as_fitparse_does() -> None:
    record = MessageType(20, (Field(253, UINT32), Field(8, BYTE, 3), Field(3, UINT8)))
    rows: list[dict[str, object]] = []
    distance16 = 0
    for i in range(300):
        distance16 += 3 * 16 + (i % 5)  # about 3 m a second: rolls over 256 m several times
        speed100 = 300 + i % 7
        packed = speed100 | (distance16 & 0xFFF) << 12
        rows.append({"f253": 1_000_000_000 + i, "f8": list(packed.to_bytes(3, "little")),
                     "f3": 140 + i % 10})  # fmt: skip
    data = _activity_file(record, rows, dev=False)
    path = Path("compressed.fit")
    fast = decode(path, data, Decoder.FAST)
    reference = decode(path, data, Decoder.REFERENCE)
    assert_same(reference, fast)
    samples = fast[0].samples
    assert samples is not None and samples.distance is not None
    assert samples.distance[-1] == pytest.approx(distance16 / 16)
    assert samples.distance[-1] > 800 and np.all(np.diff(samples.distance) > 0)


@pytest.mark.parametrize(
    ("name", "standard", "row", "channel", "expected"),
    [
        pytest.param(
            "heart_rate", (Field(3, UINT8),), {"f3": 150, "d0_0": 99}, "hr", 150.0, id="hr"
        ),
        # A Connect IQ "speed" where the watch writes only enhanced_speed: fitparse reads
        # the enhanced speed first (found by cutting and bit-flipping corpus files).
        pytest.param(
            "speed",
            (Field(73, UINT32), Field(3, UINT8)),
            {"f73": 3000, "f3": 150, "d0_0": 2},
            "speed",
            3.0,
            id="speed-beside-enhanced-speed",
        ),
    ],
)
def test_developer_field_named_like_a_standard_one_does_not_shadow_it(
    name: str, standard: tuple[Field, ...], row: dict[str, object], channel: str, expected: float
) -> None:
    developer = (DevField(0, 0, UINT8, name),)
    record = MessageType(20, (Field(253, UINT32), *standard), developer)
    rows: list[dict[str, object]] = [{"f253": 1_000_000_000 + i, **row} for i in range(120)]
    data = _activity_file(record, rows, dev=True, dev_name=name)
    path = Path("shadow.fit")
    fast = decode(path, data, Decoder.FAST)
    assert_same(decode(path, data, Decoder.REFERENCE), fast)
    samples = fast[0].samples
    assert samples is not None
    values = samples.channel(channel)
    assert values is not None and np.all(values == expected)


@pytest.mark.parametrize(
    ("maker", "sport", "stryd", "hrv"),
    [
        ("garmin", 1, True, True),  # records with developer fields, each followed by HRV
        ("garmin", 1, False, False),
        ("garmin-smart", 1, False, False),  # a record every 1-7 s
        ("suunto", 1, False, True),
        ("coros", 1, False, False),
        ("wahoo", 2, False, False),
        ("zwift", 2, False, False),
    ],
)
def test_real_shaped_files_read_alike(maker: str, sport: int, stryd: bool, hrv: bool) -> None:
    """The makers' record layouts, read from the bytes by the fast path, as fitparse reads them."""
    rng = np.random.default_rng(5)
    plan = Plan(maker, sport, 0, 1_700_000_000, 3600, 3_900_000_001, stryd=stryd, hrv=hrv)
    signal = signal_for(rng, plan)
    keep = slice(0, 400)
    short = Signal(*(getattr(signal, name)[keep] for name in Signal.__dataclass_fields__))
    data = encode(plan, short, [])
    path = Path(f"{maker}.fit")
    fast = decode(path, data, Decoder.FAST)
    assert [a.decoder for a in fast] == ["fitfast"]
    assert_same(decode(path, data, Decoder.REFERENCE), fast)
