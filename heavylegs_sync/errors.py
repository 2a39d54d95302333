"""Exception families, one per boundary; only the CLI turns them into words for a person.

Each error carries what a person needs to act (the file, the reason), so the message the
CLI prints is simply ``str(error)``.
"""

from __future__ import annotations

from pathlib import Path


class HeavyLegsError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(HeavyLegsError):
    """The settings file or an environment variable holds something unusable."""


class StoreError(HeavyLegsError):
    """The activity store cannot be opened, migrated or written."""


class AthleteError(HeavyLegsError):
    """No such athlete, a name already taken, or a store of several athletes and no
    ``--athlete`` to say which."""


class ImportFailed(HeavyLegsError):
    """A file could not be imported; ``reason`` says why in a few words."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class NotAnActivity(ImportFailed):
    """A well-formed file that holds no activity (FIT settings, monitoring, courses...)."""


class StravaError(HeavyLegsError):
    """Strava could not be reached, refused, or the local Strava state is unusable."""


class StravaReconnect(StravaError):
    """The tokens are missing, revoked or invalid: only ``heavylegs strava connect`` helps."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}; run 'heavylegs strava connect' again")


class NoStoreYet(StoreError):
    """Nothing was ever written where the store should be (no file, an empty database)."""


class StoreDamaged(StoreError):
    """The store file is damaged (a corrupt page): ``heavylegs check``, then a backup."""


class StoreNotWritable(StoreError):
    """The store (its file, its folder or the file system) cannot be written."""


class StoreFull(StoreError):
    """The disk (or the store's page limit) is full; what was committed before is kept."""


class Interrupted(BaseException):
    """A signal (SIGTERM, SIGINT, SIGHUP) asked a command to stop. A ``BaseException``, as
    ``KeyboardInterrupt`` is, so no ``except Exception`` on the way out can swallow it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signum)


class StravaNotConnected(StravaReconnect):
    """No tokens were ever saved: ``heavylegs strava connect`` has not been run."""

    def __init__(self, athlete: str | None = None) -> None:
        who, flag = (f"{athlete} is ", f" --athlete {athlete}") if athlete else ("", "")
        HeavyLegsError.__init__(
            self, f"{who}not connected to Strava: run 'heavylegs strava connect{flag}'"
        )
