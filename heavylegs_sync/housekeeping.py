"""Looking after the store: what it holds (``heavylegs info``) and removing activities
and wellness files (``heavylegs forget``). The SQL stays in :mod:`heavylegs_sync.store`;
the words here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from heavylegs_sync.config import Settings, default_config_path
from heavylegs_sync.errors import HeavyLegsError, NoStoreYet, StoreError
from heavylegs_sync.hr.zones import ZoneModel
from heavylegs_sync.ingest import sha256_of
from heavylegs_sync.service import open_store, store_exists
from heavylegs_sync.store import Store
from heavylegs_sync.store.maintenance import ForgetTarget, StoreOverview, WellnessFile
from heavylegs_sync.words import plural

#: How each source of max HR is said.
MAX_HR_FROM = {
    "settings": "from the settings file",
    "watch": "from the watch's settings in the files",
    "strava": "from your Strava heart-rate zones",
    "estimate": "estimated from your runs (set [athlete] max_hr to be sure)",
    "none": "not known",
}


@dataclass(frozen=True)
class StoreInfo:
    """Where the store and settings are, and what the store holds."""

    db_path: Path
    config_path: Path | None
    overview: StoreOverview | None  # None: no store at that path yet
    zones: ZoneModel | None  # the zones in effect on the last activity's day
    zones_problem: str | None  # why there are no zones, when there are none
    #: The time zones the activities' dates used, and why (docs/timezones.md).
    time_zones: tuple[str, ...] = ()
    shown: str | None = None  # the store as named to a person (a server: no password)
    athlete: str | None = None  # whose data the counts are


def store_info(settings: Settings) -> StoreInfo:
    """What ``heavylegs info`` shows; reads the store read-only, never creates one."""
    from heavylegs_sync.diagnosis import athlete_zones, store_timeline
    from heavylegs_sync.report.activities import zones_lines

    nothing = StoreInfo(settings.db_path, settings.config_path, None, None, None,
                        shown=settings.db_shown if settings.db_url else None)  # fmt: skip
    if not store_exists(settings):
        return nothing
    try:
        opened = open_store(settings, read_only=True)
    except NoStoreYet:
        return nothing
    with opened as store:
        athlete = None if store.athlete is None else store.athlete.name
        overview = store.overview()
        zones: ZoneModel | None = None
        problem: str | None = None
        time_zones: tuple[str, ...] = ()
        if overview.activities:
            local = athlete_zones(store, settings)
            activities = local.localise(store.activities())
            time_zones = tuple(zones_lines(activities, local))
            try:
                timeline = store_timeline(store, settings, activities)
            except StoreError:
                raise  # the store itself failing is not a zones problem
            except HeavyLegsError as exc:
                problem = str(exc)
            else:
                zones = timeline.at(overview.last_day or activities[-1].start_local.date())
    return StoreInfo(
        settings.db_path,
        settings.config_path,
        overview,
        zones,
        problem,
        time_zones,
        shown=None if settings.db_url is None else settings.db_shown,
        athlete=athlete,
    )


#: ``heavylegs info`` fits this many columns (a path longer than a line stands alone).
INFO_WIDTH = 80
_LABEL = 13  # "by category: "


def info_text(info: StoreInfo, width: int = INFO_WIDTH) -> str:
    """``heavylegs info`` as lines a person reads, wrapped at words within ``width``."""
    import textwrap

    wrapped: list[str] = []
    for line in _info_lines(info):
        label, text = line[:_LABEL], line[_LABEL:]
        chunks = textwrap.wrap(
            text, width - _LABEL, break_long_words=False, break_on_hyphens=False
        ) or [""]
        wrapped.append(label + chunks[0])  # the label keeps its first word beside it
        wrapped.extend(" " * _LABEL + chunk for chunk in chunks[1:])
    return "\n".join(wrapped) + "\n"


def _info_lines(info: StoreInfo) -> list[str]:
    lines = [f"store:       {info.shown or info.db_path.absolute()}"]
    if info.athlete is not None:
        lines.append(f"athlete:     {info.athlete}")
    if info.config_path:
        settings = str(info.config_path.absolute())
    else:
        settings = f"none, defaults in use (would be read from {default_config_path()})"
    if info.overview is None:
        lines.append("             does not exist yet: nothing imported (heavylegs import)")
        lines.append(f"settings:    {settings}")
        return lines
    o = info.overview
    copies = f" (+ {o.copies} copies from other sources)" if o.copies else ""
    lines.append(f"settings:    {settings}")
    lines.append(f"activities:  {o.activities}{copies}")
    lines.append(f"files:       {o.files}")
    if o.by_category:
        lines.append("by category: " + ", ".join(f"{k} {v}" for k, v in o.by_category.items()))
    if o.by_source:
        lines.append("by source:   " + ", ".join(f"{k} {v}" for k, v in o.by_source.items()))
    if o.first_day and o.last_day:
        lines.append(f"dates:       {o.first_day} .. {o.last_day} (local days)")
    first, *more = _wellness_words(o)
    lines.append("wellness:    " + first)
    lines.extend(" " * _LABEL + words for words in more)
    if info.time_zones:
        head, *periods = info.time_zones
        lines.append(head)
        lines.extend(f"           {p}" for p in periods)
    lines.extend(_max_hr(info))
    return lines


def _wellness_words(overview: StoreOverview) -> list[str]:
    """``garmin 28 days (2026-11-02 .. 2026-11-29)``, one line per source: the days of
    sleep, resting HR and HRV each source gave."""
    if not overview.wellness:
        return ["none (sleep, resting HR, HRV: see docs/import.md)"]
    return [
        f"{span.source.value} {plural(span.days, 'day')} ({span.first} .. {span.last})"
        for span in overview.wellness
    ]


def _max_hr(info: StoreInfo) -> list[str]:
    if info.overview is not None and info.overview.activities == 0:
        return ["max HR:      not needed yet (no activities)"]
    if info.zones is None:
        return [f"max HR:      not known: {info.zones_problem}"]
    model = info.zones
    source = MAX_HR_FROM.get(model.max_hr_source, model.max_hr_source)
    since = f" (since {model.since})" if model.since else ""
    value = f"{model.max_hr:.0f} bpm, " if model.max_hr else ""
    bounds = "/".join(map(str, model.bounds_bpm))
    return [
        f"max HR:      {value}{source}{since}",
        f"zones:       {model.method.value}, upper bounds of zones 1-4 {bounds} bpm",
    ]


#: How many file names ``nothing_importable`` shows before counting the rest.
SHOWN_NAMES = 5


def nothing_importable(paths: Sequence[Path]) -> tuple[str, int]:
    """Why an import found nothing to import, and how many files it found instead: what
    each path holds, so "0 new" never stands alone. Hidden files count too."""
    from collections import Counter

    from heavylegs_sync.importers import SUFFIXES
    from heavylegs_sync.output import shown_path

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file()))
    what = ", ".join(f".{s.lstrip('.')}" for s in SUFFIXES[:3])
    accepted = (
        f"heavylegs imports {what} (also .gz), .zip archives, Strava or Garmin exports and"
        " wellness files (a Garmin export's sleep, daily and HRV JSON, a wellness CSV)"
    )
    where = ", ".join(shown_path(p) for p in paths)
    if not found:
        return f"nothing to import in {where}: no files there; {accepted}", 0
    names = [p.name for p in found[:SHOWN_NAMES]]
    more = f" and {len(found) - SHOWN_NAMES} more" if len(found) > SHOWN_NAMES else ""
    kinds = Counter(p.suffix.lower() or "(no suffix)" for p in found)
    summary = ", ".join(f"{n} {k}" for k, n in kinds.most_common(4))
    hidden = sum(any(part.startswith(".") for part in p.parts) for p in found)
    hidden_note = f"; {hidden} hidden, passed over" if hidden else ""
    return (
        f"nothing to import in {where}: found {len(found)} file{'s' if len(found) != 1 else ''}"
        f" ({summary}: {', '.join(names)}{more}){hidden_note}, none of a kind heavylegs"
        f" reads; {accepted}",
        len(found),
    )


def forget_targets(
    store: Store, ids: Sequence[int], sources: Sequence[Path]
) -> tuple[list[ForgetTarget], list[str]]:
    """The activities ``forget`` would remove (see :meth:`Store.forget_targets`); a file
    still on disk is also found by its content, so a renamed or moved copy names it."""
    files = [(path, _sha256(path)) for path in sources]
    return store.forget_targets(ids, files)


@dataclass(frozen=True)
class ForgetPlan:
    """What ``forget`` would remove: activities, wellness files, and what matched nothing."""

    activities: list[ForgetTarget]
    wellness: list[WellnessFile]
    unknown: list[str]  # ids and paths that name nothing stored


def forget_plan(store: Store, ids: Sequence[int], sources: Sequence[Path]) -> ForgetPlan:
    """The activities and wellness files ``forget`` would remove: ids name activities; a
    ``--source`` path names the activities and the wellness days a file gave (by stored
    path, by content for a file still on disk, or an archive by its members)."""
    files = [(path, _sha256(path)) for path in sources]
    targets, unknown = store.forget_targets(ids, files)
    wellness, no_wellness = store.wellness_of_files(files)
    missing = set(no_wellness)
    named = {str(p) for p in sources}
    # A path names nothing only when it names neither activities nor wellness days.
    unknown = [u for u in unknown if u not in named or u in missing]
    return ForgetPlan(targets, wellness, unknown)


def wellness_line(file: WellnessFile) -> str:
    """``/x/2026_sleepData.json: 28 garmin days, 2026-11-02 .. 2026-11-29``."""
    if not file.days:
        return f"{file.path}: no days"
    sources = ", ".join(sorted({s.value for _, s in file.days}))
    first, last = file.days[0][0], file.days[-1][0]
    span = f"{first}" if first == last else f"{first} .. {last}"
    return f"{file.path}: {plural(len(file.days), f'{sources} day')}, {span}"


def target_line(target: ForgetTarget) -> str:
    """``12  2026-11-07 Sat 18:00  strength  fit`` (+ copies)."""
    copies = len(target.records) - 1
    extra = f" (+ {copies} cop{'y' if copies == 1 else 'ies'})" if copies else ""
    return (
        f"{target.id:>6}  {target.start_local:%Y-%m-%d %a %H:%M}  {target.category:<8}"
        f"  {','.join(target.sources)}{extra}"
    )


def _sha256(path: Path) -> str | None:
    """The content hash of a file still there, else None (found by its path only)."""
    try:
        return sha256_of(path.read_bytes())
    except OSError:
        return None
