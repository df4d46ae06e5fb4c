"""Visits of a period, counted by region and by employee, from one keyset read of the Visit items.

Stages are what the visit kanban says now (visits.rules keeps them true: open → overdue → failed):
*planned* = still open (draft, in work, repeat visit), *done*, *overdue*, *failed*. A done visit is *on
time* when it reached *Visit done* (``movedTime``) before the local midnight after its date — the moment
visits.rules would have made it overdue. Employee = the visit's responsible (``assignedById``)."""
from __future__ import annotations

import logging
import time as _time

from b24app.errors import said
from install.registry import installed_ids
from visits import rules
from visits.read import user_names

from . import plan as plans
from .period import Period, ReportError

log = logging.getLogger("b24app.reports")
OPEN = set(rules.OPEN_STAGES)
COUNTS = ("planned", "done", "overdue", "failed", "total")


def _kind(stage_key: str | None) -> str:
    if stage_key in ("done", "overdue", "failed"):
        return stage_key
    return "planned" if stage_key in OPEN else "other"


def _user_filter(user) -> int | None:
    if user in (None, ""):
        return None
    try:
        value = int(user)
    except (TypeError, ValueError):
        raise ReportError(said(f"user: an employee id (integer) is expected, got {user!r}",
                               f"user: нужен id сотрудника (целое число), а не {user!r}")) from None
    if value <= 0:
        raise ReportError(said(f"user: a positive employee id is expected, got {user!r}",
                               f"user: нужен положительный id сотрудника, а не {user!r}"))
    return value


def read_visits(services, member_id: str, period: Period, region: str | None = None,
                user: int | None = None) -> tuple[list[dict], dict]:
    """The period's visits (only the fields counted), filtered by the portal; and what the read cost."""
    v = installed_ids(services.store, member_id).smart_process("visit")
    zone = rules.settings_of(services.store.kv, member_id).zone
    lo, hi = period.bounds(zone)
    date_f, region_f = v.field("visit_date"), v.field("region")
    filt = {"categoryId": v.category_id, f">={date_f}": lo.isoformat(), f"<{date_f}": hi.isoformat()}
    if region:
        filt[region_f] = region
    if user:
        filt["assignedById"] = int(user)
    client = services.client(member_id)
    calls, t = client.http_calls, _time.perf_counter()
    items = list(client.list_all("crm.item.list", {"entityTypeId": v.entity_type_id, "filter": filt,
                                                   "select": ["id", "stageId", "assignedById", "movedTime",
                                                              date_f, region_f]}))
    cost = {"rows": len(items), "http_calls": client.http_calls - calls,
            "seconds": round(_time.perf_counter() - t, 3)}
    log.info("reports: %s visits of %s..%s read in %s HTTP calls, %.2f s", cost["rows"], period.first,
             period.last, cost["http_calls"], cost["seconds"])
    rows = []
    for i in items:
        visit_at = rules.parse_dt(i.get(date_f), zone)
        moved = rules.parse_dt(i.get("movedTime"), zone)
        kind = _kind(v.stage_key(i.get("stageId")))
        rows.append({"id": int(i["id"]), "kind": kind, "manager": int(i.get("assignedById") or 0) or None,
                     "region": str(i.get(region_f) or "").strip(),
                     "on_time": kind == "done" and visit_at is not None and moved is not None
                     and moved < rules.day_over(visit_at, zone)})
    return rows, cost


def _blank() -> dict:
    return {k: 0 for k in COUNTS}


def _count(r: dict, row: dict) -> None:
    r["total"] += 1
    if row["kind"] in r:
        r[row["kind"]] += 1


def visits_report(services, member_id: str, period: Period, region: str | None = None, user=None) -> dict:
    """By region: planned / done / overdue / failed / total. By employee: plan for the period vs done
    (fact), percent of plan, done on time (count and % of done), overdue, failed, planned, total."""
    user = _user_filter(user)
    region = (region or "").strip() or None
    if region and len(region) > 255:
        raise ReportError(said(f"region: at most 255 characters are expected, got {len(region)}",
                               f"region: не длиннее 255 символов, а не {len(region)}"))
    rows, cost = read_visits(services, member_id, period, region, user)
    by_region: dict[str, dict] = {}
    by_user: dict[int, dict] = {}
    totals = _blank()
    for row in rows:
        _count(by_region.setdefault(row["region"], {"region": row["region"], **_blank()}), row)
        u = by_user.setdefault(row["manager"] or 0, {"user_id": row["manager"], "on_time": 0, **_blank()})
        _count(u, row)
        u["on_time"] += 1 if row["on_time"] else 0
        _count(totals, row)
    plan = plans.Plans(services.store, member_id, period.first, period.last)
    if region is None:               # plan holders without visits in the period still show their plan
        for uid in plan.holders():
            if uid not in by_user and (user is None or uid == user):
                by_user[uid] = {"user_id": uid, "on_time": 0, **_blank()}
    names = user_names(services.client(member_id), set(by_user)) if by_user else {}
    employees = []
    for uid in sorted(by_user, key=lambda k: (k == 0, k)):
        r = by_user[uid]
        target = plan.for_user(uid) if uid else None
        r.update(name=names.get(str(uid), f"#{uid}") if uid else "", plan=target, fact=r["done"],
                 percent=round(100 * r["done"] / target) if target else None,
                 on_time_percent=round(100 * r["on_time"] / r["done"]) if r["done"] else None)
        employees.append(r)
    regions = sorted(by_region.values(), key=lambda r: (r["region"] == "", r["region"].casefold()))
    return {"period": period.public(), "filters": {"region": region, "user": user}, "regions": regions,
            "employees": employees, "totals": totals, "read": cost,
            "options": {"regions": [r["region"] for r in regions if r["region"]],
                        "users": [{"id": e["user_id"], "name": e["name"]} for e in employees if e["user_id"]]}}
