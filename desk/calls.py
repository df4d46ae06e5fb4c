"""The call pops the client: the portal's telephony events (app.json, online to /events, verified by
application_token like every event) → a call record per CALL_ID in kv; the dispatcher page asks for the
calls ringing or running on its lines and shows each caller's card (desk.lookup).

- ``ONVOXIMPLANTCALLINIT`` (incoming: CALL_TYPE 2 or 3; CALLER_ID = the client's phone, PHONE_NUMBER /
  ACCOUNT_SEARCH_ID = the line): the call is recorded as ringing, when the line is a dispatcher line
  (kv ``desk.lines`` {line: user id}; none configured = every line).
- ``ONVOXIMPLANTCALLSTART`` (USER_ID answered): the call is that person's.
- ``ONVOXIMPLANTCALLEND``: missed (CALL_FAILED_CODE 304, or nobody answered) → a lead with the caller's
  phone (crm.lead.add, SOURCE_ID CALL) and a callback task for the line's dispatcher (tasks.task.add bound
  to the lead); answered → the recording (voximplant.statistic.get CALL_RECORD_URL) is kept with the call
  and attached to the request created from it (now, or when the request is created later).
Each step is recorded in the call's record before the next, so a replayed event makes nothing twice.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from b24app.errors import said
from install.registry import installed_ids

from . import phone as phones
from .intake import IntakeError, strict_id, strict_text
from .lookup import lookup

log = logging.getLogger("b24app.desk.calls")
KV_LINES = "desk.lines"
KV_RECENT = "desk.calls"
RECENT = 30
ACTIVE_FOR = 3600            # a call not ended within an hour is not shown any more
INCOMING = ("2", "3")


def key(call_id: str) -> str:
    return f"desk.call:{call_id}"


def _data(payload: dict) -> dict:
    data = payload.get("data") or {}
    return data if isinstance(data, dict) else {}


def _now(services) -> float:
    clock = getattr(services, "clock", None)
    return float(clock()) if callable(clock) else datetime.now(timezone.utc).timestamp()


def lines(kv, member_id: str) -> dict:
    doc = kv.get(member_id, KV_LINES) or {}
    return doc if isinstance(doc, dict) else {}


def on_call_init(services, member_id: str, payload: dict) -> None:
    d = _data(payload)
    call_id = str(d.get("CALL_ID") or "")
    if not call_id or str(d.get("CALL_TYPE") or "") not in INCOMING:
        return
    kv = services.store.kv
    line = str(d.get("ACCOUNT_SEARCH_ID") or d.get("PHONE_NUMBER") or "")
    conf = lines(kv, member_id)
    if conf and line and line not in conf and str(d.get("PHONE_NUMBER") or "") not in conf:
        return                                   # not a dispatcher line (a telephony app's call names none)
    try:
        phone = phones.normalise(d.get("CALLER_ID"))
    except phones.PhoneError:
        log.info("desk: call %s of %s from an unreadable number", call_id, member_id)
        return
    if kv.get(member_id, key(call_id)):
        return                                   # a replayed event
    kv.set(member_id, key(call_id), {"call_id": call_id, "phone": phone, "line": line, "state": "ringing",
                                     "at": _now(services), "user_id": None, "deal_id": None, "lead_id": None,
                                     "task_id": None, "record_url": None,
                                     "dispatcher": conf.get(line) or conf.get(str(d.get("PHONE_NUMBER") or ""))})
    recent = [c for c in (kv.get(member_id, KV_RECENT) or []) if c != call_id]
    kv.set(member_id, KV_RECENT, ([call_id] + recent)[:RECENT])


def on_call_start(services, member_id: str, payload: dict) -> None:
    d = _data(payload)
    rec = services.store.kv.get(member_id, key(str(d.get("CALL_ID") or "")))
    user = str(d.get("USER_ID") or "")
    if not rec or not user.isdigit():
        return
    rec.update(state="talking", user_id=int(user))
    services.store.kv.set(member_id, key(rec["call_id"]), rec)


def _callback_user(services, member_id: str, rec: dict) -> int | None:
    if rec.get("dispatcher"):
        return int(rec["dispatcher"])
    portal = services.store.portals.get(member_id)
    return int(portal.user_id) if portal and portal.user_id else None


def on_call_end(services, member_id: str, payload: dict) -> None:
    d = _data(payload)
    kv = services.store.kv
    rec = kv.get(member_id, key(str(d.get("CALL_ID") or "")))
    if not rec:
        return
    client = services.client(member_id)
    missed = str(d.get("CALL_FAILED_CODE") or "") == "304" or not str(d.get("PORTAL_USER_ID") or "0").strip("0")
    rec["state"] = "missed" if missed else "ended"
    if missed:
        user = _callback_user(services, member_id, rec)
        if not rec.get("lead_id"):
            fields = {"TITLE": f"Пропущенный звонок {rec['phone']}", "SOURCE_ID": "CALL",
                      "PHONE": [{"VALUE": rec["phone"], "VALUE_TYPE": "WORK"}],
                      "COMMENTS": f"Звонок {rec['call_id']} на линию {rec['line']} не принят"}
            if user:
                fields["ASSIGNED_BY_ID"] = user
            rec["lead_id"] = int(client.call("crm.lead.add", {"fields": fields}))
            kv.set(member_id, key(rec["call_id"]), rec)
        if not rec.get("task_id") and user:
            deadline = datetime.fromtimestamp(_now(services) + 3600, timezone.utc).isoformat(timespec="seconds")
            task = client.call("tasks.task.add", {"fields": {
                "TITLE": f"Перезвонить: {rec['phone']}", "RESPONSIBLE_ID": user, "DEADLINE": deadline,
                "DESCRIPTION": f"Пропущенный звонок на линию {rec['line']}. Лид {rec['lead_id']}.",
                "UF_CRM_TASK": [f"L_{rec['lead_id']}"]}})
            rec["task_id"] = int((task.get("task") or {}).get("id") or 0) or None
        kv.set(member_id, key(rec["call_id"]), rec)
        return
    if not rec.get("record_url"):
        rows = client.call("voximplant.statistic.get", {"FILTER": {"CALL_ID": rec["call_id"]}}) or []
        rows = rows if isinstance(rows, list) else []
        url = next((r.get("CALL_RECORD_URL") for r in rows if r.get("CALL_RECORD_URL")), None)
        rec["record_url"] = url
        rec["record_file_id"] = next((r.get("RECORD_FILE_ID") for r in rows if r.get("RECORD_FILE_ID")), None)
    kv.set(member_id, key(rec["call_id"]), rec)
    if rec.get("deal_id") and rec.get("record_url"):
        attach(services, member_id, rec)


def attach(services, member_id: str, rec: dict) -> None:
    """The recording on the request: the deal's "call recording" field and a timeline line."""
    if rec.get("attached") or not rec.get("deal_id") or not rec.get("record_url"):
        return
    ids = installed_ids(services.store, member_id)
    client = services.client(member_id)
    client.call("crm.deal.update", {"id": int(rec["deal_id"]), "fields": {
        ids.deal_field("svc_call_record"): rec["record_url"], ids.deal_field("svc_call_id"): rec["call_id"]}})
    note = f"Запись звонка {rec['phone']}: {rec['record_url']}"
    client.call("crm.timeline.comment.add", {"fields": {"ENTITY_TYPE": "deal", "ENTITY_ID": int(rec["deal_id"]),
                                                        "COMMENT": note}})
    rec["attached"] = True
    services.store.kv.set(member_id, key(rec["call_id"]), rec)


def bind_request(services, app_services, member_id: str, call_id: str, deal_id: int) -> None:
    """A request created from a call: remembered with the call; an ended call's recording attached now."""
    rec = services.store.kv.get(member_id, key(call_id))
    if not rec:
        return
    rec["deal_id"] = int(deal_id)
    services.store.kv.set(member_id, key(call_id), rec)
    if rec.get("record_url"):
        attach(app_services, member_id, rec)


def active(services, member_id: str, user_id: int | None, lang: str = "ru", seen: set[str] | None = None) -> list[dict]:
    """Calls ringing or running on the dispatcher lines (the ringing ones and those this person answered),
    newest first, each with the caller's card — except those the page already shows (``seen``): a page
    polling every few seconds costs the portal nothing until a new call rings."""
    kv = services.store.kv
    now = _now(services)
    out = []
    for call_id in kv.get(member_id, KV_RECENT) or []:
        rec = kv.get(member_id, key(call_id)) or {}
        if rec.get("state") not in ("ringing", "talking") or now - float(rec.get("at") or 0) > ACTIVE_FOR:
            continue
        if rec.get("state") == "talking" and user_id and rec.get("user_id") not in (None, int(user_id)):
            continue
        card = None if call_id in (seen or set()) else lookup(services, member_id, rec["phone"], lang=lang)
        out.append({"call_id": call_id, "phone": rec["phone"], "line": rec["line"], "state": rec["state"],
                    "since": datetime.fromtimestamp(float(rec["at"]), timezone.utc).isoformat(timespec="seconds"),
                    "card": card})
    return out


KEEP = 7 * 86400             # a call's record is kept a week (its request may be made later that day)


def forget_old(services, member_id: str) -> int:
    """Periodic: call records older than a week are removed (the recent list with them)."""
    kv = services.store.kv
    now = _now(services)
    gone = 0
    for name, rec in kv.items(member_id, "desk.call:").items():
        if not isinstance(rec, dict) or now - float(rec.get("at") or 0) > KEEP:
            kv.delete(member_id, name)
            gone += 1
    if gone:
        alive = [c for c in kv.get(member_id, KV_RECENT) or [] if kv.get(member_id, key(c))]
        kv.set(member_id, KV_RECENT, alive)
    return gone


def save_lines(kv, member_id: str, doc) -> dict:
    """{line: dispatcher user id}: the dispatcher lines (a call on another line is not popped) and whose
    callback task a missed call on each becomes. Lines are the portal's ACCOUNT_SEARCH_ID (``reg12``,
    ``sip3``, a rented number) or the number dialled."""
    if not isinstance(doc, dict) or len(doc) > 200:
        raise IntakeError(said("lines: an object {line: user id} is expected",
                               "lines: нужен объект {линия: id сотрудника}"))
    clean = {}
    for line, user in doc.items():
        name = strict_text(line, "line", limit=40, required=True)
        clean[name] = strict_id(user, f"lines[{name}]", required=True)
    kv.set(member_id, KV_LINES, clean)
    return clean


def get(services, member_id: str, call_id: str) -> dict | None:
    return services.store.kv.get(member_id, key(call_id))
