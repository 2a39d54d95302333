"""A stop signal during a file's store-and-count step waits for it (the interrupt line
then counts every file stored)."""

from __future__ import annotations

import os
import signal

import pytest

from heavylegs_sync import interrupts
from heavylegs_sync.cli import _interruptible
from heavylegs_sync.errors import Interrupted


def test_a_signal_while_held_is_raised_once_the_block_is_done() -> None:
    done: list[str] = []
    with _interruptible(), pytest.raises(Interrupted) as caught:
        with interrupts.held():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("stored")  # the handler ran, and did not cut the block short
            done.append("counted")
        done.append("never")
    assert done == ["stored", "counted"]
    assert caught.value.signum == signal.SIGINT


def test_outside_the_held_block_a_signal_stops_at_once() -> None:
    done: list[str] = []
    with _interruptible(), pytest.raises(Interrupted):
        os.kill(os.getpid(), signal.SIGTERM)
        done.append("never")
    assert done == []
