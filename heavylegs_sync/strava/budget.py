"""The request budget: Strava's read limits as its response headers state them.

Pure bookkeeping: headers in, a yes/no for the next request out. A nightly job stops when
the budget is near instead of sleeping for hours, and the next run resumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: Strava's default read limits (per 15 minutes, per day) until headers say otherwise.
DEFAULT_LIMITS = (100, 1000)


@dataclass
class Budget:
    """Usage against the 15-minute and daily read limits, from the latest response."""

    reserve: int = 3
    short_limit: int = DEFAULT_LIMITS[0]
    daily_limit: int = DEFAULT_LIMITS[1]
    short_used: int = 0
    daily_used: int = 0
    known: bool = False  # whether any response has told us the usage yet
    spent: int = 0  # requests this run

    def update(self, headers: Mapping[str, str]) -> None:
        """Read ``X-ReadRateLimit-*`` (or the overall ``X-RateLimit-*``) headers."""
        lowered = {k.lower(): v for k, v in headers.items()}
        for prefix in ("x-readratelimit", "x-ratelimit"):
            limit = _pair(lowered.get(f"{prefix}-limit"))
            usage = _pair(lowered.get(f"{prefix}-usage"))
            if limit and usage:
                self.short_limit, self.daily_limit = limit
                self.short_used, self.daily_used = usage
                self.known = True
                return

    def allows(self, requests: int = 1) -> bool:
        """Whether ``requests`` more can be made while keeping the reserve free."""
        return (
            self.short_used + requests + self.reserve <= self.short_limit
            and self.daily_used + requests + self.reserve <= self.daily_limit
        )

    def spend(self) -> None:
        """Count a request before the response tells the new usage."""
        self.spent += 1
        self.short_used += 1
        self.daily_used += 1

    def describe(self) -> str:
        """``37/100 in 15 min, 412/1000 today``."""
        return (
            f"{self.short_used}/{self.short_limit} in 15 min, "
            f"{self.daily_used}/{self.daily_limit} today"
        )


def _pair(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 2:
        return None
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:
        return None
