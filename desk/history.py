"""Equipment history: the machine's card (who owns it, price, manufacturer, warranty left, hours) with every
work order linked to it and the repair reasons; statistics of request reasons per model."""
from __future__ import annotations

from collections import Counter, defaultdict

from b24app.errors import said
from install.registry import installed_ids

from . import workorder
from .lookup import EQ_KEYS, machine_row, today_of


class MachineNotFound(LookupError):
    """No such Equipment item (→ 404)."""


def _orders(services, member_id: str, ids, flt: dict) -> list[dict]:
    cats = [ids.pipeline(s).category_id for s in workorder.SCENARIOS]
    return list(services.client(member_id).list_all("crm.deal.list", {
        "filter": {**flt, "@CATEGORY_ID": cats}, "select": workorder.select(ids), "order": {"ID": "DESC"}}))


def machine_card(services, member_id: str, equipment_id: int, lang: str = "ru") -> dict:
    ids = installed_ids(services.store, member_id)
    eq = ids.smart_process("equipment")
    try:
        item = services.client(member_id).call("crm.item.get", {"entityTypeId": eq.entity_type_id,
                                                                "id": int(equipment_id)})["item"]
    except Exception as exc:
        if "not found" in str(getattr(exc, "description", "") or exc).lower():
            raise MachineNotFound(said(f"equipment {equipment_id} not found", f"техника {equipment_id} не найдена")) \
                from None
        raise
    f = {k: eq.field(k) for k in EQ_KEYS}
    row = machine_row(eq, f, item, today_of(services, member_id), lang)
    orders = []
    for d in _orders(services, member_id, ids, {workorder.uf(ids, "svc_equipment"): int(equipment_id)}):
        scenario = workorder.scenario_of(ids, d)
        orders.append({"id": int(d["ID"]), "title": d.get("TITLE") or "", "scenario": scenario,
                       "stage": ids.pipeline(scenario).stage_key(d.get("STAGE_ID") or ""),
                       "reason": d.get(workorder.uf(ids, "svc_reason")) or "",
                       "request_type": d.get(workorder.uf(ids, "svc_request_type")) or "",
                       "hours": d.get(workorder.uf(ids, "svc_hours")), "created": (d.get("DATE_CREATE") or "")[:10],
                       "path": f"/crm/deal/details/{int(d['ID'])}/"})
    reasons = Counter(o["reason"] for o in orders if o["reason"])
    return {**row, "orders": orders, "reasons": [{"reason": r, "count": n} for r, n in reasons.most_common()]}


def reason_stats(services, member_id: str) -> dict:
    """{models: [{model, orders, reasons: [{reason, count}]}]} over every work order with a machine."""
    ids = installed_ids(services.store, member_id)
    eq = ids.smart_process("equipment")
    orders = _orders(services, member_id, ids, {">" + workorder.uf(ids, "svc_equipment"): 0})
    machine_ids = sorted({int(o[workorder.uf(ids, "svc_equipment")]) for o in orders
                          if str(o.get(workorder.uf(ids, "svc_equipment")) or "").isdigit()})
    models = {}
    if machine_ids:
        for it in services.client(member_id).list_all("crm.item.list", {
                "entityTypeId": eq.entity_type_id, "filter": {"@id": machine_ids},
                "select": ["id", eq.field("model")]}):
            models[int(it["id"])] = it.get(eq.field("model")) or "—"
    by_model: dict[str, Counter] = defaultdict(Counter)
    count: Counter = Counter()
    for o in orders:
        mid = o.get(workorder.uf(ids, "svc_equipment"))
        if not str(mid or "").isdigit() or int(mid) not in models:
            continue
        model = models[int(mid)]
        count[model] += 1
        reason = (o.get(workorder.uf(ids, "svc_reason")) or "").strip()
        if reason:
            by_model[model][reason] += 1
    return {"models": [{"model": m, "orders": n,
                        "reasons": [{"reason": r, "count": c} for r, c in by_model[m].most_common()]}
                       for m, n in count.most_common()]}
