"""Reports of an :class:`~heavylegs_sync.analysis.Analysis`: text for people, JSON for tools,
HTML to look at and keep (:mod:`heavylegs_sync.report.html`, imported on demand since it
needs matplotlib)."""

from heavylegs_sync.causes import CAUSES
from heavylegs_sync.report.json import to_dict, to_json
from heavylegs_sync.report.text import to_text

__all__ = ["CAUSES", "to_dict", "to_json", "to_text"]
