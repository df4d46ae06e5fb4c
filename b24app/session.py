"""Page sessions: after a frame is verified with the portal, the page's own JSON calls carry a random
session id in the ``X-B24App-Session`` header (never in a URL) instead of re-posting AUTH_ID.

The session lives on our side (``page_sessions``, only a hash of the id stored) with an absolute
lifetime counted from the verified frame: it is never renewed, reopening the app gives a new one. It
names the portal, the person and their app roles; the person's own portal tokens are kept beside it
(``user_tokens``, sealed), so what they do runs as them (b24app/acting.py). An API call is answered only
for that portal, so one portal never sees another's data.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from . import roles as app_roles

HEADER = "X-B24App-Session"
MAX_AGE = 8 * 3600          # a working day inside one opened frame, from the moment it was verified


@dataclass(frozen=True)
class PageSession:
    member_id: str
    user_id: int | None
    lang: str
    placement: str = "DEFAULT"
    is_admin: bool = False
    roles: tuple[str, ...] = field(default=())
    kind: str = "frame"                     # frame | install | phone
    link_id: str | None = None

    def can(self, action: str) -> bool:
        return app_roles.allowed(self.roles, action)


class SessionError(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def issue(store, session: PageSession, max_age: int = MAX_AGE, clock=time.time) -> str:
    """A new bearer id for this session; the row keeps everything else."""
    sid = secrets.token_urlsafe(32)
    now = clock()
    store.page_sessions.put(sid, {
        "member_id": session.member_id, "user_id": session.user_id, "lang": session.lang,
        "placement": session.placement, "kind": session.kind, "is_admin": bool(session.is_admin),
        "roles": list(session.roles), "link_id": session.link_id, "created_at": now, "expires_at": now + max_age})
    return sid


def read(store, sid: str | None, clock=time.time) -> PageSession:
    if not sid:
        raise SessionError(401, "NO_SESSION", "open this page from Bitrix24: the session token is missing")
    if len(sid) > 200:
        raise SessionError(401, "BAD_SESSION", "the page session token is not valid")
    row = store.page_sessions.get(sid)
    if row is None:
        raise SessionError(401, "BAD_SESSION", "the page session token is not valid")
    if row["expires_at"] <= clock():
        raise SessionError(401, "SESSION_EXPIRED", "the page session expired: reopen the app in Bitrix24")
    if row["kind"] == "phone" and row.get("link_id"):
        link = store.phone_links.get_by_id(row["member_id"], row["link_id"])
        if link is None or link.get("revoked_at"):
            raise SessionError(401, "LINK_REVOKED", "this phone link was revoked: ask for a new one in Bitrix24")
    return PageSession(member_id=row["member_id"], user_id=row["user_id"], lang=row["lang"],
                       placement=row["placement"], is_admin=bool(row["is_admin"]), roles=tuple(row["roles"] or ()),
                       kind=row["kind"], link_id=row.get("link_id"))


def from_frame(services, ctx, *, is_admin: bool) -> PageSession:
    """FrameContext (b24app.verify) → the session a page carries: the person's roles resolved now, and
    the tokens the frame posted kept for acting as them."""
    if ctx.user_id is not None and ctx.auth_id:
        expires = int(time.time()) + int(ctx.auth_expires or 3600)
        services.store.user_tokens.put(ctx.member_id, ctx.user_id, ctx.auth_id, ctx.refresh_id or None, expires)
    departments = [int(d) for d in (ctx.user or {}).get("UF_DEPARTMENT") or [] if str(d).isdigit()]
    held = app_roles.resolve(app_roles.load(services.store.kv, ctx.member_id), ctx.user_id, departments, is_admin)
    return PageSession(member_id=ctx.member_id, user_id=ctx.user_id, lang=ctx.lang, placement=ctx.placement,
                       is_admin=app_roles.ADMIN in held, roles=held)
