"""The REST endpoint ``/rest/<method>[.json]`` and ``/rest/<user_id>/<code>/<method>``: read params
(query, PHP-keyed form, JSON), apply the edge (fault storm, leaky bucket) before anything runs,
authenticate, run, and answer with the portal's envelope (reference §7.1) and CORS for BX24.js."""
from __future__ import annotations

import json
import re
import socket
import time as _time

from werkzeug.wrappers import Request, Response

from b24app import phpform

from . import auth, calls
from .portal import RequestRecord
from .registry import B24Fault

_WEBHOOK = re.compile(r"^(\d+)/([^/]+)/(.+)$")
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
}


def read_params(request: Request) -> dict:
    """Query args, then the body: JSON (fast-bitrix24, b24pysdk) or form with PHP nested keys."""
    pairs = list(request.args.items(multi=True))
    body_json = None
    ctype = request.mimetype or ""
    if request.method == "POST":
        if ctype == "application/json" or (not ctype and request.get_data()[:1] in (b"{", b"[")):
            body_json = request.get_json(force=True, silent=True)
        else:
            pairs += list(request.form.items(multi=True))
    params = phpform.decode(pairs)            # no limits: a portal's own are far above a test's
    if isinstance(body_json, dict):
        params.update(body_json)
    return params


def json_response(portal, body: dict, status: int, extra_headers: dict | None = None) -> Response:
    headers = dict(CORS)
    timing = body.get("time")
    headers["X-Bitrix-Rest-Time"] = str(timing.get("duration", 0)) if isinstance(timing, dict) else "0"
    if extra_headers:
        headers.update(extra_headers)
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                    mimetype="application/json", headers=headers)


def handle(portal, request: Request, path: str) -> Response:
    if request.method == "OPTIONS":
        return Response("", status=200, headers=CORS)
    m = _WEBHOOK.match(path)
    webhook = (m.group(1), m.group(2)) if m else None
    method = (m.group(3) if m else path).strip("/").lower().removesuffix(".json")
    params = read_params(request)
    rec = RequestRecord(method=method, params={}, auth_kind="webhook" if webhook else "oauth",
                        client_id=None, status=200, error=None, time=portal.clock.now())

    def fail(fault: B24Fault) -> Response:
        rec.status, rec.error = fault.status, fault.code
        portal.record(rec)
        return json_response(portal, calls.error_body(fault), fault.status)

    # The cloud edge refuses before the portal executes anything (reference §7.3).
    if portal.faults.take_storm() or not portal.limits.take_request():
        return fail(B24Fault("QUERY_LIMIT_EXCEEDED", "Too many requests", 503))
    if portal.faults.latency:
        _time.sleep(portal.faults.latency)
    try:
        if webhook:
            params.pop("auth", None)
            ctx = auth.webhook_context(portal, *webhook)
        else:
            ctx = auth.oauth_context(portal, auth.take_token(params, request.headers))
    except B24Fault as fault:
        rec.params = params
        return fail(fault)
    rec.params, rec.client_id, rec.user_id = params, ctx.client_id, ctx.user_id
    out = calls.call_method(portal, ctx, method, params)
    if out.error is not None:
        rec.status, rec.error = out.error.status, out.error.code
        body, status = calls.error_body(out.error), out.error.status
    else:
        body = {"result": out.result}
        if out.next is not None:
            body["next"] = out.next
        if out.total is not None:
            body["total"] = out.total
        body["time"] = out.time
        status = 200
    portal.record(rec)
    if portal.faults.take_drop() or portal.faults.take_drop_after(method):
        _drop(request)
    return json_response(portal, body, status)


def _drop(request: Request) -> None:
    """Close the client's connection after executing: werkzeug then fails to write and gives up."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
