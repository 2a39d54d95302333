"""One job in parts on every core (``heavylegs_sync.forked``), with real forked processes:
the results come back in part order, a part's exception is raised in the parent, a part
whose process dies is an error that names it, and an interrupted parent leaves no child
running."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from heavylegs_sync.errors import StoreError
from heavylegs_sync.forked import PartFailed, in_parts, why_not_forked

pytestmark = pytest.mark.skipif(why_not_forked() is not None, reason="no fork here")


def test_every_part_runs_in_a_process_of_its_own_and_comes_back_in_order() -> None:
    parent = os.getpid()
    found = in_parts(lambda i: (i, os.getpid(), [i] * (i + 1)), 3)
    assert [(i, values) for i, _, values in found] == [(0, [0]), (1, [1, 1]), (2, [2, 2, 2])]
    pids = [pid for _, pid, _ in found]
    assert pids[0] == parent and len(set(pids)) == 3  # part 0 here, the others forked


def test_one_part_runs_here_without_a_fork() -> None:
    assert in_parts(lambda i: os.getpid(), 1) == [os.getpid()]


def test_a_parts_exception_is_raised_in_the_parent() -> None:
    def job(index: int) -> int:
        if index == 2:
            raise StoreError("store.sqlite: the database is busy; try again")
        return index

    with pytest.raises(StoreError, match="the database is busy"):
        in_parts(job, 3)


def test_an_exception_that_cannot_travel_is_sent_as_its_words() -> None:
    class Local(Exception):  # defined in a function: pickle cannot name it
        def __init__(self, a: int, b: int) -> None:
            super().__init__(f"{a} and {b}")

    def job(index: int) -> int:
        if index == 1:
            raise Local(1, 2)
        return index

    with pytest.raises(PartFailed, match="Local: 1 and 2"):
        in_parts(job, 2)


def test_a_part_whose_process_dies_is_an_error_naming_it() -> None:
    def job(index: int) -> int:
        if index == 1:
            os.kill(os.getpid(), signal.SIGKILL)  # out of memory, or killed by hand
        return index

    with pytest.raises(PartFailed, match=r"part 2 of the work stopped before it was done"):
        in_parts(job, 2)


def test_an_interrupted_parent_stops_its_children(tmp_path: Path) -> None:
    """Ctrl-C reaches the parent (the children ignore it): the children still at work
    are stopped before the interrupt goes on, none is left running."""

    def job(index: int) -> int:
        if index == 0:
            deadline = time.monotonic() + 10
            while len(list(tmp_path.glob("*.pid"))) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, as the parent gets it
            time.sleep(10)
        written = tmp_path / f"{index}.tmp"
        written.write_text(str(os.getpid()))
        written.rename(tmp_path / f"{index}.pid")  # whole when the parent sees it
        time.sleep(60)
        return index

    started = time.monotonic()
    # Python's own Ctrl-C (an earlier command run in this process may have left its own).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            in_parts(job, 3)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 30
    for pid_file in tmp_path.glob("*.pid"):
        with pytest.raises(ProcessLookupError):  # killed and reaped
            os.kill(int(pid_file.read_text()), 0)
