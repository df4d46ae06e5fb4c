"""bizproc.robot.*, bizproc.activity.*, bizproc.event.send (reference §4.1–4.4; docs
api-reference/bizproc/bizproc-robot/*.md; src bizproc/lib/restservice.php).

Registration is admin + app context only (403 ACCESS_DENIED "Application context required"); validation
errors are ERROR_ACTIVITY_VALIDATION_FAILURE with the source's messages; robots and activities share one
CODE namespace per app (ERROR_ACTIVITY_ALREADY_INSTALLED). bizproc.event.send takes the event token as the
capability: any user may call it, it answers true at once (even for a closed step); only a token whose
signature does not verify gets 403 ACCESS_DENIED.
"""
from __future__ import annotations

import re

from .. import robots
from ..registry import B24Fault, method
from .events import _up, check_handler_url

KEYS = ["CODE", "HANDLER", "AUTH_USER_ID", "USE_SUBSCRIPTION", "NAME", "DESCRIPTION", "PROPERTIES",
        "RETURN_PROPERTIES", "DOCUMENT_TYPE", "FILTER", "USE_PLACEMENT", "PLACEMENT_HANDLER"]


def _fail(msg: str) -> B24Fault:
    return B24Fault("ERROR_ACTIVITY_VALIDATION_FAILURE", msg, 400)


def _check_app(ctx) -> None:
    if ctx.auth_kind != "oauth" or not ctx.client_id:
        raise B24Fault("ACCESS_DENIED", "Application context required", 403)
    if not ctx.is_admin:
        raise B24Fault("ACCESS_DENIED", "Access denied!", 403)


def _check_props(props, what: str = "properties") -> dict:
    if props in (None, "", []):
        return {}
    if not isinstance(props, dict):
        raise _fail("Wrong properties array!")
    for key, spec in props.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(key), re.IGNORECASE):
            raise _fail(f"Wrong property key ({key})!")
        if not isinstance(spec, dict) or not spec.get("Name", spec.get("NAME")):
            raise _fail(f"Empty property NAME ({key})!")
    return props


def validate(p: dict, *, partial: bool = False) -> dict:
    if not p:
        raise _fail("Empty data!")
    if not partial:
        if not p.get("CODE"):
            raise _fail("Empty activity code!")
        if not re.fullmatch(r"[a-zA-Z0-9._-]+", str(p["CODE"])):
            raise _fail("Wrong activity code!")
    if not partial or "HANDLER" in p:
        check_handler_url(str(p.get("HANDLER") or ""))
    if (not partial or "NAME" in p) and not p.get("NAME"):
        raise _fail("Empty activity NAME!")
    if "PROPERTIES" in p:
        p["PROPERTIES"] = _check_props(p["PROPERTIES"])
    if "RETURN_PROPERTIES" in p:
        p["RETURN_PROPERTIES"] = _check_props(p["RETURN_PROPERTIES"])
    dt = p.get("DOCUMENT_TYPE")
    if dt not in (None, "", []):
        vals = list(dt.values()) if isinstance(dt, dict) else dt
        if not isinstance(vals, list) or len(vals) != 3:
            raise _fail("Wrong activity DOCUMENT_TYPE!")
        p["DOCUMENT_TYPE"] = [str(v) for v in vals]
    flt = p.get("FILTER")
    if flt not in (None, "", []) and (not isinstance(flt, dict) or set(flt) - {"INCLUDE", "EXCLUDE"}):
        raise _fail("Wrong activity FILTER!")
    if str(p.get("USE_PLACEMENT") or "").upper() == "Y":
        check_handler_url(str(p.get("PLACEMENT_HANDLER") or ""))
    return {k: p[k] for k in KEYS if k in p}


def _register(kind: str, is_robot: bool) -> None:
    @method(f"bizproc.{kind}.add", scope="bizproc")
    def add(ctx, params):
        _check_app(ctx)
        row = validate(_up(params))
        db = ctx.portal.db
        with db.lock:
            if (ctx.client_id, row["CODE"]) in db.robots:
                raise B24Fault("ERROR_ACTIVITY_ALREADY_INSTALLED", "Activity or Robot already installed!", 400)
            row.update(client_id=ctx.client_id, IS_ROBOT="Y" if is_robot else "N")
            row.setdefault("USE_SUBSCRIPTION", "")
            db.robots[(ctx.client_id, row["CODE"])] = row
        return True

    def _find(ctx, params) -> dict:
        code = str(_up(params).get("CODE") or "")
        if not code:
            raise _fail("Empty activity code!")
        row = ctx.portal.db.robots.get((ctx.client_id, code))
        if row is None or (row["IS_ROBOT"] == "Y") != is_robot:
            raise B24Fault("ERROR_ACTIVITY_NOT_FOUND", "Activity or Robot not found!", 400)
        return row

    @method(f"bizproc.{kind}.update", scope="bizproc")
    def update(ctx, params):
        _check_app(ctx)
        row = _find(ctx, params)
        fields = _up(params).get("FIELDS")
        if not isinstance(fields, dict) or not fields:
            raise _fail("No fields to update.")
        changes = validate({str(k).upper(): v for k, v in fields.items()}, partial=True)
        changes.pop("CODE", None)
        with ctx.portal.db.lock:
            row.update(changes)
        return True

    @method(f"bizproc.{kind}.delete", scope="bizproc")
    def delete(ctx, params):
        _check_app(ctx)
        row = _find(ctx, params)
        with ctx.portal.db.lock:
            ctx.portal.db.robots.pop((ctx.client_id, row["CODE"]), None)
        return True

    @method(f"bizproc.{kind}.list", scope="bizproc")
    def list_(ctx, params):
        _check_app(ctx)
        return [r["CODE"] for (cid, _), r in ctx.portal.db.robots.items()
                if cid == ctx.client_id and (r["IS_ROBOT"] == "Y") == is_robot]


_register("robot", True)
_register("activity", False)


@method("bizproc.event.send", scope="bizproc")
def event_send(ctx, params):
    p = _up(params)
    token = str(p.get("EVENT_TOKEN") or "")
    if not token:
        raise B24Fault("ERROR_ARGUMENT", "Argument 'EVENT_TOKEN' is null or empty", 400, argument="EVENT_TOKEN")
    portal = ctx.portal
    if not robots.verify_token(portal, token):
        raise B24Fault("ACCESS_DENIED", "Access denied!", 403)
    values = p.get("RETURN_VALUES") if isinstance(p.get("RETURN_VALUES"), dict) else {}
    log = str(p.get("LOG_MESSAGE") or "")
    with portal.db.lock:
        portal.db.bizproc_events.append({"event_token": token, "return_values": values, "log_message": log,
                                         "user_id": ctx.user_id, "ts": portal.clock.now()})
        call = robots.find_call(portal, token)
        if call is not None and not call.answered:
            robot = portal.db.robots.get((call.client_id, call.code)) or {}
            declared = {k.lower(): k for k in (robot.get("RETURN_PROPERTIES") or {})}
            call.return_values = {declared[k.lower()]: v for k, v in values.items() if k.lower() in declared}
            if log:
                call.log_messages.append(log)
            call.answered = True
    return True


@method("bizproc.activity.log", scope="bizproc")
def activity_log(ctx, params):
    p = _up(params)
    token = str(p.get("EVENT_TOKEN") or "")
    if not robots.verify_token(ctx.portal, token):
        raise B24Fault("ACCESS_DENIED", "Access denied!", 403)
    call = robots.find_call(ctx.portal, token)
    if call is not None:
        call.log_messages.append(str(p.get("LOG_MESSAGE") or ""))
    return True
