"""A short message when a new training cause of heavy legs appears (``watch``, ``strava sync``).

The message is the ``today`` answer for the day (its verdict and fix, worded by the same
catalogue), restricted to the causes that are new since the last message to that address.
It goes out through Apprise, so any address Apprise knows works: ``ntfy://topic``,
``mailto://...``, ``tgram://...``, ``matrix://...``, ``slack://...``, ``json://host/path``.

What each address was last told is kept in the store's sync state, keyed by a hash of the
address (never the address itself: it often holds a token). A cause still present is not
sent again; one that goes away and comes back is new again. A failed delivery is reported
and tried again at the next check; it never stops the import or the sync that asked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from heavylegs_sync.analysis.today import Cause, Today
from heavylegs_sync.report.today import cause_fix, cause_message

if TYPE_CHECKING:
    from heavylegs_sync.config import Settings
    from heavylegs_sync.store import Store

#: Store state key prefix; the rest is a hash of the address.
STATE_PREFIX = "notify.sent:"
#: How many sent message bodies are remembered per address (never the same one twice).
REMEMBERED = 200

#: A host name with a dot (or localhost, or an IPv6 address) and an optional port: shown.
#: Anything else where a host would be (an ntfy topic, a bot token) is a secret.
_HOST = re.compile(r"^(localhost|[\w-]+(\.[\w-]+)+|\[[0-9a-fA-F:]+\])(:\d+)?$")

#: Sends one message: (address, title, body) -> None when delivered, else why not.
Sender = Callable[[str, str, str], "str | None"]


@dataclass(frozen=True)
class Message:
    """One message: the causes it announces and its words."""

    keys: tuple[str, ...]
    title: str
    body: str


@dataclass
class Delivery:
    """What became of the message to one address."""

    address: str  # masked: safe to print
    outcome: str  # "sent", "failed", "nothing new", "already sent"
    causes: tuple[str, ...] = ()
    reason: str | None = None


@dataclass
class NotifyResult:
    """What one check did, address by address (so a test and the log can see which path ran)."""

    day: date
    present: tuple[str, ...] = ()  # the causes present on the day
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def failed(self) -> list[Delivery]:
        """The deliveries that did not go through."""
        return [d for d in self.deliveries if d.outcome == "failed"]

    def warnings(self) -> list[str]:
        """One line per failed delivery."""
        return [
            f"notification to {d.address} not delivered ({d.reason}); tried again next time"
            for d in self.failed
        ]


def cause_key(cause: Cause) -> str:
    """What makes a cause "the same" from one check to the next: its number."""
    return f"cause {cause.cause}"


def compose(answer: Today, keys: Sequence[str], athlete: str | None = None) -> Message:
    """The message announcing the causes named by ``keys``, in the words of ``today``;
    ``athlete`` named first (a coach's address hears of the whole squad)."""
    causes = [c for c in answer.causes if cause_key(c) in keys]
    titles = ", ".join(f"cause {c.cause}: {c.title}" for c in causes)
    who = "" if athlete is None else f"{athlete}: "
    title = f"{who}Heavy legs on {answer.day:%a %d %b}: {titles}"
    parts = [f"{cause_message(c, answer)} What to do: {cause_fix(c)}" for c in causes]
    if len(answer.causes) > len(causes):
        command = "heavylegs today" if athlete is None else f"heavylegs --athlete {athlete} today"
        parts.append(f"Run '{command}' for every cause present.")
    return Message(tuple(cause_key(c) for c in causes), title, "\n\n".join(parts))


def mask(url: str) -> str:
    """An address as it may be printed: the service and its host, nothing secret (a
    password, a token, an ntfy topic). ``json://user:pw@host:8080/hook`` becomes
    ``json://…@host:8080/…``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "…"
    head, slash, tail = rest.split("?", 1)[0].partition("/")
    host = head.rpartition("@")[2]
    shown = ("…@" if "@" in head else "") + host if _HOST.match(host) else "…"
    return f"{scheme}://{shown}" + ("/…" if slash and tail else "")


def check(
    answer: Today,
    urls: Sequence[str],
    state: dict[str, str | None],
    send: Sender,
    athlete: str | None = None,
) -> tuple[NotifyResult, dict[str, str]]:
    """Decide and send: pure but for ``send``. ``state`` maps each state key to its saved
    value (None: never told); returns the result and the state values to save.
    ``athlete``: whose causes they are, named in the message."""
    present = tuple(cause_key(c) for c in answer.causes)
    result = NotifyResult(answer.day, present)
    updates: dict[str, str] = {}
    for url in dict.fromkeys(urls):
        key = state_key(url)
        told = _load(state.get(key))
        new = [k for k in present if k not in told["active"]]
        shown = mask(url)
        if not new:
            result.deliveries.append(Delivery(shown, "nothing new"))
            if told["active"] != list(present):  # a cause went away: it may come back as new
                updates[key] = _dump(list(present), told["sent"])
            continue
        message = compose(answer, new, athlete)
        digest = hashlib.sha256(f"{message.title}\n{message.body}".encode()).hexdigest()[:16]
        if digest in told["sent"]:
            result.deliveries.append(Delivery(shown, "already sent", message.keys))
            updates[key] = _dump(list(present), told["sent"])
            continue
        reason = send(url, message.title, message.body)
        if reason is not None:
            result.deliveries.append(Delivery(shown, "failed", message.keys, reason))
            continue  # not marked as told: the next check tries again
        result.deliveries.append(Delivery(shown, "sent", message.keys))
        updates[key] = _dump(list(present), [*told["sent"], digest][-REMEMBERED:])
    return result, updates


def notify_store(
    store: Store,
    settings: Settings,
    urls: Sequence[str],
    day: date,
    send: Sender | None = None,
    *,
    athlete: str | None = None,
) -> NotifyResult:
    """Tell each address the causes of ``day`` it has not been told yet (see :func:`check`);
    ``send`` defaults to Apprise. The store must be open for writing (it keeps what was told).
    ``athlete``: named in the message (a squad's watcher)."""
    from heavylegs_sync.diagnosis import today_store

    answer = today_store(store, settings, day)
    state = {state_key(url): store.get_state(state_key(url)) for url in urls}
    result, updates = check(answer, urls, state, send or apprise_send, athlete)
    for key, value in updates.items():
        store.set_state(key, value)
    return result


def addresses(settings: Settings, extra: Sequence[str]) -> tuple[str, ...]:
    """The ``[notify] urls`` and the ``--notify`` ones, each once."""
    return tuple(dict.fromkeys([*settings.notify.urls, *extra]))


def state_key(url: str) -> str:
    """The sync-state key of an address (a hash: the address may hold a secret)."""
    return STATE_PREFIX + hashlib.sha256(url.encode()).hexdigest()[:16]


def _load(value: str | None) -> dict[str, list[str]]:
    try:
        data = json.loads(value) if value else {}
        active = [str(k) for k in data.get("active", [])]
        sent = [str(k) for k in data.get("sent", [])]
    except (ValueError, AttributeError, TypeError):
        active, sent = [], []  # unreadable state: tell again rather than never
    return {"active": active, "sent": sent}


def _dump(active: list[str], sent: list[str]) -> str:
    return json.dumps({"active": active, "sent": sent})


def apprise_send(url: str, title: str, body: str) -> str | None:
    """Deliver one message through Apprise; None when delivered, else why not (masked)."""
    import apprise

    captured = _Captured()
    logger = logging.getLogger("apprise")
    logger.addHandler(captured)
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # its own lines would reach stderr unmasked
    try:
        sender = apprise.Apprise()
        if not sender.add(url):
            return "not an address Apprise knows"
        if sender.notify(title=title, body=body):
            return None
        return captured.reason(url) or "the service did not accept it"
    finally:
        logger.removeHandler(captured)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


class _Captured(logging.Handler):
    """Apprise's log lines of one delivery, to say why it failed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def reason(self, url: str) -> str | None:
        if not self.lines:
            return None
        text = self.lines[0].splitlines()[0]
        for secret in _secrets(url):
            text = text.replace(secret, "…")
        return text[:160]


def _secrets(url: str) -> list[str]:
    """The parts of an address that must not be printed (user, password, path, query)."""
    rest = url.partition("://")[2]
    parts = re.split(r"[:@/?&=]", rest)
    return sorted((p for p in parts if len(p) >= 4), key=len, reverse=True)
