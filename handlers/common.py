"""What every edge shares: the Services of this app, the parsed PHP-style form, one JSON error shape
(the statuses in handlers/errors.py).

Like bolt-python's flask adapter: convert the request, call one function, convert the answer."""
from __future__ import annotations

import json
from functools import wraps

from flask import abort, current_app, g, jsonify, make_response, render_template, request

from b24app import roles as app_roles
from b24app import session as page_sessions
from b24app import websafety
from b24app.forms import FormLimitError, parse_request
from b24app.i18n import lang_of, strings
from b24app.verify import VerificationError, _ask_portal, verify_frame

from . import errors
from .errors import RoleRequired


def app_services():
    """The app's own Services (its own token): installer, events, robots — never a person's action."""
    return current_app.extensions["b24"]


def services():
    """Inside a page's JSON call: the services acting as that person (their own portal token, set by
    ``page_session``); anywhere else the app's own. Handlers never choose a token themselves."""
    acting = g.get("b24_acting")
    return acting if acting is not None else app_services()


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


def page_session(resolve=None):
    """The page session of a JSON call (header ``X-B24App-Session`` only — never the URL), checked against
    a portal that is still installed; from here on ``services()`` acts as that person. Raises
    SessionError (401/403) — use ``session_error`` to answer it. ``resolve(store) -> PageSession``
    replaces the header for the one other bearer a request may carry: a one-time download token."""
    svc = app_services()
    sess = resolve(svc.store) if resolve is not None else \
        page_sessions.read(svc.store, request.headers.get(page_sessions.HEADER))
    portal = svc.store.portals.get(sess.member_id)
    if portal is None or portal.status not in ("installed", "needs_reinstall"):
        raise page_sessions.SessionError(403, "PORTAL_NOT_INSTALLED", "the app is not installed on this portal")
    g.b24_session = sess
    g.b24_acting = svc.acting_as(sess.member_id, sess.user_id) if sess.user_id and sess.kind != "install" else None
    return sess


def session_error(exc):
    return json_error(exc.status, exc.error, exc.description)


def frame_is_admin(ctx) -> bool:
    """``user.admin`` asked with the frame's own token (reference: the portal decides, never the page's
    IS_ADMIN): only an administrator's page session may read or change settings."""
    if "_is_admin" in (ctx.user or {}):          # asked together with user.current (verify.check_auth_id)
        return ctx.user["_is_admin"] is True
    status, body = _ask_portal(ctx.portal.client_endpoint, "user.admin", ctx.auth_id)
    return status == 200 and body.get("result") is True


def inline_json(value) -> str:
    """JSON for an inline ``<script>``: ``<``, ``>`` and ``&`` escaped, so portal text cannot close the tag."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")


def open_session(svc, ctx) -> tuple[page_sessions.PageSession, str]:
    """A verified frame → its page session (roles resolved, the person's tokens kept) and bearer id.
    ``user.admin`` is asked with the frame's own token: the portal decides, never the page's IS_ADMIN.
    The page it renders may be framed by that portal's own origin only (b24app/websafety.py)."""
    websafety.frame_ancestors(websafety.portal_origin(svc.settings, ctx.portal))
    sess = page_sessions.from_frame(svc, ctx, is_admin=frame_is_admin(ctx))
    return sess, page_sessions.issue(svc.store, sess)


def verified_frame():
    """This request's frame, verified with the portal; a refusal ends the request with the HTML error page
    of its status before anything else runs."""
    data, q = form(), query()
    try:
        return verify_frame(app_services(), data, q)
    except VerificationError as exc:
        abort(make_response(error_page(exc.status, exc.error, exc.description, q.get("LANG"))))


def frame_page(render, ctx=None):
    """The shape of a placement page: verify the frame (unless the caller has: ``ctx``), issue the page
    session its JSON calls carry, then ``render(services, ctx, lang, token)``."""
    svc = app_services()
    ctx = ctx or verified_frame()
    sess, token = open_session(svc, ctx)
    g.b24_session = sess
    return render(svc, ctx, lang_of(ctx.lang), token)


def current_session() -> page_sessions.PageSession | None:
    return g.get("b24_session")


def json_api(need: str | None = None, session=None):
    """A page's JSON endpoint: ``fn(sess, ...)`` behind the page session, acting as its person.

    ``need``: the action (b24app.roles.PERMISSIONS) the person's app role must allow, else 403 saying
    which role it takes, in their language. What ``fn`` raises is answered by the one table in
    handlers/errors.py; anything else is a bug and stays a 500. ``session``: see ``page_session(resolve)``."""
    def deco(fn):
        @wraps(fn)
        def wrapper(*a, **kw):
            try:
                sess = page_session(session)
            except page_sessions.SessionError as exc:
                return session_error(exc)
            if need is not None and not sess.can(need):
                return json_error(403, "ROLE_REQUIRED", app_roles.needed_text(need, sess.lang))
            try:
                return fn(sess, *a, **kw)
            except Exception as exc:
                known = errors.answer(exc, sess.lang)
                if known is None:
                    raise
                return json_error(*known)
        return wrapper
    return deco


def require(action: str):
    """For endpoints that check the role after reading the request (e.g. "own or team")."""
    sess = current_session()
    if sess is None or not sess.can(action):
        raise RoleRequired(action, sess.lang if sess else "en")
