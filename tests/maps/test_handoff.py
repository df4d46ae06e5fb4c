"""Production → installation (issue 14, seed 000): a production deal that reaches its done stage — or is paid
in full, when the portal's settings say so — becomes one installation deal: linked, with the client, the
manager and the address, on the orders map unassigned. Once: a replayed event, later changes of the
production deal and the loss of our own memory of it create no second deal. Against the sandbox portal."""
from __future__ import annotations

import re

import pytest
import responses

import requests

from b24app import session as page_sessions
from b24app.inbox import accept_event
from b24app.registry import DISABLED_KEY
from install.registry import installed_ids
from maps import geocoding, handoff
from maps.geocode import RateLimiter
from tests import pagesession
from tests.app.conftest import live_app  # noqa: F401 - fixture
from tests.maps.test_assign_sandbox import _rows, api, portal  # noqa: F401 - fixtures


@pytest.fixture
def store_url(db_url):
    return db_url


@pytest.fixture
def prod(api, monkeypatch):
    """A production deal of the demo portal's first company, not yet done; the map's cache built."""
    live, portal = api.live, api.portal
    portal.faults.drop_events = 1.0          # the test hands the events to the inbox itself
    # the portal's clock stands still here, so its request budget never refills: the other domains' readers
    # of every updated deal (1C gate, work-order stages, deal rules) would spend it — the map's hand-off only
    live.store.kv.set(portal.member_id, DISABLED_KEY, ["sync_1c", "desk", "rules"])
    monkeypatch.setattr(geocoding, "LIMITER", RateLimiter(0.0))
    ids = installed_ids(live.store, portal.member_id)
    client = live.services.client(portal.member_id)
    company = int(client.call("crm.company.list", {"select": ["ID"], "order": {"ID": "ASC"}})[0]["ID"])
    pipe = ids.pipeline("production")
    deal_id = int(client.call("crm.deal.add", {"fields": {
        "TITLE": "Окна ПВХ, 4 шт.", "CATEGORY_ID": pipe.category_id, "STAGE_ID": pipe.stage("in_production"),
        "COMPANY_ID": company, "ASSIGNED_BY_ID": 2,
        ids.deal_field("job_address"): "Москва, ул. Тверская, 7",
        ids.deal_field("coordinates"): "55.757600,37.613500"}}))
    assert api("GET", "/api/maps/jobs")[0] == 200

    class P:
        pass
    p = P()
    p.id, p.ids, p.client, p.live, p.portal, p.company, p.member = (
        deal_id, ids, client, live, portal, company, portal.member_id)
    return p


def _admin_put(p, doc: dict):
    token = pagesession.for_live(p.live, page_sessions.PageSession(p.member, 1, "ru", is_admin=True))
    r = requests.put(p.live.url + "/api/maps/settings", headers={page_sessions.HEADER: token}, json=doc, timeout=30)
    return r.status_code, r.json()


def _event(p, deal_id: int, ts: str) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(p.portal.url)
        rsps.get(re.compile(r"https://nominatim\.openstreetmap\.org/search.*"), json=[])
        accept_event(p.live.store, p.member, {"event": "ONCRMDEALUPDATE", "ts": ts,
                                              "data": {"FIELDS": {"ID": str(deal_id)}}})
        w = p.live.worker()
        while w.run_once():
            pass


def _installations(p) -> list[dict]:
    return p.client.call("crm.deal.list", {"filter": {"ORIGINATOR_ID": "b24app", "ORIGIN_ID": f"handoff:{p.id}"},
                                           "select": ["*", "UF_*"]})


def _comments(p, deal_id: int) -> list[str]:
    return [c["COMMENT"] for c in p.client.call("crm.timeline.comment.list", {
        "filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}})]


def test_done_production_deal_becomes_one_installation_deal_on_the_map(api, prod):
    p = prod
    _event(p, p.id, "1")                                     # still in production: nothing yet
    assert _installations(p) == []

    p.client.call("crm.deal.update", {"id": p.id, "fields": {"STAGE_ID": p.ids.pipeline("production").stage("ready")}})
    _event(p, p.id, "2")
    made = _installations(p)
    assert len(made) == 1
    inst = made[0]
    pipe = p.ids.pipeline("installation")
    assert int(inst["CATEGORY_ID"]) == pipe.category_id and inst["STAGE_ID"] == pipe.stage("new")
    assert inst["TITLE"] == "Монтаж: Окна ПВХ, 4 шт."
    assert int(inst["COMPANY_ID"]) == p.company and int(inst["ASSIGNED_BY_ID"]) == 2
    assert inst[p.ids.deal_field("job_address")] == "Москва, ул. Тверская, 7"
    assert inst[p.ids.deal_field("coordinates")] == "55.757600,37.613500"
    assert str(inst[p.ids.deal_field("source_deal")]) == str(p.id)
    assert any(f"#{inst['ID']}" in c for c in _comments(p, p.id))
    assert any(f"#{p.id}" in c for c in _comments(p, int(inst["ID"])))

    status, doc = api("GET", "/api/maps/jobs")                 # on the map, waiting to be planned
    row = next(r for r in _rows(doc) if r["id"] == int(inst["ID"]))
    assert status == 200 and row["pipeline"] == "installation" and not row.get("worker_id")

    _event(p, p.id, "2")                                     # the same event again
    p.client.call("crm.deal.update", {"id": p.id, "fields": {"TITLE": "Окна ПВХ, 5 шт."}})
    _event(p, p.id, "3")                                     # a later change of the done deal
    p.live.store.kv.delete(p.member, handoff.KV_PREFIX + str(p.id))   # our memory of it lost
    back = p.ids.pipeline("production").stage("in_production")
    p.client.call("crm.deal.update", {"id": p.id, "fields": {"STAGE_ID": back}})
    _event(p, p.id, "4")
    p.client.call("crm.deal.update", {"id": p.id, "fields": {"STAGE_ID": p.ids.pipeline("production").stage("won")}})
    _event(p, p.id, "5")                                     # done again: found by its origin, not made twice
    assert [d["ID"] for d in _installations(p)] == [inst["ID"]]
    assert int(p.live.store.kv.get(p.member, handoff.KV_PREFIX + str(p.id))) == int(inst["ID"])


def test_paid_mode_waits_for_full_payment_and_off_never_hands_over(api, prod):
    p = prod
    status, saved = _admin_put(p, {"handoff": {"when": "paid"}})
    assert status == 200 and saved["settings"]["handoff"] == {"when": "paid"}
    p.client.call("crm.deal.update", {"id": p.id, "fields": {"STAGE_ID": p.ids.pipeline("production").stage("ready")}})
    _event(p, p.id, "1")
    assert _installations(p) == []                           # done, but not paid
    p.client.call("crm.deal.update", {"id": p.id, "fields": {p.ids.deal_field("paid_in_full"): "Y"}})
    _event(p, p.id, "2")
    assert len(_installations(p)) == 1

    other = int(p.client.call("crm.deal.add", {"fields": {
        "TITLE": "Двери", "CATEGORY_ID": p.ids.pipeline("production").category_id,
        "STAGE_ID": p.ids.pipeline("production").stage("ready"), p.ids.deal_field("paid_in_full"): "Y"}}))
    assert _admin_put(p, {"handoff": {"when": "off"}})[0] == 200
    _event(p, other, "3")
    assert p.client.call("crm.deal.list", {"filter": {"ORIGIN_ID": f"handoff:{other}"}, "select": ["ID"]}) == []


@pytest.mark.parametrize("bad", [{"when": "tomorrow"}, {"when": "ready", "x": 1}, "ready"])
def test_handoff_setting_is_checked(prod, bad):
    status, body = _admin_put(prod, {"handoff": bad})
    assert status == 400 and "handoff" in str(body), body
    assert prod.live.store.kv.get(prod.member, "maps.settings") in (None, {})


def test_a_home_address_the_geocoder_cannot_find_is_refused_and_nothing_written(prod):
    """The home base typed on the settings page: found → its point kept beside it; not found → 400 naming
    the worker's address, the stored document unchanged."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru("http://127.0.0.1")
        rsps.get(re.compile(r"https://nominatim\.openstreetmap\.org/search.*q=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0.*"),
                 json=[{"lat": "55.7576", "lon": "37.6135", "display_name": "Москва"}])
        rsps.get(re.compile(r"https://nominatim\.openstreetmap\.org/search.*"), json=[])
        status, saved = _admin_put(prod, {"home_addresses": {"4": "Москва, Тверская 7"}})
        assert status == 200 and saved["settings"]["homes"] == {"4": [55.7576, 37.6135]}
        status, body = _admin_put(prod, {"home_addresses": {"4": "Москва, Тверская 7", "5": "Нигдеград, ул. Нет"}})
    assert status == 400 and "home_addresses.5" in str(body) and "адрес не найден" in str(body)
    assert prod.live.store.kv.get(prod.member, "maps.settings")["homes"] == {"4": [55.7576, 37.6135]}


def test_only_reaching_the_done_stage_hands_over_and_a_failed_hand_off_is_tried_again(api, prod):
    """A production deal that already sat at its done stage when the map knew it is not handed over by a
    later edit (a title changed on old finished orders creates no installations); one that reached it and
    whose hand-off the portal refused is handed over at its next change."""
    p = prod
    ready = p.ids.pipeline("production").stage("ready")
    old = int(p.client.call("crm.deal.add", {"fields": {
        "TITLE": "Старый заказ", "CATEGORY_ID": p.ids.pipeline("production").category_id, "STAGE_ID": ready}}))
    p.live.store.kv.set(p.member, handoff.KV_PREFIX + "0", 0)          # unrelated key: the memory is per deal
    _event(p, old, "1")                                                  # first seen at ready: handed over
    assert len(p.client.call("crm.deal.list", {"filter": {"ORIGIN_ID": f"handoff:{old}"}, "select": ["ID"]})) == 1

    p.client.call("crm.deal.update", {"id": p.id, "fields": {"STAGE_ID": ready}})
    p.portal.faults.fail_method("crm.deal.add", "INTERNAL_SERVER_ERROR", "try later", status=500, times=1)
    _event(p, p.id, "2")                                                 # reached ready; the add refused
    assert _installations(p) == []
    assert p.live.store.kv.get(p.member, handoff.PENDING + str(p.id))
    p.client.call("crm.deal.update", {"id": p.id, "fields": {"TITLE": "Окна ПВХ, 6 шт."}})
    _event(p, p.id, "3")                                                 # its next change: tried again
    assert len(_installations(p)) == 1 and not p.live.store.kv.get(p.member, handoff.PENDING + str(p.id))

    p.live.store.kv.delete(p.member, handoff.KV_PREFIX + str(old))       # an edit of a deal already at ready
    p.client.call("crm.deal.update", {"id": old, "fields": {"TITLE": "Старый заказ (ред.)"}})
    p.client.call("crm.deal.delete", {"id": int(p.client.call("crm.deal.list", {
        "filter": {"ORIGIN_ID": f"handoff:{old}"}, "select": ["ID"]})[0]["ID"])})
    _event(p, old, "4")                                                  # was ready, is ready: nothing new
    assert p.client.call("crm.deal.list", {"filter": {"ORIGIN_ID": f"handoff:{old}"}, "select": ["ID"]}) == []
