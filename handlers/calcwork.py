"""The calculation → work flow's JSON edge (seed 002) — thin: page session + role → calcwork.* → answer.

Who (b24app/roles.py): ``calc.request`` (sales manager, service head, admin) sends a deal to calculation,
answers the engineer, picks a variant, orders work; ``calc.engineer`` (engineer, service head, admin)
takes, asks, builds variants, finishes the calculation and the work; ``calc.view`` reads. Whether the
person is *this* calculation's engineer / group / manager is the domain's check (403 NOT_IN_GROUP).

    POST /placements/engineers            the engineers' list page (LEFT_MENU)
    POST /placements/calc-deal            the deal tab's page (CRM_DEAL_DETAIL_TAB, PLACEMENT_OPTIONS {ID})
    GET  /api/calc/deal/<deal>            the deal tab: calculations with variants side by side, works
    GET  /api/calc/board?scope=mine|group|unassigned|all   the engineers' list: open calculations by stage
    GET  /api/calc/<calc>                 one calculation
    GET  /api/calc/catalog[?section=]     directions (catalog sections) and products
    POST /api/calc/request                {deal_id, target?: {kind: user|department|queue, id?}, comment?}
    POST /api/calc/<calc>/take | /done
    POST /api/calc/<calc>/handover {target: {kind, id?}, reason}
    POST /api/calc/<calc>/question {text} | /answer {text}
    POST /api/calc/<calc>/variants {name, lines}        PUT /api/calc/<calc>/variants/<vid> {name, lines}
    POST /api/calc/<calc>/variants/preview {name, lines}  the totals and margin as the server computes them,
                                          nothing stored (the variant builder's live totals)
    POST /api/calc/<calc>/choose {variant, amounts?: {line n: amount}, request_approval?, reason?}
    POST /api/calc/<calc>/approvals/<n>/approve | /decline {comment?}   service head / administrator
    GET  /api/calc/sla[?days=30]          SLA figures per calculation and work (reports, dashboards)
    POST /api/work/order {deal_id, lines?, contract?, engineer_id?, comment?}
    POST /api/work/<work>/accept | /on-site | /finish {report, files?: [{name, content (base64)}]}
    GET|PUT /api/calc/settings            administrators (calcwork/settings.py)
"""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from b24app.errors import said
from calcwork import catalog, flow, settings, sla, work
from calcwork.context import Actor
from calcwork.strings import ui

from .common import current_session, frame_page, inline_json, json_api, services
from .inputs import BadInput, body_values, json_object, optional_int_arg

bp = Blueprint("calcwork", __name__)

_view = json_api(need="calc.view")
_manager = json_api(need="calc.request")
_engineer = json_api(need="calc.engineer")
_admin = json_api(need="settings")


@bp.post("/placements/calc-deal")
def deal_page():
    """CRM_DEAL_DETAIL_TAB: the deal's calculation, the variants side by side, choice and work order."""
    def render(svc, ctx, lang, token):
        options = ctx.placement_options if isinstance(ctx.placement_options, dict) else {}
        sess = current_session()
        config = {"session": token, "lang": lang, "deal_id": str(options.get("ID") or ""), "s": ui(lang),
                  "can": {"request": sess.can("calc.request"), "engineer": sess.can("calc.engineer"),
                          "head": any(r in flow.HEADS for r in sess.roles)}}
        return render_template("calcwork/deal.html", s=ui(lang), lang=lang, config=inline_json(config),
                               bx24_js_url=svc.settings.bx24_js_url)
    return frame_page(render)


@bp.post("/placements/engineers")
def engineers_page():
    """LEFT_MENU "Engineers' calculations": the kanban of open calculations (mine / my group / unassigned)."""
    def render(svc, ctx, lang, token):
        sess = current_session()
        config = {"session": token, "lang": lang, "s": ui(lang),
                  "can": {"engineer": sess.can("calc.engineer"), "all": sess.can("calc.request")
                          and sess.can("calc.engineer")}}
        return render_template("calcwork/engineers.html", s=ui(lang), lang=lang, config=inline_json(config),
                               bx24_js_url=svc.settings.bx24_js_url)
    return frame_page(render)


def _actor(sess) -> Actor:
    return Actor(services(), sess.member_id, sess.user_id, sess.lang, tuple(sess.roles))


def _text(body) -> str:
    value = body["text"]
    if not isinstance(value, str):
        raise TypeError
    return value


@bp.get("/api/calc/deal/<int:deal_id>")
@_view
def deal_tab(sess, deal_id):
    return jsonify(flow.for_deal(_actor(sess), deal_id))


@bp.get("/api/calc/board")
@_view
def board(sess):
    scope = request.args.get("scope") or "mine"
    if scope not in flow.SCOPES:
        raise BadInput(said(f"query parameter 'scope': one of {', '.join(flow.SCOPES)}",
                            f"параметр 'scope': одно из {', '.join(flow.SCOPES)}"))
    return jsonify(flow.engineers_board(_actor(sess), scope))


@bp.get("/api/calc/<int:calc_id>")
@_view
def one(sess, calc_id):
    actor = _actor(sess)
    return jsonify(flow.view(actor, flow.record(actor, calc_id)))


@bp.get("/api/calc/catalog")
@_view
def catalog_page(sess):
    client = services().client(sess.member_id)
    coeffs = settings.load(services().store.kv, sess.member_id)["coefficients"]
    dirs = [{**d, "coefficient": coeffs.get(str(d["id"]), "1")} for d in catalog.directions(client)]
    return jsonify({"directions": dirs, "products": catalog.products(client, optional_int_arg("section"))})


@bp.get("/api/calc/sla")
@_view
def sla_figures(sess):
    days = optional_int_arg("days")
    days = 30 if days is None else days
    if not 1 <= days <= 366:
        raise BadInput(said("query parameter 'days': 1 to 366", "параметр 'days': от 1 до 366"))
    return jsonify(sla.figures(_actor(sess), days))


@bp.post("/api/calc/request")
@_manager
def request_calc(sess):
    deal_id, target, comment = body_values(
        "{deal_id, target?: {kind, id?}, comment?} is expected",
        lambda b: (int(b["deal_id"]), b.get("target"), str(b.get("comment") or "")))
    if target is not None and not isinstance(target, dict):
        raise BadInput(said("target: {kind: user|department|queue, id?} is expected",
                            "target: нужен объект {kind: user|department|queue, id?}"))
    res = flow.request(_actor(sess), deal_id, target, comment)
    return jsonify(res), 201 if res["created"] else 200


@bp.post("/api/calc/<int:calc_id>/take")
@_engineer
def take(sess, calc_id):
    return jsonify(flow.take(_actor(sess), calc_id))


@bp.post("/api/calc/<int:calc_id>/handover")
@_engineer
def handover(sess, calc_id):
    target, reason = body_values("{target: {kind, id?}, reason} is expected",
                                 lambda b: (dict(b["target"]), str(b["reason"])))
    return jsonify(flow.handover(_actor(sess), calc_id, target, reason))


@bp.post("/api/calc/<int:calc_id>/question")
@_engineer
def question(sess, calc_id):
    return jsonify(flow.ask(_actor(sess), calc_id, body_values("{text} is expected", _text)))


@bp.post("/api/calc/<int:calc_id>/answer")
@_manager
def answer(sess, calc_id):
    return jsonify(flow.answer(_actor(sess), calc_id, body_values("{text} is expected", _text)))


@bp.post("/api/calc/<int:calc_id>/variants")
@_engineer
def add_variant(sess, calc_id):
    return jsonify(flow.save_variant(_actor(sess), calc_id, json_object("{name, lines} is expected")))


@bp.put("/api/calc/<int:calc_id>/variants/<vid>")
@_engineer
def put_variant(sess, calc_id, vid):
    return jsonify(flow.save_variant(_actor(sess), calc_id, json_object("{name, lines} is expected"), vid))


@bp.post("/api/calc/<int:calc_id>/variants/preview")
@_engineer
def preview_variant(sess, calc_id):
    return jsonify(flow.preview_variant(_actor(sess), calc_id, json_object("{name, lines} is expected")))


@bp.post("/api/calc/<int:calc_id>/done")
@_engineer
def calc_done(sess, calc_id):
    return jsonify(flow.done(_actor(sess), calc_id))


@bp.post("/api/calc/<int:calc_id>/choose")
@_manager
def choose(sess, calc_id):
    def read(b):
        if not isinstance(b.get("request_approval", False), bool):
            raise ValueError
        return (str(b["variant"]), dict(b.get("amounts") or {}), b.get("request_approval", False),
                str(b.get("reason") or ""))
    variant, amounts, ask, reason = body_values(
        "{variant, amounts?: {line: amount}, request_approval?: true|false, reason?} is expected", read)
    res = flow.choose(_actor(sess), calc_id, variant, amounts, ask, reason)
    return jsonify(res), 202 if res.get("approval") and res["approval"]["status"] == "pending" else 200


@bp.post("/api/calc/<int:calc_id>/approvals/<int:n>/<any(approve, decline):decision>")
@_manager
def decide(sess, calc_id, n, decision):
    body = json_object("{comment?} is expected", optional=True)
    return jsonify(flow.decide(_actor(sess), calc_id, n, decision == "approve", str(body.get("comment") or "")))


@bp.post("/api/work/order")
@_manager
def order_work(sess):
    def read(b):
        lines = b.get("lines")
        if lines is not None and (not isinstance(lines, list) or not all(str(x).isdigit() for x in lines)):
            raise ValueError
        eng = b.get("engineer_id")
        return (int(b["deal_id"]), lines, str(b.get("contract") or ""), int(eng) if eng else None,
                str(b.get("comment") or ""))
    deal_id, lines, contract, engineer, comment = body_values(
        "{deal_id, lines?: [line numbers], contract?, engineer_id?, comment?} is expected", read)
    res = work.order(_actor(sess), deal_id, lines, contract, engineer, comment)
    return jsonify(res), 201 if res["created"] else 200


@bp.post("/api/work/<int:work_id>/<any(accept, 'on-site', finish):action>")
@_engineer
def work_step(sess, work_id, action):
    body = json_object("{report?, files?: [{name, content}]} is expected", optional=True)
    files = body.get("files")
    if files is not None and not isinstance(files, list):
        raise BadInput(said("files: a list of {name, content} is expected",
                            "files: нужен список {name, content}"))
    return jsonify(work.step(_actor(sess), work_id, action.replace("-", "_"), str(body.get("report") or ""), files))


@bp.get("/api/calc/settings")
@_admin
def get_settings(sess):
    return jsonify(settings.load(services().store.kv, sess.member_id))


@bp.put("/api/calc/settings")
@_admin
def put_settings(sess):
    return jsonify(settings.save(services().store.kv, sess.member_id, json_object()))
