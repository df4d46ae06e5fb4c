"""The manager-level views: the company map (visited companies yellow), the month's stats against the
plan, and a manager's day route in the best order (maps/routing.py), opened in Yandex Maps.

The popup shows the company fields the portal's administrator chose (visits/settings.py).
"Visited" = a visit of the company finished (stage *Visit done*) with its date inside the period
(``visits.visited_period`` in store.kv: month | quarter | year | <n>d | YYYY-MM; default month).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from install.registry import NotInstalled, installed_ids
from maps.links import yandex_route_links

from . import rules, settings
from .read import month_bounds, row, user_names, visit_fields

VISITED = "#FFD400"
NOT_VISITED = "#3D7BD9"


def period_start(period: str, zone, today: date | None = None) -> datetime:
    today = today or datetime.now(zone).date()
    if period == "quarter":
        first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    elif period == "year":
        first = today.replace(month=1, day=1)
    elif len(period) == 7 and period[4] == "-" and period.replace("-", "").isdigit():     # "2026-01"
        first = date(int(period[:4]), int(period[5:]), 1)
    elif period.endswith("d") and period[:-1].isdigit():
        first = today - timedelta(days=int(period[:-1]))
    else:
        first = today.replace(day=1)
    return datetime.combine(first, time(0), tzinfo=zone)


def _coords(raw) -> tuple[float, float] | None:
    try:
        lat, lon = (float(x) for x in str(raw or "").split(",")[:2])
    except ValueError:
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def company_map(services, member_id: str, period: str | None = None, manager: int | None = None) -> dict:
    """Companies with coordinates as markers; two list_all reads (companies, finished visits)."""
    store = services.store
    ids = installed_ids(store, member_id)
    v = ids.smart_process("visit")
    zone = rules.settings_of(store.kv, member_id).zone
    period = settings.check_period(period) if period else settings.visited_period(store.kv, member_id)
    since = period_start(period, zone)
    shown = settings.popup_fields(store.kv, member_id)
    client = services.client(member_id)
    try:
        coord_f = ids.company_field("coordinates")
    except NotInstalled:
        coord_f = None
    filt = {"ASSIGNED_BY_ID": int(manager)} if manager else {}
    select = list(dict.fromkeys(["ID", "TITLE", "ADDRESS", "ASSIGNED_BY_ID"] + ([coord_f] if coord_f else [])
                                + [f["code"] for f in shown]))
    companies = list(client.list_all("crm.company.list", {"select": select, "filter": filt}))
    date_f = v.field("visit_date")
    done = client.list_all("crm.item.list", {"entityTypeId": v.entity_type_id, "select": ["id", "companyId"],
                                             "filter": {"stageId": v.stage("done"), f">={date_f}": since.isoformat()}})
    visited = {int(i.get("companyId") or 0) for i in done}
    markers, unplaced = [], []
    for c in companies:
        p = _coords(c.get(coord_f)) if coord_f else None
        entry = {"id": int(c["ID"]), "title": c.get("TITLE") or "", "address": c.get("ADDRESS") or "",
                 "visited": int(c["ID"]) in visited, "manager": int(c.get("ASSIGNED_BY_ID") or 0) or None,
                 "fields": [{"code": f["code"], "label": f.get("label") or f["code"],
                             "value": settings.display(c.get(f["code"]), f)} for f in shown]}
        if p is None:
            unplaced.append(entry)
            continue
        entry.update(lat=p[0], lon=p[1], color=VISITED if entry["visited"] else NOT_VISITED)
        markers.append(entry)
    return {"period": period, "since": since.isoformat(), "markers": markers, "unplaced": unplaced,
            "visited": sum(1 for m in markers if m["visited"])}


def stats(services, member_id: str, month: str | None = None) -> dict:
    """Per manager: visits done this month vs the plan (``visits.plan`` in kv: {user id: n, "default": n})."""
    store = services.store
    v = installed_ids(store, member_id).smart_process("visit")
    zone = rules.settings_of(store.kv, member_id).zone
    lo, hi = month_bounds(month, zone)
    date_f = v.field("visit_date")
    client = services.client(member_id)
    items = client.list_all("crm.item.list", {"entityTypeId": v.entity_type_id,
                                              "select": ["id", "stageId", "assignedById", date_f],
                                              "filter": {"categoryId": v.category_id, f">={date_f}": lo.isoformat(),
                                                         f"<{date_f}": hi.isoformat()}})
    plan = store.kv.get(member_id, rules.KV_PLAN) or {}
    per: dict[int, dict] = {}
    for i in items:
        m = int(i.get("assignedById") or 0)
        r = per.setdefault(m, {"manager": m, "done": 0, "open": 0, "overdue": 0, "failed": 0, "total": 0})
        key = v.stage_key(i.get("stageId"))
        r["total"] += 1
        if key in ("done", "failed", "overdue"):
            r[key] += 1
        else:
            r["open"] += 1
    names = user_names(client, per)
    rows = []
    for m, r in sorted(per.items()):
        target = plan.get(str(m), plan.get("default"))
        r["plan"] = int(target) if target not in (None, "") else None
        r["percent"] = round(100 * r["done"] / r["plan"]) if r["plan"] else None
        r["name"] = names.get(str(m), f"#{m}")
        rows.append(r)
    return {"month": lo.strftime("%Y-%m"), "rows": rows}


def day_route(services, member_id: str, manager: int, day: str, start: tuple[float, float] | None = None) -> dict:
    """The manager's open visits of the day in the best order; fixed visit times are kept."""
    from maps.routing import optimise_day
    from maps.schedule import Job

    store = services.store
    ids = installed_ids(store, member_id)
    v = ids.smart_process("visit")
    zone = rules.settings_of(store.kv, member_id).zone
    d = date.fromisoformat(day)
    lo = datetime.combine(d, time(0), tzinfo=zone)
    date_f = v.field("visit_date")
    client = services.client(member_id)
    items = [row(i, v) for i in client.list_all("crm.item.list", {
        "entityTypeId": v.entity_type_id, "select": visit_fields(v),
        "filter": {"assignedById": int(manager), f">={date_f}": lo.isoformat(),
                   f"<{date_f}": (lo + timedelta(days=1)).isoformat()}})]
    items = [r for r in items if r["stage"] not in ("done", "failed") and r["company_id"]]
    coord_f = ids.company_field("coordinates")
    comp = {}
    cids = sorted({r["company_id"] for r in items})
    for k in range(0, len(cids), 50):
        for c in client.call("crm.company.list", {"filter": {"@ID": cids[k:k + 50]},
                                                  "select": ["ID", "TITLE", "ADDRESS", coord_f]}):
            comp[int(c["ID"])] = c
    stops, unplaced = [], []
    for r in items:
        c = comp.get(r["company_id"]) or {}
        p = _coords(c.get(coord_f))
        r.update(company=c.get("TITLE") or "", address=c.get("ADDRESS") or "")
        (stops if p else unplaced).append((r, p))
    if not stops:
        return {"stops": [], "unplaced": [r for r, _ in unplaced], "links": [], "drive_minutes": 0}
    first_at = min((rules.parse_dt(r["date"], zone) for r, _ in stops), default=lo)
    origin = start or stops[0][1]
    jobs = [Job(id=str(r["id"]), location=p, duration_min=45, title=r["title"]) for r, p in stops]
    route = optimise_day(origin, jobs, depart_at=first_at.replace(tzinfo=None) if first_at else lo, engine="auto")
    by_id = {str(r["id"]): (r, p) for r, p in stops}
    ordered = []
    for jid in route.order:
        r, p = by_id[jid]
        ordered.append({**r, "lat": p[0], "lon": p[1], "arrive": route.arrivals[jid].strftime("%H:%M")})
    ordered += [{**by_id[j][0], "lat": by_id[j][1][0], "lon": by_id[j][1][1], "arrive": None}
                for j in route.unassigned]
    links = yandex_route_links([(s["lat"], s["lon"]) for s in ordered], from_current_location=start is None)
    return {"stops": ordered, "unplaced": [r for r, _ in unplaced], "links": links,
            "drive_minutes": round(route.drive_minutes)}
