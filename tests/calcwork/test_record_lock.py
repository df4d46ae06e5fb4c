"""The per-record lease a calculation step holds while it reads, changes and writes a record (KV.try_lock /
unlock, b24app/store/sql.py) on SQLite and PostgreSQL: one holder at a time among racing threads with their
own engines (as separate processes), a dead holder's lease taken over once it has run out (and by one
taker only), the lease given back only by its owner."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from b24app.store import open_store
from b24app.store.tables import kv as t_kv


def test_one_holder_among_racers_and_takeover_after_the_lease(db_url):
    stores = [open_store(db_url) for _ in range(4)]
    try:
        barrier, won = threading.Barrier(4), []

        def race(i):
            barrier.wait()
            if stores[i].kv.try_lock("m1", "calcwork.calc:7", f"o{i}", 60):
                won.append(i)
        threads = [threading.Thread(target=race, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(won) == 1
        holder = f"o{won[0]}"
        kv = stores[0].kv
        assert kv.try_lock("m2", "calcwork.calc:7", "x", 60)                 # another portal: its own record
        assert not kv.try_lock("m1", "calcwork.calc:7", "late", 60)
        kv.unlock("m1", "calcwork.calc:7", "late")                          # not the owner: nothing happens
        assert not kv.try_lock("m1", "calcwork.calc:7", "late", 60)
        # the holder died: its lease runs out, and of two takers one wins
        with stores[0].engine.begin() as c:
            c.execute(sa.update(t_kv).where(t_kv.c.member_id == "m1", t_kv.c.key == "lock:calcwork.calc:7")
                      .values(updated_at=datetime.now(timezone.utc) - timedelta(seconds=120)))
        barrier2, took = threading.Barrier(2), []

        def take(i):
            barrier2.wait()
            if stores[i].kv.try_lock("m1", "calcwork.calc:7", f"t{i}", 60):
                took.append(i)
        threads = [threading.Thread(target=take, args=(i,)) for i in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(took) == 1
        kv.unlock("m1", "calcwork.calc:7", holder)                          # the dead holder's late release
        assert not kv.try_lock("m1", "calcwork.calc:7", "late", 60)
        kv.unlock("m1", "calcwork.calc:7", f"t{took[0]}")
        assert kv.try_lock("m1", "calcwork.calc:7", "late", 60)
    finally:
        for s in stores:
            s.close()


def test_items_by_prefix_reads_only_those_keys(db_url):
    store = open_store(db_url)
    try:
        kv = store.kv
        for key in ("calcwork.calc:1", "calcwork.calc:2", "calcwork.calcX", "calcwork_calc:3", "lock:calcwork.calc:1"):
            kv.set("m1", key, {"k": key})
        kv.set("m2", "calcwork.calc:9", {"k": "other portal"})
        kv.set("m1", "50%_off", 1)
        assert sorted(kv.items("m1", "calcwork.calc:")) == ["calcwork.calc:1", "calcwork.calc:2"]
        assert list(kv.items("m1", "50%_")) == ["50%_off"] and kv.items("m1", "5_%") == {}  # LIKE signs are literal
        assert len(kv.items("m1")) == 6
    finally:
        store.close()
