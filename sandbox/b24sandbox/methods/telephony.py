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


def end_call(portal, call_id: str, duration: int | None = None, record: bool = True, code: str | None = None,
             record_url: str = "") -> dict:
    """The call ends: a statistics row (200 when answered, else 304 missed) and, for an answered recorded
    call, a recording file; then ONVOXIMPLANTCALLEND. Returns the statistics row."""
    state = _calls(portal)
    call = state["calls"][call_id]
    answered = bool(call["USER_ID"])
    code = code or ("200" if answered else "304")
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
           "PHONE_NUMBER": call["CALLER_ID"], "CALL_ID": call_id,
           "CALL_CATEGORY": "external", "CALL_LOG": None, "CALL_DURATION": str(int(duration)),
           "CALL_START_DATE": start,
           "CALL_RECORD_URL": f"{portal.url}/telephony/record/{file_id}.mp3" if file_id else record_url,
           "CALL_VOTE": None, "COST": "0.0000", "COST_CURRENCY": "RUR", "CALL_FAILED_CODE": code,
           "CALL_FAILED_REASON": FAILED.get(code, ""), "CRM_ENTITY_TYPE": call["CRM_ENTITY_TYPE"],
           "CRM_ENTITY_ID": str(call["CRM_ENTITY_ID"] or ""), "CRM_ACTIVITY_ID": "", "REST_APP_NAME": None,
           "TRANSCRIPT_ID": None, "TRANSCRIPT_PENDING": "N", "SESSION_ID": None,
           "REDIAL_ATTEMPT": None, "COMMENT": None, "RECORD_DURATION": str(int(duration)) if file_id else None,
           "RECORD_FILE_ID": file_id, "CALL_TYPE": str(call["CALL_TYPE"]),
           "EXTERNAL_CALL_ID": call.get("EXTERNAL_CALL_ID"), "REST_APP_ID": call.get("REST_APP_ID")}
    state["stats"].append(row)
    call["STATE"] = "ended"
    portal.events.emit("ONVOXIMPLANTCALLEND", {
        "CALL_ID": call_id, "CALL_TYPE": str(call["CALL_TYPE"]), "PHONE_NUMBER": call["CALLER_ID"],
        "PORTAL_NUMBER": call["LINE"], "PORTAL_USER_ID": str(call["USER_ID"]), "CALL_DURATION": str(int(duration)),
        "CALL_START_DATE": start, "COST": "0.0000", "COST_CURRENCY": "RUR", "CALL_FAILED_CODE": code,
        "CALL_FAILED_REASON": FAILED.get(code, ""), "CRM_ACTIVITY_ID": ""}, user_id=None)
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


# --- an external PBX through a telephony app (docs telephony-external-call-register.md, -finish.md) ------------
def _user_of(ctx, params) -> int:
    raw = params.get("USER_ID")
    if raw in (None, "") and params.get("USER_PHONE_INNER") in (None, ""):
        raise B24Fault("ERROR_CORE", "USER_ID or USER_PHONE_INNER should be set", 400)
    try:
        uid = int(raw)
    except (TypeError, ValueError):
        raise B24Fault("ERROR_CORE", "User is not found or is not active", 400) from None
    if ctx.portal.db.users.get(uid) is None:
        raise B24Fault("ERROR_CORE", "User is not found or is not active", 400)
    return uid


@method("telephony.externalcall.register", scope="telephony", app_only=True)
def external_register(ctx, params):
    """TYPE 2/3 (incoming) fires ONVOXIMPLANTCALLINIT in its telephony-app shape (CALL_ID externalCall.…,
    CALL_TYPE, CALLER_ID = the client's number, REST_APP_ID); re-registering the same call (number, type,
    user, line, EXTERNAL_CALL_ID) within 30 minutes answers the existing CALL_ID."""
    portal = ctx.portal
    user = _user_of(ctx, params)
    phone = str(params.get("PHONE_NUMBER") or "").strip()
    if not phone_key(phone):
        raise B24Fault("ERROR_CORE", "Unsupported phone number format.", 400)
    try:
        kind = int(params.get("TYPE"))
    except (TypeError, ValueError):
        kind = 0
    if kind not in (1, 2, 3, 4, 5):
        raise B24Fault("ERROR_CORE", "Unknown TYPE", 400)
    state = _calls(portal)
    line = str(params.get("LINE_NUMBER") or "")
    ext = str(params.get("EXTERNAL_CALL_ID") or "")
    dedup = (phone, kind, user, line, ext, ctx.client_id)
    for call in state["calls"].values():
        if call.get("DEDUP") == dedup and portal.clock.now() - call["START"] < 1800:
            return _register_out(call)
    etype, eid = str(params.get("CRM_ENTITY_TYPE") or "").upper(), params.get("CRM_ENTITY_ID")
    if etype not in ("CONTACT", "COMPANY", "LEAD") or not str(eid or "").isdigit():
        etype, eid = _bind(portal, phone)
    call_id = f"externalCall.{secrets.token_hex(16)}.{int(portal.clock.now())}"
    app_id = str(getattr(portal.installs.get(ctx.client_id), "app_id", "") or 1)
    state["calls"][call_id] = {"CALL_ID": call_id, "CALL_TYPE": kind, "CALLER_ID": phone, "LINE": line,
                               "PORTAL_NUMBER": line, "START": portal.clock.now(), "USER_ID": 0, "DEDUP": dedup,
                               "CRM_ENTITY_TYPE": etype, "CRM_ENTITY_ID": int(eid or 0), "STATE": "ringing",
                               "EXTERNAL_CALL_ID": ext or None, "REST_APP_ID": app_id, "FOR_USER": user}
    portal.events.emit("ONVOXIMPLANTCALLINIT", {"CALL_ID": call_id, "CALL_TYPE": str(kind), "CALLER_ID": phone,
                                                "REST_APP_ID": app_id}, user_id=None)
    return _register_out(state["calls"][call_id])


def _register_out(call: dict) -> dict:
    return {"CALL_ID": call["CALL_ID"], "CRM_CREATED_LEAD": None, "CRM_CREATED_ENTITIES": [],
            "CRM_ENTITY_TYPE": call["CRM_ENTITY_TYPE"] or None, "CRM_ENTITY_ID": call["CRM_ENTITY_ID"] or None}


@method("telephony.externalcall.finish", scope="telephony", app_only=True)
def external_finish(ctx, params):
    """The statistics row (STATUS_CODE, default 200 when DURATION > 0, else 304; RECORD_URL kept) and
    ONVOXIMPLANTCALLEND; answers the saved record."""
    call_id = params.get("CALL_ID")
    if not isinstance(call_id, str):
        raise B24Fault("INVALID_ARGUMENT", "CALL_ID must be a string", 400)
    user = _user_of(ctx, params)
    call = _calls(ctx.portal)["calls"].get(call_id)
    if call is None:
        raise B24Fault("ERROR_CORE", "Call is not found (call should be registered prior to finishing)", 400)
    try:
        duration = max(0, int(params.get("DURATION") or 0))
    except (TypeError, ValueError):
        duration = 0
    code = str(params.get("STATUS_CODE") or ("200" if duration > 0 else "304"))
    if code == "200":
        call["USER_ID"] = user
    row = end_call(ctx.portal, call_id, duration=duration, record=False, code=code,
                   record_url=str(params.get("RECORD_URL") or ""))
    return {"ID": int(row["ID"]), "CALL_ID": call_id, "EXTERNAL_CALL_ID": call.get("EXTERNAL_CALL_ID"),
            "PORTAL_USER_ID": user, "PHONE_NUMBER": call["CALLER_ID"], "PORTAL_NUMBER": call["LINE"],
            "INCOMING": str(call["CALL_TYPE"]), "CALL_DURATION": duration, "CALL_STATUS": 1 if code == "200" else 0,
            "CALL_FAILED_CODE": code, "CALL_FAILED_REASON": FAILED.get(code, ""), "COST": 0, "COST_CURRENCY": "",
            "REST_APP_ID": call.get("REST_APP_ID"), "CRM_ACTIVITY_ID": 0, "COMMENT": None,
            "CRM_ENTITY_TYPE": call["CRM_ENTITY_TYPE"], "CRM_ENTITY_ID": call["CRM_ENTITY_ID"]}
