"""Log levels for the command line: quiet by default, ``-v``/``-q`` to change it.

Unattended runs (cron, systemd) should say only what needs a person: a line per file that
failed, a summary, the findings. So the default level is NOTICE, between INFO and WARNING:

====== ============ ==========================================================
flags  level        what is logged
====== ============ ==========================================================
-qq    ERROR        failures only
-q     WARNING      failures and findings (not the warnings about a file's values)
(none) NOTICE       ... and one summary line per burst, service start and stop
-v     INFO         ... and every file imported
-vv    DEBUG        ... and files skipped as already imported or unchanged
====== ============ ==========================================================
"""

from __future__ import annotations

import logging
import sys

#: Summaries and service events: shown by default, hidden by ``-q``.
NOTICE = 25
logging.addLevelName(NOTICE, "NOTICE")

_LEVELS = (logging.ERROR, logging.WARNING, NOTICE, logging.INFO, logging.DEBUG)
_DEFAULT = _LEVELS.index(NOTICE)


def level_for(verbosity: int) -> int:
    """The logging level for ``-v`` count minus ``-q`` count."""
    return _LEVELS[max(0, min(len(_LEVELS) - 1, _DEFAULT + verbosity))]


#: ``extra=`` of a warning about a file's data (values dropped): hidden by ``-q`` like the
#: ``warning:`` lines of ``heavylegs import``, while findings and failures stay.
DATA_WARNING = {"data_warning": True}


class _QuietData(logging.Filter):
    """Drops data warnings below the default verbosity."""

    def __init__(self) -> None:
        super().__init__()
        self.verbosity = 0

    def filter(self, record: logging.LogRecord) -> bool:
        return self.verbosity >= 0 or not getattr(record, "data_warning", False)


_QUIET_DATA = _QuietData()


def configure(verbosity: int) -> None:
    """Send heavylegs' own log records to stderr at the level the flags ask for.

    Only the ``heavylegs`` logger tree is touched: libraries keep their own settings.
    """
    logger = logging.getLogger("heavylegs")
    logger.setLevel(level_for(verbosity))
    logger.propagate = False
    _QUIET_DATA.verbosity = verbosity
    if not any(getattr(h, "_heavylegs", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        handler._heavylegs = True  # type: ignore[attr-defined]
        handler.addFilter(_QUIET_DATA)  # a handler's filter sees the child loggers' records
        logger.addHandler(handler)
