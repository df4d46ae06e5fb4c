"""What the calculation flow's per-record lease (KV.try_lock + unlock, issue 16) costs a step, and how two
racing clicks queue: on SQLite (file, WAL) and PostgreSQL (local). Uncontended: median of 500 take+release
pairs on one record. Contended: 4 threads with their own engines (as separate web processes) each doing
100 lock → read-modify-write of one kv record → unlock on the SAME record (the lock's retry: 50 ms poll,
as calcwork.context.locked); the record's counter must end at 400 (no write lost).
``python -m bench calc_lock``."""
from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
import uuid

TITLE = "Calculation steps: the per-record lease (issue 16)"
PG_ADMIN = os.environ.get("B24APP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_url() -> str | None:
    import sqlalchemy as sa

    name = "b24bench_" + uuid.uuid4().hex[:8]
    try:
        with sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception:  # noqa: BLE001 - no PostgreSQL here: that row is skipped
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _uncontended_ms(store) -> float:
    times = []
    for i in range(500):
        t0 = time.perf_counter()
        assert store.kv.try_lock("m", "calcwork.calc:1", f"o{i}", 60)
        store.kv.unlock("m", "calcwork.calc:1", f"o{i}")
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _contended(url: str, threads: int = 4, per: int = 100) -> tuple[float, int]:
    from b24app.store import open_store

    stores = [open_store(url) for _ in range(threads)]
    stores[0].kv.set("m", "calcwork.calc:2", {"n": 0})
    barrier = threading.Barrier(threads)

    def run(s, k):
        barrier.wait()
        for i in range(per):
            owner = f"{k}-{i}"
            while not s.kv.try_lock("m", "calcwork.calc:2", owner, 60):
                time.sleep(0.05)
            rec = s.kv.get("m", "calcwork.calc:2")
            rec["n"] += 1
            s.kv.set("m", "calcwork.calc:2", rec)
            s.kv.unlock("m", "calcwork.calc:2", owner)
    t0 = time.perf_counter()
    ts = [threading.Thread(target=run, args=(s, k)) for k, s in enumerate(stores)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    n = stores[0].kv.get("m", "calcwork.calc:2")["n"]
    for s in stores:
        s.close()
    return wall, n


def run() -> None:
    from b24app.store import open_store

    print("| store | take + release, uncontended (median of 500) | 4 racers × 100 steps on one record: wall | "
          "steps kept |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        for kind, url in (("SQLite (file, WAL)", f"sqlite:///{d}/lock.db"), ("PostgreSQL (local)", _pg_url())):
            if url is None:
                print(f"| {kind} | — | — | — |")
                continue
            store = open_store(url)
            ms = _uncontended_ms(store)
            store.close()
            wall, n = _contended(url)
            print(f"| {kind} | {ms:.2f} ms | {wall:.2f} s | {n} of 400 |")
            if url.startswith("postgresql"):
                _drop(url)


def _drop(url: str) -> None:
    import sqlalchemy as sa

    with sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
