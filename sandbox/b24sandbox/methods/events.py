"""event.* and event.offline.* (reference §2.1, §2.4; src rest/lib/api/event.php): app context only,
keys case-insensitive, the portal's own error codes."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from ..event_names import NO_OFFLINE, available, scope_of
from ..registry import B24Fault, CallContext, Paged, method
from .features import enabled


def _up(params: dict) -> dict:
    return {str(k).upper(): v for k, v in params.items()}


def _arg_error(name: str) -> B24Fault:
    return B24Fault("ERROR_ARGUMENT", f"Argument '{name}' is null or empty", 400, argument=name)


def check_handler_url(url: str) -> None:
    """HandlerHelper::checkCallback: http(s) scheme and a host with a dot."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https"):
        raise B24Fault("ERROR_UNSUPPORTED_PROTOCOL", "Unsupported event handler protocol", 400)
    if not parts.hostname or "." not in parts.hostname:
        raise B24Fault("ERROR_WRONG_HANDLER_URL", "Wrong handler URL", 400)


def _auth_type(ctx: CallContext, value) -> int:
    uid = int(value or 0)
    if not ctx.is_admin:
        if uid and uid != ctx.user_id:
            raise B24Fault("ACCESS_DENIED",
                           "Access denied! Event binding with AUTH_TYPE requires administrator access rights", 403)
        uid = ctx.user_id
    return uid


def _is_offline(p: dict) -> bool:
    return str(p.get("EVENT_TYPE") or "online").lower() == "offline"


@method("event.bind", app_only=True)
def event_bind(ctx: CallContext, params: dict):
    p = _up(params)
    event = str(p.get("EVENT") or "").upper()
    if not event:
        raise _arg_error("EVENT")
    offline = _is_offline(p)
    handler = "" if offline else str(p.get("HANDLER") or "")
    if offline and not ctx.is_admin:
        raise B24Fault("ACCESS_DENIED", "Access denied!", 403)
    if not offline:
        if not handler:
            raise _arg_error("HANDLER")
        check_handler_url(handler)
    known, scope = scope_of(event)
    if not known or (scope is not None and scope not in ctx.scope):
        raise B24Fault("ERROR_EVENT_NOT_FOUND", "Event not found", 400)
    if offline and event in NO_OFFLINE:
        raise B24Fault("ERROR_ARGUMENT", "Offline event cannot be registered for this event.", 400)
    auth_type = _auth_type(ctx, p.get("AUTH_TYPE"))
    connector = str(p.get("AUTH_CONNECTOR") or "")
    bus = ctx.portal.events
    if bus.find(ctx.client_id, event, handler, auth_type, offline, connector):
        raise B24Fault("ERROR_CORE", "Unable to set event handler: Handler already binded", 400)
    options = p.get("OPTIONS") if isinstance(p.get("OPTIONS"), dict) else {}
    bus.bind(ctx.client_id, event, handler, auth_type, offline, connector, options, ctx.user_id)
    return True


@method("event.unbind", app_only=True)
def event_unbind(ctx: CallContext, params: dict):
    p = _up(params)
    event = str(p.get("EVENT") or "").upper()
    if not event:
        raise _arg_error("EVENT")
    offline = _is_offline(p)
    handler = str(p.get("HANDLER") or "")
    if not offline and not handler:
        raise _arg_error("HANDLER")
    bus = ctx.portal.events
    auth_type = _auth_type(ctx, p.get("AUTH_TYPE"))
    matches = [b for b in bus.bindings if b.client_id == ctx.client_id and b.event == event
               and b.offline == offline and (offline or b.handler == handler)
               and b.auth_type == auth_type
               and ("AUTH_CONNECTOR" not in p or b.connector == str(p.get("AUTH_CONNECTOR") or ""))]
    return {"count": bus.unbind(matches)}


@method("event.get", app_only=True)
def event_get(ctx: CallContext, params: dict):
    out = []
    for b in ctx.portal.events.bindings:
        if b.client_id != ctx.client_id or (not ctx.is_admin and b.user_id != ctx.user_id):
            continue
        if b.offline:
            out.append({"event": b.event, "connector_id": b.connector, "offline": 1})
        else:
            out.append({"event": b.event, "handler": b.handler, "auth_type": str(b.auth_type), "offline": 0})
    return out


@method("events")
def events(ctx: CallContext, params: dict):
    p = _up(params)
    if str(p.get("FULL") or "").lower() in ("1", "true", "y"):
        from ..event_names import EVENTS
        return sorted(EVENTS)
    scopes = [p["SCOPE"]] if p.get("SCOPE") else ctx.scope
    return available(scopes)


# --- offline ---------------------------------------------------------------------------------------
def _need_admin(ctx: CallContext) -> None:
    if not ctx.is_admin:
        raise B24Fault("ACCESS_DENIED", "Access denied!", 403)


_OPS = [(">=", lambda a, b: a >= b), ("<=", lambda a, b: a <= b), (">", lambda a, b: a > b),
        ("<", lambda a, b: a < b), ("!", lambda a, b: a != b), ("=", lambda a, b: a == b)]


def _match(row: dict, flt: dict) -> bool:
    for key, want in (flt or {}).items():
        op, fn = next(((o, f) for o, f in _OPS if key.startswith(o)), ("", lambda a, b: a == b))
        field = key[len(op):].upper()
        have = row.get(field)
        if field in ("ID", "ERROR"):
            have, want = int(have or 0), int(want or 0)
        if isinstance(want, list):
            if (str(have) in [str(w) for w in want]) == (op == "!"):
                return False
        elif not fn(have, want if field in ("ID", "ERROR") else str(want)):
            return False
    return True


def _rows(ctx: CallContext, flt: dict, order: dict | None, default_order: str) -> list:
    rows = [r for r in ctx.portal.events.offline if r.client_id == ctx.client_id]
    rows = [r for r in rows if _match({**r.as_json(), "TIMESTAMP_X": r.as_json()["TIMESTAMP_X"]}, flt)]
    order = order if isinstance(order, dict) and order else {default_order: "ASC"}
    for field, direction in reversed(list(order.items())):
        attr = "ID" if field.upper() == "ID" else "TIMESTAMP_X" if field.upper() == "TIMESTAMP_X" else field.upper()
        rows.sort(key=lambda r: (getattr(r, attr, 0), r.ID), reverse=str(direction).upper() == "DESC")
    return rows


@method("event.offline.get", app_only=True)
def offline_get(ctx: CallContext, params: dict):
    _need_admin(ctx)
    clear = str(params.get("clear", "1")) not in ("0", "false", "N")
    limit = max(1, min(int(params.get("limit") or 50), 1000))
    process_id = str(params.get("process_id") or "")
    connector = params.get("auth_connector")
    error = int(params.get("error") or 0)
    if not clear and not enabled(ctx.portal, "rest_offline_extended"):
        # src throws LicenseException "extended offline events handling"; the exact code is UNVERIFIED
        raise B24Fault("ACCESS_DENIED", "Your license does not allow extended offline events handling", 403)
    bus = ctx.portal.events
    with bus._lock:
        rows = [r for r in _rows(ctx, params.get("filter") or {}, params.get("order"), "TIMESTAMP_X")
                if (connector is None or r.connector == str(connector)) and r.ERROR == error
                and (r.PROCESS_ID == "" or (process_id and r.PROCESS_ID == process_id))][:limit]
        if clear:
            ids = {r.ID for r in rows}
            bus.offline = [r for r in bus.offline if r.ID not in ids]
            return {"process_id": None, "events": [r.as_json() for r in rows]}
        process_id = process_id or secrets.token_hex(16)
        for r in rows:
            r.PROCESS_ID = process_id
        return {"process_id": process_id, "events": [r.as_json() for r in rows]}


def _selected(params: dict, r) -> bool:
    ids = params.get("id")
    mids = params.get("message_id")
    if ids:
        ids = ids if isinstance(ids, list) else [ids]
        if str(r.ID) not in [str(i) for i in ids]:
            return False
    if mids:
        mids = mids if isinstance(mids, list) else [mids]
        if r.MESSAGE_ID not in [str(m) for m in mids]:
            return False
    return True


@method("event.offline.clear", app_only=True)
def offline_clear(ctx: CallContext, params: dict):
    _need_admin(ctx)
    process_id = str(params.get("process_id") or "")
    if not process_id:
        raise _arg_error("PROCESS_ID")
    bus = ctx.portal.events
    with bus._lock:
        bus.offline = [r for r in bus.offline if not (r.client_id == ctx.client_id and r.PROCESS_ID == process_id
                                                       and _selected(params, r))]
    return True


@method("event.offline.error", app_only=True)
def offline_error(ctx: CallContext, params: dict):
    _need_admin(ctx)
    process_id = str(params.get("process_id") or "")
    if not process_id:
        raise _arg_error("PROCESS_ID")
    bus = ctx.portal.events
    with bus._lock:
        for r in bus.offline:
            if r.client_id == ctx.client_id and r.PROCESS_ID == process_id and params.get("message_id") \
                    and _selected({"message_id": params.get("message_id")}, r):
                r.ERROR, r.PROCESS_ID = 1, ""
    return True


@method("event.offline.list", app_only=True)
def offline_list(ctx: CallContext, params: dict):
    _need_admin(ctx)
    rows = _rows(ctx, params.get("filter") or {}, params.get("order"), "ID")
    start = max(0, int(params.get("start") or 0))
    page = rows[start:start + 50]
    nxt = start + 50 if start + 50 < len(rows) else None
    return Paged([r.as_json() for r in page], next=nxt, total=len(rows))
