"""Clocks for the sandbox: token expiry, leaky bucket and operating-time buckets all read one clock,
so a test can jump an hour ahead (``FakeClock.advance(3601)``) instead of sleeping."""
from __future__ import annotations

import threading
import time


class SystemClock:
    """Wall-clock time; ``advance`` shifts it by an offset so the control API works on a live sandbox."""

    def __init__(self):
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += float(seconds)


class FakeClock:
    """Time that moves only when told to (``advance``); thread-safe because the server runs threads."""

    def __init__(self, start: float | None = None):
        self._now = float(start if start is not None else 1_767_225_600)  # 2026-01-01T00:00:00Z
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += float(seconds)
