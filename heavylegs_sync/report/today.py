"""The ``heavylegs today`` answer as text (80 columns) or JSON (docs/today.md)."""

from __future__ import annotations

import json
import textwrap

from heavylegs_sync.analysis.today import Today
from heavylegs_sync.causes import OTHER_CAUSES

WIDTH = 80


def today_json(result: Today) -> str:
    """``{"date": ..., "causes": [...]}``, strongest cause first."""
    return json.dumps(result.to_dict(), indent=2) + "\n"


def today_text(result: Today, width: int = WIDTH) -> str:
    """The answer a runner reads in a minute: the causes, strongest first, or what else
    to look at when training explains nothing."""
    day = f"{result.day:%A %d %B %Y}"
    lines: list[str] = []
    _body(result, day, width, lines)
    for note in result.notes:
        lines.append("")
        lines.extend(textwrap.wrap("Note: " + note, width, subsequent_indent="  "))
    return "\n".join(lines) + "\n"


def _body(result: Today, day: str, width: int, lines: list[str]) -> None:

    def para(text: str, indent: str = "", first: str | None = None) -> None:
        lines.extend(
            textwrap.wrap(
                text,
                width,
                initial_indent=indent if first is None else first,
                subsequent_indent=indent,
                break_on_hyphens=False,
            )
        )

    if result.activities == 0:
        para(f"{day}: no activity before this day is imported, so nothing can be judged.")
        para("Import your training first: heavylegs import FOLDER")
        return
    if not result.recent:
        para(f"{day}: nothing recent to judge: no training cause can be read from silence.")
        return
    seen = (
        f"Judged from {result.activities} activities over the {result.history_days} days before it."
    )
    if not result.causes:
        para(f"{day}: no training cause of heavy legs found. {seen}")
        lines.append("")
        para("If your legs feel heavy anyway, look at the causes training data cannot show:")
        for other in OTHER_CAUSES:
            para(other, "    ", "  - ")
        return
    count = len(result.causes)
    plural = "s of heavy legs, strongest first" if count > 1 else " of heavy legs"
    para(f"{day}: {count} training cause{plural}. {seen}")
    for rank, cause in enumerate(result.causes, 1):
        lines.append("")
        lines.append(f"{rank}. [cause {cause.cause}: {cause.title}] severity {cause.score:g}")
        para(cause.message, "   ")
        ids = cause.evidence.get("activities") or []
        if ids:
            para("Activities: " + ", ".join(map(str, ids)), "   ")
        para("What to do: " + cause.fix, "   ")
