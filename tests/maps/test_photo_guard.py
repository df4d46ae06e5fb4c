"""SSRF through the "finish job" robot's photo links: a link must match the portal's own origin (scheme,
host and port) or one the operator lists in B24APP_PHOTO_HOSTS, and the outbound guard checks the address
on top — nothing is requested from a link that fails either rule. Robots run as the portal runs them."""
from __future__ import annotations

import http.server
import threading
from dataclasses import replace

import pytest

from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.maps.test_assign_sandbox import api, portal  # noqa: F401 - fixtures
from tests.maps.test_job_robots_sandbox import PNG, _a_job, _comments, _robot, photo_server  # noqa: F401


@pytest.fixture
def unlisted(tmp_path):
    """Another local server on 127.0.0.1 (another port): what an internal service looks like."""
    seen: list = []
    (tmp_path / "secret.png").write_bytes(PNG)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

        def do_GET(self):
            seen.append(self.path)
            super().do_GET()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", seen
    srv.shutdown()
    srv.server_close()


def test_photo_links_must_match_an_allowed_origin(api, photo_server, unlisted):
    job = _a_job(api)
    base, seen = unlisted
    portal_origin = api.portal.url                                  # http://127.0.0.1:<portal port>
    refused = [f"{base}/secret.png",                                # the portal's host, another port
               portal_origin.replace("http://", "https://") + "/door.png",   # the portal's origin, another scheme
               f"{portal_origin.replace('http://', 'gopher://')}/door.png"]
    for link in refused:
        sent, _ = _robot(api, "b24app_finish_job", job["id"], {"photos": [link]})
        assert "not a link to this portal's files" in sent["log_message"] or \
            "neither a file link" in sent["log_message"], (link, sent["log_message"])
        assert "with 1 photo(s)" not in sent["log_message"]
    assert seen == []

    # listed by the operator → fetched and attached
    services = api.live.services
    services.settings = replace(services.settings, photo_hosts=f"{services.settings.photo_hosts},{base}")
    sent, _ = _robot(api, "b24app_finish_job", job["id"], {"photos": [f"{base}/secret.png"]})
    assert "with 1 photo(s)" in sent["log_message"] and seen == ["/secret.png"], sent["log_message"]
    assert [f["name"] for f in _comments(api.portal, job["id"])[-1]["FILES"]] == ["secret.png"]


def test_the_outbound_guard_checks_a_listed_photo_host_too(api, photo_server):
    """Listed in B24APP_PHOTO_HOSTS but a loopback address the operator did not allow: refused, no request."""
    job = _a_job(api)
    services = api.live.services
    services.settings = replace(services.settings, outbound_allow="")
    sent, _ = _robot(api, "b24app_finish_job", job["id"], {"photos": [f"{photo_server}/door.png"]})
    assert "loopback" in sent["log_message"] and "B24APP_OUTBOUND_ALLOW" in sent["log_message"], sent
    assert photo_server.requests == []
    services.settings = replace(services.settings, outbound_allow="127.0.0.1/32")
    sent, _ = _robot(api, "b24app_finish_job", job["id"], {"photos": [f"{photo_server}/door.png"]})
    assert "with 1 photo(s)" in sent["log_message"] and photo_server.requests == ["/door.png"]
