"""Headless Chromium for the HTML report tests: load a page with the network cut off,
record every request it tries, dump the DOM, take a screenshot.

The network is cut off by a proxy on 127.0.0.1 that answers nothing: every request the
browser tries reaches it, is recorded, and fails. Chromium itself asks a few of its own
hosts (time, component and account services) even with background networking off; those
are told apart from the page's requests by :data:`CHROMIUM_OWN_HOSTS`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Hosts Chromium contacts on its own, whatever the page holds.
CHROMIUM_OWN_HOSTS = re.compile(r"(^|\.)(google\.com|gvt1\.com|googleapis\.com|gstatic\.com)$")


def chromium() -> str:
    """The Chromium binary; skips the test (or fails it, when HEAVYLEGS_REQUIRE_BROWSER is
    set, as on CI) when none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    reason = "no chromium installed (Debian: apt-get install chromium)"
    if os.environ.get("HEAVYLEGS_REQUIRE_BROWSER"):
        pytest.fail(f"{reason}, but HEAVYLEGS_REQUIRE_BROWSER is set")
    pytest.skip(reason)


@contextmanager
def dead_proxy() -> Iterator[tuple[int, list[str]]]:
    """A proxy that records the first line of every request and answers none."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(32)
    seen: list[str] = []

    def serve() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with client:
                client.settimeout(2)
                try:
                    first = client.recv(512)
                except OSError as exc:  # connected, said nothing: still an attempt
                    seen.append(f"connection without a request ({exc})")
                    continue
                # A socket closed without a byte is Chromium warming its proxy connection
                # pool: nothing can be fetched through it, so it is no request of the page.
                if first:
                    seen.append(first.decode("latin-1").split("\r\n", 1)[0])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], seen
    finally:
        # Closing alone does not wake an accept() waiting in the thread: shutting the
        # socket down does, so the thread ends (none is left running after the test).
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)
        server.close()
        thread.join(5)
        assert not thread.is_alive(), "the proxy's thread did not end"


@dataclass
class Visit:
    dom: str
    page_requests: list[str]  # requests the page tried (Chromium's own left out)


def _host(request_line: str) -> str:
    target = request_line.split(" ")[1] if " " in request_line else request_line
    target = re.sub(r"^[a-z]+://", "", target)
    return target.split("/", 1)[0].split(":", 1)[0]


def visit(page: Path, profile: Path, *, screenshot: Path | None = None, width: int = 1280,
          height: int = 2400) -> Visit:  # fmt: skip
    """Load ``page`` offline; its DOM after load, and (optionally) a screenshot."""
    binary = chromium()
    with dead_proxy() as (port, seen):
        common = [
            binary, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
            f"--proxy-server=http://127.0.0.1:{port}", "--proxy-bypass-list=<-loopback>",
            "--virtual-time-budget=5000", f"--window-size={width},{height}",
        ]  # fmt: skip
        url = page.resolve().as_uri()
        if screenshot is not None:  # one launch does both: the DOM and the picture
            common.append(f"--screenshot={screenshot}")
        dom = subprocess.run(
            [*common, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
        ).stdout
        if screenshot is not None and not screenshot.is_file():
            raise AssertionError(f"chromium wrote no screenshot to {screenshot}")
    page_requests = [r for r in seen if not CHROMIUM_OWN_HOSTS.search(_host(r))]
    return Visit(dom, page_requests)
