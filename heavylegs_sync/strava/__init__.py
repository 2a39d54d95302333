"""Strava: connect an account (OAuth), and sync it incrementally within the rate limits.

Errors of this boundary derive from :class:`StravaError`; the CLI turns them into one line.
"""

from heavylegs_sync.errors import StravaError, StravaReconnect

__all__ = ["StravaError", "StravaReconnect"]
