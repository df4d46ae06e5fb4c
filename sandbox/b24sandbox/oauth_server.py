"""The OAuth server (oauth.bitrix.info stand-in) under ``/oauth-server/``, plus the portal's
``/oauth/authorize/`` step (reference §1.3). Token grants check client_id/secret, rotate refresh
tokens, and answer exactly the documented JSON; ``/oauth-server/rest/app.info`` is the trusted
install lookup b24pysdk uses."""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from .calls import TZ, time_block
from .tokens import ACCESS_TTL, Grant, OAuthError, TokenPair


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json",
                    headers={"Access-Control-Allow-Origin": "*"})


def _err(e: OAuthError) -> Response:
    return _json({"error": e.error, "error_description": e.description}, e.status)


def token_response(cloud, pair: TokenPair) -> dict:
    g = pair.access.grant
    portal = cloud.portal_by_member(g.member_id)
    inst = portal.installs.get(g.client_id) if portal else None
    return {
        "access_token": pair.access.token,
        "client_endpoint": portal.client_endpoint if portal else "",
        "domain": cloud.oauth_domain,
        "expires": int(pair.access.expires_at),
        "expires_in": ACCESS_TTL,
        "member_id": g.member_id,
        "refresh_token": pair.refresh.token,
        "scope": ",".join(g.scope),
        "server_endpoint": cloud.server_endpoint,
        "status": inst.status if inst else "L",
        "user_id": g.user_id,
    }


def token(portal, request: Request) -> Response:
    cloud = portal.cloud
    p = {**request.args.to_dict(), **request.form.to_dict()}
    try:
        app = cloud.apps.get(p.get("client_id", ""))
        if app is None or p.get("client_secret") != app.client_secret:
            raise OAuthError("invalid_client", "Invalid client id or secret", 401)
        grant_type = p.get("grant_type")
        if grant_type == "authorization_code":
            pair = cloud.tokens.exchange_code(p.get("code", ""), app.client_id)
        elif grant_type == "refresh_token":
            pair = cloud.tokens.use_refresh(p.get("refresh_token", ""), app.client_id)
        else:
            raise OAuthError("invalid_request", "Invalid grant_type", 400)
        target = cloud.portal_by_member(pair.access.grant.member_id)
        if target is None or app.client_id not in target.installs:
            raise OAuthError("invalid_client", "Application is not installed", 401)
    except OAuthError as e:
        return _err(e)
    return _json(token_response(cloud, pair))


def app_info(portal, request: Request) -> Response:
    cloud = portal.cloud
    p = {**request.args.to_dict(), **request.form.to_dict()}
    tok = p.get("auth") or p.get("access_token") or ""
    at = cloud.tokens.lookup(tok)
    if at is None or at.revoked:
        return _json({"error": "invalid_token", "error_description": "The access token provided is invalid."}, 401)
    now = cloud.clock.now()
    if at.expires_at <= now:
        return _json({"error": "expired_token", "error_description": "The access token provided has expired."}, 401)
    g = at.grant
    target = cloud.portal_by_member(g.member_id)
    inst = target.installs.get(g.client_id) if target else None
    if inst is None:
        return _json({"error": "invalid_client", "error_description": "Application is not installed"}, 401)
    version = int(inst.version) if str(inst.version).isdigit() else 1
    result = {
        "client_id": g.client_id,
        "scope": ",".join(g.scope),
        "expires": datetime.fromtimestamp(at.expires_at, TZ).isoformat(timespec="seconds"),
        "user_id": g.user_id,
        "install": {
            "installed": inst.installed, "version": version, "status": inst.status,
            "scope": ",".join(inst.scope), "domain": target.domain, "uri": target.url,
            "client_endpoint": target.client_endpoint, "member_id": target.member_id, "member_type": "PORTAL",
        },
    }
    return _json({"result": result, "time": time_block(portal, now, 0.0, None)})


def authorize(portal, request: Request) -> Response:
    """Step 1 of the full OAuth flow: redirect to the app's redirect URI with a 30-second code."""
    cloud = portal.cloud
    app = cloud.apps.get(request.args.get("client_id", ""))
    if app is None or app.client_id not in portal.installs:
        return Response("<h1>Application not found</h1>", status=404, mimetype="text/html")
    user_id = int(request.args.get("user", "1"))
    inst = portal.installs[app.client_id]
    code = cloud.tokens.issue_code(Grant(app.client_id, portal.member_id, user_id, tuple(inst.scope)))
    target = app.app_url or app.handler_url
    query = {"code": code, "state": request.args.get("state", ""), "domain": portal.domain,
             "member_id": portal.member_id, "scope": ",".join(inst.scope), "server_domain": cloud.oauth_domain}
    return redirect(target + ("&" if "?" in target else "?") + urlencode(query), code=302)
