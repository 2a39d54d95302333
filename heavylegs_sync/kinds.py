"""The small vocabularies every layer names, in a module that imports nothing heavy.

The command line builds its choices from these at start-up, so keeping them apart from
the numpy-based model keeps ``heavylegs --version`` and ``heavylegs today`` quick.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """Our own activity classes: what a day of training *means* for recovery."""

    RUN = "run"
    STRENGTH = "strength"
    LIGHT = "light"  # yoga, stretching, walking: a rest day allows these
    CROSS = "cross"  # cycling, swimming, rowing, skiing ...
    OTHER = "other"


class Decoder(StrEnum):
    """Which decoder reads a file (the import's ``--decoder``); GPX has a reference
    (gpxpy) beside its streaming reader, TCX only one reader."""

    FAST = "fast"  # fitfast only: a file it cannot read fails, with its reason
    REFERENCE = "reference"  # fitparse for FIT, gpxpy for GPX: the references
    AUTO = "auto"  # fitfast, and fitparse (recorded, with the reason) when it cannot
