"""Who is calling the REST endpoint: an OAuth access token (``auth``/``access_token`` param or
``Authorization: Bearer``) or the incoming-webhook path ``/rest/<user_id>/<code>/`` (reference §1.3, §7.7).
Every failure is the portal's own error code and HTTP status (§7.6)."""
from __future__ import annotations

from .registry import METHODS, B24Fault, CallContext

WRONG_AUTH = B24Fault("NO_AUTH_FOUND", "Wrong authorization data", 401)


def all_scopes() -> frozenset[str]:
    from .cloud import DEFAULT_SCOPE

    return frozenset(DEFAULT_SCOPE) | frozenset(s.scope for s in METHODS.values() if s.scope)


def take_token(params: dict, headers) -> str | None:
    """Pop the token out of the params (it must not reach the method) or read the Bearer header."""
    token = None
    for key in ("auth", "access_token"):
        value = params.pop(key, None)
        if isinstance(value, str) and value and token is None:
            token = value
    if token is None:
        header = headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip() or None
    return token


def webhook_context(portal, user_id: str, code: str) -> CallContext:
    if code != portal.webhook_code or user_id != str(portal.webhook_user_id):
        raise B24Fault("INVALID_CREDENTIALS", "Invalid request credentials", 401)
    uid = int(user_id)
    scope = frozenset(portal.settings.webhook_scope) if portal.settings.webhook_scope else all_scopes()
    return CallContext(portal=portal, auth_kind="webhook", user_id=uid, is_admin=portal.is_admin(uid),
                       client_id=None, scope=scope)


def oauth_context(portal, token: str | None) -> CallContext:
    if not token:
        raise WRONG_AUTH
    at = portal.cloud.tokens.lookup(token)
    if at is None or at.grant.member_id != portal.member_id:
        raise B24Fault("invalid_token", "The access token provided is invalid.", 401)
    if at.grant.client_id not in portal.installs:
        raise B24Fault("APPLICATION_NOT_FOUND", "Application not found", 401)
    if at.revoked:
        raise B24Fault("invalid_token", "The access token provided is invalid.", 401)
    if at.expires_at <= portal.clock.now():
        raise B24Fault("expired_token", "The access token provided has expired.", 401)
    uid = at.grant.user_id
    return CallContext(portal=portal, auth_kind="oauth", user_id=uid, is_admin=portal.is_admin(uid),
                       client_id=at.grant.client_id, scope=frozenset(at.grant.scope), access_token=token)
