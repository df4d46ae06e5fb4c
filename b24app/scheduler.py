"""APScheduler with its job store in our database, and exactly one scheduler process per deployment.

Domain packages declare per-portal periodic work with ``registry.every("visits.sweep", 300, fn)``; the
scheduler keeps one job per (job type, installed portal) in the job store, so intervals survive restarts
and a portal's jobs disappear with the portal. Web workers never run jobs: only ``b24app scheduler`` (or
the demo) does, and a lock held for the life of that process keeps a second one idle — a PostgreSQL
session advisory lock, or an ``flock`` on a file beside the SQLite database. Both die with the process.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import math
import os
import threading
import time
from datetime import datetime, timezone

import sqlalchemy as sa
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from .registry import JobType, enabled

log = logging.getLogger("b24app.scheduler")

_PG_SCHEDULER_LOCK = 0x6232_3461_7070  # "b24app"


_services = None                 # set by Scheduler.start(): jobs in the store refer to run_job by name


def run_job(name: str, member_id: str) -> None:
    """Entry point stored in the job store (a module-level function, so it pickles by reference)."""
    jt = _services.registry.periodic.get(name) if _services is not None else None
    if jt is None:
        log.warning("job %s for %s skipped: type not registered in this process", name, member_id)
        return
    if not enabled(_services.store, member_id, jt.domain):
        log.debug("job %s for %s skipped: the portal switched %s off", name, member_id, jt.domain)
        return
    try:
        jt.fn(_services, member_id)
    except Exception:  # one portal's failure must not stop the others' jobs
        log.exception("job %s for portal %s failed", name, member_id)


def phase_start(job_id: str, seconds: float, now: float | None = None) -> datetime:
    """Where in its interval a portal's job runs: a fixed offset from the job's id, so a thousand portals'
    sweeps are spread over the interval instead of all firing at the same second — and a job keeps its
    moment across scheduler restarts and re-syncs."""
    now = time.time() if now is None else now
    period = max(float(seconds), 1.0)
    offset = int.from_bytes(hashlib.sha256(job_id.encode()).digest()[:8], "big") % int(period * 1000) / 1000
    start = math.floor(now / period) * period + offset
    return datetime.fromtimestamp(start, timezone.utc)


class SingleInstanceLock:
    """Held for the life of the scheduler process; ``acquire()`` is False when another one holds it."""

    def __init__(self, database_url: str):
        self.url = database_url
        self._conn = None
        self._fh = None

    def acquire(self) -> bool:
        url = sa.engine.make_url(self.url)
        if url.get_backend_name() == "postgresql":
            engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
            self._conn = engine.connect()
            got = self._conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({_PG_SCHEDULER_LOCK})").scalar()
            self._conn.commit()
            if not got:
                self._conn.close()
                self._conn = None
            return bool(got)
        path = (url.database or "b24app.db") + ".scheduler.lock"
        self._fh = open(path, "a+")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.close()
            self._fh = None
            return False
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(str(os.getpid()))
        self._fh.flush()
        return True

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class Scheduler:
    """One per deployment. ``start()`` returns False (and runs nothing) if another process has the lock."""

    def __init__(self, services, resync_seconds: float = 60.0, registry=None):
        if registry is not None and registry is not services.registry:
            services = services.using(registry)
        self.services = services
        self.lock = SingleInstanceLock(services.settings.database_url)
        self.aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=services.settings.database_url,
                                                     tablename="apscheduler_jobs")},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone="UTC",
        )
        self.resync_seconds = resync_seconds
        self._stop = threading.Event()

    def interval(self, jt: JobType, member_id: str) -> float:
        if jt.setting_key:
            value = self.services.store.kv.get(member_id, jt.setting_key)
            if value:
                return float(value)
        return jt.seconds

    def sync_portal_jobs(self) -> None:
        """One job per (type, installed portal); jobs of uninstalled portals are removed."""
        installed = {p.member_id for p in self.services.store.portals.list() if p.status == "installed"}
        wanted = {}
        for jt in self.services.registry.periodic.values():
            for member_id in installed:
                wanted[f"{jt.name}:{member_id}"] = (jt, member_id)
        for job in self.aps.get_jobs():
            if job.id not in wanted:
                job.remove()
        for job_id, (jt, member_id) in wanted.items():
            seconds = self.interval(jt, member_id)
            job = self.aps.get_job(job_id)
            if job is None or getattr(job.trigger, "interval", None) is None \
                    or job.trigger.interval.total_seconds() != seconds:
                self.aps.add_job(run_job, "interval", seconds=seconds, id=job_id, args=[jt.name, member_id],
                                 start_date=phase_start(job_id, seconds), replace_existing=True)

    def start(self) -> bool:
        global _services
        if not self.lock.acquire():
            log.info("another scheduler process holds the lock; this one stays idle")
            return False
        _services = self.services
        self.aps.start()
        self.sync_portal_jobs()
        return True

    def run_forever(self) -> None:
        """Re-sync jobs with installed portals now and then (new installs, uninstalls, changed intervals)."""
        while not self._stop.wait(self.resync_seconds):
            self.sync_portal_jobs()

    def shutdown(self) -> None:
        self._stop.set()
        if self.aps.running:
            self.aps.shutdown(wait=False)
        self.lock.release()
