"""``POST /api/1c/push/<member_id>``: a 1C HTTP service says "these payments changed" → a targeted pull.

Thin edge: check the portal's shared secret (header ``X-B24App-1C-Secret`` or ``Authorization: Bearer``,
compared in constant time), queue the push in the inbox (idempotent), answer 202 at once.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, jsonify, request

from sync_1c import connection
from sync_1c.jobs import accept_push

from .common import json_error, services

bp = Blueprint("payments", __name__)


def _presented() -> str:
    auth = request.headers.get("Authorization", "")
    return request.headers.get("X-B24App-1C-Secret") or (auth[7:] if auth.lower().startswith("bearer ") else "")


@bp.post("/api/1c/push/<member_id>")
def push(member_id: str):
    svc = services()
    portal = svc.store.portals.get(member_id)
    secret = connection.push_secret(svc.store.kv, member_id, create=False) if portal else None
    given = _presented()
    if not given:
        return json_error(401, "NO_SECRET", "the shared secret of this portal is required")
    # compare even when the portal or its secret is unknown, so timing does not tell which
    if not hmac.compare_digest(given.encode(), (secret or "\x00" * 43).encode()) or not secret \
            or portal.status != "installed":
        return json_error(403, "BAD_SECRET", "wrong shared secret or unknown portal")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        body = {"refs": body} if isinstance(body, list) else None
    if body is None:
        return json_error(400, "BAD_BODY", "JSON body expected: {\"refs\": [...]} or {\"changed_since\": \"...\"}")
    try:
        fresh = accept_push(svc.store, member_id, body)
    except ValueError as exc:
        return json_error(400, "BAD_BODY", str(exc))
    return jsonify({"result": True, "duplicate": not fresh}), 202
