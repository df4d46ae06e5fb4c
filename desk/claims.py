"""Each specialist's block of a work order and the warranty claim.

- The engineer's block (parts ordered, arrival date, arrived, tool cell, a paid diagnostic trip and its
  result, "waiting for parts payment", block done) — the person's own token writes it.
- The mechanic's block (done, act signed, hours read on the machine, a comment and files): only the
  order's own mechanic (or a service head); the hours move the machine's "hours used" forward.
- The warranty claim: the manufacturer's request pre-filled from the machine's model (manufacturers'
  contacts kept per model, kv ``desk.manufacturers``), sent from the order (timeline + "request sent");
  the reclamation act the manufacturer returns is attached as a file and approves the order, which moves on.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from b24app.errors import said
from install.registry import installed_ids

from . import workorder
from .intake import IntakeError, strict_date, strict_files, strict_id, strict_number, strict_text

KV_MANUFACTURERS = "desk.manufacturers"


class NotYours(PermissionError):
    """A mechanic's block of someone else's order (→ 403)."""


def _flag(body: dict, key: str):
    v = body.get(key)
    if v is None:
        return None
    if not isinstance(v, bool):
        raise IntakeError(said(f"{key}: true or false", f"{key}: true или false"))
    return v


def engineer_block(services, member_id: str, deal_id: int, body: dict, me: int | None = None) -> dict:
    """The engineer's block; ``me``: the engineer filling it, named on an order that has none yet."""
    if not isinstance(body, dict):
        raise IntakeError(said("body: a JSON object is expected", "тело запроса: нужен JSON-объект"))
    known = {"engineer_id", "tool_cell", "parts_ordered", "parts_date", "parts_arrived", "diag_trip", "diag_done",
             "parts_payment", "done", "reason"}
    extra = set(body) - known
    if extra:
        raise IntakeError(said(f"unknown key {sorted(extra)[0]!r}", f"неизвестный ключ {sorted(extra)[0]!r}"))
    values: dict = {}
    if "engineer_id" in body:
        values["svc_engineer"] = strict_id(body["engineer_id"], "engineer_id")
    if "tool_cell" in body:
        values["svc_tool_cell"] = strict_text(body["tool_cell"], "tool_cell", limit=20)
    if "reason" in body:
        values["svc_reason"] = strict_text(body["reason"], "reason", limit=500)
    if "parts_date" in body:
        values["svc_parts_date"] = strict_date(body["parts_date"], "parts_date") or ""
    for key, uf in (("parts_ordered", "svc_parts_ordered"), ("parts_arrived", "svc_parts_arrived"),
                    ("diag_trip", "svc_diag_trip"), ("diag_done", "svc_diag_done"),
                    ("parts_payment", "svc_parts_payment"), ("done", "svc_engineer_done")):
        v = _flag(body, key)
        if v is not None:
            values[uf] = "Y" if v else "N"
    deal = workorder.get(services, member_id, deal_id)
    ids = installed_ids(services.store, member_id)
    if me and "svc_engineer" not in values and not str(deal.get(workorder.uf(ids, "svc_engineer")) or "").strip("0"):
        values["svc_engineer"] = int(me)
    if values.get("svc_engineer_done") == "Y":
        cell = values.get("svc_tool_cell", deal.get(workorder.uf(ids, "svc_tool_cell")))
        if not str(cell or "").strip():
            raise IntakeError(said("tool_cell: the engineer's block is done only with the tool cell number",
                                   "tool_cell: блок инженера завершается только с номером ячейки с инструментом"))
        was = workorder.truthy(deal.get(workorder.uf(ids, "svc_parts_ordered")))
        ordered = values.get("svc_parts_ordered", "Y" if was else "N")
        pdate = values.get("svc_parts_date", deal.get(workorder.uf(ids, "svc_parts_date")))
        if ordered == "Y" and not str(pdate or "").strip():
            raise IntakeError(said("parts_date: parts ordered need their arrival date",
                                   "parts_date: для заказанных запчастей нужна дата привоза"))
    view = workorder.write(services, member_id, deal_id, values)
    named = values.get("svc_engineer")
    if named and str(named) != str(deal.get(workorder.uf(ids, "svc_engineer")) or "") and int(named) != int(me or 0):
        workorder.app_client(services, member_id).call("im.notify.system.add", {
            "USER_ID": int(named), "TAG": f"b24app:svc_engineer:{int(deal_id)}:{int(named)}",
            "MESSAGE": (f"You are the engineer of work order “{view['title']}” [{int(deal_id)}]: fill in your block "
                        "(parts, tool cell)." if workorder.portal_lang(services, member_id) == "en" else
                        f"Вы — инженер заказ-наряда «{view['title']}» [{int(deal_id)}]: заполните свой блок "
                        "(запчасти, ячейка с инструментом).")})
    return view


def mechanic_block(services, member_id: str, deal_id: int, body: dict, user_id: int, is_head: bool) -> dict:
    if not isinstance(body, dict):
        raise IntakeError(said("body: a JSON object is expected", "тело запроса: нужен JSON-объект"))
    extra = set(body) - {"done", "act_signed", "hours", "comment", "files"}
    if extra:
        raise IntakeError(said(f"unknown key {sorted(extra)[0]!r}", f"неизвестный ключ {sorted(extra)[0]!r}"))
    deal = workorder.get(services, member_id, deal_id)
    ids = installed_ids(services.store, member_id)
    mine = str(deal.get(workorder.uf(ids, "svc_mechanic")) or "") == str(user_id)
    if not mine and not is_head:
        raise NotYours(said(f"work order {deal_id} is not yours", f"заказ-наряд {deal_id} назначен не вам"))
    values: dict = {}
    for key, uf in (("done", "svc_mechanic_done"), ("act_signed", "svc_act_signed")):
        v = _flag(body, key)
        if v is not None:
            values[uf] = "Y" if v else "N"
    hours = strict_number(body.get("hours"), "hours")
    comment = strict_text(body.get("comment"), "comment", limit=4000)
    files = _files(body.get("files"))
    if hours is not None:
        values["svc_hours"] = hours
    view = workorder.write(services, member_id, deal_id, values)
    app = workorder.app_client(services, member_id)
    if comment or files:
        fields = {"ENTITY_TYPE": "deal", "ENTITY_ID": int(deal_id), "COMMENT": comment or "Файлы механика"}
        if files:
            fields["FILES"] = files
        services.client(member_id).call("crm.timeline.comment.add", {"fields": fields})
    if hours is not None and view.get("equipment"):
        eq = ids.smart_process("equipment")
        item = app.call("crm.item.get", {"entityTypeId": eq.entity_type_id, "id": int(view["equipment"])})["item"]
        if float(item.get(eq.field("hours_used")) or 0) < hours:
            app.call("crm.item.update", {"entityTypeId": eq.entity_type_id, "id": int(view["equipment"]),
                                         "fields": {eq.field("hours_used"): hours}})
    return view


def _files(raw) -> list:
    return strict_files(raw)


# --- manufacturers and the warranty claim ------------------------------------------------------------------
def manufacturers(kv, member_id: str) -> dict:
    doc = kv.get(member_id, KV_MANUFACTURERS) or {}
    return doc if isinstance(doc, dict) else {}


def save_manufacturers(kv, member_id: str, doc) -> dict:
    """{model: {manufacturer, email, contact?, phone?}} — the factory to write to, per model."""
    if not isinstance(doc, dict) or len(doc) > 500:
        raise IntakeError(said("a JSON object {model: {manufacturer, email, contact, phone}} is expected",
                               "нужен JSON-объект {модель: {manufacturer, email, contact, phone}}"))
    clean = {}
    for model, row in doc.items():
        if not isinstance(row, dict):
            raise IntakeError(said(f"{model}: an object is expected", f"{model}: нужен объект"))
        email = strict_text(row.get("email"), f"{model}.email", required=True)
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise IntakeError(said(f"{model}.email: not an e-mail address", f"{model}.email: не адрес e-mail"))
        clean[strict_text(model, "model", required=True)] = {
            "manufacturer": strict_text(row.get("manufacturer"), f"{model}.manufacturer", required=True),
            "email": email, "contact": strict_text(row.get("contact"), f"{model}.contact"),
            "phone": strict_text(row.get("phone"), f"{model}.phone", limit=40)}
    kv.set(member_id, KV_MANUFACTURERS, clean)
    return clean


def _machine(services, member_id: str, view: dict) -> dict:
    if not view.get("equipment"):
        raise IntakeError(said("the work order has no machine", "в заказ-наряде не указана техника"))
    eq = installed_ids(services.store, member_id).smart_process("equipment")
    item = services.client(member_id).call("crm.item.get", {"entityTypeId": eq.entity_type_id,
                                                            "id": int(view["equipment"])})["item"]
    return {k: item.get(eq.field(k)) for k in ("model", "serial", "purchase_date", "warranty_end", "warranty_hours",
                                               "hours_used", "manufacturer")} | {"id": int(item["id"])}


def draft(services, member_id: str, deal_id: int, lang: str) -> dict:
    """The manufacturer's request, pre-filled from the machine's model (the manufacturers' list)."""
    ids = installed_ids(services.store, member_id)
    deal = workorder.get(services, member_id, deal_id)
    view = workorder.view(ids, deal, workorder.computed_for(services, member_id, ids, deal))
    if view["scenario"] not in workorder.WARRANTY:
        raise IntakeError(said("only a warranty work order asks the manufacturer",
                               "запрос заводу — только для гарантийного заказ-наряда"))
    m = _machine(services, member_id, view)
    contacts = manufacturers(services.store.kv, member_id)
    to = contacts.get(str(m["model"] or "")) or next(
        (v for k, v in contacts.items() if k.lower() == str(m["model"] or "").lower()), None)
    en = lang == "en"
    subject = (f"Warranty claim: {m['model']} SN {m['serial']}" if en
               else f"Гарантийный случай: {m['model']}, зав. № {m['serial']}")
    body = (f"Machine: {m['model']}, serial {m['serial']}, purchased {str(m['purchase_date'] or '')[:10]}, "
            f"hours {m['hours_used']}.\nProblem: {view.get('reason') or ''}\n"
            f"Work order: {deal.get('TITLE')} [{deal_id}]."
            if en else
            f"Техника: {m['model']}, зав. № {m['serial']}, куплена {str(m['purchase_date'] or '')[:10]}, "
            f"наработка {m['hours_used']} м/ч.\nНеисправность: {view.get('reason') or ''}\n"
            f"Заказ-наряд: {deal.get('TITLE')} [{deal_id}]. Просим подтвердить гарантийный случай.")
    return {"deal_id": int(deal_id), "model": m["model"], "serial": m["serial"],
            "manufacturer": (to or {}).get("manufacturer") or m.get("manufacturer") or "",
            "to": (to or {}).get("email") or "", "contact": (to or {}).get("contact") or "",
            "subject": subject, "body": body, "known": to is not None}


def send(services, member_id: str, deal_id: int, body: dict, lang: str) -> dict:
    """The request goes out from the order: on the order's timeline (what was sent, to whom) and the
    "request sent" field; the text may be edited on the page (``text``)."""
    if not isinstance(body, dict):
        raise IntakeError(said("body: a JSON object is expected", "тело запроса: нужен JSON-объект"))
    d = draft(services, member_id, deal_id, lang)
    if not d["to"]:
        raise IntakeError(said(f"no manufacturer's address for the model {d['model']!r}: add it in the settings",
                               f"нет адреса завода для модели {d['model']!r}: добавьте его в настройках"))
    text = strict_text(body.get("text"), "text", limit=8000) or d["body"]
    services.client(member_id).call("crm.timeline.comment.add", {"fields": {
        "ENTITY_TYPE": "deal", "ENTITY_ID": int(deal_id),
        "COMMENT": f"Запрос заводу {d['manufacturer']} <{d['to']}>: {d['subject']}\n{text}"}})
    now = datetime.fromtimestamp(workorder_now(services), timezone.utc).isoformat(timespec="seconds")
    return workorder.write(services, member_id, deal_id, {"svc_mfr_sent": now}) | {"sent_to": d["to"]}


def workorder_now(services) -> float:
    clock = getattr(services, "clock", None)
    return float(clock()) if callable(clock) else datetime.now(timezone.utc).timestamp()


def attach_act(services, member_id: str, deal_id: int, body: dict) -> dict:
    """{number, approved: true|false, file: {name, content_base64}}: the reclamation act on the order's
    timeline as a file; approved → the order moves on (its stage is computed)."""
    if not isinstance(body, dict):
        raise IntakeError(said("body: a JSON object is expected", "тело запроса: нужен JSON-объект"))
    number = strict_text(body.get("number"), "number", limit=50, required=True)
    approved = _flag(body, "approved")
    if approved is None:
        raise IntakeError(said("approved: true or false", "approved: true или false"))
    files = _files([body.get("file")] if body.get("file") is not None else None)
    if not files:
        raise IntakeError(said("file: the reclamation act is required", "file: нужен файл акта рекламации"))
    view = workorder.get(services, member_id, deal_id)
    ids = installed_ids(services.store, member_id)
    if workorder.scenario_of(ids, view) not in workorder.WARRANTY:
        raise IntakeError(said("only a warranty work order has a reclamation act",
                               "акт рекламации — только у гарантийного заказ-наряда"))
    verdict = "подтвердил гарантию" if approved else "отказал в гарантии"
    services.client(member_id).call("crm.timeline.comment.add", {"fields": {
        "ENTITY_TYPE": "deal", "ENTITY_ID": int(deal_id), "COMMENT": f"Акт рекламации № {number}: завод {verdict}",
        "FILES": files}})
    return workorder.write(services, member_id, deal_id, {"svc_reclamation": number,
                                                          "svc_mfr_approved": "Y" if approved else "N"})
