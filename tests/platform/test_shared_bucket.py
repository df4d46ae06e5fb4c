"""The portal's request budget is the deployment's, not a process's (issue 18): the shared leaky bucket
on PostgreSQL (a row per portal) and on Redis (a Lua script per reservation) gives the same answers as the
in-process one, a 503's penalty reaches every process, and 4 processes drawing from one portal's bucket
together never exceed burst + drain × time."""
from __future__ import annotations

import multiprocessing as mp
import os
import time
import uuid

import pytest

from b24app.store import open_store
from b24app.throttle import LeakyBucket, RedisThrottle, SqlThrottle

REDIS_URL = os.environ.get("B24APP_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _redis_or_skip() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        if os.environ.get("B24APP_REQUIRE_REDIS", "").strip() in {"1", "true", "yes"}:
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is not reachable: {exc}")
    return REDIS_URL


class FakeTime:
    def __init__(self):
        self.now = 1_800_000_000.0

    def clock(self):
        return self.now

    def sleep(self, s):
        self.now += s


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def make_bucket(request, tmp_path):
    """A bucket factory on each shared store (SQLite stands for "the SQL code", PostgreSQL is the real
    target), with the fake clock."""
    closers = []

    def make(burst, drain, ft, name=None):
        name = name or uuid.uuid4().hex
        if request.param == "redis":
            return RedisThrottle(_redis_or_skip(), burst, drain, clock=ft.clock, sleep=ft.sleep).bucket(name)
        url = request.getfixturevalue("db_url_" + request.param)
        store = open_store(url)
        closers.append(store.close)
        return SqlThrottle(store.engine, burst, drain, clock=ft.clock, sleep=ft.sleep).bucket(name)

    yield make
    for close in closers:
        close()


@pytest.fixture
def db_url_sqlite(tmp_path):
    from tests.conftest import _sqlite_url

    return _sqlite_url(tmp_path)


@pytest.fixture
def db_url_postgres():
    from tests.conftest import _pg_database

    try:
        url, drop = _pg_database()
    except Exception as exc:  # noqa: BLE001 - no PostgreSQL here
        if os.environ.get("B24APP_REQUIRE_POSTGRES", "").strip() in {"1", "true", "yes"}:
            pytest.fail(f"PostgreSQL is not reachable: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    yield url
    drop()


def test_same_answers_as_the_in_process_bucket(make_bucket):
    ft, ref_t = FakeTime(), FakeTime()
    shared = make_bucket(3, 1.0, ft)
    ref = LeakyBucket(3, 1.0, clock=ref_t.clock, sleep=ref_t.sleep)
    waits = [round(shared.acquire(), 6) for _ in range(6)]
    assert waits == [round(ref.acquire(), 6) for _ in range(6)] == [0, 0, 0, 1.0, 1.0, 1.0]
    ft.now += 10                                  # drained
    ref_t.now += 10
    assert shared.acquire() == ref.acquire() == 0


def test_a_503_fills_the_bucket_for_everyone_and_max_wait_takes_nothing(make_bucket):
    ft = FakeTime()
    name = uuid.uuid4().hex
    one, other = make_bucket(4, 2.0, ft, name), make_bucket(4, 2.0, ft, name)    # two processes' views
    assert one.acquire() == 0
    other.penalize()
    assert one.level == pytest.approx(4.0)
    assert one.acquire(max_wait=0.2) is None      # the next slot frees in 0.5 s: refused, nothing taken
    assert one.level == pytest.approx(4.0)
    assert one.acquire() == pytest.approx(0.5)    # burst 4, drain 2: full → one slot frees in 0.5 s


def _draw(args) -> list[float]:
    kind, target, name, n = args
    if kind == "redis":
        throttle = RedisThrottle(target, burst=5, drain=20.0)
    else:
        throttle = SqlThrottle(open_store(target, migrate_db=False).engine, burst=5, drain=20.0)
    bucket = throttle.bucket(name)
    slots = []
    for _ in range(n):
        asked = time.time()
        slots.append(asked + bucket.acquire())    # the moment this process was let go (≤ 1 ms early)
    return slots


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_four_processes_never_exceed_the_portal_budget_together(kind, request):
    target = _redis_or_skip() if kind == "redis" else request.getfixturevalue("db_url_postgres")
    name = uuid.uuid4().hex
    with mp.get_context("spawn").Pool(4) as pool:
        times = sorted(t for part in pool.map(_draw, [(kind, target, name, 10)] * 4) for t in part)
    assert len(times) == 40
    # a leaky bucket's promise: in any stretch of time, at most burst + drain × its length requests
    slack = 0.002                                 # clock read before the reservation vs inside it
    for i in range(len(times)):
        for j in range(i, len(times)):
            assert j - i + 1 <= 5 + 20.0 * (times[j] - times[i] + slack), (i, j, times[j] - times[i])
