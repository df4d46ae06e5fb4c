"""System methods: ``app.info`` (portal side, reference §1.6), ``batch`` (§7.2), ``server.time``,
``scope``, ``methods``."""
from __future__ import annotations

from datetime import datetime

from ..auth import all_scopes
from ..batch import run_batch
from ..calls import TZ
from ..registry import METHODS, B24Fault, CallContext, method

_LICENSES = {"standard": ("ru_project", "project", "project"), "enterprise": ("ru_ent250", "ent250", "ent")}


@method("app.info")
def app_info(ctx: CallContext, params: dict):
    if ctx.auth_kind != "oauth" or not ctx.client_id:
        raise B24Fault("ACCESS_DENIED", "Access denied! Application context required", 400)
    inst = ctx.portal.installs[ctx.client_id]
    app = ctx.app
    license_, ltype, family = _LICENSES.get(ctx.portal.settings.plan, _LICENSES["standard"])
    ids = list(ctx.portal.installs)
    return {
        "ID": ids.index(ctx.client_id) + 1,
        "CODE": app.code if app else ctx.client_id,
        "VERSION": int(inst.version) if str(inst.version).isdigit() else inst.version,
        "STATUS": inst.status,
        "INSTALLED": inst.installed,
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": inst.lang,
        "LICENSE": license_,
        "LICENSE_TYPE": ltype,
        "LICENSE_FAMILY": family,
    }


@method("batch")
def batch(ctx: CallContext, params: dict):
    return run_batch(ctx, params)


@method("server.time")
def server_time(ctx: CallContext, params: dict):
    return datetime.fromtimestamp(ctx.portal.clock.now(), TZ).isoformat(timespec="seconds")


@method("scope")
def scope(ctx: CallContext, params: dict):
    if _truthy(params.get("full")):
        return sorted(all_scopes())
    return sorted(ctx.scope)


@method("methods")
def methods(ctx: CallContext, params: dict):
    wanted = params.get("scope")
    names = []
    for spec in METHODS.values():
        if _truthy(params.get("full")) or (wanted and spec.scope == wanted) or \
                (not wanted and (spec.scope is None or spec.scope in ctx.scope)):
            names.append(spec.name)
    return sorted(names)


def _truthy(v) -> bool:
    return str(v).lower() in ("1", "true", "y", "yes")
