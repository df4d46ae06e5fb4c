""""Нет координат: 1" on the button but 6 rows in the panel (issue 14): jobs still on the map whose later
re-geocode failed were listed as unplaced. Now the panel lists exactly the open jobs without coordinates —
the feed's ``unplaced`` the button counts."""
from __future__ import annotations

from b24app.inbox import accept_event
from install.registry import installed_ids
from maps.geocache_sql import save_record
from maps.geocode import GeoResult
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.maps.test_assign_sandbox import _rows, api, portal  # noqa: F401 - fixtures


def test_the_button_counts_the_rows_the_panel_lists(api):
    live, portal = api.live, api.portal
    _, doc = api("GET", "/api/maps/jobs")
    placed = [r["id"] for r in _rows(doc)][:5]
    for deal in placed:                     # a re-geocode of these failed: their coordinates stay
        save_record(live.store.engine, portal.member_id, "deal", deal,
                    GeoResult("Москва, ?", "москва ?", "error", error="timeout"))
    p = installed_ids(live.store, portal.member_id).pipeline("measurements")
    new = int(live.services.client(portal.member_id).call("crm.deal.add", {"fields": {
        "TITLE": "Замер без адреса", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("new")}}))
    accept_event(live.store, portal.member_id, {"event": "ONCRMDEALADD", "ts": "1",      # the portal's event
                                                "data": {"FIELDS": {"ID": str(new)}}})
    w = live.worker()                       # marks the deal; the map's refresh job reads it into the cache
    while w.run_once():
        pass
    _, doc = api("GET", "/api/maps/jobs")
    status, un = api("GET", "/api/maps/unplaced")
    assert status == 200
    listed = [r["entity_id"] for r in un["records"]] + [r["entity_id"] for r in un["pending"]]
    assert sorted(listed) == sorted(u["id"] for u in doc["unplaced"]) == [new]
    assert not set(placed) & set(listed)
    assert all(deal in [r["id"] for r in _rows(doc)] for deal in placed)      # still on the map
