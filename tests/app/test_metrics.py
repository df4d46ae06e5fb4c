"""GET /metrics and ``b24app status`` (issue 18): the deployment's queue by kind and status with its age,
retries and give-ups, portals waiting and by status, portal calls and refusals — aggregates only (no
member_id or domain appears), for the operator only (a token, or this machine)."""
from __future__ import annotations

import re
import subprocess
import sys

import requests
from click.testing import CliRunner

from b24app import metrics
from b24app.cli import main as cli


def _filled(store):
    """portal-a: 3 events taken by a worker — one failed and waits to be retried, one given up, one in
    work; portal-b: a robot call waiting."""
    for k in range(3):
        store.inbox.put("portal-a", "event", "ONCRMDEALUPDATE", {"k": k}, f"a{k}")
    for it in store.inbox.claim("w2", limit=10):
        if it.payload["k"] == 0:
            store.inbox.fail(it.id, "boom", retry_in=30, owner="w2")
        elif it.payload["k"] == 1:
            store.inbox.fail(it.id, "boom", None, owner="w2")
    store.inbox.put("portal-b", "robot", "b24app_start_job", {}, "r1")


def test_metrics_say_the_queue_by_kind_and_nothing_of_the_portals(live_app, portal):
    assert live_app.install(portal)["progress"]["state"] == "done"
    _filled(live_app.store)
    r = requests.get(live_app.url + "/metrics", timeout=30)               # from this machine
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert 'b24app_inbox_items{kind="event",status="pending"} 1' in text
    assert 'b24app_inbox_items{kind="event",status="failed"} 1' in text
    assert 'b24app_inbox_items{kind="event",status="working"} 1' in text
    assert 'b24app_inbox_items{kind="robot",status="pending"} 1' in text
    assert "b24app_portals_waiting 2" in text
    assert 'b24app_inbox_retrying{kind="event",status="pending"} 1' in text
    assert 'b24app_portals{status="installed"} 1' in text
    assert re.search(r'b24app_portal_calls_total\{outcome="sent"\} \d+', text)
    assert re.search(r'^b24app_inbox_oldest_seconds\{kind="event",status="pending"\} [\d.]+$', text, re.M)
    for secret in (portal.member_id, "portal-a", "portal-b", portal.domain):
        assert secret not in text
    sample = re.compile(r'[a-z_][a-z0-9_]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [\d.]+')
    for line in text.splitlines():                                        # the exposition format's grammar
        assert line.startswith("# ") or sample.fullmatch(line), line


def test_with_a_token_set_metrics_ask_for_it(live_app):
    live_app.services.settings = live_app.settings = type(live_app.settings)(
        **{**live_app.settings.__dict__, "metrics_token": "t0ken"})
    live_app.app.extensions["b24"].settings = live_app.settings
    assert requests.get(live_app.url + "/metrics", timeout=30).status_code == 403
    assert requests.get(live_app.url + "/metrics", headers={"Authorization": "Bearer nope"},
                        timeout=30).status_code == 403
    assert requests.get(live_app.url + "/metrics", headers={"Authorization": "Bearer t0ken"},
                        timeout=30).status_code == 200


def test_status_prints_the_same_figures(sqlite_url, monkeypatch):
    from b24app.store import open_store

    store = open_store(sqlite_url)
    _filled(store)
    figures = metrics.collect(store)
    store.close()
    monkeypatch.setenv("B24APP_DATABASE_URL", sqlite_url)
    out = CliRunner().invoke(cli, ["status"])
    assert out.exit_code == 0, out.output
    assert "portals with pending work: 2" in out.output
    rows = {tuple(line.split()[1:4]) for line in out.output.splitlines() if line.startswith("inbox ")}
    assert rows == {(r["kind"], r["status"], str(r["items"])) for r in figures["inbox"]}
    assert ("event", "failed", "1") in rows


def test_status_is_a_console_command():
    r = subprocess.run([sys.executable, "-m", "b24app.cli", "status", "--help"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "figures GET /metrics" in r.stdout.replace("\n", " ")


def test_a_domain_adds_its_own_gauge_the_1c_lag(live_app, portal):
    """sync_1c declares b24app_sync_1c_lag_seconds: how long ago the portals' last good syncs were."""
    from datetime import datetime, timedelta, timezone

    import sqlalchemy as sa

    from sync_1c.ledger_store import t_cursor

    assert live_app.install(portal)["progress"]["state"] == "done"
    text = requests.get(live_app.url + "/metrics", timeout=30).text
    assert 'b24app_sync_1c_lag_seconds{stat="portals"} 0' in text
    now = datetime.now(timezone.utc)
    with live_app.store.engine.begin() as c:
        c.execute(sa.insert(t_cursor), [{"member_id": "m-a", "last_ok_at": now - timedelta(seconds=600)},
                                        {"member_id": "m-b", "last_ok_at": now - timedelta(seconds=60)},
                                        {"member_id": "m-c", "last_ok_at": None}])
    text = requests.get(live_app.url + "/metrics", timeout=30).text
    assert 'b24app_sync_1c_lag_seconds{stat="portals"} 2' in text
    (largest,) = re.findall(r'b24app_sync_1c_lag_seconds\{stat="max"\} ([\d.]+)', text)
    assert 600 <= float(largest) < 660
    assert "m-a" not in text and "# TYPE b24app_sync_1c_lag_seconds gauge" in text
