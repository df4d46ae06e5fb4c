"""The Work's steps (seed 002): ordered from the deal → accepted → on site → finished with the act.

The manager orders work from the chosen variant (services picked from its lines, a contract); the Work
item is a child of the deal, assigned to the engineer, on the deal's timeline; the engineer is notified.
The engineer accepts, goes on site, finishes with a report and files; the manager is notified at each
step, the deal moves to "Work ordered" / "Work done". Each step writes once (a repeat answers the view).

Where the flow's settings say "work only after payment" (``work_after_payment``), ``order`` asks the 1C
paid gate's own rule (sync_1c.gate: paid_from_1c — what 1C reported, never the hand-editable amount field —
measured by paid_state against the deal's amount, as the b24app_check_paid robot does) and refuses a deal
that is not paid in full (409 NOT_PAID) before anything is written.
"""
from __future__ import annotations

from b24app.idempotent import add_once, xml_id
from sync_1c.gate import paid_from_1c, paid_state

from . import documents, flow, settings
from .context import (Actor, deal_record, notify, now_iso, portal_url, save_deal, save_work, serial, timeline,
                      work_record)
from .errors import CalcConflict, CalcInvalid, CalcNotFound, NotInGroup, NotPaid
from .strings import text

NEXT = {"accept": ("new", "accepted", "n.work_accepted"), "on_site": ("accepted", "on_site", "n.work_on_site"),
        "finish": (("accepted", "on_site"), "done", "n.work_done")}
MAX_FILES, MAX_FILE_BYTES = 10, 2_000_000


def work_sp(actor: Actor):
    return actor.ids.smart_process("work")


def work_item(actor: Actor, work_id: int) -> dict:
    return actor.app.call("crm.item.get", {"entityTypeId": work_sp(actor).entity_type_id, "id": int(work_id)})["item"]


def _rec(actor: Actor, work_id: int) -> dict:
    rec = work_record(actor, work_id)
    if not rec:
        raise CalcNotFound(actor.lang, "work_not_found", work=work_id)
    return rec


def once(actor: Actor, rec: dict, name: str, fn):
    return flow.once(actor, rec, name, fn, keep=save_work)


def view(actor: Actor, rec: dict, item: dict | None = None) -> dict:
    item = item or work_item(actor, rec["id"])
    sp = work_sp(actor)
    return {"id": rec["id"], "deal_id": rec["deal_id"], "calc_id": rec.get("calc_id"),
            "stage": sp.stage_key(item["stageId"]), "stage_id": item["stageId"], "engineer_id": rec["engineer_id"],
            "manager_id": rec.get("manager_id"), "lines": rec.get("lines", []), "contract": rec.get("contract"),
            "times": rec.get("times", {}), "report": rec.get("report"), "files": rec.get("files", []),
            "act": rec.get("act"), "act_document": rec.get("act_document"),
            "path": f"/crm/type/{sp.entity_type_id}/details/{rec['id']}/"}


def check_paid(actor: Actor, deal: dict) -> None:
    """The 1C paid gate's rule for "work only after payment" (the same two functions the gate and its
    robot use): paid per 1C against the deal's amount; a deal with nothing to pay is not "paid"."""
    ids = actor.ids
    paid, _source = paid_from_1c(actor.svc, actor.member_id, deal, ids, fetch=False)
    field = ids.deal_field("amount_paid")
    paid, total, full = paid_state({**deal, field: paid}, field)
    if not (full and total > 0):
        raise NotPaid(actor.lang, "not_paid", paid=f"{paid:.2f}", total=f"{total:.2f}")


@serial("deal")
def order(actor: Actor, deal_id: int, lines: list | None = None, contract: str = "", engineer_id: int | None = None,
          comment: str = "", xml: str | None = None) -> dict:
    """Order the work of a deal. From a page the services come from the chosen variant (``lines`` = its
    line numbers, none = all); a robot may order work on a deal without a calculation. The engineer is the
    calculation's unless another is named. A deal with an open Work gets that one back."""
    deal = flow.get_deal(actor, deal_id)
    drec = deal_record(actor, deal_id)
    calc = flow.record(actor, drec["done"]) if drec.get("done") else None
    if calc is not None:
        flow.check_manager(actor, calc)
    elif actor.user_id is not None:
        raise CalcConflict(actor.lang, "not_chosen")
    if drec.get("open_work"):                       # ordered already (a repeated click): that one
        rec = _rec(actor, drec["open_work"])
        return {**_after_order(actor, rec, deal), "created": False}
    chosen = (calc or {}).get("chosen")
    if chosen is None and actor.user_id is not None:
        raise CalcConflict(actor.lang, "not_chosen")
    picked = []
    if chosen is not None:
        by_n = {int(x["n"]): x for x in chosen["lines"]}
        wanted = [int(n) for n in lines] if lines else sorted(by_n)
        if not wanted or any(n not in by_n for n in wanted):
            raise CalcInvalid(actor.lang, "bad_lines")
        picked = [{"n": n, "name": by_n[n]["name"], "quantity": by_n[n]["quantity"], "amount": by_n[n]["amount"]}
                  for n in wanted]
    engineer = engineer_id or (calc or {}).get("engineer_id")
    if not engineer:
        raise CalcInvalid(actor.lang, "no_target")
    if settings.load(actor.kv, actor.member_id).get("work_after_payment"):
        check_paid(actor, deal)
    sp = work_sp(actor)
    fields = {"title": f"{deal.get('TITLE') or 'Deal'} #{deal['ID']}", "categoryId": sp.category_id,
              "stageId": sp.stage("new"), "parentId2": int(deal["ID"]), "assignedById": int(engineer),
              sp.field("engineer"): int(engineer)}
    if contract:
        fields[sp.field("contract")] = str(contract)[:255]
    if comment:
        fields[sp.field("report")] = str(comment)[:2000]
    if deal.get("COMPANY_ID") and str(deal["COMPANY_ID"]) != "0":
        fields["companyId"] = int(deal["COMPANY_ID"])
    xml = xml or xml_id(f"work:{int(deal['ID'])}:{len(drec.get('works', [])) + 1}")
    item = add_once(actor.client, sp.entity_type_id, fields, xml)
    rec = work_record(actor, item["id"]) or {
        "id": int(item["id"]), "deal_id": int(deal["ID"]), "calc_id": (calc or {}).get("id"),
        "engineer_id": int(engineer), "manager_id": int(deal.get("ASSIGNED_BY_ID") or 0) or None,
        "ordered_by": actor.user_id, "lines": picked, "contract": str(contract or "")[:255],
        "times": {"ordered": now_iso()}, "effects": []}
    save_work(actor, rec)
    drec.setdefault("works", [])
    if rec["id"] not in drec["works"]:
        drec["works"].append(rec["id"])
    drec["open_work"] = rec["id"]
    save_deal(actor, deal["ID"], drec)
    return {**_after_order(actor, rec, deal, item), "created": True}


def _after_order(actor: Actor, rec: dict, deal: dict, item: dict | None = None) -> dict:
    once(actor, rec, "ordered.deal", lambda: flow.move_deal(actor, deal, "work_ordered"))
    url = portal_url(actor, f"/crm/type/{work_sp(actor).entity_type_id}/details/{rec['id']}/")
    once(actor, rec, "ordered.notify", lambda: notify(
        actor, [rec["engineer_id"]], text(actor.lang, "n.work_ordered", title=deal.get("TITLE"), url=url),
        f"work:{rec['id']}:ordered"))
    listing = ", ".join(f"{x['name']} × {x['quantity']}" for x in rec["lines"]) or "—"
    once(actor, rec, "ordered.timeline", lambda: timeline(
        actor, "deal", rec["deal_id"], text(actor.lang, "t.work_ordered", lines=listing,
                                            contract=rec["contract"] or text(actor.lang, "no_contract"))))
    return view(actor, rec, item)


@serial("work")
def step(actor: Actor, work_id: int, action: str, report: str = "", files: list | None = None) -> dict:
    """accept | on_site | finish, by the work's engineer (or a head); a repeat of the step already made
    answers the view; finish needs a report, files go onto the Work's timeline with it."""
    rec = _rec(actor, work_id)
    if not (actor.user_id is None or actor.has(*flow.HEADS) or actor.user_id == rec["engineer_id"]):
        raise NotInGroup(actor.lang, "work_not_yours")
    frm, to, words = NEXT[action]
    sp = work_sp(actor)
    item = work_item(actor, work_id)
    stage = sp.stage_key(item["stageId"])
    if stage == to:
        return _after_step(actor, rec, action, to, words)
    if stage not in ((frm,) if isinstance(frm, str) else frm):
        raise CalcConflict(actor.lang, "work_wrong_stage", stage=flow.stage_name(actor, "work", stage))
    fields = {"stageId": sp.stage(to)}
    if action == "finish":
        report = str(report or "").strip()
        if not report:
            raise CalcInvalid(actor.lang, "no_act")
        files = _files(actor, files)
        rec["files"] = [{"name": f["name"], "size": f["size"]} for f in files]     # contents stay in the portal
        rec["report"] = report[:4000]
        fields[sp.field("report")] = rec["report"]
    rec.setdefault("times", {})[to] = now_iso()
    save_work(actor, rec)
    item = actor.client.call("crm.item.update", {"entityTypeId": sp.entity_type_id, "id": rec["id"],
                                                 "fields": fields})["item"]
    return _after_step(actor, rec, action, to, words, item, files)


def _files(actor: Actor, files) -> list[dict]:
    import base64
    import binascii

    out = []
    for f in (files or [])[:MAX_FILES]:
        if not isinstance(f, dict) or not str(f.get("name") or "").strip():
            raise CalcInvalid(actor.lang, "no_act")
        try:
            size = len(base64.b64decode(str(f.get("content") or ""), validate=True))
        except (binascii.Error, ValueError):
            raise CalcInvalid(actor.lang, "no_act") from None
        if size > MAX_FILE_BYTES:
            raise CalcInvalid(actor.lang, "no_act")
        out.append({"name": str(f["name"])[:200], "content": str(f["content"]), "size": size})
    return out


def _after_step(actor: Actor, rec: dict, action: str, to: str, words: str, item: dict | None = None,
                files: list | None = None) -> dict:
    deal = flow.get_deal(actor, rec["deal_id"], actor.app)
    who = actor.name(rec["engineer_id"])
    if action == "finish":
        once(actor, rec, "done.deal", lambda: flow.move_deal(actor, deal, "work_done"))
        drec = deal_record(actor, rec["deal_id"])
        if drec.get("open_work") == rec["id"]:
            drec["open_work"] = None
            save_deal(actor, rec["deal_id"], drec)
    once(actor, rec, f"{to}.notify", lambda: notify(
        actor, [rec.get("manager_id")], text(actor.lang, words, who=who, title=deal.get("TITLE")),
        f"work:{rec['id']}:{to}"))
    line = text(actor.lang, "t.work_stage", stage=flow.stage_name(actor, "work", to), who=who)
    if action == "finish":
        line = f"{line}\n{rec.get('report') or ''}"

    entity = f"dynamic_{work_sp(actor).entity_type_id}"
    once(actor, rec, f"{to}.work_timeline", lambda: timeline(
        actor, entity, rec["id"], line, [[f["name"], f["content"]] for f in files or []]))
    once(actor, rec, f"{to}.deal_timeline", lambda: timeline(actor, "deal", rec["deal_id"], line))
    if action == "finish":
        def act():
            tpl = settings.load(actor.kv, actor.member_id).get("act_template_id")
            made = documents.via_generator(actor.app, tpl, 2, rec["deal_id"], {
                "Report": rec.get("report") or "", "Contract": rec.get("contract") or "",
                "DocumentNumber": f"{rec['deal_id']}-W{rec['id']}"}) if tpl else None
            if made is not None:
                rec["act"], rec["act_document"] = made["title"], made
                words = text(actor.lang, "t.act_doc", name=made["title"], url=made["pdf"] or made["url"])
                timeline(actor, entity, rec["id"], words)
                return timeline(actor, "deal", rec["deal_id"], words)
            fname, content = documents.act(actor.lang, deal, rec, who, rec.get("report") or "",
                                           rec["times"].get("done", now_iso())[:10])
            rec["act"] = fname
            words = text(actor.lang, "t.act", name=fname)
            timeline(actor, entity, rec["id"], words, [documents.as_file(fname, content)])
            return timeline(actor, "deal", rec["deal_id"], words, [documents.as_file(fname, content)])
        once(actor, rec, "done.act", act)
    return view(actor, rec, item)
