"""Seed 004 on the demo portal (``b24app demo``): the preset installed with its pipelines and fields, and deals
and leads that make every rule of it fire — the event rules through the portal's own events as the worker
reads them, the time-based ones on the scheduler's first pass. Everything goes through the portal with the
app's own token; what the portal cannot do through REST (a deal that entered its stage days ago) is returned
as ``backdate`` for the demo's sandbox to apply (b24app/cli.py), so nothing here touches the emulator."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from . import presets

PRESET = "seed004_furniture"


def seed(services, member_id: str, *, manager: int = 2, production_head: int = 1, technologist: int = 3,
         now: datetime | None = None) -> dict:
    """``manager`` owns the demo's deals (his department head hears the escalations)."""
    now = now or datetime.now(UTC)
    values = {**presets.defaults(PRESET), **presets.install_structure(services, member_id, PRESET)}
    presets.install(services, member_id, PRESET, {**values, "production_head": production_head,
                                                  "technologist": technologist})
    c = services.client(member_id)
    cat = int(values["category"])
    st = {k[6:]: v for k, v in values.items() if k.startswith("stage_")}
    me = int(manager)
    passed = {"OPPORTUNITY": 185000, values["field_payment_amount"]: 90000, values["field_due_date"]:
              (now + timedelta(days=20)).date().isoformat(), values["field_tech_docs"]: "КД, заявка, ЧПУ"}
    no_docs = {k: v for k, v in passed.items() if k != values["field_tech_docs"]}
    out: dict = {"deals": {}, "leads": {}, "backdate": {}}

    def deal(key: str, stage: str, title: str, **fields) -> int:
        did = int(c.call("crm.deal.add", {"fields": {"TITLE": title, "CATEGORY_ID": cat, "STAGE_ID": st[stage],
                                                     "ASSIGNED_BY_ID": me, **fields}}))
        out["deals"][key] = did
        return did

    def move(did: int, stage: str, **fields) -> None:
        c.call("crm.deal.update", {"id": did, "fields": {"STAGE_ID": st[stage], **fields}})

    def upd(did: int, **fields) -> None:
        c.call("crm.deal.update", {"id": did, "fields": fields})

    # leads: one waits in "New" (backdated: the head hears of it), one is taken into work (the order-type task)
    waiting = int(c.call("crm.lead.add", {"fields": {"TITLE": "Прилавок для магазина (сайт)", "ASSIGNED_BY_ID": me}}))
    taken = int(c.call("crm.lead.add", {"fields": {"TITLE": "Стеллажи для склада (звонок)", "ASSIGNED_BY_ID": me}}))
    c.call("crm.lead.update", {"id": taken, "fields": {"STATUS_ID": values["lead_stage_work"]}})
    out["leads"].update(waiting=waiting, taken=taken)
    out["backdate"][("lead", waiting)] = 4
    # entry guards: no amount → back from "Waiting for payment"
    d = deal("no_amount", "approval", "Витрина без суммы")
    move(d, "payment")
    # order number when the payment amount is first set; then waiting for payment for days (reminders)
    d = deal("payment_wait", "payment", "Островок «Кофе с собой»", OPPORTUNITY=240000)
    upd(d, **{values["field_payment_amount"]: 120000})
    out["backdate"][("deal", d)] = 5
    # past "Waiting for payment" without the due date → back
    d = deal("no_due_date", "payment", "Прилавок без срока", OPPORTUNITY=90000)
    move(d, "design", **{values["field_payment_amount"]: 45000})
    # the technologist: preparation task on entry, then a project returned to calculation with a comment
    d = deal("design", "payment", "Торговая витрина", **no_docs)
    move(d, "design")
    d2 = deal("returned", "design", "Стойка ресепшн", **passed)
    move(d2, "calc", COMMENTS="Столешница 2400 мм не проходит по раскрою — уточнить у клиента")
    # production: no documents → back; with them the production task (checklist, co-executors, observers)
    d = deal("no_docs", "design", "Прилавок без документации", **no_docs)
    move(d, "prod_task")
    d = deal("production_task", "design", "Стеллажи «Пекарня»", **passed)
    move(d, "prod_task", **{values["field_assemblers"]: [me]})
    # production over its norm: standard 5, custom 7 business days (backdated)
    d = deal("norm_standard", "production", "Типовой прилавок", **passed, **{values["field_order_type"]: "standard"})
    out["backdate"][("deal", d)] = 9
    d = deal("norm_custom", "production", "Нестандартный островок", **passed, **{values["field_order_type"]: "custom"})
    out["backdate"][("deal", d)] = 12
    # order ready: delivery planning, full payment (no installation); the shipment date set → documents 2 h
    # before; the date is today: the scheduler moves the deal to Shipment
    d = deal("ready", "production", "Витрины «Оптика»", **passed)
    move(d, "ready")
    upd(d, **{values["field_ship_at"]: (now + timedelta(minutes=5)).isoformat(timespec="seconds")})
    # shipped yesterday's date and still in Shipment → the head is told
    deal("not_shipped", "shipment", "Стеллажи «Аптека»", **passed,
         **{values["field_ship_at"]: (now - timedelta(days=1, hours=2)).isoformat(timespec="seconds")})
    # installation control, then the photos → the closing documents task
    d = deal("install", "shipment", "Островок «Мёд»", **passed, **{values["field_install_needed"]: "Y"})
    move(d, "install")
    upd(d, **{values["field_install_photos"]: "montazh-1.jpg"})
    # no way back after shipment
    d = deal("back", "shipment", "Прилавок «Сыры»", **passed)
    move(d, "approval")
    # closing: without signed documents → back; with documents and full payment → NPS copy and the survey
    d = deal("close_refused", "install", "Витрина «Часы»", **passed)
    move(d, "won")
    d = deal("won", "install", "Стеллажи «Книги»", **passed, **{values["field_closing_docs"]: "акт-15.pdf",
                                                                values["field_paid_full"]: "Y"})
    move(d, "won")
    out["variables"] = values
    return out
