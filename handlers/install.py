"""``POST /install``: the installer URL, in both shapes the portal uses (reference §1.1).

* a frame POST (UI app): AUTH_ID/REFRESH_ID/member_id... → confirm, store, queue the app.json install
  job, render a page that polls ``GET /install/status`` (page session) and calls ``BX24.installFinish()``
  once the job is done — or shows the error and a retry button (``POST /install/retry``);
* the ONAPPINSTALL event (API-only app): ``event=ONAPPINSTALL&auth[...]`` → confirm, store, queue, JSON.
Nothing is stored unless the OAuth server confirmed the token (install_flow)."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from b24app import install_flow
from b24app import roles as app_roles
from b24app import session as page_sessions
from b24app import websafety
from b24app.errors import InstallError, in_lang, said
from b24app.i18n import lang_of, strings

from . import errors
from .common import error_page, form, json_api, json_error, query, services

bp = Blueprint("install", __name__)


@bp.post("/install")
def install():
    data, q = form(), query()
    svc = services()
    if str(data.get("event") or "").upper() == "ONAPPINSTALL":
        try:
            result = install_flow.install_from_event(svc, data)
        except InstallError as exc:
            return json_error(*errors.known(exc))
        return jsonify({"result": True, "member_id": result.portal.member_id, "warnings": result.warnings,
                        "job": result.job})
    if not data.get("AUTH_ID"):
        return json_error(400, "INVALID_REQUEST", "expected an installer frame POST or the ONAPPINSTALL event")
    try:
        result = install_flow.install_from_frame(svc, data, q)
    except InstallError as exc:
        return error_page(*errors.known(exc), q.get("LANG"))
    lang = lang_of(q.get("LANG") or result.lang)
    p = result.portal
    # install_flow confirmed this person is a portal administrator (user.admin); the page only polls the
    # install job, which is the app's own work — so no person's token is kept for it.
    websafety.frame_ancestors(websafety.portal_origin(svc.settings, p))     # the installer is that portal's frame
    token = page_sessions.issue(svc.store, page_sessions.PageSession(
        member_id=p.member_id, user_id=p.user_id, lang=lang, placement="INSTALL", is_admin=True,
        roles=(app_roles.ADMIN,), kind="install"))
    return render_template("install.html", s=strings(lang), lang=lang, portal=p, warnings=result.warnings,
                           bx24_js_url=svc.settings.bx24_js_url, session=token,
                           progress=install_flow.progress_of(svc.store, p.member_id))


def step_label(step: str, lang: str) -> str:
    """The installer's step ("create smart_process visit (+3)") in the admin's language."""
    s = strings(lang)
    if f"install.step.{step}" in s:
        return s[f"install.step.{step}"]
    parts = step.split(" ", 2)
    if len(parts) == 3 and f"install.action.{parts[0]}" in s and f"install.kind.{parts[1]}" in s:
        return f"{s['install.action.' + parts[0]]} {s['install.kind.' + parts[1]]} {parts[2]}"
    return step


def _status(svc, member_id: str, lang: str = "en", is_admin: bool = False) -> dict:
    """The install job for a page. An administrator's session gets the detail (step, job, errors as
    ``error_items`` {code, message} and as display lines ``errors``); anyone else gets how far it is
    only: error texts describe the portal's set-up and are nobody else's business."""
    cur = install_flow.progress_of(svc.store, member_id)
    total, done = int(cur.get("total") or 0), int(cur.get("done") or 0)
    percent = 100 if cur.get("state") == install_flow.DONE else (min(99, done * 100 // total) if total else 0)
    if not is_admin:
        return {"state": cur.get("state"), "percent": percent}
    items = install_flow.error_items(cur)
    return {"state": cur.get("state"), "done": done, "total": total, "percent": percent,
            "step": step_label(cur.get("step") or "", lang),
            "errors": [f"{e['code']}: {e['message']}" for e in items], "error_items": items,
            "job": cur.get("job")}


@bp.get("/install/status")
@json_api()
def install_status(sess):
    """How far the app.json install is, for the installer page (page session of that portal)."""
    return jsonify(_status(services(), sess.member_id, sess.lang, sess.is_admin))


@bp.post("/install/retry")
@json_api()
def install_retry(sess):
    """Queue the install job again after a failure; only an admin's page session may."""
    if not sess.is_admin:
        return json_error(403, "ACCESS_DENIED", in_lang(said(
            "only a portal administrator can re-run the installation",
            "повторить установку может только администратор портала"), sess.lang))
    svc = services()
    install_flow.retry_install(svc, sess.member_id)
    return jsonify(_status(svc, sess.member_id, sess.lang, True))
