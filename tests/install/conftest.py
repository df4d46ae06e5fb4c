"""An app installed (OAuth only) into an empty sandbox portal, with the manifest's scopes, so each test
runs the app.json installer itself and reads what the portal received from ``portal.log``."""
from __future__ import annotations

import pytest

from tests.app.conftest import CLIENT_ID, CLIENT_SECRET, LOOPBACK, start_server


@pytest.fixture
def app_env(cloud, portal, sqlite_url, monkeypatch):
    from b24app import install_flow
    from b24app.app import create_app
    from b24app.config import Settings
    from install.manifest import load

    server, holder, url = start_server(None)
    settings = Settings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, oauth_server=cloud.oauth_url,
                        public_url=url, database_url=sqlite_url, allow_http_portals=True, secret_key="test",
                        outbound_allow=LOOPBACK)
    app = create_app(settings)              # registers the hooks (domains.load) — so patch after it:
    monkeypatch.setattr(install_flow, "POST_INSTALL_HOOKS", [])     # the tests run the installer themselves
    holder["app"] = app
    services = app.extensions["b24"]
    services.client_options = {"backoff_base": 0.01, "backoff_cap": 0.05}
    cloud.register_app(CLIENT_ID, CLIENT_SECRET, handler_url=url + "/app", install_url=url + "/install",
                       scope=load().scopes)
    result = portal.install_app(CLIENT_ID, mode="event")
    assert result["status"] == 200, result
    assert services.store.portals.get(portal.member_id) is not None
    yield services
    server.shutdown()
    server.server_close()
    services.store.close()


def calls(portal, since: int = 0) -> list[str]:
    """Methods the portal executed (batch sub-calls included, the batch envelope itself not)."""
    return [r.method for r in portal.log[since:] if r.method != "batch" and r.status == 200]


def creates(portal, since: int = 0) -> list[str]:
    return [m for m in calls(portal, since) if m.endswith(".add") or m.endswith(".bind")]


@pytest.fixture
def installed(app_env, portal):
    from install.apply import install
    from install.registry import installed_ids

    report = install(app_env, portal.member_id)
    assert report.complete, report.errors
    return app_env, installed_ids(app_env.store, portal.member_id)


def robot(services, portal, code, document_id, props=None):
    """The portal POSTs the robot call to /robots/<code>; the worker answers it."""
    from b24app.inbox import Worker
    from b24sandbox.robots import find_call, run_robot
    from install.robots import register

    token = run_robot(portal, CLIENT_ID, code, document_id, props or {})
    call = find_call(portal, token)
    assert call.status == 200, call
    Worker(services, register({}), backoff=0.01, max_backoff=0.05).run_once()
    sent = [e for e in portal.db.bizproc_events if e["event_token"] == token]
    assert len(sent) == 1, portal.db.bizproc_events
    return sent[0], call
