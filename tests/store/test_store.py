"""The store contract on both backends (``db_url``: SQLite file + throwaway PostgreSQL)."""
from __future__ import annotations

import threading
import time

import pytest

from b24app.store import open_store
from b24app.store.interface import Portal


def _portal(member_id="m1", **kw) -> Portal:
    base = dict(domain="x.bitrix24.ru", client_endpoint="https://x.bitrix24.ru/rest/",
                server_endpoint="https://oauth.bitrix.info/rest/", access_token="a0", refresh_token="r0",
                expires_at=100, application_token="app", scope="crm", status="installed")
    base.update(kw)
    return Portal(member_id=member_id, **base)


@pytest.fixture
def store(db_url):
    s = open_store(db_url)
    yield s
    s.close()


def test_open_twice_is_idempotent_and_concurrent(fresh_db_url):
    db_url = fresh_db_url
    results, errors = [], []

    def opener():
        try:
            s = open_store(db_url)
            results.append(s.portals.list())
            s.close()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors and results == [[]] * 4


def test_upsert_get_and_reinstall_bumps_version(store):
    p = store.portals.upsert(_portal())
    assert p.token_version == 0 and p.installed_at is not None
    assert store.portals.get("m1").access_token == "a0"
    p2 = store.portals.upsert(_portal(access_token="a1", refresh_token="r1", lang="en"))
    assert (p2.access_token, p2.lang, p2.token_version) == ("a1", "en", 1)
    assert p2.installed_at == p.installed_at
    assert [x.member_id for x in store.portals.list()] == ["m1"]
    store.portals.set_status("m1", "needs_reinstall")
    assert store.portals.get("m1").status == "needs_reinstall"
    assert store.portals.get("nope") is None


def test_save_tokens_is_compare_and_swap(store):
    store.portals.upsert(_portal())
    assert store.portals.save_tokens("m1", 0, "a1", "r1", 200) is True
    assert store.portals.save_tokens("m1", 0, "aX", "rX", 300) is False      # stale version
    p = store.portals.get("m1")
    assert (p.access_token, p.refresh_token, p.expires_at, p.token_version) == ("a1", "r1", 200, 1)


def test_refresh_lease_is_exclusive(db_url, store):
    store.portals.upsert(_portal())
    stores = [open_store(db_url) for _ in range(6)]
    wins, barrier = [], threading.Barrier(len(stores))

    def race(i, s):
        barrier.wait()
        if s.portals.try_lease_refresh("m1", 0, f"w{i}", 30):
            wins.append(i)

    threads = [threading.Thread(target=race, args=(i, s)) for i, s in enumerate(stores)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    [s.close() for s in stores]
    assert len(wins) == 1
    assert not store.portals.try_lease_refresh("m1", 1, "late", 30)           # wrong version
    assert store.portals.try_lease_refresh("m1", 0, f"w{wins[0]}", 30)        # the holder may renew
    store.portals.release_refresh_lease("m1", f"w{wins[0]}")
    assert store.portals.try_lease_refresh("m1", 0, "other", 0.05)
    time.sleep(0.1)
    assert store.portals.try_lease_refresh("m1", 0, "after-expiry", 30)        # an expired lease is free
    store.portals.set_status("m1", "needs_reinstall")
    store.portals.release_refresh_lease("m1", "after-expiry")
    assert not store.portals.try_lease_refresh("m1", 0, "x", 30)              # dead portals are not refreshed


def test_forget_removes_one_portal_everywhere(store):
    for m in ("m1", "m2"):
        store.portals.upsert(_portal(m))
        store.inbox.put(m, "event", "ONCRMDEALADD", {"id": 1}, "k1")
        store.kv.set(m, "placements", ["CRM_DEAL_DETAIL_TAB"])
    store.portals.forget("m1")
    assert store.portals.get("m1") is None and store.kv.get("m1", "placements") is None
    assert store.inbox.counts("m1") == {}
    assert store.portals.get("m2") is not None and store.kv.get("m2", "placements") == ["CRM_DEAL_DETAIL_TAB"]
    assert store.inbox.counts("m2") == {"pending": 1}


def test_kv_roundtrip(store):
    assert store.kv.get("m1", "k", "dflt") == "dflt"
    store.kv.set("m1", "k", {"a": [1, 2], "b": "ы"})
    store.kv.set("m1", "k", {"a": [3]})
    store.kv.set("m1", "k2", 5)
    assert store.kv.get("m1", "k") == {"a": [3]}
    assert store.kv.items("m1") == {"k": {"a": [3]}, "k2": 5}
    store.kv.delete("m1", "k2")
    assert store.kv.items("m1") == {"k": {"a": [3]}}


def test_inbox_put_dedup_claim_done(store):
    assert store.inbox.put("m1", "event", "ONCRMDEALADD", {"FIELDS": {"ID": 5}}, "ev-1") is True
    assert store.inbox.put("m1", "event", "ONCRMDEALADD", {"FIELDS": {"ID": 5}}, "ev-1") is False
    assert store.inbox.put("m2", "event", "ONCRMDEALADD", {"FIELDS": {"ID": 5}}, "ev-1") is True  # per portal
    items = store.inbox.claim("w1", limit=10)
    assert [(i.member_id, i.payload, i.attempts, i.status) for i in items] == [
        ("m1", {"FIELDS": {"ID": 5}}, 1, "working"), ("m2", {"FIELDS": {"ID": 5}}, 1, "working")]
    assert store.inbox.claim("w2") == []
    assert store.inbox.done(items[0].id, owner="w1") is True
    assert store.inbox.counts() == {"done": 1, "working": 1}
    assert store.inbox.counts("m1") == {"done": 1}


def _frozen(store, start: float = 1_000_000.0) -> list[float]:
    """The inbox's clock, moved only by the test (leases and retry times), so a loaded box cannot make a
    lease run out between two lines."""
    now = [start]
    store.inbox.clock = lambda: now[0]
    return now


def test_inbox_fail_retry_and_give_up(store):
    now = _frozen(store)
    store.inbox.put("m1", "event", "E", {}, "a")
    (item,) = store.inbox.claim("w1")
    assert store.inbox.fail(item.id, "portal said 500", retry_in=0.2, owner="w1")
    assert store.inbox.claim("w1") == []                       # not before retry_in
    now[0] += 0.3
    (again,) = store.inbox.claim("w2")
    assert again.id == item.id and again.attempts == 2 and again.last_error == "portal said 500"
    assert store.inbox.fail(again.id, "still broken", retry_in=None, owner="w2")
    assert store.inbox.get(item.id).status == "failed"
    assert store.inbox.claim("w3") == []


def test_inbox_expired_lease_is_reclaimed(store):
    now = _frozen(store)
    store.inbox.put("m1", "event", "E", {}, "a")
    (item,) = store.inbox.claim("crashed", lease_seconds=0.1)
    assert store.inbox.claim("w2") == []
    now[0] += 0.2
    (again,) = store.inbox.claim("w2")
    assert again.id == item.id and again.owner == "w2"


def test_inbox_done_fail_renew_only_for_the_owner(store):
    """A worker whose lease ran out and was taken over must not overwrite the new owner's result."""
    clock = [1000.0]
    store.inbox.clock = lambda: clock[0]
    store.inbox.put("m1", "event", "E", {}, "a")
    (item,) = store.inbox.claim("slow", lease_seconds=60)
    assert store.inbox.renew(item.id, owner="slow", lease_seconds=60) is True
    clock[0] += 61                                               # the renewed lease ran out as well
    (again,) = store.inbox.claim("fast", lease_seconds=60)
    assert again.id == item.id and again.owner == "fast"
    assert store.inbox.renew(item.id, owner="slow") is False
    assert store.inbox.done(item.id, owner="slow") is False
    assert store.inbox.fail(item.id, "late", retry_in=None, owner="slow") is False
    assert store.inbox.get(item.id).status == "working" and store.inbox.get(item.id).last_error is None
    assert store.inbox.done(item.id, owner="fast") is True
    assert store.inbox.done(item.id, owner="fast") is False                 # done is final
    assert store.inbox.get(item.id).status == "done"


def test_inbox_renew_keeps_the_item_from_other_claimers(store):
    clock = [1000.0]
    store.inbox.clock = lambda: clock[0]
    store.inbox.put("m1", "event", "E", {}, "a")
    (item,) = store.inbox.claim("w1", lease_seconds=60)
    for _ in range(3):
        clock[0] += 50
        assert store.inbox.renew(item.id, owner="w1", lease_seconds=60)
        assert store.inbox.claim("w2", lease_seconds=60) == []
    clock[0] += 61
    assert [i.id for i in store.inbox.claim("w2", lease_seconds=60)] == [item.id]


def test_inbox_put_while_pending_dedups_only_until_claimed(store):
    """Online events' keys recur for genuine later changes: they block only a pending twin."""
    assert store.inbox.put("m1", "event", "E", {"n": 1}, "k", while_pending=True) is True
    assert store.inbox.put("m1", "event", "E", {"n": 1}, "k", while_pending=True) is False     # pending twin
    (first,) = store.inbox.claim("w1")
    assert store.inbox.put("m1", "event", "E", {"n": 2}, "k", while_pending=True) is True      # first is working
    assert store.inbox.put("m1", "event", "E", {"n": 3}, "k", while_pending=True) is False     # second pending
    assert store.inbox.done(first.id, owner="w1")
    (second,) = store.inbox.claim("w1")
    assert second.payload == {"n": 2} and second.id != first.id
    assert store.inbox.done(second.id, owner="w1")
    assert store.inbox.put("m1", "event", "E", {"n": 4}, "k", while_pending=True) is True      # both done
    assert store.inbox.counts("m1") == {"done": 2, "pending": 1}
    # without while_pending a key is a key forever (robot event_token, 1C push id, offline row ID)
    assert store.inbox.put("m1", "robot", "r", {}, "tok") is True
    (robot,) = [i for i in store.inbox.claim("w1") if i.kind == "robot"]
    assert store.inbox.done(robot.id, owner="w1")
    assert store.inbox.put("m1", "robot", "r", {}, "tok") is False


def test_inbox_put_while_pending_concurrent_twins_make_one_item(db_url, store):
    store.inbox.put("m1", "event", "E", {}, "k", while_pending=True)
    (first,) = store.inbox.claim("w1")
    store.inbox.done(first.id, owner="w1")
    stores = [open_store(db_url) for _ in range(4)]
    results: list[bool] = []
    barrier = threading.Barrier(len(stores))

    def put(s):
        barrier.wait()
        results.append(s.inbox.put("m1", "event", "E", {}, "k", while_pending=True))

    threads = [threading.Thread(target=put, args=(s,)) for s in stores]
    [t.start() for t in threads]
    [t.join() for t in threads]
    [s.close() for s in stores]
    assert sorted(results) == [False, False, False, True]
    assert store.inbox.counts("m1") == {"done": 1, "pending": 1}


def test_two_claimers_never_get_the_same_item(db_url, store):
    n = 200
    for k in range(n):
        store.inbox.put("m1", "event", "E", {"k": k}, f"d{k}")
    stores = [open_store(db_url) for _ in range(4)]
    got: dict[str, list[int]] = {f"w{i}": [] for i in range(len(stores))}

    def worker(name, s):
        while True:
            items = s.inbox.claim(name, limit=7)
            if not items:
                return
            for it in items:
                got[name].append(it.id)
                assert s.inbox.done(it.id, owner=name)

    threads = [threading.Thread(target=worker, args=(f"w{i}", s)) for i, s in enumerate(stores)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    [s.close() for s in stores]
    all_ids = [i for ids in got.values() for i in ids]
    assert len(all_ids) == n and len(set(all_ids)) == n
    assert store.inbox.counts() == {"done": n}


def _open_in_process(url: str) -> int:
    s = open_store(url)
    n = len(s.portals.list())
    s.close()
    return n


def test_processes_opening_a_fresh_database_do_not_race(fresh_db_url):
    db_url = fresh_db_url
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(3) as pool:
        assert pool.map(_open_in_process, [db_url] * 3) == [0, 0, 0]
    import sqlalchemy as sa

    from alembic.script import ScriptDirectory

    from b24app.store import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())     # one per migration branch
    s = open_store(db_url)
    with s.engine.connect() as c:
        assert set(c.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()) == heads
    s.close()


def test_the_per_process_portal_copy_follows_token_version_and_status(db_url, monkeypatch):
    """Two stores on one database stand for two processes: a re-install or a status change made by one is
    seen by the other's cached copy (issue 19: events are verified from a per-process copy)."""
    from b24app.store import sql
    from b24app.store.interface import INSTALLED, UNINSTALLED
    from b24app.verify import VerificationError, verify_event

    here, there = open_store(db_url), open_store(db_url)
    here.portals.upsert(_portal(application_token="t1", status=INSTALLED))
    assert here.portals.get_cached("m1").application_token == "t1"

    def event(token):
        return {"event": "ONCRMDEALUPDATE", "auth": {"member_id": "m1", "application_token": token}}

    there.portals.upsert(_portal(application_token="t2", status=INSTALLED))    # re-installed elsewhere
    assert verify_event(here, event("t2")).application_token == "t2"      # a mismatch asks the database
    with pytest.raises(VerificationError):
        verify_event(here, event("t1"))
    monkeypatch.setattr(sql, "PORTAL_CACHE_SECONDS", 0.0)                 # the copy's trust window is over
    there.portals.set_status("m1", UNINSTALLED)
    assert here.portals.get_cached("m1").status == UNINSTALLED            # seen by (token_version, status)
    with pytest.raises(VerificationError) as err:
        verify_event(here, event("t2"))
    assert err.value.status == 403
    copy = here.portals.get_cached("m1")
    copy.status = INSTALLED                                               # a caller's change stays its own
    assert here.portals.get_cached("m1").status == UNINSTALLED
    here.close()
    there.close()
