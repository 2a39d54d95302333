"""Generate a runner's five-year history of real-shaped FIT files, deterministically.

About 1,500 activities: runs of 30-180 minutes (a quarter with intervals), strength
sessions with sets, and rides; several million samples in all. Times follow
Europe/Berlin, DST included.

The *shapes* are those of the real corpus files (message types, field sets, developer
fields), the data is synthetic:

- **Garmin running watch** (FR955-like, most files): file_id, file_creator, device_info
  for the watch and its sensors, device_settings, user_profile, zones_target, sport,
  events, 1 Hz records of 17 standard fields (GPS, distance, enhanced speed and altitude,
  running dynamics, HR, cadence, temperature) plus Stryd developer fields (power, form
  power, leg spring stiffness, ...) on half the runs, an HRV message after every record
  when a chest strap is paired, a lap per kilometre, session and activity. Some runs come
  from an older watch with smart recording (a record every 1-7 s, fewer fields).
- **Garmin strength** sessions with set messages, records every 5 s and HRV.
- **Other makers** (about a quarter): Wahoo bike computer rides, Coros and Suunto runs
  (Suunto with HRV), Zwift virtual runs and rides, each with its own record fields.

    python -m bench.generate OUT_DIR [--activities 1500] [--seed 7]
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from bench.fitwriter import (
    BYTE,
    ENUM,
    FLOAT32,
    SINT8,
    SINT32,
    STRING,
    UINT8,
    UINT16,
    UINT32,
    UINT32Z,
    DevField,
    Field,
    FitBuilder,
    MessageType,
    Rows,
    fit_time,
    interleave,
    text,
)

BERLIN = ZoneInfo("Europe/Berlin")
FIRST_DAY = datetime(2021, 11, 1, tzinfo=UTC)
GARMIN, SUUNTO, WAHOO, STRYD, ZWIFT, COROS = 1, 23, 32, 95, 260, 294
RUNNING, CYCLING, TRAINING = 1, 2, 10
F = Field

FILE_ID = MessageType(0, (F(3, UINT32Z), F(4, UINT32), F(1, UINT16), F(2, UINT16), F(5, UINT16),
                          F(0, ENUM)))  # fmt: skip
FILE_CREATOR = MessageType(49, (F(0, UINT16), F(1, UINT8)))
DEVICE_INFO = MessageType(23, (F(253, UINT32), F(3, UINT32Z), F(7, UINT32), F(2, UINT16),
                               F(4, UINT16), F(5, UINT16), F(10, UINT16), F(0, UINT8),
                               F(1, UINT8), F(6, UINT8), F(11, UINT8), F(25, ENUM)))  # fmt: skip
DEVICE_SETTINGS = MessageType(2, (F(1, UINT32), F(2, UINT32, 2), F(0, UINT8),
                                  F(4, ENUM, 2), F(5, SINT8, 2), F(12, ENUM), F(36, ENUM),
                                  F(47, ENUM)))  # fmt: skip
USER_PROFILE = MessageType(3, (F(4, UINT16), F(31, UINT16), F(32, UINT16), F(1, ENUM),
                               F(3, UINT8), F(5, ENUM), F(8, UINT8), F(9, UINT8), F(10, UINT8),
                               F(11, UINT8), F(12, ENUM), F(17, ENUM)))  # fmt: skip
ZONES_TARGET = MessageType(7, (F(3, UINT16), F(1, UINT8), F(2, UINT8), F(5, ENUM),
                               F(7, ENUM)))  # fmt: skip
SPORT = MessageType(12, (F(3, STRING, 16), F(0, ENUM), F(1, ENUM)))
EVENT = MessageType(21, (F(253, UINT32), F(3, UINT32), F(0, ENUM), F(1, ENUM), F(4, UINT8)))
DEVELOPER_DATA_ID = MessageType(207, (F(0, BYTE, 16), F(1, BYTE, 16), F(4, UINT32),
                                      F(2, UINT16), F(3, UINT8)))  # fmt: skip
FIELD_DESCRIPTION = MessageType(206, (F(3, STRING, 32), F(8, STRING, 16), F(14, UINT16),
                                      F(0, UINT8), F(1, UINT8), F(2, UINT8),
                                      F(15, UINT8)))  # fmt: skip
HRV = MessageType(78, (F(0, UINT16, 5),))
LAP = MessageType(19, (F(253, UINT32), F(2, UINT32), F(7, UINT32), F(8, UINT32), F(9, UINT32),
                       F(254, UINT16), F(11, UINT16), F(13, UINT16), F(14, UINT16),
                       F(21, UINT16), F(22, UINT16), F(0, ENUM), F(1, ENUM), F(15, UINT8),
                       F(16, UINT8), F(17, UINT8), F(24, ENUM), F(25, ENUM),
                       F(39, ENUM)))  # fmt: skip
SESSION = MessageType(18, (F(253, UINT32), F(2, UINT32), F(7, UINT32), F(8, UINT32),
                           F(9, UINT32), F(254, UINT16), F(11, UINT16), F(14, UINT16),
                           F(15, UINT16), F(22, UINT16), F(23, UINT16), F(25, UINT16),
                           F(26, UINT16), F(0, ENUM), F(1, ENUM), F(5, ENUM), F(6, ENUM),
                           F(16, UINT8), F(17, UINT8), F(24, UINT8), F(28, ENUM)))  # fmt: skip
ACTIVITY = MessageType(34, (F(253, UINT32), F(0, UINT32), F(5, UINT32), F(1, UINT16),
                            F(2, ENUM), F(3, ENUM), F(4, ENUM)))  # fmt: skip
SET = MessageType(225, (F(254, UINT32), F(0, UINT32), F(3, UINT16), F(4, UINT16), F(5, UINT8),
                        F(6, UINT32), F(7, UINT16), F(10, UINT16)))  # fmt: skip

STRYD_FIELDS = (
    DevField(0, 0, UINT16, "Power", "Watts", (20, 7)),
    DevField(0, 8, UINT16, "Form Power", "Watts"),
    DevField(0, 9, FLOAT32, "Leg Spring Stiffness", "KN/m"),
    DevField(0, 2, UINT8, "Cadence", "RPM"),
    DevField(0, 3, UINT16, "Ground Time", "Milliseconds"),
    DevField(0, 4, FLOAT32, "Vertical Oscillation", "Centimeters"),
    DevField(0, 11, UINT8, "Air Power", "Watts"),
)
_WATCH_RECORD = (
    F(253, UINT32), F(0, SINT32), F(1, SINT32), F(5, UINT32), F(73, UINT32), F(78, UINT32),
    F(39, UINT16), F(40, UINT16), F(41, UINT16), F(83, UINT16), F(84, UINT16), F(85, UINT16),
    F(3, UINT8), F(4, UINT8), F(13, SINT8), F(42, ENUM), F(53, UINT8),
)  # fmt: skip
_SMART_RECORD = (F(253, UINT32), F(0, SINT32), F(1, SINT32), F(2, UINT16), F(5, UINT32),
                 F(6, UINT16), F(3, UINT8), F(4, UINT8), F(13, SINT8), F(53, UINT8))  # fmt: skip
_WAHOO_RECORD = (F(253, UINT32), F(0, SINT32), F(1, SINT32), F(2, UINT16), F(5, UINT32),
                 F(6, UINT16), F(7, UINT16), F(3, UINT8), F(4, UINT8), F(13, SINT8))  # fmt: skip
_COROS_RECORD = (F(253, UINT32), F(0, SINT32), F(1, SINT32), F(5, UINT32), F(73, UINT32),
                 F(78, UINT32), F(7, UINT16), F(3, UINT8), F(4, UINT8), F(53, UINT8))  # fmt: skip
_SUUNTO_RECORD = (F(253, UINT32), F(0, SINT32), F(1, SINT32), F(78, UINT32), F(73, UINT32),
                  F(5, UINT32), F(3, UINT8), F(4, UINT8), F(13, SINT8))  # fmt: skip
_ZWIFT_RECORD = (F(253, UINT32), F(0, SINT32), F(1, SINT32), F(2, UINT16), F(5, UINT32),
                 F(6, UINT16), F(7, UINT16), F(3, UINT8), F(4, UINT8))  # fmt: skip
RECORDS = {
    "garmin": MessageType(20, _WATCH_RECORD),
    "garmin+stryd": MessageType(20, _WATCH_RECORD, STRYD_FIELDS),
    "garmin-smart": MessageType(20, _SMART_RECORD),
    "garmin-strength": MessageType(20, (F(253, UINT32), F(3, UINT8), F(13, SINT8))),
    "wahoo": MessageType(20, _WAHOO_RECORD),
    "coros": MessageType(20, _COROS_RECORD),
    "suunto": MessageType(20, _SUUNTO_RECORD),
    "zwift": MessageType(20, _ZWIFT_RECORD),
}
_SEMICIRCLES = 2**31 / 180.0


@dataclass
class Signal:
    """One activity's synthetic samples (t in seconds since the start)."""

    t: npt.NDArray[np.int64]
    hr: npt.NDArray[np.float64]
    speed: npt.NDArray[np.float64]
    distance: npt.NDArray[np.float64]
    cadence: npt.NDArray[np.float64]
    altitude: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    power: npt.NDArray[np.float64]


@dataclass
class Plan:
    """What one file is: who wrote it, what sport, when."""

    maker: str  # garmin, garmin-smart, garmin-strength, wahoo, coros, suunto, zwift
    sport: int
    sub_sport: int
    start: int  # Unix seconds
    utc_offset_s: int
    serial: int
    stryd: bool = False
    hrv: bool = False


def _times(
    rng: np.random.Generator, seconds: int, smart: bool, every: int = 1
) -> npt.NDArray[np.int64]:
    if not smart:
        return np.arange(0, seconds + 1, every, dtype=np.int64)
    steps = rng.integers(1, 8, size=seconds)
    t = np.concatenate(([0], np.cumsum(steps)))
    return t[t <= seconds].astype(np.int64)


def signal_for(rng: np.random.Generator, plan: Plan) -> Signal:
    if plan.maker == "garmin-strength":
        t = _times(rng, int(rng.integers(30, 61)) * 60, False, 5)
        hr = np.clip(105 + rng.normal(0, 8, len(t)), 60, 200)
        zero = np.zeros(len(t), dtype=np.float64)
        return Signal(t, np.round(hr), zero, zero, zero, zero + 40, zero, zero, zero)
    ride = plan.sport == CYCLING
    minutes = int(rng.integers(45, 121)) if ride else int(rng.integers(30, 181))
    t = _times(rng, minutes * 60, plan.maker == "garmin-smart")
    n = len(t)
    base = (130 if ride else 140) + rng.normal(0, 2, n)
    if not ride and rng.random() < 0.25:
        base = np.where((t // 240) % 2 == 1, 168.0, base)  # intervals
    hr = np.clip(np.round(base + rng.normal(0, 1.5, n)), 60, 200)
    if ride:
        speed = np.clip(7.5 + rng.normal(0, 0.8, n), 0, 20)
        cadence = np.round(88 + rng.normal(0, 3, n)).astype(np.float64)
    else:
        speed = np.clip(2.9 + (hr - 140) * 0.03 + rng.normal(0, 0.1, n), 0.5, 6)
        cadence = np.round(85 + rng.normal(0, 2, n)).astype(np.float64)
    speed = np.round(speed, 3).astype(np.float64)
    distance = np.round(np.concatenate(([0.0], np.cumsum(speed[:-1] * np.diff(t)))), 2).astype(
        float
    )
    altitude = np.round(120 + np.cumsum(rng.normal(0, 0.3, n)), 1)
    heading = np.cumsum(rng.normal(0, 0.05, n))
    step = np.concatenate(([0.0], np.diff(distance)))
    lat = 52.52 + np.cumsum(step * np.cos(heading)) / 111_320
    lon = 13.40 + np.cumsum(step * np.sin(heading)) / 67_800
    watts = (200 if ride else 250) + (hr - 140) * 3 + rng.normal(0, 15, n)
    power = np.round(np.clip(watts, 0, 900)).astype(np.float64)
    return Signal(t, hr, speed, distance, cadence, altitude, lat, lon, power)


def _record_rows(plan: Plan, message: MessageType, s: Signal, local: int) -> Rows:
    rows = message.rows(len(s.t), local)
    names = set(rows.dtype.names or ())
    ts = fit_time(plan.start + s.t)
    columns = {
        "f253": ts,
        "f0": np.round(s.lat * _SEMICIRCLES),
        "f1": np.round(s.lon * _SEMICIRCLES),
        "f2": np.round((s.altitude + 500) * 5),
        "f78": np.round((s.altitude + 500) * 5),
        "f5": np.round(s.distance * 100),
        "f6": np.round(s.speed * 1000),
        "f73": np.round(s.speed * 1000),
        "f7": s.power,
        "f3": s.hr,
        "f4": s.cadence,
        "f13": np.full(len(s.t), 18),
        "f53": np.zeros(len(s.t)),
        "f42": np.full(len(s.t), 1),
        "f39": np.full(len(s.t), 820),
        "f40": np.full(len(s.t), 3350),
        "f41": np.round(2400 + s.hr),
        "f83": np.full(len(s.t), 780),
        "f84": np.full(len(s.t), 4990),
        "f85": np.round(s.speed / np.maximum(s.cadence, 1) * 30_000),
        "d0_0": s.power,
        "d0_8": np.round(s.power * 0.25),
        "d0_9": np.full(len(s.t), 10.5),
        "d0_2": s.cadence,
        "d0_3": np.round(240 + s.hr * 0.1),
        "d0_4": np.full(len(s.t), 8.2),
        "d0_11": np.full(len(s.t), 3),
    }
    for name, values in columns.items():
        if name in names:
            rows[name] = values
    return rows


def encode(plan: Plan, s: Signal, sets: list[tuple[int, int, int, float, int]]) -> bytes:
    """The complete file for one activity in its maker's shape."""
    fit = FitBuilder()
    start, end = fit_time(plan.start), fit_time(plan.start + int(s.t[-1]))
    garmin = plan.maker.startswith("garmin")
    maker = {"wahoo": WAHOO, "coros": COROS, "suunto": SUUNTO, "zwift": ZWIFT}.get(plan.maker,
                                                                               GARMIN)  # fmt: skip
    product = {GARMIN: 3904 if plan.maker != "garmin-smart" else 1967}.get(maker, 1)
    fit.write(0, FILE_ID, f3=plan.serial, f4=start, f1=maker, f2=product, f0=4)
    if garmin or maker == SUUNTO:
        fit.write(1, FILE_CREATOR, f0=1928, f1=0)
    devices = [(0, 255, maker, product, plan.serial)]
    if plan.hrv or garmin:
        devices.append((1, 120, GARMIN, 2697, plan.serial + 17))  # chest strap
    if plan.stryd:
        devices.append((2, 124, STRYD, 1, plan.serial + 29))
    for index, kind, who, what, serial in devices:
        fit.write(2, DEVICE_INFO, f253=start, f3=serial, f2=who, f4=what, f5=1928, f0=index,
                  f1=kind, f11=1, f25=5 if index == 0 else 1)  # fmt: skip
    if garmin:
        fit.write(3, DEVICE_SETTINGS, f1=plan.utc_offset_s, f2=[0, 0], f0=0, f4=[0, 0],
                  f5=[0, 0], f12=3, f36=1, f47=0)  # fmt: skip
        fit.write(4, USER_PROFILE, f4=700, f31=0, f32=0, f1=1, f3=180, f5=0, f8=48, f9=191,
                  f10=185, f11=191, f12=1, f17=80)  # fmt: skip
        fit.write(5, ZONES_TARGET, f3=260, f1=191, f2=172, f5=1, f7=1)
    if garmin or maker == COROS:
        name = {RUNNING: "Run", CYCLING: "Bike", TRAINING: "Strength"}[plan.sport]
        fit.write(6, SPORT, f3=text(name, 16), f0=plan.sport, f1=plan.sub_sport)
    fit.write(7, EVENT, f253=start, f3=0, f0=0, f1=0, f4=0)  # timer start
    record = RECORDS[plan.maker if not plan.stryd else "garmin+stryd"]
    if plan.stryd:
        fit.write(8, DEVELOPER_DATA_ID, f0=np.arange(16), f1=np.arange(16, 32), f4=10,
                  f2=STRYD, f3=0)  # fmt: skip
        for dev in STRYD_FIELDS:
            native = dev.native or (0xFFFF, 0xFF)
            fit.write(9, FIELD_DESCRIPTION, f3=text(dev.name, 32), f8=text(dev.units, 16),
                      f14=native[0], f0=dev.index, f1=dev.number, f2=dev.base,
                      f15=native[1])  # fmt: skip
    rows = _record_rows(plan, record, s, 10)
    fit.define(10, record)
    laps = _laps(s, plan)
    if plan.hrv:
        fit.define(11, HRV)
        hrv = HRV.rows(len(s.t), 11)
        rr = np.full((len(s.t), 5), 0xFFFF, dtype=np.uint16)
        rr[:, 0] = np.round(60_000 / np.maximum(s.hr, 30))
        hrv["f0"] = rr
        fit.rows(interleave(rows, hrv))
    else:
        fit.rows(rows)
    for offset, duration, reps, weight, category in sets:
        fit.write(12, SET, f254=start + offset + duration, f0=duration * 1000, f3=reps,
                  f4=round(weight * 16), f5=1, f6=start + offset, f7=category,
                  f10=len(sets))  # fmt: skip
    for i, (a, b) in enumerate(laps):
        _lap(fit, plan, s, a, b, i)
    fit.write(7, EVENT, f253=end, f3=0, f0=0, f1=4, f4=0)  # timer stop_all
    elapsed = int(s.t[-1]) * 1000
    valid = s.hr[s.hr > 0]
    fit.write(14, SESSION, f253=end, f2=start, f7=elapsed, f8=elapsed,
              f9=round(float(s.distance[-1]) * 100), f254=0, f11=int(len(s.t) * 0.2),
              f14=round(float(s.speed.mean()) * 1000), f15=round(float(s.speed.max()) * 1000),
              f22=40, f23=40, f25=0, f26=len(laps), f0=8, f1=1, f5=plan.sport,
              f6=plan.sub_sport, f16=int(valid.mean()), f17=int(valid.max()), f24=30,
              f28=0)  # fmt: skip
    fit.write(15, ACTIVITY, f253=end, f0=elapsed, f5=end + plan.utc_offset_s, f1=1, f2=0, f3=26,
              f4=1)  # fmt: skip
    return fit.finish()


def _laps(s: Signal, plan: Plan) -> list[tuple[int, int]]:
    """Record index ranges of the laps: every kilometre on runs, 5 km on rides."""
    if plan.maker == "garmin-strength":
        return [(0, len(s.t) - 1)]
    length = 5000.0 if plan.sport == CYCLING else 1000.0
    marks = np.searchsorted(s.distance, np.arange(length, s.distance[-1], length))
    bounds = [0, *[int(m) for m in marks], len(s.t) - 1]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _lap(fit: FitBuilder, plan: Plan, s: Signal, a: int, b: int, index: int) -> None:
    seconds = int(s.t[b] - s.t[a]) * 1000
    hr = s.hr[a : b + 1]
    fit.write(13, LAP, f253=fit_time(plan.start + int(s.t[b])),
              f2=fit_time(plan.start + int(s.t[a])), f7=seconds, f8=seconds,
              f9=round(float(s.distance[b] - s.distance[a]) * 100), f254=index,
              f11=int((b - a) * 0.2), f13=round(float(s.speed[a : b + 1].mean()) * 1000),
              f14=round(float(s.speed[a : b + 1].max()) * 1000), f21=5, f22=5, f0=9, f1=1,
              f15=int(hr.mean()), f16=int(hr.max()), f17=int(s.cadence[a : b + 1].mean()),
              f24=2, f25=plan.sport, f39=plan.sub_sport)  # fmt: skip


def _strength_sets(rng: np.random.Generator) -> list[tuple[int, int, int, float, int]]:
    categories = [28, 17, 8, 0, 23, 1]  # squat, lunge, deadlift, bench press, row, calf raise
    return [
        (i * 150, 40, int(rng.integers(6, 13)), float(rng.integers(10, 80)),
         categories[int(rng.integers(0, len(categories)))])
        for i in range(12)
    ]  # fmt: skip


#: (share, maker, sport, sub_sport): what the five years hold, by maker shape.
MIX = (
    (0.40, "garmin", RUNNING, 0),
    (0.12, "garmin-smart", RUNNING, 0),
    (0.18, "garmin-strength", TRAINING, 20),
    (0.04, "garmin", CYCLING, 7),
    (0.06, "wahoo", CYCLING, 7),
    (0.07, "coros", RUNNING, 0),
    (0.07, "suunto", RUNNING, 0),
    (0.03, "zwift", RUNNING, 58),
    (0.03, "zwift", CYCLING, 58),
)


def generate(
    out: Path,
    activities: int = 1500,
    seed: int = 7,
    *,
    first_day: datetime = FIRST_DAY,
    years: int = 5,
) -> list[Path]:
    """Write the history into ``out``; returns the files in start order. ``first_day`` and
    ``years``: another span (the club bench gives its athletes with samples one year)."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    days = years * 365
    per_day = activities / days
    shares = np.array([m[0] for m in MIX])
    written: list[Path] = []
    day = count = 0
    while count < activities:
        # Mostly one activity a day, sometimes two, sometimes none: about `per_day` a day.
        for k in range(int(rng.poisson(per_day))):
            if count >= activities:
                break
            local = datetime.combine(
                (first_day + timedelta(days=day % days)).date(), datetime.min.time(), BERLIN
            ) + timedelta(hours=7 + 10 * k, minutes=int(rng.integers(0, 30)))
            offset = local.utcoffset()
            assert offset is not None
            _, maker, sport, sub_sport = MIX[int(rng.choice(len(MIX), p=shares / shares.sum()))]
            plan = Plan(maker, sport, sub_sport, int(local.timestamp()),
                        int(offset.total_seconds()), 3_900_000_000 + count)  # fmt: skip
            plan.stryd = maker == "garmin" and sport == RUNNING and rng.random() < 0.5
            plan.hrv = maker in ("garmin", "garmin-strength", "suunto") and rng.random() < 0.5
            sets = _strength_sets(rng) if maker == "garmin-strength" else []
            signal = signal_for(rng, plan)
            kind = {RUNNING: "run", CYCLING: "ride", TRAINING: "strength"}[sport]
            path = out / f"{local:%Y-%m-%d-%H%M}-{kind}-{maker}.fit"
            path.write_bytes(encode(plan, signal, sets))
            written.append(path)
            count += 1
        day += 1
    return sorted(written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--activities", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    files = generate(args.out, args.activities, args.seed)
    print(f"{len(files)} files in {args.out}")


if __name__ == "__main__":
    main()
