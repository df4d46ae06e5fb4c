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

from desk import calls, claims, history, intake, mechanics, service_request, workorder
from desk import lookup as lookups
from desk.strings import registry_strings, strings
from b24app.errors import said
from maps import service as maps_service

from .common import app_services, current_session, frame_page, inline_json, json_api, query, require, services

bp = Blueprint("desk", __name__)


@bp.post("/placements/dispatcher")
def dispatcher_page():
    def render(svc, ctx, lang, token):
        options = ctx.placement_options if isinstance(ctx.placement_options, dict) else {}
        phone = str(options.get("phone") or options.get("PHONE") or query().get("phone") or "")[:40]
        mode = "call_card" if ctx.placement == "CALL_CARD" else "dispatcher"
        config = {"session": token, "lang": lang, "mode": mode, "phone": phone, "s": strings(lang)}
        return render_template("desk/desk.html", s=strings(lang), lang=lang, config=inline_json(config),
                               bx24_js_url=svc.settings.bx24_js_url)
    return frame_page(render)


_api = json_api(need="desk")


@bp.get("/api/desk/lookup")
@_api
def lookup(sess):
    bound = None
    if request.args.get("entity_type") or request.args.get("entity_id"):
        kind = str(request.args.get("entity_type") or "").upper()
        if kind not in ("CONTACT", "COMPANY", "LEAD"):
            raise intake.IntakeError(said("entity_type: CONTACT, COMPANY or LEAD",
                                          "entity_type: CONTACT, COMPANY или LEAD"))
        bound = (kind, intake.strict_id(request.args.get("entity_id"), "entity_id", required=True))
    doc = lookups.lookup(services(), sess.member_id, request.args.get("phone"), lang=sess.lang, bound=bound)
    if not doc["found"]:
        doc["message"] = strings(sess.lang)["not_found"]
    return jsonify(doc)


@bp.post("/api/desk/request")
@_api
def new_request(sess):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise service_request.RequestError("body: a JSON object is expected")
    return jsonify(service_request.create_request(services(), sess.member_id, body, sess.lang,
                                                  app_services=app_services())), 201


# --- the call pops the client; intake of an unknown caller -------------------------------------------------
@bp.get("/api/desk/calls")
@_api
def active_calls(sess):
    """Calls ringing or running on the dispatcher lines, each with the caller's card (the page polls it)."""
    seen = {c for c in str(request.args.get("seen") or "").split(",") if c}
    return jsonify({"calls": calls.active(services(), sess.member_id, sess.user_id, sess.lang, seen)})


@bp.get("/api/desk/search")
@_api
def search_clients(sess):
    return jsonify(intake.search(services(), sess.member_id, request.args.get("q")))


@bp.post("/api/desk/client")
@_api
def new_client(sess):
    """An unknown caller: the client (company or private person), the contact and the machine in one step."""
    out = intake.create_client(services(), sess.member_id, request.get_json(silent=True))
    out["card"] = lookups.lookup(services(), sess.member_id, out["phone"], lang=sess.lang)
    return jsonify(out), 201


@bp.post("/api/desk/machine")
@_api
def new_machine(sess):
    return jsonify(intake.add_machine(services(), sess.member_id, request.get_json(silent=True))), 201


@bp.get("/api/desk/propose")
@_api
def propose(sess):
    return jsonify(service_request.propose(services(), sess.member_id, request.args.get("equipment_id"),
                                           request.args.get("request_type")))


# --- the work-order registry ----------------------------------------------------------------------------------
@bp.post("/placements/service-registry")
def registry_page():
    def render(svc, ctx, lang, token):
        s = registry_strings(lang)
        sess = current_session()
        can = {"engineer": sess.can("service.engineer"), "head": sess.can("service.head")}
        config = {"session": token, "lang": lang, "s": s, "fields": workorder.LABELS["en" if lang == "en" else "ru"],
                  "can": can}
        return render_template("desk/registry.html", s=s, lang=lang, config=inline_json(config),
                               bx24_js_url=svc.settings.bx24_js_url)
    return frame_page(render)


@bp.get("/api/desk/orders")
@json_api(need="service.view")
def orders(sess):
    return jsonify(workorder.registry(services(), sess.member_id, request.args.get("scenario") or None))


@bp.get("/api/desk/orders/<int:deal_id>")
@json_api(need="service.view")
def order(sess, deal_id):
    return jsonify(workorder.settle(services(), sess.member_id, deal_id))


@bp.put("/api/desk/orders/<int:deal_id>/engineer")
@json_api(need="service.engineer")
def engineer_block(sess, deal_id):
    me = sess.user_id if sess.roles and "engineer" in sess.roles else None
    return jsonify(claims.engineer_block(services(), sess.member_id, deal_id, request.get_json(silent=True), me))


@bp.get("/api/desk/orders/<int:deal_id>/mechanics")
@json_api(need="service.head")
def free_mechanics(sess, deal_id):
    """Mechanics for the window ?start=&end= (the portal's time zone): free ones first."""
    svc = services()
    workorder.get(svc, sess.member_id, deal_id)
    tz = maps_service.tz(maps_service.settings(svc, sess.member_id))
    start, end = mechanics.parse_window(request.args.get("start"), request.args.get("end"), tz)
    rows = mechanics.availability(svc, sess.member_id, start, end, exclude_deal=deal_id)
    return jsonify({"free": [r for r in rows if r["free"]], "busy": [r for r in rows if not r["free"]]})


@bp.post("/api/desk/orders/<int:deal_id>/assign")
@json_api(need="service.head")
def assign_mechanic(sess, deal_id):
    return jsonify(mechanics.assign(services(), sess.member_id, deal_id, request.get_json(silent=True)))


@bp.post("/api/desk/orders/<int:deal_id>/reschedule")
@json_api(need="service.head")
def reschedule(sess, deal_id):
    """Only the service head moves a work order to another window."""
    return jsonify(mechanics.reschedule(services(), sess.member_id, deal_id, request.get_json(silent=True)))


@bp.put("/api/desk/orders/<int:deal_id>/mechanic")
@json_api(need="service.mechanic")
def mechanic_block(sess, deal_id):
    """The mechanic's block (the field worker's phone page calls this): done, act signed, hours, files."""
    return jsonify(claims.mechanic_block(services(), sess.member_id, deal_id, request.get_json(silent=True),
                                         sess.user_id, sess.can("service.head")))


@bp.get("/api/desk/mine")
@json_api(need="service.mechanic")
def my_orders(sess):
    """The mechanic's own open work orders (for the field worker's phone page)."""
    rows = [o for o in workorder.registry(services(), sess.member_id)["orders"]
            if o["mechanic"] == sess.user_id and o["computed"] not in ("won",)]
    return jsonify({"orders": rows})


@bp.get("/api/desk/orders/<int:deal_id>/claim")
@json_api(need="service.engineer")
def claim_draft(sess, deal_id):
    return jsonify(claims.draft(services(), sess.member_id, deal_id, sess.lang))


@bp.post("/api/desk/orders/<int:deal_id>/claim")
@json_api(need="service.engineer")
def claim_send(sess, deal_id):
    return jsonify(claims.send(services(), sess.member_id, deal_id, request.get_json(silent=True), sess.lang))


@bp.post("/api/desk/orders/<int:deal_id>/act")
@json_api(need="service.engineer")
def claim_act(sess, deal_id):
    """The manufacturer's reclamation act (a file) attached; approved → the order moves on."""
    return jsonify(claims.attach_act(services(), sess.member_id, deal_id, request.get_json(silent=True)))


@bp.get("/api/desk/settings")
@json_api(need="settings")
def desk_settings(sess):
    kv = services().store.kv
    return jsonify({"lines": calls.lines(kv, sess.member_id),
                    "manufacturers": claims.manufacturers(kv, sess.member_id)})


@bp.put("/api/desk/settings")
@json_api(need="settings")
def save_desk_settings(sess):
    """{lines?: {line: dispatcher id}, manufacturers?: {model: {...}}} — each part checked before either is kept."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) - {"lines", "manufacturers"}:
        raise intake.IntakeError(said("a JSON object {lines, manufacturers} is expected",
                                      "нужен JSON-объект {lines, manufacturers}"))
    kv = services().store.kv
    scratch = _Scratch()
    if "lines" in body:
        calls.save_lines(scratch, sess.member_id, body["lines"])
    if "manufacturers" in body:
        claims.save_manufacturers(scratch, sess.member_id, body["manufacturers"])
    for k, v in scratch.values.items():
        kv.set(sess.member_id, k, v)
    return desk_settings.__wrapped__(sess)


class _Scratch:
    """Validated values held until every part passed (nothing half-written)."""

    def __init__(self):
        self.values = {}

    def set(self, member_id, key, value):
        self.values[key] = value


@bp.get("/api/desk/manufacturers")
@json_api(need="service.view")
def manufacturers(sess):
    return jsonify(claims.manufacturers(services().store.kv, sess.member_id))


@bp.put("/api/desk/manufacturers")
@json_api(need="settings")
def save_manufacturers(sess):
    return jsonify(claims.save_manufacturers(services().store.kv, sess.member_id, request.get_json(silent=True)))


# --- equipment history ------------------------------------------------------------------------------------------
@bp.post("/placements/equipment-card")
def equipment_page():
    """The Equipment item's detail tab (CRM_DYNAMIC_<equipment>_DETAIL_TAB, PLACEMENT_OPTIONS {"ID": …})."""
    def render(svc, ctx, lang, token):
        options = ctx.placement_options if isinstance(ctx.placement_options, dict) else {}
        raw = str(options.get("ID") or options.get("id") or "")
        s = dict(registry_strings(lang))
        s["title"] = s["machine_title"]
        config = {"session": token, "lang": lang, "s": s, "equipment_id": int(raw) if raw.isdigit() else None}
        return render_template("desk/machine.html", s=s, lang=lang, config=inline_json(config),
                               bx24_js_url=svc.settings.bx24_js_url)
    return frame_page(render)



@bp.get("/api/desk/equipment/<int:equipment_id>")
@json_api()
def machine_card(sess, equipment_id):
    if not (sess.can("desk") or sess.can("service.view")):
        require("service.view")
    return jsonify(history.machine_card(services(), sess.member_id, equipment_id, sess.lang))


@bp.get("/api/desk/stats/reasons")
@json_api(need="service.view")
def reason_stats(sess):
    return jsonify(history.reason_stats(services(), sess.member_id))
