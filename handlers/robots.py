"""``POST /robots/<code>``: a robot/activity call (reference §4.3) → verify → inbox (kind "robot", with
``event_token`` for ``bizproc.event.send``) → 200. The robot's answer is sent later by the worker."""
from __future__ import annotations

from flask import Blueprint, jsonify

from b24app.inbox import accept_robot
from b24app.verify import VerificationError, verify_robot

from .common import form, json_error, services

bp = Blueprint("robots", __name__)


@bp.post("/robots/<code>")
def robot(code: str):
    data = form()
    svc = services()
    try:
        portal = verify_robot(svc.store, data)
    except VerificationError as exc:
        return json_error(exc.status, exc.error, exc.description)
    fresh = accept_robot(svc.store, portal.member_id, code, data)
    return jsonify({"result": True, "duplicate": not fresh})
