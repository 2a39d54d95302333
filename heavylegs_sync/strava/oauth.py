"""The whole OAuth flow: connect (browser, pasted address, or a later ``--code``), disconnect.

Every link heavylegs prints carries a random ``state``, saved beside the token file until
the flow finishes, so an address handed back later (``connect --code ADDRESS``, a paste, or
the browser's redirect to the catcher) is accepted only when it answers that link. The
catcher is a one-shot HTTP server on 127.0.0.1 that drops idle connections, so nothing can
hold ``connect`` past its timeout. The CLI only parses, calls :func:`connect` or
:func:`disconnect`, prints and sets the exit status.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qs, urlparse

from heavylegs_sync.config import Settings
from heavylegs_sync.errors import StravaError, StravaReconnect

if TYPE_CHECKING:
    from heavylegs_sync.strava.accounts import Account
    from heavylegs_sync.strava.client import StravaAPI

CALLBACK_PATH = "/authorized"
#: Seconds an accepted connection to the catcher may stay silent before it is dropped.
IDLE_TIMEOUT_S = 5.0


# -- the redirect catcher -------------------------------------------------------------------


@dataclass
class _Outcome:
    code: str | None = None
    error: str | None = None
    scope: str | None = None


class _CatcherServer(ThreadingHTTPServer):
    daemon_threads = True  # an idle connection must never delay the end of connect
    block_on_close = False


class RedirectCatcher:
    """Listen on 127.0.0.1 for the redirect carrying ``code`` and the expected ``state``.

    Each connection is served on its own thread with a read timeout, so an idle or slow
    client (a port scanner, a half-open socket) neither blocks the real redirect nor keeps
    :meth:`wait` past its deadline.
    """

    def __init__(self, state: str, port: int = 0, idle_timeout_s: float = IDLE_TIMEOUT_S) -> None:
        self.state = state
        self.outcome = _Outcome()
        self.done = threading.Event()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            timeout = idle_timeout_s  # socket timeout for reading the request

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path != CALLBACK_PATH:
                    self._answer(404, "Not the heavylegs callback.")
                    return
                if query.get("state", [""])[0] != catcher.state:
                    self._answer(400, "State mismatch: this link is not from this connect.")
                    return
                if catcher.done.is_set():
                    self._answer(409, "This connect has already been answered.")
                    return
                if "error" in query:
                    catcher.outcome.error = query["error"][0]
                    self._answer(200, "Strava access was not granted. You can close this tab.")
                elif "code" in query:
                    catcher.outcome.code = query["code"][0]
                    catcher.outcome.scope = query.get("scope", [None])[0]
                    self._answer(200, "heavylegs is connected to Strava. You can close this tab.")
                else:
                    self._answer(400, "No code in the redirect.")
                    return
                catcher.done.set()

            def _answer(self, status: int, text: str) -> None:
                body = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the code must not land in a log."""

        try:
            self.server = _CatcherServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise StravaError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
        self.server.timeout = 0.2  # how often wait() looks at the clock

    @property
    def redirect_uri(self) -> str:
        """The URL Strava must send the runner back to."""
        return f"http://127.0.0.1:{self.server.server_address[1]}{CALLBACK_PATH}"

    def wait(self, timeout_s: float) -> str:
        """Serve until the redirect arrives; the authorization code, or StravaError."""
        deadline = time.monotonic() + timeout_s
        try:
            while not self.done.is_set() and time.monotonic() < deadline:
                self.server.handle_request()
        finally:
            self.server.server_close()
        if self.outcome.error:
            raise StravaError(f"Strava access was not granted ({self.outcome.error})")
        if self.outcome.code is None:
            raise StravaError(f"no answer from Strava within {timeout_s:.0f} s; try again")
        return self.outcome.code


# -- scopes, pasted addresses, the pending link -----------------------------------------------


def check_scope(scope: str | None) -> str | None:
    """A warning when the runner unticked permissions; StravaError when nothing is left to sync.

    Strava lists the granted scopes in the redirect; None means we cannot tell.
    """
    if scope is None:
        return None
    granted = set(scope.split(","))
    if not granted & {"activity:read", "activity:read_all"}:
        raise StravaError("access to activities was not granted on Strava's page; connect again")
    if "activity:read_all" not in granted:
        return "private activities were not granted: they will not be synced"
    return None


def code_from_paste(text: str) -> str:
    """The code from a pasted redirect URL (``...?state=..&code=..``) or a bare code."""
    text = text.strip()
    if "code=" in text:
        values = parse_qs(urlparse(text).query).get("code")
        if values:
            return values[0]
    if not text or any(c.isspace() for c in text):
        raise StravaError("that is neither a code nor a redirect URL with a code")
    return text


@dataclass(frozen=True)
class Answer:
    """What the runner handed back: the code, and the state and scope when known."""

    code: str
    state: str | None = None
    scope: str | None = None
    address: bool = False  # a whole redirect address, not a bare code


def parse_answer(text: str) -> Answer:
    """A redirect address (``http://127.0.0.1:8765/authorized?state=..&code=..``) or a code."""
    text = text.strip()
    if "?" in text or "://" in text or "code=" in text or "state=" in text:
        query = parse_qs(urlparse(text).query)
        if "error" in query:
            raise StravaError(f"Strava access was not granted ({query['error'][0]})")
        codes = query.get("code")
        if not codes:
            raise StravaError("that address carries no code=; copy the whole address again")
        return Answer(
            code=codes[0],
            state=query.get("state", [None])[0],
            scope=query.get("scope", [None])[0],
            address=True,
        )
    return Answer(code=code_from_paste(text))


def pending_path(token_path: Path) -> Path:
    """Where the state of the last printed link waits: beside the token file."""
    return token_path.with_name(token_path.stem + "-pending.json")


def save_pending(token_path: Path, state: str) -> None:
    """Remember the state of a link just printed (mode 0600, like the tokens)."""
    from heavylegs_sync.strava.tokens import write_private

    write_private(
        pending_path(token_path), json.dumps({"state": state, "created_at": int(time.time())})
    )


def load_pending(token_path: Path) -> str | None:
    """The state of the link waiting to be answered, None when there is none."""
    from heavylegs_sync.strava.tokens import read_private

    path = pending_path(token_path)
    try:
        data = json.loads(read_private(path, "pending Strava link"))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise StravaError(f"{path}: unreadable; run 'heavylegs strava connect' again") from exc
    state = data.get("state") if isinstance(data, dict) else None
    if not isinstance(state, str) or not state:
        raise StravaError(f"{path}: unreadable; run 'heavylegs strava connect' again")
    return state


def check_answer(answer: Answer, expected: str | None) -> None:
    """StravaError unless the answer belongs to the link with state ``expected``.

    A bare code carries no state: it is accepted only when no link is waiting (a code
    obtained some other way); otherwise the whole address must be given.
    """
    if expected is None:
        if answer.address:
            raise StravaError(
                "that address answers no link heavylegs is waiting for;"
                " run 'heavylegs strava connect' again and use its link"
            )
        return
    if not answer.address:
        raise StravaError(
            "give the whole address the browser ended on, not just the code:"
            " its state= proves it answers the link heavylegs printed"
        )
    if answer.state != expected:
        raise StravaError(
            "that address answers another connect link (its state differs);"
            " use the address from the latest link, or run 'heavylegs strava connect' again"
        )


# -- connect and disconnect ---------------------------------------------------------------


class ConnectUI(Protocol):
    """How the flow talks to the runner; the CLI passes click-based functions."""

    def show(self, text: str) -> None:
        """Print a line for the runner."""

    def ask(self, text: str) -> str:
        """Prompt and return the answer."""

    def open_browser(self, url: str) -> None:
        """Open a link in the runner's browser."""


@dataclass
class Connected:
    """The outcome of a successful connect."""

    athlete_id: int | None  # Strava's id of the athlete who allowed access
    token_path: Path
    warnings: list[str] = field(default_factory=list)
    athlete: str | None = None  # whose tokens these are, in a store of several athletes


def connect(
    settings: Settings,
    ui: ConnectUI,
    *,
    code: str | None = None,
    paste: bool = False,
    browser: bool = True,
    interactive: bool = True,
    timeout_s: float = 300,
) -> Connected:
    """Allow heavylegs to read the runner's activities, by whichever route fits.

    ``code``: finish with an address (or code) from an earlier link. Not ``interactive``
    (no terminal): print nothing, save a pending link and raise StravaError naming it and
    how to finish. ``paste``: print the link and ask for the address. Else wait for the
    browser's redirect on 127.0.0.1.
    """
    from heavylegs_sync.strava.accounts import account_of, claim

    account = account_of(settings)
    api = _api(settings, account)
    token_path = api.token_path
    warnings: list[str] = []
    if code is not None:
        answer = parse_answer(code)
        check_answer(answer, load_pending(token_path))
    elif not interactive:
        state = _new_link(token_path)
        url = api.authorization_url(_fixed_redirect(settings), state)
        raise StravaError(
            f"no terminal to finish connecting: open {url} in a browser, allow access, then run"
            " 'heavylegs strava connect --code ADDRESS' with the whole address the browser"
            " ends on (it fails to load; that is expected)"
        )
    elif paste:
        state = _new_link(token_path)
        url = api.authorization_url(_fixed_redirect(settings), state)
        ui.show(f"Open this link in any browser and allow access:\n\n  {url}\n")
        ui.show("The browser then fails to load a 127.0.0.1 page: copy its whole address.")
        answer = parse_answer(ui.ask("Paste that address"))
        check_answer(answer, state)
    else:
        state = _new_link(token_path)
        catcher = RedirectCatcher(state, settings.strava.redirect_port)
        url = api.authorization_url(catcher.redirect_uri, state)
        ui.show(f"Allow access in your browser:\n\n  {url}\n")
        if browser:
            ui.open_browser(url)
        ui.show(f"Waiting up to {timeout_s:.0f} s for Strava ... (Ctrl-C to stop)")
        code = catcher.wait(timeout_s)
        answer = Answer(code, state=state, scope=catcher.outcome.scope, address=True)
    warning = check_scope(answer.scope)
    if warning:
        warnings.append(warning)
    token = api.exchange(answer.code, check=lambda new: claim(settings, account, new.athlete_id))
    pending_path(token_path).unlink(missing_ok=True)
    return Connected(token.athlete_id, token_path, warnings, account.named)


@dataclass
class Disconnected:
    """What ``disconnect`` did; ``error`` says why the access could not be revoked."""

    revoked_with: str | None = None  # the endpoint that revoked, None when nothing was
    removed: bool = False  # a token file was deleted
    purged: int | None = None  # Strava activities deleted, None when not asked
    error: str | None = None


def disconnect(settings: Settings, *, purge: bool = False) -> Disconnected:
    """Revoke the access on Strava, delete the tokens, and with ``purge`` the Strava data.

    When Strava does not confirm the revocation the tokens are kept (so the runner can
    try again) and ``error`` says why; the purge is done either way.
    """
    from heavylegs_sync.strava.accounts import account_of, release
    from heavylegs_sync.strava.tokens import delete_token

    account = account_of(settings)
    api = _api(settings, account)
    outcome = Disconnected()
    with contextlib.suppress(StravaReconnect):  # no usable token: nothing to revoke
        api.load()
    if api.token is not None:
        try:
            outcome.revoked_with = api.revoke()
        except StravaError as exc:
            outcome.error = str(exc)
    if outcome.error is None:
        outcome.removed = delete_token(api.token_path)
        pending_path(api.token_path).unlink(missing_ok=True)
        release(settings, account)
    if purge:
        from heavylegs_sync.service import open_store

        with open_store(settings) as store:
            outcome.purged = store.purge_source("strava")
    return outcome


def _api(settings: Settings, account: Account) -> StravaAPI:
    from heavylegs_sync.strava.client import StravaAPI

    return StravaAPI(settings.strava, account.token_path, athlete=account.named)


def _new_link(token_path: Path) -> str:
    state = secrets.token_urlsafe(16)
    save_pending(token_path, state)
    return state


def _fixed_redirect(settings: Settings) -> str:
    """The redirect for links finished by hand: nothing listens there, the address is copied."""
    return f"http://127.0.0.1:{settings.strava.redirect_port}{CALLBACK_PATH}"
