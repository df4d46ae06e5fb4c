"""A new service request from the intake screen: a deal for the caller's company/contact, titled with the
phone and the chosen equipment, in the default pipeline or the one an administrator configured
(kv ``desk.category_id``). Everything is checked before the one ``crm.deal.add``: nothing half-written."""
from __future__ import annotations

from b24app.errors import B24Error
from install.registry import installed_ids

from . import calls, workorder
from . import phone as phones
from .intake import strict_id, strict_number
from .lookup import today_of
from .strings import strings
from .warranty import warranty_left

KV_CATEGORY = "desk.category_id"


class RequestError(ValueError):
    """Bad input of a request (→ 400 naming the field)."""


def _id(value, name: str, required: bool = False) -> int | None:
    """Strict: ``true`` is not company 1 and ``1.5`` is not equipment 1 (desk.intake.strict_id)."""
    return strict_id(value, name, required)


def category_of(kv, member_id: str) -> int:
    try:
        return max(0, int(kv.get(member_id, KV_CATEGORY, 0) or 0))
    except (TypeError, ValueError):
        return 0


def _exists(client, method: str, rid: int) -> dict | None:
    try:
        return client.call(method, {"id": rid})
    except B24Error as exc:
        if "not found" in (exc.description or "").lower():
            return None
        raise


def propose(services, member_id: str, equipment_id, request_type) -> dict:
    """The scenario proposed for a machine and a request type (warranty left decides)."""
    eq_id = strict_id(equipment_id, "equipment_id", required=True)
    if request_type not in workorder.REQUEST_TYPES:
        raise RequestError(f"request_type: one of {', '.join(workorder.REQUEST_TYPES)}")
    eq = installed_ids(services.store, member_id).smart_process("equipment")
    client = services.client(member_id)
    try:
        item = client.call("crm.item.get", {"entityTypeId": eq.entity_type_id, "id": eq_id})["item"]
    except B24Error:
        raise RequestError(f"equipment_id: equipment {eq_id} not found") from None
    left = warranty_left(item.get(eq.field("warranty_end")), item.get(eq.field("warranty_hours")),
                         item.get(eq.field("hours_used")), today_of(services, member_id))
    return {"scenario": workorder.propose(left.on_warranty, request_type), "on_warranty": left.on_warranty,
            "equipment_id": eq_id}


def create_request(services, member_id: str, body: dict, lang: str, app_services=None) -> dict:
    """body: {phone, company_id?, contact_id?, equipment_id?, comment?} → {deal_id, path, title}; with
    ``request_type`` (repair | maintenance | presale) a work order in the scenario's pipeline (proposed from
    the machine's warranty, or ``scenario`` chosen), linked to the machine, with ``reason``, ``hours`` and
    the ``call_id`` it came from (its recording is attached)."""
    s = strings(lang)
    phone = phones.normalise(body.get("phone"))
    company_id = _id(body.get("company_id"), "company_id")
    contact_id = _id(body.get("contact_id"), "contact_id")
    equipment_id = _id(body.get("equipment_id"), "equipment_id")
    request_type = body.get("request_type")
    call_id = body.get("call_id")
    if call_id is not None and (not isinstance(call_id, str) or not call_id.strip() or len(call_id) > 100):
        raise RequestError("call_id: the call's id (text) is expected")
    hours = strict_number(body.get("hours"), "hours")
    comment = body.get("comment") if body.get("comment") is not None else ""
    if not isinstance(comment, str):
        raise RequestError(f"comment: text is expected, got {comment!r}")
    comment = comment.strip()
    if len(comment) > 2000:
        raise RequestError("comment: at most 2000 characters")
    if not company_id and not contact_id:
        raise RequestError("company_id or contact_id: the request needs the client")
    client = services.client(member_id)
    if company_id and _exists(client, "crm.company.get", company_id) is None:
        raise RequestError(f"company_id: company {company_id} not found")
    if contact_id and _exists(client, "crm.contact.get", contact_id) is None:
        raise RequestError(f"contact_id: contact {contact_id} not found")
    what = ""
    if equipment_id:
        eq = installed_ids(services.store, member_id).smart_process("equipment")
        try:
            item = client.call("crm.item.get", {"entityTypeId": eq.entity_type_id, "id": equipment_id})["item"]
        except B24Error:
            raise RequestError(f"equipment_id: equipment {equipment_id} not found") from None
        if company_id and int(item.get("companyId") or 0) != company_id:
            raise RequestError(f"equipment_id: equipment {equipment_id} is not the company's {company_id}")
        what = " ".join(x for x in (item.get(eq.field("model")) or "", item.get(eq.field("serial")) or "") if x)
    scenario = None
    if request_type is not None:
        if not equipment_id:
            raise RequestError("equipment_id: a work order needs the machine")
        proposed = propose(services, member_id, equipment_id, request_type)["scenario"]
        scenario = body.get("scenario") or proposed
        if scenario not in workorder.SCENARIOS:
            raise RequestError(f"scenario: one of {', '.join(workorder.SCENARIOS)}")
    title = s["request.title"].format(phone=phone) + (f" — {what}" if what else "")
    fields = {"TITLE": title, "CATEGORY_ID": category_of(services.store.kv, member_id), "SOURCE_ID": "CALL",
              "COMMENTS": comment}
    if scenario is not None:
        ids = installed_ids(services.store, member_id)
        pipe = ids.pipeline(scenario)
        fields.update({"CATEGORY_ID": pipe.category_id, "STAGE_ID": pipe.stage("new"),
                       ids.deal_field("svc_equipment"): equipment_id,
                       ids.deal_field("svc_request_type"): request_type,
                       ids.deal_field("svc_reason"): comment[:500]})
        if hours is not None:
            fields[ids.deal_field("svc_hours")] = hours
        if call_id:
            fields[ids.deal_field("svc_call_id")] = call_id
    if company_id:
        fields["COMPANY_ID"] = company_id
    if contact_id:
        fields["CONTACT_ID"] = contact_id
    deal_id = int(client.call("crm.deal.add", {"fields": fields}))
    if scenario is not None:
        workorder.seen(services, member_id, deal_id, "new")
    if call_id:
        calls.bind_request(services, app_services or services, member_id, call_id, deal_id)
    return {"deal_id": deal_id, "title": title, "path": f"/crm/deal/details/{deal_id}/",
            "category_id": fields["CATEGORY_ID"], "scenario": scenario}
