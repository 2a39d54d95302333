"""Incremental Strava sync: list what is new, queue it, fetch it, within the budget.

Listing moves a cursor (the latest start time queued) and fetching drains a queue, both
kept in the store in the same transactions as the data, so a run stopped by the rate
limit, a failure, a refusal or a kill resumes exactly where it stopped: nothing skipped,
nothing fetched twice. Anything Strava answers that is not what the API documents stops
the run (or, for one activity's streams, leaves that activity queued) with one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from heavylegs_sync.config import Settings
from heavylegs_sync.errors import StravaError
from heavylegs_sync.hr.strava import ZONES_KEY
from heavylegs_sync.importers.plausible import Implausible, vet_one
from heavylegs_sync.service import open_store
from heavylegs_sync.store import Store
from heavylegs_sync.strava.accounts import ACCOUNT_KEY, account_of, sync_lock
from heavylegs_sync.strava.checks import MAX_SUMMARY_BYTES, NOTES_KEY, Refused, check_summary
from heavylegs_sync.strava.client import Malformed, NotFound, Paused, StravaAPI
from heavylegs_sync.strava.mapping import STREAM_KEYS, check_streams, to_activity

CURSOR_KEY = "strava.after"
#: Where a full re-read of the activity list (``sync --full``) has got to; empty when none.
RESCAN_KEY = "strava.rescan"
#: Activities starting before this moment (epoch seconds) are never listed (``--since``).
SINCE_KEY = "strava.since"
#: How far back each listing looks for activities uploaded after newer ones.
LOOKBACK_S = 14 * 24 * 3600
#: Strava ids are below this (SQLite's integers are 64-bit).
MAX_ID = 2**63
#: Listing stops while this many activities wait to be fetched: no athlete has that many,
#: and a list that never ends must not fill the disk over several runs.
MAX_QUEUE = 100_000


@dataclass
class SyncResult:
    """What one run did, and whether it finished."""

    listed: int = 0  # newly queued
    stored: int = 0
    linked: int = 0  # stored, but the same activity was already there (e.g. a FIT file)
    remaining: int = 0  # still queued
    unreadable: int = 0  # activities left queued because Strava's answer was malformed
    unreadable_reason: str | None = None  # the first such answer
    refused: int = 0  # activities no body or device could have done: not stored
    refused_reason: str | None = None  # the first one, and why
    trimmed: int = 0  # activities stored without impossible values (noted on each)
    trimmed_reason: str | None = None  # the first one, and what was dropped
    amended: int = 0  # activities stored with unusable fields dropped or long texts cut
    amended_reason: str | None = None  # the first one, and what was changed
    rescan: str | None = None  # "done" or "continues" when a full re-read ran
    held: str | None = None  # why listing stopped early while fetching went on
    paused: str | None = None  # why the run stopped early
    failure: bool = False  # something went wrong (not just the budget)
    requests: int = 0

    def line(self) -> str:
        """One line for the log or the terminal."""
        return (
            f"strava: {self.stored} new activities ({self.linked} matched existing ones),"
            f" {self.listed} newly listed, {self.remaining} waiting, {self.requests} requests"
            + self.details()
        )

    def details(self, *, paused: bool = True) -> str:
        """What the line adds to the counts (``; 2 refused as impossible (...)``), each
        part after ``; ``; without why the run stopped unless ``paused``."""
        text = ""
        if self.rescan:
            text += f"; full re-read {self.rescan}"
        if self.unreadable:
            text += (
                f"; {self.unreadable} left queued because Strava's answer was unusable"
                f" ({self.unreadable_reason})"
            )
        if self.refused:
            text += f"; {self.refused} refused as impossible ({self.refused_reason})"
        if self.trimmed:
            text += f"; {self.trimmed} stored without impossible values ({self.trimmed_reason})"
        if self.amended:
            text += (
                f"; {self.amended} stored with unusable Strava values dropped or cut"
                f" ({self.amended_reason})"
            )
        if self.held:
            text += f"; listing held: {self.held}"
        if self.paused and paused:
            text += f"; stopped: {self.paused}; the next run continues"
        return text


Progress = Callable[[str], None]


def sync(
    api: StravaAPI,
    store: Store,
    *,
    per_page: int = 200,
    full: bool = False,
    since: datetime | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> SyncResult:
    """One sync run: athlete zones, new activities listed, then queued ones fetched.

    ``full`` starts a re-read of the whole activity list (unless one is under way: a
    re-read stopped by the budget continues in the next runs, with or without ``full``).
    Activities already stored are not queued again, so no stream is fetched twice.
    ``since`` sets a lasting floor: older activities are left out (they came from Strava's
    export, say); a later ``since`` replaces it. Fetched activities pass the plausibility
    checks files pass, judged against ``now`` (the clock when omitted).
    """
    result = SyncResult()
    try:
        run = steps(
            api,
            store,
            result,
            per_page=per_page,
            full=full,
            since=since,
            progress=progress,
            now=now,
        )
        for _ in run:
            pass
    except Paused as pause:
        stopped(result, pause)
    return finish(api, store, result)


def steps(
    api: StravaAPI,
    store: Store,
    result: SyncResult,
    *,
    per_page: int = 200,
    full: bool = False,
    since: datetime | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Generator[None]:
    """The run :func:`sync` makes, one request at a time: it yields after each (the
    zones, a page of the list, an activity's streams), so a squad's sync can take turns
    between athletes (:mod:`heavylegs_sync.strava.squad`). Everything it did is in the
    store when it yields; :class:`Paused` ends it."""
    moment = now or datetime.now(UTC)
    if since is not None:
        store.set_state(SINCE_KEY, str(int(since.timestamp())))
    if full and not store.get_state(RESCAN_KEY):
        store.set_state(RESCAN_KEY, "0")
    token = api.login()
    if token.athlete_id is not None and store.get_state(ACCOUNT_KEY) != str(token.athlete_id):
        store.set_state(ACCOUNT_KEY, str(token.athlete_id))  # one Strava account, one athlete
    _zones(api, store)
    yield
    if store.get_state(RESCAN_KEY):
        result.rescan = "continues"
        yield from _list(api, store, per_page, result, progress, moment, rescan=True)
        store.set_state(RESCAN_KEY, "")
        result.rescan = "done"
    yield from _list(api, store, per_page, result, progress, moment, rescan=False)
    yield from _fetch(api, store, result, progress, moment)


def stopped(result: SyncResult, pause: Paused) -> None:
    """Note why a run stopped early."""
    result.paused = pause.reason
    result.failure = pause.failure


def finish(api: StravaAPI, store: Store, result: SyncResult) -> SyncResult:
    """Complete ``result`` once the run is over, however it ended."""
    result.failure = result.failure or result.unreadable > 0 or result.refused > 0
    result.remaining = store.strava_queue_size()
    result.requests = api.requests
    return result


def _zones(api: StravaAPI, store: Store) -> None:
    try:
        zones = api.get("/athlete/zones")
    except NotFound:
        return
    if not isinstance(zones, dict):
        raise Paused(
            f"Strava's heart-rate zones were not an object but {type(zones).__name__}",
            failure=True,
        )
    heart = zones.get("heart_rate")
    if isinstance(heart, dict) and isinstance(heart.get("zones"), list):
        store.set_state(ZONES_KEY, json.dumps(heart))


def _list(
    api: StravaAPI,
    store: Store,
    per_page: int,
    result: SyncResult,
    progress: Progress | None,
    now: datetime,
    *,
    rescan: bool,
) -> Iterator[None]:
    stored = int(store.get_state(CURSOR_KEY) or 0)
    floor = int(store.get_state(SINCE_KEY) or 0) - 1  # ``after`` is exclusive
    if rescan:
        # A full re-read walks from its own position, which only it moves.
        position = int(store.get_state(RESCAN_KEY) or 0)
        after = position
    else:
        # Look back: an activity uploaded late (a watch synced days after the run) starts
        # before the newest one already listed. Known ones are not queued again.
        position = stored
        after = max(0, stored - LOOKBACK_S) if stored else 0
    after = max(after, floor)
    page = 1
    while True:
        waiting = store.strava_queue_size()
        if waiting >= MAX_QUEUE:  # fetch what waits; the cursor keeps the listing's place
            result.held = (
                f"{waiting:,} listed activities wait to be fetched (at most {MAX_QUEUE:,});"
                " listing goes on once they are fetched"
            )
            return
        try:
            items = api.get("/athlete/activities", after=after, page=page, per_page=per_page)
        except NotFound:
            raise Paused(
                f"Strava answered 404 for the activity list at {api.api_base}/athlete/activities"
                " (is [strava] api_base right?)",
                failure=True,
            ) from None
        athlete_id = api.token.athlete_id if api.token else None
        summaries = _summaries(items, store, result, athlete_id, now)
        latest = max((int(start.timestamp()) for _, start, _ in summaries), default=0)
        # The cursor stops one second short: two activities may share a start second,
        # and re-listing one is free (it is queued once).
        cursor = max(position, latest - 1)
        result.listed += store.queue_strava(summaries, str(max(stored, latest - 1)))
        stored = max(stored, latest - 1)
        if rescan:
            store.set_state(RESCAN_KEY, str(max(cursor, 1)))
        position = cursor
        if progress:
            progress(f"listed {len(items)} activities after {after}")
        yield
        if not items or len(items) < per_page:
            return
        if cursor > after:
            after, page = cursor, 1
        else:  # a full page within one second: move on by page number
            page += 1


def _summaries(
    items: Any, store: Store, result: SyncResult, athlete_id: int | None, now: datetime
) -> list[tuple[int, datetime, str]]:
    """(id, start, checked JSON) of each usable listed activity.

    A listed activity whose values cannot be placed is refused (recorded, not queued: the
    next runs pass over it while Strava lists it unchanged) and the others go on. Paused
    when the page is not a list of activities, or lists another athlete's.
    """
    if not isinstance(items, list):
        raise Paused(
            f"Strava's activity list was not a list but {type(items).__name__}", failure=True
        )
    summaries = []
    for item in items:
        strava_id = item.get("id") if isinstance(item, dict) else None
        if (
            isinstance(strava_id, bool)
            or not isinstance(strava_id, int)
            or not 0 < strava_id < MAX_ID
        ):
            raise Paused(
                f"Strava's activity list holds an entry without a usable id: {_clip(item)}",
                failure=True,
            )
        _same_athlete(item, athlete_id)
        item = {key: value for key, value in item.items() if key != NOTES_KEY}  # only ours
        try:
            checked = check_summary(item, now)
            text = _summary_text(checked.summary)
        except Refused as exc:
            raw = _raw_text(item)
            if not store.strava_refused(strava_id, raw):  # once, while listed unchanged
                _refuse(store, result, strava_id, raw, str(exc))
            continue
        summaries.append((strava_id, checked.start, text))
    return summaries


def _same_athlete(item: dict[str, Any], athlete_id: int | None) -> None:
    """Paused when a listed activity names an athlete other than the connected one."""
    athlete = item.get("athlete")
    named = athlete.get("id") if isinstance(athlete, dict) else None
    if athlete_id is not None and named is not None and named != athlete_id:
        raise Paused(
            f"Strava listed activities of athlete {_clip(named)}, not of the connected athlete"
            f" {athlete_id}; none of them was stored",
            failure=True,
        )


def _summary_text(summary: dict[str, Any]) -> str:
    """The JSON kept for a summary; Refused past :data:`MAX_SUMMARY_BYTES`."""
    text = json.dumps(summary)
    if len(text) > MAX_SUMMARY_BYTES:
        raise Refused(
            f"the summary is {len(text) // 1024:,} KB of JSON (more than"
            f" {MAX_SUMMARY_BYTES // 1024} KB)"
        )
    return text


def _raw_text(item: Any) -> str:
    """A summary as JSON, for its hash in the import log (whatever it holds)."""
    try:
        return json.dumps(item)
    except (TypeError, ValueError, RecursionError):
        return repr(item)


def _refuse(store: Store, result: SyncResult, strava_id: int, summary: str, reason: str) -> None:
    """Not stored, and not fetched again while Strava lists it unchanged."""
    store.refuse_strava(strava_id, summary, reason)
    result.refused += 1
    result.refused_reason = result.refused_reason or f"activity {strava_id}: {reason}"


def _fetch(
    api: StravaAPI, store: Store, result: SyncResult, progress: Progress | None, now: datetime
) -> Iterator[None]:
    for strava_id, summary_text in store.strava_queue():
        _fetch_one(api, store, result, progress, now, strava_id, summary_text)
        yield


def _fetch_one(
    api: StravaAPI,
    store: Store,
    result: SyncResult,
    progress: Progress | None,
    now: datetime,
    strava_id: int,
    summary_text: str,
) -> None:
    """Fetch one queued activity's streams and store it (or refuse it, or leave it queued)."""
    try:  # queued by an earlier version, or before these checks: checked again
        checked = check_summary(_loads(summary_text))
    except Refused as exc:
        _refuse(store, result, strava_id, summary_text, str(exc))
        return
    summary = checked.summary
    streams = None
    if summary.get("manual") is not True:
        try:
            streams = api.get(
                f"/activities/{strava_id}/streams", keys=STREAM_KEYS, key_by_type="true"
            )
        except NotFound:
            streams = None  # deleted meanwhile, or no streams: keep the summary
        except Malformed:
            _unreadable(result, strava_id, "streams were not JSON")
            return
    try:
        check_streams(streams)
        activity = to_activity(summary, streams)
    except Refused as exc:
        _refuse(store, result, strava_id, summary_text, str(exc))
        return
    except (StravaError, ValueError, TypeError, KeyError, OverflowError) as exc:
        _unreadable(result, strava_id, f"streams: {exc}")
        return
    try:
        activity, dropped = vet_one(activity, now)
    except Implausible as exc:
        _refuse(store, result, strava_id, summary_text, str(exc))
        return
    if dropped:
        result.trimmed += 1
        first = f"activity {strava_id}: {'; '.join(dropped)}"
        result.trimmed_reason = result.trimmed_reason or first
    if checked.notes:
        result.amended += 1
        first = f"activity {strava_id}: {'; '.join(checked.notes)}"
        result.amended_reason = result.amended_reason or first
    new_id = store.add_strava(strava_id, activity, summary_text)
    if new_id is not None:
        result.stored += 1
        if store.primary_of(new_id) is not None:
            result.linked += 1
    if progress:
        progress(f"fetched {strava_id}")


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None  # refused by check_summary: not an object


def _unreadable(result: SyncResult, strava_id: int, reason: str) -> None:
    """Leave one activity queued for the next run; the run goes on with the others."""
    result.unreadable += 1
    if result.unreadable_reason is None:
        result.unreadable_reason = f"activity {strava_id}: {reason}"


def _clip(item: Any) -> str:
    text = json.dumps(item) if not isinstance(item, str) else repr(item)
    return text if len(text) <= 60 else text[:57] + "..."


def sync_store(
    settings: Settings,
    *,
    full: bool = False,
    since: datetime | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """One sync of the athlete's account, with the lock that keeps two syncs of that
    athlete apart."""
    account = account_of(settings)
    with sync_lock(settings, account):
        api = StravaAPI(settings.strava, account.token_path, athlete=account.named)
        with open_store(settings) as store:
            result = sync(
                api,
                store,
                per_page=settings.strava.per_page,
                full=full,
                since=since,
                progress=progress,
            )
            from heavylegs_sync.diagnosis import redate_store

            redate_store(store, settings)  # Strava's local starts: evidence of the zone
            return result
