"""Small pieces of English every message uses, so "1 sessions" cannot happen twice."""

from __future__ import annotations


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 rest day``, ``2 rest days``, ``0 rest days``; ``many`` for irregular nouns."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"


def counted(n: int, noun: str, many: str | None = None) -> str:
    """As :func:`plural`, with ``no rest day`` for none."""
    return f"no {noun}" if n == 0 else plural(n, noun, many)
