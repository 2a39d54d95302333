"""A thin wrapper around stravalib: our base URL, our budget, our token file, our errors.

stravalib builds ``https://www.strava.com`` URLs; a transport adapter on its requests
session sends them to the configured ``api_url`` instead, so the same code talks to Strava
or to a Strava-compatible server on 127.0.0.1. Raw JSON is read through stravalib's
protocol layer, because its models turn sport types they do not know into ``Workout``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import requests
from requests.adapters import HTTPAdapter
from stravalib import Client
from stravalib import exc as strava_exc
from stravalib.util import limiter

from heavylegs_sync.config import StravaSettings
from heavylegs_sync.errors import StravaError, StravaReconnect
from heavylegs_sync.strava.budget import Budget
from heavylegs_sync.strava.tokens import Token, load_token, save_token

STRAVA_ORIGIN = "https://www.strava.com"
SCOPES = ["read", "activity:read_all", "profile:read_all"]
#: Refresh a little before expiry, so a token cannot lapse between check and use.
REFRESH_MARGIN_S = 300


class Paused(StravaError):
    """The sync must stop for now (budget, 429, repeated server failures); not an error
    of the data: the cursor and queue are kept and the next run continues."""

    def __init__(self, reason: str, *, failure: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.failure = failure  # True when something went wrong, not just the budget


class NotFound(Exception):
    """The API answered 404 for this resource."""


class _Redirect(HTTPAdapter):
    """Send requests for Strava's origin to another base URL, with a default timeout."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        super().__init__(max_retries=0)
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if request.url and request.url.startswith(STRAVA_ORIGIN):
            request.url = self.base_url + request.url[len(STRAVA_ORIGIN) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_s
        return super().send(request, **kwargs)


class _BudgetLimiter(limiter.RateLimiter):
    """Record usage from each response; never sleep (stravalib's default limiter may)."""

    def __init__(self, budget: Budget) -> None:
        super().__init__()
        self.budget = budget

    def __call__(self, args: Mapping[str, str], method: Any) -> None:
        self.budget.update(args)


class StravaAPI:
    """Authenticated, budgeted access to the few endpoints the sync needs."""

    def __init__(
        self,
        settings: StravaSettings,
        token_path: Any,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.token_path = token_path
        self.clock = clock
        self.sleep = sleep
        self.budget = Budget(reserve=settings.reserve)
        session = requests.Session()
        adapter = _Redirect(settings.api_url, settings.timeout_s)
        session.mount(STRAVA_ORIGIN, adapter)
        with _quiet_root_logging():
            self.client = Client(requests_session=session, rate_limiter=_BudgetLimiter(self.budget))
        # stravalib refreshes expired tokens by itself when it finds client credentials in
        # the environment, but would not save the rotated refresh token: we refresh.
        self.client.protocol.client_id = None
        self.client.protocol.client_secret = None
        self.token: Token | None = None

    # -- OAuth ------------------------------------------------------------------------

    def _credentials(self) -> tuple[int, str]:
        client_id, secret = self.settings.client_id, self.settings.client_secret
        if not client_id or not secret:
            raise StravaError(
                "no Strava API application: set STRAVA_CLIENT_ID and STRAVA_CLIENT_SECRET"
                " (or [strava] client_id and client_secret in the settings file)"
            )
        try:
            return int(client_id), secret
        except ValueError:
            raise StravaError(f"Strava client id must be a number, not {client_id!r}") from None

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """The page where the runner allows access; it redirects back with a code."""
        client_id, _ = self._credentials()
        url = str(
            self.client.authorization_url(
                client_id=client_id,
                redirect_uri=redirect_uri,
                scope=SCOPES,  # type: ignore[arg-type]
                state=state,
                approval_prompt="auto",
            )
        )
        if self.settings.api_url != STRAVA_ORIGIN and url.startswith(STRAVA_ORIGIN):
            url = self.settings.api_url + url[len(STRAVA_ORIGIN) :]
        return url

    def exchange(self, code: str) -> Token:
        """Trade an authorization code for tokens and save them."""
        client_id, secret = self._credentials()
        try:
            info, athlete = cast(
                tuple[Mapping[str, Any], Any],
                self.client.exchange_code_for_token(
                    client_id=client_id, client_secret=secret, code=code, return_athlete=True
                ),
            )
        except strava_exc.Fault as exc:
            raise StravaError(f"Strava refused the authorization code: {_why(exc)}") from exc
        except requests.RequestException as exc:
            raise StravaError(f"cannot reach Strava at {self.settings.api_url}: {exc}") from exc
        token = Token(
            access_token=str(info["access_token"]),
            refresh_token=str(info["refresh_token"]),
            expires_at=int(info["expires_at"]),
            athlete_id=getattr(athlete, "id", None),
            scope=",".join(SCOPES),
        )
        save_token(self.token_path, token)
        self._use(token)
        return token

    def login(self) -> Token:
        """Load the saved token, refreshing it first when it is about to expire."""
        self._use(load_token(self.token_path))
        assert self.token is not None
        if self.token.expires_at - self.clock() < REFRESH_MARGIN_S:
            self.refresh()
        return self.token

    def refresh(self) -> Token:
        """Get a new access token (and Strava's new refresh token) and save both at once."""
        assert self.token is not None
        client_id, secret = self._credentials()
        try:
            info = self.client.refresh_access_token(
                client_id=client_id, client_secret=secret, refresh_token=self.token.refresh_token
            )
        except strava_exc.Fault as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status is not None and 400 <= status < 500:
                raise StravaReconnect(
                    f"Strava refused to refresh the access ({_why(exc)})"
                ) from exc
            raise Paused(f"Strava's token endpoint failed ({_why(exc)})", failure=True) from exc
        except requests.RequestException as exc:
            raise Paused(f"cannot reach Strava to refresh the token: {exc}", failure=True) from exc
        token = Token(
            access_token=str(info["access_token"]),
            refresh_token=str(info["refresh_token"]),
            expires_at=int(info["expires_at"]),
            athlete_id=self.token.athlete_id,
            scope=self.token.scope,
        )
        save_token(self.token_path, token)
        self._use(token)
        return token

    def _use(self, token: Token) -> None:
        self.token = token
        self.client.access_token = token.access_token
        self.client.refresh_token = token.refresh_token
        self.client.token_expires = token.expires_at

    def deauthorize(self) -> None:
        """Revoke this application's access on Strava."""
        try:
            self.client.deauthorize()
        except strava_exc.Fault as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status != 401:  # already revoked is what we wanted
                raise StravaError(f"Strava refused to deauthorize: {_why(exc)}") from exc
        except requests.RequestException as exc:
            raise StravaError(f"cannot reach Strava at {self.settings.api_url}: {exc}") from exc

    # -- the API ----------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        """GET an API path within the budget, refreshing and retrying where that helps.

        Raises :class:`Paused` when the run must stop (budget, 429, repeated 5xx or
        timeouts), :class:`StravaReconnect` when the access is gone, :class:`NotFound`.
        """
        refreshed = False
        attempt = 0
        while True:
            if self.token is not None and self.token.expires_at - self.clock() < REFRESH_MARGIN_S:
                self.refresh()
            if not self.budget.allows():
                raise Paused(f"request budget reached ({self.budget.describe()})")
            self.budget.spend()
            try:
                return self.client.protocol.get(path, **params)
            except strava_exc.Fault as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status == 401 and not refreshed:
                    refreshed = True
                    self.refresh()
                    continue
                if status == 401:
                    raise StravaReconnect("Strava no longer accepts this access") from exc
                if status == 404:
                    raise NotFound(path) from exc
                if status == 429:
                    raise Paused(f"Strava's rate limit was reached ({_why(exc)})") from exc
                if status >= 500 and attempt < self.settings.max_retries:
                    attempt += 1
                    self.sleep(min(2.0**attempt, 30.0))
                    continue
                raise Paused(f"Strava failed: {_why(exc)}", failure=True) from exc
            except (requests.Timeout, requests.ConnectionError) as exc:
                if attempt < self.settings.max_retries:
                    attempt += 1
                    self.sleep(min(2.0**attempt, 30.0))
                    continue
                raise Paused(
                    f"Strava did not answer after {attempt + 1} tries ({type(exc).__name__})",
                    failure=True,
                ) from exc


@contextmanager
def _quiet_root_logging() -> Iterator[None]:
    """stravalib warns on the root logger when STRAVA_CLIENT_ID is not in the environment
    (we pass credentials ourselves); that would also install a stderr handler for the
    whole program. Neither may happen."""
    root = logging.getLogger()
    guard = logging.NullHandler() if not root.handlers else None
    if guard is not None:
        root.addHandler(guard)
    previous = root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)
        if guard is not None:
            root.removeHandler(guard)


def _why(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            body = response.json()
            message = body.get("message") if isinstance(body, dict) else None
        except ValueError:
            message = None
        return f"HTTP {response.status_code}" + (f" {message}" if message else "")
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
