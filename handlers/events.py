"""``POST /events``: parse → verify application_token → write to the inbox → 200 at once.

The portal's queue does not retry and throttles slow handlers (reference §2.2), so no work happens here;
the worker picks the event up. ONAPPUNINSTALL is the exception: it is the last thing we will hear from
the portal, so it is applied inline — once the portal has confirmed it (our token no longer works,
b24app/lifecycle.py). ONAPPUPDATE is queued only when the OAuth server confirms its token, once per
version. Every employee has the application_token, so neither is believed on that alone; an ignored
one is still answered 200 (nothing changed)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from b24app import lifecycle
from b24app.inbox import accept_event
from b24app.verify import VerificationError, verify_event

from .common import form, json_error, services

bp = Blueprint("events", __name__)


@bp.post("/events")
def events():
    data = form()
    event = str(data.get("event") or "").upper()
    if not event:
        return json_error(400, "INVALID_REQUEST", "no event name in the POST")
    svc = services()
    try:
        portal = verify_event(svc.store, data)
    except VerificationError as exc:
        return json_error(exc.status, exc.error, exc.description)
    if event == "ONAPPUNINSTALL":
        body = data.get("data") if isinstance(data.get("data"), dict) else {}
        lifecycle.on_uninstall(svc, portal.member_id, clean=str(body.get("CLEAN") or "0") in ("1", "Y", "true"))
        return jsonify({"result": True})
    if event == "ONAPPUPDATE":
        fresh = lifecycle.accept_update(svc, portal.member_id, data)
        return jsonify({"result": True, "duplicate": not fresh})
    fresh = accept_event(svc.store, portal.member_id, data)
    return jsonify({"result": True, "duplicate": not fresh})
