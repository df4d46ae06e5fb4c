"""The orders map in headless Chromium inside the sandbox portal page, like a dispatcher sees it: the demo
jobs are on the map (tiles unreachable on purpose — markers must still be there), an unassigned job's
candidates come with reasons, one click assigns, the portal has the worker, event and task, and the
marker changes colour. Playwright runs in its own thread (see tests/app/test_pages.py)."""
from __future__ import annotations

import pytest

from b24sandbox.page import placements
from maps.feed import UNASSIGNED_COLOR
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.browser import in_browser


@pytest.fixture
def portal(cloud):
    return cloud.add_portal(seed="demo")


@pytest.mark.browser
def test_orders_map_shows_demo_jobs_and_assigns(live_app, portal, artifacts_dir, monkeypatch):
    monkeypatch.setenv("B24APP_TILES_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")    # no tile server
    assert live_app.install(portal)["status"] == 200
    item = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/placements/orders-map"))
    url = f"{portal.url}/marketplace/app/{live_app.client_id}/?placement={item['id']}"

    def drive(b):
        from tests.conftest import CHROMIUM_CANDIDATES
        import os

        exe = next((p for p in CHROMIUM_CANDIDATES if os.path.exists(p)), None)
        if exe is None:
            return {"skip": True}
        page = b.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        frame = page.wait_for_selector("iframe", timeout=15000).content_frame()
        frame.wait_for_selector("#count[data-count]", timeout=20000)
        frame.wait_for_function("() => document.querySelectorAll('.marker-cluster, .b24-marker').length > 0")
        out = {"count": int(frame.get_attribute("#count", "data-count")),
               "layers": frame.evaluate("b24map.cluster.getLayers().length"),
               # what the dispatcher sees: cluster totals + single markers on screen
               "shown": frame.evaluate("""() => {
                   let n = 0;
                   document.querySelectorAll('.marker-cluster span').forEach(s => n += parseInt(s.textContent, 10));
                   return n + document.querySelectorAll('.leaflet-marker-icon.b24-marker').length; }"""),
               "tiles_warning": frame.is_visible("#tiles-warning")}
        page.screenshot(path=str(artifacts_dir / "orders-map-demo.png"))
        deal = frame.evaluate("""() => b24map.rows.filter(r => !r.assigned && r.time)
                                           .sort((a, b) => a.id - b.id)[0].id""")
        out["deal"] = deal
        frame.evaluate("""(id) => new Promise(ok => { const m = b24map.markers[id];
                           b24map.cluster.zoomToShowLayer(m, () => { m.openPopup(); ok(); }); })""", deal)
        frame.wait_for_selector(f".b24-popup[data-deal-id='{deal}']", timeout=10000)
        out["popup"] = frame.inner_text(f".b24-popup[data-deal-id='{deal}']")
        out["marker_before"] = frame.evaluate(
            "(id) => b24map.markers[id].getElement().querySelector('.b24-pin').style.background", deal)
        frame.click(f".b24-popup[data-deal-id='{deal}'] [data-b24app=pick]")
        frame.wait_for_selector("#cands li[data-worker-id]", timeout=20000)
        out["reasons"] = frame.eval_on_selector_all("#cands li .reason", "els => els.map(e => e.textContent)")
        out["shown_order"] = frame.eval_on_selector_all("#cands li[data-worker-id]",
                                                        "els => els.map(e => +e.dataset.workerId)")
        out["ranked"] = _ranked(live_app, portal, deal)          # the server's ranking, before anything changes
        page.screenshot(path=str(artifacts_dir / "orders-map-candidates.png"))
        li = frame.wait_for_selector("#cands li.fits", timeout=20000)
        out["worker"] = int(li.get_attribute("data-worker-id"))
        li.query_selector("button[data-b24app=assign]").click()
        frame.wait_for_selector("#side[data-assigned]", timeout=20000)
        frame.wait_for_function("(id) => b24map.byId[id] && b24map.byId[id].assigned === 1", arg=deal,
                                timeout=20000)
        frame.evaluate("""(id) => new Promise(ok => { const m = b24map.markers[id];
                           b24map.cluster.zoomToShowLayer(m, () => ok()); })""", deal)
        out["marker_after"] = frame.evaluate(
            "(id) => b24map.markers[id].getElement().querySelector('.b24-pin').style.background", deal)
        page.screenshot(path=str(artifacts_dir / "orders-map-assigned.png"))
        return out

    out = in_browser(drive)
    assert out["count"] == out["layers"] == out["shown"] == 160, out
    assert out["tiles_warning"]                                    # said plainly, markers still drawn
    assert "Открыть сделку" in out["popup"] and "Не назначен" in out["popup"]
    assert out["reasons"] and all(r.strip() for r in out["reasons"])
    # the list is the ranking: fitting workers first, cheapest insertion first among them
    assert out["shown_order"] == [c["worker_id"] for c in out["ranked"]]
    fits = [c["fits"] for c in out["ranked"]]
    assert fits == sorted(fits, reverse=True) and any(fits)
    extra = [c["extra_minutes"] for c in out["ranked"] if c["fits"]]
    assert extra == sorted(extra)
    deal = portal.db.deals.get(out["deal"])
    assert int(deal["UF_CRM_B24APP_WORKER"]) == out["worker"]
    assert any(f"D_{out['deal']}" in e["CRM_FIELDS"] and e["OWNER_ID"] == out["worker"]
               for e in portal.db.calendar_events.rows.values())
    assert any(f"D_{out['deal']}" in (t.get("UF_CRM_TASK") or []) for t in portal.db.tasks.rows.values())
    assert out["marker_before"] != out["marker_after"]
    assert out["marker_before"].replace(" ", "") in ("rgb(229,57,53)", UNASSIGNED_COLOR.lower())


def _ranked(live_app, portal, deal_id):
    import requests

    from b24app import session as page_sessions
    from tests import pagesession

    token = pagesession.for_live(live_app, page_sessions.PageSession(
        member_id=portal.member_id, user_id=1, lang="ru"))
    r = requests.get(f"{live_app.url}/api/maps/candidates/{deal_id}", headers={page_sessions.HEADER: token}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["candidates"]


@pytest.mark.browser
def test_deal_tab_opens_on_that_deal_with_candidates(live_app, portal, artifacts_dir, monkeypatch):
    monkeypatch.setenv("B24APP_TILES_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")
    assert live_app.install(portal)["status"] == 200
    tab = next(p for p in placements(portal, "CRM_DEAL_DETAIL_TAB") if p["handler"].endswith("/placements/orders-map"))
    deal = next(d["ID"] for d in sorted(portal.db.deals.rows.values(), key=lambda d: d["ID"])
                if d["CATEGORY_ID"] == 3 and d["STAGE_ID"].endswith(":NEW"))
    url = f"{portal.url}/crm/deal/details/{deal}/?tab={tab['id']}"

    def drive(b):
        import os

        from tests.conftest import CHROMIUM_CANDIDATES

        exe = next((p for p in CHROMIUM_CANDIDATES if os.path.exists(p)), None)
        if exe is None:
            return {"skip": True}
        page = b.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        frame = page.wait_for_selector("#app-frame", timeout=15000).content_frame()
        frame.wait_for_selector("#cands li[data-worker-id]", timeout=20000)
        out = {"title": frame.inner_text("#side-title"),
               "reasons": frame.eval_on_selector_all("#cands li .reason", "els => els.map(e => e.textContent)")}
        frame.wait_for_selector(f".b24-popup[data-deal-id='{deal}']", timeout=15000)   # after the zoom-in
        out["popup"] = True
        page.screenshot(path=str(artifacts_dir / "orders-map-deal-tab.png"))
        return out

    out = in_browser(drive)
    assert out["title"] == portal.db.deals.get(deal)["TITLE"]
    assert out["reasons"] and out["popup"]
