"""field_0001 on SQLite and PostgreSQL: an action id is claimed once (new → done → replayed), a failed one is
resumed with the steps it completed, a copy arriving while the first runs is busy until its lease ends, the
same id with other content is a conflict, and many simultaneous claims of one id give exactly one "new"."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

from b24app.store import open_store
from field.ledger import LEASE_SECONDS, FieldLedger


class Clock:
    def __init__(self):
        self.t = 1_768_370_400.0

    def __call__(self):
        return self.t


def _claim(ledger, aid="a1b2c3d4e5", digest="d1", worker=4):
    return ledger.claim(aid, worker_id=worker, item_kind="job", item_id=7, action="started", digest=digest,
                        tapped_at=datetime(2026, 1, 14, 7, tzinfo=UTC), lat=55.7, lon=37.6)


def test_claim_states(db_url):
    store = open_store(db_url)
    clock = Clock()
    ledger = FieldLedger(store.engine, "m1", clock=clock)
    assert _claim(ledger).state == "new"
    assert _claim(ledger).state == "busy"                       # the first copy is being applied
    assert _claim(ledger, digest="other").state == "conflict"
    assert _claim(ledger, worker=5).state == "conflict"          # another person's id is never his
    ledger.step("a1b2c3d4e5", "stage", "C1:JOB_STARTED")
    ledger.finish("a1b2c3d4e5", error="B24Error: task refused")
    again = _claim(ledger)
    assert again.state == "resume" and again.steps == {"stage": "C1:JOB_STARTED"}
    ledger.step("a1b2c3d4e5", "task_start", {"task": 3, "status": "3"})
    ledger.finish("a1b2c3d4e5")
    done = _claim(ledger)
    assert done.state == "done" and set(done.steps) == {"stage", "task_start"}
    # an abandoned copy (the process died) is taken over after its lease
    assert _claim(ledger, aid="zzzzzzzz01").state == "new"
    clock.t += LEASE_SECONDS + 1
    assert _claim(ledger, aid="zzzzzzzz01").state == "resume"
    rows = ledger.actions(worker_id=4)
    assert [(r["action_id"], r["status"]) for r in sorted(rows, key=lambda r: r["action_id"])] == \
        [("a1b2c3d4e5", "done"), ("zzzzzzzz01", "running")]
    assert rows[0]["lat"] == 55.7 and FieldLedger(store.engine, "m2").actions() == []    # per portal
    job = ledger.set_job("job", 7, 4, started_at=datetime(2026, 1, 14, 7, tzinfo=UTC), travel_minutes=20)
    job = ledger.set_job("job", 7, 4, finished_at=datetime(2026, 1, 14, 8, tzinfo=UTC), on_site_minutes=60)
    assert (job["travel_minutes"], job["on_site_minutes"], job["started_at"].hour) == (20, 60, 7)
    store.portals.forget("m1")
    assert ledger.actions() == [] and ledger.job("job", 7) is None          # a CLEAN uninstall leaves nothing
    store.close()


def test_simultaneous_claims_of_one_id_give_one_new(db_url):
    store = open_store(db_url)
    ledger = FieldLedger(store.engine, "m1", clock=Clock())
    states, barrier = [], threading.Barrier(6)

    def go():
        barrier.wait()
        states.append(_claim(ledger, aid="same-id-123").state)
    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(states) == ["busy"] * 5 + ["new"]
    store.close()
