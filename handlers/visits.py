"""Visit pages and their JSON — thin: verify the frame / check the page session, call visits.*, answer.

Pages:  POST /placements/company-visits   (CRM_COMPANY_DETAIL_TAB: the company's visits + a new-visit form)
        POST /placements/visit-calendar   (LEFT_MENU: calendar, list, company map, stats, day route)
        GET  /m/<token>                   (the same pages on a phone, with a link issued from the frame)
JSON:   GET  /api/visits/company/<id>          POST /api/visits {company_id, date, type, purpose}
        GET  /api/visits/month?month=&manager= GET  /api/visits/<id>
        POST /api/visits/<id>/result {result, comment, photo:{name, content}}
        POST /api/visits/<id>/repeat {date}    POST /api/visits/company/<id> {fields}
        GET  /api/visits/map?period=&manager=  GET  /api/visits/stats?month=
        GET  /api/visits/route?manager=&date=  POST /api/visits/phone-link
        GET  /api/visits/companies?q=          (the phone page's company picker)
        GET|POST /api/visits/settings          (administrators: popup fields, visited period, route starts)
"""
from __future__ import annotations

import os

from flask import Blueprint, jsonify, render_template, request

from b24app import session as page_sessions
from b24app.errors import B24Error
from b24app.i18n import lang_of
from b24app.verify import VerificationError, verify_frame
from install.registry import NotInstalled
from visits import act, create, overview, read, rules
from visits import route as day_routes
from visits import settings as visit_settings
from visits.strings import strings

from .common import (
    error_page,
    form,
    inline_json,
    json_error,
    page_session,
    query,
    services,
    session_error,
)

bp = Blueprint("visits", __name__)
TILES = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"


def _render(sess: page_sessions.PageSession, token: str, view: str, company_id: str = "", frame: bool = True):
    svc = services()
    lang = lang_of(sess.lang)
    portal = svc.store.portals.get(sess.member_id)
    config = {"session": token, "lang": lang, "view": view, "company_id": company_id, "frame": frame,
              "user_id": sess.user_id, "tiles": os.environ.get("B24APP_TILES_URL", TILES),
              "portal_url": f"https://{portal.domain}" if portal else "", "s": strings(lang),
              "tz": rules.settings_of(svc.store.kv, sess.member_id).tz, "is_admin": sess.is_admin,
              "visited_period": visit_settings.visited_period(svc.store.kv, sess.member_id)}
    return render_template("visits/app.html", s=strings(lang), lang=lang, config=inline_json(config),
                           bx24_js_url=svc.settings.bx24_js_url if frame else None)


def _frame(view: str):
    data, q = form(), query()
    svc = services()
    try:
        ctx = verify_frame(svc, data, q)
    except VerificationError as exc:
        return error_page(exc.status, exc.error, exc.description, q.get("LANG"))
    sess = page_sessions.from_frame(ctx, is_admin=view == "calendar" and _is_admin(ctx))
    token = page_sessions.issue(svc.settings.secret_key, sess)
    options = ctx.placement_options if isinstance(ctx.placement_options, dict) else {}
    company_id = str(options.get("ID") or "") if ctx.placement == "CRM_COMPANY_DETAIL_TAB" else ""
    return _render(sess, token, view, company_id)


def _is_admin(ctx) -> bool:
    """Only an administrator's calendar page gets the settings (handlers.common.frame_is_admin)."""
    from .common import frame_is_admin

    return frame_is_admin(ctx)


@bp.post("/placements/company-visits")
def company_visits_page():
    return _frame("company")


@bp.post("/placements/visit-calendar")
def visit_calendar_page():
    return _frame("calendar")


@bp.get("/m/<token>")
def phone_page(token: str):
    """A phone opens the link it was given in the frame: the signed token is the session (8 hours)."""
    try:
        sess = page_sessions.read(services().settings.secret_key, token)
    except page_sessions.SessionError as exc:
        return error_page(exc.status, exc.error, exc.description)
    return _render(sess, token, request.args.get("view", "calendar"), request.args.get("company", ""), frame=False)


def _api(fn):
    def wrapper(*a, **kw):
        try:
            sess = page_session()
        except page_sessions.SessionError as exc:
            return session_error(exc)
        try:
            return fn(sess, *a, **kw)
        except act.PhotoTooLarge as exc:
            return json_error(413, "PHOTO_TOO_LARGE", str(exc))
        except create.CreateError as exc:
            return json_error(400, "BAD_REQUEST", str(exc))
        except visit_settings.SettingsError as exc:
            return json_error(400, "BAD_SETTINGS", str(exc))
        except read.NotFound as exc:
            return json_error(404, "NOT_FOUND", str(exc))
        except NotInstalled as exc:
            return json_error(409, "NOT_INSTALLED", str(exc))
        except B24Error as exc:
            return json_error(502, "PORTAL_ERROR", f"{exc.code}: {exc.description}")
        except (ValueError, KeyError, TypeError) as exc:
            return json_error(400, "BAD_REQUEST", f"{type(exc).__name__}: {exc}")
    wrapper.__name__ = fn.__name__
    return wrapper


def _body() -> dict:
    return request.get_json(silent=True) or {}


@bp.get("/api/visits/company/<int:company_id>")
@_api
def company_visits(sess, company_id: int):
    return jsonify(read.company_visits(services(), sess.member_id, company_id))


@bp.post("/api/visits")
@_api
def add_visit(sess):
    b = _body()
    item = create.create_visit(services(), sess.member_id, b.get("company_id"), b.get("date"),
                               b.get("type") or "planned", b.get("purpose"), b.get("manager"))
    v = read._visit_ids(services().store, sess.member_id)
    return jsonify({"visit": read.row(item, v)}), 201


@bp.get("/api/visits/month")
@_api
def month(sess):
    a = request.args
    return jsonify(read.month_visits(services(), sess.member_id, a.get("month"), a.get("manager", type=int)))


@bp.get("/api/visits/<int:visit_id>")
@_api
def visit(sess, visit_id: int):
    return jsonify(read.visit_page(services(), sess.member_id, visit_id))


@bp.post("/api/visits/<int:visit_id>/result")
@_api
def result(sess, visit_id: int):
    b = _body()
    return jsonify(act.save_result(services(), sess.member_id, visit_id, b.get("result"), b.get("comment") or "",
                                   b.get("photo"), lang_of(sess.lang)))


@bp.post("/api/visits/<int:visit_id>/repeat")
@_api
def repeat(sess, visit_id: int):
    item = create.plan_repeat(services(), sess.member_id, visit_id, _body().get("date"))
    v = read._visit_ids(services().store, sess.member_id)
    return jsonify({"visit": read.row(item, v)}), 201


@bp.post("/api/visits/company/<int:company_id>")
@_api
def company_update(sess, company_id: int):
    return jsonify(act.update_company(services(), sess.member_id, company_id, _body().get("fields") or {}))


@bp.get("/api/visits/companies")
@_api
def find_companies(sess):
    return jsonify({"companies": read.find_companies(services(), sess.member_id, request.args.get("q", ""))})


@bp.get("/api/visits/map")
@_api
def company_map(sess):
    a = request.args
    return jsonify(overview.company_map(services(), sess.member_id, a.get("period"), a.get("manager", type=int)))


@bp.get("/api/visits/stats")
@_api
def stats(sess):
    return jsonify(overview.stats(services(), sess.member_id, request.args.get("month")))


@bp.get("/api/visits/route")
@_api
def route(sess):
    a = request.args
    manager = a.get("manager", type=int) or sess.user_id
    if not a.get("date"):
        return json_error(400, "BAD_REQUEST", "query parameter 'date' (YYYY-MM-DD) is required")
    return jsonify(day_routes.day_route(services(), sess.member_id, int(manager), a["date"]))


@bp.post("/api/visits/phone-link")
@_api
def phone_link(sess):
    svc = services()
    token = page_sessions.issue(svc.settings.secret_key, sess)
    return jsonify({"url": f"{svc.settings.public_url.rstrip('/')}/m/{token}", "hours": page_sessions.MAX_AGE // 3600})


@bp.get("/api/visits/settings")
@_api
def get_settings(sess):
    if not sess.is_admin:
        return json_error(403, "ACCESS_DENIED", "only a portal administrator can see or change the visit settings")
    return jsonify(visit_settings.current(services(), sess.member_id))


@bp.post("/api/visits/settings")
@_api
def save_settings(sess):
    """{popup_fields: [company field codes], visited_period: month|quarter|year|<n>d|YYYY-MM,
    route_starts: {user id: [lat, lon] | null}}."""
    if not sess.is_admin:
        return json_error(403, "ACCESS_DENIED", "only a portal administrator can see or change the visit settings")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, "BAD_SETTINGS",
                          'a JSON object is expected: {"popup_fields": [...], "visited_period": "month"}')
    return jsonify(visit_settings.save(services(), sess.member_id, body))
