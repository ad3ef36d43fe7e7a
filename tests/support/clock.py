"""A clock the test moves by hand: pass it where the code takes a `clock` callable."""

from __future__ import annotations

from typing import Generic, TypeVar

Time = TypeVar("Time")


class Clock(Generic[Time]):
    """Return `now` when called; the test sets or advances `now` itself."""

    def __init__(self, now: Time) -> None:
        self.now = now

    def __call__(self) -> Time:
        return self.now
