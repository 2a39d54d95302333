"""The environment variables heavylegs reads, each named once.

:mod:`heavylegs_sync.config` reads them (each beats the settings file) and the command
line names them in its options; both import the names from here, a module that imports
nothing, so ``heavylegs --version`` stays quick.
"""

from __future__ import annotations

ENV_CONFIG = "HEAVYLEGS_CONFIG"
ENV_DB = "HEAVYLEGS_DB"
ENV_ATHLETE = "HEAVYLEGS_ATHLETE"
ENV_STRAVA_URL = "HEAVYLEGS_STRAVA_API_URL"
ENV_STRAVA_API_BASE = "HEAVYLEGS_STRAVA_API_BASE"
ENV_STRAVA_OAUTH_BASE = "HEAVYLEGS_STRAVA_OAUTH_BASE"
ENV_STRAVA_TOKEN = "HEAVYLEGS_STRAVA_TOKEN"
#: Strava's own names, as stravalib reads them too.
ENV_STRAVA_CLIENT_ID = "STRAVA_CLIENT_ID"
ENV_STRAVA_CLIENT_SECRET = "STRAVA_CLIENT_SECRET"
