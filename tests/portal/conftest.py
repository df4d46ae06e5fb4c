"""An installed portal in our store without the install handler: register an app with the sandbox
cloud, install it, walk the OAuth authorization-code flow over HTTP (reference §1.3) and upsert the
Portal row from what the OAuth server answered."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from b24app.config import Settings
from b24app.oauth import OAuthClient, TokenManager
from b24app.portal import PortalClient
from b24app.store import open_store
from b24app.store.interface import Portal
from b24app.throttle import Throttle

FAST = dict(backoff_base=0.01, backoff_cap=0.05)     # tests do not need real back-off pauses


def install(cloud, portal, store, scope=None) -> tuple[Settings, Portal]:
    app = cloud.register_app(handler_url="http://127.0.0.1:9/app", install_url="http://127.0.0.1:9/install",
                             app_url="http://127.0.0.1:9/oauth", scope=scope)
    portal.install_app(app.client_id, mode="frame")          # the POST to port 9 fails; the install exists
    portal.finish_install(app.client_id)
    settings = Settings(client_id=app.client_id, client_secret=app.client_secret, oauth_server=cloud.oauth_url,
                        allow_http_portals=True)
    r = requests.get(portal.url + "/oauth/authorize/", params={"client_id": app.client_id, "state": "t"},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    oauth = OAuthClient(settings)
    ts = oauth.exchange_code(code)
    info = oauth.app_info(ts.access_token)["install"]
    record = store.portals.upsert(Portal(
        member_id=ts.member_id, domain=info["domain"], client_endpoint=ts.client_endpoint,
        server_endpoint=ts.server_endpoint, access_token=ts.access_token, refresh_token=ts.refresh_token,
        expires_at=ts.expires_at, application_token=portal.installs[app.client_id].application_token,
        scope=ts.scope, status="installed", user_id=ts.user_id))
    return settings, record


class Env:
    """One installed portal plus a factory for independent clients (own store, own token manager)."""

    def __init__(self, cloud, portal, db_url):
        self.cloud, self.portal, self.db_url = cloud, portal, db_url
        self.store = open_store(db_url)
        self.settings, self.record = install(cloud, portal, self.store)
        self.member_id = self.record.member_id
        self.throttle = Throttle(burst=50, drain=50.0)
        self._stores = [self.store]

    def client(self, own_store: bool = False, **opts) -> PortalClient:
        store = self.store
        if own_store:
            store = open_store(self.db_url)
            self._stores.append(store)
        tokens = TokenManager(store, OAuthClient(self.settings), poll_seconds=0.01)
        return PortalClient(self.member_id, store, tokens, self.throttle, self.settings, **{**FAST, **opts})

    def close(self):
        for s in self._stores:
            s.close()


@pytest.fixture
def env(cloud, portal, sqlite_url):
    e = Env(cloud, portal, sqlite_url)
    yield e
    e.close()


@pytest.fixture
def env_any(cloud, portal, db_url):
    """The same on both storage backends (for the cross-worker refresh test)."""
    e = Env(cloud, portal, db_url)
    yield e
    e.close()


__all__ = ["install", "Env", "replace"]
