"""A new service request from the intake screen: a deal for the caller's company/contact, titled with the
phone and the chosen equipment, in the default pipeline or the one an administrator configured
(kv ``desk.category_id``). Everything is checked before the one ``crm.deal.add``: nothing half-written."""
from __future__ import annotations

from b24app.errors import B24Error
from install.registry import installed_ids

from . import phone as phones
from .strings import strings

KV_CATEGORY = "desk.category_id"


class RequestError(ValueError):
    """Bad input of a request (→ 400 naming the field)."""


def _id(value, name: str, required: bool = False) -> int | None:
    if value in (None, "", 0, "0"):
        if required:
            raise RequestError(f"{name}: required")
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise RequestError(f"{name}: a positive integer is expected, got {value!r}") from None
    if n <= 0:
        raise RequestError(f"{name}: a positive integer is expected, got {value!r}")
    return n


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


def create_request(services, member_id: str, body: dict, lang: str) -> dict:
    """body: {phone, company_id?, contact_id?, equipment_id?, comment?} → {deal_id, path, title}."""
    s = strings(lang)
    phone = phones.normalise(body.get("phone"))
    company_id = _id(body.get("company_id"), "company_id")
    contact_id = _id(body.get("contact_id"), "contact_id")
    equipment_id = _id(body.get("equipment_id"), "equipment_id")
    comment = str(body.get("comment") or "").strip()
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
    title = s["request.title"].format(phone=phone) + (f" — {what}" if what else "")
    fields = {"TITLE": title, "CATEGORY_ID": category_of(services.store.kv, member_id), "SOURCE_ID": "CALL",
              "COMMENTS": comment}
    if company_id:
        fields["COMPANY_ID"] = company_id
    if contact_id:
        fields["CONTACT_ID"] = contact_id
    deal_id = int(client.call("crm.deal.add", {"fields": fields}))
    return {"deal_id": deal_id, "title": title, "path": f"/crm/deal/details/{deal_id}/",
            "category_id": fields["CATEGORY_ID"]}
