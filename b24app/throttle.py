"""Client-side leaky bucket per portal (reference §7.3): burst 50, drain 2 req/s (Enterprise 250/5).

One bucket per member_id per process, shared by every PortalClient of that process, so we stay
under the portal's own bucket instead of learning about it from 503s. A 503 means the portal's
bucket is full (other apps on the same portal count too): ``penalize`` treats ours as full.
"""
from __future__ import annotations

import threading
import time


class LeakyBucket:
    def __init__(self, burst: int = 50, drain: float = 2.0, clock=time.monotonic, sleep=time.sleep):
        self.burst, self.drain = burst, float(drain)
        self._clock, self._sleep = clock, sleep
        self._level, self._at = 0.0, clock()
        self._lock = threading.Lock()

    def _leak(self) -> None:
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._at) * self.drain)
        self._at = now

    def acquire(self, max_wait: float | None = None) -> float | None:
        """Take one request slot, sleeping as long as needed; returns seconds waited. With ``max_wait``:
        None (and no slot taken) when the slot would come later than that — for callers that must not
        queue up behind the portal's budget (frame checks answer "busy" instead)."""
        waited = 0.0
        while True:
            with self._lock:
                self._leak()
                if self._level + 1 <= self.burst:
                    self._level += 1
                    return waited
                wait = (self._level + 1 - self.burst) / self.drain
            if max_wait is not None and waited + wait > max_wait:
                return None
            self._sleep(wait)
            waited += wait

    def penalize(self) -> None:
        with self._lock:
            self._leak()
            self._level = float(self.burst)

    @property
    def level(self) -> float:
        with self._lock:
            self._leak()
            return self._level


class Throttle:
    """Registry of buckets by member_id."""

    _shared: "Throttle | None" = None
    _shared_lock = threading.Lock()

    def __init__(self, burst: int = 50, drain: float = 2.0):
        self.burst, self.drain = burst, drain
        self._buckets: dict[str, LeakyBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, member_id: str) -> LeakyBucket:
        with self._lock:
            b = self._buckets.get(member_id)
            if b is None:
                b = self._buckets[member_id] = LeakyBucket(self.burst, self.drain)
            return b

    def acquire(self, member_id: str) -> float:
        return self.bucket(member_id).acquire()

    def penalize(self, member_id: str) -> None:
        self.bucket(member_id).penalize()

    @classmethod
    def process_default(cls, burst: int = 50, drain: float = 2.0) -> "Throttle":
        """The process-wide registry (the first caller's limits win)."""
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls(burst, drain)
            return cls._shared
