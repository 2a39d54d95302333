"""Catching Strava's OAuth redirect: a one-shot HTTP server on 127.0.0.1 with a state check.

The server answers exactly one matching redirect and then stops; a redirect with the wrong
``state`` (a forged or stale link) is refused and waiting goes on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

from heavylegs_sync.errors import StravaError

CALLBACK_PATH = "/authorized"


@dataclass
class _Outcome:
    code: str | None = None
    error: str | None = None
    scope: str | None = None


class RedirectCatcher:
    """Listen on 127.0.0.1 for the redirect carrying ``code`` and the expected ``state``."""

    def __init__(self, state: str, port: int = 0) -> None:
        self.state = state
        self.outcome = _Outcome()
        self.done = threading.Event()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path != CALLBACK_PATH:
                    self._answer(404, "Not the heavylegs callback.")
                    return
                if query.get("state", [""])[0] != catcher.state:
                    self._answer(400, "State mismatch: this link is not from this connect.")
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
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the code must not land in a log."""

        try:
            self.server = HTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise StravaError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
        self.server.timeout = 0.5

    @property
    def redirect_uri(self) -> str:
        """The URL Strava must send the runner back to."""
        return f"http://127.0.0.1:{self.server.server_address[1]}{CALLBACK_PATH}"

    def wait(self, timeout_s: float) -> str:
        """Serve until the redirect arrives; the authorization code, or StravaError."""
        deadline = threading.Event()
        timer = threading.Timer(timeout_s, deadline.set)
        timer.start()
        try:
            while not self.done.is_set() and not deadline.is_set():
                self.server.handle_request()
        finally:
            timer.cancel()
            self.server.server_close()
        if self.outcome.error:
            raise StravaError(f"Strava access was not granted ({self.outcome.error})")
        if self.outcome.code is None:
            raise StravaError(f"no answer from Strava within {timeout_s:.0f} s; try again")
        return self.outcome.code


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
