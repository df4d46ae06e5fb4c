"""A deal without a job address of its own is placed at its company's address; when the company's address
changes (ONCRMCOMPANYUPDATE, bound in app.json), the deal is geocoded again and its marker moves. Nominatim
is the only mocked HTTP (``responses``); the portal is the sandbox over real HTTP."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import responses

from b24app.inbox import accept_event
from install.manifest import load
from install.registry import installed_ids
from maps import geocoding
from maps.geocode import RateLimiter
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.maps.test_assign_sandbox import api, portal  # noqa: F401 - fixtures

PLACES = {"Москва, Тверская улица, 7": ("55.7597", "37.6107"), "Москва, Арбат, 10": ("55.7520", "37.5960"),
          "Москва, Ленинский проспект, 30": ("55.7070", "37.5850")}


def _nominatim(request):
    q = parse_qs(urlparse(request.url).query)["q"][0]
    hit = next(((lat, lon) for addr, (lat, lon) in PLACES.items() if addr in q), None)
    body = f'[{{"lat": "{hit[0]}", "lon": "{hit[1]}", "display_name": "{q}", "place_id": 1}}]' if hit else "[]"
    return 200, {"Content-Type": "application/json"}, body


def test_company_move_moves_the_deals_that_use_its_address(api, monkeypatch):
    live, portal = api.live, api.portal
    assert {"event": "ONCRMCOMPANYUPDATE", "mode": "offline"} in load().data["events"]
    monkeypatch.setattr(geocoding, "LIMITER", RateLimiter(0.0))
    ids = installed_ids(live.store, portal.member_id)
    client = live.services.client(portal.member_id)
    p = ids.pipeline("measurements")
    coords = ids.deal_field("coordinates")
    company = int(client.call("crm.company.add", {"fields": {"TITLE": "ООО Окна", "ADDRESS": "Тверская улица, 7",
                                                             "ADDRESS_CITY": "Москва"}}))
    uses_company = int(client.call("crm.deal.add", {"fields": {
        "TITLE": "Замер в офисе", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("new"), "COMPANY_ID": company}}))
    own_address = int(client.call("crm.deal.add", {"fields": {
        "TITLE": "Замер на даче", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("new"), "COMPANY_ID": company,
        ids.deal_field("job_address"): "Москва, Ленинский проспект, 30"}}))

    def drain(event, entity_id, ts):
        accept_event(live.store, portal.member_id, {"event": event, "ts": ts,
                                                    "data": {"FIELDS": {"ID": str(entity_id)}}})
        w = live.worker()
        while w.run_once():
            pass

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(portal.url)
        rsps.add_callback(responses.GET, re.compile(r"https://nominatim\.openstreetmap\.org/search.*"), _nominatim)
        drain("ONCRMDEALADD", uses_company, "1")
        drain("ONCRMDEALADD", own_address, "2")
        assert portal.db.deals.get(uses_company)[coords] == "55.759700,37.610700"
        assert portal.db.deals.get(own_address)[coords] == "55.707000,37.585000"
        before = len(rsps.calls)

        client.call("crm.company.update", {"id": company, "fields": {"ADDRESS": "Арбат, 10"}})
        drain("ONCRMCOMPANYUPDATE", company, "3")
        queries = [parse_qs(urlparse(c.request.url).query)["q"][0] for c in rsps.calls[before:]]
    assert portal.db.deals.get(uses_company)[coords] == "55.752000,37.596000"      # moved with the company
    assert portal.db.deals.get(own_address)[coords] == "55.707000,37.585000"       # its own address: kept
    assert len(queries) == 1 and "Арбат" in queries[0]      # one lookup: company and deal share the address
    _, doc = api("GET", "/api/maps/jobs")
    row = next(r for r in doc["rows"] if r[0] == uses_company)
    assert 55.751 < row[doc["columns"].index("lat")] < 55.753
