"""The geocoder's 1 request/s holds for the whole deployment: the limiter is a row in our database, so
separate engines (threads) and separate processes share it, on SQLite and on PostgreSQL. Spacing is read
from the times each caller was let through (the limiter's own clock), never from how long a test took."""
from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from b24app.store import create_engine, migrate
from maps.geocache_sql import SqlRateLimiter

EPS = 1e-6


def _gaps(times):
    times = sorted(times)
    return [b - a for a, b in zip(times, times[1:])]


def _assert_spaced(through):
    """(slot, passed) per call: slots ≥ 1 s apart, and nobody went through before its slot."""
    assert len(through) == 4
    assert all(g >= 1.0 - EPS for g in _gaps([s for s, _ in through])), through
    assert all(passed >= slot for slot, passed in through), through


@pytest.fixture
def migrated(db_url):
    engine = create_engine(db_url)
    migrate(engine)
    engine.dispose()
    return db_url


def test_slots_are_reserved_one_interval_apart_with_an_injected_clock(sqlite_url):
    engine = create_engine(sqlite_url)
    migrate(engine)
    now = [1000.0]
    slept = []
    lim = SqlRateLimiter(engine, "test", 1.0, margin=0.0, clock=lambda: now[0], sleep=lambda s: slept.append(s))
    assert [lim.reserve() for _ in range(3)] == [1000.0, 1001.0, 1002.0]   # three callers at the same instant
    assert lim.wait() == 1003.0 and slept == [3.0]                          # the fourth sleeps until its slot
    now[0] = 1010.0                                                           # long quiet: no waiting
    assert lim.wait() == 1010.0 and slept == [3.0] and lim.reserve() == 1011.0
    other = SqlRateLimiter(engine, "other", 1.0, clock=lambda: now[0], sleep=slept.append)
    assert other.reserve() == 1010.0                                          # limits are per name


def test_threads_with_separate_engines_are_spaced(migrated):
    through: list[float] = []
    lock = threading.Lock()

    def caller():
        engine = create_engine(migrated)                  # its own engine and connection pool
        lim = SqlRateLimiter(engine, "nominatim", 1.0)
        for _ in range(2):
            slot = lim.wait()
            passed = lim.clock()
            with lock:
                through.append((slot, passed))
        engine.dispose()

    threads = [threading.Thread(target=caller) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    _assert_spaced(through)


CHILD = """
import json, sys, time
from b24app.store import create_engine
from maps.geocache_sql import SqlRateLimiter
lim = SqlRateLimiter(create_engine(sys.argv[1]), "nominatim", 1.0)
sys.stdin.readline()                      # start together
out = []
for _ in range(2):
    slot = lim.wait()
    out.append((slot, lim.clock()))
print(json.dumps(out))
"""


def test_two_processes_are_spaced(migrated):
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, migrated], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    through = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        through += json.loads(out)
    _assert_spaced(through)
