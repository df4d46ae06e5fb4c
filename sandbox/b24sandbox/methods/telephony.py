"""Telephony of the portal's own lines (scope ``telephony``): a call rings, is answered or missed, ends
with a statistics row and, when answered and recorded, a recording file.

Fidelity (docs api-reference/telephony/voximplant/events/on-voximplant-call-init.md, -start.md, -end.md,
voximplant-statistic-get.md, widgets CALL_CARD ``getStatus``):
- ``ONVOXIMPLANTCALLINIT`` data ``CALL_ID, CALL_TYPE`` (2 incoming), ``ACCOUNT_SEARCH_ID`` (the line: ``regNNN``),
  ``PHONE_NUMBER`` (for an incoming call the number the subscriber dialled — the portal's line) and
  ``CALLER_ID`` (the client's phone). ``ONVOXIMPLANTCALLSTART`` ``CALL_ID, USER_ID``. ``ONVOXIMPLANTCALLEND``
  (sent without a user's authorisation) ``CALL_ID, CALL_TYPE, PHONE_NUMBER`` (the client's), ``PORTAL_NUMBER``,
  ``PORTAL_USER_ID, CALL_DURATION, CALL_START_DATE, COST, COST_CURRENCY, CALL_FAILED_CODE`` (200 / 304
  missed / ...), ``CALL_FAILED_REASON, CRM_ACTIVITY_ID``.
- ``voximplant.statistic.get`` {FILTER, SORT, ORDER, start}: rows as the docs show them (string values,
  ``CALL_RECORD_URL``, ``RECORD_FILE_ID``), pages of 50 with ``total``/``next``.
- The call is bound to the CRM the way the portal's telephony does: a contact, else a company holding the
  caller's number (the duplicate index's phone form); unknown numbers stay unbound (the portal's "create a
  lead for an unknown number" setting is off here — the app decides what a missed call becomes).

Tests and the demo drive calls in-process: ``incoming_call(portal, caller, line)``, ``answer_call``,
``end_call``; ``call_status(portal, call_id)`` is what a CALL_CARD frame's ``getStatus()`` answers.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from .. import calls
from ..db import COMPANY, CONTACT
from ..registry import B24Fault, Paged, method
from .crm_duplicate import phone_key

PAGE = 50
TYPE_INCOMING = 2
FAILED = {"200": "", "304": "Missed call", "486": "Busy", "603-S": "Decline self"}
RECORD_BYTES = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 64      # a tiny stand-in for the MP3 the portal keeps


def _calls(portal) -> dict:
    state = portal.__dict__.setdefault("_telephony", {"calls": {}, "stats": [], "records": {}, "n": 0})
    return state


def _bind(portal, caller: str) -> tuple[str, int]:
    key = phone_key(caller)
    db = portal.db
    for name, etid in (("CONTACT", CONTACT), ("COMPANY", COMPANY)):
        for row in sorted(db.table_for(etid).rows.values(), key=lambda r: int(r["ID"])):
            if any(phone_key(m.get("VALUE", "")) == key for m in row.get("PHONE") or []):
                return name, int(row["ID"])
    return "", 0


def incoming_call(portal, caller: str, line: str = "reg1", line_number: str = "+74950000000") -> str:
    """A client calls the portal's line: ONVOXIMPLANTCALLINIT; returns the CALL_ID."""
    state = _calls(portal)
    with portal.db.lock:
        state["n"] += 1
        n = state["n"]
    call_id = f"{secrets.token_hex(8).upper()}.{int(portal.clock.now())}.{n}"
    etype, eid = _bind(portal, caller)
    state["calls"][call_id] = {"CALL_ID": call_id, "CALL_TYPE": TYPE_INCOMING, "CALLER_ID": caller, "LINE": line,
                               "PORTAL_NUMBER": line_number, "START": portal.clock.now(), "USER_ID": 0,
                               "CRM_ENTITY_TYPE": etype, "CRM_ENTITY_ID": eid, "STATE": "ringing"}
    portal.events.emit("ONVOXIMPLANTCALLINIT", {"CALL_ID": call_id, "CALL_TYPE": str(TYPE_INCOMING),
                                                "ACCOUNT_SEARCH_ID": line, "PHONE_NUMBER": line_number,
                                                "CALLER_ID": caller}, user_id=None)
    return call_id


def answer_call(portal, call_id: str, user_id: int) -> None:
    call = _calls(portal)["calls"][call_id]
    call.update(USER_ID=int(user_id), STATE="talking", ANSWERED=portal.clock.now())
    portal.events.emit("ONVOXIMPLANTCALLSTART", {"CALL_ID": call_id, "USER_ID": str(int(user_id))}, user_id=None)


def end_call(portal, call_id: str, duration: int | None = None, record: bool = True) -> dict:
    """The call ends: a statistics row (200 when answered, else 304 missed) and, for an answered recorded
    call, a recording file; then ONVOXIMPLANTCALLEND. Returns the statistics row."""
    state = _calls(portal)
    call = state["calls"][call_id]
    answered = bool(call["USER_ID"])
    code = "200" if answered else "304"
    if duration is None:
        duration = int(portal.clock.now() - call.get("ANSWERED", portal.clock.now())) if answered else 0
    with portal.db.lock:
        stat_id = len(state["stats"]) + 1
        file_id = None
        if answered and record:
            file_id = 9000 + stat_id
            state["records"][file_id] = RECORD_BYTES
    start = datetime.fromtimestamp(call["START"], calls.TZ).isoformat(timespec="seconds")
    row = {"ID": str(stat_id), "PORTAL_USER_ID": str(call["USER_ID"]), "PORTAL_NUMBER": call["LINE"],
           "PHONE_NUMBER": call["CALLER_ID"], "CALL_ID": call_id, "EXTERNAL_CALL_ID": None,
           "CALL_CATEGORY": "external", "CALL_LOG": None, "CALL_DURATION": str(int(duration)),
           "CALL_START_DATE": start,
           "CALL_RECORD_URL": f"{portal.url}/telephony/record/{file_id}.mp3" if file_id else "",
           "CALL_VOTE": None, "COST": "0.0000", "COST_CURRENCY": "RUR", "CALL_FAILED_CODE": code,
           "CALL_FAILED_REASON": FAILED[code], "CRM_ENTITY_TYPE": call["CRM_ENTITY_TYPE"],
           "CRM_ENTITY_ID": str(call["CRM_ENTITY_ID"] or ""), "CRM_ACTIVITY_ID": "", "REST_APP_ID": None,
           "REST_APP_NAME": None, "TRANSCRIPT_ID": None, "TRANSCRIPT_PENDING": "N", "SESSION_ID": None,
           "REDIAL_ATTEMPT": None, "COMMENT": None, "RECORD_DURATION": str(int(duration)) if file_id else None,
           "RECORD_FILE_ID": file_id, "CALL_TYPE": str(call["CALL_TYPE"])}
    state["stats"].append(row)
    call["STATE"] = "ended"
    portal.events.emit("ONVOXIMPLANTCALLEND", {
        "CALL_ID": call_id, "CALL_TYPE": str(call["CALL_TYPE"]), "PHONE_NUMBER": call["CALLER_ID"],
        "PORTAL_NUMBER": call["LINE"], "PORTAL_USER_ID": str(call["USER_ID"]), "CALL_DURATION": str(int(duration)),
        "CALL_START_DATE": start, "COST": "0.0000", "COST_CURRENCY": "RUR", "CALL_FAILED_CODE": code,
        "CALL_FAILED_REASON": FAILED[code], "CRM_ACTIVITY_ID": ""}, user_id=None)
    return row


def call_status(portal, call_id: str) -> dict:
    """What ``BX24.placement.call('getStatus')`` answers in a CALL_CARD frame (docs placement_call_card)."""
    call = _calls(portal)["calls"].get(call_id)
    if call is None:
        return {}
    etype, eid = call["CRM_ENTITY_TYPE"], call["CRM_ENTITY_ID"]
    return {"CALL_ID": call_id, "PHONE_NUMBER": call["CALLER_ID"], "CRM_ENTITY_TYPE": etype,
            "CRM_ENTITY_ID": eid or 0, "CRM_ACTIVITY_ID": 0, "CALL_DIRECTION": "incoming", "CALL_LIST_MODE": False,
            "CRM_BINDINGS": [{"ENTITY_TYPE": etype, "ENTITY_ID": eid}] if eid else []}


def record_file(portal, file_id: int) -> bytes | None:
    return _calls(portal)["records"].get(int(file_id))


_OPS = (("!><", "nbetween"), ("><", "between"), (">=", "ge"), ("<=", "le"), ("!=", "ne"), ("!%", "nlike"),
        (">", "gt"), ("<", "lt"), ("!", "ne"), ("%", "like"), ("=", "eq"))


def _match(row: dict, key: str, want) -> bool:
    op = "eq"
    for prefix, name in _OPS:
        if key.startswith(prefix):
            op, key = name, key[len(prefix):]
            break
    have = row.get(key.upper())
    hs = "" if have is None else str(have)
    if op in ("eq", "ne"):
        vals = [str(v) for v in (want if isinstance(want, list) else list(want.values()) if isinstance(want, dict)
                                 else [want])]
        return (hs in vals) == (op == "eq")
    if op in ("like", "nlike"):
        return (str(want).lower() in hs.lower()) == (op == "like")
    if op in ("between", "nbetween"):
        lo, hi = (list(want.values()) if isinstance(want, dict) else list(want))[:2]
        return (str(lo) <= hs <= str(hi)) == (op == "between")
    return {"ge": hs >= str(want), "le": hs <= str(want), "gt": hs > str(want), "lt": hs < str(want)}[op]


@method("voximplant.statistic.get", scope="telephony")
def statistic_get(ctx, params):
    flt = params.get("FILTER") or params.get("filter") or {}
    if not isinstance(flt, dict):
        raise B24Fault("INVALID_FILTER", "FILTER must be an object", 400)
    rows = [r for r in _calls(ctx.portal)["stats"] if all(_match(r, str(k), v) for k, v in flt.items())]
    sort = str(params.get("SORT") or "")
    if sort:
        rows.sort(key=lambda r: (int(r[sort]) if str(r.get(sort) or "").isdigit() else str(r.get(sort) or "")),
                  reverse=str(params.get("ORDER") or "ASC").upper() == "DESC")
    try:
        start = max(0, int(params.get("start") or 0))
    except (TypeError, ValueError):
        start = 0
    page = rows[start:start + PAGE]
    nxt = start + PAGE if start + PAGE < len(rows) else None
    return Paged(page, nxt, len(rows))
