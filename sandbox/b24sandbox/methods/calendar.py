"""calendar.section.get, calendar.event.add/update/delete/get/getbyid, calendar.accessibility.get — user
calendars (reference §6, §2.3; docs api-reference/calendar/calendar-event/*.md).

Dates come in as ``2024-12-02T11:00:00``/``2024-12-02 11:00``/``02.12.2024 11:00:00`` and go out in the portal's
Russian format ``02.12.2024 11:00:00`` with ``DATE_FROM_TS_UTC``; add/update return the event id; events fire
``ONCALENDARENTRYADD/UPDATE/DELETE`` with a lower-case ``id``. Each user gets a default section on demand.
"""
from __future__ import annotations

from datetime import datetime

from ..crmcore import now_iso
from ..filters import to_dt
from ..registry import B24Fault, method


def _req(params: dict, *names: str) -> None:
    for n in names:
        if params.get(n) in (None, "", []):
            raise B24Fault("", f"Не указан обязательный параметр \"{n}\"", 400)


def _dt(raw, name: str) -> datetime:
    d = to_dt(str(raw))
    if d is None:
        raise B24Fault("", f"Неверный формат параметра \"{name}\"", 400)
    return d


def sections_of(db, cal_type: str, owner_id: int) -> list[dict]:
    rows = [s for s in db.calendar_sections.rows.values() if s["CAL_TYPE"] == cal_type and s["OWNER_ID"] == owner_id]
    if not rows:
        u = db.users.get(owner_id) or {}
        name = f"{u.get('NAME', '')} {u.get('LAST_NAME', '')}".strip() if cal_type == "user" else "Календарь компании"
        row = {"NAME": name or "Календарь", "CAL_TYPE": cal_type, "OWNER_ID": owner_id, "COLOR": "#9dcf00",
               "TEXT_COLOR": "#283033", "DESCRIPTION": "", "EXPORT": {"ALLOW": True}}
        with db.lock:
            db.calendar_sections.insert(row)
        rows = [row]
    return rows


def section_out(s: dict) -> dict:
    return {"ID": str(s["ID"]), "NAME": s["NAME"], "CAL_TYPE": s["CAL_TYPE"], "OWNER_ID": str(s["OWNER_ID"]),
            "COLOR": s["COLOR"], "TEXT_COLOR": s["TEXT_COLOR"], "DESCRIPTION": s["DESCRIPTION"],
            "EXPORT": s["EXPORT"], "PERM": {"view_time": True, "view_title": True, "view_full": True,
                                            "add": True, "edit": True, "edit_section": True, "access": True}}


def _fmt(iso: str, skip_time: bool) -> str:
    d = datetime.fromisoformat(iso)
    return d.strftime("%d.%m.%Y") if skip_time else d.strftime("%d.%m.%Y %H:%M:%S")


def event_out(e: dict) -> dict:
    skip = e["SKIP_TIME"] == "Y"
    return {"ID": str(e["ID"]), "PARENT_ID": str(e["ID"]), "NAME": e["NAME"], "DESCRIPTION": e["DESCRIPTION"],
            "DATE_FROM": _fmt(e["DATE_FROM"], skip), "DATE_TO": _fmt(e["DATE_TO"], skip),
            "DATE_FROM_TS_UTC": str(int(datetime.fromisoformat(e["DATE_FROM"]).timestamp())),
            "DATE_TO_TS_UTC": str(int(datetime.fromisoformat(e["DATE_TO"]).timestamp())),
            "TZ_FROM": "Europe/Moscow", "TZ_TO": "Europe/Moscow", "TZ_OFFSET_FROM": "10800",
            "TZ_OFFSET_TO": "10800", "SKIP_TIME": e["SKIP_TIME"], "SECTION_ID": str(e["SECTION_ID"]),
            "CAL_TYPE": e["CAL_TYPE"], "OWNER_ID": str(e["OWNER_ID"]), "CREATED_BY": str(e["CREATED_BY"]),
            "DATE_CREATE": e["DATE_CREATE"], "TIMESTAMP_X": e["TIMESTAMP_X"], "ACCESSIBILITY": e["ACCESSIBILITY"],
            "IMPORTANCE": e["IMPORTANCE"], "IS_MEETING": e["IS_MEETING"], "LOCATION": e["LOCATION"],
            "COLOR": e["COLOR"], "ATTENDEE_LIST": [{"id": u, "entryId": str(e["ID"]), "status": "Y"}
                                                    for u in e["ATTENDEES"]],
            "UF_CRM_CAL_EVENT": e["CRM_FIELDS"] or False, "RRULE": e["RRULE"] or ""}


def _ids(v) -> list[int]:
    vals = list(v.values()) if isinstance(v, dict) else v if isinstance(v, list) else [v] if v else []
    return [int(x) for x in vals if str(x).strip().isdigit()]


def _apply(db, e: dict, p: dict) -> None:
    if "name" in p:
        e["NAME"] = str(p["name"])
    skip = str(p.get("skip_time", e.get("SKIP_TIME", "N"))).upper() in ("Y", "TRUE", "1")
    e["SKIP_TIME"] = "Y" if skip else "N"
    if "from" in p:
        e["DATE_FROM"] = _dt(p["from"], "from").isoformat()
    if "to" in p:
        e["DATE_TO"] = _dt(p["to"], "to").isoformat()
    if e["DATE_TO"] < e["DATE_FROM"]:
        raise B24Fault("", "Дата окончания события должна быть больше даты начала", 400)
    for key, col in (("description", "DESCRIPTION"), ("accessibility", "ACCESSIBILITY"),
                     ("importance", "IMPORTANCE"), ("location", "LOCATION"), ("color", "COLOR")):
        if key in p:
            e[col] = str(p[key] or "")
    if "is_meeting" in p:
        e["IS_MEETING"] = str(p["is_meeting"]).upper() in ("Y", "TRUE", "1")
    if "attendees" in p:
        e["ATTENDEES"] = _ids(p["attendees"])
    if "crm_fields" in p:
        v = p["crm_fields"]
        e["CRM_FIELDS"] = [str(x) for x in (list(v.values()) if isinstance(v, dict)
                                            else v if isinstance(v, list) else [v])]
    if "rrule" in p:
        e["RRULE"] = p["rrule"]


@method("calendar.section.get", scope="calendar")
def section_get(ctx, params):
    _req(params, "type", "ownerId")
    return [section_out(s) for s in sections_of(ctx.portal.db, str(params["type"]), int(params["ownerId"]))]


@method("calendar.event.add", scope="calendar")
def event_add(ctx, params):
    _req(params, "type", "ownerId", "from", "to", "name")
    db = ctx.portal.db
    cal_type, owner = str(params["type"]), int(params["ownerId"])
    sections = sections_of(db, cal_type, owner)
    section = params.get("section")
    if section in (None, ""):
        if str(params.get("auto_detect_section", "")).upper() != "Y":
            raise B24Fault("", "Не указан обязательный параметр \"section\"", 400)
        section = sections[0]["ID"]
    now = now_iso(ctx.portal)
    e = {"NAME": "", "DESCRIPTION": "", "SKIP_TIME": "N", "SECTION_ID": int(section), "CAL_TYPE": cal_type,
         "OWNER_ID": owner, "CREATED_BY": ctx.user_id, "DATE_CREATE": now, "TIMESTAMP_X": now,
         "ACCESSIBILITY": "busy", "IMPORTANCE": "normal", "IS_MEETING": False, "LOCATION": "", "COLOR": "",
         "ATTENDEES": [owner], "CRM_FIELDS": [], "RRULE": None, "DATE_FROM": "", "DATE_TO": ""}
    _apply(db, e, params)
    with db.lock:
        eid = db.calendar_events.insert(e)
    ctx.portal.emit("ONCALENDARENTRYADD", {"id": str(eid)}, ctx.user_id)
    return eid


def _event(ctx, raw) -> dict:
    e = ctx.portal.db.calendar_events.get(raw)
    if e is None:
        raise B24Fault("", "Событие не найдено", 400)
    return e


@method("calendar.event.update", scope="calendar")
def event_update(ctx, params):
    _req(params, "id", "type", "ownerId")
    e = _event(ctx, params["id"])
    with ctx.portal.db.lock:
        _apply(ctx.portal.db, e, params)
        if params.get("section"):
            e["SECTION_ID"] = int(params["section"])
        e["TIMESTAMP_X"] = now_iso(ctx.portal)
    ctx.portal.emit("ONCALENDARENTRYUPDATE", {"id": str(e["ID"])}, ctx.user_id)
    return e["ID"]


@method("calendar.event.delete", scope="calendar")
def event_delete(ctx, params):
    _req(params, "id")
    e = _event(ctx, params["id"])
    with ctx.portal.db.lock:
        ctx.portal.db.calendar_events.delete(e["ID"])
    ctx.portal.emit("ONCALENDARENTRYDELETE", {"id": str(e["ID"])}, ctx.user_id)
    return True


@method("calendar.event.getbyid", scope="calendar")
def event_getbyid(ctx, params):
    _req(params, "id")
    return event_out(_event(ctx, params["id"]))


def _overlaps(e: dict, start: datetime | None, end: datetime | None) -> bool:
    f, t = datetime.fromisoformat(e["DATE_FROM"]), datetime.fromisoformat(e["DATE_TO"])
    return (end is None or f <= end) and (start is None or t >= start)


@method("calendar.event.get", scope="calendar")
def event_get(ctx, params):
    _req(params, "type", "ownerId")
    cal_type, owner = str(params["type"]), int(params["ownerId"])
    start = to_dt(str(params["from"])) if params.get("from") else None
    end = to_dt(str(params["to"])) if params.get("to") else None
    if end is not None and len(str(params["to"])) == 10:
        end = end.replace(hour=23, minute=59, second=59)
    sections = set(_ids(params.get("section")))
    rows = [e for e in ctx.portal.db.calendar_events.rows.values()
            if e["CAL_TYPE"] == cal_type and e["OWNER_ID"] == owner and _overlaps(e, start, end)
            and (not sections or e["SECTION_ID"] in sections)]
    return [event_out(e) for e in sorted(rows, key=lambda e: e["DATE_FROM"])]


@method("calendar.accessibility.get", scope="calendar")
def accessibility_get(ctx, params):
    _req(params, "users", "from", "to")
    start, end = _dt(params["from"], "from"), _dt(params["to"], "to")
    if len(str(params["to"])) == 10:
        end = end.replace(hour=23, minute=59, second=59)
    out = {}
    events = list(ctx.portal.db.calendar_events.rows.values())
    for uid in _ids(params["users"]):
        busy = [e for e in events if e["ACCESSIBILITY"] != "free" and _overlaps(e, start, end)
                and ((e["CAL_TYPE"] == "user" and e["OWNER_ID"] == uid) or uid in e["ATTENDEES"])]
        out[str(uid)] = [{k: v for k, v in event_out(e).items()
                          if k in ("ID", "NAME", "DATE_FROM", "DATE_TO", "DATE_FROM_TS_UTC", "DATE_TO_TS_UTC",
                                   "TZ_FROM", "TZ_TO", "ACCESSIBILITY", "IMPORTANCE", "SKIP_TIME")}
                         for e in sorted(busy, key=lambda e: e["DATE_FROM"])]
    return out
