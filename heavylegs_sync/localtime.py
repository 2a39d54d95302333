"""The athlete's time zone on each date, found in the data (docs/timezones.md).

A GPX or TCX file, a Strava export's list row or a manual entry holds UTC times only; its
local day depends on where the athlete was. Files that do carry an offset (a FIT file's
``local_timestamp``, Strava's ``start_date_local`` and ``timezone``) are evidence of that.
:class:`AthleteZones` answers, for any instant, which zone applies and why: the setting
when one is given, else the evidence nearest in time, else this machine's zone.

Pure: evidence, the setting and the machine's zone in, answers out; no store, no clock.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from heavylegs_sync.model import Activity, OffsetSource

#: Strava's ``timezone``: ``(GMT-08:00) America/Los_Angeles``.
_STRAVA_ZONE = re.compile(r"^\s*\(GMT[+-]\d\d:\d\d\)\s*(?P<name>\S+)\s*$")


class ZoneKind(StrEnum):
    """Why a zone applies: the words for each live in :meth:`ZoneChoice.text`."""

    SETTING = "setting"  # [athlete] timezone
    OWN = "own"  # the activity's own offset (its file or Strava said so)
    EVIDENCE = "evidence"  # the nearest activity that carries an offset
    MACHINE = "machine"  # this machine's zone: no activity says


@dataclass(frozen=True)
class ZoneEvidence:
    """One activity that says where the athlete was: its UTC start and its offset there.

    ``zone``: an IANA name when the source gives one (Strava), so DST is right on the
    dates it decides; ``source``: what said so, as a person reads it (``FIT file x.fit``).
    """

    at: datetime  # aware, UTC
    offset_s: int
    source: str
    zone: str | None = None

    @property
    def local_date(self) -> date:
        """The evidence's own local day, as the reason names it."""
        return (self.at + timedelta(seconds=self.offset_s)).date()


@dataclass(frozen=True)
class ZoneChoice:
    """The zone one instant is dated in: its offset there, a label and the reason."""

    offset_s: int
    label: str  # "America/Los_Angeles", "-07:00", "UTC"
    kind: ZoneKind
    reason: str  # "Strava activity 123 on 2026-10-02", "setting", ...

    @property
    def text(self) -> str:
        """``America/Los_Angeles (Strava activity 123 on 2026-10-02)``."""
        return f"{self.label} ({self.reason})"


def source_words(source: str, source_id: str, path: str | None) -> str:
    """What said where the athlete was: ``FIT file x.fit``, ``Strava activity 123``."""
    if source == "strava" and path is None:
        return f"Strava activity {source_id}"
    if path:
        name = PurePosixPath(path.replace("\\", "/").rsplit("!", 1)[-1]).name
        return f"{source.upper()} file {name}"
    return f"{source} activity {source_id}"


def offset_label(seconds: int) -> str:
    """``-07:00``, ``+05:30``, ``+00:00``."""
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}"


def strava_zone_name(text: object) -> str | None:
    """The IANA name in Strava's ``timezone`` field, or None when there is none."""
    if not isinstance(text, str):
        return None
    match = _STRAVA_ZONE.match(text)
    name = match["name"] if match else text.strip()
    return name if _zone(name) is not None else None


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _offset_in(zone: ZoneInfo, at: datetime) -> int:
    offset = at.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


#: One zone per daylight-saving rule in use (tzdata 2024): what a change of offset between
#: two pieces of evidence is tried against. Reading all 600 zones costs most of a second.
DST_ZONES = (
    "America/St_Johns", "America/Halifax", "America/New_York", "America/Chicago",
    "America/Denver", "America/Los_Angeles", "America/Anchorage", "America/Adak",
    "America/Nuuk", "America/Miquelon", "America/Havana", "America/Port-au-Prince",
    "America/Grand_Turk", "America/Santiago", "Pacific/Easter", "America/Scoresbysund",
    "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Atlantic/Azores", "Europe/Berlin",
    "Europe/Athens", "Europe/Chisinau", "Africa/Cairo", "Africa/Casablanca", "Asia/Beirut",
    "Asia/Jerusalem", "Asia/Gaza", "Australia/Sydney", "Australia/Adelaide",
    "Australia/Lord_Howe", "Pacific/Auckland", "Pacific/Chatham", "Pacific/Norfolk",
    "Antarctica/Troll",
)  # fmt: skip


@cache
def _dst_zones() -> tuple[ZoneInfo, ...]:
    zones = (_zone(name) for name in DST_ZONES)
    return tuple(z for z in zones if z is not None)


class AthleteZones:
    """Which zone applies at any instant (see the module's docstring).

    ``setting``: the ``[athlete] timezone`` (it wins over evidence); ``machine``: this
    machine's zone, used only when there is no setting and no evidence at all.
    """

    def __init__(
        self,
        evidence: Iterable[ZoneEvidence],
        *,
        setting: ZoneInfo | None,
        machine: ZoneInfo,
    ) -> None:
        self.setting = setting
        self.machine = machine
        self.evidence = tuple(sorted((_checked(e) for e in evidence), key=lambda e: e.at))
        self._times = [e.at for e in self.evidence]
        self._between: dict[tuple[int, int], tuple[ZoneInfo, ...]] = {}

    def at(self, instant: datetime) -> ZoneChoice:
        """The zone an instant without an offset of its own is dated in."""
        if self.setting is not None:
            return ZoneChoice(
                _offset_in(self.setting, instant), str(self.setting.key), ZoneKind.SETTING,
                "setting",
            )  # fmt: skip
        if not self.evidence:
            return ZoneChoice(
                _offset_in(self.machine, instant), str(self.machine.key), ZoneKind.MACHINE,
                "this machine; no activity says",
            )  # fmt: skip
        i = bisect.bisect_right(self._times, instant)
        before = i - 1 if i > 0 else None
        after = i if i < len(self.evidence) else None
        return self._choose(instant, before, after)

    def of(self, activity: Activity) -> ZoneChoice:
        """The zone an activity is dated in: its own offset when its source gave one."""
        if activity.offset_source is OffsetSource.DEVICE:
            own = source_words(activity.source, activity.source_id, activity.source_path)
            return ZoneChoice(
                activity.utc_offset_s, offset_label(activity.utc_offset_s), ZoneKind.OWN,
                f"its own: {own}",
            )  # fmt: skip
        return self.at(activity.start_utc)

    def local_day(self, start_utc: datetime, utc_offset_s: int, source: OffsetSource) -> date:
        """The local day of a record known by its start, stored offset and where that
        offset came from (as :meth:`of` dates a whole activity)."""
        offset = utc_offset_s if source is OffsetSource.DEVICE else self.at(start_utc).offset_s
        return (start_utc + timedelta(seconds=offset)).date()

    def localise(self, activities: Sequence[Activity]) -> list[Activity]:
        """The activities with each one's offset from :meth:`of` (copies where it changes)."""
        result = []
        for a in activities:
            # An activity's own offset needs no words (:meth:`of`'s): a squad holds many.
            own = a.offset_source is OffsetSource.DEVICE
            offset = a.utc_offset_s if own else self.at(a.start_utc).offset_s
            result.append(a if offset == a.utc_offset_s else replace(a, utc_offset_s=offset))
        return result

    def today(self, now: datetime) -> date:
        """The athlete's calendar day at ``now`` (the default day of ``report`` and ``today``)."""
        offset = self.at(now).offset_s
        return (now.astimezone(UTC) + timedelta(seconds=offset)).date()

    def _choose(self, instant: datetime, before: int | None, after: int | None) -> ZoneChoice:
        if before is None or after is None:
            index = before if after is None else after
            assert index is not None
            return _from(self.evidence[index], instant)
        a, b = self.evidence[before], self.evidence[after]
        nearest = a if instant - a.at <= b.at - instant else b
        if nearest.zone is None and a.offset_s != b.offset_s:
            # Two offsets around this instant: a trip, or a DST change. Where the zones
            # that fit both agree on this instant, the change is DST and they know when.
            fitting = self._fitting(before, after)
            offsets = {_offset_in(z, instant) for z in fitting}
            if len(offsets) == 1:
                (offset,) = offsets
                return ZoneChoice(
                    offset, offset_label(offset), ZoneKind.EVIDENCE,
                    f"DST between {a.source} on {a.local_date} ({offset_label(a.offset_s)})"
                    f" and {b.source} on {b.local_date} ({offset_label(b.offset_s)})",
                )  # fmt: skip
        return _from(nearest, instant)

    def _fitting(self, before: int, after: int) -> tuple[ZoneInfo, ...]:
        """The zones of :data:`DST_ZONES` whose offsets are both pieces of evidence's."""
        key = (before, after)
        if key not in self._between:
            a, b = self.evidence[before], self.evidence[after]
            self._between[key] = tuple(
                z
                for z in _dst_zones()
                if _offset_in(z, a.at) == a.offset_s and _offset_in(z, b.at) == b.offset_s
            )
        return self._between[key]


def _checked(evidence: ZoneEvidence) -> ZoneEvidence:
    """Evidence whose zone name disagrees with its own offset keeps only the offset."""
    zone = _zone(evidence.zone)
    if evidence.zone is not None and (
        zone is None or _offset_in(zone, evidence.at) != evidence.offset_s
    ):
        return replace(evidence, zone=None)
    return evidence


def _from(evidence: ZoneEvidence, instant: datetime) -> ZoneChoice:
    """The zone one piece of evidence gives an instant: its IANA zone, else its offset."""
    reason = f"{evidence.source} on {evidence.local_date}"
    zone = _zone(evidence.zone)
    if zone is not None:
        return ZoneChoice(_offset_in(zone, instant), str(zone.key), ZoneKind.EVIDENCE, reason)
    offset = evidence.offset_s
    return ZoneChoice(offset, offset_label(offset), ZoneKind.EVIDENCE, reason)


@dataclass(frozen=True)
class ZonePeriod:
    """Consecutive activities dated in one zone, for ``info`` and the listing."""

    first: date
    last: date
    label: str  # the UTC offset, "-07:00"
    own: int  # activities with their own offset
    dated: int  # activities without one, dated in this offset
    reason: str  # the zone and reason that dated the first of those ("" when none)


def zone_periods(activities: Sequence[Activity], zones: AthleteZones) -> list[ZonePeriod]:
    """The zones the activities' dates used, as runs of consecutive dates."""
    periods: list[ZonePeriod] = []
    for a in sorted(activities, key=lambda x: x.start_utc):
        choice = zones.of(a)
        local = a.start_utc + timedelta(seconds=choice.offset_s)
        day = local.date()
        own = choice.kind is ZoneKind.OWN
        label = offset_label(choice.offset_s)
        last = periods[-1] if periods else None
        if last is not None and last.label == label:
            periods[-1] = replace(
                last,
                last=max(last.last, day),
                own=last.own + own,
                dated=last.dated + (not own),
                reason=last.reason if last.dated or own else choice.text,
            )
            continue
        periods.append(
            ZonePeriod(day, day, label, int(own), int(not own), "" if own else choice.text)
        )
    return periods


def period_text(period: ZonePeriod) -> str:
    """``2026-09-28 .. 2026-10-31  -07:00: 31 by their own offset, 4 by -07:00 (FIT ...)``."""
    span = f"{period.first} .. {period.last}"
    parts = []
    if period.own:
        parts.append(f"{period.own} by their own offset")
    if period.dated:
        parts.append(f"{period.dated} by {period.reason}")
    return f"{span}  {period.label}: {', '.join(parts)}"
