"""Client-side leaky bucket per portal (reference §7.3): burst 50, drain 2 req/s (Enterprise 250/5).

The portal counts every request of ours, whichever process sends it, so the bucket is the deployment's,
not the process's: ``shared_throttle`` picks Redis (``B24APP_REDIS_URL``), else a row per portal in
PostgreSQL, and keeps the in-process bucket only for a SQLite install, which is one process. A 503 means
the portal's bucket is full (other apps on the same portal count too): ``penalize`` treats ours as full,
for every process.

The shared buckets are GCRA — the leaky bucket written as one number per portal, the "theoretical arrival
time" (tat): a request may go at ``tat - (burst - 1) / drain``, and each one moves tat on by ``1 / drain``.
A caller reserves its moment in one short step (a locked row, a Lua script) and sleeps outside it.
"""
from __future__ import annotations

import threading
import time

import redis
import sqlalchemy as sa

from .store.sql import _insert
from .store.tables import rate_buckets


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

    def __init__(self, burst: int = 50, drain: float = 2.0, clock=time.monotonic, sleep=time.sleep):
        """``clock``/``sleep``: the buckets' time (a test runs them on the sandbox portal's clock)."""
        self.burst, self.drain = burst, drain
        self._clock, self._sleep = clock, sleep
        self._buckets: dict[str, LeakyBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, member_id: str) -> LeakyBucket:
        with self._lock:
            b = self._buckets.get(member_id)
            if b is None:
                b = self._buckets[member_id] = LeakyBucket(self.burst, self.drain, self._clock, self._sleep)
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


def _gcra(tat: float, now: float, burst: int, drain: float) -> tuple[float, float]:
    """(the moment this request may go, the bucket's tat after it)."""
    step = 1.0 / drain
    slot = max(now, tat - (burst - 1) * step)
    return slot, max(tat, now) + step


class _SharedBucket:
    """The LeakyBucket interface over a shared store: ``_reserve(now, max_at)`` takes a slot no later than
    ``max_at`` (or none) and returns its moment; ``_fill(now)`` marks the bucket full."""

    def __init__(self, name: str, burst: int, drain: float, clock=time.time, sleep=time.sleep):
        self.name, self.burst, self.drain = name, int(burst), float(drain)
        self._clock, self._sleep = clock, sleep

    def acquire(self, max_wait: float | None = None) -> float | None:
        now = self._clock()
        slot = self._reserve(now, None if max_wait is None else now + max_wait)
        if slot is None:
            return None
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def penalize(self) -> None:
        self._fill(self._clock())

    @property
    def level(self) -> float:
        """How full the bucket is now, in requests (as LeakyBucket.level)."""
        return max(0.0, (self._tat() - self._clock()) * self.drain)


class SqlBucket(_SharedBucket):
    """One row of ``rate_buckets``, locked for the reservation (``FOR UPDATE`` on PostgreSQL)."""

    def __init__(self, engine: sa.Engine, name: str, burst: int, drain: float, clock=time.time, sleep=time.sleep):
        super().__init__(name, burst, drain, clock, sleep)
        self.engine = engine

    def _row(self, c) -> float:
        q = sa.select(rate_buckets.c.tat).where(rate_buckets.c.name == self.name)
        if self.engine.dialect.name == "postgresql":
            q = q.with_for_update()
        tat = c.execute(q).scalar()
        if tat is None:
            c.execute(_insert(self.engine, rate_buckets).values(name=self.name, tat=0.0)
                      .on_conflict_do_nothing(index_elements=[rate_buckets.c.name]))
            tat = c.execute(q).scalar()
        return float(tat)

    def _reserve(self, now: float, max_at: float | None) -> float | None:
        with self.engine.begin() as c:
            slot, tat = _gcra(self._row(c), now, self.burst, self.drain)
            if max_at is not None and slot > max_at:
                return None
            c.execute(rate_buckets.update().where(rate_buckets.c.name == self.name).values(tat=tat))
        return slot

    def _fill(self, now: float) -> None:
        with self.engine.begin() as c:
            self._row(c)
            c.execute(rate_buckets.update().where(rate_buckets.c.name == self.name,
                                                  rate_buckets.c.tat < now + self.burst / self.drain)
                      .values(tat=now + self.burst / self.drain))

    def _tat(self) -> float:
        with self.engine.connect() as c:
            return float(c.execute(sa.select(rate_buckets.c.tat).where(rate_buckets.c.name == self.name))
                         .scalar() or 0.0)


# KEYS[1] the bucket; ARGV: now, burst, step, max_at (-1: no limit), fill (1: penalize). Redis runs a script
# atomically, so the read-modify-write of tat is one step for every process; the key expires when drained.
_REDIS_GCRA = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now, burst, step = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local max_at, fill = tonumber(ARGV[4]), tonumber(ARGV[5])
if fill == 1 then
  local full = now + burst * step
  if tat < full then tat = full end
  redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
  return tostring(tat)
end
local slot = tat - (burst - 1) * step
if slot < now then slot = now end
if max_at >= 0 and slot > max_at then return false end
if tat < now then tat = now end
tat = tat + step
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
return tostring(slot)
"""


class RedisBucket(_SharedBucket):
    def __init__(self, client, script, name: str, burst: int, drain: float, clock=time.time, sleep=time.sleep):
        super().__init__(name, burst, drain, clock, sleep)
        self.client, self.script, self.key = client, script, f"b24app:bucket:{name}"

    def _run(self, now: float, max_at: float | None, fill: int):
        return self.script(keys=[self.key], args=[repr(now), self.burst, repr(1.0 / self.drain),
                                                  repr(-1.0 if max_at is None else max_at), fill])

    def _reserve(self, now: float, max_at: float | None) -> float | None:
        got = self._run(now, max_at, 0)
        return None if got is None else float(got)

    def _fill(self, now: float) -> None:
        self._run(now, None, 1)

    def _tat(self) -> float:
        return float(self.client.get(self.key) or 0.0)


class SqlThrottle(Throttle):
    """Buckets by member_id in the deployment's PostgreSQL (a row each)."""

    def __init__(self, engine: sa.Engine, burst: int = 50, drain: float = 2.0, clock=time.time, sleep=time.sleep):
        super().__init__(burst, drain)
        self.engine, self._clock, self._sleep = engine, clock, sleep

    def bucket(self, member_id: str) -> SqlBucket:
        return SqlBucket(self.engine, member_id, self.burst, self.drain, self._clock, self._sleep)


class RedisThrottle(Throttle):
    """Buckets by member_id in Redis (one key each, a Lua script per reservation)."""

    def __init__(self, url: str, burst: int = 50, drain: float = 2.0, clock=time.time, sleep=time.sleep):
        super().__init__(burst, drain)
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.script = self.client.register_script(_REDIS_GCRA)
        self._clock, self._sleep = clock, sleep

    def bucket(self, member_id: str) -> RedisBucket:
        return RedisBucket(self.client, self.script, member_id, self.burst, self.drain, self._clock, self._sleep)


# Requests of the portal's burst the shared buckets leave unused. Several processes send the requests they
# were given slots for, and one that wakes late lands beside the next one: two slots of margin absorb that
# jitter, so the portal's own bucket never sees us over its limit (bench/fair_workers.py counts its 503s).
SHARED_HEADROOM = 2


def shared_throttle(settings, engine: sa.Engine | None, burst: int = 50, drain: float = 2.0) -> Throttle:
    """The deployment's bucket store: Redis if named, PostgreSQL if that is the database, else this
    process's own (SQLite: one process)."""
    url = str(getattr(settings, "redis_url", "") or "").strip()
    shared_burst = max(1, burst - SHARED_HEADROOM)
    if url:
        return RedisThrottle(url, shared_burst, drain)
    if engine is not None and engine.dialect.name == "postgresql":
        return SqlThrottle(engine, shared_burst, drain)
    return Throttle.process_default(burst, drain)
