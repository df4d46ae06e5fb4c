"""Page sessions for tests, as a verified frame leaves them (handlers.common.open_session): the person's
real portal tokens — issued by the sandbox portal's OAuth server for that user — kept in the app's store,
and a random bearer id in the app's page_sessions table.

Roles: the session's own ``roles`` when given; else ``is_admin=True`` is an app administrator and
``is_admin=False`` a staff member holding every role short of administrator (dispatcher, service head,
sales manager) — what any session could do before app roles existed. Tests of a role's limits pass
``roles`` explicitly or open a real frame."""
from __future__ import annotations

import time

from b24app import roles as app_roles
from b24app import session as page_sessions


STAFF = (app_roles.DISPATCHER, app_roles.SERVICE_HEAD, app_roles.SALES_MANAGER)


def issue(store, cloud, client_id: str, sess: page_sessions.PageSession) -> str:
    portal = cloud.portal_by_member(sess.member_id) if cloud is not None else None
    if portal is not None and sess.user_id and client_id in portal.installs:
        pair = portal.issue_tokens(client_id, int(sess.user_id))
        store.user_tokens.put(sess.member_id, int(sess.user_id), pair.access.token, pair.refresh.token,
                              int(time.time()) + 3600)
    held = sess.roles or ((app_roles.ADMIN,) if sess.is_admin else STAFF)
    full = page_sessions.PageSession(member_id=sess.member_id, user_id=sess.user_id, lang=sess.lang,
                                     placement=sess.placement, is_admin=app_roles.ADMIN in held, roles=held,
                                     kind=sess.kind, link_id=sess.link_id)
    return page_sessions.issue(store, full)


def for_live(live, sess: page_sessions.PageSession) -> str:
    """The same for a LiveApp-like object (``.store``/``.services``, ``.cloud``, ``.client_id``)."""
    store = live.store if hasattr(live, "store") else live.services.store
    return issue(store, getattr(live, "cloud", None), getattr(live, "client_id", ""), sess)


def phone_link(live, token: str) -> str:
    """The phone link a person makes for himself from his page (``POST /api/visits/phone-link``)."""
    import requests

    r = requests.post(live.url + "/api/visits/phone-link", headers={page_sessions.HEADER: token}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["url"]
