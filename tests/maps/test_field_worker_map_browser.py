"""Issue 11: a field worker opening the orders map inside the portal sees only what he may — his own jobs
that the portal lets him read (the demo's user 4 has the CRM role "own deals"), no dispatching controls —
and what the page would do with a forged request is refused on the server anyway."""
from __future__ import annotations

import pytest
import requests

from b24app import session as page_sessions
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.maps.test_dispatch_browser import _frame, _open_map
from tests.browser import in_browser

WORKER = 4


@pytest.fixture
def portal(cloud):
    return cloud.add_portal(seed="demo")


def _his_jobs(portal, live_app) -> set[int]:
    """Computed from the portal itself, independently of the app: open jobs of the field pipelines (with a
    place) whose worker field is him and whose deal is assigned to him (what his CRM role lets him read)."""
    from install.registry import installed_ids

    ids = installed_ids(live_app.store, portal.member_id)
    cats = {ids.pipeline(k).category_id for k in ("measurements", "installation")}
    worker_f, coords_f = ids.deal_field("worker"), ids.deal_field("coordinates")
    out = set()
    for d in portal.db.deals.rows.values():
        if int(d.get("CATEGORY_ID") or 0) not in cats or str(d.get("CLOSED") or "N") == "Y":
            continue
        if str(d.get(worker_f) or "") == str(WORKER) and int(d.get("ASSIGNED_BY_ID") or 0) == WORKER \
                and d.get(coords_f):
            out.add(int(d["ID"]))
    return out


@pytest.mark.browser
def test_a_field_worker_sees_his_own_jobs_and_no_dispatching(live_app, portal, artifacts_dir, monkeypatch):
    url = _open_map(live_app, portal, monkeypatch) + f"&user={WORKER}"

    def drive(b):
        page = b.new_page(viewport={"width": 1200, "height": 800})
        frame = _frame(page, url)
        out = {"ids": sorted(frame.evaluate("b24map.rows.map(r => r.id)")),
               "workers": frame.evaluate("[...new Set(b24map.rows.map(r => r.worker))]"),
               "session": frame.evaluate("JSON.parse(document.getElementById('b24app-config').textContent)"
                                         ".session"),
               "unplaced_hidden": frame.is_hidden("#unplaced-open")}
        deal = out["ids"][0]
        frame.evaluate("""(id) => new Promise(ok => { const m = b24map.markers[id];
                           b24map.cluster.zoomToShowLayer(m, () => { m.openPopup(); ok(); }); })""", deal)
        frame.wait_for_selector(f".b24-popup[data-deal-id='{deal}']", timeout=10000)
        out["buttons"] = frame.eval_on_selector_all(f".b24-popup[data-deal-id='{deal}'] button",
                                                    "els => els.map(e => e.dataset.b24app)")
        page.screenshot(path=str(artifacts_dir / "orders-map-field-worker.png"))
        return out

    out = in_browser(drive)
    expected = _his_jobs(portal, live_app)
    assert expected and set(out["ids"]) == expected, (len(out["ids"]), len(expected))
    assert out["workers"] == [WORKER]
    assert out["unplaced_hidden"]
    assert out["buttons"] == ["worker-day"]                       # his own day; no pick, date grid or pin
    # the page's own session, used as a forger would: dispatching is refused on the server
    r = requests.post(live_app.url + "/api/maps/assign", headers={page_sessions.HEADER: out["session"]},
                      json={"deal_id": out["ids"][0], "worker_id": 5}, timeout=30)
    assert r.status_code == 403 and r.json()["error"] == "ROLE_REQUIRED"
    assert int(portal.db.deals.get(out["ids"][0])["UF_CRM_B24APP_WORKER"]) == WORKER
