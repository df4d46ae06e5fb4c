"""The inbox claim is fair (issue 18), on SQLite and PostgreSQL: robots and the app's lifecycle come before
bulk domain events, then one item of each portal in turn — a portal with 100 queued events does not hold
back a portal with 3 — and at most ``per_portal`` items of one portal are in flight across every claimer."""
from __future__ import annotations

import threading

import pytest

from b24app.store import open_store


@pytest.fixture
def store(db_url):
    s = open_store(db_url)
    yield s
    s.close()


def _events(store, member_id: str, n: int, start: int = 0) -> None:
    for k in range(start, start + n):
        assert store.inbox.put(member_id, "event", "ONCRMDEALUPDATE", {"k": k}, f"e{k}")


def test_portals_take_turns_and_robots_go_first(store):
    _events(store, "big", 100)                       # a bulk import, queued first
    _events(store, "small", 3)
    store.inbox.put("big", "robot", "b24app_start_job", {}, "r1")           # behind its own 100 events
    store.inbox.put("other", "app", "INSTALL", {}, "install-job:other:1")
    got = store.inbox.claim("w1", limit=8)
    seen = [(it.member_id, it.kind) for it in got]
    assert seen[:2] == [("big", "robot"), ("other", "app")]
    # big's robot was its first turn, so small's first event comes before big's
    assert seen[2:] == [("small", "event"), ("big", "event")] * 3
    assert [it.payload["k"] for it in got if it.member_id == "big" and it.kind == "event"] == [0, 1, 2]


def test_one_portal_has_at_most_per_portal_in_flight(store):
    _events(store, "big", 30)
    _events(store, "small", 2)
    first = store.inbox.claim("w1", limit=20, per_portal=4)
    assert sorted(it.member_id for it in first) == ["big"] * 4 + ["small"] * 2
    assert [it.member_id for it in store.inbox.claim("w2", limit=20, per_portal=4)] == []   # big is at its cap
    for it in first[:2]:
        if it.member_id == "big":
            assert store.inbox.done(it.id, owner="w1")
    done_big = sum(1 for it in first[:2] if it.member_id == "big")
    again = store.inbox.claim("w2", limit=20, per_portal=4)
    assert [it.member_id for it in again] == ["big"] * done_big
    assert {it.payload["k"] for it in again} == set(range(4, 4 + done_big))


def test_a_dead_workers_items_do_not_count_against_the_cap(store):
    _events(store, "big", 10)
    clock = [1000.0]
    store.inbox.clock = lambda: clock[0]
    assert len(store.inbox.claim("dead", limit=20, per_portal=3, lease_seconds=30)) == 3
    assert store.inbox.claim("w2", limit=20, per_portal=3) == []
    clock[0] += 31                                   # the dead worker's lease ran out
    again = store.inbox.claim("w2", limit=20, per_portal=3)
    assert len(again) == 3 and {it.payload["k"] for it in again} == {0, 1, 2}    # retaken first, in order


def test_concurrent_claimers_share_fairly_and_never_twice(store, db_url):
    for p in range(5):
        _events(store, f"p{p}", 40)
    stores = [open_store(db_url) for _ in range(4)]
    taken: list = []
    lock = threading.Lock()

    def claimer(i: int):
        s = stores[i]
        while True:
            got = s.inbox.claim(f"w{i}", limit=7, per_portal=6)
            if not got:
                return
            with lock:
                taken.extend(it.id for it in got)
            for it in got:
                assert s.inbox.done(it.id, owner=f"w{i}")

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    for s in stores:
        s.close()
    assert len(taken) == len(set(taken)) == 200
    assert store.inbox.counts() == {"done": 200}
