"""How results leave the program: the format an output file's name asks for, and paths
shown to a person.

Every ``-o FILE`` goes through :func:`choose_format`, so ``report.json`` is JSON for every
command and an explicit ``--format`` always wins.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection
from pathlib import Path

from heavylegs_sync.errors import HeavyLegsError

#: File suffix -> output format.
SUFFIX_FORMATS: dict[str, str] = {
    ".json": "json",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
    ".txt": "text",
    ".text": "text",
}


class OutputFormatError(HeavyLegsError):
    """The output file's suffix asks for a format the command cannot write."""


def choose_format(
    output: Path | None,
    explicit: str | None,
    supported: Collection[str],
    *,
    default: str = "text",
) -> str:
    """The format to write: ``explicit`` (``--format``) when given, else the one the
    output file's suffix names (:data:`SUFFIX_FORMATS`, any case), else ``default``.

    A suffix naming a format the command does not write is an error rather than a file
    in another format under a misleading name.
    """
    if explicit is not None:
        return explicit
    if output is None:
        return default
    named = SUFFIX_FORMATS.get(output.suffix.lower())
    if named is None:
        return default
    if named not in supported:
        choices = sorted(s for s, f in SUFFIX_FORMATS.items() if f in supported)
        raise OutputFormatError(
            f"{output}: {named.upper()} output is not supported yet by this command "
            f"(use {', '.join(choices)}, or --format {'|'.join(sorted(supported))})"
        )
    return named


def shown_path(path: str | Path, cwd: Path | None = None) -> str:
    """A stored (absolute) path as a person reads it: relative to the current folder
    when that is shorter, else as stored."""
    text = str(path)
    base = cwd if cwd is not None else Path.cwd()
    try:
        relative = os.path.relpath(text, base)
    except ValueError:  # another drive (Windows)
        return text
    return relative if len(relative) < len(text) else text


#: Text reports are laid out for at least this many columns, at most the second.
TEXT_WIDTHS = (80, 120)


def text_width(default: int = 100) -> int:
    """Columns for text output: the terminal's width (``COLUMNS`` wins, as in every shell
    tool), ``default`` when not printing to a terminal, kept within :data:`TEXT_WIDTHS`."""
    columns = shutil.get_terminal_size((default, 24)).columns
    low, high = TEXT_WIDTHS
    return max(low, min(columns, high))
