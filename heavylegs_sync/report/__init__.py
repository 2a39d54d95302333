"""Reports of an :class:`~heavylegs_sync.analysis.Analysis`: text for people, JSON for tools."""

from heavylegs_sync.report.json import to_dict, to_json
from heavylegs_sync.report.text import to_text

__all__ = ["CAUSES", "to_dict", "to_json", "to_text"]

#: The causes we check, numbered as in the published list of ten.
CAUSES = {
    1: "Not enough recovery",
    2: "Too much speed work",
    5: "Skipping strength training",
    6: "Overdoing or mistiming strength",
}
