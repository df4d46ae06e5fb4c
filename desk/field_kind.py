"""A mechanic's work orders on the worker's phone (field/): the desk's job kind.

Seed 003: "the mechanic sees the order on his phone, takes photos, the act and comments". The phone page,
its offline queue, the exactly-once ledger and the navigation links are field/'s; this kind answers what a
work order is to it:

- ``items``: the mechanic's open work orders whose window (``svc_job_from``) falls on the day, read with
  his own token, placed at the client company's address (and its map point when the orders map has one);
- ``owned``: the order read with his token — one of the five scenario pipelines, and he is its mechanic
  (another's → NotYours), so every tap is scoped as a job's is;
- ``move``: a work order's stage is *computed* from its status fields (a hand on the stage is reverted), so
  "finished" ticks the mechanic's "done" field and lets the order settle at its computed stage; "started"
  moves nothing (there is no stage for it).
"""
from __future__ import annotations

from b24app.errors import B24Error, said
from b24app.registry import DISABLED_KEY
from field.day import JOB_ACTIONS, DayItem, NotFound, NotYours, Owned
from install.registry import installed_ids
from maps.geo import parse_point
from maps.geocoding import company_address

from . import workorder
from .mechanics import _dt as _when    # a portal datetime, naive ones in the portal's zone

DOMAIN = "desk"


class WorkOrders:
    kind = "work_order"
    actions = JOB_ACTIONS

    def items(self, services, member_id: str, worker_id: int, day, zone) -> list[DayItem]:
        if DOMAIN in (services.store.kv.get(member_id, DISABLED_KEY) or []):
            return []
        ids = installed_ids(services.store, member_id)       # NotInstalled: field/ skips the kind
        cats = [ids.pipeline(k).category_id for k in workorder.SCENARIOS if k in ids.data.get("pipelines", {})]
        if not cats:
            return []
        client = services.client(member_id)                  # his token: what the portal lets him read
        from_f, to_f = workorder.uf(ids, "svc_job_from"), workorder.uf(ids, "svc_job_to")
        deals = client.list_all("crm.deal.list", {
            "filter": {"@CATEGORY_ID": cats, "CLOSED": "N", workorder.uf(ids, "svc_mechanic"): int(worker_id)},
            "select": ["ID", "TITLE", "STAGE_ID", "CATEGORY_ID", "COMPANY_ID", from_f, to_f]})
        todays = []
        for d in deals:
            start = _when(d.get(from_f), zone)
            if start is not None and start.astimezone(zone).date() == day:
                todays.append((d, start, _when(d.get(to_f), zone)))
        companies: dict[int, dict] = {}
        company_ids = sorted({int(d.get("COMPANY_ID") or 0) for d, _, _ in todays} - {0})
        if company_ids:
            point_f = ids.company_field("coordinates")
            for c in client.list_all("crm.company.list", {"filter": {"@ID": company_ids},
                                                            "select": ["ID", "TITLE", "ADDRESS", "ADDRESS_CITY",
                                                                       point_f]}):
                companies[int(c["ID"])] = {"title": c.get("TITLE") or "", "address": company_address(c),
                                           "point": parse_point(c.get(point_f))}
        out = []
        for d, start, end in todays:
            c = companies.get(int(d.get("COMPANY_ID") or 0), {})
            minutes = int((end - start).total_seconds() // 60) if end and end > start else 60
            pipe = ids.pipeline_of_category(int(d.get("CATEGORY_ID") or 0))
            out.append(DayItem(self.kind, int(d["ID"]), d.get("TITLE") or "", start, minutes, c.get("address", ""),
                               c.get("point"), c.get("title", ""),
                               pipe.stage_key(str(d.get("STAGE_ID") or "")) if pipe else "",
                               pipe.key if pipe else "", self.actions))
        return out

    def owned(self, services, member_id: str, worker_id: int, item_id: int) -> Owned:
        ids = installed_ids(services.store, member_id)
        try:
            deal = services.client(member_id).call("crm.deal.get", {"id": int(item_id)})
        except B24Error as exc:
            if "not found" in str(exc.description or "").lower():
                raise NotFound(said(f"work order {item_id} not found", f"заказ-наряд {item_id} не найден")) from None
            raise
        if workorder.scenario_of(ids, deal) is None:
            raise NotFound(said(f"deal {item_id} is not a work order", f"сделка {item_id} — не заказ-наряд"))
        if str(deal.get(workorder.uf(ids, "svc_mechanic")) or "") != str(int(worker_id)):
            raise NotYours(said(f"work order {item_id} is another mechanic's",
                                f"заказ-наряд {item_id} назначен другому механику"))
        return Owned(self.kind, int(item_id), int(worker_id), "deal", deal.get("TITLE") or "",
                     int(deal.get("ASSIGNED_BY_ID") or 0) or None, None, str(deal.get("STAGE_ID") or ""),
                     {"category_id": int(deal.get("CATEGORY_ID") or 0)}, ("deal", int(item_id)))

    def move(self, services, member_id: str, owned: Owned, step: str) -> str | None:
        if step != "finished":
            return None
        view = workorder.write(services, member_id, owned.id, {"svc_mechanic_done": "Y"})
        pipe = installed_ids(services.store, member_id).pipeline(view["scenario"])
        return pipe.stage(view["computed"])
