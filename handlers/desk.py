"""The dispatcher's intake screen (LEFT_MENU "dispatcher") — thin: verify the frame or the page session,
call desk.*, answer.

Page:  POST /placements/dispatcher     (frame: verify_frame → page session → the intake page; the phone
                                        prefilled from PLACEMENT_OPTIONS {"phone": …} or ?phone=)
JSON:  GET  /api/desk/lookup?phone=    (the client card: contacts, companies, equipment, deals)
       POST /api/desk/request {phone, company_id?, contact_id?, equipment_id?, comment?}  → the new deal
Bad input → 400 BAD_REQUEST naming the parameter; a session of a portal without the app → 403.
"""
from __future__ import annotations


from flask import Blueprint, jsonify, render_template, request

from desk import lookup as lookups
from desk import service_request
from desk.strings import strings

from .common import frame_page, inline_json, json_api, query, services

bp = Blueprint("desk", __name__)


@bp.post("/placements/dispatcher")
def dispatcher_page():
    def render(svc, ctx, lang, token):
        options = ctx.placement_options if isinstance(ctx.placement_options, dict) else {}
        phone = str(options.get("phone") or options.get("PHONE") or query().get("phone") or "")[:40]
        config = {"session": token, "lang": lang, "mode": "dispatcher", "phone": phone, "s": strings(lang)}
        return render_template("desk/desk.html", s=strings(lang), lang=lang, config=inline_json(config),
                               bx24_js_url=svc.settings.bx24_js_url)
    return frame_page(render)


_api = json_api(need="desk")


@bp.get("/api/desk/lookup")
@_api
def lookup(sess):
    doc = lookups.lookup(services(), sess.member_id, request.args.get("phone"))
    if not doc["found"]:
        doc["message"] = strings(sess.lang)["not_found"]
    return jsonify(doc)


@bp.post("/api/desk/request")
@_api
def new_request(sess):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise service_request.RequestError("body: a JSON object is expected")
    return jsonify(service_request.create_request(services(), sess.member_id, body, sess.lang)), 201
