"""Run one REST method for an authenticated caller: lookup, auth-type/scope/admin checks, the
operating-time limit, the handler itself, and the ``time`` block. Shared by the HTTP endpoint and
batch sub-calls so both enforce the same rules (reference §7.1, §7.2, §7.4)."""
from __future__ import annotations

import sys
import threading
import time as _time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .filter_compiler import costing
from .registry import B24Fault, CallContext, Paged, lookup

TZ = timezone(timedelta(hours=3))       # portal time zone shown in date_start/date_finish
_current = threading.local()


@dataclass
class Outcome:
    result: object = None
    next: int | None = None
    total: int | None = None
    error: B24Fault | None = None
    time: dict | None = None


def current_params() -> dict:
    """Params of the method running on this thread (events read ``auth_connector`` from here)."""
    return getattr(_current, "params", None) or {}


def current_context() -> CallContext | None:
    return getattr(_current, "ctx", None)


def operating_key(ctx: CallContext, name: str) -> tuple[str, str]:
    return (ctx.client_id or f"webhook:{ctx.user_id}", name)


def time_block(portal, start: float, elapsed: float, key: tuple[str, str] | None) -> dict:
    finish = start + elapsed
    block = {
        "start": start,
        "finish": finish,
        "duration": finish - start,
        "processing": elapsed,
        "date_start": datetime.fromtimestamp(start, TZ).isoformat(timespec="seconds"),
        "date_finish": datetime.fromtimestamp(finish, TZ).isoformat(timespec="seconds"),
    }
    if key is not None:
        used, reset_at = portal.limits.operating(key)
        block["operating_reset_at"] = reset_at if reset_at is not None else int(finish + 600)
        block["operating"] = used
    return block


def call_method(portal, ctx: CallContext, name: str, params: dict) -> Outcome:
    """The method's execution time — the handler's own plus the modeled database time of the rows it
    examined (``filter_compiler.examined`` × ``settings.row_cost``) — is what the ``time`` block shows and
    what the operating-time limit is charged (reference §7.4)."""
    name = name.lower().removesuffix(".json")
    modeled = 0.0
    start = portal.clock.now()
    t0 = _time.perf_counter()
    spec = lookup(name)
    key = operating_key(ctx, name)
    try:
        if spec is None:
            raise B24Fault("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)
        if spec.app_only and ctx.auth_kind != "oauth":
            raise B24Fault("WRONG_AUTH_TYPE", "Current authorization type is denied for this method", 403)
        if spec.scope and spec.scope not in ctx.scope:
            raise B24Fault("insufficient_scope",
                           "The request requires higher privileges than provided by the access token", 401)
        if spec.admin_only and not ctx.is_admin:
            raise B24Fault("ACCESS_DENIED", "Access denied!", 403)
        forced = portal.faults.take_method_error(name) if name != "batch" else None
        if forced is not None:
            raise B24Fault(*forced)
        if name != "batch" and portal.limits.blocked(key):
            raise B24Fault("OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.", 429)
        prev = (getattr(_current, "ctx", None), getattr(_current, "params", None))
        _current.ctx, _current.params = ctx, params
        try:
            with costing() as rows:
                value = spec.fn(ctx, params)
        finally:
            _current.ctx, _current.params = prev
        modeled = rows[0] * portal.settings.row_cost
        out = Outcome(result=value)
        if isinstance(value, Paged):
            out = Outcome(result=value.result, next=value.next, total=value.total)
    except B24Fault as fault:
        out = Outcome(error=fault)
    except Exception:  # noqa: BLE001 - a bug in a handler: answer like the portal does
        traceback.print_exc(file=sys.stderr)
        out = Outcome(error=B24Fault("INTERNAL_SERVER_ERROR", "Internal server error", 500))
    elapsed = _time.perf_counter() - t0 + modeled
    if spec is not None and name != "batch" and (out.error is None or out.error.status != 429):
        portal.limits.spend(key, elapsed + portal.faults.method_cost.get(name, 0.0))
    out.time = time_block(portal, start, elapsed, None if name == "batch" else key)
    return out


def error_body(fault: B24Fault) -> dict:
    body = {"error": fault.code, "error_description": fault.description}
    body.update(fault.extra)
    return body
