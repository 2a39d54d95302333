"""The token file: readable by the user alone, written atomically, never silently ignored.

Strava rotates refresh tokens, so every refresh must be saved at once: a lost refresh
token means asking the runner to connect again.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from heavylegs_sync.errors import ImportFailed, StravaError, StravaNotConnected, StravaReconnect
from heavylegs_sync.importers.source import file_kind, read_regular

#: The largest token (or state) file read: a token file is a few hundred bytes.
MAX_PRIVATE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Token:
    """What Strava's token endpoint returns that we keep."""

    access_token: str
    refresh_token: str
    expires_at: int  # epoch seconds
    athlete_id: int | None = None
    scope: str | None = None


def load_token(path: Path) -> Token:
    """The saved token; :class:`StravaReconnect` when there is none or it is unreadable.

    A token file that other users may read is refused (as ssh refuses such a key): the
    tokens give access to the runner's Strava account.
    """
    try:
        text = read_private(path)
    except FileNotFoundError:
        raise StravaNotConnected() from None
    try:
        data = json.loads(text)
        return Token(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            expires_at=int(data["expires_at"]),
            athlete_id=None if data.get("athlete_id") is None else int(data["athlete_id"]),
            scope=data.get("scope"),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise StravaReconnect(f"{path}: the Strava token file is corrupt") from exc


def read_private(path: Path, what: str = "Strava token file") -> str:
    """The text of a file only its owner may read; StravaError if others may.

    FileNotFoundError passes through, for the caller to say what a missing file means.
    """
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):
            raise StravaError(
                f"{path}: cannot read the {what}: not a regular file ({file_kind(status.st_mode)})"
            )
        mode = stat.S_IMODE(status.st_mode)
        if mode & 0o077:
            raise StravaError(
                f"{path}: other users may read this {what} (mode {mode:04o});"
                f" run 'chmod 600 {path}', and reconnect if someone else may have read it"
            )
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StravaError(f"{path}: cannot read the {what}: {exc.strerror}") from exc
    try:
        # A regular file of a few KB only: a FIFO would hang, a device never end.
        data = read_regular(path, MAX_PRIVATE_BYTES)
    except ImportFailed as exc:
        raise StravaError(f"{path}: cannot read the {what}: {exc.reason}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StravaReconnect(f"{path}: the {what} is corrupt") from exc


def save_token(path: Path, token: Token) -> None:
    """Write the token file with mode 0600, via a temporary file and an atomic rename."""
    write_private(path, json.dumps(asdict(token), indent=2))


def write_private(path: Path, text: str) -> None:
    """Write a file with mode 0600, via a temporary file and an atomic rename."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # a squad's folder: 0700
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = text.encode("utf-8")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StravaError(f"{path}: cannot save the Strava token: {exc.strerror}") from exc


def delete_token(path: Path) -> bool:
    """Remove the token file; whether there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
