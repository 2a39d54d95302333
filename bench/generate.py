"""Generate a runner's five-year history of FIT files, deterministically (fixed seed).

About 1,500 activities: runs of 30-180 minutes, half recorded at 1 Hz and half with
Garmin-style smart recording (a record every 1-7 s), strength sessions with sets, and
rides; several million samples in all. Times follow Europe/Berlin, DST included.

    python -m bench.generate OUT_DIR [--activities 1500] [--seed 7]
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from bench.fitwriter import FitActivity, encode

BERLIN = ZoneInfo("Europe/Berlin")
FIRST_DAY = datetime(2021, 11, 1, tzinfo=UTC)


def _run(rng: np.random.Generator, start: int, offset: int, serial: int) -> FitActivity:
    minutes = int(rng.integers(30, 181))
    seconds = minutes * 60
    if rng.random() < 0.5:
        t = np.arange(0, seconds + 1, dtype=np.int64)
    else:
        steps = rng.integers(1, 8, size=seconds)
        t = np.concatenate(([0], np.cumsum(steps)))
        t = t[t <= seconds]
    hard = rng.random() < 0.25
    base = 140 + rng.normal(0, 2, len(t))
    if hard:
        base = np.where((t // 240) % 2 == 1, 168.0, base)
    hr = np.clip(np.round(base + rng.normal(0, 1.5, len(t))), 60, 200).astype(np.uint8)
    speed = np.clip(2.9 + (hr.astype(float) - 140) * 0.03 + rng.normal(0, 0.1, len(t)), 0.5, 6)
    distance = np.concatenate(([0.0], np.cumsum(speed[:-1] * np.diff(t))))
    cadence = np.full(len(t), 85, dtype=np.uint8)
    return FitActivity(start, offset, 1, 0, serial, t, hr, distance, speed, cadence)


def _ride(rng: np.random.Generator, start: int, offset: int, serial: int) -> FitActivity:
    seconds = int(rng.integers(45, 121)) * 60
    t = np.arange(0, seconds + 1, dtype=np.int64)
    hr = np.clip(np.round(130 + rng.normal(0, 4, len(t))), 60, 200).astype(np.uint8)
    speed = np.clip(7.5 + rng.normal(0, 0.8, len(t)), 0, 20)
    distance = np.concatenate(([0.0], np.cumsum(speed[:-1])))
    cadence = np.full(len(t), 88, dtype=np.uint8)
    return FitActivity(start, offset, 2, 0, serial, t, hr, distance, speed, cadence)


def _strength(rng: np.random.Generator, start: int, offset: int, serial: int) -> FitActivity:
    seconds = int(rng.integers(30, 61)) * 60
    t = np.arange(0, seconds + 1, 5, dtype=np.int64)
    hr = np.clip(np.round(105 + rng.normal(0, 8, len(t))), 60, 200).astype(np.uint8)
    zeros = np.zeros(len(t))
    sets = []
    categories = [28, 17, 8, 0, 23, 1]  # squat, lunge, deadlift, bench press, row, calf raise
    for i in range(12):
        sets.append((i * 150, 40, int(rng.integers(6, 13)), float(rng.integers(10, 80)),
                     categories[int(rng.integers(0, len(categories)))]))  # fmt: skip
    return FitActivity(
        start, offset, 10, 20, serial, t, hr, zeros, zeros, np.zeros(len(t), dtype=np.uint8), sets
    )


def generate(out: Path, activities: int = 1500, seed: int = 7) -> list[Path]:
    """Write the history into ``out``; returns the files in start order."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    days = 5 * 365
    per_day = activities / days
    written: list[Path] = []
    day = 0
    count = 0
    while count < activities:
        # Mostly one activity a day, sometimes two, sometimes none: about `per_day` a day.
        n = int(rng.poisson(per_day))
        for k in range(n):
            if count >= activities:
                break
            local = datetime.combine(
                (FIRST_DAY + timedelta(days=day % days)).date(),
                datetime.min.time(),
                BERLIN,
            ) + timedelta(hours=7 + 10 * k, minutes=int(rng.integers(0, 30)))
            start = int(local.timestamp())
            offset = int(local.utcoffset().total_seconds())  # type: ignore[union-attr]
            roll = rng.random()
            maker = _run if roll < 0.72 else _strength if roll < 0.9 else _ride
            activity = maker(rng, start, offset, 3_900_000_000 + count)
            kind = {_run: "run", _strength: "strength", _ride: "ride"}[maker]
            path = out / f"{local:%Y-%m-%d-%H%M}-{kind}.fit"
            path.write_bytes(encode(activity))
            written.append(path)
            count += 1
        day += 1
    return written


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
