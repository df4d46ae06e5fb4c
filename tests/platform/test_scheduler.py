"""The scheduler: per-portal jobs in the database job store, one scheduler process per deployment."""
from __future__ import annotations

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
