"""The calculation's steps (seed 002): request → taken → question ⇄ answer → variants → done → choice.

Each step checks who calls (the roles decide the kind of step in handlers/; here: is it *this*
calculation's engineer, group or manager), checks the stage it starts from, and writes once: a repeated
call finds the step already made and answers the same view without a write. Side effects of a step
(the deal's stage, notifications, timeline lines) are recorded in the calculation's kv record as they
are made (``effects``), so a retry after a crash finishes what is missing and repeats nothing.

SLA hook (issue 15, the rules engine): ``rec["times"]`` = {requested, taken, done, questions: [...]}
— the reminders "waits too long" read these; the clock pauses while a question waits for its answer.
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from b24app import roles as app_roles
from b24app.errors import B24Error, SettingsError
from b24app.idempotent import add_once, xml_id

from . import catalog, documents, settings
from .context import (Actor, deal_record, department_name, departments_of, engineers, heads, is_engineer, notify,
                      now_iso, portal_url, record, save, save_deal, serial, timeline)
from .errors import ApprovalRequired, CalcConflict, CalcInvalid, CalcNotFound, NotInGroup
from .strings import text
from .variants import MAX_VARIANTS, VariantError, apply_amounts, build_variant, money, product_ids

HEADS = (app_roles.ADMIN, app_roles.SERVICE_HEAD)
OPEN = ("new", "in_work", "info_requested")


# --- portal reads and moves -----------------------------------------------------------------------------
def get_deal(actor: Actor, deal_id: int, client=None) -> dict:
    try:
        return (client or actor.client).call("crm.deal.get", {"id": int(deal_id)})
    except B24Error as exc:
        if not exc.code and "not found" in (exc.description or "").lower():
            raise CalcNotFound(actor.lang, "deal_not_found", deal=deal_id) from None
        raise


def calc_sp(actor: Actor):
    return actor.ids.smart_process("calculation")


def calc_item(actor: Actor, calc_id: int, client=None) -> dict:
    return (client or actor.app).call("crm.item.get", {"entityTypeId": calc_sp(actor).entity_type_id,
                                                       "id": int(calc_id)})["item"]


def stage_of(actor: Actor, item: dict) -> str | None:
    return calc_sp(actor).stage_key(item["stageId"])


def stage_name(actor: Actor, app_json_owner: str, key: str | None) -> str:
    from install.manifest import load

    m = load()
    for sp in m.smart_processes:
        if sp["key"] == app_json_owner:
            for st in sp["stages"]:
                if st["key"] == key:
                    return st["name"]["en" if actor.lang == "en" else "ru"]
    return str(key)


def move_deal(actor: Actor, deal: dict, key: str) -> str | None:
    """The deal to our stage ``key`` of its own pipeline (the app's token: the flow moves it by itself);
    a deal in a pipeline of the admin's own (not app.json's) keeps its stage: None."""
    pipe = actor.ids.pipeline_of_category(int(deal.get("CATEGORY_ID") or 0))
    if pipe is None or key not in pipe.stages:
        return None
    target = pipe.stage(key)
    if deal.get("STAGE_ID") != target:
        actor.app.call("crm.deal.update", {"id": int(deal["ID"]), "fields": {"STAGE_ID": target}})
        deal["STAGE_ID"] = target
    return target


def once(actor: Actor, rec: dict, name: str, fn, keep=None):
    """Run a side effect of a step once per record (kept in ``rec["effects"]``); ``keep`` stores the record
    (a calculation's by default, ``save_work`` for a work)."""
    effects = rec.setdefault("effects", [])
    if name in effects:
        return None
    out = fn()
    effects.append(name)
    (keep or save)(actor, rec)
    return out


def calc_entity(actor: Actor) -> str:
    return f"dynamic_{calc_sp(actor).entity_type_id}"


def deal_url(actor: Actor, deal_id: int) -> str:
    return portal_url(actor, f"/crm/deal/details/{int(deal_id)}/")


# --- who ------------------------------------------------------------------------------------------------
def _robot(actor: Actor) -> bool:
    return actor.user_id is None


def check_manager(actor: Actor, rec: dict) -> None:
    if _robot(actor) or actor.has(*HEADS) or actor.user_id in (rec.get("manager_id"), rec.get("requested_by")):
        return
    raise NotInGroup(actor.lang, "not_manager")


def check_engineer(actor: Actor, rec: dict) -> None:
    if _robot(actor) or actor.has(*HEADS) or actor.user_id == rec.get("engineer_id"):
        return
    raise NotInGroup(actor.lang, "not_yours")


def in_group(actor: Actor, target: dict) -> bool:
    if _robot(actor) or actor.has(*HEADS):
        return True
    if target["kind"] == "user":
        return actor.user_id == target["id"]
    if target["kind"] == "department":
        return target["id"] in departments_of(actor, actor.user_id)
    return True                                              # the shared queue: any engineer


def recipients(actor: Actor, target: dict) -> list[int]:
    if target["kind"] == "user":
        return [target["id"]]
    return engineers(actor, target["id"] if target["kind"] == "department" else None)


def target_words(actor: Actor, target: dict) -> str:
    if target["kind"] == "user":
        return text(actor.lang, "target.user", name=actor.name(target["id"]))
    if target["kind"] == "department":
        return text(actor.lang, "target.department", name=department_name(actor, target["id"]))
    return text(actor.lang, "target.queue")


# --- the view -------------------------------------------------------------------------------------------
def view(actor: Actor, rec: dict, item: dict | None = None) -> dict:
    item = item or calc_item(actor, rec["id"])
    pending = [q for q in rec.get("questions", []) if q.get("answer") is None]
    return {"id": rec["id"], "deal_id": rec["deal_id"], "stage": stage_of(actor, item), "stage_id": item["stageId"],
            "target": rec["target"], "engineer_id": rec.get("engineer_id"), "manager_id": rec.get("manager_id"),
            "questions": rec.get("questions", []), "pending_question": pending[0] if pending else None,
            "variants": rec.get("variants", []), "chosen": rec.get("chosen"), "times": rec.get("times", {}),
            "approvals": rec.get("approvals", []),
            "pending_approval": next((a for a in rec.get("approvals", []) if a["status"] == "pending"), None),
            "amount": item.get(calc_sp(actor).field("amount"))}


# --- steps ----------------------------------------------------------------------------------------------
@serial("deal")
def request(actor: Actor, deal_id: int, target: dict | None, comment: str = "", xml: str | None = None) -> dict:
    """Send the deal to calculation: a Calculation item (child of the deal) for an engineer, a department
    or the shared queue; the deal to "Calculation"; the recipients notified; a line on the deal's timeline.
    A deal with an open calculation gets that one back (nothing written)."""
    deal = get_deal(actor, deal_id)
    conf = settings.load(actor.kv, actor.member_id)
    try:
        target = settings.target(target if target else conf["default_target"], "target")
    except SettingsError:
        raise CalcInvalid(actor.lang, "no_target") from None
    drec = deal_record(actor, deal_id)
    if drec.get("open"):
        rec = record(actor, drec["open"])
        item = calc_item(actor, rec["id"])
        if stage_of(actor, item) in OPEN:
            return {**_finish_request(actor, rec, deal), "created": False}
    if target["kind"] == "user" and not _robot(actor) and not is_engineer(actor, target["id"]):
        raise CalcInvalid(actor.lang, "not_engineer", user=target["id"])
    sp = calc_sp(actor)
    fields = {"title": f"{deal.get('TITLE') or 'Deal'} #{deal['ID']}", "categoryId": sp.category_id,
              "stageId": sp.stage("new"), "parentId2": int(deal["ID"]),
              "assignedById": target["id"] if target["kind"] == "user" else int(deal.get("ASSIGNED_BY_ID") or 1)}
    if target["kind"] == "user":
        fields[sp.field("engineer")] = target["id"]
    if comment:
        fields[sp.field("notes")] = comment[:2000]
    if deal.get("COMPANY_ID") and str(deal["COMPANY_ID"]) != "0":
        fields["companyId"] = int(deal["COMPANY_ID"])
    xml = xml or xml_id(f"calc:{int(deal['ID'])}:{len(drec['calcs']) + 1}")
    item = add_once(actor.client, sp.entity_type_id, fields, xml)
    rec = {"id": int(item["id"]), "deal_id": int(deal["ID"]), "target": target,
           "manager_id": int(deal.get("ASSIGNED_BY_ID") or 0) or None, "requested_by": actor.user_id,
           "engineer_id": None, "comment": comment[:2000], "questions": [], "variants": [], "chosen": None,
           "times": {"requested": now_iso()}, "effects": []}
    old = actor.kv.get(actor.member_id, f"calcwork.calc:{rec['id']}")
    if old:                                        # a retry after the item was made: keep what was recorded
        rec = old
    save(actor, rec)
    if rec["id"] not in drec["calcs"]:
        drec["calcs"].append(rec["id"])
    drec["open"] = rec["id"]
    save_deal(actor, deal["ID"], drec)
    return {**_finish_request(actor, rec, deal), "created": True}


def _finish_request(actor: Actor, rec: dict, deal: dict) -> dict:
    once(actor, rec, "requested.deal", lambda: move_deal(actor, deal, "calculation"))
    title = deal.get("TITLE") or f"#{deal['ID']}"
    once(actor, rec, "requested.notify", lambda: notify(
        actor, recipients(actor, rec["target"]),
        text(actor.lang, "n.requested", title=title, url=deal_url(actor, deal["ID"])), f"calc:{rec['id']}:requested"))
    once(actor, rec, "requested.timeline", lambda: timeline(
        actor, "deal", deal["ID"], text(actor.lang, "t.requested", target=target_words(actor, rec["target"]),
                                        comment=rec.get("comment") or "").strip()))
    return view(actor, rec)


@serial("calc")
def take(actor: Actor, calc_id: int) -> dict:
    rec = record(actor, calc_id)
    item = calc_item(actor, calc_id)
    stage = stage_of(actor, item)
    if stage in ("in_work", "info_requested"):
        if rec.get("engineer_id") == actor.user_id:
            return _after_take(actor, rec, item)           # a repeated click: nothing new
        raise CalcConflict(actor.lang, "taken_by_other")
    if stage != "new":
        raise CalcConflict(actor.lang, "wrong_stage", stage=stage_name(actor, "calculation", stage))
    if not in_group(actor, rec["target"]):
        raise NotInGroup(actor.lang, "not_in_group")
    sp = calc_sp(actor)
    fields = {"stageId": sp.stage("in_work")}
    if actor.user_id is not None:
        fields.update({"assignedById": actor.user_id, sp.field("engineer"): actor.user_id})
    item = actor.client.call("crm.item.update", {"entityTypeId": sp.entity_type_id, "id": rec["id"],
                                                 "fields": fields})["item"]
    rec["engineer_id"] = actor.user_id
    rec["times"]["taken"] = now_iso()
    save(actor, rec)
    return _after_take(actor, rec, item)


def _after_take(actor: Actor, rec: dict, item: dict) -> dict:
    deal = get_deal(actor, rec["deal_id"], actor.app)
    who = actor.name(rec.get("engineer_id"))
    once(actor, rec, "taken.notify", lambda: notify(
        actor, [rec.get("manager_id")], text(actor.lang, "n.taken", who=who, title=deal.get("TITLE")),
        f"calc:{rec['id']}:taken"))
    once(actor, rec, "taken.timeline", lambda: timeline(actor, "deal", rec["deal_id"],
                                                        text(actor.lang, "t.taken", who=who)))
    return view(actor, rec, item)


@serial("calc")
def handover(actor: Actor, calc_id: int, target: dict, reason: str) -> dict:
    """Hand the calculation to another engineer, department or the queue, with a reason: back to
    "Calculation requested" for the new recipients (notified), the reason on the deal's timeline. Whoever
    may take it (its group) or its engineer may hand it over; the same hand-over again writes nothing."""
    rec = record(actor, calc_id)
    reason = _clean(actor, reason)
    try:
        target = settings.target(target, "target")
    except SettingsError:
        raise CalcInvalid(actor.lang, "no_target") from None
    item = calc_item(actor, calc_id)
    stage = stage_of(actor, item)
    last = (rec.get("handovers") or [None])[-1]
    if stage == "new" and last and last["to"] == target and last["reason"] == reason:
        return _after_handover(actor, rec, last)
    if stage == "new":
        if not in_group(actor, rec["target"]):
            raise NotInGroup(actor.lang, "not_in_group")
    elif stage in ("in_work", "info_requested"):
        check_engineer(actor, rec)
    else:
        raise CalcConflict(actor.lang, "wrong_stage", stage=stage_name(actor, "calculation", stage))
    if target["kind"] == "user" and not is_engineer(actor, target["id"]):
        raise CalcInvalid(actor.lang, "not_engineer", user=target["id"])
    sp = calc_sp(actor)
    fields = {"stageId": sp.stage("new"), sp.field("engineer"): target["id"] if target["kind"] == "user" else None,
              "assignedById": target["id"] if target["kind"] == "user" else (rec.get("manager_id") or 1)}
    actor.client.call("crm.item.update", {"entityTypeId": sp.entity_type_id, "id": rec["id"], "fields": fields})
    h = {"n": len(rec.get("handovers") or []) + 1, "from": rec["target"], "to": target, "by": actor.user_id,
         "reason": reason, "at": now_iso()}
    rec.setdefault("handovers", []).append(h)
    rec.update(target=target, engineer_id=None)
    rec["times"]["requested"] = h["at"]                  # the SLA clock of the new recipients starts now
    save(actor, rec)
    return _after_handover(actor, rec, h)


def _after_handover(actor: Actor, rec: dict, h: dict) -> dict:
    deal = get_deal(actor, rec["deal_id"], actor.app)
    title = deal.get("TITLE") or f"#{deal['ID']}"
    once(actor, rec, f"h{h['n']}.notify", lambda: notify(
        actor, recipients(actor, h["to"]), text(actor.lang, "n.requested", title=title,
                                                url=deal_url(actor, deal["ID"])), f"calc:{rec['id']}:h{h['n']}"))
    once(actor, rec, f"h{h['n']}.timeline", lambda: timeline(
        actor, "deal", rec["deal_id"], text(actor.lang, "t.handover", who=actor.name(h["by"]),
                                            target=target_words(actor, h["to"]), reason=h["reason"])))
    return view(actor, rec)


def _clean(actor: Actor, value) -> str:
    s = str(value or "").strip()
    if not s:
        raise CalcInvalid(actor.lang, "empty_text")
    return s[:4000]


@serial("calc")
def ask(actor: Actor, calc_id: int, question: str) -> dict:
    """The engineer asks the deal's manager: the Calculation waits in "Information requested" until the
    answer; the question on both timelines, the manager notified."""
    rec = record(actor, calc_id)
    check_engineer(actor, rec)
    question = _clean(actor, question)
    pending = [q for q in rec["questions"] if q.get("answer") is None]
    if pending:
        if pending[0]["text"] == question:
            return _after_ask(actor, rec, pending[0])
        raise CalcConflict(actor.lang, "question_pending")
    item = calc_item(actor, calc_id)
    stage = stage_of(actor, item)
    if stage != "in_work":
        raise CalcConflict(actor.lang, "wrong_stage", stage=stage_name(actor, "calculation", stage))
    q = {"n": len(rec["questions"]) + 1, "text": question, "by": actor.user_id, "at": now_iso(), "answer": None}
    rec["questions"].append(q)
    save(actor, rec)
    sp = calc_sp(actor)
    actor.client.call("crm.item.update", {"entityTypeId": sp.entity_type_id, "id": rec["id"],
                                          "fields": {"stageId": sp.stage("info_requested")}})
    return _after_ask(actor, rec, q)


def _after_ask(actor: Actor, rec: dict, q: dict) -> dict:
    deal = get_deal(actor, rec["deal_id"], actor.app)
    who = actor.name(q["by"])
    line = text(actor.lang, "t.question", who=who, text=q["text"])
    once(actor, rec, f"q{q['n']}.notify", lambda: notify(
        actor, [rec.get("manager_id")], text(actor.lang, "n.question", title=deal.get("TITLE"), text=q["text"]),
        f"calc:{rec['id']}:q{q['n']}"))
    once(actor, rec, f"q{q['n']}.deal", lambda: timeline(actor, "deal", rec["deal_id"], line))
    once(actor, rec, f"q{q['n']}.calc", lambda: timeline(actor, calc_entity(actor), rec["id"], line))
    return view(actor, rec)


@serial("calc")
def answer(actor: Actor, calc_id: int, reply: str) -> dict:
    """The manager answers from the deal: the Calculation back in work, the answer on both timelines,
    the engineer notified."""
    rec = record(actor, calc_id)
    check_manager(actor, rec)
    reply = _clean(actor, reply)
    pending = [q for q in rec["questions"] if q.get("answer") is None]
    if not pending:
        last = rec["questions"][-1] if rec["questions"] else None
        if last is not None and last.get("answer") == reply:
            return _after_answer(actor, rec, last)
        raise CalcConflict(actor.lang, "no_question")
    q = pending[0]
    q.update(answer=reply, answered_by=actor.user_id, answered_at=now_iso())
    save(actor, rec)
    sp = calc_sp(actor)
    actor.app.call("crm.item.update", {"entityTypeId": sp.entity_type_id, "id": rec["id"],
                                       "fields": {"stageId": sp.stage("in_work")}})
    return _after_answer(actor, rec, q)


def _after_answer(actor: Actor, rec: dict, q: dict) -> dict:
    deal = get_deal(actor, rec["deal_id"], actor.app)
    line = text(actor.lang, "t.answer", who=actor.name(q.get("answered_by")), text=q["answer"])
    once(actor, rec, f"a{q['n']}.notify", lambda: notify(
        actor, [rec.get("engineer_id")], text(actor.lang, "n.answer", title=deal.get("TITLE"), text=q["answer"]),
        f"calc:{rec['id']}:a{q['n']}"))
    once(actor, rec, f"a{q['n']}.deal", lambda: timeline(actor, "deal", rec["deal_id"], line))
    once(actor, rec, f"a{q['n']}.calc", lambda: timeline(actor, calc_entity(actor), rec["id"], line))
    return view(actor, rec)


@serial("calc")
def save_variant(actor: Actor, calc_id: int, raw, variant_id: str | None = None) -> dict:
    """Add or replace one variant (lines from the catalog, coefficients, fixed prices; totals in Decimal).
    The same content sent again — a retried click — changes nothing."""
    rec = record(actor, calc_id)
    check_engineer(actor, rec)
    stage = stage_of(actor, calc_item(actor, calc_id))
    if stage not in ("in_work", "info_requested"):
        raise CalcConflict(actor.lang, "wrong_stage", stage=stage_name(actor, "calculation", stage))
    conf = settings.load(actor.kv, actor.member_id)
    try:
        products = catalog.by_ids(actor.client, product_ids(raw))
        existing = {v["id"]: v for v in rec["variants"]}
        if variant_id is not None and variant_id not in existing:
            raise CalcNotFound(actor.lang, "variant_not_found", variant=variant_id)
        vid = variant_id or f"v{max([int(v[1:]) for v in existing] or [0]) + 1}"
        built = build_variant(raw, vid, products, settings.coefficients(conf))
    except VariantError as exc:
        raise CalcInvalid(actor.lang, "bad_variant", what=str(exc)) from None
    same = [v for v in rec["variants"] if {**v, "id": vid} == built]
    if same and (variant_id is None or same[0]["id"] == variant_id):
        return {**view(actor, rec), "variant": same[0]}
    if variant_id is None and len(rec["variants"]) >= MAX_VARIANTS:
        raise CalcInvalid(actor.lang, "bad_variant", what=f"at most {MAX_VARIANTS} variants")
    if variant_id is None:
        rec["variants"].append(built)
    else:
        rec["variants"] = [built if v["id"] == variant_id else v for v in rec["variants"]]
    save(actor, rec)
    return {**view(actor, rec), "variant": built}


def preview_variant(actor: Actor, calc_id: int, raw) -> dict:
    """The variant as it would be stored — lines priced, totals and margin in Decimal — without storing it:
    the builder page shows the server's own figures while the engineer edits (no sums in the browser)."""
    rec = record(actor, calc_id)
    check_engineer(actor, rec)
    conf = settings.load(actor.kv, actor.member_id)
    try:
        products = catalog.by_ids(actor.client, product_ids(raw))
        return {"variant": build_variant(raw, "preview", products, settings.coefficients(conf))}
    except VariantError as exc:
        raise CalcInvalid(actor.lang, "bad_variant", what=str(exc)) from None


@serial("calc")
def done(actor: Actor, calc_id: int) -> dict:
    """"Calculation done": the Calculation to done with its amount, the deal to "Calculation provided",
    the manager notified, the variants on the deal's timeline."""
    rec = record(actor, calc_id)
    check_engineer(actor, rec)
    item = calc_item(actor, calc_id)
    stage = stage_of(actor, item)
    if stage == "done":
        return _after_done(actor, rec, item)
    if stage == "info_requested":
        raise CalcConflict(actor.lang, "question_pending")
    if stage != "in_work":
        raise CalcConflict(actor.lang, "wrong_stage", stage=stage_name(actor, "calculation", stage))
    if not rec["variants"]:
        raise CalcInvalid(actor.lang, "no_variants")
    sp = calc_sp(actor)
    first = rec["variants"][0]["total"]
    item = actor.client.call("crm.item.update", {"entityTypeId": sp.entity_type_id, "id": rec["id"], "fields": {
        "stageId": sp.stage("done"), sp.field("amount"): float(first), "opportunity": float(first)}})["item"]
    rec["times"]["done"] = now_iso()
    save(actor, rec)
    drec = deal_record(actor, rec["deal_id"])
    drec["done"], drec["open"] = rec["id"], None
    save_deal(actor, rec["deal_id"], drec)
    return _after_done(actor, rec, item)


def _after_done(actor: Actor, rec: dict, item: dict) -> dict:
    deal = get_deal(actor, rec["deal_id"], actor.app)
    totals = [Decimal(v["total"]) for v in rec["variants"]]
    once(actor, rec, "done.deal", lambda: move_deal(actor, deal, "calc_provided"))
    once(actor, rec, "done.notify", lambda: notify(
        actor, [rec.get("manager_id")], text(actor.lang, "n.done", title=deal.get("TITLE"), count=len(totals),
                                             low=min(totals), high=max(totals)), f"calc:{rec['id']}:done"))
    listing = "; ".join(f"{v['name']} — {v['total']}" for v in rec["variants"])
    once(actor, rec, "done.timeline", lambda: timeline(actor, "deal", rec["deal_id"],
                                                       text(actor.lang, "t.done", variants=listing)))
    return view(actor, rec, item)


@serial("calc")
def choose(actor: Actor, calc_id: int, variant_id: str, amounts: dict | None = None, request_approval: bool = False,
           reason: str = "") -> dict:
    """The manager picks a variant: its lines become the deal's product rows (``crm.item.productrow.set``,
    the portal recalculates the deal's amount); a line's amount may differ from the engineer's by the
    administrator's ±tolerance. Beyond it a service head (or an administrator) may set it; a manager gets
    409 APPROVAL_REQUIRED, or — with ``request_approval`` — an approval request the heads are notified of
    (``decide``): nothing is applied until a head approves. The deal to "Proposal approval". The same
    choice again writes nothing."""
    rec = record(actor, calc_id)
    check_manager(actor, rec)
    stage = stage_of(actor, calc_item(actor, calc_id))
    if stage != "done":
        raise CalcConflict(actor.lang, "not_done")
    variant = next((v for v in rec["variants"] if v["id"] == variant_id), None)
    if variant is None:
        raise CalcNotFound(actor.lang, "variant_not_found", variant=variant_id)
    amounts = {str(k): v for k, v in (amounts or {}).items()}
    pct = Decimal(settings.load(actor.kv, actor.member_id)["tolerance_pct"])
    try:
        lines, beyond = apply_amounts(variant, amounts, pct)
    except VariantError as exc:
        raise CalcInvalid(actor.lang, "bad_variant", what=str(exc)) from None
    signature = {"variant": variant_id, "amounts": {k: str(money(Decimal(str(v).replace(",", "."))))
                                                    for k, v in amounts.items()}}
    if beyond and not (actor.has(*HEADS) or _robot(actor)):
        if not request_approval:
            line, new, low, high = beyond[0]
            raise ApprovalRequired(actor.lang, "out_of_range", line=line["name"], amount=new, low=low, high=high,
                                   pct=format(pct.normalize(), "f"))
        return _ask_approval(actor, rec, variant, signature, lines, beyond, pct, reason)
    return _apply_choice(actor, rec, signature, lines)


def _total(lines: list[dict]) -> str:
    return str(money(sum((Decimal(x["price"]) * Decimal(x["quantity"]) for x in lines), Decimal(0))))


def _apply_choice(actor: Actor, rec: dict, signature: dict, lines: list[dict], by: int | None = None,
                  approved_by: int | None = None) -> dict:
    chosen = rec.get("chosen")
    if chosen and {"variant": chosen["variant"], "amounts": chosen["amounts"]} == signature:
        return _after_choose(actor, rec)
    rows = [{"productId": x["product_id"] or 0, "productName": x["name"], "price": float(x["price"]),
             "quantity": float(x["quantity"]), "sort": 10 * (i + 1)} for i, x in enumerate(lines)]
    for r in rows:
        if not r["productId"]:
            r.pop("productId")
    actor.client.call("crm.item.productrow.set", {"ownerType": "D", "ownerId": rec["deal_id"], "productRows": rows})
    total = _total(lines)
    n = len([e for e in rec.get("effects", []) if e.startswith("chosen") and e.endswith(".deal")]) + 1
    rec["chosen"] = {**signature, "lines": lines, "total": total, "at": now_iso(),
                     "by": actor.user_id if by is None else by, "approved_by": approved_by, "n": n}
    save(actor, rec)
    sp = calc_sp(actor)
    actor.app.call("crm.item.update", {"entityTypeId": sp.entity_type_id, "id": rec["id"],
                                       "fields": {sp.field("amount"): float(total), "opportunity": float(total)}})
    return _after_choose(actor, rec)


def _ask_approval(actor: Actor, rec: dict, variant: dict, signature: dict, lines: list[dict], beyond: list,
                  pct: Decimal, reason: str) -> dict:
    approvals = rec.setdefault("approvals", [])
    pending = [a for a in approvals if a["status"] == "pending"]
    same = next((a for a in pending if a["variant"] == signature["variant"] and a["amounts"] == signature["amounts"]),
                None)
    if same is not None:                                    # asked already (a repeated click): that one
        return {**_after_ask_approval(actor, rec, same), "approval": same}
    if pending:
        raise CalcConflict(actor.lang, "approval_pending")
    a = {"n": len(approvals) + 1, **signature, "variant_name": variant["name"], "lines": lines,
         "total": _total(lines), "pct": format(pct.normalize(), "f"), "by": actor.user_id, "at": now_iso(),
         "reason": str(reason or "").strip()[:1000], "status": "pending",
         "beyond": [{"n": line["n"], "name": line["name"], "amount": str(new), "low": str(low), "high": str(high)}
                    for line, new, low, high in beyond]}
    approvals.append(a)
    save(actor, rec)
    return {**_after_ask_approval(actor, rec, a), "approval": a}


def _after_ask_approval(actor: Actor, rec: dict, a: dict) -> dict:
    deal = get_deal(actor, rec["deal_id"], actor.app)
    lines = "; ".join(f"{b['name']}: {b['amount']} ({b['low']}–{b['high']})" for b in a["beyond"])
    once(actor, rec, f"ap{a['n']}.notify", lambda: notify(
        actor, heads(actor), text(actor.lang, "n.approval", who=actor.name(a["by"]), title=deal.get("TITLE"),
                                  total=a["total"], lines=lines, url=deal_url(actor, rec["deal_id"])),
        f"calc:{rec['id']}:ap{a['n']}"))
    once(actor, rec, f"ap{a['n']}.timeline", lambda: timeline(
        actor, "deal", rec["deal_id"], text(actor.lang, "t.approval", who=actor.name(a["by"]), name=a["variant_name"],
                                            total=a["total"], lines=lines, reason=a["reason"] or "—")))
    return view(actor, rec)


@serial("calc")
def decide(actor: Actor, calc_id: int, n: int, approve: bool, comment: str = "") -> dict:
    """A head approves or declines a manager's amounts beyond the range. Approved: the amounts apply as the
    manager asked (product rows, proposal, deal stage — as ``choose``), the manager notified; declined:
    nothing applies, the manager notified. The same decision again writes nothing; the other one is 409."""
    rec = record(actor, calc_id)
    if not actor.has(*HEADS):
        raise NotInGroup(actor.lang, "not_head")
    a = next((x for x in rec.get("approvals", []) if x["n"] == int(n)), None)
    if a is None:
        raise CalcNotFound(actor.lang, "approval_not_found", n=n)
    want = "approved" if approve else "declined"
    if a["status"] == want:
        return {**_after_decide(actor, rec, a), "approval": a}
    if a["status"] != "pending":
        raise CalcConflict(actor.lang, "approval_decided")
    if approve:
        if stage_of(actor, calc_item(actor, calc_id)) != "done":
            raise CalcConflict(actor.lang, "not_done")
        _apply_choice(actor, rec, {"variant": a["variant"], "amounts": a["amounts"]}, a["lines"], by=a["by"],
                      approved_by=actor.user_id)
    a.update(status=want, decided_by=actor.user_id, decided_at=now_iso(), comment=str(comment or "").strip()[:1000])
    save(actor, rec)
    return {**_after_decide(actor, rec, a), "approval": a}


def _after_decide(actor: Actor, rec: dict, a: dict) -> dict:
    deal = get_deal(actor, rec["deal_id"], actor.app)
    key = "n.approved" if a["status"] == "approved" else "n.declined"
    once(actor, rec, f"ap{a['n']}.{a['status']}.notify", lambda: notify(
        actor, [a["by"]], text(actor.lang, key, who=actor.name(a["decided_by"]), title=deal.get("TITLE"),
                               total=a["total"], comment=a.get("comment") or ""), f"calc:{rec['id']}:ap{a['n']}:d"))
    once(actor, rec, f"ap{a['n']}.{a['status']}.timeline", lambda: timeline(
        actor, "deal", rec["deal_id"], text(actor.lang, key, who=actor.name(a["decided_by"]), title=deal.get("TITLE"),
                                            total=a["total"], comment=a.get("comment") or "")))
    return view(actor, rec)


def _after_choose(actor: Actor, rec: dict) -> dict:
    chosen = rec["chosen"]
    deal = get_deal(actor, rec["deal_id"], actor.app)
    once(actor, rec, f"chosen{chosen['n']}.deal", lambda: move_deal(actor, deal, "proposal_approval"))
    name = next(v["name"] for v in rec["variants"] if v["id"] == chosen["variant"])
    once(actor, rec, f"chosen{chosen['n']}.timeline", lambda: timeline(
        actor, "deal", rec["deal_id"], text(actor.lang, "t.chosen", name=name, total=chosen["total"])))

    def proposal():
        conf = settings.load(actor.kv, actor.member_id)
        made = None
        if conf.get("proposal_template_id"):
            made = documents.via_generator(actor.app, conf["proposal_template_id"], 2, rec["deal_id"], {
                "Variant": name, "Total": chosen["total"], "DocumentNumber": f"{rec['deal_id']}-{chosen['n']}"})
        if made is not None:
            chosen["document"] = made
            return timeline(actor, "deal", rec["deal_id"], text(actor.lang, "t.proposal_doc", name=made["title"],
                                                                 url=made["pdf"] or made["url"]))
        fname, content = documents.proposal(actor.lang, deal, name, chosen["lines"], chosen["at"][:10])
        chosen["document"] = {"source": "app", "title": fname}
        return timeline(actor, "deal", rec["deal_id"], text(actor.lang, "t.proposal", name=fname),
                        [documents.as_file(fname, content)])
    once(actor, rec, f"chosen{chosen['n']}.proposal", proposal)
    return view(actor, rec)


def for_deal(actor: Actor, deal_id: int) -> dict:
    """The deal tab's data: its calculations (newest first) with variants side by side, and its works."""
    drec = deal_record(actor, deal_id)
    calcs = [view(actor, record(actor, c)) for c in reversed(drec["calcs"])]
    return {"deal_id": int(deal_id), "calculations": calcs, "open": drec.get("open"),
            "works": drec.get("works", []), "open_work": drec.get("open_work")}


SCOPES = ("mine", "group", "unassigned", "all")


def engineers_board(actor: Actor, scope: str = "mine") -> dict:
    """The engineers' list: open calculations as a kanban by stage. ``mine`` = taken by me; ``group`` =
    waiting to be taken by me (addressed to me, my department or the queue); ``unassigned`` = the shared
    queue, not taken; ``all`` (heads) = every open one. Waiting = hours since the request (since the
    question, while one waits for the manager)."""
    sp = calc_sp(actor)
    rows = actor.app.list_all("crm.item.list", {
        "entityTypeId": sp.entity_type_id, "filter": {"@stageId": [sp.stage(k) for k in OPEN]},
        "select": ["id", "title", "stageId", "assignedById", "parentId2"]})
    now = datetime.now(UTC)
    columns: dict[str, list] = {k: [] for k in OPEN}
    for row in rows:
        rec = actor.kv.get(actor.member_id, f"calcwork.calc:{int(row['id'])}")
        if not rec:
            continue
        stage = sp.stage_key(row["stageId"])
        mine = rec.get("engineer_id") == actor.user_id
        waiting_for_me = stage == "new" and in_group(actor, rec["target"]) and \
            (rec["target"]["kind"] != "queue" or actor.has(app_roles.ENGINEER, *HEADS))
        keep = {"mine": mine, "group": waiting_for_me,
                "unassigned": stage == "new" and rec["target"]["kind"] == "queue",
                "all": actor.has(*HEADS)}[scope]
        if not keep:
            continue
        pending = [q for q in rec.get("questions", []) if q.get("answer") is None]
        since = pending[0]["at"] if pending else rec["times"].get("taken") or rec["times"]["requested"]
        if stage == "new":
            since = rec["times"]["requested"]
        hours = (now - datetime.fromisoformat(since)).total_seconds() / 3600
        columns[stage].append({"id": int(row["id"]), "title": row["title"], "deal_id": rec["deal_id"],
                               "stage": stage, "engineer_id": rec.get("engineer_id"), "target": rec["target"],
                               "waiting_hours": round(max(hours, 0.0), 1), "since": since})
    return {"scope": scope, "columns": [{"stage": k, "cards": v} for k, v in columns.items()]}   # in stage order
