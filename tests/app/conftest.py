"""``live_app``: the real Flask app served by werkzeug on a free port, so the sandbox portal POSTs to it
over HTTP exactly as Bitrix24 would (installer frame, ONAPPINSTALL, events, robots, frames).

The store URL comes from the ``store_url`` fixture (SQLite by default); a test module that must run on
both backends overrides it with ``db_url``."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

CLIENT_ID = "local.b24apptest0000000.00000001"
CLIENT_SECRET = "s3cr3t-for-tests-only-0123456789abcdef0123456789"
# The sandbox portal, the 1C sandbox and the tests' photo server listen on 127.0.0.1: the operator's
# allowance for them (B24APP_OUTBOUND_ALLOW), the way a LAN 1C is allowed in production.
LOOPBACK = "127.0.0.1/32"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *a, **k):
        pass


@dataclass
class LiveApp:
    url: str
    app: object
    services: object
    settings: object
    cloud: object
    client_id: str
    client_secret: str
    _servers: list = field(default_factory=list, repr=False)

    @property
    def store(self):
        return self.services.store

    def install(self, portal, mode: str = "frame", finish: bool = True, wait: bool = True) -> dict:
        """Install into a sandbox portal the way an admin does: the POST queues the app.json install job,
        a worker runs it (``wait``), then frame mode presses installFinish as the page does when done."""
        result = portal.install_app(self.client_id, mode=mode)
        if result.get("status") == 200 and wait:
            result["progress"] = self.wait_install(portal.member_id)
        if mode == "frame" and finish and result.get("status") == 200:
            portal.finish_install(self.client_id)
        return result

    def wait_install(self, member_id: str, timeout: float = 60.0) -> dict:
        """Run a worker (every registered handler) until the portal's install job is done or failed."""
        import time

        from b24app.inbox import Worker
        from b24app.install_flow import progress_of

        worker = Worker(self.services, backoff=0.01, max_backoff=0.05)
        deadline = time.monotonic() + timeout
        while True:
            cur = progress_of(self.store, member_id)
            if cur.get("state") not in ("queued", "running"):
                self._forget_install_jobs(member_id)
                return cur
            if time.monotonic() > deadline:
                raise AssertionError(f"install job still {cur.get('state')} after {timeout}s: {cur}")
            if worker.run_once() == 0:
                time.sleep(0.02)

    def _forget_install_jobs(self, member_id: str) -> None:
        """The finished job's own inbox row is removed, so the tests' inbox counts see only their events."""
        import sqlalchemy as sa

        from b24app.store.sql import t_inbox

        with self.store.engine.begin() as conn:
            conn.execute(sa.delete(t_inbox).where(t_inbox.c.member_id == member_id, t_inbox.c.kind == "app",
                                                  t_inbox.c.status == "done"))

    def worker(self, handlers=None):
        """A worker with exactly these handlers (see tests/registries.py), or the app's registry."""
        from b24app.inbox import Worker
        from tests.registries import registry_of

        registry = registry_of(handlers) if handlers is not None else None
        return Worker(self.services, registry, backoff=0.01, max_backoff=0.05)


def start_server(wsgi) -> tuple:
    """werkzeug threaded server on a free port in a daemon thread; returns (server, base_url)."""
    holder = {"app": wsgi}
    server = make_server("127.0.0.1", 0, lambda env, sr: holder["app"](env, sr), threaded=True,
                         request_handler=_Quiet)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, holder, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def store_url(sqlite_url):
    return sqlite_url


@pytest.fixture
def live_app(cloud, portal, store_url):
    from b24app.app import create_app
    from b24app.config import Settings
    from b24app.verify import FRAME_CACHE

    server, holder, url = start_server(None)
    settings = Settings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, oauth_server=cloud.oauth_url,
                        public_url=url, database_url=store_url, allow_http_portals=True,
                        secret_key="test", bx24_js_url=portal.url + "/api/v1/", frame_check_ttl=60,
                        outbound_allow=LOOPBACK)
    app = create_app(settings)
    holder["app"] = app
    cloud.register_app(CLIENT_ID, CLIENT_SECRET, handler_url=url + "/app", install_url=url + "/install")
    live = LiveApp(url=url, app=app, services=app.extensions["b24"], settings=settings, cloud=cloud,
                   client_id=CLIENT_ID, client_secret=CLIENT_SECRET, _servers=[server])
    live.services.clock = cloud.clock.now          # the portal's time is the app's "now" (booking rules)
    yield live
    server.shutdown()
    server.server_close()
    FRAME_CACHE._d.clear()
    live.services.store.close()


@pytest.fixture
def attacker():
    """A second HTTP server standing in for a spoofed DOMAIN: records every request it gets."""
    hits: list = []

    def app(env, start_response):
        hits.append((env["REQUEST_METHOD"], env.get("PATH_INFO"), env.get("QUERY_STRING")))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"result": {"ID": "1"}}']

    server, _holder, url = start_server(app)
    yield url, hits
    server.shutdown()
    server.server_close()
