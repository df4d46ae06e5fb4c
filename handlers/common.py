"""What every edge shares: the Services of this app, the parsed PHP-style form, one JSON error shape.

Like bolt-python's flask adapter: convert the request, call one function, convert the answer."""
from __future__ import annotations

import json

from flask import abort, current_app, jsonify, render_template, request

from b24app.forms import FormLimitError, parse_request
from b24app.i18n import lang_of, strings


def services():
    return current_app.extensions["b24"]


def form() -> dict:
    """``request.form`` with ``data[FIELDS][ID]`` keys nested (reference §2.2). Every edge that reads a
    form comes here, before verification: an oversized or over-deep form ends the request with a 400
    JSON error before any work."""
    try:
        return parse_request(request)
    except FormLimitError as exc:
        response, status = json_error(400, exc.error, exc.description)
        response.status_code = status
        abort(response)


def query() -> dict:
    return request.args.to_dict()


def json_error(status: int, error: str, description: str):
    return jsonify({"error": error, "error_description": description}), status


def error_page(status: int, error: str, description: str, lang: str | None = None):
    """Frames show a human page (in the portal's language) with the same status code as the JSON answer."""
    s = strings(lang)
    title = s["error.bad_request"] if status == 400 else s["error.forbidden"] if status == 403 else \
        s["error.busy"] if status == 503 else s["error.unauthorized"]
    return render_template("error.html", s=s, lang=lang_of(lang), title=title, error=error,
                           description=description, status=status), status


def page_session():
    """The signed session of a page's JSON call (header ``X-B24App-Session``), checked against a portal
    that is still installed. Raises SessionError (401/403) — use ``session_error`` to answer it."""
    from flask import request

    from b24app import session as page_sessions

    svc = services()
    sess = page_sessions.read(svc.settings.secret_key, request.headers.get(page_sessions.HEADER)
                              or request.args.get("session"))
    portal = svc.store.portals.get(sess.member_id)
    if portal is None or portal.status not in ("installed", "needs_reinstall"):
        raise page_sessions.SessionError(403, "PORTAL_NOT_INSTALLED", "the app is not installed on this portal")
    return sess


def session_error(exc):
    return json_error(exc.status, exc.error, exc.description)


def frame_is_admin(ctx) -> bool:
    """``user.admin`` asked with the frame's own token (reference: the portal decides, never the page's
    IS_ADMIN): only an administrator's page session may read or change settings."""
    from b24app.verify import _ask_portal

    status, body = _ask_portal(ctx.portal.client_endpoint, "user.admin", ctx.auth_id)
    return status == 200 and body.get("result") is True


def inline_json(value) -> str:
    """JSON for an inline ``<script>``: ``<``, ``>`` and ``&`` escaped, so portal text cannot close the tag."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")


def frame_page(render):
    """The shape of a placement page: verify the frame (a refusal is an HTML error page with its status),
    issue the page session its JSON calls carry, then ``render(services, ctx, lang, token)``."""
    from b24app import session as page_sessions
    from b24app.verify import VerificationError, verify_frame

    data, q = form(), query()
    svc = services()
    try:
        ctx = verify_frame(svc, data, q)
    except VerificationError as exc:
        return error_page(exc.status, exc.error, exc.description, q.get("LANG"))
    token = page_sessions.issue(svc.settings.secret_key, page_sessions.from_frame(ctx))
    return render(svc, ctx, lang_of(ctx.lang), token)


def json_api(*bad_input: type[Exception]):
    """A page's JSON endpoint: ``fn(sess, ...)`` behind the page session; ``bad_input`` exceptions are the
    caller's fault (400 BAD_REQUEST), a portal without our install 409, a portal refusal 502."""
    from functools import wraps

    from b24app import session as page_sessions
    from b24app.errors import B24Error
    from install.registry import NotInstalled

    def deco(fn):
        @wraps(fn)
        def wrapper(*a, **kw):
            try:
                sess = page_session()
            except page_sessions.SessionError as exc:
                return session_error(exc)
            try:
                return fn(sess, *a, **kw)
            except bad_input as exc:
                return json_error(400, "BAD_REQUEST", str(exc))
            except NotInstalled as exc:
                return json_error(409, "NOT_INSTALLED", str(exc))
            except B24Error as exc:
                return json_error(502, "PORTAL_ERROR", f"{exc.code}: {exc.description}")
        return wrapper
    return deco
