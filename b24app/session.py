"""Signed page sessions: after a frame is verified with the portal, the page's own JSON calls carry a
short-lived token instead of re-posting AUTH_ID (which would cost the portal a call each time).

The token is signed with ``B24APP_SECRET_KEY`` and names the portal and the user it was issued for; an
API call is answered only for that portal, so one portal never sees another's data."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

HEADER = "X-B24App-Session"
MAX_AGE = 8 * 3600          # a working day inside one opened frame


@dataclass(frozen=True)
class PageSession:
    member_id: str
    user_id: int | None
    lang: str
    placement: str = "DEFAULT"
    is_admin: bool = False


class SessionError(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="b24app.page-session")


def issue(secret_key: str, session: PageSession) -> str:
    return _serializer(secret_key).dumps(asdict(session))


def read(secret_key: str, token: str | None, max_age: int = MAX_AGE) -> PageSession:
    if not token:
        raise SessionError(401, "NO_SESSION", "open this page from Bitrix24: the session token is missing")
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except SignatureExpired:
        raise SessionError(401, "SESSION_EXPIRED", "the page session expired: reopen the app in Bitrix24")
    except BadSignature:
        raise SessionError(401, "BAD_SESSION", "the page session token is not valid")
    return PageSession(**data)


def from_frame(ctx, is_admin: bool = False) -> PageSession:
    """FrameContext (b24app.verify) → the session a page carries."""
    return PageSession(member_id=ctx.member_id, user_id=ctx.user_id, lang=ctx.lang,
                       placement=ctx.placement, is_admin=is_admin)
