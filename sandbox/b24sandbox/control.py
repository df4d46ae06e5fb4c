"""HTTP control API under ``/_sandbox/`` for out-of-process users (the demo, integrators, browser
tests): state, faults, clock, app registration and install lifecycle, the request log, CRM roles.

It can install apps, issue tokens and move the clock, so it answers only a caller on the same machine
(a loopback peer) — or anyone showing the portal's control token (header ``X-Sandbox-Control-Token``,
printed by ``b24app sandbox`` at start-up) when the sandbox listens on another interface. A browser
page from another origin is refused too (no CORS, ``Origin`` must be the sandbox itself), so a web
page cannot drive the sandbox through the developer's browser."""
from __future__ import annotations

import hmac
import ipaddress
import json
from dataclasses import asdict

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

TOKEN_HEADER = "X-Sandbox-Control-Token"


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype="application/json")


def _loopback(addr: str | None) -> bool:
    try:
        ip = ipaddress.ip_address((addr or "").split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def refusal(portal, request: Request) -> Response | None:
    """None = the caller may use the control API; else the 403 to answer."""
    token = request.headers.get(TOKEN_HEADER, "")
    if not (token and hmac.compare_digest(token.encode(), portal.control_token.encode())) \
            and not _loopback(request.remote_addr):
        return _json({"error": "ACCESS_DENIED", "error_description": "the sandbox control API answers callers "
                      f"on this machine only (or with the {TOKEN_HEADER} header printed at start-up)"}, 403)
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != f"{request.scheme}://{request.host}":
        return _json({"error": "ACCESS_DENIED", "error_description": "cross-origin calls to the sandbox "
                      "control API are refused"}, 403)
    return None


def guarded(view):
    def wrapper(portal, request, **kw):
        return refusal(portal, request) or view(portal, request, **kw)
    wrapper.__name__ = view.__name__
    return wrapper


def _body(request: Request) -> dict:
    data = request.get_json(force=True, silent=True)
    return data if isinstance(data, dict) else request.form.to_dict()


def state(portal, request):
    counts = {}
    for name in ("deals", "companies", "contacts", "items", "users", "placements", "robots"):
        table = getattr(portal.db, name, None)
        if table is not None:
            try:
                counts[name] = len(table)
            except TypeError:
                pass
    return _json({
        "url": portal.url, "domain": portal.domain, "member_id": portal.member_id,
        "oauth_url": portal.cloud.oauth_url, "webhook_url": portal.webhook_url,
        "clock": portal.clock.now(), "plan": portal.settings.plan, "rate_limit": portal.settings.rate_limit,
        "bucket_level": portal.limits.bucket_level,
        "apps": {cid: {"installed": i.installed, "version": i.version, "scope": i.scope}
                 for cid, i in portal.installs.items()},
        "bindings": len(portal.events.bindings), "offline_queue": len(portal.events.offline),
        "requests": len(portal.log), "deliveries": len(portal.deliveries),
        "refreshes": portal.refresh_count, "faults": portal.faults.state(), "tables": counts,
    })


def faults(portal, request):
    cfg = _body(request)
    portal.faults.apply(cfg)
    if "rate_limit" in cfg:
        portal.settings.rate_limit = bool(cfg["rate_limit"])
    if "plan" in cfg:
        portal.settings.plan = str(cfg["plan"])
    return _json(portal.faults.state())


def clock_advance(portal, request):
    portal.clock.advance(float(_body(request).get("seconds", 0)))
    return _json({"now": portal.clock.now()})


def register_app(portal, request):
    b = _body(request)
    app = portal.cloud.register_app(b.get("client_id"), b.get("client_secret"), b.get("handler_url", ""),
                                    b.get("install_url"), scope=b.get("scope"), app_url=b.get("app_url"))
    return _json(asdict(app))


def app_action(portal, request, client_id, action):
    if client_id not in portal.cloud.apps:
        return _json({"error": "not_found", "error_description": f"no app {client_id}"}, 404)
    b = _body(request)
    if action == "install":
        return _json(portal.install_app(client_id, mode=b.get("mode", "frame"), lang=b.get("lang", "ru")))
    if client_id not in portal.installs:
        return _json({"error": "not_installed", "error_description": client_id}, 404)
    if action == "finish":
        portal.finish_install(client_id)
    elif action == "uninstall":
        portal.uninstall_app(client_id, clean=bool(b.get("clean", True)))
    elif action == "revoke":
        portal.revoke_tokens(client_id)
    elif action == "tokens":
        pair = portal.issue_tokens(client_id, int(b.get("user_id", 1)))
        return _json({"access_token": pair.access.token, "refresh_token": pair.refresh.token,
                      "expires": int(pair.access.expires_at)})
    else:
        return _json({"error": "unknown_action"}, 404)
    return _json({"ok": True})


def log(portal, request):
    limit = int(request.args.get("limit", 200))
    return _json({"requests": [asdict(r) for r in portal.log[-limit:]],
                  "deliveries": [{"event": d.event, "url": d.url, "status": d.status, "error": d.error,
                                  "dropped": d.dropped, "ts": d.ts, "form": d.data}
                                 for d in portal.deliveries[-limit:]]})


def crm_roles(portal, request):
    return _json({"roles": {str(uid): portal.crm_role(uid) for uid in sorted(portal.db.crm_roles)}})


def crm_role(portal, request, user_id):
    """PUT/POST a role (the JSON body is the role, as ``portal.set_crm_role`` takes it, or ``{"role": …}``),
    GET it, DELETE it (the user has every permission again)."""
    if request.method == "DELETE":
        portal.set_crm_role(user_id, None)
        return _json({"user_id": user_id, "role": None})
    if request.method in ("PUT", "POST"):
        body = request.get_json(force=True, silent=True)
        if isinstance(body, dict) and set(body) == {"role"}:
            body = body["role"]
        if not isinstance(body, dict):
            return _json({"error": "bad_role", "error_description": "the body is a JSON object {entity: level}"}, 400)
        try:
            portal.set_crm_role(user_id, body)
        except ValueError as e:
            return _json({"error": "bad_role", "error_description": str(e)}, 400)
    return _json({"user_id": user_id, "role": portal.crm_role(user_id)})


RULES = [
    Rule("/_sandbox/state", endpoint=guarded(state), methods=["GET"]),
    Rule("/_sandbox/faults", endpoint=guarded(faults), methods=["POST"]),
    Rule("/_sandbox/clock/advance", endpoint=guarded(clock_advance), methods=["POST"]),
    Rule("/_sandbox/apps", endpoint=guarded(register_app), methods=["POST"]),
    Rule("/_sandbox/apps/<client_id>/<action>", endpoint=guarded(app_action), methods=["POST"]),
    Rule("/_sandbox/log", endpoint=guarded(log), methods=["GET"]),
    Rule("/_sandbox/crm/roles", endpoint=guarded(crm_roles), methods=["GET"]),
    Rule("/_sandbox/crm/roles/<int:user_id>", endpoint=guarded(crm_role), methods=["GET", "PUT", "POST", "DELETE"]),
]
