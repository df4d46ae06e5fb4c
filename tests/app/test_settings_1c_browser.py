"""The 1C settings page in headless Chromium (issue 13): the paid gate's scope per pipeline ("deals linked to
a 1C order" / "all deals of this pipeline") is chosen on the page and stored; an order two deals carry is on
the review list with a button per deal, and the administrator's click binds it (checked through the JSON
API and the store). Playwright runs in its own thread (tests/app/test_pages); no fixed sleeps."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests

from b24app import session as page_sessions
from install.registry import installed_ids
from sync_1c import connection, sync
from sync_1c.ledger_store import LedgerStore
from tests import pagesession
from b24sandbox.onec import start as start_1c
from tests.app.test_main_page_browser import _text
from tests.browser import in_browser


@pytest.fixture
def onec():
    sb = start_1c()
    yield sb
    sb.shutdown()


@pytest.mark.browser
def test_gate_scope_and_binding_an_order_on_the_settings_page(live_app, portal, onec, artifacts_dir):
    assert live_app.install(portal)["progress"]["state"] == "done"
    svc, member = live_app.services, portal.member_id
    connection.save(svc.store.kv, member, base_url=onec.url, username=onec.username, password=onec.password,
                    retries=1, backoff=0, timeout=5)
    ids = installed_ids(svc.store, member)
    p = ids.pipeline("installation")
    day = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0)
    order = onec.infobase.add_order(80000, day - timedelta(days=3), number="ТД00-000123")
    onec.infobase.add_payment([(order, 80000)], day - timedelta(days=1))
    client = svc.client(member)
    d1, d2 = (int(client.call("crm.deal.add", {"fields": {
        "TITLE": f"Заказ {i}", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("scheduled"), "OPPORTUNITY": amount,
        ids.deal_field("order_1c_number"): "ТД00-000123"}})) for i, amount in ((1, 80000), (2, 75000)))
    sync._checked.clear()
    sync._readers.clear()
    sync.run(svc, member)
    assert [i["reason"] for i in LedgerStore(svc.store.engine, member).review()] == ["ambiguous"]
    app_url = f"{portal.url}/marketplace/app/{live_app.client_id}/"

    def drive(b):
        out = {}
        page = b.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(app_url)
        frame = page.wait_for_selector("iframe#app-frame", timeout=15000).content_frame()
        c = "[data-b24app=settings-1c]"
        frame.wait_for_selector(f"{c} fieldset[data-pipeline=installation] [name=gate_scope]", timeout=20000)
        frame.wait_for_selector(f"{c} [data-b24app=review-1c] li[data-reason=ambiguous]", timeout=20000)
        out["scope_default"] = frame.input_value(f"{c} fieldset[data-pipeline=installation] [name=gate_scope]")
        out["scope_options"] = frame.inner_text(f"{c} fieldset[data-pipeline=installation] [name=gate_scope]")
        frame.select_option(f"{c} fieldset[data-pipeline=installation] [name=gate_scope]", "all")
        frame.fill(f"{c} [name=reconcile_hours]", "6")
        frame.click(f"{c} button[type=submit]")
        out["saved"] = _text(frame, "[data-b24app=msg-1c]", "Сохранено")
        out["review"] = frame.inner_text(f"{c} [data-b24app=review-1c]")
        frame.click(f"{c} [data-b24app=review-1c] [data-b24app=bind-1c][data-deal='{d1}']")
        out["bound"] = _text(frame, f"{c} [data-b24app=review-1c] li[data-reason=ambiguous] .msg", "связан")
        page.screenshot(path=str(artifacts_dir / "settings-1c-scope-bind.png"), full_page=True)
        return out

    out = in_browser(drive)
    assert out["scope_default"] == "linked" and "все сделки этой воронки" in out["scope_options"]
    assert "Заказ подходит нескольким сделкам" in out["review"] and f"#{d1}" in out["review"]
    assert f"#{d1}" in out["bound"]
    admin = {page_sessions.HEADER: pagesession.for_live(live_app, page_sessions.PageSession(
        member, 1, "ru", is_admin=True))}
    doc = requests.get(live_app.url + "/api/1c/settings", headers=admin, timeout=30).json()
    assert doc["gate"]["scope"]["installation"] == "all" and doc["connection"]["reconcile_hours"] == 6
    assert LedgerStore(svc.store.engine, member).orders([order])[order]["bound_deal"] == d1
    sync.run(svc, member)
    rows = {int(r["ID"]): r for r in portal.db.deals if int(r["ID"]) in (d1, d2)}
    assert str(rows[d1][ids.deal_field("paid_in_full")]).upper() in ("Y", "1")
    assert str(rows[d2].get(ids.deal_field("paid_in_full")) or "").upper() not in ("Y", "1")
