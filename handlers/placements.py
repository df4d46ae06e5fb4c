"""Frames: ``POST /app`` (the app's main page, PLACEMENT=DEFAULT) and ``POST /placements/<code>``
(widgets), plus ``GET /healthz``. The frame is verified with the portal before anything is shown;
later issues put the real UI into these templates."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template

from b24app.i18n import lang_of, strings
from b24app.verify import VerificationError, verify_frame

from .common import error_page, form, query, services

bp = Blueprint("placements", __name__)


def _page(placement_code: str | None):
    data, q = form(), query()
    svc = services()
    try:
        ctx = verify_frame(svc, data, q)
    except VerificationError as exc:
        return error_page(exc.status, exc.error, exc.description, q.get("LANG"))
    lang = lang_of(ctx.lang)
    return render_template("main.html", s=strings(lang), lang=lang, ctx=ctx, portal=ctx.portal, user=ctx.user,
                           placement_code=placement_code or ctx.placement, bx24_js_url=svc.settings.bx24_js_url)


@bp.post("/app")
def main_page():
    return _page(None)


@bp.post("/placements/<code>")
def placement(code: str):
    return _page(code)


@bp.get("/healthz")
def healthz():
    try:
        with services().store.engine.connect() as c:
            c.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        return jsonify({"status": "error", "database": f"{type(exc).__name__}"}), 503
    return jsonify({"status": "ok", "database": "ok"})
