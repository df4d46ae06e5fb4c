"""The manager-level views: the company map (visited companies yellow), the month's stats against the
plan (a manager's day route is visits/route.py).

The popup shows the company fields the portal's administrator chose (visits/settings.py).
"Visited" = a visit of the company finished (stage *Visit done*) with its date inside the period
(``visits.visited_period`` in store.kv: month | quarter | year | <n>d | YYYY-MM; default month).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from install.registry import NotInstalled, installed_ids

from . import rules, settings
from .read import month_bounds, user_names

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


# Plans per person for one month kept by another domain (reports/ registers its reports_plans table here
# from its plugin): fn(store, member_id, "YYYY-MM") -> {user id: visits}. They win over the kv plan.
MONTH_PLANS: list = []


def stats(services, member_id: str, month: str | None = None) -> dict:
    """Per manager: visits done this month vs the plan — the month's own plan where one is set (the
    dashboards' Plans tab, MONTH_PLANS), else ``visits.plan`` in kv: {user id: n, "default": n}."""
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
    own: dict[int, int] = {}
    for fn in MONTH_PLANS:
        own.update(fn(store, member_id, lo.strftime("%Y-%m")))
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
        target = own.get(m, plan.get(str(m), plan.get("default")))
        r["plan"] = int(target) if target not in (None, "") else None
        r["percent"] = round(100 * r["done"] / r["plan"]) if r["plan"] else None
        r["name"] = names.get(str(m), f"#{m}")
        rows.append(r)
    return {"month": lo.strftime("%Y-%m"), "rows": rows}
