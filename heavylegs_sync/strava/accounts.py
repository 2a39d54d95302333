"""Whose Strava tokens a command uses: one token file and one sync lock per athlete.

One Strava API application serves a whole squad, but each athlete allows it access to their
own Strava account, so each athlete's tokens are a file of their own (mode 0600, in a 0700
folder beside the store) named by the athlete's id, which ``athletes rename`` does not
change. A command scoped to one athlete works out that athlete's file and no other: it
never opens another athlete's tokens. The store's first athlete keeps ``strava-token.json``,
so a runner's store from before athletes existed loses nothing.

Each athlete's sync takes a lock of their own: two athletes sync at once, one athlete never
twice. The Strava account an athlete's tokens belong to is recorded in their state, so one
Strava account cannot feed two athletes of a store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from heavylegs_sync.config import FIRST_ATHLETE_ID, Settings
from heavylegs_sync.errors import AthleteError, StoreNotWritable, StravaError

if TYPE_CHECKING:
    from heavylegs_sync.store import Athlete, Store

log = logging.getLogger("heavylegs.strava")

#: State key: the Strava athlete id the athlete's tokens belong to ("" once disconnected).
ACCOUNT_KEY = "strava.account"


@dataclass(frozen=True)
class Account:
    """One athlete's Strava side: where their tokens and their sync lock are."""

    athlete: str | None  # None: the store holds no athlete yet (its first will be "me")
    athlete_id: int | None
    token_path: Path
    lock_path: Path
    several: bool  # the store holds several athletes: messages name this one

    @property
    def named(self) -> str | None:
        """The name messages and advice carry (``--athlete NAME``), in a squad's store."""
        return self.athlete if self.several else None


def account_of(settings: Settings) -> Account:
    """The account of the athlete the settings name (or the store's only athlete).

    A store that does not exist yet is not created: its first athlete will keep the
    one-runner token file."""
    from heavylegs_sync.service import open_store, store_exists

    if not store_exists(settings):
        name = settings.athlete_name
        if name is not None:
            raise AthleteError(
                f"{settings.db_shown}: no athlete {name!r} (there is no store yet);"
                f" add one: heavylegs athletes add {name}"
            )
        return _account(settings, None, 0)
    with open_store(settings) as store:
        return _account(settings, store.athlete, len(store.athletes.list()))


def accounts(store: Store, settings: Settings) -> list[Account]:
    """Every athlete's account, by name (``strava sync --all``)."""
    every = store.athletes.list()
    return [_account(settings, athlete, len(every)) for athlete in every]


def _account(settings: Settings, athlete: Athlete | None, count: int) -> Account:
    strava = settings.strava
    if strava.token_file and count > 1:
        raise StravaError(
            f"[strava] token_file names one token file ({strava.token_file}), but"
            f" {settings.db_shown} holds {count} athletes: remove the setting (and"
            " HEAVYLEGS_STRAVA_TOKEN) so each athlete's tokens get a file of their own"
        )
    athlete_id = None if athlete is None else athlete.id
    first = athlete_id is None or athlete_id == FIRST_ATHLETE_ID
    suffix = ".strava.lock" if first else f".strava-{athlete_id}.lock"
    return Account(
        athlete=None if athlete is None else athlete.name,
        athlete_id=athlete_id,
        token_path=strava.token_path(settings.db_path, athlete_id),
        lock_path=Path(str(settings.db_path) + suffix),
        several=count > 1,
    )


class SyncBusy(StravaError):
    """Another sync of this athlete holds the lock."""


@contextmanager
def sync_lock(settings: Settings, account: Account) -> Iterator[None]:
    """Hold this athlete's sync lock; SyncBusy at once when another sync holds it."""
    from filelock import FileLock
    from filelock import Timeout as LockTimeout

    lock = FileLock(str(account.lock_path), mode=0o600)
    try:
        lock.acquire(timeout=0)
    except LockTimeout:
        whose = f" of {account.named}" if account.named else ""
        raise SyncBusy(f"another 'heavylegs strava sync'{whose} is running on this store") from None
    except OSError as exc:  # the store's folder cannot be written (or is gone)
        raise StoreNotWritable(
            f"{settings.db_path}: cannot take the sync lock beside the store"
            f" ({exc.strerror or exc}); fix the permissions of the store's folder"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def claim(settings: Settings, account: Account, strava_id: int | None) -> None:
    """Record that ``account``'s tokens are Strava athlete ``strava_id``'s; StravaError
    when that Strava account already feeds another athlete of the store (one Strava
    account, one athlete). Only the other athletes' recorded ids are read, never their
    tokens."""
    from heavylegs_sync.service import open_store

    if strava_id is None or account.athlete is None:
        return
    with open_store(settings, unscoped=True) as store:
        for other in store.athletes.list():
            if other.id == account.athlete_id:
                continue
            if store.for_athlete(other.name).get_state(ACCOUNT_KEY) == str(strava_id):
                raise StravaError(
                    f"that Strava account (athlete {strava_id}) already feeds athlete"
                    f" {other.name} of this store; one Strava account feeds one athlete"
                    f" (to move it: heavylegs strava disconnect --athlete {other.name});"
                    " no tokens were saved"
                )
        store.for_athlete(account.athlete).set_state(ACCOUNT_KEY, str(strava_id))


def release(settings: Settings, account: Account) -> None:
    """Forget which Strava account fed this athlete (after a disconnect)."""
    from heavylegs_sync.service import open_store, store_exists

    if account.athlete is None or not store_exists(settings):
        return
    with open_store(settings, unscoped=True) as store:
        store.for_athlete(account.athlete).set_state(ACCOUNT_KEY, "")


def forget_tokens(settings: Settings, store: Store, athlete: Athlete) -> str | None:
    """Before an athlete is removed: revoke their Strava access and delete their token
    file (a later athlete may get the same id), as ``strava disconnect`` does. A line
    saying why the access could not be revoked, if it could not; the file goes anyway."""
    from heavylegs_sync.strava.client import StravaAPI
    from heavylegs_sync.strava.oauth import pending_path
    from heavylegs_sync.strava.tokens import delete_token

    try:
        account = _account(settings, athlete, len(store.athletes.list()))
    except StravaError as exc:  # one token_file for several athletes: it is no one's own
        log.warning("%s: Strava tokens left as they are: %s", athlete.name, exc)
        return None
    pending_path(account.token_path).unlink(missing_ok=True)
    if not account.token_path.exists():
        return None
    problem = None
    try:
        api = StravaAPI(settings.strava, account.token_path, athlete=account.named)
        api.load()
        api.revoke()
    except StravaError as exc:
        log.warning("%s: Strava access not revoked: %s", athlete.name, exc)
        problem = (
            f"{athlete.name}'s Strava tokens were deleted, but Strava did not confirm"
            " revoking the access (heavylegs stays listed at"
            " https://www.strava.com/settings/apps until removed there)"
        )
    delete_token(account.token_path)
    return problem
