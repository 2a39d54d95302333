"""What every answer from a Strava server passes before anything parses it.

A server we talk to may be broken or hostile, so each request is bounded: a total time
(``requests``' timeout is per socket read, so a server sending one byte every few seconds
would never time out), a size, a JSON nesting depth (Python's parser, and stravalib's
error check after it, recurse once per level), and no redirects (``requests`` re-sends a
POST body, the client secret and refresh token, to wherever a 307 points).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from types import TracebackType
from typing import Any

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: The deepest JSON nesting accepted; Strava's answers nest four or five levels.
MAX_JSON_DEPTH = 64

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class AnswerRefused(requests.RequestException):
    """An answer that is not read further: too slow, too large, too deep, or a redirect."""


def json_depth(body: bytes) -> int:
    """The deepest nesting of brackets outside strings (a bound, not a parse)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class Deadline:
    """Cuts the sockets of one request once its total time is up (from a timer thread)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        """Cut ``sock`` when the time is up (at once if it already is)."""
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _cut(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        _current.deadline = None


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv() at once


_current = threading.local()


def _watch(connection: HTTPConnection) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    sock = getattr(connection, "sock", None)
    if deadline is not None and sock is not None:
        deadline.watch(sock)


class _WatchedHTTP(HTTPConnection):
    def getresponse(self) -> Any:
        _watch(self)
        return super().getresponse()


class _WatchedHTTPS(HTTPSConnection):
    def getresponse(self) -> Any:
        _watch(self)
        return super().getresponse()


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTP


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPS


POOL_CLASSES: dict[str, type[HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


def read_bounded(response: requests.Response, *, limit: int, what: str) -> None:
    """Read the whole body into ``response`` (as ``requests`` does), refusing past ``limit``
    bytes or past ``MAX_JSON_DEPTH``."""
    parts: list[bytes] = []
    total = 0
    for part in response.iter_content(64 * 1024):
        total += len(part)
        if total > limit:
            response.close()
            raise AnswerRefused(f"{what}: the answer is larger than {limit // (1024 * 1024)} MB")
        parts.append(part)
    body = b"".join(parts)
    response._content = body
    response._content_consumed = True
    if body[:1] in (b"[", b"{") or body.lstrip()[:1] in (b"[", b"{"):
        depth = json_depth(body)
        if depth > MAX_JSON_DEPTH:
            raise AnswerRefused(
                f"{what}: the answer nests {depth} levels deep (more than {MAX_JSON_DEPTH})"
            )
