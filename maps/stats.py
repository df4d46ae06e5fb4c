"""Travel and on-site time per job, from what the Start/Finish job robots recorded (``maps_job_facts``).

On-site minutes are finish − start of the job. Travel minutes are the time from the worker's previous
finish that day to this start — or, for the day's first job, from the start of the worker's shift (the
drive from home is working time, ``maps.schedule``'s convention); a start before the shift counts no
travel. They are measured facts, not the travel model's estimate, so a dispatcher can compare the two.
"""
from __future__ import annotations

from b24app.errors import said
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from maps import service
from maps.mapstate import t_facts


class BadRange(ValueError):
    """A statistics period that ends before it starts."""


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)      # SQLite gives naive UTC back


def travel_minutes(engine: sa.Engine, member_id: str, worker_id: int | None, deal_id: int, started: datetime,
                   shift_start: datetime) -> int | None:
    """Minutes between the worker's previous finish on this day (or the shift start) and ``started``."""
    if not worker_id:
        return None
    day_from = shift_start.replace(hour=0, minute=0, second=0, microsecond=0)      # the portal's midnight
    with engine.connect() as c:
        rows = c.execute(sa.select(t_facts.c.finished_at).where(
            t_facts.c.member_id == member_id, t_facts.c.worker_id == int(worker_id),
            t_facts.c.deal_id != int(deal_id), t_facts.c.finished_at.is_not(None))).all()
    finishes = [f for f in (_aware(r.finished_at) for r in rows) if day_from <= f <= started]
    since = max(finishes) if finishes else shift_start
    return max(0, int((started - since).total_seconds() // 60))


def travel_for_start(services, member_id: str, worker_id: int | None, deal_id: int, started: datetime) -> int | None:
    """``travel_minutes`` with the worker's own shift start on the portal's date of ``started``."""
    conf = service.settings(services, member_id)
    zone = service.tz(conf)
    local = started.astimezone(zone)
    hours = service.working_hours(conf, worker_id)
    shift_start = datetime.combine(local.date(), hours.start, zone)
    return travel_minutes(services.store.engine, member_id, worker_id, deal_id, started, shift_start)


def job_stats(services, member_id: str, day_from: date | None, day_to: date | None) -> dict:
    """Per worker: jobs started in [from, to] (portal dates, both ends included), how many finished, on-site
    and travel minutes. Defaults: the last 30 days up to the portal's today."""
    zone = service.tz(service.settings(services, member_id))
    today = datetime.now(zone).date()
    day_to = day_to or today
    day_from = day_from or day_to - timedelta(days=29)
    if day_from > day_to:
        raise BadRange(said(f"from {day_from} is after to {day_to}", f"начало {day_from} позже конца {day_to}"))
    lo = datetime.combine(day_from, datetime.min.time(), zone)
    hi = datetime.combine(day_to + timedelta(days=1), datetime.min.time(), zone)
    with services.store.engine.connect() as c:
        rows = c.execute(sa.select(t_facts).where(t_facts.c.member_id == member_id,
                                                  t_facts.c.started_at.is_not(None))).all()
    per: dict[int, dict] = {}
    for r in rows:
        started = _aware(r.started_at)
        if not lo <= started < hi:
            continue
        w = per.setdefault(int(r.worker_id or 0), {"worker_id": int(r.worker_id or 0) or None, "jobs": 0,
                                                  "finished": 0, "on_site_minutes": 0, "travel_minutes": 0})
        w["jobs"] += 1
        if r.finished_at is not None:
            w["finished"] += 1
            w["on_site_minutes"] += int(r.actual_minutes or 0)
        w["travel_minutes"] += int(r.travel_minutes or 0)
    return {"from": day_from.isoformat(), "to": day_to.isoformat(), "tz": str(zone),
            "workers": [per[k] for k in sorted(per)]}
