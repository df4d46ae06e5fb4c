"""Jobs per worker for a period, with travel and on-site minutes.

Where the minutes come from is a seam: ``SOURCES`` is a list of functions
``source(services, member_id, first: date, last: date) -> list[dict] | None`` returning per worker
``{"worker_id", "jobs", "finished", "on_site_minutes", "travel_minutes"}``; the first one that answers
(not None) is used. The field worker's phone (field/, built separately) records travel and on-site minutes
from the worker's own taps and registers its source here with ``add_source`` from its plugin — its
figures then win. Until then, and for portals without it, the orders map's job facts answer
(maps.stats.job_stats: what the Start/Finish job robots recorded). Jobs have no region: the region filter
of the dashboard applies to visits only."""
from __future__ import annotations

from maps.stats import job_stats
from visits.read import user_names

from .period import Period
from .visits_report import _user_filter


def maps_facts(services, member_id: str, first, last) -> list[dict]:
    return job_stats(services, member_id, first, last)["workers"]


SOURCES: list = []                 # field/ adds its own in front (add_source); maps_facts is the fallback


def add_source(fn) -> None:
    if fn not in SOURCES:
        SOURCES.insert(0, fn)


def workers(services, member_id: str, period: Period) -> tuple[list[dict], str]:
    for fn in SOURCES:
        got = fn(services, member_id, period.first, period.last)
        if got is not None:
            return got, getattr(fn, "source_name", fn.__module__)
    return maps_facts(services, member_id, period.first, period.last), "maps"


def jobs_report(services, member_id: str, period: Period, user=None, names=None) -> dict:
    """Per worker: jobs started, finished, on-site and travel minutes, average on-site minutes per finished
    job and average travel minutes per job. ``names(ids) -> {str id: name}`` (default: asked now)."""
    user = _user_filter(user)
    rows_in, source = workers(services, member_id, period)
    rows_in = [w for w in rows_in if user is None or w["worker_id"] == user]
    if names is None:
        def names(ids):
            return user_names(services.client(member_id), ids)
    known = names({w["worker_id"] for w in rows_in if w["worker_id"]})
    rows = []
    for w in rows_in:
        wid = w["worker_id"]
        rows.append({**w, "name": known.get(str(wid), f"#{wid}") if wid else "",
                     "avg_on_site_minutes": round(w["on_site_minutes"] / w["finished"], 1) if w["finished"] else None,
                     "avg_travel_minutes": round(w["travel_minutes"] / w["jobs"], 1) if w["jobs"] else None})
    totals = {k: sum(r[k] for r in rows) for k in ("jobs", "finished", "on_site_minutes", "travel_minutes")}
    return {"period": period.public(), "filters": {"user": user}, "workers": rows, "totals": totals,
            "source": source}
