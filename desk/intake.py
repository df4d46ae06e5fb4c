"""The intake form's inputs, strictly typed (``true`` is not a company id, ``1.5`` is not an id: 400 with a
message), the search for a client the phone did not find (by name or INN), and an unknown caller's client
and machine created in one step: the company (or a private person), the contact with the caller's phone,
and the Equipment item — everything checked before the first write; a failed write removes what was made."""
from __future__ import annotations

import base64
import binascii
import re
from datetime import date

from b24app.errors import said
from install.registry import installed_ids

from . import phone as phones


MAX_FILE = 5_000_000


class IntakeError(ValueError):
    """Bad input of the intake form (→ 400 naming the field)."""


def strict_id(value, name: str, required: bool = False) -> int | None:
    """A positive integer id: a JSON integer or a string of digits. ``true``, ``1.5``, ``"1.5"``, ``-3`` → 400."""
    if value is None or value == "":
        if required:
            raise IntakeError(said(f"{name}: required", f"{name}: обязательно"))
        return None
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())):
        raise IntakeError(said(f"{name}: a positive whole number (an id) is expected, got {value!r}",
                               f"{name}: нужен id — целое положительное число, получено {value!r}"))
    n = int(value)
    if n <= 0:
        raise IntakeError(said(f"{name}: a positive whole number (an id) is expected, got {value!r}",
                               f"{name}: нужен id — целое положительное число, получено {value!r}"))
    return n


def strict_number(value, name: str, minimum: float = 0.0) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise IntakeError(said(f"{name}: a number is expected, got {value!r}",
                               f"{name}: нужно число, получено {value!r}"))
    try:
        n = float(str(value).replace(",", ".").strip())
    except ValueError:
        raise IntakeError(said(f"{name}: a number is expected, got {value!r}",
                               f"{name}: нужно число, получено {value!r}")) from None
    if n != n or n < minimum or n > 1e12:
        raise IntakeError(said(f"{name}: a number from {minimum:g} is expected, got {value!r}",
                               f"{name}: нужно число от {minimum:g}, получено {value!r}"))
    return n


def strict_date(value, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise IntakeError(said(f"{name}: a date YYYY-MM-DD is expected, got {value!r}",
                               f"{name}: нужна дата ГГГГ-ММ-ДД, получено {value!r}"))
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise IntakeError(said(f"{name}: {value!r} is not a date", f"{name}: {value!r} — не дата")) from None


def strict_text(value, name: str, limit: int = 255, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise IntakeError(said(f"{name}: text is expected, got {value!r}", f"{name}: нужен текст, получено {value!r}"))
    text = value.strip()
    if required and not text:
        raise IntakeError(said(f"{name}: required", f"{name}: обязательно"))
    if len(text) > limit:
        raise IntakeError(said(f"{name}: at most {limit} characters", f"{name}: не длиннее {limit} символов"))
    return text


def strict_object(value, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise IntakeError(said(f"{name}: an object is expected", f"{name}: нужен объект"))
    return value


def strict_files(raw) -> list:
    """[{name, content_base64}] (≤ 10, each ≤ 5 MB) → FILES of crm.timeline.comment.add: [[name, base64]]."""
    if raw in (None, []):
        return []
    if not isinstance(raw, list) or len(raw) > 10:
        raise IntakeError(said("files: a list of at most 10 {name, content_base64}",
                               "files: до 10 файлов {name, content_base64}"))
    out = []
    for i, f in enumerate(raw):
        if not isinstance(f, dict):
            raise IntakeError(said(f"files[{i}]: {{name, content_base64}} expected",
                                   f"files[{i}]: нужен {{name, content_base64}}"))
        name = strict_text(f.get("name"), f"files[{i}].name", limit=200, required=True)
        try:
            content = base64.b64decode(str(f.get("content_base64") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise IntakeError(said(f"files[{i}].content_base64: not base64", f"files[{i}].content_base64: не base64")) \
                from None
        if not content or len(content) > MAX_FILE:
            raise IntakeError(said(f"files[{i}]: from 1 byte to 5 MB", f"files[{i}]: от 1 байта до 5 МБ"))
        out.append([re.sub(r"[\\/]", "_", name), base64.b64encode(content).decode()])
    return out


def machine_fields(eq, m: dict) -> dict:
    """The Equipment item's fields from the form's machine (model required)."""
    model = strict_text(m.get("model"), "machine.model", required=True)
    serial = strict_text(m.get("serial"), "machine.serial")
    out = {"title": " ".join(x for x in (model, serial) if x), eq.field("model"): model, eq.field("serial"): serial}
    for key in ("purchase_date", "warranty_end"):
        v = strict_date(m.get(key), f"machine.{key}")
        if v:
            out[eq.field(key)] = v
    for key in ("price", "warranty_hours", "hours_used"):
        v = strict_number(m.get(key), f"machine.{key}")
        if v is not None:
            out[eq.field(key)] = v
    manufacturer = strict_text(m.get("manufacturer"), "machine.manufacturer")
    if manufacturer:
        out[eq.field("manufacturer")] = manufacturer
    unknown = set(m) - {"model", "serial", "purchase_date", "price", "manufacturer", "warranty_end",
                        "warranty_hours", "hours_used"}
    if unknown:
        first = sorted(unknown)[0]
        raise IntakeError(said(f"machine: unknown key {first!r}", f"machine: неизвестный ключ {first!r}"))
    return out


def create_client(services, member_id: str, body: dict) -> dict:
    """body: {phone, kind: company|person, company: {title, inn?}, contact: {name, last_name?, post?},
    machine: {...}, documents?: [{name, content_base64}]} → {company_id, contact_id, equipment_id}. A new
    company is "counterparty not checked yet" (the company's cp_checked field) until someone checks it; the
    documents land on the client's timeline. Every input checked first; a write the portal
    refuses undoes the earlier ones (nothing half-written)."""
    if not isinstance(body, dict):
        raise IntakeError(said("body: a JSON object is expected", "тело запроса: нужен JSON-объект"))
    phone = phones.normalise(body.get("phone"))
    kind = body.get("kind")
    if kind not in ("company", "person"):
        raise IntakeError(said("kind: company or person", "kind: company (компания) или person (частное лицо)"))
    company = strict_object(body.get("company"), "company")
    contact = strict_object(body.get("contact"), "contact")
    machine = strict_object(body.get("machine"), "machine")
    title = strict_text(company.get("title"), "company.title", required=kind == "company")
    inn = strict_text(company.get("inn"), "company.inn", limit=12)
    if inn and not re.fullmatch(r"\d{10}|\d{12}", inn):
        raise IntakeError(said("company.inn: 10 or 12 digits", "company.inn: 10 или 12 цифр"))
    name = strict_text(contact.get("name"), "contact.name", required=True)
    last = strict_text(contact.get("last_name"), "contact.last_name")
    post = strict_text(contact.get("post"), "contact.post")
    documents = strict_files(body.get("documents"))
    ids = installed_ids(services.store, member_id)
    eq = ids.smart_process("equipment")
    item_fields = machine_fields(eq, machine) if machine else None
    client = services.client(member_id)
    made: list[tuple[str, dict]] = []
    try:
        company_id = None
        if kind == "company":
            fields = {"TITLE": title, "PHONE": [{"VALUE": phone, "VALUE_TYPE": "WORK"}],
                      ids.company_field("cp_checked"): "N"}
            if inn:
                fields[ids.company_field("inn")] = inn
            company_id = int(client.call("crm.company.add", {"fields": fields}))
            made.append(("crm.company.delete", {"id": company_id}))
        cfields = {"NAME": name, "LAST_NAME": last, "POST": post, "PHONE": [{"VALUE": phone, "VALUE_TYPE": "MOBILE"}]}
        if company_id:
            cfields["COMPANY_ID"] = company_id
        contact_id = int(client.call("crm.contact.add", {"fields": cfields}))
        made.append(("crm.contact.delete", {"id": contact_id}))
        equipment_id = None
        if item_fields is not None:
            owner = {"companyId": company_id} if company_id else {"contactId": contact_id}
            item = client.call("crm.item.add", {"entityTypeId": eq.entity_type_id, "fields": {**item_fields, **owner}})
            equipment_id = int(item["item"]["id"])
        if documents:
            owner_type, owner_id = ("company", company_id) if company_id else ("contact", contact_id)
            client.call("crm.timeline.comment.add", {"fields": {
                "ENTITY_TYPE": owner_type, "ENTITY_ID": owner_id, "FILES": documents,
                "COMMENT": "Документы клиента (приём заявки)"}})
    except Exception:
        for method, params in reversed(made):
            try:
                client.call(method, params)
            except Exception:  # noqa: BLE001 - the first error is the one to answer
                pass
        raise
    return {"phone": phone, "company_id": company_id, "contact_id": contact_id, "equipment_id": equipment_id,
            "documents": len(documents), "counterparty_checked": False if company_id else None}


def add_machine(services, member_id: str, body: dict) -> dict:
    """A machine added to a known client: {company_id | contact_id, machine: {...}}."""
    if not isinstance(body, dict):
        raise IntakeError(said("body: a JSON object is expected", "тело запроса: нужен JSON-объект"))
    company_id = strict_id(body.get("company_id"), "company_id")
    contact_id = strict_id(body.get("contact_id"), "contact_id")
    if not company_id and not contact_id:
        raise IntakeError(said("company_id or contact_id: the machine needs its owner",
                               "company_id или contact_id: у техники должен быть владелец"))
    eq = installed_ids(services.store, member_id).smart_process("equipment")
    fields = machine_fields(eq, strict_object(body.get("machine"), "machine"))
    fields.update({"companyId": company_id} if company_id else {"contactId": contact_id})
    item = services.client(member_id).call("crm.item.add", {"entityTypeId": eq.entity_type_id, "fields": fields})
    return {"equipment_id": int(item["item"]["id"])}


def search(services, member_id: str, q) -> dict:
    """Clients by name or INN (the caller's number was not found): companies whose title contains the text
    or whose INN is it, contacts whose last or first name contains it."""
    text = strict_text(q, "q", limit=100, required=True)
    if len(text) < 2:
        raise IntakeError(said("q: at least 2 characters", "q: не короче 2 символов"))
    ids = installed_ids(services.store, member_id)
    client = services.client(member_id)
    inn_field = ids.company_field("inn")
    sel = ["ID", "TITLE", "ADDRESS_CITY", "ADDRESS", "PHONE", inn_field]
    found = {}
    if text.isdigit():
        for c in client.list_all("crm.company.list", {"filter": {inn_field: text}, "select": sel}):
            found[int(c["ID"])] = c
    for c in client.list_all("crm.company.list", {"filter": {"%TITLE": text}, "select": sel}):
        found[int(c["ID"])] = c
    contacts = {}
    for key in ("%LAST_NAME", "%NAME"):
        for c in client.list_all("crm.contact.list", {"filter": {key: text},
                                                      "select": ["ID", "NAME", "LAST_NAME", "COMPANY_ID", "PHONE"]}):
            contacts[int(c["ID"])] = c
    return {"companies": [{"id": i, "title": c.get("TITLE") or "", "inn": c.get(inn_field) or "",
                           "phones": [m.get("VALUE") for m in c.get("PHONE") or [] if m.get("VALUE")],
                           "address": ", ".join(x for x in (c.get("ADDRESS_CITY"), c.get("ADDRESS")) if x)}
                          for i, c in sorted(found.items())][:20],
            "contacts": [{"id": i, "name": " ".join(x for x in (c.get("LAST_NAME"), c.get("NAME")) if x),
                          "company_id": int(c.get("COMPANY_ID") or 0) or None,
                          "phones": [m.get("VALUE") for m in c.get("PHONE") or [] if m.get("VALUE")]}
                         for i, c in sorted(contacts.items())][:20]}
