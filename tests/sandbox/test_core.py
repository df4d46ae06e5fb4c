"""The sandbox portal core over real HTTP: envelope, auth errors and their statuses, OAuth server,
limits, faults, webhooks, and the two Python clients."""
from __future__ import annotations

import re

import pytest
import requests

from b24sandbox.registry import method


CID, SECRET = "local.5f3a9c.12345678", "s3cr3t"


@pytest.fixture
def app(cloud, portal, receiver):
    """An app installed (frame mode) and finished on the portal; tokens of admin user 1."""
    cloud.register_app(CID, SECRET, handler_url=receiver.url + "/app", install_url=receiver.url + "/install",
                       scope=["crm", "placement", "user"])
    portal.install_app(CID)
    portal.finish_install(CID)
    return portal.issue_tokens(CID, 1)


def rest(portal, name, token=None, **params):
    if token is not None:
        params["auth"] = token
    return requests.post(f"{portal.url}/rest/{name}.json", json=params, timeout=10)


@method("sandbox.probe.telephony", scope="telephony")
def _probe(ctx, params):           # a method in a scope the test app was not granted
    return True


# --- envelope -------------------------------------------------------------------------------------
def test_envelope_has_result_and_time_block(portal, app):
    r = rest(portal, "server.time", app.access.token)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"result", "time"}
    assert set(body["time"]) == {"start", "finish", "duration", "processing", "date_start", "date_finish",
                                 "operating_reset_at", "operating"}
    assert body["time"]["date_start"].endswith("+03:00")
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_params_from_query_form_json_and_bearer(portal, app, receiver):
    tok = app.access.token
    r = requests.get(f"{portal.url}/rest/event.bind", params={"auth": tok, "event": "ONCRMDEALADD",
                                                              "handler": receiver.url + "/a"})
    assert r.json() == {"result": True, "time": r.json()["time"]}
    r = requests.post(f"{portal.url}/rest/event.bind.json", data={"access_token": tok, "EVENT": "onCrmDealUpdate",
                                                                  "HANDLER": receiver.url + "/a"})
    assert r.json()["result"] is True
    r = requests.post(f"{portal.url}/rest/Event.Get", headers={"Authorization": f"Bearer {tok}"})
    assert sorted(h["event"] for h in r.json()["result"]) == ["ONCRMDEALADD", "ONCRMDEALUPDATE"]


# --- errors ---------------------------------------------------------------------------------------
def test_error_statuses(cloud, portal, app):
    def err(r):
        return r.status_code, r.json()["error"]

    assert err(rest(portal, "server.time")) == (401, "NO_AUTH_FOUND")
    assert err(rest(portal, "server.time", "nonsense")) == (401, "invalid_token")
    assert err(rest(portal, "no.such.method", app.access.token)) == (404, "ERROR_METHOD_NOT_FOUND")
    assert err(rest(portal, "sandbox.probe.telephony", app.access.token)) == (401, "insufficient_scope")
    user2 = portal.issue_tokens(CID, 2)
    assert err(rest(portal, "event.offline.get", user2.access.token)) == (403, "ACCESS_DENIED")
    assert err(requests.post(portal.webhook_url + "event.bind", json={"event": "ONCRMDEALADD"})) == \
        (403, "WRONG_AUTH_TYPE")
    assert err(requests.post(portal.webhook_url.replace(portal.webhook_code, "wrong") + "server.time")) == \
        (401, "INVALID_CREDENTIALS")
    assert err(requests.post(portal.webhook_url + "app.info")) == (400, "ACCESS_DENIED")
    r = rest(portal, "event.bind", app.access.token, event="ONNOSUCHEVENT", handler="http://a.example/h")
    assert err(r) == (400, "ERROR_EVENT_NOT_FOUND")
    assert err(rest(portal, "event.bind", app.access.token, event="ONTASKADD", handler="http://a.example/h")) == \
        (400, "ERROR_EVENT_NOT_FOUND")                       # outside the app's scopes
    assert rest(portal, "event.bind", app.access.token, event="ONCRMDEALADD", handler="http://a.example/h").ok
    r = rest(portal, "event.bind", app.access.token, event="ONCRMDEALADD", handler="http://a.example/h")
    assert err(r) == (400, "ERROR_CORE")
    assert r.json()["error_description"] == "Unable to set event handler: Handler already binded"
    assert rest(portal, "event.unbind", app.access.token, event="ONCRMDEALADD",
                handler="http://a.example/h").json()["result"] == {"count": 1}
    cloud.clock.advance(3601)
    assert err(rest(portal, "server.time", app.access.token)) == (401, "expired_token")


def test_uninstalled_app_gets_application_not_found(portal, app):
    portal.uninstall_app(CID)
    r = rest(portal, "server.time", app.access.token)
    assert (r.status_code, r.json()["error"]) == (401, "APPLICATION_NOT_FOUND")


def test_portal_app_info_toggles_installed(cloud, portal, receiver):
    cloud.register_app(CID, SECRET, handler_url=receiver.url + "/app", install_url=receiver.url + "/install")
    portal.install_app(CID, lang="en")
    tok = portal.issue_tokens(CID).access.token
    info = rest(portal, "app.info", tok).json()["result"]
    assert info["INSTALLED"] is False and info["STATUS"] == "L" and info["LANGUAGE_ID"] == "en"
    portal.finish_install(CID)
    assert rest(portal, "app.info", tok).json()["result"]["INSTALLED"] is True


# --- OAuth server ---------------------------------------------------------------------------------
def oauth(cloud, **params):
    return requests.get(cloud.oauth_url + "/oauth/token/", params=params, timeout=10)


def test_refresh_rotates_and_old_token_is_invalid_grant(cloud, portal, app):
    r = oauth(cloud, grant_type="refresh_token", client_id=CID, client_secret=SECRET,
              refresh_token=app.refresh.token)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "client_endpoint", "domain", "expires", "expires_in", "member_id",
                         "refresh_token", "scope", "server_endpoint", "status", "user_id"}
    assert body["client_endpoint"] == portal.url + "/rest/" and body["member_id"] == portal.member_id
    assert body["domain"] == portal.domain and body["expires_in"] == 3600 and body["scope"] == "crm,placement,user"
    assert rest(portal, "server.time", body["access_token"]).status_code == 200
    again = oauth(cloud, grant_type="refresh_token", client_id=CID, client_secret=SECRET,
                  refresh_token=app.refresh.token)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert portal.refresh_count == 1
    bad = oauth(cloud, grant_type="refresh_token", client_id=CID, client_secret="nope",
                refresh_token=body["refresh_token"])
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
    portal.revoke_tokens(CID)
    gone = oauth(cloud, grant_type="refresh_token", client_id=CID, client_secret=SECRET,
                 refresh_token=body["refresh_token"])
    assert (gone.status_code, gone.json()["error"]) == (400, "invalid_grant")


def test_authorization_code_flow_and_oauth_app_info(cloud, portal, app):
    r = requests.get(portal.url + "/oauth/authorize/", params={"client_id": CID, "state": "xyz"},
                     allow_redirects=False)
    assert r.status_code == 302
    from urllib.parse import parse_qs, urlsplit
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    assert q["state"] == "xyz" and q["member_id"] == portal.member_id and q["domain"] == portal.domain
    tok = oauth(cloud, grant_type="authorization_code", client_id=CID, client_secret=SECRET, code=q["code"]).json()
    info = requests.get(cloud.oauth_url + "/rest/app.info", params={"auth": tok["access_token"]}).json()["result"]
    assert info["client_id"] == CID and info["user_id"] == 1
    assert info["install"]["member_id"] == portal.member_id and info["install"]["installed"] is True
    assert info["install"]["client_endpoint"] == portal.url + "/rest/"


# --- limits and faults ----------------------------------------------------------------------------
def test_leaky_bucket_rejects_before_executing_and_drains_with_clock(cloud, portal, app):
    for _ in range(50):
        assert rest(portal, "server.time", app.access.token).status_code == 200
    r = rest(portal, "event.bind", app.access.token, event="ONCRMDEALADD", handler="http://a.example/h")
    assert (r.status_code, r.json()) == (503, {"error": "QUERY_LIMIT_EXCEEDED",
                                               "error_description": "Too many requests"})
    assert portal.events.bindings == []                    # nothing executed
    cloud.clock.advance(1)                                 # 2 req/s drain
    assert rest(portal, "server.time", app.access.token).status_code == 200
    assert rest(portal, "server.time", app.access.token).status_code == 200
    assert rest(portal, "server.time", app.access.token).status_code == 503
    portal.settings.rate_limit = False
    assert rest(portal, "server.time", app.access.token).status_code == 200


def test_enterprise_plan_has_bigger_bucket(cloud):
    p = cloud.add_portal(plan="enterprise")
    assert (p.settings.drain, p.settings.burst) == (5.0, 250)


def test_operating_time_limit_per_method(cloud, portal, app):
    portal.faults.method_cost["server.time"] = 500.0
    assert rest(portal, "server.time", app.access.token).status_code == 200
    r = rest(portal, "server.time", app.access.token)
    assert (r.status_code, r.json()["error"]) == (429, "OPERATION_TIME_LIMIT")
    ok = rest(portal, "event.get", app.access.token)
    assert ok.status_code == 200                           # other methods unaffected
    cloud.clock.advance(601)
    assert rest(portal, "server.time", app.access.token).status_code == 200


def test_storm_answers_503_without_executing(portal, app):
    portal.faults.storm(3)
    for _ in range(3):
        r = rest(portal, "event.bind", app.access.token, event="ONCRMDEALADD", handler="http://a.example/h")
        assert (r.status_code, r.json()["error"]) == (503, "QUERY_LIMIT_EXCEEDED")
    assert portal.events.bindings == []
    assert rest(portal, "event.bind", app.access.token, event="ONCRMDEALADD", handler="http://a.example/h").ok


def test_dropped_connection_after_executing(portal, app):
    portal.faults.drop_connection(1)
    with pytest.raises(requests.ConnectionError):
        rest(portal, "event.bind", app.access.token, event="ONCRMDEALADD", handler="http://a.example/h")
    assert len(portal.events.bindings) == 1                # it ran


def test_latency_and_request_log(portal, app):
    portal.faults.latency = 0.05
    rest(portal, "server.time", app.access.token)
    rec = portal.log[-1]
    assert (rec.method, rec.auth_kind, rec.client_id, rec.status, rec.error) == ("server.time", "oauth", CID, 200, None)
    requests.post(portal.webhook_url + "event.bind")
    assert (portal.log[-1].auth_kind, portal.log[-1].error) == ("webhook", "WRONG_AUTH_TYPE")


def test_control_api(portal, app):
    requests.post(portal.url + "/_sandbox/faults", json={"storm": 1})
    assert rest(portal, "server.time", app.access.token).status_code == 503
    now = requests.get(portal.url + "/_sandbox/state").json()["clock"]
    assert requests.post(portal.url + "/_sandbox/clock/advance", json={"seconds": 10}).json()["now"] == now + 10
    state = requests.get(portal.url + "/_sandbox/state").json()
    assert state["apps"][CID]["installed"] is True and state["member_id"] == portal.member_id
    assert requests.get(portal.url + "/_sandbox/log").json()["requests"]


def _lan_address() -> str | None:
    """This machine's address on a non-loopback interface (a UDP connect sends nothing)."""
    import ipaddress
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.connect(("192.0.2.1", 9))
        addr = sock.getsockname()[0]
    except OSError:
        return None
    finally:
        sock.close()
    return None if ipaddress.ip_address(addr).is_loopback else addr


def test_control_api_answers_this_machine_or_the_control_token(cloud):
    """A sandbox listening on every interface: REST and pages answer callers from the network, the control
    API (install, tokens, clock) only loopback callers or the token printed at start-up; a cross-origin
    browser call is refused even from loopback."""
    addr = _lan_address()
    if addr is None:
        pytest.skip("no non-loopback interface to call from")
    portal = cloud.add_portal(seed="empty", host="0.0.0.0")
    remote, local = f"http://{addr}:{portal.port}", f"http://127.0.0.1:{portal.port}"
    now = portal.clock.now()
    r = requests.get(remote + "/_sandbox/state", timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "ACCESS_DENIED"
    assert requests.post(remote + "/_sandbox/clock/advance", json={"seconds": 3600}, timeout=10).status_code == 403
    assert requests.post(remote + "/_sandbox/apps", json={"client_id": "local.evil.1", "handler_url": "x"},
                         timeout=10).status_code == 403
    bad = {"X-Sandbox-Control-Token": "guess"}
    assert requests.get(remote + "/_sandbox/state", headers=bad, timeout=10).status_code == 403
    assert portal.clock.now() == now and "local.evil.1" not in cloud.apps
    assert requests.get(remote + "/", timeout=10).status_code == 200                  # the portal page
    assert requests.post(remote + "/rest/server.time.json", timeout=10).status_code == 401   # REST: its own auth
    token = {"X-Sandbox-Control-Token": portal.control_token}
    r = requests.get(remote + "/_sandbox/state", headers=token, timeout=10)
    assert r.status_code == 200 and r.json()["member_id"] == portal.member_id
    assert requests.get(local + "/_sandbox/state", timeout=10).status_code == 200
    evil = requests.post(local + "/_sandbox/clock/advance", json={"seconds": 3600}, timeout=10,
                         headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and portal.clock.now() == now
    assert "Access-Control-Allow-Origin" not in evil.headers
    same = requests.post(local + "/_sandbox/clock/advance", json={"seconds": 1}, timeout=10, headers={"Origin": local})
    assert same.status_code == 200 and portal.clock.now() == now + 1


# --- the two Python clients through the webhook ---------------------------------------------------
def test_fast_bitrix24_through_webhook(portal):
    from fast_bitrix24 import Bitrix

    from concurrent.futures import ThreadPoolExecutor

    # fast-bitrix24's sync wrapper returns a Task when the thread already runs an event loop (the
    # session's Playwright browser does), so it gets a thread of its own, as an integrator's script would.
    b = Bitrix(portal.webhook_url, ssl=False, verbose=False)
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(b.call, "server.time", raw=True).result()
    assert re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$", answer["result"])
    assert portal.log[-1].auth_kind == "webhook"


def test_b24pysdk_through_webhook(portal, monkeypatch):
    from b24pysdk import Client
    from b24pysdk.api.callers.call_method import _MethodCaller
    from b24pysdk.credentials import BitrixWebhook

    # b24pysdk always builds https:// URLs; the sandbox is plain http.
    monkeypatch.setattr(_MethodCaller, "_base_url", property(lambda self: f"http://{self._domain}/rest"))
    client = Client(BitrixWebhook(domain=portal.domain, webhook_token=f"1/{portal.webhook_code}"))
    assert client.server.time().result
    assert portal.log[-1].method == "server.time" and portal.log[-1].auth_kind == "webhook"
