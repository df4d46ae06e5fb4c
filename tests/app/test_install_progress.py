"""The install job: the install POST only stores the portal and queues the app.json install; the worker
runs it and records progress; the installer page reads it through its page session and may retry."""
from __future__ import annotations

import json
import re

import pytest
import requests

from b24app import install_flow
from b24app import session as page_sessions
from tests import pagesession


def _session(html: str) -> str:
    # page data is JSON in the page (the CSP allows no inline script)
    m = re.search(r'<script id="b24app-config" type="application/json">(.*?)</script>', html, re.S)
    assert m, html[:3000]
    return json.loads(m.group(1))["session"]


def _status(live_app, token=None):
    headers = {page_sessions.HEADER: token} if token else {}
    return requests.get(live_app.url + "/install/status", headers=headers, timeout=10)


def test_install_post_queues_job_and_page_polls_progress(live_app, portal):
    result = live_app.install(portal, mode="frame", finish=False, wait=False)
    assert result["status"] == 200, result
    # the page's script is static/install/install.js (no inline script under the CSP); it finishes the install
    assert "/static/install/install.js" in result["text"] and 'role="progressbar"' in result["text"]
    assert "BX24.installFinish" in requests.get(live_app.url + "/static/install/install.js", timeout=10).text
    # the POST answered before anything of app.json reached the portal
    assert "crm.type.add" not in [r.method for r in portal.log]
    token = _session(result["text"])
    assert _status(live_app).status_code == 401
    assert _status(live_app, "forged").status_code == 401
    st = _status(live_app, token).json()
    assert st["state"] == "queued" and st["percent"] == 0 and st["job"]
    done = live_app.wait_install(portal.member_id)
    assert done["state"] == "done", done
    st = _status(live_app, token).json()
    assert st["state"] == "done" and st["percent"] == 100 and st["done"] == st["total"] > 0 and st["errors"] == []
    assert "crm.type.add" in [r.method for r in portal.log]


def test_event_install_queues_the_same_job(live_app, portal):
    result = live_app.install(portal, mode="event", wait=False)
    assert result["status"] == 200, result
    body = requests.models.complexjson.loads(result["text"])
    assert body["result"] is True and body["job"]
    assert install_flow.progress_of(live_app.store, portal.member_id)["state"] == "queued"
    assert live_app.wait_install(portal.member_id)["state"] == "done"


def test_failed_install_shows_errors_and_retry_runs_again(live_app, portal, monkeypatch):
    runs = []

    def flaky_installer(services, member_id, progress=None):
        runs.append(member_id)
        progress(1, 3, "create smart_process visit (+2)")
        if len(runs) == 1:
            raise RuntimeError("portal said no")
        progress(3, 3, "complete")

    monkeypatch.setattr(install_flow, "POST_INSTALL_HOOKS", [flaky_installer])
    result = live_app.install(portal, mode="frame", finish=False)
    assert result["progress"]["state"] == "failed"
    token = _session(result["text"])
    st = _status(live_app, token).json()
    assert st["state"] == "failed" and "portal said no" in st["errors"][0]
    assert st["done"] == 1 and st["total"] == 3 and st["step"] == "создаём смарт-процесс visit (+2)"
    # only an admin's page session may re-run it
    plain = pagesession.for_live(live_app, page_sessions.PageSession(
        member_id=portal.member_id, user_id=2, lang="ru", is_admin=False))
    r = requests.post(live_app.url + "/install/retry", headers={page_sessions.HEADER: plain}, timeout=10)
    assert r.status_code == 403
    r = requests.post(live_app.url + "/install/retry", timeout=10)
    assert r.status_code == 401
    r = requests.post(live_app.url + "/install/retry", headers={page_sessions.HEADER: token}, timeout=10)
    assert r.status_code == 200 and r.json()["state"] == "queued"
    # a second press while queued does not queue a second job
    again = requests.post(live_app.url + "/install/retry", headers={page_sessions.HEADER: token}, timeout=10)
    assert again.json()["job"] == r.json()["job"]
    assert live_app.wait_install(portal.member_id)["state"] == "done"
    assert runs == [portal.member_id, portal.member_id]
    assert _status(live_app, token).json()["percent"] == 100


def test_status_of_another_portal_is_not_readable(live_app, portal, cloud):
    other = cloud.add_portal(seed="empty")
    a = live_app.install(portal, mode="frame", finish=False, wait=False)
    live_app.install(other, mode="frame", finish=False, wait=False)
    token = _session(a["text"])
    assert page_sessions.read(live_app.store, token).member_id == portal.member_id
    mine = install_flow.progress_of(live_app.store, portal.member_id)["job"]
    theirs = install_flow.progress_of(live_app.store, other.member_id)["job"]
    assert mine and theirs and mine != theirs
    assert _status(live_app, token).json()["job"] == mine           # a's session only ever shows a's job
    live_app.wait_install(portal.member_id)
    live_app.wait_install(other.member_id)


@pytest.fixture
def store_url(sqlite_url):
    return sqlite_url


def test_reinstall_during_a_running_job_keeps_the_newer_record(live_app, portal, monkeypatch):
    """The portal re-posts the installer while a job runs: the old job's writes stop at the newer job."""
    from b24app.inbox import Worker

    reinstalled = []

    def installer(services, member_id, progress=None):
        progress(1, 2, "create smart_process visit")
        if not reinstalled:
            reinstalled.append(live_app.install(portal, mode="event", wait=False)["status"])
        progress(2, 2, "complete")

    monkeypatch.setattr(install_flow, "POST_INSTALL_HOOKS", [installer])
    live_app.install(portal, mode="event", wait=False)
    first = install_flow.progress_of(live_app.store, portal.member_id)["job"]
    worker = Worker(live_app.services)
    assert worker.run_once() == 1                   # the first job runs; the portal queues a second
    cur = install_flow.progress_of(live_app.store, portal.member_id)
    assert reinstalled == [200] and cur["job"] != first and cur["state"] == "queued"
    assert live_app.wait_install(portal.member_id)["state"] == "done"
