"""Security headers and no bearer secret in any URL or log line, over HTTP against the installed app on the
sandbox portal (issue 11, point 6).

* Every answer: ``Referrer-Policy: no-referrer``, ``X-Content-Type-Options: nosniff``. Frame pages (/app,
  /install, /placements/*) may be framed by the portal's own origin only, the phone page by us only,
  JSON and error pages by nobody.
* The app is driven through its pages — install, every frame page, their JSON calls, a phone link opened,
  a one-time CSV download, a client that wrongly puts the session in the query — with werkzeug's request
  log on, and no page session id, phone link secret, download token, AUTH_ID, REFRESH_ID or access /
  refresh token appears in any log line. The phone link IS a URL by nature (so is a one-time download):
  the access log keeps the request but masks that path segment (``/m/***``), and the values of
  ``session=``/``auth=``-like query keys.
* No template or page script builds a URL with ``session=``.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
import requests

from b24app import session as page_sessions
from b24app import websafety
from b24sandbox.frames import frame_data, with_query

ROOT = Path(__file__).resolve().parents[2]
CONFIG = re.compile(r'<script id="b24app-config" type="application/json">(.*?)</script>', re.S)
FRAME_PAGES = ("/app", "/placements/orders-map", "/placements/company-visits", "/placements/visit-calendar",
               "/placements/dispatcher", "/placements/dashboards")


@pytest.fixture
def installed(live_app, portal):
    res = live_app.install(portal)
    assert res["progress"]["state"] == "done", res
    return live_app, portal


def _frame(live, portal, path: str, user_id: int = 1, **kw):
    q, f = frame_data(portal, live.client_id, user_id=user_id, **kw)
    return requests.post(with_query(live.url + path, q), data=f, timeout=30), q, f


def _session(html: str) -> str:
    return json.loads(CONFIG.search(html).group(1))["session"]


def _csp(r) -> str:
    """The frame-ancestors directive: HTML answers carry script-src & co. after it (tested below)."""
    policy = r.headers.get("Content-Security-Policy", "")
    return next((d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors")), "")


def _common(r) -> None:
    assert r.headers.get("Referrer-Policy") == "no-referrer", r.url
    assert r.headers.get("X-Content-Type-Options") == "nosniff", r.url


def test_frame_pages_are_framed_by_their_portal_only_the_phone_page_by_us_the_rest_by_nobody(installed):
    live, portal = installed
    origin = f"http://{portal.domain}"                         # the sandbox portal is http (allowed for tests)
    for path in FRAME_PAGES:
        r, _, _ = _frame(live, portal, path, options={"ID": 1} if path.endswith("company-visits") else None)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), (path, r.text[:200])
        assert _csp(r) == f"frame-ancestors {origin}", path
        _common(r)
    token = _session(_frame(live, portal, "/app")[0].text)
    # the installer frame (a re-install POST of the same admin)
    q, f = frame_data(portal, live.client_id, user_id=portal.installs[live.client_id].user_id)
    r = requests.post(with_query(live.url + "/install", q), data=f, timeout=30)
    assert r.status_code == 200 and _csp(r) == f"frame-ancestors {origin}"
    _common(r)
    # a frame that fails verification: an error page, framed by nobody
    q, f = frame_data(portal, live.client_id)
    r = requests.post(with_query(live.url + "/app", q), data={**f, "AUTH_ID": "forged"}, timeout=30)
    assert r.status_code in (401, 403) and _csp(r) == "frame-ancestors 'none'"
    _common(r)
    # the phone page: our own origin only; a bad link is an error page
    link = requests.post(live.url + "/api/visits/phone-link", headers={page_sessions.HEADER: token},
                         timeout=30).json()["url"]
    r = requests.get(link, timeout=30)
    assert r.status_code == 200 and _csp(r) == "frame-ancestors 'self'"
    _common(r)
    r = requests.get(live.url + "/m/" + "x" * 43, timeout=30)
    assert r.status_code == 401 and _csp(r) == "frame-ancestors 'none'"
    # JSON (answers and refusals), health, static files
    for r in (requests.get(live.url + "/api/visits/month", headers={page_sessions.HEADER: token}, timeout=30),
              requests.get(live.url + "/api/visits/month", timeout=30), requests.get(live.url + "/healthz", timeout=30),
              requests.get(live.url + "/static/visits/visits.js", timeout=30),
              requests.get(live.url + "/no/such/page", timeout=30)):
        assert _csp(r) == "frame-ancestors 'none'", (r.url, r.status_code)
        _common(r)


def test_portal_origin_is_https_unless_http_portals_are_allowed_and_never_odd_text():
    from types import SimpleNamespace as NS

    from b24app.config import Settings

    strict, lax = Settings(allow_http_portals=False), Settings(allow_http_portals=True)
    cloud = NS(domain="Acme.Bitrix24.ru", client_endpoint="https://acme.bitrix24.ru/rest/")
    sandbox = NS(domain="127.0.0.1:5001", client_endpoint="http://127.0.0.1:5001/rest/")
    assert websafety.portal_origin(strict, cloud) == "https://acme.bitrix24.ru"
    assert websafety.portal_origin(lax, cloud) == "https://acme.bitrix24.ru"
    assert websafety.portal_origin(lax, sandbox) == "http://127.0.0.1:5001"
    assert websafety.portal_origin(strict, sandbox) == "https://127.0.0.1:5001"
    for odd in ("a.ru; script-src *", "a.ru *", "", "https://a.ru", "a.ru/x", "*.ru"):
        assert websafety.portal_origin(lax, NS(domain=odd, client_endpoint="https://a.ru/rest/")) == "'none'"


@pytest.fixture
def access_log(monkeypatch, caplog):
    """werkzeug's own request log on for the live server (tests keep it quiet), captured."""
    from werkzeug.serving import WSGIRequestHandler

    from tests.app import conftest as app_conftest

    monkeypatch.setattr(app_conftest._Quiet, "log_request", WSGIRequestHandler.log_request)
    caplog.set_level(logging.DEBUG)
    return caplog


def test_no_session_or_token_in_any_url_or_log_line(access_log, live_app, portal):
    live = live_app
    posted: set[str] = set()
    res = live.install(portal)
    assert res["progress"]["state"] == "done", res
    posted |= {res["form"]["AUTH_ID"], res["form"]["REFRESH_ID"]}
    sessions: set[str] = set()
    page_urls: list[str] = []
    for path in FRAME_PAGES:
        r, q, f = _frame(live, portal, path, options={"ID": 1} if path.endswith("company-visits") else None)
        assert r.status_code == 200, (path, r.text[:200])
        posted |= {f["AUTH_ID"], f["REFRESH_ID"]}
        sessions.add(_session(r.text))
        page_urls.append(r.url)
    token = _session(_frame(live, portal, "/placements/dashboards")[0].text)
    sessions.add(token)
    hdr = {page_sessions.HEADER: token}
    for path in ("/api/visits/month", "/api/reports/visits?period=month", "/api/maps/jobs", "/install/status",
                 "/api/access/roles", "/api/desk/lookup?phone=%2B79990000000"):
        assert requests.get(live.url + path, headers=hdr, timeout=30).status_code < 500, path
    # a phone link opened twice (view in the query too): two more page sessions
    link = requests.post(live.url + "/api/visits/phone-link", headers=hdr, timeout=30).json()["url"]
    secret = link.rsplit("/", 1)[1]
    for url in (link, link + "?view=route"):
        r = requests.get(url, timeout=30)
        assert r.status_code == 200
        sessions.add(_session(r.text))
    phone = {page_sessions.HEADER: _session(requests.get(link, timeout=30).text)}
    assert requests.get(live.url + "/api/visits/month", headers=phone, timeout=30).status_code == 200
    # a one-time CSV download
    r = requests.post(live.url + "/api/reports/download", headers=hdr, json={"path": "/api/reports/jobs.csv"},
                      timeout=30)
    download = r.json()["url"]
    assert requests.get(download, timeout=30).status_code == 200
    # a client that puts secrets in the query anyway: refused, and the log line masks them
    r = requests.get(live.url + f"/api/visits/month?session={token}&auth={token}&AUTH_ID={next(iter(posted))}",
                     timeout=30)
    assert r.status_code == 401
    stored = live.store.portals.get(portal.member_id)
    user = live.store.user_tokens.get(portal.member_id, 1)
    secrets_ = {"page session": sessions, "phone link": {secret}, "download token": {download.rsplit("/", 1)[1]},
                "AUTH_ID/REFRESH_ID": posted,
                "portal token": {stored.access_token, stored.refresh_token, stored.application_token},
                "user token": {user.access_token, user.refresh_token}}
    assert all(v for vs in secrets_.values() for v in vs)
    # no URL the app handed out or the pages were opened with carries a session
    for url in page_urls + [link, download]:
        assert not any(s in url for s in sessions), url
    # every record of the process at DEBUG: the app's and its outgoing calls' (urllib3 writes the request
    # line of each — OAuth's documented GETs carry tokens in the query), and this test's own client's
    lines = [rec.getMessage() for rec in access_log.records]
    requests_logged = [x for x in lines if re.search(r"(GET|POST) /", x)]
    assert any('"GET /m/*** HTTP' in x for x in requests_logged), lines[-20:]
    assert any('"GET /m/***?view=route HTTP' in x for x in requests_logged)
    assert any('"GET /api/reports/download/*** HTTP' in x for x in requests_logged)
    assert any("session=***&auth=***&AUTH_ID=***" in x for x in requests_logged), [x for x in lines if "month?" in x]
    assert any('"POST /placements/dashboards?DOMAIN=' in x for x in requests_logged)
    for line in lines:
        for what, values in secrets_.items():
            assert not any(v in line for v in values), f"{what} in a log line: {line}"


TEXT_FILES = [p for p in (ROOT / "b24app" / "templates").rglob("*.html")] + \
             [p for p in (ROOT / "b24app" / "static").rglob("*.js") if "vendor" not in p.parts]
URL_SESSION = re.compile(r"""[?&]session=|["'`]session=|(?:set|append)\(\s*["']session["']""", re.I)


def test_no_template_or_page_script_builds_a_url_with_a_session():
    assert len(TEXT_FILES) > 8
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in TEXT_FILES
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if URL_SESSION.search(line)]
    assert found == []
    handlers = list((ROOT / "handlers").glob("*.py"))
    found = [f"{p.name}:{n}" for p in handlers for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"[?&]session=|args\.get\(\s*[\"']session", line)]
    assert found == []
    assert URL_SESSION.search('fetch("/api/reports/jobs.csv?session=" + cfg.session)')     # the check itself works


def test_html_answers_allow_scripts_from_us_and_bx24_js_only():
    """script-src 'self' + BX24.js's origin (protocol-relative → a scheme-less host, matched against the
    page's own scheme), object-src/base-uri 'none'; an odd BX24.js URL adds nothing."""
    so = websafety.script_origin
    assert so("//api.bitrix24.com/api/v1/") == "api.bitrix24.com"
    assert so("https://API.bitrix24.com/api/v1/") == "https://api.bitrix24.com"
    assert so("http://127.0.0.1:8081/api/v1/") == "http://127.0.0.1:8081"
    for odd in ("", None, "/api/v1/", "javascript:alert(1)", "https://u:p@x.com/", "https://a b/", "ftp://x.com/",
                "https://x.com;script-src *"):
        assert so(odd) is None, odd
    assert websafety.page_policy("'none'", "//api.bitrix24.com/api/v1/") == (
        "frame-ancestors 'none'; script-src 'self' api.bitrix24.com; object-src 'none'; base-uri 'none'")
    assert websafety.page_policy("'self'", "ftp://x/") == (
        "frame-ancestors 'self'; script-src 'self'; object-src 'none'; base-uri 'none'")


def test_pages_carry_the_script_policy_json_does_not(installed):
    live, portal = installed
    bx24 = websafety.script_origin(live.settings.bx24_js_url)
    assert bx24 == portal.url                                   # the sandbox serves BX24.js in tests
    for path in FRAME_PAGES:
        r, _, _ = _frame(live, portal, path, options={"ID": 1} if path.endswith("company-visits") else None)
        assert r.headers["Content-Security-Policy"] == (
            f"frame-ancestors http://{portal.domain}; script-src 'self' {bx24}; object-src 'none'; base-uri 'none'")
    r = requests.get(live.url + "/healthz", timeout=30)
    assert r.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
