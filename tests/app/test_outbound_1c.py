"""SSRF through the 1C base URL: an administrator's URL pointing at loopback, the LAN or the metadata
service is refused with a clear 400 before anything is stored or sent (settings, check) and the sync
refuses it too; the operator's B24APP_OUTBOUND_ALLOW opens it; a redirect is not followed; what a
server answered never comes back in ``problems``."""
from __future__ import annotations

import http.server
import threading
from dataclasses import replace

import pytest
import requests

from sync_1c import connection, sync
from tests.app.test_main_page_api import _hdr, installed, onec  # noqa: F401 - fixtures
from tests.platform.test_outbound import connects  # noqa: F401 - fixture


def _allow(live_app, allow: str) -> None:
    svc = live_app.services
    svc.settings = replace(svc.settings, outbound_allow=allow)


def _good(onec, **over):
    return {"base_url": onec.url, "username": onec.username, "password": onec.password, "profile": "ut11_5",
            **over}


def test_loopback_private_and_metadata_urls_are_refused_before_anything(installed, onec, connects):
    live_app, portal = installed
    _allow(live_app, "")                                       # the operator allows nothing extra
    url, admin = live_app.url + "/api/1c/settings", _hdr(live_app, portal.member_id)
    before = len(onec.log)
    for base, why in [(onec.url, "loopback"),
                      (onec.url.replace("127.0.0.1", "localhost"), "loopback"),
                      ("http://10.20.30.40:8080/base/odata/standard.odata", "private"),
                      ("http://169.254.169.254/latest/meta-data/", "link-local")]:
        r = requests.post(url, headers=admin, json=_good(onec, base_url=base), timeout=30)
        assert r.status_code == 400, (base, r.text)
        assert r.json()["error"] == "BAD_SETTINGS" and why in r.json()["error_description"], r.text
        assert "B24APP_OUTBOUND_ALLOW" in r.json()["error_description"]
    assert live_app.store.kv.get(portal.member_id, connection.KV_KEY) is None
    assert len(onec.log) == before
    assert not [a for a in connects if a[0] in ("10.20.30.40", "169.254.169.254")]   # never even connected

    # the operator lists it: the same URLs work (by address, or by host name)
    _allow(live_app, "127.0.0.1/32")
    r = requests.post(url, headers=admin, json=_good(onec), timeout=30)
    assert r.status_code == 200 and r.json()["problems"] == [], r.text
    _allow(live_app, "localhost")
    r = requests.post(url, headers=admin, json=_good(onec, base_url=onec.url.replace("127.0.0.1", "localhost")),
                      timeout=30)
    assert r.status_code == 200 and r.json()["problems"] == [], r.text


def test_a_stored_url_the_operator_no_longer_allows(installed, onec):
    """Saved while allowed, then the allowance is gone: check answers 400, the sync sends nothing."""
    live_app, portal = installed
    connection.save(live_app.store.kv, portal.member_id, base_url=onec.url, username=onec.username,
                    password=onec.password, retries=0, backoff=0, timeout=5)
    _allow(live_app, "")
    before = len(onec.log)
    r = requests.post(live_app.url + "/api/1c/check", headers=_hdr(live_app, portal.member_id), timeout=30)
    assert r.status_code == 400 and r.json()["error"] == "URL_NOT_ALLOWED", r.text
    assert "loopback" in r.json()["error_description"]
    sync._checked.clear()
    sync._readers.clear()
    with pytest.raises(sync.SyncProblem) as err:
        sync.run(live_app.services, portal.member_id)
    assert "not allowed" in str(err.value)
    assert "not allowed" in sync.LedgerStore(live_app.store.engine, portal.member_id).cursor()["last_error"]
    assert len(onec.log) == before


@pytest.fixture
def redirector(onec):
    """A web server in front of 1C answering every request with a redirect to the real publication."""
    hits: list = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", onec.url + "/$metadata")
            self.send_header("Content-Type", "text/html")
            body = b"<html><title>secret intranet page</title>moved</html>"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/odata/standard.odata", hits
    srv.shutdown()
    srv.server_close()


def test_a_redirect_is_not_followed_and_no_answer_text_comes_back(installed, onec, redirector):
    live_app, portal = installed
    base, hits = redirector
    admin = _hdr(live_app, portal.member_id)
    before = len(onec.log)
    r = requests.post(live_app.url + "/api/1c/settings", headers=admin, json=_good(onec, base_url=base), timeout=30)
    assert r.status_code == 200 and hits and len(onec.log) == before, r.text      # 1C itself never asked
    (problem,) = r.json()["problems"]
    assert "redirect" in problem and "secret" not in problem and "intranet" not in problem

    # a login page with HTTP 200 in front of 1C: the problem says so in our words, not the page's
    requests.post(live_app.url + "/api/1c/settings", headers=admin, json=_good(onec), timeout=30)
    onec.faults.html_login_page = True
    r = requests.post(live_app.url + "/api/1c/check", headers=admin, timeout=30)
    onec.faults.html_login_page = False
    assert r.status_code == 200 and r.json()["ok"] is False
    assert "not EDMX" in r.json()["problems"][0] and "вход" not in r.text and "Предприятие" not in r.text
