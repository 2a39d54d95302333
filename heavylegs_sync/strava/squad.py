"""``strava sync --all``: every connected athlete of the store, taking turns on one budget.

One Strava API application serves the squad, and Strava counts its requests against one
rate limit, so the athletes share one :class:`~heavylegs_sync.strava.budget.Budget` (and
``[strava] max_requests`` and ``max_run_minutes``). Each athlete's run is the one-athlete
sync (:func:`heavylegs_sync.strava.sync.steps`), advanced one request at a time in turn
(round-robin), so a budget that runs out leaves every athlete partly done rather than the
first one done and the last one never started. Each athlete's cursor and queue are in their
own scope of the store, so the next run resumes each where it stopped, fetching nothing
twice. One athlete's failure (revoked access, an unusable answer) ends that athlete's turn
only; what is the application's (its budget, a 429, an inactive application) ends them all.
"""

from __future__ import annotations

import logging
import textwrap
import time
from collections.abc import Generator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime

from heavylegs_sync.config import Settings
from heavylegs_sync.errors import StravaError
from heavylegs_sync.store import Store
from heavylegs_sync.strava.accounts import Account, SyncBusy, accounts, sync_lock
from heavylegs_sync.strava.budget import Budget
from heavylegs_sync.strava.client import Paused, StravaAPI
from heavylegs_sync.strava.sync import Progress, SyncResult, finish, steps, stopped
from heavylegs_sync.words import plural

log = logging.getLogger("heavylegs.strava")

#: How many names a line lists before "...".
MAX_NAMES = 8


@dataclass
class Turn:
    """One athlete's part of a squad's sync."""

    name: str
    result: SyncResult = field(default_factory=SyncResult)
    error: str | None = None  # this athlete's run failed before it could sync
    busy: bool = False  # another sync of this athlete was running: left alone
    done: bool = False  # listed and fetched everything there was


@dataclass
class SquadResult:
    """What ``strava sync --all`` did, athlete by athlete."""

    turns: list[Turn]
    requests: int = 0
    paused: str | None = None  # why the whole run stopped early
    not_connected: list[str] = field(default_factory=list)

    @property
    def failure(self) -> bool:
        """Whether any athlete's sync failed (the exit status is 1)."""
        return any(t.error is not None or t.result.failure for t in self.turns)

    @property
    def waiting(self) -> list[str]:
        """The athletes the next run goes on with."""
        return [t.name for t in self.turns if not (t.busy or t.done or t.error)]

    def line(self, turn: Turn) -> str:
        """``alice: 3 new activities, 0 waiting, 9 requests`` (and what went wrong)."""
        if turn.busy:
            return f"{turn.name}: skipped: another 'heavylegs strava sync' of it is running"
        if turn.error is not None:
            return f"{turn.name}: failed: {turn.error}"
        result = turn.result
        text = f"{turn.name}: {_counts(result.stored, result.remaining, result.requests)}"
        # Why the whole run stopped is said once, in the total.
        return text + result.details(paused=result.paused != self.paused)

    def total(self, width: int = 80) -> list[str]:
        """The squad's lines: the totals, and when the budget ran out, why and who waits
        (wrapped to ``width``)."""
        taken = [t for t in self.turns if not t.busy]  # the busy ones' counts are elsewhere
        stored = sum(t.result.stored for t in taken)
        remaining = sum(t.result.remaining for t in taken)
        who = plural(len(self.turns), "athlete")
        lines = [f"squad of {who}: {_counts(stored, remaining, self.requests)}"]
        if self.paused:
            waiting = self.waiting
            names = ", ".join(waiting[:MAX_NAMES]) + (", ..." if len(waiting) > MAX_NAMES else "")
            lines += textwrap.wrap(f"stopped: {self.paused}", width, subsequent_indent="  ")
            lines += textwrap.wrap(
                f"the next run goes on with {names or 'nobody'}", width, subsequent_indent="  "
            )
        return lines


def _counts(stored: int, remaining: int, requests: int) -> str:
    new = plural(stored, "new activity", "new activities")
    return f"{new}, {remaining} waiting, {plural(requests, 'request')}"


def sync_all(
    settings: Settings,
    *,
    full: bool = False,
    since: datetime | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> SquadResult:
    """Sync every athlete of the store who is connected, in turns, within one budget.

    StravaError when none is connected. Each athlete's sync lock is held while they take
    part; one that another sync holds is left alone (and said so)."""
    from heavylegs_sync.diagnosis import redate_store
    from heavylegs_sync.service import open_store, settings_of, store_exists

    if not store_exists(settings):  # not created just to find nobody in it
        raise StravaError(f"{settings.db_shown}: no store yet, so no athlete to sync")
    moment = now or datetime.now(UTC)
    with open_store(settings, unscoped=True) as store, ExitStack() as locks:
        every = accounts(store, settings)
        connected = [a for a in every if a.token_path.exists()]
        if not connected:
            raise StravaError(
                f"no athlete of {settings.db_shown} is connected to Strava:"
                " run 'heavylegs strava connect --athlete NAME' for each"
            )
        idle = [str(a.athlete) for a in every if a not in connected]
        outcome = SquadResult([], not_connected=idle)
        budget = Budget(reserve=settings.strava.reserve)
        started = time.time()
        runs: list[tuple[Turn, StravaAPI, Store, Generator[None]]] = []
        for account in connected:
            turn = Turn(str(account.athlete))
            outcome.turns.append(turn)
            try:
                locks.enter_context(sync_lock(settings, account))
            except SyncBusy:
                turn.busy = True
                continue
            runs.append(
                _start(
                    settings, store, account, turn, budget, started, full, since, progress, moment
                )
            )
        outcome.paused = _take_turns(runs, outcome)
        for turn, api, scoped, _ in runs:
            finish(api, scoped, turn.result)
            if turn.error is None:
                assert scoped.athlete is not None
                redate_store(scoped, settings_of(settings, scoped.athlete))
        outcome.requests = budget.spent
    return outcome


def _start(
    settings: Settings,
    store: Store,
    account: Account,
    turn: Turn,
    budget: Budget,
    started: float,
    full: bool,
    since: datetime | None,
    progress: Progress | None,
    now: datetime,
) -> tuple[Turn, StravaAPI, Store, Generator[None]]:
    """One athlete's run, ready to take its first turn."""
    name = str(account.athlete)
    api = StravaAPI(
        settings.strava, account.token_path, budget=budget, started=started, athlete=name
    )
    scoped = store.for_athlete(name)
    said = None if progress is None else _prefixed(progress, name)
    run = steps(
        api,
        scoped,
        turn.result,
        per_page=settings.strava.per_page,
        full=full,
        since=since,
        progress=said,
        now=now,
    )
    return turn, api, scoped, run


def _prefixed(progress: Progress, name: str) -> Progress:
    """Progress lines that say whose they are."""
    return lambda text: progress(f"{name}: {text}")


def _take_turns(
    runs: list[tuple[Turn, StravaAPI, Store, Generator[None]]], outcome: SquadResult
) -> str | None:
    """Advance each run by one request in turn until all are done or the application's
    budget stops them all; why it stopped them, if it did."""
    active = list(runs)
    while active:
        for entry in list(active):
            turn, _, _, run = entry
            try:
                next(run)
                continue
            except StopIteration:
                turn.done = True
            except Paused as pause:
                stopped(turn.result, pause)
                if pause.shared:
                    for other, _, _, rest in active:
                        if other is not turn:
                            stopped(other.result, pause)
                        rest.close()
                    return pause.reason
                log.info("%s: stopped: %s", turn.name, pause.reason)
            except StravaError as exc:  # revoked, not connected, a token file refused
                turn.error = str(exc)
            active.remove(entry)
    return None
