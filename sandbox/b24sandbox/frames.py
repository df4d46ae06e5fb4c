"""What the portal POSTs into an app frame (reference §1.2, src app.layout template): a hidden form
submitted into the iframe, query ``DOMAIN, PROTOCOL, LANG, APP_SID`` on the action URL and the body
``AUTH_ID, AUTH_EXPIRES, REFRESH_ID, SERVER_ENDPOINT, APPLICATION_TOKEN, APPLICATION_SCOPE, member_id,
status, PLACEMENT[, PLACEMENT_OPTIONS]`` with fresh tokens of the current user."""
from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode, urlsplit


def frame_data(portal, client_id: str, user_id: int = 1, lang: str = "ru", placement: str = "DEFAULT",
               options: dict | None = None) -> tuple[dict, dict]:
    inst = portal.installs[client_id]
    pair = portal.issue_tokens(client_id, user_id)
    query = {"DOMAIN": portal.domain, "PROTOCOL": "0", "LANG": lang, "APP_SID": secrets.token_hex(16)}
    form = {
        "AUTH_ID": pair.access.token,
        "AUTH_EXPIRES": "3600",
        "REFRESH_ID": pair.refresh.token,
        "SERVER_ENDPOINT": portal.cloud.server_endpoint,
        "APPLICATION_TOKEN": inst.application_token,
        "APPLICATION_SCOPE": ",".join(inst.scope),
        "member_id": portal.member_id,
        "status": inst.status,
        "PLACEMENT": placement,
    }
    if options:
        form["PLACEMENT_OPTIONS"] = json.dumps(options, ensure_ascii=False)
    return query, form


def with_query(url: str, query: dict) -> str:
    return url + ("&" if urlsplit(url).query else "?") + urlencode(query)
