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
        POST /api/visits/<id>/task {title, deadline?, responsible?}
        POST /api/visits/company/<id>/contact[/<contact id>] {fields}   POST /api/visits/company/<id>/pin {lat, lon}
        POST /api/visits/route/companies {date, company_ids, create?, key?, manager?}
        GET|POST /api/visits/settings          (administrators: popup fields, visited period, route starts)
"""
from __future__ import annotations

import secrets

import qrcode
from flask import Blueprint, jsonify, render_template, request
from qrcode.image.svg import SvgPathImage

from b24app import roles as app_roles
from b24app import session as page_sessions
from b24app import websafety
from b24app.errors import SettingsError, said
from b24app.i18n import lang_of
from maps import geocoding
from visits import act, create, overview, read, rules
from visits import route as day_routes
from visits import settings as visit_settings
from visits.strings import strings

from . import inputs
from .common import app_services, current_session, error_page, frame_page, inline_json, json_api, require, services
from .errors import BadInput

bp = Blueprint("visits", __name__)


def _render(sess: page_sessions.PageSession, token: str, view: str, company_id: str = "", frame: bool = True):
    svc = services()
    lang = lang_of(sess.lang)
    portal = svc.store.portals.get(sess.member_id)
    config = {"session": token, "lang": lang, "view": view, "company_id": company_id, "frame": frame,
              "user_id": sess.user_id, "tiles": svc.settings.tiles_url,
              "portal_url": f"https://{portal.domain}" if portal else "", "s": strings(lang),
              "tz": rules.settings_of(svc.store.kv, sess.member_id).tz, "is_admin": sess.is_admin,
              "can": {a: sess.can(a) for a in ("visits.team", "settings")},
              "visited_period": visit_settings.visited_period(svc.store.kv, sess.member_id)}
    return render_template("visits/app.html", s=strings(lang), lang=lang, config=inline_json(config),
                           bx24_js_url=svc.settings.bx24_js_url if frame else None)


def _frame(view: str):
    def render(svc, ctx, lang, token):
        options = ctx.placement_options if isinstance(ctx.placement_options, dict) else {}
        company_id = str(options.get("ID") or "") if ctx.placement == "CRM_COMPANY_DETAIL_TAB" else ""
        return _render(current_session(), token, view, company_id)
    return frame_page(render)


@bp.post("/placements/company-visits")
def company_visits_page():
    return _frame("company")


@bp.post("/placements/visit-calendar")
def visit_calendar_page():
    return _frame("calendar")


def open_phone(link: str):
    """A phone link → (its page session, bearer id), or the error page to answer. The link is a secret of
    its own (stored as a hash, revocable from the settings): each opening gets a fresh page session of that
    one person, as a field worker only — never an administrator — acting through his own kept portal
    tokens. Every page a phone link opens (the visits pages here, the worker's day in handlers/field.py)
    comes through this one function."""
    svc = app_services()
    row = svc.store.phone_links.get(link) if 16 <= len(link) <= 200 else None
    if row is None or row.get("revoked_at"):
        return None, error_page(401, "LINK_NOT_FOUND", "this phone link does not exist or was revoked: make a new "
                                "one in Bitrix24")
    portal = svc.store.portals.get(row["member_id"])
    if portal is None or portal.status not in ("installed", "needs_reinstall"):
        return None, error_page(403, "PORTAL_NOT_INSTALLED", "the app is not installed on this portal")
    svc.store.phone_links.touch(row["link_hash"])
    sess = page_sessions.PageSession(member_id=row["member_id"], user_id=int(row["user_id"]), lang=row["lang"],
                                     placement="PHONE", is_admin=False, roles=(app_roles.FIELD_WORKER,),
                                     kind="phone", link_id=row["link_hash"])
    token = page_sessions.issue(svc.store, sess)
    websafety.frame_ancestors(websafety.SELF)        # a phone's own tab, never inside another site
    return (sess, token), None


@bp.get("/m/<link>")
def phone_page(link: str):
    """A phone opens the link its owner made in the frame (see ``open_phone``)."""
    opened, refusal = open_phone(link)
    if refusal is not None:
        return refusal
    sess, token = opened
    return _render(sess, token, request.args.get("view", "calendar"), request.args.get("company", ""), frame=False)


_api = json_api(need="visits.own")
_team = json_api(need="visits.team")
_admin = json_api(need="settings")


def _manager(sess) -> int | None:
    """Whose visits (``?manager=``): one's own by default; anyone else's (or everyone's) takes a team role."""
    manager = inputs.optional_int_arg("manager")
    if sess.can("visits.team"):
        return manager
    if manager is not None and manager != sess.user_id:
        require("visits.team")
    return sess.user_id


def _body() -> dict:
    return inputs.json_object(optional=True)


def _created(sess, item: dict):
    """201 with the new visit as the pages list it."""
    return jsonify({"visit": read.row(item, read._visit_ids(services().store, sess.member_id))}), 201


@bp.get("/api/visits/company/<int:company_id>")
@_api
def company_visits(sess, company_id: int):
    return jsonify(read.company_visits(services(), sess.member_id, company_id))


@bp.post("/api/visits")
@_api
def add_visit(sess):
    b = _body()
    manager = b.get("manager")
    if manager not in (None, "") and str(manager) != str(sess.user_id):
        require("visits.team")
    item = create.create_visit(services(), sess.member_id, b.get("company_id"), b.get("date"),
                               b.get("type") or "planned", b.get("purpose"), manager)
    return _created(sess, item)


@bp.get("/api/visits/month")
@_api
def month(sess):
    return jsonify(read.month_visits(services(), sess.member_id, inputs.month_arg(), _manager(sess)))


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
    return _created(sess, item)


@bp.post("/api/visits/<int:visit_id>/reschedule")
@_api
def reschedule(sess, visit_id: int):
    """{date}: the visit moves (and its calendar event with it); 400 in the person's language otherwise."""
    return jsonify(act.reschedule(services(), sess.member_id, visit_id, _body().get("date")))


@bp.post("/api/visits/company/<int:company_id>")
@_api
def company_update(sess, company_id: int):
    return jsonify(act.update_company(services(), sess.member_id, company_id, _body().get("fields") or {}))


@bp.post("/api/visits/<int:visit_id>/task")
@_api
def visit_task(sess, visit_id: int):
    """{title, deadline?, responsible?}: a task bound to the visit and its company, set by the person."""
    b = _body()
    responsible = b.get("responsible")
    if responsible not in (None, "") and str(responsible) != str(sess.user_id):
        responsible = inputs._int(responsible, "responsible")
    return jsonify(act.add_task(services(), sess.member_id, visit_id, b.get("title"), b.get("deadline"),
                                responsible or None)), 201


@bp.post("/api/visits/company/<int:company_id>/contact")
@bp.post("/api/visits/company/<int:company_id>/contact/<int:contact_id>")
@_api
def company_contact(sess, company_id: int, contact_id: int | None = None):
    """{fields: {NAME, LAST_NAME, POST, PHONE, EMAIL}}: edit a contact of the company, or add one."""
    fields = _body().get("fields")
    if not isinstance(fields, dict):
        raise BadInput(said("JSON body {fields: {...}} expected", "нужно тело JSON {fields: {...}}"))
    out = act.save_contact(services(), sess.member_id, company_id, contact_id, fields)
    return jsonify(out), 201 if out.get("created") else 200


@bp.post("/api/visits/company/<int:company_id>/pin")
@_api
def company_pin(sess, company_id: int):
    """{lat, lon}: the company's pin moved on the company map (kept as the portal's manual answer)."""
    lat, lon = inputs.body_values("JSON body {lat, lon} expected", lambda b: (float(b["lat"]), float(b["lon"])))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadInput(said("lat/lon out of range", "координаты вне допустимых пределов"))
    r = geocoding.pin_record(services(), sess.member_id, "company", company_id, lat, lon)
    return jsonify({"id": company_id, "lat": r.lat, "lon": r.lon})


@bp.post("/api/visits/route/companies")
@_api
def companies_route(sess):
    """{date, company_ids: [...], create?: bool, key?, manager?}: companies picked on the map as a day's
    route; with ``create`` a visit is planned at each arrival."""
    b = _body()
    manager = b.get("manager")
    if manager not in (None, "") and str(manager) != str(sess.user_id):
        require("visits.team")
        manager = inputs._int(manager, "manager")
    day = inputs.parse_date(str(b.get("date") or "") or None)
    if day is None:
        raise BadInput(said("'date' (YYYY-MM-DD) is required", "не указана дата 'date' (ГГГГ-ММ-ДД)"))
    ids = b.get("company_ids")
    if not isinstance(ids, list):
        raise BadInput(said("'company_ids' must be a list", "'company_ids' — список"))
    key = str(b.get("key") or "")[:64] or None
    out = day_routes.companies_route(services(), sess.member_id, int(manager or sess.user_id), day.isoformat(), ids,
                                     create=b.get("create") is True, key=key)
    return jsonify(out), 201 if out["created"] else 200


@bp.get("/api/visits/companies")
@_api
def find_companies(sess):
    return jsonify({"companies": read.find_companies(services(), sess.member_id, request.args.get("q", ""))})


@bp.get("/api/visits/map")
@_api
def company_map(sess):
    a = request.args
    # Which companies a person may see is the portal's to say (his token, his CRM permissions); the
    # manager filter here is only a view filter, open to everyone.
    return jsonify(overview.company_map(services(), sess.member_id, a.get("period"),
                                        inputs.optional_int_arg("manager")))


@bp.get("/api/visits/stats")
@_team
def stats(sess):
    return jsonify(overview.stats(services(), sess.member_id, inputs.month_arg()))


@bp.get("/api/visits/route")
@_api
def route(sess):
    manager = _manager(sess) or sess.user_id
    day = inputs.date_arg("date")
    if day is None:
        raise BadInput(said("query parameter 'date' (YYYY-MM-DD) is required", "не указана дата 'date' (ГГГГ-ММ-ДД)"))
    return jsonify(day_routes.day_route(services(), sess.member_id, manager, day.isoformat()))


def qr_svg(url: str) -> str:
    """The link as a QR code (SVG paths, qrcode's own encoder): a phone's camera opens it, nobody types
    43 random characters. The page shows it as an <img> data: URL, never as markup in its DOM."""
    return qrcode.make(url, image_factory=SvgPathImage).to_string(encoding="unicode")


@bp.post("/api/visits/phone-link")
@_api
def phone_link(sess):
    """A link of one's own for one's phone: a new secret each time, kept until revoked (settings page)."""
    if sess.kind == "phone" or sess.user_id is None:
        require("settings")              # a phone session cannot mint more links
    svc = services()
    link = secrets.token_urlsafe(32)
    link_id = svc.store.phone_links.add(link, sess.member_id, sess.user_id, sess.lang,
                                        str(_body().get("label") or "")[:100])
    url = f"{svc.settings.public_url.rstrip('/')}/m/{link}"
    return jsonify({"url": url, "id": link_id, "qr_svg": qr_svg(url)})


@bp.get("/api/visits/settings")
@_admin
def get_settings(sess):
    return jsonify(visit_settings.current(services(), sess.member_id))


@bp.post("/api/visits/settings")
@_admin
def save_settings(sess):
    """{popup_fields: [company field codes], visited_period: month|quarter|year|<n>d|YYYY-MM,
    route_starts: {user id: [lat, lon] | null}}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise SettingsError(said('a JSON object is expected: {"popup_fields": [...], "visited_period": "month"}',
                                 'нужен JSON-объект: {"popup_fields": [...], "visited_period": "month"}'))
    svc = services()
    return jsonify(visit_settings.save(svc, sess.member_id, body, geocode=geocoding.point_of(svc, sess.member_id)))
