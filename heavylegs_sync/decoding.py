"""Decoding in worker processes, so a decoder that crashes costs one file, never the import.

Files are read, decoded and checked for plausibility in a pool of worker processes whose
stderr goes nowhere (fitfast's Rust panic text and numpy's warnings are not messages for
a person: the file's outcome is). When a worker dies (a segfault in native code), every
file it may have held is decoded again alone in a fresh process: the file that kills that
one too fails with the reason, the others are decoded normally. A decoder stuck past a
time limit is stopped the same way. Nothing is ever decoded in the calling process.

With ``--decoder auto`` a file that kills its decoder process is read once more, alone,
with the reference decoder (fitparse): a crash in the fast decoder costs speed, not the
file, and the activity's ``decoder_note`` and the import's notes say what happened.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TypeVar

from heavylegs_sync.codec import decode_samples, encode_samples
from heavylegs_sync.errors import AthleteError, ImportFailed, NotAnActivity, StoreError
from heavylegs_sync.hr.trace import sustained_peak, zone_times
from heavylegs_sync.hr.zones import ZoneModel, ZoneTimesKey
from heavylegs_sync.importers import DecodeOptions, decode_file
from heavylegs_sync.importers.fit import ENVIRONMENT_NOTES
from heavylegs_sync.importers.plausible import Implausible, vet
from heavylegs_sync.importers.source import read_regular, sha256_of
from heavylegs_sync.importers.wellness_read import WellnessRead, reader_for
from heavylegs_sync.kinds import Decoder
from heavylegs_sync.limits import PEAK_KIND, PEAK_WINDOW_S
from heavylegs_sync.model import Activity, Category, WellnessRecord
from heavylegs_sync.store import Store
from heavylegs_sync.wellness import vet as vet_wellness

log = logging.getLogger("heavylegs.decoding")


@dataclass(frozen=True)
class Note:
    """How an import degraded, for the person running it: once per file (``per_file``, a
    decoder that crashed on it) or once for all the files it concerns (a missing library)."""

    text: str
    per_file: bool = False


@dataclass(frozen=True)
class Decoded:
    """A file's activities, checked, and one line per value the checks dropped.

    ``packed`` holds each activity's samples as the store keeps them (None without
    samples), ``figures`` the derived figures no setting changes (a run's sustained HR
    peak), as the store keeps them: computing both is the heaviest part of storing, done
    here in the worker so that it runs in parallel and the one writer only writes.
    """

    activities: list[Activity]
    warnings: list[str] = field(default_factory=list)
    packed: list[bytes | None] | None = None
    figures: list[dict[str, str]] | None = None
    notes: tuple[Note, ...] = ()
    digest: str | None = None  # the content's SHA-256, computed by the worker
    size: int = 0  # bytes read (inflated, for an archive member)
    #: a wellness file's records (sleep, resting HR, HRV), vetted (``wellness.vet``)
    wellness: tuple[WellnessRecord, ...] = ()
    #: its rows or records left out, one line each (``error:`` lines; the rest is kept)
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failure:
    """Why a file gives no activity; ``not_activity`` for files that never hold one,
    ``crash`` how its decoder process died (``killed by SIGSEGV``) when it did."""

    reason: str
    not_activity: bool = False
    crash: str | None = None
    digest: str | None = None  # the content's SHA-256, when it was read
    #: a wellness file none of whose rows could be kept: one line per row
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True)
class Known:
    """Content the store holds already (imported from ``path``): not decoded again."""

    digest: str
    path: str


Outcome = Decoded | Failure | Known
T = TypeVar("T")
#: No real file takes this long (a day-long FIT decodes in seconds); a decoder that does
#: is stuck, and the import must go on.
DECODE_TIMEOUT_S = 300.0
#: ``job(path, options, now)``, or ``job(label, options, now, data)`` for an archive member.
Job = Callable[..., Outcome]


def decode_job(
    path: Path, options: DecodeOptions, now: datetime, data: bytes | None = None
) -> Outcome:
    """Read, hash, decode and check one file (the worker's whole job); ``data`` is the
    content of an archive member (``path`` then only names it), already read within the
    cap. Content the store ``options.known_in`` holds already is not decoded (:class:`Known`).
    Hashing here, not in the one writer, lets a second worker pay."""
    try:
        content = read_regular(path, options.max_bytes) if data is None else data
    except ImportFailed as exc:
        return Failure(exc.reason)
    digest = sha256_of(content)
    if options.known_in is not None:
        try:
            known = _store(options.known_in).known_file(digest)
        except (StoreError, AthleteError) as exc:  # AthleteError: removed meanwhile
            return Failure(f"cannot look the content up in the store: {exc}", digest=digest)
        if known is not None:
            return Known(digest, known.path)
    outcome = _decoded(path, content, options, now)
    if isinstance(outcome, Decoded):
        return replace(outcome, digest=digest, size=len(content))
    return replace(outcome, digest=digest)


def _decoded(path: Path, data: bytes, options: DecodeOptions, now: datetime) -> Outcome:
    try:
        reader = reader_for(path, data)
        if reader is not None:
            return _wellness(reader(path, data, options), options, now)
        decoded = decode_file(path, data, options)
        vetted = vet(decoded, now)
        packed = [
            encode_samples(a.samples) if a.samples is not None and len(a.samples) else None
            for a in vetted.activities
        ]
        figures = [_figures(a, b, options) for a, b in zip(vetted.activities, packed, strict=True)]
    except NotAnActivity as exc:
        return Failure(exc.reason, not_activity=True)
    except ImportFailed as exc:
        return Failure(exc.reason)
    except Implausible as exc:
        return Failure(str(exc))
    except MemoryError:
        return Failure("out of memory while decoding")
    except RecursionError:
        return Failure("structure nested too deeply to decode")
    except Exception as exc:  # a decoder bug must cost one file, not the whole batch
        return Failure(
            f"internal error while decoding ({type(exc).__name__}: {exc}); please report it"
        )
    notes = sorted({a.decoder_note or "" for a in vetted.activities} & ENVIRONMENT_NOTES)
    return Decoded(
        vetted.activities, vetted.warnings, packed, figures, tuple(Note(n) for n in notes)
    )


def _wellness(read: WellnessRead, options: DecodeOptions, now: datetime) -> Outcome:
    """A wellness file's records, each vetted against the athlete's today; a record no
    person could have is one ``rejected`` line, the others are kept."""
    today = now.astimezone(options.zone).date()
    kept: list[WellnessRecord] = []
    rejected = list(read.problems)
    for index, record in enumerate(read.records):
        why = vet_wellness(record, today)
        if why is None:
            kept.append(record)
        else:
            place = read.where.get(index)
            rejected.append(why if place is None else f"{place}: {why}")
    if not kept:
        if not rejected:  # an empty file (a new account's export): nothing wrong in it
            why = "; ".join(read.warnings)
            return Failure(
                "no sleep, resting heart rate or HRV in it" + (f" ({why})" if why else ""),
                not_activity=True,
            )
        if len(rejected) == 1:
            return Failure(rejected[0])
        left = f"{len(rejected)} rows"
        return Failure(f"nothing in it could be kept ({left} left out)", rejected=tuple(rejected))
    return Decoded([], list(read.warnings), wellness=tuple(kept), rejected=tuple(rejected))


_stores: dict[tuple[Path | str, str | None], Store] = {}  # each worker's, by target, athlete
_squads: dict[Path | str, Store] = {}  # each worker's one connection to a store of many


def _store(key: tuple[Path | str, str | None]) -> Store:
    """The store (and athlete) of ``key``, opened read-only once per worker process (WAL
    lets SQLite read while the writer writes; PostgreSQL reads beside it). Athletes of one
    store share one connection: a squad's watcher asks for each of its athletes."""
    if key not in _stores:
        target, athlete = key
        if athlete is None:
            _stores[key] = Store.open(target, read_only=True)
        else:
            if target not in _squads:
                _squads[target] = Store.open(target, read_only=True, unscoped=True)
            _stores[key] = _squads[target].for_athlete(athlete)
    return _stores[key]


def _figures(activity: Activity, packed: bytes | None, options: DecodeOptions) -> dict[str, str]:
    """The derived figures of one activity (stored as JSON, by kind): a run's sustained
    HR peak, and the zone times for the model the activity's own values give
    (``options.zone_basis``), so the one writer computes none of them.

    Computed from the samples as stored (times to the millisecond, values as float32), so
    they equal what the analysis would compute from the store.
    """
    basis = options.zone_basis
    model = None if basis is None else basis.model_for(activity)
    peak = options.peaks and activity.category is Category.RUN and packed is not None
    figures: dict[str, str] = {}
    if model is None and not peak:
        return figures
    stored = None if packed is None else decode_samples(packed)
    if basis is not None and model is not None:
        gap = basis.max_gap_s
        times = None if stored is None else zone_times(stored, model, max_gap_s=gap).to_list()
        figures[str(ZoneTimesKey.of(model, gap))] = json.dumps(times)  # None: no samples
    if peak and stored is not None:
        figures[PEAK_KIND] = json.dumps(sustained_peak(stored, PEAK_WINDOW_S))
    return figures


def packed_zone_times(packed: bytes, model: ZoneModel, max_gap_s: float) -> list[float]:
    """Zone times of samples as the store keeps them: the work :func:`derive
    <heavylegs_sync.diagnosis.derive>` hands to the workers after an import."""
    return zone_times(decode_samples(packed), model, max_gap_s=max_gap_s).to_list()


class DecodePool:
    """Worker processes for :func:`decode_job`; restarted when one dies or hangs."""

    def __init__(
        self, workers: int = 1, job: Job = decode_job, timeout_s: float = DECODE_TIMEOUT_S
    ) -> None:
        self.workers = max(1, workers)
        self.job = job  # a module-level function (it is pickled to the workers)
        self.timeout_s = timeout_s
        self._executor: ProcessPoolExecutor | None = None
        self._owner: dict[Future[Outcome], ProcessPoolExecutor] = {}
        self.crashes = 0  # workers that died or were stopped (each costs at most one file)
        self.crash_retries = 0  # files read again with the reference decoder after a crash

    def submit(
        self, path: Path, options: DecodeOptions, now: datetime, data: bytes | None = None
    ) -> Future[Outcome]:
        """Start decoding a file (or an archive member's ``data``) in a worker."""
        extra = () if data is None else (data,)
        for _ in range(2):
            executor = self._running()
            try:
                future = executor.submit(self.job, path, options, now, *extra)
            except BrokenProcessPool:
                self._discard(executor)
                continue
            self._owner[future] = executor
            return future
        raise RuntimeError("cannot start a decoder process")  # pragma: no cover

    def outcome(
        self,
        future: Future[Outcome],
        path: Path,
        options: DecodeOptions,
        now: datetime,
        data: bytes | None = None,
    ) -> Outcome:
        """The file's outcome. If its worker died, the file is decoded again alone; if it
        takes longer than ``timeout_s`` (waiting included), it is stopped and fails."""
        executor = self._owner.pop(future, None)
        try:
            return future.result(timeout=self.timeout_s)
        except TimeoutError:
            if executor is not None:
                _kill_workers(executor)  # the others in flight are decoded again, alone
                self._discard(executor)
            return Failure(_too_slow(self.timeout_s))
        except (BrokenProcessPool, CancelledError):
            if executor is not None:
                _kill_workers(executor)  # a survivor must not hold the shutdown up
                self._discard(executor)
            alone = decode_alone(path, options, now, self.job, self.timeout_s, data)
            return self.after_crash(alone, path, options, now, data)

    def after_crash(
        self,
        outcome: Outcome,
        path: Path,
        options: DecodeOptions,
        now: datetime,
        data: bytes | None = None,
    ) -> Outcome:
        """A file that killed its decoder process even alone is read once more with the
        reference decoder when the choice is ``auto``; the retry is recorded."""
        if not (
            isinstance(outcome, Failure)
            and outcome.crash is not None
            and options.decoder == Decoder.AUTO
        ):
            return outcome
        self.crash_retries += 1
        reference = replace(options, decoder=Decoder.REFERENCE)
        again = decode_alone(path, reference, now, self.job, self.timeout_s, data)
        crashed = f"the fast decoder crashed on this file ({outcome.crash})"
        if isinstance(again, Failure) and again.crash is not None:
            reason = f"the decoder crashed on this file ({outcome.crash}), the reference decoder"
            return replace(again, reason=f"{reason} too ({again.crash}); nothing was stored")
        if isinstance(again, Failure):
            return replace(again, reason=f"{crashed}; the reference decoder: {again.reason}")
        if not isinstance(again, Decoded):
            return again
        decoders = sorted({a.decoder or "the reference decoder" for a in again.activities})
        note = f"{crashed}: read with {', '.join(decoders) or 'the reference decoder'}"
        for activity in again.activities:
            activity.decoder_note = note
        return replace(again, notes=(*again.notes, Note(note, per_file=True)))

    def call(self, function: Callable[..., T], *args: object) -> Future[T]:
        """Run another module-level function in a worker (the zone times after an
        import); a worker that dies fails that future with BrokenProcessPool."""
        return self._running().submit(function, *args)

    def _running(self) -> ProcessPoolExecutor:
        """The worker processes, started when none run."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=_context(), initializer=quiet
            )
        return self._executor

    def close(self) -> None:
        """Stop the workers."""
        if self._executor is not None:
            self._discard(self._executor)

    def kill(self) -> None:
        """Stop the workers now, mid-file (an interrupted import): nothing they were
        decoding was stored, so nothing is lost."""
        executor = self._executor
        if executor is None:
            return
        _kill_workers(executor)
        self._discard(executor)

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        """Shut a pool down (once); a later submit starts a new one."""
        if executor is self._executor:
            self.crashes += 1 if _broken(executor) else 0
            executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> DecodePool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def decode_alone(
    path: Path,
    options: DecodeOptions,
    now: datetime,
    job: Job = decode_job,
    timeout_s: float = DECODE_TIMEOUT_S,
    data: bytes | None = None,
) -> Outcome:
    """Decode one file in a process of its own; its death is this file's failure."""
    extra = () if data is None else (data,)
    context = _context()
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(  # type: ignore[attr-defined]
        target=_alone, args=(writer, job, path, options, now, *extra), daemon=True
    )
    process.start()
    writer.close()
    result: object = None
    try:
        if reader.poll(timeout_s):
            result = reader.recv()
        else:
            process.kill()
            return Failure(_too_slow(timeout_s))
    except (EOFError, OSError):
        pass  # the process died before it could answer
    finally:
        reader.close()
        process.join()
    if isinstance(result, Decoded | Failure | Known):
        return result
    code = process.exitcode
    if code is not None and code < 0:
        try:
            how = f"killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"killed by signal {-code}"
    else:
        how = f"exit status {code}"
    return Failure(f"the decoder crashed on this file ({how}); nothing was stored", crash=how)


def _too_slow(timeout_s: float) -> str:
    return f"decoding took longer than {timeout_s:g} s and was stopped; nothing was stored"


def quiet() -> None:
    """Worker set-up: native libraries' stderr text and Python warnings go nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass
    warnings.simplefilter("ignore")
    faulthandler.disable()  # a crash is reported as the file's failure, not a dump
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    die_with_parent()


#: Whether this process asked the kernel to end it with its parent (Linux), and if not,
#: why: tests read it, so the safety net that ran is visible.
PARENT_DEATH_SIGNAL: str = "not set"


def die_with_parent() -> None:
    """Linux: the kernel kills this worker when the process that started it ends, however
    it ends (SIGKILL included), so no decoder outlives its import."""
    global PARENT_DEATH_SIGNAL
    if not sys.platform.startswith("linux"):
        PARENT_DEATH_SIGNAL = f"not on {sys.platform}"
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            PARENT_DEATH_SIGNAL = f"prctl failed: {os.strerror(ctypes.get_errno())}"
            return
    except (OSError, AttributeError) as exc:
        PARENT_DEATH_SIGNAL = f"prctl unavailable: {exc}"
        return
    PARENT_DEATH_SIGNAL = "SIGKILL"


_PR_SET_PDEATHSIG = 1


def _alone(
    connection: Connection,
    job: Job,
    path: Path,
    options: DecodeOptions,
    now: datetime,
    *data: bytes,
) -> None:
    quiet()
    connection.send(job(path, options, now, *data))
    connection.close()


def _kill_workers(executor: ProcessPoolExecutor) -> None:
    """Kill a pool's workers so that its shutdown cannot hang.

    A worker killed while it was sending its result leaves half a message in the result
    pipe, and the pool's manager thread waits for the rest forever (this process holds
    the pipe's other write end). Once the workers are dead, closing that end gives the
    manager an end of file instead: it marks the pool broken and ends, and ``shutdown``
    returns.
    """
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        process.kill()
    for process in processes:
        process.join(5)
    writer = getattr(getattr(executor, "_result_queue", None), "_writer", None)
    if writer is not None:
        writer.close()


def _broken(executor: ProcessPoolExecutor) -> bool:
    return bool(getattr(executor, "_broken", False))


def _context() -> BaseContext:
    """fork while this process has one thread (fast: the modules are loaded already);
    forkserver once threads run (the watcher's observer), where forking is unsafe."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    log.debug(
        "decoding workers started afresh, not forked (%d threads run: %s)",
        threading.active_count(),
        ", ".join(t.name for t in threading.enumerate()),
    )
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["heavylegs_sync.decoding"])
        return context
    return multiprocessing.get_context("spawn")
