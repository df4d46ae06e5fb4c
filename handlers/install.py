"""``POST /install``: the installer URL, in both shapes the portal uses (reference §1.1).

* a frame POST (UI app): AUTH_ID/REFRESH_ID/member_id... → confirm, store, render a page that calls
  ``BX24.installFinish()``;
* the ONAPPINSTALL event (API-only app): ``event=ONAPPINSTALL&auth[...]`` → confirm, store, JSON.
Nothing is stored unless the OAuth server confirmed the token (install_flow)."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from b24app import install_flow
from b24app.i18n import lang_of, strings

from .common import error_page, form, json_error, query, services

bp = Blueprint("install", __name__)


@bp.post("/install")
def install():
    data, q = form(), query()
    svc = services()
    if str(data.get("event") or "").upper() == "ONAPPINSTALL":
        try:
            result = install_flow.install_from_event(svc, data)
        except install_flow.InstallError as exc:
            return json_error(exc.status, exc.error, exc.description)
        return jsonify({"result": True, "member_id": result.portal.member_id, "warnings": result.warnings})
    if not data.get("AUTH_ID"):
        return json_error(400, "INVALID_REQUEST", "expected an installer frame POST or the ONAPPINSTALL event")
    try:
        result = install_flow.install_from_frame(svc, data, q)
    except install_flow.InstallError as exc:
        return error_page(exc.status, exc.error, exc.description, q.get("LANG"))
    lang = lang_of(q.get("LANG") or result.lang)
    return render_template("install.html", s=strings(lang), lang=lang, portal=result.portal,
                           warnings=result.warnings, bx24_js_url=svc.settings.bx24_js_url)
