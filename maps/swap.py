"""Swap preview: what giving an assigned job to another worker does to both days, before one click applies it.

Built on ``maps.dispatch.swap_preview`` over the same worker days the candidates use (deal fields +
Bitrix24 calendar busy time + working hours). The job keeps its agreed time; a job without one goes to the
new worker's cheapest gap, and that time is what "apply" writes (``assign.assign(start=...)``).
"""
from __future__ import annotations

from b24app.errors import said
from datetime import date

from maps import service
from maps.assign import AssignError, NotInTeam, _context, _today, pool_of, to_job, worker_days
from maps.dispatch import DayRoute, swap_preview
from maps.schedule import Worker


class NotAssigned(AssignError):
    """A swap needs a job someone does; an unassigned one is assigned instead."""


class SameWorker(AssignError):
    """The job already belongs to the person it would be swapped to."""


def _day_out(r: DayRoute, titles: dict, moved_id: str) -> dict:
    return {"drive_minutes": round(r.drive_minutes), "late_minutes": round(r.late_minutes),
            "overtime_minutes": round(r.overtime_minutes), "overlaps": [list(p) for p in r.overlaps], "ok": r.ok,
            "stops": [{"id": int(s.job_id), "title": titles.get(s.job_id, f"#{s.job_id}"),
                       "start": s.start.strftime("%H:%M"), "end": s.end.strftime("%H:%M"),
                       "arrival": s.arrival.strftime("%H:%M"), "drive_minutes": round(s.drive_minutes),
                       "late_minutes": round(s.late_minutes), "moved": s.job_id == moved_id} for s in r.stops]}


def preview(services, member_id: str, deal_id: int, to_worker: int, day: date | None = None) -> dict:
    """Both workers' days before and after moving ``deal_id`` to ``to_worker``."""
    conf, tz, current, job, workers = _context(services, member_id, deal_id)
    if not job.worker_id:
        raise NotAssigned(said(f"deal {deal_id} has no worker yet: assign it instead",
                                f"у сделки {deal_id} ещё нет исполнителя: назначьте его"))
    if int(job.worker_id) == int(to_worker):
        raise SameWorker(said(f"user {to_worker} already does deal {deal_id}",
                               f"сделку {deal_id} уже выполняет этот сотрудник"))
    by_id = {int(w.id): w for w in workers}
    if int(to_worker) not in by_id:
        raise NotInTeam(said(f"user {to_worker} is not in the field team",
                              f"пользователь {to_worker} не входит в выездную команду"))
    a = by_id.get(int(job.worker_id)) or next(iter(pool_of(services, member_id, [job.worker_id])), None) \
        or Worker(str(job.worker_id), f"#{job.worker_id}", service.working_hours(conf))
    b = by_id[int(to_worker)]
    sjob = to_job(job, tz)
    day = sjob.start.date() if sjob.start else (day or _today(services, tz))
    day_a, day_b = worker_days(services, member_id, day, current, [a, b], tz)
    p = swap_preview(sjob, day_a, day_b, service.travel(services.settings))
    titles = {str(j.id): j.title for j in current}
    titles[str(job.id)] = job.title
    return {"deal_id": job.id, "day": day.isoformat(), "title": job.title,
            "start": p.moved.start.strftime("%Y-%m-%dT%H:%M") if p.moved.start else None,
            "extra_minutes": round(p.extra_minutes), "ok": p.ok,
            "from": {"worker_id": int(a.id), "name": a.name, "before": _day_out(p.before_a, titles, sjob.id),
                     "after": _day_out(p.after_a, titles, sjob.id)},
            "to": {"worker_id": int(b.id), "name": b.name, "before": _day_out(p.before_b, titles, sjob.id),
                   "after": _day_out(p.after_b, titles, sjob.id)}}
