"""A thin wrapper around stravalib: our base URLs, our budget, our token file, our errors.

stravalib builds ``https://www.strava.com/api/v3/...`` and ``https://www.strava.com/oauth/...``
URLs; a transport adapter on its requests session sends them to the configured API base and
OAuth base instead (Strava's API is moving to a new host without the ``/api/v3`` prefix, while
OAuth stays), so the same code talks to Strava or to a Strava-compatible server on 127.0.0.1.

The access token travels only in the ``Authorization: Bearer`` header, and only to the API
base: stravalib 2.6 does the same, but older 2.x releases put it in the query string, so the
token is never handed to stravalib at all; the adapter adds the header itself. Raw JSON is read
through stravalib's protocol layer, because its models turn sport types they do not know into
``Workout``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from stravalib import Client
from stravalib import exc as strava_exc
from stravalib.util import limiter

from heavylegs_sync.config import StravaSettings
from heavylegs_sync.environment import ENV_STRAVA_CLIENT_ID, ENV_STRAVA_CLIENT_SECRET
from heavylegs_sync.errors import StravaError, StravaNotConnected, StravaReconnect
from heavylegs_sync.strava.budget import Budget
from heavylegs_sync.strava.tokens import Token, load_token, save_token
from heavylegs_sync.strava.transport import POOL_CLASSES, AnswerRefused, Deadline, read_bounded

STRAVA_ORIGIN = "https://www.strava.com"
_LIBRARY_API = STRAVA_ORIGIN + "/api/v3"  # where stravalib sends API calls
SCOPES = ["read", "activity:read_all", "profile:read_all"]
#: The longest wait (s) between two retries of a failed request; waits double up to it.
MAX_BACKOFF_S = 30.0
#: Refresh a little before expiry, so a token cannot lapse between check and use.
REFRESH_MARGIN_S = 300
#: Where a refused (403) or inactive API application is explained.
DOCS = "https://www.strava.com/settings/api"


class Paused(StravaError):
    """The sync must stop for now (budget, 429, an inactive application, repeated server
    failures, an unexpected answer): the cursor and queue are kept and the next run goes on."""

    def __init__(self, reason: str, *, failure: bool = False, shared: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.failure = failure  # True when something went wrong, not just the budget
        #: The application's budget or standing, not one athlete's access: a squad's sync
        #: (``sync --all``) stops for every athlete, not just this one.
        self.shared = shared


class Malformed(Paused):
    """Strava answered with a body that is not JSON."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, failure=True)


class Revoked(StravaReconnect):
    """Strava no longer accepts the saved tokens: the runner revoked access (or they are
    stale). Strava's terms ask for the data to be deleted then, so the message offers it."""

    def __init__(self, detail: str, athlete: str | None = None) -> None:
        who = f" --athlete {athlete}" if athlete else ""
        StravaError.__init__(
            self,
            f"Strava no longer accepts heavylegs' access ({detail}; revoked on strava.com?):"
            f" run 'heavylegs strava connect{who}' to allow it again, or"
            f" 'heavylegs strava disconnect{who} --purge' to delete the Strava data",
        )


class NotFound(Exception):
    """The API answered 404 for this resource."""


class _Route(HTTPAdapter):
    """Send stravalib's URLs to our bases, add the bearer header for the API, and bound
    every answer (:mod:`heavylegs_sync.strava.transport`): total time, size, JSON depth,
    no redirects. The last token endpoint answer is kept, for the athlete it names."""

    def __init__(
        self,
        api_base: str,
        oauth_base: str,
        timeout_s: float,
        token: Callable[[], str | None],
        max_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        super().__init__(max_retries=0)
        self.api_base = api_base
        self.oauth_base = oauth_base
        self.timeout_s = timeout_s
        self.token = token
        self.max_bytes = max_bytes
        self.token_answer: Any = None

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(POOL_CLASSES)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        url = request.url or ""
        if url.startswith(_LIBRARY_API + "/") or url == _LIBRARY_API:
            url = self.api_base + url[len(_LIBRARY_API) :]
        elif url.startswith(STRAVA_ORIGIN + "/"):
            url = self.oauth_base + url[len(STRAVA_ORIGIN) :]
        request.url = url
        token = self.token()
        to_api = url.startswith(self.api_base + "/") and not url.startswith(
            self.oauth_base + "/oauth/"
        )
        if token and to_api and "Authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {token}"
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_s
        what = f"{request.method} {_shown(url)}"
        deadline = Deadline(self.timeout_s)
        try:
            with deadline:
                response = super().send(request, **kwargs)
                if response.is_redirect:
                    response.close()
                    where = _shown(response.headers.get("Location", "?"))
                    raise AnswerRefused(
                        f"{what} answered {response.status_code} with a redirect to {where};"
                        " not followed (a request is never sent on to another address)"
                    )
                read_bounded(response, limit=self.max_bytes, what=what)
        except AnswerRefused:
            raise
        except requests.RequestException as exc:
            if deadline.expired:
                raise requests.Timeout(
                    f"{what}: no complete answer within {self.timeout_s:g} s"
                ) from exc
            raise
        if url.startswith(self.oauth_base + "/oauth/token"):
            try:
                self.token_answer = response.json()
            except ValueError:
                self.token_answer = None
        return response


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
        token_path: Path,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        budget: Budget | None = None,
        started: float | None = None,
        athlete: str | None = None,
    ) -> None:
        self.settings = settings
        self.token_path = token_path
        self.clock = clock
        self.sleep = sleep
        #: Shared by every athlete of one ``sync --all`` (one application, one budget).
        self.budget = budget or Budget(reserve=settings.reserve)
        #: The athlete whose tokens these are, in a store of several: named in messages.
        self.athlete = athlete
        self.requests = 0  # API requests made with these tokens this run
        self.api_base = settings.api_root
        self.oauth_base = settings.oauth_root
        self.token: Token | None = None
        self.session = requests.Session()
        adapter = _Route(
            self.api_base,
            self.oauth_base,
            settings.timeout_s,
            self._access_token,
            settings.max_answer_bytes,
        )
        self.route = adapter
        self.started = clock() if started is None else started
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        with _quiet_root_logging():
            self.client = Client(
                requests_session=self.session, rate_limiter=_BudgetLimiter(self.budget)
            )
        # stravalib refreshes expired tokens by itself when it finds client credentials in
        # the environment, but would not save the rotated refresh token: we refresh.
        self.client.protocol.client_id = None
        self.client.protocol.client_secret = None

    def _access_token(self) -> str | None:
        return None if self.token is None else self.token.access_token

    # -- OAuth ------------------------------------------------------------------------

    def credentials(self) -> tuple[int, str]:
        """The API application's client id and secret; StravaError when they are unset."""
        client_id, secret = self.settings.client_id, self.settings.client_secret
        if not client_id or not secret:
            raise StravaError(
                f"no Strava API application: set {ENV_STRAVA_CLIENT_ID} and"
                f" {ENV_STRAVA_CLIENT_SECRET}"
                " (or [strava] client_id and client_secret in the settings file)"
            )
        try:
            return int(client_id), secret
        except ValueError:
            raise StravaError(f"Strava client id must be a number, not {client_id!r}") from None

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """The page where the runner allows access; it redirects back with a code."""
        client_id, _ = self.credentials()
        url = str(
            self.client.authorization_url(
                client_id=client_id,
                redirect_uri=redirect_uri,
                scope=SCOPES,  # type: ignore[arg-type]
                state=state,
                approval_prompt="auto",
            )
        )
        if url.startswith(STRAVA_ORIGIN + "/"):
            url = self.oauth_base + url[len(STRAVA_ORIGIN) :]
        return url

    def exchange(self, code: str, check: Callable[[Token], None] | None = None) -> Token:
        """Trade an authorization code for tokens and save them, unless ``check`` (shown
        the new token before it is saved) raises."""
        client_id, secret = self.credentials()
        try:
            answer: Any = self.client.exchange_code_for_token(
                client_id=client_id, client_secret=secret, code=code, return_athlete=True
            )
        except strava_exc.Fault as exc:
            if _status(exc) == 403:
                raise StravaError(_refused(exc)) from exc
            raise StravaError(f"Strava refused the authorization code: {_why(exc)}") from exc
        except (ValueError, KeyError, TypeError) as exc:  # stravalib indexes what it gets
            raise StravaError(_unexpected_token_answer(exc)) from exc
        except AnswerRefused as exc:
            raise StravaError(f"Strava's token endpoint was not trusted: {exc}") from exc
        except requests.RequestException as exc:
            raise StravaError(f"cannot reach Strava at {self.oauth_base}: {exc}") from exc
        finally:
            self._forget_library_token()
        info, athlete = answer if isinstance(answer, tuple) else (answer, None)
        token = _token_from(info, athlete_id=getattr(athlete, "id", None), scope=",".join(SCOPES))
        if check is not None:
            check(token)
        save_token(self.token_path, token)
        self.token = token
        return token

    def login(self) -> Token:
        """Load the saved token, refreshing it first when it is about to expire."""
        try:
            self.token = load_token(self.token_path)
        except StravaNotConnected:
            raise StravaNotConnected(self.athlete) from None
        if self.token.expires_at - self.clock() < REFRESH_MARGIN_S:
            self.refresh()
        return self.token

    def load(self) -> Token:
        """Load the saved token as it is (no refresh): enough to revoke it."""
        self.token = load_token(self.token_path)
        return self.token

    def refresh(self) -> Token:
        """Get a new access token (and Strava's new refresh token) and save both at once."""
        assert self.token is not None
        client_id, secret = self.credentials()
        try:
            info: Any = self.client.refresh_access_token(
                client_id=client_id, client_secret=secret, refresh_token=self.token.refresh_token
            )
        except strava_exc.Fault as exc:
            status = _status(exc)
            if status == 403:
                raise Paused(_refused(exc), failure=True, shared=True) from exc
            if status in (400, 401) and _about_application(exc):
                raise StravaError(
                    f"Strava refused the API application's client id or secret ({_why(exc)});"
                    f" check {ENV_STRAVA_CLIENT_ID} and {ENV_STRAVA_CLIENT_SECRET}"
                ) from exc
            if status in (400, 401):
                raise Revoked(f"refreshing the token: {_why(exc)}", self.athlete) from exc
            raise Paused(f"Strava's token endpoint failed ({_why(exc)})", failure=True) from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise Paused(_unexpected_token_answer(exc), failure=True) from exc
        except AnswerRefused as exc:
            raise Paused(
                f"Strava's token endpoint was not trusted: {exc}; the saved token is unchanged",
                failure=True,
            ) from exc
        except requests.RequestException as exc:
            raise Paused(f"cannot reach Strava to refresh the token: {exc}", failure=True) from exc
        finally:
            self._forget_library_token()
        try:
            self._check_athlete(self.route.token_answer, self.token.athlete_id)
            token = _token_from(info, athlete_id=self.token.athlete_id, scope=self.token.scope)
        except StravaError as exc:
            raise Paused(str(exc), failure=True) from exc
        save_token(self.token_path, token)
        self.token = token
        return token

    def _within_run_budget(self) -> None:
        """Paused once this run has made its requests or used its time, whatever the
        rate-limit headers say: a server that always answers "0 used" cannot keep a run
        going for ever."""
        settings = self.settings
        if self.budget.spent >= settings.max_requests:
            raise Paused(
                f"this run's budget of {settings.max_requests} requests is spent"
                " (setting [strava] max_requests)",
                shared=True,
            )
        if self.clock() - self.started >= settings.max_run_minutes * 60:
            raise Paused(
                f"this run's time budget of {settings.max_run_minutes:g} minutes is spent"
                " (setting [strava] max_run_minutes)",
                shared=True,
            )

    def _check_athlete(self, answer: Any, connected: int | None) -> None:
        """StravaError when a token answer names an athlete other than the connected one."""
        athlete = answer.get("athlete") if isinstance(answer, Mapping) else None
        if athlete is None or connected is None:
            return
        named = athlete.get("id") if isinstance(athlete, Mapping) else None
        if named != connected or isinstance(named, bool):
            raise StravaError(
                f"Strava's token endpoint answered with a token for athlete {_clip(named)},"
                f" not the connected athlete {connected}; refused, the saved token is unchanged"
            )

    def _forget_library_token(self) -> None:
        """stravalib keeps what the token endpoint returned; it must not send it itself."""
        protocol = self.client.protocol
        protocol.access_token = None
        protocol.refresh_token = None
        protocol.token_expires = None

    def revoke(self) -> str:
        """Revoke this application's access on Strava; which endpoint did it.

        ``POST /oauth/revoke`` with HTTP Basic client credentials and the refresh token
        (revoking either token revokes both). Only when that endpoint does not exist (404)
        does it fall back to the retiring ``/oauth/deauthorize`` with the bearer token.
        """
        assert self.token is not None
        client_id, secret = self.credentials()
        try:
            answer = self.session.post(
                f"{self.oauth_base}/oauth/revoke",
                auth=(str(client_id), secret),
                data={"token": self.token.refresh_token, "token_type_hint": "refresh_token"},
            )
        except requests.RequestException as exc:
            raise StravaError(f"cannot reach Strava at {self.oauth_base}: {exc}") from exc
        if answer.ok:
            return "/oauth/revoke"
        if answer.status_code != 404:
            raise StravaError(_revoke_refused("/oauth/revoke", answer))
        return self._deauthorize()

    def _deauthorize(self) -> str:
        """The retiring endpoint takes the access token (in the header): refresh when needed."""
        assert self.token is not None
        stale = self.token.expires_at - self.clock() < REFRESH_MARGIN_S
        for attempt in range(2):
            if stale or attempt:
                try:
                    self.refresh()
                except Revoked:
                    return "nothing (the access was already revoked)"
            try:
                answer = self.session.post(
                    f"{self.oauth_base}/oauth/deauthorize",
                    headers={"Authorization": f"Bearer {self.token.access_token}"},
                )
            except requests.RequestException as exc:
                raise StravaError(f"cannot reach Strava at {self.oauth_base}: {exc}") from exc
            if answer.ok:
                return "/oauth/deauthorize (Strava answered 404 for /oauth/revoke)"
            if answer.status_code != 401:
                break
        raise StravaError(_revoke_refused("/oauth/deauthorize", answer))

    # -- the API ----------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        """GET an API path within the budget, refreshing and retrying where that helps.

        Raises :class:`Paused` when the run must stop (budget, 429, 403, repeated 5xx or
        timeouts, a body that is not JSON), :class:`Revoked` when the access is gone,
        :class:`NotFound` for a 404.
        """
        refreshed = False
        attempt = 0
        while True:
            if self.token is not None and self.token.expires_at - self.clock() < REFRESH_MARGIN_S:
                self.refresh()
            self._within_run_budget()
            if not self.budget.allows():
                raise Paused(f"request budget reached ({self.budget.describe()})", shared=True)
            self.budget.spend()
            self.requests += 1
            try:
                return self.client.protocol.get(path, **params)
            except strava_exc.Fault as exc:
                status = _status(exc) or 0
                if status == 401 and not refreshed:
                    refreshed = True
                    self.refresh()
                    continue
                if status == 401:
                    raise Revoked(f"GET {path}: {_why(exc)}", self.athlete) from exc
                if status == 403:
                    raise Paused(_refused(exc), failure=True, shared=True) from exc
                if status == 404:
                    raise NotFound(path) from exc
                if status == 429:
                    raise Paused(
                        f"Strava's rate limit was reached ({_why(exc)})", shared=True
                    ) from exc
                if status >= 500 and attempt < self.settings.max_retries:
                    attempt += 1
                    self.sleep(min(2.0**attempt, MAX_BACKOFF_S))
                    continue
                tries = f" after {attempt + 1} tries" if attempt else ""
                raise Paused(f"Strava failed GET {path}{tries}: {_why(exc)}", failure=True) from exc
            except (requests.Timeout, requests.ConnectionError) as exc:
                if attempt < self.settings.max_retries:
                    attempt += 1
                    self.sleep(min(2.0**attempt, MAX_BACKOFF_S))
                    continue
                raise Paused(
                    f"Strava did not answer after {attempt + 1} tries ({type(exc).__name__})",
                    failure=True,
                ) from exc
            except ValueError as exc:  # the body was not JSON (requests' JSONDecodeError)
                raise Malformed(f"Strava answered GET {path} with a body that is not JSON") from exc
            except AnswerRefused as exc:
                raise Malformed(f"Strava's answer was refused: {exc}") from exc
            except requests.RequestException as exc:
                raise Paused(f"GET {path} failed: {exc}", failure=True) from exc


def _token_from(info: Any, *, athlete_id: Any, scope: str | None) -> Token:
    """Our token from the token endpoint's answer; StravaError if it is not one."""
    if not isinstance(info, Mapping):
        raise StravaError(_unexpected_token_answer(None))
    access, refresh, expires = (
        info.get("access_token"),
        info.get("refresh_token"),
        info.get("expires_at"),
    )
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise StravaError(_unexpected_token_answer(None, "no access or refresh token"))
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise StravaError(_unexpected_token_answer(None, f"expires_at is {expires!r}"))
    return Token(
        access_token=access,
        refresh_token=refresh,
        expires_at=int(expires),
        athlete_id=athlete_id if isinstance(athlete_id, int) else None,
        scope=scope,
    )


def _clip(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _shown(url: str) -> str:
    """A URL without its query string (which may carry anything)."""
    return url.split("?", 1)[0]


def _unexpected_token_answer(exc: Exception | None, detail: str | None = None) -> str:
    if detail is None and exc is not None:
        detail = "not JSON" if isinstance(exc, requests.JSONDecodeError) else "not a token"
    return "Strava's token endpoint answered something unexpected" + (
        f" ({detail})" if detail else ""
    )


def _refused(exc: Exception) -> str:
    """The one line for a 403: an inactive application, or one without access."""
    inactive = _inactive(getattr(exc, "response", None))
    what = (
        "is inactive (its owner needs a Strava subscription)"
        if inactive
        else "is inactive or lacks access"
    )
    return f"Strava refused ({_why(exc)}): the Strava API application {what}; see {DOCS}"


def _revoke_refused(endpoint: str, answer: requests.Response) -> str:
    if answer.status_code == 403:
        what = "is inactive" if _inactive(answer) else "is inactive or lacks access"
        reason = f"HTTP 403: the Strava API application {what}; see {DOCS}"
    else:
        reason = _describe(answer)
    return (
        f"Strava did not revoke the access at {endpoint} ({reason}); the tokens are kept so you"
        " can try again, or remove heavylegs at https://www.strava.com/settings/apps"
    )


def _inactive(response: requests.Response | None) -> bool:
    """Whether a 403 says the application is inactive (Strava's documented error body)."""
    try:
        body = response.json() if response is not None else None
    except ValueError:
        return False
    errors = body.get("errors") if isinstance(body, dict) else None
    return isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("resource") == "Application" and e.get("code") == "Inactive"
        for e in errors
    )


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return None if response is None else int(response.status_code)


def _about_application(exc: Exception) -> bool:
    """Whether Strava's error names the application (a wrong client id or secret)."""
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else None
    except ValueError:
        return False
    errors = body.get("errors") if isinstance(body, dict) else None
    return isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("resource") == "Application" for e in errors
    )


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


def _describe(response: requests.Response) -> str:
    try:
        body = response.json()
        message = body.get("message") if isinstance(body, dict) else None
    except ValueError:
        message = None
    return f"HTTP {response.status_code}" + (f" {message}" if message else "")


def _why(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None:
        return _describe(response)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
