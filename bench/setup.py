"""A sandbox portal with the app installed in our store, shared by the benchmarks (real HTTP, limit on)."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests

from b24app.config import Settings
from b24app.oauth import OAuthClient
from b24sandbox import SandboxCloud
from b24app.services import Services
from b24app.store import open_store
from b24app.store.interface import INSTALLED, Portal


@dataclass
class Bench:
    cloud: SandboxCloud
    portal: object
    settings: Settings
    services: Services
    member_id: str

    def close(self):
        self.services.store.close()
        self.cloud.shutdown()


def installed_portal(app_url: str = "http://127.0.0.1:9", database_url: str | None = None) -> Bench:
    """Install through the sandbox's OAuth authorization-code flow, then store the Portal row (in a fresh
    SQLite file unless ``database_url`` names another store)."""
    cloud = SandboxCloud()
    portal = cloud.add_portal(seed="empty")
    app = cloud.register_app(handler_url=f"{app_url}/app", install_url=f"{app_url}/install", app_url=f"{app_url}/oauth")
    portal.install_app(app.client_id, mode="frame")
    portal.finish_install(app.client_id)
    db = tempfile.mkdtemp(prefix="b24bench-")
    settings = Settings(client_id=app.client_id, client_secret=app.client_secret, oauth_server=cloud.oauth_url,
                        allow_http_portals=True, database_url=database_url or f"sqlite:///{db}/bench.db",
                        public_url=app_url)
    r = requests.get(portal.url + "/oauth/authorize/", params={"client_id": app.client_id}, allow_redirects=False)
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    ts = OAuthClient(settings).exchange_code(code)
    store = open_store(settings.database_url)
    store.portals.upsert(Portal(
        member_id=ts.member_id, domain=portal.domain, client_endpoint=ts.client_endpoint,
        server_endpoint=ts.server_endpoint, access_token=ts.access_token, refresh_token=ts.refresh_token,
        expires_at=ts.expires_at, application_token=portal.installs[app.client_id].application_token,
        scope=ts.scope, status=INSTALLED, user_id=ts.user_id))
    return Bench(cloud, portal, settings, Services(settings, store), ts.member_id)
