"""Reports of an :class:`~heavylegs_sync.analysis.Analysis`: text for people, JSON for tools,
HTML to look at and keep (:mod:`heavylegs_sync.report.html`, imported on demand since it
needs matplotlib).

The names below are imported when first used, not with the package: ``heavylegs today``
needs only :mod:`.today` and :mod:`.findings`, and must start quickly (issue 23).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heavylegs_sync.causes import CAUSES
    from heavylegs_sync.report.json import to_dict, to_json
    from heavylegs_sync.report.text import to_text

__all__ = ["CAUSES", "to_dict", "to_json", "to_text"]

_HOMES = {
    "CAUSES": "heavylegs_sync.causes",
    "to_dict": "heavylegs_sync.report.json",
    "to_json": "heavylegs_sync.report.json",
    "to_text": "heavylegs_sync.report.text",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(home), name)
