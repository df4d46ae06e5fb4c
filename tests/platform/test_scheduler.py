"""The scheduler: per-portal jobs in the database job store, one scheduler process per deployment."""
from __future__ import annotations

import pytest

from b24app import scheduler as sched
from b24app.config import Settings
from b24app.registry import Registry
from b24app.services import Services
from b24app.store import open_store
from b24app.store.interface import INSTALLED, UNINSTALLED, Portal


def _services(db_url, registry=None):
    store = open_store(db_url)
    return Services(Settings(database_url=db_url, client_id="c", client_secret="s"), store,
                    registry=registry if registry is not None else Registry())


def _portal(member_id, status=INSTALLED):
    return Portal(member_id=member_id, domain="p.example", client_endpoint="https://p.example/rest/",
                  server_endpoint="https://oauth.bitrix.info/rest/", status=status)


def test_jobs_per_installed_portal_and_single_instance(db_url):
    ran = []

    def job(services, member_id):
        ran.append(member_id)

    only = Registry()                   # only this job type: the test's own registry, no domain's
    only.every("test.job", 3600, job, "test.interval")
    svc = _services(db_url, only)
    svc.store.portals.upsert(_portal("a" * 32))
    svc.store.portals.upsert(_portal("b" * 32))
    svc.store.kv.set("b" * 32, "test.interval", 120)

    first, second = sched.Scheduler(svc), sched.Scheduler(_services(db_url, only))
    try:
        assert first.start() is True
        assert second.start() is False, "a second scheduler process must stay idle"
        jobs = {j.id: j for j in first.aps.get_jobs()}
        assert set(jobs) == {f"test.job:{'a' * 32}", f"test.job:{'b' * 32}"}
        assert jobs[f"test.job:{'a' * 32}"].trigger.interval.total_seconds() == 3600
        assert jobs[f"test.job:{'b' * 32}"].trigger.interval.total_seconds() == 120

        first.aps.get_job(f"test.job:{'a' * 32}").modify(next_run_time=None)
        sched.run_job("test.job", "a" * 32)
        assert ran == ["a" * 32]

        svc.store.portals.set_status("b" * 32, UNINSTALLED)
        first.sync_portal_jobs()
        assert [j.id for j in first.aps.get_jobs()] == [f"test.job:{'a' * 32}"]
    finally:
        first.shutdown()
        second.shutdown()

    third = sched.Scheduler(_services(db_url, only))
    try:
        assert third.start() is True, "the lock is released with its holder"
        assert [j.id for j in third.aps.get_jobs()] == [f"test.job:{'a' * 32}"], "jobs live in the database"
    finally:
        third.shutdown()


def test_portals_jobs_are_spread_over_the_interval_and_keep_their_moment(db_url):
    """Issue 18: 200 portals' sweeps do not all fire at :00 — each job has its own place in the interval,
    derived from its id, the same after a restart."""
    only = Registry()
    only.every("test.sweep", 300, lambda services, member_id: None)
    svc = _services(db_url, only)
    members = [f"{n:032x}" for n in range(200)]
    for m in members:
        svc.store.portals.upsert(_portal(m))
    first = sched.Scheduler(svc)
    try:
        assert first.start() is True
        moments = {j.id: j.next_run_time.timestamp() % 300 for j in first.aps.get_jobs()}
    finally:
        first.shutdown()
    assert len(moments) == 200
    offsets = sorted(moments.values())
    busiest = max(sum(1 for o in offsets if a <= o < a + 10) for a in range(0, 300, 10))
    assert busiest <= 25, busiest                 # even spread: ~7 per 10 s, never all at one moment
    assert offsets[-1] - offsets[0] > 250
    again = sched.Scheduler(_services(db_url, only))
    try:
        assert again.start() is True
        again.sync_portal_jobs()
        # the same place in the interval (a job that fired meanwhile is one interval further on)
        assert {j.id: j.next_run_time.timestamp() % 300 for j in again.aps.get_jobs()} == pytest.approx(moments)
    finally:
        again.shutdown()
