"""What the visit pages show, read from the portal in as few calls as the page needs: a company's visits,
a month of visits (by stage or by manager), one visit with its company card and the company's other
visits. Rows are plain dicts with our stage/type keys, so the pages never see portal ids.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from b24app.errors import B24Error, said
from install.registry import NotInstalled, installed_ids

from . import rules

COMPANY_FIELDS = ("TITLE", "ADDRESS", "COMMENTS")      # editable in place on the visit page


class NotFound(LookupError):
    pass


def visit_fields(v) -> list[str]:
    return ["id", "title", "stageId", "assignedById", "companyId", "updatedTime", "movedTime",
            v.field("visit_date"), v.field("visit_type"), v.field("purpose"), v.field("result"), v.field("region")]


def row(item: dict, v) -> dict:
    """A crm.item as the pages use it."""
    enum = item.get(v.field("visit_type"))
    vtype = next((x for x, eid in (v.enums.get("visit_type") or {}).items() if str(eid) == str(enum)), None)
    return {"id": int(item["id"]), "title": item.get("title") or "", "stage": v.stage_key(item.get("stageId")),
            "date": item.get(v.field("visit_date")) or "", "type": vtype, "purpose": item.get(v.field("purpose")) or "",
            "result": item.get(v.field("result")) or "", "company_id": int(item.get("companyId") or 0) or None,
            "manager": int(item.get("assignedById") or 0) or None, "region": item.get(v.field("region")) or ""}


def _visit_ids(store, member_id):
    return installed_ids(store, member_id).smart_process("visit")


def company_visits(services, member_id: str, company_id: int, now: datetime | None = None) -> dict:
    """Past and planned visits of one company (the company card tab, the visit page)."""
    v = _visit_ids(services.store, member_id)
    client = services.client(member_id)
    items = client.list_all("crm.item.list", {"entityTypeId": v.entity_type_id, "select": visit_fields(v),
                                              "filter": {"companyId": int(company_id)}})
    rows = sorted((row(i, v) for i in items), key=lambda r: r["date"])
    now = now or datetime.now().astimezone()
    zone = rules.settings_of(services.store.kv, member_id).zone

    def planned(r):
        d = rules.parse_dt(r["date"], zone)
        return r["stage"] not in ("done", "failed") and (d is None or d >= now or r["stage"] != "overdue")
    return {"planned": [r for r in rows if planned(r)], "past": [r for r in rows if not planned(r)][::-1]}


def month_bounds(month: str | None, zone) -> tuple[datetime, datetime]:
    today = datetime.now(zone).date()
    if month:
        y, m = (int(x) for x in month.split("-")[:2])
        first = date(y, m, 1)
    else:
        first = today.replace(day=1)
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(first, time(0), tzinfo=zone), datetime.combine(nxt, time(0), tzinfo=zone)


def month_visits(services, member_id: str, month: str | None = None, manager: int | None = None) -> dict:
    """Every visit dated in the month (list_all: ⌈N/2500⌉+1 calls) and the managers' names."""
    v = _visit_ids(services.store, member_id)
    zone = rules.settings_of(services.store.kv, member_id).zone
    lo, hi = month_bounds(month, zone)
    date_f = v.field("visit_date")
    filt = {"categoryId": v.category_id, f">={date_f}": lo.isoformat(), f"<{date_f}": hi.isoformat()}
    if manager:
        filt["assignedById"] = int(manager)
    client = services.client(member_id)
    rows = [row(i, v) for i in client.list_all("crm.item.list", {"entityTypeId": v.entity_type_id,
                                                                 "select": visit_fields(v), "filter": filt})]
    rows.sort(key=lambda r: r["date"])
    return {"month": lo.strftime("%Y-%m"), "visits": rows, "managers": user_names(client, {r["manager"] for r in rows}),
            "companies": company_titles(client, {r["company_id"] for r in rows})}


def user_names(client, ids) -> dict:
    ids = sorted(i for i in ids if i)
    if not ids:
        return {}
    res = client.batch_many([("user.get", {"ID": i}) for i in ids])
    out = {}
    for i, r in zip(ids, res):
        u = (r.result or [{}])[0] if r.ok and isinstance(r.result, list) else {}
        out[str(i)] = f"{u.get('NAME', '')} {u.get('LAST_NAME', '')}".strip() or f"#{i}"
    return out


def company_titles(client, ids) -> dict:
    ids = sorted(i for i in ids if i)
    out = {}
    for k in range(0, len(ids), 50):
        for c in client.call("crm.company.list", {"filter": {"@ID": ids[k:k + 50]}, "select": ["ID", "TITLE"]}):
            out[str(c["ID"])] = c.get("TITLE") or ""
    return out


def find_companies(services, member_id: str, q: str, limit: int = 20) -> list[dict]:
    """Companies whose name contains ``q`` (the phone page's picker for an unplanned visit): one call."""
    q = str(q or "").strip()
    if len(q) < 2:
        return []
    rows = services.client(member_id).call("crm.company.list", {
        "filter": {"%TITLE": q[:100]}, "select": ["ID", "TITLE", "ADDRESS"], "order": {"TITLE": "ASC"}})
    return [{"id": int(c["ID"]), "title": c.get("TITLE") or "", "address": c.get("ADDRESS") or ""}
            for c in (rows or [])[:limit]]


def company_card(services, member_id: str, company_id: int) -> dict:
    """The fields a manager sees and edits on the visit page."""
    ids = installed_ids(services.store, member_id)
    c = services.client(member_id).call("crm.company.get", {"id": int(company_id)})
    card = {"id": int(c["ID"]), "TITLE": c.get("TITLE") or "", "ADDRESS": c.get("ADDRESS") or "",
            "COMMENTS": c.get("COMMENTS") or "", "ASSIGNED_BY_ID": c.get("ASSIGNED_BY_ID"),
            "PHONE": ", ".join(p.get("VALUE", "") for p in (c.get("PHONE") or []) if isinstance(p, dict))}
    try:
        card["region"] = c.get(ids.company_field("region")) or ""
        card["coordinates"] = c.get(ids.company_field("coordinates")) or ""
    except NotInstalled:
        pass
    return card


def visit_page(services, member_id: str, visit_id: int) -> dict:
    """One visit + its company card, the company's other visits and its contacts: four reads."""
    v = _visit_ids(services.store, member_id)
    try:
        item = services.client(member_id).call("crm.item.get", {"entityTypeId": v.entity_type_id,
                                                                "id": int(visit_id)})["item"]
    except B24Error as exc:
        if exc.code == "NOT_FOUND":
            raise NotFound(said(f"visit {visit_id} not found", f"визит {visit_id} не найден")) from None
        raise
    visit = row(item, v)
    out = {"visit": visit, "company": None, "company_visits": {"planned": [], "past": []}, "contacts": []}
    if visit["company_id"]:
        out["company"] = company_card(services, member_id, visit["company_id"])
        out["company_visits"] = company_visits(services, member_id, visit["company_id"])
        out["contacts"] = company_contacts(services, member_id, visit["company_id"])
    return out


def _first(multi) -> str:
    return next((str(m.get("VALUE") or "") for m in multi or [] if isinstance(m, dict)), "")


def company_contacts(services, member_id: str, company_id: int) -> list[dict]:
    """The company's contacts as the person may read them (his token): name, post, first phone and e-mail."""
    rows = services.client(member_id).call("crm.contact.list", {
        "filter": {"COMPANY_ID": int(company_id)}, "order": {"ID": "ASC"},
        "select": ["ID", "NAME", "LAST_NAME", "POST", "PHONE", "EMAIL"]}) or []
    return [{"id": int(c["ID"]), "NAME": c.get("NAME") or "", "LAST_NAME": c.get("LAST_NAME") or "",
             "POST": c.get("POST") or "", "PHONE": _first(c.get("PHONE")), "EMAIL": _first(c.get("EMAIL"))}
            for c in rows[:50]]
