"""Frames: ``POST /app`` (the app's main page, PLACEMENT=DEFAULT: the hub and, for a portal
administrator, the settings) and ``POST /placements/<code>`` (widgets without a page of their own yet),
plus ``GET /healthz``. The frame is verified with the portal before anything is shown.

The hub opens the app's pages with ``BX24.openApplication({page: <placement key>})``: the portal opens
the app again (DEFAULT, in a slider) with that object as PLACEMENT_OPTIONS, and ``/app`` hands the
request to the handler app.json declares for that placement — a freshly verified frame, so the page
gets its own page session exactly as when opened from the left menu."""
from __future__ import annotations


import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from b24app import admin_strings, install_flow
from b24app.i18n import strings
from install import hub as app_hub

from .common import app_services, current_session, frame_page, inline_json, verified_frame
from .install import _status as install_status

bp = Blueprint("placements", __name__)


def _forward(ctx):
    """PLACEMENT_OPTIONS ``{"page": key}`` on the main page → the view of that placement's handler, or None."""
    options = ctx.placement_options if isinstance(ctx.placement_options, dict) else {}
    key = str(options.get("page") or "")
    item = next((p for p in app_hub.hub_placements() if p["key"] == key), None)
    if item is None or item["handler"] in ("/app", request.path):
        return None
    try:
        endpoint, args = current_app.url_map.bind_to_environ(request.environ).match(item["handler"], method="POST")
    except HTTPException:                 # declared but not served by this build: stay on the hub
        return None
    return current_app.view_functions[endpoint](**args)


def _page(placement_code: str | None):
    ctx = verified_frame()
    main = placement_code is None
    if main:
        forwarded = _forward(ctx)
        if forwarded is not None:
            return forwarded
    return frame_page(lambda svc, ctx, lang, token: _render(svc, ctx, lang, token, placement_code), ctx)


def _render(svc, ctx, lang: str, token: str, placement_code: str | None):
    main = placement_code is None
    is_admin = main and current_session().is_admin
    hub = app_hub.hub(lang)
    config = {"session": token, "lang": lang, "is_admin": is_admin, "s": admin_strings.strings(lang),
              "status": ctx.portal.status, "install": install_status(svc, ctx.member_id, lang, is_admin), "hub": hub,
              "role_help": admin_strings.role_help(lang) if is_admin else []}
    return render_template("main.html", s=strings(lang), a=admin_strings.strings(lang), lang=lang, ctx=ctx,
                           portal=ctx.portal, user=ctx.user, main=main, is_admin=is_admin, hub=hub,
                           install_state=install_flow.progress_of(svc.store, ctx.member_id).get("state"),
                           placement_code=placement_code or ctx.placement, bx24_js_url=svc.settings.bx24_js_url,
                           config=inline_json(config))


@bp.post("/app")
def main_page():
    return _page(None)


@bp.post("/placements/<code>")
def placement(code: str):
    return _page(code)


@bp.get("/healthz")
def healthz():
    try:
        with app_services().store.engine.connect() as c:
            c.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        return jsonify({"status": "error", "database": f"{type(exc).__name__}"}), 503
    return jsonify({"status": "ok", "database": "ok"})
