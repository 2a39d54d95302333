"""Several ``heavylegs`` commands in one new process: ``python -m tests.cli_batch OUT``.

A machine's time zone comes from the process's ``TZ`` at start (tzlocal reads it once and
caches it), so a test of "this machine's zone" needs a real process per zone, but not one
per command: a new Python costs about half a second. This process runs each command of
the JSON list on its stdin (each ``{"args": [...], "env": {...}}``, the command's
arguments and its environment additions) through the real Click command, as
tests/conftest.py's ``heavylegs_in_process`` does, and writes to the file ``OUT`` (never
to its own stdout, which a command's worker processes share) the zone this machine was
found in and one ``{"returncode", "stdout", "stderr"}`` per command, in order, as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run the commands read from stdin; their results go to ``argv[0]``."""
    from heavylegs_sync.config import local_zone
    from tests.conftest import heavylegs_in_process

    (out,) = argv
    commands = json.loads(sys.stdin.read())
    results = []
    for command in commands:
        done = heavylegs_in_process(*command["args"], env=command["env"])
        results.append(
            {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
        )
    Path(out).write_text(json.dumps({"machine": local_zone().key, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
