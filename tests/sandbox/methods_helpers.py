"""Shared helpers of the domain-method tests: an installed app with every scope, REST calls over HTTP."""
from __future__ import annotations

import requests

CID, SECRET = "local.dom0000.87654321", "s3cr3t"
SCOPES = ["crm", "placement", "user", "bizproc", "calendar", "task", "im", "userfieldconfig", "department"]


def install(cloud, portal, receiver_url: str, scope=None) -> str:
    cloud.register_app(CID, SECRET, handler_url=receiver_url + "/app", install_url=receiver_url + "/install",
                       scope=scope or SCOPES)
    portal.install_app(CID)
    portal.finish_install(CID)
    portal.settings.rate_limit = False
    return portal.issue_tokens(CID, 1).access.token


def rest(portal, _name, token=None, **params):
    """POST JSON; returns (status, body)."""
    if token is not None:
        params["auth"] = token
    r = requests.post(f"{portal.url}/rest/{_name}.json", json=params, timeout=10)
    return r.status_code, r.json()


def ok(portal, _name, token=None, **params):
    status, body = rest(portal, _name, token, **params)
    assert status == 200, (_name, status, body)
    return body
