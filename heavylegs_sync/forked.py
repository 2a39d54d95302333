"""One job in parts, on every core: this process does part 0, forked children the rest.

The coach's view judges a thousand athletes in Python, one core's work: split by
athlete, it runs on all of them (docs/performance.md). The children are forked, so the
job's inputs are theirs without being sent; each sends back its part's result, pickled.
A child that fails sends its exception; one that dies (killed, out of memory) is an
error naming it, never a missing part. Children ignore Ctrl-C: the parent stops them.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from heavylegs_sync.errors import HeavyLegsError

T = TypeVar("T")


class PartFailed(HeavyLegsError):
    """A part's process died before it sent its result, or what it had to send (its
    result, its error) could not be sent: the error says which part, and why."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def why_not_forked() -> str | None:
    """Why this process cannot fork its parts (None: it can): no fork on this system,
    macOS (whose system libraries may crash a forked child: Python starts its processes
    afresh there), or threads running (forking copies their locks held)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return "this system cannot fork"
    if sys.platform == "darwin":
        return "macOS: a forked process may crash in its system libraries"
    if threading.active_count() > 1:
        return "threads are running"
    return None


def in_parts(job: Callable[[int], T], parts: int) -> list[T]:
    """``job(i)`` for every part ``i`` of ``parts``: part 0 here, the others in forked
    children at the same time; the results in part order. An exception of any part is
    raised here (the first part's that failed, by part order)."""
    if parts <= 1:
        return [job(0)]
    context = multiprocessing.get_context("fork")
    children: list[tuple[Any, Connection]] = []
    try:
        for index in range(1, parts):
            reader, writer = context.Pipe(duplex=False)
            child = context.Process(target=_child, args=(job, index, writer), daemon=True)
            child.start()
            writer.close()  # the child's end: closed here, so its death reads as EOF
            children.append((child, reader))
        results: list[T] = [job(0)]
        for index, (child, reader) in enumerate(children, start=1):
            results.append(_result(child, reader, index))
        return results
    finally:
        for child, reader in children:
            reader.close()
            if child.is_alive():
                child.kill()
            child.join()


def _result(child: Any, reader: Connection, index: int) -> Any:
    try:
        ok, value = reader.recv()
    except EOFError:
        child.join()
        raise PartFailed(
            f"part {index + 1} of the work stopped before it was done"
            f" (its process ended with status {child.exitcode})"
        ) from None
    if not ok:
        raise value
    return value


def _child(job: Callable[[int], Any], index: int, writer: Connection) -> None:
    """A child's whole life: its part, sent back; then out without running the parent's
    exit handlers (its open connections and files are the parent's, not to close)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        try:
            message: tuple[bool, Any] = (True, job(index))
        except BaseException as exc:
            message = (False, _sendable(exc))
        try:
            writer.send(message)  # pickled whole before a byte is written
        except Exception as exc:
            writer.send((False, PartFailed(f"part {index + 1}: its result cannot be sent ({exc})")))
        writer.close()
    finally:
        os._exit(0)


def _sendable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else its words."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return PartFailed(f"{type(exc).__name__}: {exc}")
    return exc
