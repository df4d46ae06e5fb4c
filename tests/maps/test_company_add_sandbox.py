"""A company added in the portal is geocoded by itself (issue 14): ONCRMCOMPANYADD is bound offline in
app.json, the portal queues the event, the worker pulls it and maps/geocoding.py writes the company's
coordinates — before this, the company map showed 300 of 301 companies. Nominatim is the only mocked HTTP;
the portal is the sandbox over real HTTP. Also: every event a domain handles is bound, and every bound
domain event is handled by someone."""
from __future__ import annotations

import re

import responses

from b24app import domains, inbox
from install.manifest import load
from install.registry import installed_ids
from maps import geocoding
from maps.geocode import RateLimiter
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.maps.test_assign_sandbox import api, portal  # noqa: F401 - fixtures
from tests.maps.test_company_address_sandbox import _nominatim

# events the platform answers itself (core/lifecycle)
PLATFORM = {"ONOFFLINEEVENT", "ONAPPUNINSTALL", "ONAPPUPDATE", "ONAPPINSTALL"}


def test_every_handled_event_is_bound_and_every_bound_event_handled():
    bound = {e["event"].upper() for e in load().data["events"]}
    handled = set(domains.build().events)
    assert handled - bound == set(), "handled but never bound in app.json"
    assert bound - handled - PLATFORM == set(), "bound in app.json but nobody handles it"


def test_a_new_company_gets_coordinates_from_its_add_event(api, monkeypatch):
    live, portal = api.live, api.portal
    monkeypatch.setattr(geocoding, "LIMITER", RateLimiter(0.0))
    ids = installed_ids(live.store, portal.member_id)
    client = live.services.client(portal.member_id)
    inbox.pull_offline(live.services, portal.member_id)       # whatever the install left queued
    w = live.worker()
    while w.run_once():
        pass
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(portal.url)
        rsps.add_callback(responses.GET, re.compile(r"https://nominatim\.openstreetmap\.org/search.*"), _nominatim)
        company = int(client.call("crm.company.add", {"fields": {
            "TITLE": "ООО Новые окна", "ADDRESS": "Арбат, 10", "ADDRESS_CITY": "Москва"}}))
        taken = inbox.pull_offline(live.services, portal.member_id)
        while w.run_once():
            pass
    assert taken >= 1
    assert portal.db.companies.get(company)[ids.company_field("coordinates")] == "55.752000,37.596000"
