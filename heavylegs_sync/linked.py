"""What an activity stored as several linked copies shows on reading: every copy's source
and reference, and its name and export metadata, the primary's first.

The reading half of the linking policy (:mod:`heavylegs_sync.linking` plans how copies
are linked as they arrive). Apart from it so that reading the store, as ``today`` does,
loads neither the planning nor :mod:`heavylegs_sync.matching` (docs/performance.md,
"today's start-up on a server"). Pure: values in, values out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: The export metadata an activity shows whichever of its records brought it, in the
#: order the store keeps them.
METADATA_FIELDS = ("perceived_exertion", "relative_effort", "weight_lifted_kg")


def merged_metadata(
    own: Mapping[str, object], copies: Sequence[Mapping[str, object]]
) -> dict[str, object]:
    """The name and export metadata an activity shows: its primary record's own value,
    else the first copy's (oldest record first) that has one. Keys absent or None in
    every record are left out."""
    result = {key: value for key, value in own.items() if value is not None}
    for copy in copies:
        for key, value in copy.items():
            if value is not None:
                result.setdefault(key, value)
    return result


def sources_of(
    own: tuple[str, str], copies: Sequence[tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """(sources, references) an activity lists: the primary's source first, then every
    other source of its copies in name order; the primary's reference first, then each
    copy's in the order given (oldest record first). Each pair is (source, reference)."""
    source, ref = own
    others = sorted({s for s, _ in copies} - {source})
    return [source, *others], [ref, *(r for _, r in copies)]
