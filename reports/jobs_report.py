"""Jobs of the orders map per worker for a period — maps.stats.job_stats (what the Start/Finish job
robots recorded) with the workers' names and averages per job. Jobs have no region: the region filter of
the dashboard applies to visits only."""
from __future__ import annotations

from maps.stats import job_stats
from visits.read import user_names

from .period import Period
from .visits_report import _user_filter


def jobs_report(services, member_id: str, period: Period, user=None) -> dict:
    """Per worker: jobs started, finished, on-site and travel minutes, average on-site minutes per finished
    job and average travel minutes per job."""
    user = _user_filter(user)
    st = job_stats(services, member_id, period.first, period.last)
    workers = [w for w in st["workers"] if user is None or w["worker_id"] == user]
    names = user_names(services.client(member_id), {w["worker_id"] for w in workers if w["worker_id"]})
    rows = []
    for w in workers:
        wid = w["worker_id"]
        rows.append({**w, "name": names.get(str(wid), f"#{wid}") if wid else "",
                     "avg_on_site_minutes": round(w["on_site_minutes"] / w["finished"], 1) if w["finished"] else None,
                     "avg_travel_minutes": round(w["travel_minutes"] / w["jobs"], 1) if w["jobs"] else None})
    totals = {k: sum(r[k] for r in rows) for k in ("jobs", "finished", "on_site_minutes", "travel_minutes")}
    return {"period": period.public(), "tz": st["tz"], "filters": {"user": user}, "workers": rows,
            "totals": totals}
