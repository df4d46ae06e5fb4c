"""A caller's phone → who they are, in as few portal calls as the screen needs: the contact(s) and
company(ies) ``crm.duplicate.findbycomm`` finds, each company's card, its Equipment with the warranty
left, its open deals and the last closed ones (stage names from the portal's own crm.status lists)."""
from __future__ import annotations

from datetime import date, datetime

from install.registry import installed_ids
from visits import rules

from . import phone as phones
from .warranty import describe, warranty_left

MAX_COMPANIES = 10           # a phone shared by more is a switchboard: the screen shows the first ten
LAST_CLOSED = 3
DEAL_SELECT = ["ID", "TITLE", "STAGE_ID", "CATEGORY_ID", "CLOSED", "DATE_CREATE", "CLOSEDATE", "OPPORTUNITY",
               "CURRENCY_ID", "COMPANY_ID", "CONTACT_ID"]


def today_of(services, member_id: str, now: datetime | None = None) -> date:
    """Today's date on the portal's wall clock (the app's configured time zone)."""
    zone = rules.settings_of(services.store.kv, member_id).zone
    return (now or datetime.now(zone)).astimezone(zone).date()


def _ids(answer, key: str) -> list[int]:
    """findbycomm answers ``{"CONTACT": [..]}`` or ``[]`` when nothing matched."""
    if isinstance(answer, dict):
        return [int(x) for x in answer.get(key) or []]
    return []


def find_ids(client, phone: str) -> tuple[list[int], list[int]]:
    values = phones.search_values(phone)
    contacts = _ids(client.call("crm.duplicate.findbycomm", {"entity_type": "CONTACT", "type": "PHONE",
                                                             "values": values}), "CONTACT")
    companies = _ids(client.call("crm.duplicate.findbycomm", {"entity_type": "COMPANY", "type": "PHONE",
                                                              "values": values}), "COMPANY")
    return contacts, companies


def _phones(row: dict) -> list[str]:
    return [m.get("VALUE", "") for m in row.get("PHONE") or [] if m.get("VALUE")]


EQ_KEYS = ("model", "serial", "purchase_date", "warranty_end", "warranty_hours", "hours_used", "price", "manufacturer")


def machine_row(eq, f: dict, it: dict, today: date, lang: str = "ru") -> dict:
    left = warranty_left(it.get(f["warranty_end"]), it.get(f["warranty_hours"]), it.get(f["hours_used"]), today)
    return {"id": int(it["id"]), "title": it.get("title") or "", "model": it.get(f["model"]) or "",
            "serial": it.get(f["serial"]) or "", "purchase_date": (it.get(f["purchase_date"]) or "")[:10],
            "warranty_end": (it.get(f["warranty_end"]) or "")[:10],
            "warranty_hours": it.get(f["warranty_hours"]), "hours_used": it.get(f["hours_used"]),
            "price": it.get(f["price"]), "manufacturer": it.get(f["manufacturer"]) or "",
            "company_id": int(it.get("companyId") or 0) or None, "contact_id": int(it.get("contactId") or 0) or None,
            **left.as_dict(), **describe(left, it.get(f["warranty_end"]), lang),
            "path": f"/crm/type/{eq.entity_type_id}/details/{int(it['id'])}/"}


def equipment_of(services, member_id: str, company_ids: list[int], today: date,
                 lang: str = "ru") -> dict[int, list[dict]]:
    eq = installed_ids(services.store, member_id).smart_process("equipment")
    f = {k: eq.field(k) for k in EQ_KEYS}
    by_company: dict[int, list[dict]] = {c: [] for c in company_ids}
    if not company_ids:
        return by_company
    items = services.client(member_id).list_all("crm.item.list", {
        "entityTypeId": eq.entity_type_id, "filter": {"@companyId": company_ids},
        "select": ["id", "title", "companyId", *f.values()], "order": {"id": "ASC"}})
    for it in items:
        row = machine_row(eq, f, it, today, lang)
        by_company.setdefault(int(it.get("companyId") or 0), []).append(row)
    return by_company


def contact_equipment(services, member_id: str, contact_ids: list[int], today: date, lang: str = "ru") -> dict:
    """A private caller's own machines (Equipment items bound to the contact)."""
    out: dict[int, list[dict]] = {c: [] for c in contact_ids}
    if not contact_ids:
        return out
    eq = installed_ids(services.store, member_id).smart_process("equipment")
    f = {k: eq.field(k) for k in EQ_KEYS}
    for it in services.client(member_id).list_all("crm.item.list", {
            "entityTypeId": eq.entity_type_id, "filter": {"@contactId": contact_ids},
            "select": ["id", "title", "companyId", "contactId", *f.values()], "order": {"id": "ASC"}}):
        out.setdefault(int(it.get("contactId") or 0), []).append(machine_row(eq, f, it, today, lang))
    return out


def stage_names(client, category_ids: set[int]) -> dict[str, str]:
    names: dict[str, str] = {}
    for cat in sorted(category_ids):
        entity = "DEAL_STAGE" if cat == 0 else f"DEAL_STAGE_{cat}"
        for s in client.list_all("crm.status.list", {"filter": {"ENTITY_ID": entity}}):
            names[s["STATUS_ID"]] = s.get("NAME") or s["STATUS_ID"]
    return names


def _deal(d: dict, names: dict) -> dict:
    return {"id": int(d["ID"]), "title": d.get("TITLE") or "", "stage_id": d.get("STAGE_ID") or "",
            "stage": names.get(d.get("STAGE_ID") or "", d.get("STAGE_ID") or ""), "closed": d.get("CLOSED") == "Y",
            "created": (d.get("DATE_CREATE") or "")[:10], "closed_on": (d.get("CLOSEDATE") or "")[:10],
            "opportunity": d.get("OPPORTUNITY"), "currency": d.get("CURRENCY_ID") or "",
            "path": f"/crm/deal/details/{int(d['ID'])}/"}


def _split(deals: list[dict]) -> dict:
    """All open deals (newest first) and the last closed ones."""
    open_ = sorted((d for d in deals if not d["closed"]), key=lambda d: -d["id"])
    closed = sorted((d for d in deals if d["closed"]), key=lambda d: (d["closed_on"], d["id"]), reverse=True)
    return {"open": open_, "closed": closed[:LAST_CLOSED]}


def lookup(services, member_id: str, raw_phone, now: datetime | None = None, lang: str = "ru",
           bound: tuple[str, int] | None = None) -> dict:
    """The whole intake card for one phone. Raises PhoneError on a non-number (→ 400). ``bound``: the call's
    CRM binding (CALL_CARD getStatus: CONTACT / COMPANY and its id) — that client is on the card even when
    the number is not (yet) in its card."""
    phone = phones.normalise(raw_phone)
    client = services.client(member_id)
    contact_ids, company_ids = find_ids(client, phone)
    if bound is not None:
        kind, eid = bound
        target = contact_ids if kind == "CONTACT" else company_ids if kind == "COMPANY" else None
        if target is not None and eid not in target:
            target.insert(0, eid)
    contacts = list(client.list_all("crm.contact.list", {"filter": {"ID": contact_ids}, "select": [
        "ID", "NAME", "LAST_NAME", "SECOND_NAME", "COMPANY_ID", "PHONE", "POST"]})) if contact_ids else []
    for c in contacts:
        cid = int(c.get("COMPANY_ID") or 0)
        if cid and cid not in company_ids:
            company_ids.append(cid)
    company_ids = company_ids[:MAX_COMPANIES]
    ids = installed_ids(services.store, member_id)
    checked = ids.company_field("cp_checked")
    companies = list(client.list_all("crm.company.list", {"filter": {"ID": company_ids}, "select": [
        "ID", "TITLE", "ADDRESS", "ADDRESS_CITY", "COMPANY_TYPE", "PHONE", checked]})) if company_ids else []
    companies.sort(key=lambda r: company_ids.index(int(r["ID"])))
    deals = []
    if company_ids:
        deals += list(client.list_all("crm.deal.list", {"filter": {"COMPANY_ID": company_ids}, "select": DEAL_SELECT}))
    lonely = [int(c["ID"]) for c in contacts if not int(c.get("COMPANY_ID") or 0)]
    if lonely:
        deals += list(client.list_all("crm.deal.list", {"filter": {"CONTACT_ID": lonely}, "select": DEAL_SELECT}))
    names = stage_names(client, {int(d.get("CATEGORY_ID") or 0) for d in deals})
    equipment = equipment_of(services, member_id, [int(c["ID"]) for c in companies], today_of(services, member_id, now),
                             lang)
    own = contact_equipment(services, member_id, lonely, today_of(services, member_id, now), lang)
    rows = [_deal(d, names) for d in {int(d["ID"]): d for d in deals}.values()]
    out_companies = [{"id": int(c["ID"]), "title": c.get("TITLE") or "",
                      "address": ", ".join(x for x in (c.get("ADDRESS_CITY"), c.get("ADDRESS")) if x),
                      "phones": _phones(c), "path": f"/crm/company/details/{int(c['ID'])}/",
                      "counterparty_checked": str(c.get(checked) or "").upper() in ("1", "Y", "TRUE"),
                      "equipment": equipment.get(int(c["ID"]), []),
                      "deals": _split([d for d in rows if str(d["id"]) in _deal_ids(deals, "COMPANY_ID", c["ID"])])}
                     for c in companies]
    out_contacts = [{"id": int(c["ID"]), "name": " ".join(x for x in (c.get("LAST_NAME"), c.get("NAME"),
                                                                      c.get("SECOND_NAME")) if x),
                     "post": c.get("POST") or "", "company_id": int(c.get("COMPANY_ID") or 0) or None,
                     "phones": _phones(c), "path": f"/crm/contact/details/{int(c['ID'])}/",
                     "deals": _split([d for d in rows if str(d["id"]) in _deal_ids(deals, "CONTACT_ID", c["ID"])])
                     if int(c["ID"]) in lonely else None,
                     "equipment": own.get(int(c["ID"]), []) if int(c["ID"]) in lonely else None}
                    for c in contacts]
    return {"phone": phone, "found": bool(out_contacts or out_companies), "contacts": out_contacts,
            "companies": out_companies, "today": today_of(services, member_id, now).isoformat()}


def _deal_ids(deals: list[dict], key: str, value) -> set[str]:
    return {str(d["ID"]) for d in deals if str(d.get(key) or "") == str(value)}
