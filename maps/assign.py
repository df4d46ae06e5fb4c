"""Who takes a job, and assigning it with one click.

Candidates come from ``maps.dispatch.rank_candidates`` over each team member's day: the jobs the deals
give them (our worker and date fields), the busy time of their Bitrix24 calendar
(``calendar.accessibility.get``, one call for the whole team) and the working hours from the portal's
settings. An assignment is one batch: the deal's worker field (and job time when it had none), a
calendar event for the worker bound to the deal (``crm_fields D_<id>``) and a task bound to the deal with
the Yandex Maps link — then the map's version moves, so every open map redraws.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from b24app.errors import B24Error, said
from install.registry import installed_ids
from maps import booking, booking_rules, service
from maps.assign_errors import (  # noqa: F401 - the errors of this module, answered by handlers/errors.py
    AssignError,
    BadDays,
    NoCoordinates,
    NotAJob,
    NotInTeam,
    NoWindow,
    PortalRefused,
)
from maps.dispatch import best_slots, day_route, rank_candidates
from maps.links import google_route_links, yandex_point_link, yandex_route_links
from maps.orders import OrderJob, one_job, users
from maps.routing import optimise_day
from maps.schedule import Job, Worker, WorkerDay, worker_windows


def _aware(dt: datetime | None, tz) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)


def to_job(j: OrderJob, tz) -> Job:
    return Job(str(j.id), j.point, float(j.duration_min), _aware(j.start, tz), j.title)


def busy_by_worker(client, workers: list[Worker], day: date, tz) -> dict[str, list[tuple[datetime, datetime]]]:
    if not workers:
        return {}
    res = client.call("calendar.accessibility.get", {"users": [int(w.id) for w in workers],
                                                     "from": day.isoformat(), "to": day.isoformat()}) or {}
    out: dict[str, list] = {}
    for uid, events in (res.items() if isinstance(res, dict) else []):
        for e in events or []:
            if str(e.get("ACCESSIBILITY", "busy")) == "free":
                continue
            try:
                a = datetime.fromtimestamp(int(e["DATE_FROM_TS_UTC"]), tz)
                b = datetime.fromtimestamp(int(e["DATE_TO_TS_UTC"]), tz)
            except (KeyError, ValueError, TypeError):
                continue
            if str(e.get("SKIP_TIME")) == "Y":
                b = a + timedelta(days=1)
            out.setdefault(str(uid), []).append((a, b))
    return out


def worker_days(services, member_id: str, day: date, current: list[OrderJob], workers: list[Worker],
                tz, not_before: datetime | None = None) -> list[WorkerDay]:
    """Each worker's ``day``: booked jobs, calendar busy time, and — with ``not_before`` (the portal's now)
    — the part of the day already over, so nothing is offered in the past (maps.booking_rules)."""
    busy = busy_by_worker(services.client(member_id), workers, day, tz)
    past = booking_rules.past_block(day, not_before) if not_before is not None else None
    out = []
    for w in workers:
        booked = tuple(to_job(j, tz) for j in current if str(j.worker_id or "") == w.id and j.point and j.start)
        spans = {(j.start, j.end) for j in booked}
        # the calendar events we create for jobs are the jobs themselves: count them once
        blocks = tuple(b for b in busy.get(w.id, []) if b not in spans) + ((past,) if past else ())
        out.append(WorkerDay(w, day, booked, blocks))
    return out


def _context(services, member_id: str, deal_id: int, pool: list[Worker] | None = None):
    conf = service.settings(services, member_id)
    tz = service.tz(conf)
    _, current = service.jobs(services, member_id)
    job = next((j for j in current if j.id == int(deal_id)), None)
    if job is None:
        try:
            job = one_job(services.client(member_id), installed_ids(services.store, member_id), deal_id)
        except B24Error as exc:
            if exc.code or "not found" not in exc.description.lower():
                raise
            job = None                                  # the legacy "Not found" of a deal id of no one here
    if job is None:
        raise NotAJob(said(f"deal {deal_id} is not an open deal of the b24app pipelines",
                           f"сделка {deal_id} — не открытый выезд воронок b24app"))
    if job.point is None:
        raise NoCoordinates(said(f"deal {deal_id} has no coordinates yet (address not geocoded)",
                                 f"у сделки {deal_id} ещё нет координат (адрес не найден на карте)"))
    return conf, tz, current, job, pool if pool is not None else service.team(services, member_id, current)


def _now(services, tz) -> datetime:
    """The portal's now (its time zone), to the minute: what "in the past" is measured against."""
    return services.now(tz).replace(second=0, microsecond=0)


def _today(services, tz) -> date:
    return _now(services, tz).date()


def candidates(services, member_id: str, deal_id: int, lang: str = "ru", day: date | None = None) -> dict:
    conf, tz, current, job, workers = _context(services, member_id, deal_id)
    sjob = to_job(job, tz)
    day = sjob.start.date() if sjob.start else (day or _today(services, tz))
    workers = service.for_pipeline(conf, job.pipeline, workers, current)
    days = worker_days(services, member_id, day, current, workers, tz, not_before=_now(services, tz))
    ranked = rank_candidates(sjob, days, service.travel(services.settings))
    return {"deal_id": job.id, "day": day.isoformat(), "job": _job_out(job), "candidates": [{
        "worker_id": int(c.worker.id), "name": c.worker.name, "fits": c.fits,
        "extra_minutes": None if c.extra_minutes is None else round(c.extra_minutes),
        "arrival": c.insertion.arrival.strftime("%Y-%m-%dT%H:%M") if c.insertion else None,
        "distance_km": None if c.distance_km is None else round(c.distance_km, 1),
        "reason": c.reason(lang), "current": str(job.worker_id or "") == c.worker.id} for c in ranked]}


def _job_out(j: OrderJob) -> dict:
    return {"id": j.id, "title": j.title, "client": j.client, "address": j.address, "worker_id": j.worker_id,
            "worker": j.worker, "time": j.start.strftime("%Y-%m-%dT%H:%M") if j.start else "",
            "pipeline": j.pipeline, "stage": j.stage, "lat": j.point[0] if j.point else None,
            "lon": j.point[1] if j.point else None, "duration": j.duration_min}


def pool_of(services, member_id: str, user_ids) -> list[Worker]:
    """Workers for an explicit list of users (a robot's candidates), with the portal's hours and homes."""
    conf = service.settings(services, member_id)
    homes = conf.get("homes") or {}
    return [Worker(str(u["ID"]), u["name"], service.working_hours(conf, u["ID"]),
                   tuple(homes[str(u["ID"])]) if str(u["ID"]) in homes else None)
            for u in users(services.client(member_id), {"ID": [int(x) for x in user_ids]})]


def auto_assign(services, member_id: str, deal_id: int, user_ids, job_at: datetime | None = None,
                lang: str = "ru") -> dict | None:
    """The robot's "assign the nearest free worker": rank ``user_ids`` for the job (at ``job_at`` when the
    deal has no time of its own) and assign the best one that fits; None when nobody fits."""
    pool = pool_of(services, member_id, user_ids)
    conf, tz, current, job, workers = _context(services, member_id, deal_id, pool)
    if job.start is None and job_at is not None:
        job = replace(job, start=job_at)
    sjob = to_job(job, tz)
    days = [sjob.start.date()] if sjob.start else [_today(services, tz) + timedelta(days=k) for k in range(14)]
    for d in days:
        ranked = [c for c in rank_candidates(sjob, worker_days(services, member_id, d, current, workers, tz,
                                                               not_before=_now(services, tz)),
                                             service.travel(services.settings)) if c.fits]
        if ranked:
            best = ranked[0]
            out = assign(services, member_id, deal_id, int(best.worker.id), lang, pool=workers,
                         start=best.insertion.arrival if sjob.start is None else sjob.start)
            out.update(distance_km=None if best.distance_km is None else round(best.distance_km, 2),
                       reason=best.reason(lang))
            return out
    return None


def assign(services, member_id: str, deal_id: int, worker_id: int, lang: str = "ru",
           by_user: int | None = None, *, pool: list[Worker] | None = None, start: datetime | None = None,
           override: bool = False) -> dict:
    """Deal worker (+ time) + calendar event + task, in one batch; returns what was written.

    The booking rules (maps.booking_rules) hold first: never in the past nor outside the worker's hours;
    a busy worker only with ``override`` (the dispatcher confirmed it), which puts a comment on the deal."""
    conf, tz, current, job, workers = _context(services, member_id, deal_id, pool)
    worker = next((w for w in workers if int(w.id) == int(worker_id)), None)
    if worker is None:
        raise NotInTeam(said(f"user {worker_id} is not in the field team",
                             f"пользователь {worker_id} не входит в выездную команду"))
    sjob = to_job(job, tz)
    travel = service.travel(services.settings)
    now = _now(services, tz)
    start = _aware(start, tz) or sjob.start    # an explicit time (date picker, swap) moves the job
    wd = None
    if start is None:                      # no agreed time: the worker's cheapest gap from now on
        day = _today(services, tz)
        for k in range(14):
            d = day + timedelta(days=k)
            wd = worker_days(services, member_id, d, current, [worker], tz, not_before=now)[0]
            ranked = rank_candidates(sjob, [wd], travel)
            if ranked and ranked[0].fits:
                start = ranked[0].insertion.arrival
                break
        if start is None:
            raise NoWindow(said(f"{worker.name} has no free window in the next 14 days",
                                f"у сотрудника {worker.name} нет свободного окна в ближайшие 14 дней"))
    if wd is None or wd.day != start.date():       # the day searched above is read once
        wd = worker_days(services, member_id, start.date(), current, [worker], tz)[0]
    overridden = booking_rules.check(wd, replace(sjob, start=start), travel, now, override=override)
    end = start + timedelta(minutes=job.duration_min)
    ids = installed_ids(services.store, member_id)
    lat, lon = job.point
    link = yandex_point_link(lat, lon)
    route = yandex_route_links([job.point], from_current_location=True)   # from where the worker stands
    fields = {ids.deal_field("worker"): int(worker_id)}
    if sjob.start is None or sjob.start != start:
        fields[ids.deal_field("job_at")] = start.isoformat()
    pipeline = ids.pipeline(job.pipeline)
    if job.stage == "new" and "scheduled" in pipeline.stages:   # a worker and a time: it is scheduled now
        fields["STAGE_ID"] = pipeline.stage("scheduled")
    title = f"{job.title}" if lang == "en" else f"{job.title}"
    where = job.address or f"{lat:.6f},{lon:.6f}"
    desc = (f"{job.client}\n{where}\n{start:%d.%m.%Y %H:%M}–{end:%H:%M}\n"
            + ("Маршрут в Яндекс Картах: " if lang != "en" else "Yandex Maps: ") + (route[0] if route else link))
    client = services.client(member_id)
    found = booking.find_bindings(client, job.id, [int(x) for x in (job.worker_id, worker_id) if x], sjob.start)
    cmds = booking.commands(job.id, fields, int(worker_id), start, end, title=title, description=desc,
                            location=where, by_user=by_user, found=found)
    if overridden:                         # the override is the dispatcher's decision: it stays on the deal
        cmds["override"] = ("crm.timeline.comment.add", {"fields": {
            "ENTITY_ID": job.id, "ENTITY_TYPE": "deal",
            "COMMENT": booking_rules.override_comment(worker.name, start, by_user, lang)}})
    res = client.batch(cmds, halt=True)
    if res.errors:
        key, err = next(iter(res.errors.items()))
        said_by_portal = getattr(err, 'description', None) or err
        raise PortalRefused(said(f"{key}: {said_by_portal}", f"Битрикс24 отказал ({key}): {said_by_portal}"))
    version = service.changed(services, member_id, [job.id])
    task = (res.result.get("task") or {}).get("task") or {}
    return {"deal_id": job.id, "worker_id": int(worker_id), "worker": worker.name, "start": start.isoformat(),
            "event_id": res.result.get("event"), "task_id": task.get("id") or task.get("ID"),
            "previous_worker_id": job.worker_id, "moved_events": len(found.events),
            "link": route[0] if route else link, "version": version, "override": overridden}


def worker_day(services, member_id: str, worker_id: int, day: date | None = None) -> dict:
    conf = service.settings(services, member_id)
    tz = service.tz(conf)
    day = day or _today(services, tz)              # "today" is the portal's today, not the server's
    _, current = service.jobs(services, member_id)
    workers = [w for w in service.team(services, member_id, current) if int(w.id) == int(worker_id)]
    if not workers:
        workers = [Worker(str(worker_id), f"#{worker_id}", service.working_hours(conf, worker_id))]
    wd = worker_days(services, member_id, day, current, workers, tz)[0]
    r = day_route(wd, service.travel(services.settings))
    jobs = {str(j.id): j for j in current}
    return {"worker_id": int(worker_id), "name": workers[0].name, "day": day.isoformat(),
            "drive_minutes": round(r.drive_minutes), "late_minutes": round(r.late_minutes),
            "overtime_minutes": round(r.overtime_minutes), "overlaps": [list(p) for p in r.overlaps],
            "busy": [[a.isoformat(), b.isoformat()] for a, b in wd.busy],
            "hours": [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in wd.worker.hours.intervals(day)],
            "windows": [{"start": w.start.strftime("%H:%M"), "end": w.end.strftime("%H:%M"),
                         "minutes": round(w.minutes), "after": w.after_job, "before": w.before_job}
                        for w in worker_windows(wd, service.travel(services.settings))],
            "stops": [{**_job_out(jobs[s.job_id]), "arrival": s.arrival.strftime("%H:%M"),
                       "start": s.start.strftime("%H:%M"), "end": s.end.strftime("%H:%M"),
                       "drive_minutes": round(s.drive_minutes), "late_minutes": round(s.late_minutes)}
                      for s in r.stops if s.job_id in jobs]}


def slots(services, member_id: str, deal_id: int, lang: str = "ru", days: int = 7, first: date | None = None) -> dict:
    """The date picker: every (date, worker) cell with its load and added driving, and the best slots."""
    if not 1 <= int(days) <= 31:
        raise BadDays(said("days must be between 1 and 31", "число дней — от 1 до 31"))
    conf, tz, current, job, workers = _context(services, member_id, deal_id)
    sjob = replace(to_job(job, tz), start=None)
    workers = service.for_pipeline(conf, job.pipeline, workers, current)
    now = _now(services, tz)
    first = max(first or now.date(), now.date())     # the grid never offers a day that is over
    dates = [first + timedelta(days=k) for k in range(days)]
    load = {}
    for d in dates:
        for wd in worker_days(services, member_id, d, [j for j in current if j.id != job.id], workers, tz,
                              not_before=now):
            load[(wd.worker.id, d)] = wd
    grid = best_slots(sjob, workers, dates, service.travel(services.settings), load)
    return {"deal_id": job.id, "days": [d.isoformat() for d in dates], "best": [{
        "worker_id": int(s.worker.id), "name": s.worker.name, "day": s.day.isoformat(),
        "arrival": s.insertion.arrival.strftime("%Y-%m-%dT%H:%M"), "extra_minutes": round(s.insertion.extra_minutes),
        "load": round(s.load or 0, 2), "score": round(s.score, 1)} for s in grid.best[:10]],
        "workers": [{"id": int(w.id), "name": w.name} for w in workers],
        "current": {"worker_id": job.worker_id, "time": job.start.strftime("%Y-%m-%dT%H:%M") if job.start else ""},
        "cells": _cells(grid)}


def _cells(grid) -> list[dict]:
    """Every cell of the grid; ``rank`` is the place among the best slots (1 = best), None outside them."""
    rank = {(s.worker.id, s.day): k + 1 for k, s in enumerate(grid.best)}
    out = []
    for (wid, d), c in sorted(grid.cells.items(), key=lambda kv: (kv[0][1], int(kv[0][0]))):
        out.append({"worker_id": int(wid), "day": d.isoformat(), "off": c.load is None, "fits": c.insertion is not None,
                    "load": None if c.load is None else round(c.load, 2),
                    "arrival": c.insertion.arrival.strftime("%Y-%m-%dT%H:%M") if c.insertion else None,
                    "extra_minutes": round(c.insertion.extra_minutes) if c.insertion else None,
                    "score": None if c.score is None else round(c.score, 1), "rank": rank.get((wid, d))})
    return out


def route(services, member_id: str, worker_id: int, day: date | None = None) -> dict:
    """The worker's day in the driving order that is best, and links that hand it to a phone.

    Booked jobs keep their agreed times (a fixed time each, up to ``fixed_slack_min`` late) and the day
    ends with the worker's shift — or with the last booked job when that is later, since a booked job
    outside the hours still happens (``maps.schedule``'s convention); a job that cannot be reached at its
    time keeps its agreed place in ``order`` and is named in ``unassigned`` (late), never moved silently."""
    conf = service.settings(services, member_id)
    tz = service.tz(conf)
    day = day or _today(services, tz)
    _, current = service.jobs(services, member_id)
    mine = [to_job(j, tz) for j in current if str(j.worker_id or "") == str(worker_id) and j.point and j.start
            and _aware(j.start, tz).date() == day]
    if not mine:
        return {"worker_id": int(worker_id), "day": day.isoformat(), "order": [], "yandex": [], "google": []}
    hours = service.working_hours(conf, worker_id)
    home = (conf.get("homes") or {}).get(str(worker_id))
    first = min(mine, key=lambda j: j.start)
    start_at = tuple(home) if home else first.location
    depart = min(first.start, datetime.combine(day, hours.start, tz))
    fixed = {j.id: j.start for j in mine if j.start is not None}
    finish_by = max([datetime.combine(day, hours.end, tz)] + [j.end for j in mine if j.end is not None])
    r = optimise_day(start_at, mine, fixed, service.travel(services.settings), depart_at=depart, finish_by=finish_by,
                     fixed_slack_min=float(conf.get("fixed_slack_min") or 0))
    by_id = {j.id: j for j in mine}
    # A booked job the worker cannot reach at its agreed time still happens (late): it stays in the route at
    # its agreed place in the day and is named in ``unassigned``, so the links and the map show every stop.
    rank = {i: k for k, i in enumerate(r.order)}
    order = sorted(list(r.order) + list(r.unassigned), key=lambda i: (by_id[i].start, rank.get(i, -1)))
    points = ([start_at] if home else []) + [by_id[i].location for i in order]
    return {"worker_id": int(worker_id), "day": day.isoformat(), "order": [int(i) for i in order],
            "arrivals": {i: t.strftime("%H:%M") for i, t in r.arrivals.items()},
            "starts": {i: t.strftime("%H:%M") for i, t in r.starts.items()},
            "finish_by": finish_by.strftime("%H:%M"),
            "drive_minutes": round(r.drive_minutes), "engine": r.engine, "unassigned": [int(i) for i in r.unassigned],
            "yandex": yandex_route_links(points), "google": google_route_links(points)}
