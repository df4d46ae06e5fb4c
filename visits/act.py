"""What a manager does on the visit page: enter the result (+ comment and photo) and close the visit,
edit the company's fields in place. Each is one batch call, so a phone on a weak network makes one
round trip per tap.
"""
from __future__ import annotations

import base64
import re

from b24app.errors import B24Error, said
from install.registry import NotInstalled, installed_ids

from . import calendar_sync, rules
from .create import CreateError, normalise_date
from .read import NotFound

MAX_PHOTO_BYTES = 2 * 1024 * 1024      # as base64 in JSON it stays under the app's 4 MB request bound
PHOTO_NAME = re.compile(r"[^\w.\- ]+")


class PhotoTooLarge(CreateError):
    """The photo is over MAX_PHOTO_BYTES: the page answers 413 (the phone page scales photos down first)."""


def photo_file(photo: dict | None, lang: str = "ru") -> list | None:
    """``{name, content}`` (a data: URL or bare base64) → ``[name, base64]`` as FILES takes it, checked
    before anything is written."""
    if not photo or not photo.get("content"):
        return None
    raw = str(photo["content"]).split(",", 1)[-1].strip()          # a data: URL or bare base64
    try:
        size = len(base64.b64decode(raw, validate=True))
    except ValueError:
        raise CreateError(said("the photo is not base64", "фото не в base64")) from None
    if size > MAX_PHOTO_BYTES:
        mb, limit = size / 1024 / 1024, MAX_PHOTO_BYTES // 1024 // 1024
        raise PhotoTooLarge(said(f"the photo is {mb:.1f} MB; the limit is {limit} MB",
                                 f"фото {mb:.1f} МБ; можно не больше {limit} МБ"))
    name = PHOTO_NAME.sub("_", str(photo.get("name") or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .")
    return [(name or "photo.jpg")[:100], raw]


def save_result(services, member_id: str, visit_id: int, result: str, comment: str = "",
                photo: dict | None = None, lang: str = "ru") -> dict:
    """Result field + stage *Visit done* + a timeline comment (the comment and the photo, as FILES).

    Without a photo: one batch call. With one: the update, then ``crm.timeline.comment.add`` as a direct
    call — megabytes of base64 do not belong inside a batch's ``cmd`` query strings."""
    result = str(result or "").strip()
    if not result:
        raise CreateError(said("the result is required", "введите результат визита"))
    file = photo_file(photo, lang)                                  # bad input → nothing written
    v = installed_ids(services.store, member_id).smart_process("visit")
    update = ("crm.item.update", {"entityTypeId": v.entity_type_id, "id": int(visit_id),
                                  "fields": {v.field("result"): result, "stageId": v.stage("done")}})
    text = ("Результат визита: " if lang == "ru" else "Visit result: ") + result
    if comment:
        text += "\n" + str(comment)
    fields = {"ENTITY_ID": int(visit_id), "ENTITY_TYPE": f"dynamic_{v.entity_type_id}", "COMMENT": text}
    client = services.client(member_id)
    if file is None:
        res = client.batch({"upd": update, "comment": ("crm.timeline.comment.add", {"fields": fields})}, halt=True)
        if res.errors:
            _raise(next(iter(res.errors.values())), visit_id)
        return {"id": int(visit_id), "stage": "done", "comment_id": res.result.get("comment"), "files": []}
    try:
        client.call(*update)
    except B24Error as exc:
        _raise(exc, visit_id)
    comment_id = client.call("crm.timeline.comment.add", {"fields": {**fields, "FILES": [file]}})
    return {"id": int(visit_id), "stage": "done", "comment_id": comment_id, "files": [file[0]]}


def _raise(err: Exception, visit_id) -> None:
    if isinstance(err, B24Error) and err.code == "NOT_FOUND":
        raise NotFound(said(f"visit {visit_id} not found", f"визит {visit_id} не найден"))
    raise err


def update_company(services, member_id: str, company_id: int, changes: dict) -> dict:
    """Only the fields the page offers are written (TITLE, ADDRESS, COMMENTS, region)."""
    ids = installed_ids(services.store, member_id)
    allowed = {"TITLE": "TITLE", "ADDRESS": "ADDRESS", "COMMENTS": "COMMENTS"}
    try:
        allowed["region"] = ids.company_field("region")
    except NotInstalled:
        pass
    fields = {allowed[k]: str(val or "")[:2000] for k, val in (changes or {}).items() if k in allowed}
    if not fields:
        raise CreateError(said("nothing to change: editable fields are " + ", ".join(sorted(allowed)),
                                "нечего менять: можно править поля " + ", ".join(sorted(allowed))))
    if "TITLE" in fields and not fields["TITLE"].strip():
        raise CreateError(said("the company name cannot be empty", "название компании не может быть пустым"))
    services.client(member_id).call("crm.company.update", {"id": int(company_id), "fields": fields})
    return {"id": int(company_id), "changed": sorted(k for k in changes if k in allowed)}


def reschedule(services, member_id: str, visit_id: int, when) -> dict:
    """Move a visit to another date/time from its card: the date field (an Overdue visit goes back to In
    work — it has a date again), then its calendar event at once (calendar_sync.sync_item). Never into the
    past (the portal's now) and never a finished visit; bad input → CreateError, nothing written."""
    v = installed_ids(services.store, member_id).smart_process("visit")
    zone = rules.settings_of(services.store.kv, member_id).zone
    when_iso = normalise_date(when, zone)
    if rules.parse_dt(when_iso, zone) < services.now(zone):
        raise CreateError(said(f"{when_iso[:16].replace('T', ' ')} is in the past: pick a later time",
                               f"{when_iso[:16].replace('T', ' ')} уже прошло: выберите время позже"))
    client = services.client(member_id)
    try:
        item = client.call("crm.item.get", {"entityTypeId": v.entity_type_id, "id": int(visit_id)})["item"]
    except B24Error as err:
        _raise(err, visit_id)
    key = v.stage_key(item.get("stageId"))
    if key in ("done", "failed"):
        raise CreateError(said("a visit that took place (or failed) is not moved: plan a repeat visit instead",
                               "проведённый или несостоявшийся визит не переносят: запланируйте повторный"))
    fields = {v.field("visit_date"): when_iso}
    if key == "overdue":
        fields["stageId"] = v.stage("in_work")
    item = client.call("crm.item.update", {"entityTypeId": v.entity_type_id, "id": int(visit_id),
                                           "fields": fields})["item"]
    calendar_sync.sync_item(services, member_id, v, item, int(visit_id))
    return {"id": int(visit_id), "date": item.get(v.field("visit_date")), "stage": v.stage_key(item.get("stageId"))}


TASK_TITLE_MAX = 255


def add_task(services, member_id: str, visit_id: int, title, deadline=None, responsible=None) -> dict:
    """A task from the visit card ("call back", "send the price list"): ``tasks.task.add`` by the person
    himself, bound to the visit and its company (``UF_CRM_TASK``: ``T<hex entityTypeId>_<id>``, ``CO_<id>``),
    for the visit's responsible unless another person is named; deadline in the portal's zone."""
    title = str(title or "").strip()
    if not title:
        raise CreateError(said("the task needs a title", "у задачи должно быть название"))
    v = installed_ids(services.store, member_id).smart_process("visit")
    zone = rules.settings_of(services.store.kv, member_id).zone
    client = services.client(member_id)
    try:
        item = client.call("crm.item.get", {"entityTypeId": v.entity_type_id, "id": int(visit_id)})["item"]
    except B24Error as err:
        _raise(err, visit_id)
    fields = {"TITLE": title[:TASK_TITLE_MAX],
              "RESPONSIBLE_ID": int(responsible or item.get("assignedById") or 0) or None,
              "UF_CRM_TASK": [f"T{v.entity_type_id:x}_{int(visit_id)}"]
              + ([f"CO_{int(item['companyId'])}"] if item.get("companyId") else [])}
    if fields["RESPONSIBLE_ID"] is None:
        raise CreateError(said("whose task is it? the visit has no responsible",
                               "кому задача? у визита нет ответственного"))
    if deadline:
        when = normalise_date(deadline, zone)
        if rules.parse_dt(when, zone) < services.now(zone):
            raise CreateError(said("the deadline is in the past", "срок уже прошёл"))
        fields["DEADLINE"] = when
    task = (client.call("tasks.task.add", {"fields": fields}) or {}).get("task") or {}
    return {"id": int(task.get("id") or task.get("ID")), "title": fields["TITLE"], "deadline": fields.get("DEADLINE")}


CONTACT_FIELDS = ("NAME", "LAST_NAME", "POST", "PHONE", "EMAIL")


def _contact_fields(changes: dict, current: dict | None = None) -> dict:
    """NAME / LAST_NAME / POST as text; PHONE / EMAIL as one work value — the existing first value is
    replaced in place (its ID kept), so a contact's other numbers stay as they are."""
    out: dict = {}
    for k, val in (changes or {}).items():
        if k not in CONTACT_FIELDS:
            raise CreateError(said(f"{k}: not an editable contact field ({', '.join(CONTACT_FIELDS)})",
                                   f"{k}: это поле контакта здесь не правят ({', '.join(CONTACT_FIELDS)})"))
        val = str(val or "").strip()[:250]
        if k in ("PHONE", "EMAIL"):
            if k == "EMAIL" and val and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", val):
                raise CreateError(said(f"{val!r} is not an e-mail address", f"«{val}» — не адрес почты"))
            if k == "PHONE" and val and len(re.sub(r"\D", "", val)) < 5:
                raise CreateError(said(f"{val!r} is not a phone number", f"«{val}» — не номер телефона"))
            first = next((m for m in (current or {}).get(k) or [] if isinstance(m, dict)), None)
            if first and first.get("ID"):              # an emptied value is deleted, as the portal wants it
                out[k] = [{"ID": first["ID"], "VALUE": val} if val else {"ID": first["ID"], "DELETE": "Y"}]
            elif val:
                out[k] = [{"VALUE": val, "VALUE_TYPE": "WORK"}]
        else:
            out[k] = val
    return out


def save_contact(services, member_id: str, company_id: int, contact_id: int | None, changes: dict) -> dict:
    """Edit a company's contact from the visit card, or add one to the company (``contact_id`` None), with
    the person's own token: the portal decides whether he may."""
    client = services.client(member_id)
    if contact_id is None:
        fields = _contact_fields(changes)
        if not (fields.get("NAME") or fields.get("LAST_NAME")):
            raise CreateError(said("a contact needs a name", "у контакта должно быть имя"))
        new_id = int(client.call("crm.contact.add", {"fields": {**fields, "COMPANY_ID": int(company_id)}}))
        return {"id": new_id, "created": True}
    current = client.call("crm.contact.get", {"id": int(contact_id)})
    if int(current.get("COMPANY_ID") or 0) != int(company_id) and \
            int(company_id) not in [int(x) for x in current.get("COMPANY_IDS") or []]:
        raise CreateError(said(f"contact {contact_id} is not a contact of company {company_id}",
                               f"контакт {contact_id} не из компании {company_id}"))
    fields = _contact_fields(changes, current)
    if not fields:
        raise CreateError(said("nothing to change", "нечего менять"))
    client.call("crm.contact.update", {"id": int(contact_id), "fields": fields})
    return {"id": int(contact_id), "changed": sorted(fields)}
