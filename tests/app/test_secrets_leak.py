"""Issue 11 (1): nothing secret in any message. A token refresh that cannot reach the OAuth server used
to put the whole GET URL — ``client_secret`` and the portal's ``refresh_token`` in its query — into the
exception text, from there into the install job's errors (shown by ``/install/status`` and the main
page to any session), the inbox's ``last_error`` and the worker's log. Here the OAuth server is a closed
port during a real refresh against the sandbox portal, and every place that text could reach is read.
Also the scrubber itself on every form a credential takes in text."""
from __future__ import annotations

import json
import logging
import re
import socket

import pytest
import requests
import sqlalchemy as sa

from b24app import install_flow, logsafe
from b24app import session as page_sessions
from b24app.inbox import Worker, handler_key
from b24sandbox.frames import frame_data, with_query
from b24app.store.sql import t_inbox


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _config(html: str) -> dict:
    return json.loads(re.search(r'<script id="b24app-config" type="application/json">(.*?)</script>', html,
                                re.S).group(1))


def _open(live_app, portal, user_id=1):
    q, f = frame_data(portal, live_app.client_id, user_id=user_id, lang="ru")
    r = requests.post(with_query(live_app.url + "/app", q), data=f, timeout=30)
    assert r.status_code == 200, r.status_code
    return r


def _status(live_app, token) -> requests.Response:
    return requests.get(live_app.url + "/install/status", headers={page_sessions.HEADER: token}, timeout=30)


def _no_secret(where: str, text: str, secrets: dict) -> None:
    __tracebackhide__ = True            # a failure shows the names found, never the text or the values
    found = [name for name, value in secrets.items() if value and value in text]
    assert not found, f"{where} carries {found}"        # the names only: the values stay out of test output


def test_refresh_error_leaks_no_secret_anywhere(live_app, portal, caplog):
    logsafe.install()
    caplog.set_level(logging.DEBUG)
    assert live_app.install(portal)["progress"]["state"] == "done"
    member = portal.member_id
    stored = live_app.store.portals.get(member)
    secrets = {"client_secret": live_app.client_secret, "refresh_token": stored.refresh_token,
               "access_token": stored.access_token, "application_token": stored.application_token}
    assert all(secrets.values())

    # the access token expires, and the OAuth server cannot be reached when the app refreshes it
    live_app.cloud.clock.advance(3601)
    live_app.services.oauth.base = f"http://127.0.0.1:{_closed_port()}"

    # 1. the install job (retry → worker → installer → 401 expired_token → refresh → connection error)
    install_flow.retry_install(live_app.services, member)
    cur = live_app.wait_install(member)
    _no_secret("kv install.progress", json.dumps(cur, ensure_ascii=False), secrets)   # first: asserts below print
    assert cur["state"] == "failed", cur["state"]
    shaped = bool(cur["errors"]) and all(isinstance(e, dict) and set(e) == {"code", "message"} for e in cur["errors"])
    assert shaped, "install errors are not stored as {code, message}"
    assert cur["errors"][0]["code"] == "CONNECTION_ERROR"
    no_url = "://" not in json.dumps(cur["errors"])
    assert no_url, "a stored install error carries a URL"

    # 2. an event handler that calls the portal: the inbox records the failure for a retry
    key = handler_key("event", "ONB24APPTESTCALL")
    worker = Worker(live_app.services, {key: lambda svc, m, p: svc.client(m).call("user.current")},
                    backoff=0.01, max_backoff=0.05)
    assert live_app.store.inbox.put(member, "event", "ONB24APPTESTCALL", {}, "leak-test")
    assert worker.run_once() == 1
    with live_app.store.engine.connect() as c:
        errors = [r for r in c.execute(sa.select(t_inbox.c.last_error)
                                       .where(t_inbox.c.member_id == member)).scalars() if r]
    _no_secret("inbox last_error", "\n".join(errors), secrets)
    assert errors and any("CONNECTION_ERROR" in e for e in errors), errors

    # 3. every log line, tracebacks included
    text = "\n".join(logging.Formatter("%(message)s").format(r) for r in caplog.records)
    _no_secret("log", text + caplog.text, secrets)
    seen = "CONNECTION_ERROR" in text or "ConnectionError" in text
    assert seen, "the refresh failure was not logged"

    # 4. pages: the administrator sees codes and messages; an employee sees how far it is, nothing else
    admin = _open(live_app, portal)
    _no_secret("main page (admin)", admin.text, secrets)
    cfg = _config(admin.text)
    assert cfg["is_admin"] is True and cfg["install"]["state"] == "failed"
    assert cfg["install"]["error_items"][0]["code"] == "CONNECTION_ERROR"
    st = _status(live_app, cfg["session"])
    assert st.status_code == 200 and st.json()["errors"]
    _no_secret("/install/status (admin)", st.text, secrets)

    employee = portal.db.add_user("Иван", "Петров", "ivan@example.ru")
    page = _open(live_app, portal, user_id=employee)
    _no_secret("main page (employee)", page.text, secrets)
    ecfg = _config(page.text)
    assert ecfg["is_admin"] is False
    assert set(ecfg["install"]) == {"state", "percent"}, sorted(ecfg["install"])
    est = _status(live_app, ecfg["session"])
    assert est.status_code == 200 and set(est.json()) == {"state", "percent"}, sorted(est.json())
    assert est.json()["state"] == "failed"
    assert "CONNECTION_ERROR" not in page.text and "CONNECTION_ERROR" not in est.text


def test_oauth_transport_error_is_type_and_code_only(live_app):
    from b24app.errors import OAuthError

    live_app.services.oauth.base = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(OAuthError) as info:
        live_app.services.oauth.refresh("rt-not-to-be-shown-0123456789")
    exc = info.value
    clean = "rt-not-to-be-shown" not in str(exc) and live_app.client_secret not in str(exc)
    assert clean, "the OAuth error text carries the refresh token or the client secret"
    assert exc.code == "CONNECTION_ERROR" and exc.description == "ConnectionError"
    assert exc.__cause__ is None and exc.__suppress_context__      # the URL is not in a chained traceback
    with pytest.raises(OAuthError) as info:
        live_app.services.oauth.app_info("at-not-to-be-shown-0123456789")
    clean = "at-not-to-be-shown" not in str(info.value)
    assert clean, "the app.info error text carries the access token"


# --- the scrubber ----------------------------------------------------------------------------------------
S = "Zq9-secret-VALUE_42"        # what must disappear from every line below

FORMS = [
    f"GET /oauth/token/?grant_type=refresh_token&client_id=app.1&client_secret={S}&refresh_token=r{S}",
    f"url: /oauth/token/?refresh_token={S}&x=1",
    f"access_token={S}",
    f"auth={S}",
    f"POST /app?DOMAIN=p.bitrix24.ru&AUTH_ID={S}&REFRESH_ID=r{S}&member_id=m1",
    f"password={S}",
    f"application_token={S}",
    f"auth[access_token]={S}&auth[application_token]=a{S}&auth[refresh_token]=r{S}",
    f"auth%5Baccess_token%5D={S}&auth%5Bapplication_token%5D=a{S}",
    f'{{"refresh_token": "{S}", "access_token":"a{S}", "client_secret" : "c{S}"}}',
    f"{{'password': '{S}', 'auth': {{'access_token': 'a{S}', 'application_token': 'b{S}'}}}}",
    f'"{{\\"refresh_token\\": \\"{S}\\"}}"',
    f"X-B24App-Session: {S}",
    f"{{'X-B24App-Session': '{S}', 'Accept': 'application/json'}}",
    f"GET /api/maps/jobs?session={S} HTTP/1.1",
    f"Authorization: Bearer {S}",
    f"Authorization: Basic {S}",
    f"X-B24App-1C-Secret: {S}",
    f"https://admin:{S}@1c.example.local/odata/standard.odata/",
    f"PASSWORD = {S}; AUTH_ID={S}",
]


@pytest.mark.parametrize("line", FORMS, ids=range(len(FORMS)))
def test_scrub_removes_every_form(line):
    out = logsafe.scrub(line)
    assert S not in out and "***" in out


def test_scrub_keeps_what_is_not_secret():
    for text in ["access token refreshed (version 3 -> 4)", "The OAuth server did not answer",
                 "token_version=3 step=create", "portal m1: install job j1 failed",
                 "refresh token rejected (invalid_grant: expired) — status needs_reinstall"]:
        assert logsafe.scrub(text) == text
    assert logsafe.scrub("domain=p.bitrix24.ru&auth=x1") == "domain=p.bitrix24.ru&auth=***"
    assert logsafe.scrub_obj({"password": S, "n": 1, "list": [f"refresh_token={S}"]}) == \
        {"password": "***", "n": 1, "list": ["refresh_token=***"]}
    assert logsafe.public_message(f"ConnectionError: http://h/oauth/token/?client_secret={S} down") == \
        "ConnectionError: [url] down"


def test_log_records_and_tracebacks_are_scrubbed(caplog):
    logsafe.install()
    caplog.set_level(logging.INFO)
    log = logging.getLogger("b24app.test.logsafe")
    log.info("calling %s", f"http://o/oauth/token/?client_secret={S}&refresh_token={S}")
    log.warning("form %r", {"auth[access_token]": S, "AUTH_ID": S})
    try:
        raise RuntimeError(f"failed: {{'password': '{S}'}} url=/x?access_token={S}")
    except RuntimeError:
        log.exception("boom")
    rendered = caplog.text + "\n".join(logging.Formatter("%(message)s").format(r) for r in caplog.records)
    assert S not in rendered
    assert "client_secret=***" in rendered and "Traceback" in rendered and "password" in rendered


def test_werkzeug_access_log_is_scrubbed(caplog):
    """The access log line of a request whose query string carries a session or a token."""
    logsafe.install()
    caplog.set_level(logging.INFO, logger="werkzeug")
    logging.getLogger("werkzeug").info('%s - - [%s] "%s" %s %s', "127.0.0.1", "now",
                                       f"GET /install/status?session={S}&AUTH_ID={S} HTTP/1.1", "200", "-")
    assert S not in caplog.text and "session=***" in caplog.text


def test_the_cli_and_create_app_install_the_scrubber(monkeypatch):
    from b24app import cli

    calls = []
    monkeypatch.setattr(logsafe, "install", lambda: calls.append(1))
    cli._logging()
    assert calls == [1]
    root = logging.getLogger()
    monkeypatch.undo()
    logsafe.install()
    assert all(any(isinstance(f, logsafe.ScrubFilter) for f in h.filters) for h in root.handlers)
