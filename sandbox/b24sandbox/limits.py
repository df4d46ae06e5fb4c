"""The two REST limits of a cloud portal (reference §7.3-7.4), both on the injectable clock.

Leaky bucket: per portal, +1 per HTTP request (a batch is one), drains ``drain`` per second; a request
that would overflow ``burst`` is refused with 503 QUERY_LIMIT_EXCEEDED before anything runs.
Operating time: per (app or webhook) × method, execution seconds summed in 10 one-minute buckets;
over the limit → 429 OPERATION_TIME_LIMIT for that method only.
"""
from __future__ import annotations

import threading
from collections import defaultdict

BUCKET_SIZE = 60
BUCKET_COUNT = 10


class Limits:
    def __init__(self, portal):
        self.portal = portal
        self._level = 0.0
        self._at: float | None = None
        self._lock = threading.Lock()
        # key -> list of [bucket_start, seconds]
        self._operating: dict[tuple[str, str], list[list[float]]] = defaultdict(list)

    # --- leaky bucket -------------------------------------------------------------------------------
    def _drain(self, now: float) -> None:
        if self._at is not None:
            self._level = max(0.0, self._level - (now - self._at) * self.portal.settings.drain)
        self._at = now

    def take_request(self) -> bool:
        """Count one request; False = bucket full (the caller answers 503 and runs nothing)."""
        s = self.portal.settings
        if not s.rate_limit:
            return True
        with self._lock:
            self._drain(self.portal.clock.now())
            if self._level + 1 > s.burst:
                return False
            self._level += 1
            return True

    @property
    def bucket_level(self) -> float:
        with self._lock:
            self._drain(self.portal.clock.now())
            return self._level

    def reset(self) -> None:
        with self._lock:
            self._level, self._at = 0.0, None
            self._operating.clear()

    # --- operating time -----------------------------------------------------------------------------
    def _live(self, key, now: float) -> list[list[float]]:
        buckets = self._operating[key]
        buckets[:] = [b for b in buckets if b[0] + BUCKET_SIZE * BUCKET_COUNT > now]
        return buckets

    def operating(self, key: tuple[str, str]) -> tuple[float, int | None]:
        """(seconds used, reset_at) for one app×method; reset_at = when the oldest bucket drops out."""
        now = self.portal.clock.now()
        with self._lock:
            buckets = self._live(key, now)
            if not buckets:
                return 0.0, None
            return sum(b[1] for b in buckets), int(buckets[0][0] + BUCKET_SIZE * BUCKET_COUNT)

    def blocked(self, key: tuple[str, str]) -> bool:
        used, _ = self.operating(key)
        return used > self.portal.settings.operating_limit

    def spend(self, key: tuple[str, str], seconds: float) -> None:
        now = self.portal.clock.now()
        with self._lock:
            buckets = self._live(key, now)
            if buckets and now < buckets[-1][0] + BUCKET_SIZE:
                buckets[-1][1] += seconds
            else:
                buckets.append([now, seconds])
