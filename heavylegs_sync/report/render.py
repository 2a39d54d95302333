"""An analysis as text, JSON or HTML, and a report written to a file atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from heavylegs_sync.analysis import Analysis
from heavylegs_sync.errors import HeavyLegsError
from heavylegs_sync.report.json import to_json
from heavylegs_sync.report.text import to_text


class ReportError(HeavyLegsError):
    """A report could not be written."""


def render(
    analysis: Analysis,
    output_format: str,
    *,
    width: int | None = None,
    strava: bool = False,
    today: Mapping[str, Any] | None = None,
) -> str:
    """The report as ``text`` (``width`` columns, default 100), ``json`` or ``html``.

    ``strava``: some reported activity came from Strava (the HTML report shows Strava's
    attribution). ``today``: the answer of ``heavylegs today`` for the last day, in its
    JSON shape, shown by the HTML report when given.
    """
    if output_format == "json":
        return to_json(analysis)
    if output_format == "html":
        from heavylegs_sync.report.html import to_html

        return to_html(analysis, strava=strava, today=today)
    return to_text(analysis) if width is None else to_text(analysis, width=width)


NOTHING_IMPORTED = "Nothing imported yet: import your files with 'heavylegs import FOLDER'."


def render_empty(first: date, last: date, output_format: str) -> str:
    """The report of a store that holds no activity: say so, never "no problems"."""
    if output_format == "json":
        data: dict[str, object] = {
            "athlete": None,
            "range": {"since": first.isoformat(), "until": last.isoformat()},
            "weeks": [],
            "findings": [],
            "verdict": [NOTHING_IMPORTED],
            "note": NOTHING_IMPORTED,
            "groups": [],
        }
        return json.dumps(data, indent=2) + "\n"
    if output_format == "html":
        from heavylegs_sync.report.html import message_page

        return message_page(NOTHING_IMPORTED)
    return NOTHING_IMPORTED + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write the report: {exc.strerror}") from exc
