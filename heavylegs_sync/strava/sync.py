"""Incremental Strava sync: list what is new, queue it, fetch it, within the budget.

Listing moves a cursor (the latest start time queued) and fetching drains a queue, both
kept in the store in the same transactions as the data, so a run stopped by the rate
limit, a failure or a kill resumes exactly where it stopped: nothing skipped, nothing
fetched twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from heavylegs_sync.errors import StravaError
from heavylegs_sync.store import Store
from heavylegs_sync.strava.client import NotFound, Paused, StravaAPI
from heavylegs_sync.strava.mapping import STREAM_KEYS, ZONES_KEY, start_of, to_activity

CURSOR_KEY = "strava.after"
#: How far back each listing looks for activities uploaded after newer ones.
LOOKBACK_S = 14 * 24 * 3600


@dataclass
class SyncResult:
    """What one run did, and whether it finished."""

    listed: int = 0  # newly queued
    stored: int = 0
    linked: int = 0  # stored, but the same activity was already there (e.g. a FIT file)
    remaining: int = 0  # still queued
    paused: str | None = None  # why the run stopped early
    failure: bool = False  # the pause was caused by a failure, not by the budget
    requests: int = 0

    def line(self) -> str:
        """One line for the log or the terminal."""
        text = (
            f"strava: {self.stored} new activities ({self.linked} matched existing ones),"
            f" {self.listed} newly listed, {self.remaining} waiting, {self.requests} requests"
        )
        if self.paused:
            text += f"; stopped: {self.paused}; the next run continues"
        return text


Progress = Callable[[str], None]


def sync(
    api: StravaAPI,
    store: Store,
    *,
    per_page: int = 200,
    progress: Progress | None = None,
) -> SyncResult:
    """One sync run: athlete zones, then new activities listed, then queued ones fetched."""
    result = SyncResult()
    try:
        api.login()
        _zones(api, store)
        _list(api, store, per_page, result, progress)
        _fetch(api, store, result, progress)
    except Paused as pause:
        result.paused = pause.reason
        result.failure = pause.failure
    result.remaining = store.strava_queue_size()
    result.requests = api.budget.spent
    return result


def _zones(api: StravaAPI, store: Store) -> None:
    try:
        zones = api.get("/athlete/zones")
    except NotFound:
        return
    heart = zones.get("heart_rate") if isinstance(zones, dict) else None
    if isinstance(heart, dict) and isinstance(heart.get("zones"), list):
        store.set_state(ZONES_KEY, json.dumps(heart))


def _list(
    api: StravaAPI,
    store: Store,
    per_page: int,
    result: SyncResult,
    progress: Progress | None,
) -> None:
    stored = int(store.get_state(CURSOR_KEY) or 0)
    # Look back: an activity uploaded late (a watch synced days after the run) starts
    # before the newest one already listed. Known ones are not queued again.
    after = max(0, stored - LOOKBACK_S) if stored else 0
    page = 1
    while True:
        items = api.get("/athlete/activities", after=after, page=page, per_page=per_page)
        if not isinstance(items, list):
            raise StravaError("Strava's activity list was not a list")
        summaries = []
        latest = stored
        for item in items:
            start = start_of(item)
            summaries.append((int(item["id"]), start, json.dumps(item)))
            latest = max(latest, int(start.timestamp()))
        # The cursor stops one second short: two activities may share a start second,
        # and re-listing one is free (it is queued once).
        cursor = max(stored, latest - 1)
        result.listed += store.queue_strava(summaries, str(cursor))
        stored = cursor
        if progress:
            progress(f"listed {len(items)} activities after {after}")
        if not items or len(items) < per_page:
            return
        if cursor > after:
            after, page = cursor, 1
        else:  # a full page within one second: move on by page number
            page += 1


def _fetch(api: StravaAPI, store: Store, result: SyncResult, progress: Progress | None) -> None:
    while True:
        batch = store.strava_queue(limit=50)
        if not batch:
            return
        for strava_id, summary_text in batch:
            summary: dict[str, Any] = json.loads(summary_text)
            streams = None
            if not summary.get("manual"):
                try:
                    streams = api.get(
                        f"/activities/{strava_id}/streams", keys=STREAM_KEYS, key_by_type="true"
                    )
                except NotFound:
                    streams = None  # deleted meanwhile, or no streams: keep the summary
            activity = to_activity(summary, streams if isinstance(streams, dict) else None)
            new_id = store.add_strava(strava_id, activity, summary_text)
            if new_id is not None:
                result.stored += 1
                if store.primary_of(new_id) is not None:
                    result.linked += 1
            if progress:
                progress(f"fetched {strava_id}")
