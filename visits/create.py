"""Creating a visit — one function for every entry point (company card tab, robot, company map, phone
page, "plan repeat visit"), so a visit always gets the same shape: stage Draft, bound to the company
(``companyId`` and the parent link ``parentId4``), the company's responsible user as the manager unless
one is named, the company's region copied into the visit (the kanban is filtered by region).

Two calls: ``crm.company.get`` then ``crm.item.add``; the calendar event follows in one batch call.
"""
from __future__ import annotations

import logging
from datetime import datetime

from b24app.errors import B24Error, said
from b24app.i18n import lang_of
from b24app.idempotent import add_once
from install.registry import NotInstalled, installed_ids

from . import calendar_sync, rules

log = logging.getLogger("b24app.visits.create")
VISIT_TYPES = ("planned", "repeat", "unplanned", "merchandising", "training")


class CreateError(ValueError):
    """A visit cannot be created from what was given (bad date, unknown company); the text says why."""


def normalise_date(value, zone) -> str:
    """``2026-11-25``, ``2026-11-25T10:00`` or ISO with an offset → ISO with the portal's offset.
    A bare date means 10:00 local — the usual start of a visiting day."""
    s = str(value or "").strip()
    if not s:
        raise CreateError(said("the visit date is required", "укажите дату визита"))
    try:
        d = datetime.fromisoformat(s.replace(" ", "T", 1))
    except ValueError:
        raise CreateError(said(f"the visit date {s!r} is not a date", f"«{s}» — не дата")) from None
    if len(s) == 10:
        d = d.replace(hour=10)
    if d.tzinfo is None:
        d = d.replace(tzinfo=zone)
    return d.isoformat(timespec="seconds")


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day_text(services, member_id: str, when_iso: str) -> str:
    """The visit's day in its title as the portal's people read dates: 14.01.2026 (ru), 14 Jan 2026 (en)."""
    d = datetime.fromisoformat(when_iso[:10])
    portal = services.store.portals.get(member_id)
    if lang_of(portal.lang if portal else "ru") == "en":
        return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"
    return d.strftime("%d.%m.%Y")


def create_visit(services, member_id: str, company_id, when, visit_type: str = "planned",
                 purpose: str | None = None, responsible=None, stage: str = "draft", title: str | None = None,
                 sync_calendar: bool = True, xml_id: str | None = None) -> dict:
    """Create a visit and return the crm.item as the portal answered it. With ``xml_id`` (a robot call's
    ``b24app:<event_token>``) a retry finds the visit the first attempt made instead of adding another."""
    v = installed_ids(services.store, member_id).smart_process("visit")
    ids = installed_ids(services.store, member_id)
    zone = rules.settings_of(services.store.kv, member_id).zone
    visit_type = visit_type or "planned"
    if visit_type not in VISIT_TYPES:
        raise CreateError(said(f"unknown visit type {visit_type!r}", f"неизвестный тип визита «{visit_type}»"))
    try:
        company_id = int(company_id)
    except (TypeError, ValueError):
        raise CreateError(said(f"company id {company_id!r} is not a number",
                                f"номер компании «{company_id}» — не число")) from None
    when_iso = normalise_date(when, zone)
    client = services.client(member_id)
    try:
        company = client.call("crm.company.get", {"id": company_id})
    except B24Error as exc:
        raise CreateError(said(f"company {company_id} cannot be read: {exc.description or exc.code}",
                                f"компанию {company_id} не удалось прочитать: {exc.description or exc.code}")) from exc
    fields = {"title": title or f"{company.get('TITLE') or company_id}: {_day_text(services, member_id, when_iso)}",
              "categoryId": v.category_id, "stageId": v.stage(stage), "companyId": company_id,
              "parentId4": company_id, v.field("visit_date"): when_iso,
              v.field("visit_type"): v.enum_id("visit_type", visit_type), v.field("company"): company_id}
    try:
        region = company.get(ids.company_field("region"))
    except NotInstalled:
        region = None
    if region:
        fields[v.field("region")] = region
    if purpose:
        fields[v.field("purpose")] = str(purpose)
    manager = responsible or company.get("ASSIGNED_BY_ID")
    if manager:
        fields["assignedById"] = int(manager)
    item = add_once(client, v.entity_type_id, fields, xml_id)
    if sync_calendar:
        try:
            calendar_sync.sync_item(services, member_id, v, item, int(item["id"]))
        except B24Error as exc:      # the event handler will try again when ONCRMDYNAMICITEMADD arrives
            log.warning("visit %s: calendar event not created now: %s", item["id"], exc)
    return item


def plan_repeat(services, member_id: str, visit_id: int, when, purpose: str | None = None) -> dict:
    """"Plan a repeat visit" in one tap: a new visit to the same company, same manager, stage Repeat visit,
    type Repeat — the sweep brings it back to In work a few days before its date."""
    v = installed_ids(services.store, member_id).smart_process("visit")
    src = services.client(member_id).call("crm.item.get",
                                          {"entityTypeId": v.entity_type_id, "id": int(visit_id)})["item"]
    company_id = src.get("companyId") or src.get(v.field("company"))
    if not company_id:
        raise CreateError(said(f"visit {visit_id} has no company", f"у визита {visit_id} нет компании"))
    return create_visit(services, member_id, company_id, when, "repeat",
                        purpose or src.get(v.field("purpose")), src.get("assignedById"), stage="repeat_visit")
