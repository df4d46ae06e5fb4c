"""Work orders (seed 003's «Реестр заказ-нарядов»): a deal in one of the five scenario pipelines whose stage
is **computed from its status fields**, never moved by hand.

The status fields are deal user fields ``svc_*`` (app.json): the engineer's block (engineer, tool cell,
parts ordered / arrival date / arrived, block done), the manufacturer's approval (request sent, approved,
the reclamation act, a paid diagnostic trip, waiting for parts payment), the service head's block (the
mechanic and the window), the mechanic's (done, act signed, hours) — and "paid", which only 1C says
(sync_1c.gate.paid_from_1c, never a hand-edited amount). ``compute`` is pure: scenario + status → the
stage and the field that decides it. A manual move (ONCRMDEALUPDATE with a stage other than the computed
one) is moved back, and the person who moved it is told which field decides (``on_deal_update``).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from b24app.errors import said
from install.registry import installed_ids
from sync_1c.gate import paid_from_1c, paid_state

from .strings import stage_name

WARRANTY_REPAIR, WARRANTY_MAINT = "svc_warranty_repair", "svc_warranty_maint"
POST_REPAIR, POST_MAINT, PRESALE = "svc_post_repair", "svc_post_maint", "svc_presale"
SCENARIOS = (WARRANTY_REPAIR, WARRANTY_MAINT, POST_REPAIR, POST_MAINT, PRESALE)
WARRANTY = (WARRANTY_REPAIR, WARRANTY_MAINT)
DIRTY = "desk.dirty."                  # + "<deal id>.<event>": a deal to check, one key per event
CHECK_KIND, CHECK_NAME = "desk", "stages"
REQUEST_TYPES = ("repair", "maintenance", "presale")

# every status field a work order has (deal UF keys of app.json); the booleans the blocks tick
FIELDS = ("svc_equipment", "svc_request_type", "svc_reason", "svc_engineer", "svc_engineer_done", "svc_tool_cell",
          "svc_parts_ordered", "svc_parts_date", "svc_parts_arrived", "svc_diag_trip", "svc_diag_done",
          "svc_mfr_sent", "svc_mfr_approved", "svc_reclamation", "svc_parts_payment", "svc_mechanic",
          "svc_job_from", "svc_job_to", "svc_mechanic_done", "svc_act_signed", "svc_hours", "svc_call_record",
          "svc_call_id")
FLAGS = ("svc_engineer_done", "svc_parts_ordered", "svc_parts_arrived", "svc_diag_trip", "svc_diag_done",
         "svc_mfr_approved", "svc_parts_payment", "svc_mechanic_done", "svc_act_signed")
PAID = "paid"                         # the 1C payment (not a field a person fills)

LABELS = {
    "ru": {"svc_engineer": "Инженер сервиса", "svc_engineer_done": "Блок инженера заполнен",
           "svc_parts_arrived": "Запчасти пришли", "svc_diag_done": "Диагностика проведена",
           "svc_mfr_approved": "Завод подтвердил гарантию", "svc_parts_payment": "Ожидание оплаты запчастей",
           "svc_mechanic": "Механик", "svc_mechanic_done": "Механик завершил работы",
           "svc_act_signed": "Акт выполненных работ подписан", PAID: "Оплата по 1С"},
    "en": {"svc_engineer": "Service engineer", "svc_engineer_done": "Engineer's block done",
           "svc_parts_arrived": "Parts arrived", "svc_diag_done": "Diagnostics done",
           "svc_mfr_approved": "Manufacturer approved", "svc_parts_payment": "Waiting for parts payment",
           "svc_mechanic": "Mechanic", "svc_mechanic_done": "Mechanic done",
           "svc_act_signed": "Work act signed", PAID: "Payment in 1C"},
}
# what the registry colours an order by (seed: в работе у инженера, у механика, не в работе, …)
STATUS_OF_STAGE = {"new": "not_in_work", "engineer": "at_engineer", "diag_trip": "at_mechanic",
                   "mfr_approval": "at_engineer", "parts_payment": "waiting_payment", "parts": "waiting_parts",
                   "mechanic": "at_mechanic", "act": "at_mechanic", "payment": "waiting_payment", "won": "done",
                   "lost": "cancelled"}


class OrderError(ValueError):
    """Bad input for a work order (→ 400 naming the field)."""


class OrderNotFound(LookupError):
    """No such work order (a deal of another pipeline is not one) → 404."""


def truthy(value) -> bool:
    return str(value or "").strip().upper() in ("1", "Y", "TRUE")


def propose(on_warranty: bool | None, request_type: str) -> str:
    """The scenario from the machine's warranty and the request type (pre-sale preparation regardless)."""
    if request_type == "presale":
        return PRESALE
    if request_type not in ("repair", "maintenance"):
        raise OrderError(said(f"request_type: one of {', '.join(REQUEST_TYPES)}",
                              f"request_type: одно из {', '.join(REQUEST_TYPES)}"))
    if on_warranty:
        return WARRANTY_REPAIR if request_type == "repair" else WARRANTY_MAINT
    return POST_REPAIR if request_type == "repair" else POST_MAINT


@dataclass(frozen=True)
class Computed:
    stage: str            # our stage key
    decided_by: str       # the field (or "paid") that keeps the order here
    status: str           # the registry's colour class


def compute(scenario: str, st: dict, paid: bool) -> Computed:
    """The stage a work order is at, from its status ``st`` (our keys → values) and 1C's "paid in full"."""
    def at(stage, field):
        status = STATUS_OF_STAGE[stage]
        if stage == "mechanic" and not st.get("svc_mechanic"):
            status = "not_in_work"
        return Computed(stage, field, status)

    warranty, presale = scenario in WARRANTY, scenario == PRESALE
    if not truthy(st.get("svc_engineer_done")):
        return at("engineer", "svc_engineer_done") if st.get("svc_engineer") else at("new", "svc_engineer")
    if warranty and not truthy(st.get("svc_mfr_approved")):
        if truthy(st.get("svc_parts_payment")) and not paid:
            return at("parts_payment", PAID)            # the shortcut: repaired on the trip, parts to pay first
        if truthy(st.get("svc_diag_trip")) and not truthy(st.get("svc_diag_done")):
            return at("diag_trip", "svc_diag_done")
        return at("mfr_approval", "svc_mfr_approved")
    if not warranty and not presale and truthy(st.get("svc_diag_trip")) and not truthy(st.get("svc_diag_done")):
        return at("diag_trip", "svc_diag_done")
    if truthy(st.get("svc_parts_ordered")) and not truthy(st.get("svc_parts_arrived")):
        return at("parts", "svc_parts_arrived")
    if not st.get("svc_mechanic") or not truthy(st.get("svc_mechanic_done")):
        return at("mechanic", "svc_mechanic" if not st.get("svc_mechanic") else "svc_mechanic_done")
    if not truthy(st.get("svc_act_signed")):
        return at("act", "svc_act_signed")
    if not presale and not paid:
        return at("payment", PAID)
    return Computed("won", "", "done")


# --- reading and writing orders -----------------------------------------------------------------------------
def uf(ids, key: str) -> str:
    return ids.deal_field(key)


def status_of(ids, deal: dict) -> dict:
    return {k: deal.get(uf(ids, k)) for k in FIELDS}


def scenario_of(ids, deal: dict) -> str | None:
    p = ids.pipeline_of_category(int(deal.get("CATEGORY_ID") or 0))
    return p.key if p is not None and p.key in SCENARIOS else None


def select(ids) -> list[str]:
    return ["ID", "TITLE", "STAGE_ID", "CATEGORY_ID", "COMPANY_ID", "CONTACT_ID", "ASSIGNED_BY_ID", "MODIFY_BY_ID",
            "OPPORTUNITY", "CURRENCY_ID", "DATE_CREATE", "CLOSED", uf(ids, "order_1c_number"),
            uf(ids, "order_1c_key"), uf(ids, "amount_paid"), *[uf(ids, k) for k in FIELDS]]


def is_paid(services, member_id: str, ids, deal: dict) -> bool:
    """Paid in full as 1C says (the paid gate's own rule, never the hand-editable amount)."""
    if Decimal(str(deal.get("OPPORTUNITY") or 0)) <= 0:
        return False                    # nothing invoiced yet: nothing is paid
    paid, _source = paid_from_1c(services, member_id, deal, ids, fetch=False)
    field = uf(ids, "amount_paid")
    return paid_state({**deal, field: paid}, field)[2]


def computed_for(services, member_id: str, ids, deal: dict) -> Computed:
    scenario = scenario_of(ids, deal)
    if scenario is None:
        did = deal.get("ID")
        raise OrderNotFound(said(f"deal {did} is not a work order", f"сделка {did} — не заказ-наряд"))
    needs_paid = scenario != PRESALE
    paid = is_paid(services, member_id, ids, deal) if needs_paid else False
    return compute(scenario, status_of(ids, deal), paid)


def get(services, member_id: str, deal_id: int, client=None) -> dict:
    ids = installed_ids(services.store, member_id)
    client = client or services.client(member_id)
    try:
        deal = client.call("crm.deal.get", {"id": int(deal_id)})
    except Exception as exc:
        if "not found" in str(getattr(exc, "description", "") or exc).lower():
            raise OrderNotFound(said(f"work order {deal_id} not found", f"заказ-наряд {deal_id} не найден")) from None
        raise
    if scenario_of(ids, deal) is None:
        raise OrderNotFound(said(f"deal {deal_id} is not a work order", f"сделка {deal_id} — не заказ-наряд"))
    return deal


def write(services, member_id: str, deal_id: int, values: dict, client=None) -> dict:
    """Write status fields (our keys) with the given client (the person's), then put the order at its computed
    stage with the app's token. Returns the order's view."""
    ids = installed_ids(services.store, member_id)
    client = client or services.client(member_id)
    fields = {uf(ids, k): v for k, v in values.items()}
    if fields:
        client.call("crm.deal.update", {"id": int(deal_id), "fields": fields})
    return settle(services, member_id, deal_id)


def _seen_key(deal_id) -> str:
    return f"desk.stage:{int(deal_id)}"


def seen(services, member_id: str, deal_id, stage: str) -> None:
    """The stage this order was last put at (by us) or seen at: a later event showing another one is a hand."""
    services.store.kv.set(member_id, _seen_key(deal_id), stage)


def portal_lang(services, member_id: str) -> str:
    portal = services.store.portals.get(member_id)
    return "en" if portal is not None and portal.lang == "en" else "ru"


def app_client(services, member_id: str):
    fn = getattr(services, "app_client", None)
    return fn(member_id) if fn is not None else services.client(member_id)


def settle(services, member_id: str, deal_id: int) -> dict:
    """Move the order to its computed stage (the app's own work) and answer its view."""
    ids = installed_ids(services.store, member_id)
    app = app_client(services, member_id)
    deal = get(services, member_id, deal_id, client=app)
    c = computed_for(services, member_id, ids, deal)
    pipe = ids.pipeline(scenario_of(ids, deal))
    current = pipe.stage_key(deal.get("STAGE_ID") or "")
    if current != "lost" and current != c.stage:
        seen(services, member_id, deal_id, c.stage)
        app.call("crm.deal.update", {"id": int(deal_id), "fields": {"STAGE_ID": pipe.stage(c.stage)}})
        deal["STAGE_ID"] = pipe.stage(c.stage)
    elif current:
        seen(services, member_id, deal_id, current)
    return view(ids, deal, c)


def view(ids, deal: dict, c: Computed) -> dict:
    scenario = scenario_of(ids, deal)
    st = status_of(ids, deal)
    out = {"id": int(deal["ID"]), "title": deal.get("TITLE") or "", "scenario": scenario,
           "stage": ids.pipeline(scenario).stage_key(deal.get("STAGE_ID") or ""), "computed": c.stage,
           "decided_by": c.decided_by, "status": c.status, "company_id": int(deal.get("COMPANY_ID") or 0) or None,
           "path": f"/crm/deal/details/{int(deal['ID'])}/", "opportunity": deal.get("OPPORTUNITY")}
    for k in FIELDS:
        v = st.get(k)
        if k in FLAGS:
            v = truthy(v)
        elif k in ("svc_equipment", "svc_engineer", "svc_mechanic"):
            v = int(v) if str(v or "").isdigit() and int(v) else None
        elif k in ("svc_parts_date",):
            v = str(v or "")[:10] or None
        out[k[4:]] = v
    return out


def on_deal_update(services, member_id: str, payload: dict) -> None:
    """A deal changed: remember it and queue one stage check for the portal. A burst of edits anywhere on the
    portal is then read in batches (``crm.deal.get`` × 50 per call), not one call per event."""
    data = payload.get("data") or {}
    fields = data.get("FIELDS") or data.get("fields") or {}
    deal_id = str(fields.get("ID") or "")
    if not deal_id.isdigit():
        return
    try:
        installed_ids(services.store, member_id)
    except LookupError:
        return
    # one key per event (never overwritten): a mark made while a check runs is not lost when it clears its own
    services.store.kv.set(member_id, f"{DIRTY}{int(deal_id)}.{uuid.uuid4().hex}", 1)
    services.store.inbox.put(member_id, CHECK_KIND, CHECK_NAME, {}, f"{CHECK_KIND}.{CHECK_NAME}",
                             while_pending=True)


def check_stages(services, member_id: str, payload: dict | None = None) -> int:
    """The inbox job ``desk/stages``: every deal marked by an event, read 50 per batch call; each work order
    moved by hand goes back to its computed stage. A deal that could not be read keeps its marks (the job
    fails and the inbox retries it); the rest are settled. Returns how many deals were read."""
    kv = services.store.kv
    marks = kv.items(member_id, DIRTY)
    if not marks:
        return 0
    try:
        ids = installed_ids(services.store, member_id)
    except LookupError:
        return 0
    by_deal: dict[int, list[str]] = {}
    for key in marks:
        head = key[len(DIRTY):].split(".", 1)[0]
        if head.isdigit():
            by_deal.setdefault(int(head), []).append(key)
    client = services.client(member_id)
    order = sorted(by_deal)
    failed = None
    for deal_id, got in zip(order, client.batch_many([("crm.deal.get", {"id": i}) for i in order])):
        if got.ok:
            _check(services, member_id, ids, client, got.result)
        elif "not found" not in str(getattr(got.error, "description", "") or got.error).lower():
            failed = failed or got.error
            continue                     # kept: tried again with the job
        for key in by_deal[deal_id]:
            kv.delete(member_id, key)
    if failed is not None:
        raise failed
    return len(order)


def _check(services, member_id: str, ids, client, deal: dict) -> None:
    """A work order moved by hand goes back to its computed stage; whoever moved it (and the responsible)
    is told which field decides the stage."""
    deal_id = str(deal["ID"])
    scenario = scenario_of(ids, deal)
    if scenario is None:
        return
    pipe = ids.pipeline(scenario)
    current = pipe.stage_key(deal.get("STAGE_ID") or "")
    if current == "lost":
        return                           # a cancelled order is the people's decision
    c = computed_for(services, member_id, ids, deal)
    last = services.store.kv.get(member_id, _seen_key(deal_id))
    if current == c.stage:
        if last != current:
            seen(services, member_id, deal_id, current)
        return
    seen(services, member_id, deal_id, c.stage)
    client.call("crm.deal.update", {"id": int(deal_id), "fields": {"STAGE_ID": pipe.stage(c.stage)}})
    if current == last or (last is None and current == "new"):
        return                           # the status moved on (1C's payment, a field): not a hand on the stage
    portal = services.store.portals.get(member_id)
    lang = "en" if (portal and portal.lang == "en") else "ru"
    names = {"ru": ("«{t}» [{i}]: этап заказ-наряда считается по статусам и вручную не меняется. "
                    "Заказ-наряд возвращён на этап «{s}»: его держит поле «{f}»."),
             "en": ("“{t}” [{i}]: a work order's stage follows its status fields and is not moved by hand. "
                    "It was moved back to “{s}”: the field “{f}” decides it.")}
    msg = names[lang].format(t=deal.get("TITLE") or "", i=deal_id, s=stage_name(lang, c.stage),
                             f=LABELS[lang].get(c.decided_by, c.decided_by))
    for user in sorted({int(u) for u in (deal.get("MODIFY_BY_ID"), deal.get("ASSIGNED_BY_ID")) if str(u or "").isdigit()
                        and int(u)}):
        client.call("im.notify.system.add", {"USER_ID": user, "MESSAGE": msg,
                                             "TAG": f"b24app:svc_revert:{deal_id}:{user}"})


def registry(services, member_id: str, scenario: str | None = None) -> dict:
    """Every open work order (and those closed in the list's last 50), each at its computed stage with its
    status colour; the stage the portal shows is what ``stage`` says (a manual move is reverted by events)."""
    ids = installed_ids(services.store, member_id)
    keys = [scenario] if scenario else list(SCENARIOS)
    if scenario is not None and scenario not in SCENARIOS:
        raise OrderError(said(f"scenario: one of {', '.join(SCENARIOS)}", f"scenario: одно из {', '.join(SCENARIOS)}"))
    cats = [ids.pipeline(k).category_id for k in keys]
    client = services.client(member_id)
    deals = list(client.list_all("crm.deal.list", {"filter": {"@CATEGORY_ID": cats}, "select": select(ids),
                                                   "order": {"ID": "DESC"}}))
    open_ = [d for d in deals if d.get("CLOSED") != "Y"]
    closed = [d for d in deals if d.get("CLOSED") == "Y"][:50]
    people = sorted({int(d.get(uf(ids, k)) or 0) for d in open_ + closed for k in ("svc_mechanic", "svc_engineer")
                     if str(d.get(uf(ids, k)) or "").isdigit() and int(d.get(uf(ids, k)))})
    names = {}
    if people:
        for u in client.call("user.get", {"FILTER": {"ID": people}}) or []:
            names[int(u["ID"])] = " ".join(x for x in (u.get("NAME"), u.get("LAST_NAME")) if x) or f"#{u['ID']}"
    rows = []
    for d in open_ + closed:
        v = view(ids, d, computed_for(services, member_id, ids, d))
        v["mechanic_name"] = names.get(v["mechanic"] or 0, "")
        v["engineer_name"] = names.get(v["engineer"] or 0, "")
        rows.append(v)
    return {"orders": rows}
