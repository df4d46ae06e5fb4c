"""Correcting a placed job's pin in headless Chromium inside the sandbox portal page: "move pin" in the job's
popup, then a click on the map (and, for a second job, a drag of the marker). The deal's coordinates field
in the sandbox changes, the map version moves on (every open map re-fetches), and the manual pin overrides
the geocoder for that address: later deal events and a new deal at the same address never ask Nominatim
again. Nominatim is the only mocked HTTP (``responses``); the portal is the sandbox over real HTTP."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
import responses

from b24app.inbox import accept_event
from install.registry import installed_ids
from maps import geocoding
from maps.geocode import RateLimiter
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.maps.test_dispatch_browser import _api, _frame, _open_map, _popup, _shot, portal  # noqa: F401
from tests.browser import in_browser

PLACES = {"Москва, Тверская улица, 7": ("55.7597", "37.6107"), "Москва, Арбат, 10": ("55.7520", "37.5960")}


def _nominatim(request):
    q = parse_qs(urlparse(request.url).query)["q"][0]
    hit = next(((lat, lon) for addr, (lat, lon) in PLACES.items() if addr in q), None)
    body = f'[{{"lat": "{hit[0]}", "lon": "{hit[1]}", "display_name": "{q}", "place_id": 1}}]' if hit else "[]"
    return 200, {"Content-Type": "application/json"}, body


def _point(value: str) -> tuple[float, float]:
    lat, lon = map(float, value.split(","))
    return lat, lon


@pytest.mark.browser
def test_move_a_placed_pin_overrides_the_geocoder(live_app, portal, artifacts_dir, monkeypatch):
    url = _open_map(live_app, portal, monkeypatch)
    api = _api(live_app, portal)
    monkeypatch.setattr(geocoding, "LIMITER", RateLimiter(0.0))
    ids = installed_ids(live_app.store, portal.member_id)
    p, coords, addr = ids.pipeline("measurements"), ids.deal_field("coordinates"), ids.deal_field("job_address")
    client = live_app.services.client(portal.member_id)
    clicked = int(client.call("crm.deal.add", {"fields": {"TITLE": "Замер: метка не там", "CATEGORY_ID": p.category_id,
                                                          "STAGE_ID": p.stage("new"),
                                                          addr: "Москва, Тверская улица, 7"}}))
    dragged = int(client.call("crm.deal.add", {"fields": {"TITLE": "Замер: перетащить", "CATEGORY_ID": p.category_id,
                                                          "STAGE_ID": p.stage("new"), addr: "Москва, Арбат, 10"}}))
    ts = iter(range(1, 100))

    def drain(event, deal_id):
        accept_event(live_app.store, portal.member_id, {"event": event, "ts": str(next(ts)),
                                                        "data": {"FIELDS": {"ID": str(deal_id)}}})
        w = live_app.worker()
        while w.run_once():
            pass

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(portal.url)
        rsps.add_passthru(live_app.url)
        rsps.add_callback(responses.GET, re.compile(r"https://nominatim\.openstreetmap\.org/search.*"), _nominatim)
        drain("ONCRMDEALADD", clicked)
        drain("ONCRMDEALADD", dragged)
        geocoded = len(rsps.calls)
        assert portal.db.deals.get(clicked)[coords] == "55.759700,37.610700"      # where the geocoder put it
        assert portal.db.deals.get(dragged)[coords] == "55.752000,37.596000"
        version_before = api("GET", "/api/maps/jobs")["version"]
        portal.clock.advance(300)          # the sandbox's leaky bucket drains on its (fake) clock only

        def drive(b):
            from playwright.sync_api import TimeoutError as PlaywrightTimeout
            page = b.new_page(viewport={"width": 1400, "height": 900})
            frame = _frame(page, url)
            frame.wait_for_function("(id) => !!b24map.byId[id]", arg=clicked, timeout=20000)
            out = {}
            # 1) move pin, then a click on the map where the address really is (no jobs there)
            popup = _popup(frame, clicked)
            out["button"] = frame.inner_text(f"{popup} [data-b24app=move-pin]")
            frame.click(f"{popup} [data-b24app=move-pin]")
            frame.wait_for_selector(".b24-place", timeout=5000)
            out["hint"] = frame.inner_text("#side[data-view=move-pin] #side-job")
            frame.evaluate("() => b24map.map.setView([55.32, 38.35], 13, {animate: false})")
            box = frame.query_selector("#map").bounding_box()
            x, y = box["width"] * 0.3, box["height"] * 0.4
            out["expected"] = frame.evaluate("([x, y]) => { const ll = b24map.map.containerPointToLatLng([x, y]);"
                                             " return [ll.lat, ll.lng]; }", [x, y])
            frame.click("#map", position={"x": x, "y": y})
            frame.wait_for_selector(f"#side[data-pinned='deal:{clicked}']", state="attached",
                                    timeout=20000)
            frame.wait_for_function("([id, lat]) => Math.abs(b24map.byId[id].lat - lat) < 1e-3",
                                    arg=[clicked, out["expected"][0]], timeout=20000)
            out["marker"] = frame.evaluate("(id) => [b24map.byId[id].lat, b24map.byId[id].lon]", clicked)
            out["placing_left"] = frame.evaluate("() => !!document.querySelector('.b24-place')")
            out["done"] = frame.inner_text("#side-job")
            _shot(page, artifacts_dir / "pin-moved-click.png")
            # 2) the other job: move pin, then drag the marker, which starts on the job itself
            popup = f".b24-popup[data-deal-id='{dragged}']"
            mark = None
            for _ in range(3):        # a map redraw (the first move's refresh) may swap the popup under the click
                frame.evaluate("(id) => b24map.focusJob(id, true)", dragged)
                frame.wait_for_selector(popup, timeout=10000)
                frame.click(f"{popup} [data-b24app=move-pin]")
                try:
                    mark = frame.wait_for_selector(".b24-place", timeout=5000).bounding_box()
                    break
                except PlaywrightTimeout:
                    continue
            assert mark is not None, "move pin never started on the second job"
            area = frame.query_selector("#map").bounding_box()
            cx, cy = mark["x"] + mark["width"] / 2, mark["y"] + mark["height"] / 2
            out["drag_start"] = frame.evaluate("([x, y]) => { const ll = b24map.map.containerPointToLatLng([x, y]);"
                                               " return [ll.lat, ll.lng]; }", [cx - area["x"], cy - area["y"]])
            page.mouse.move(cx, cy)
            page.mouse.down()
            page.mouse.move(cx + 40, cy + 25, steps=4)
            page.mouse.move(cx + 90, cy + 60, steps=4)
            page.mouse.up()
            out["dropped"] = frame.evaluate("([x, y]) => { const ll = b24map.map.containerPointToLatLng([x, y]);"
                                            " return [ll.lat, ll.lng]; }",
                                            [cx + 90 - area["x"], cy + 60 - area["y"]])
            frame.wait_for_selector(f"#side[data-pinned='deal:{dragged}']", state="attached",
                                    timeout=20000)
            _shot(page, artifacts_dir / "pin-moved-drag.png")
            return out

        out = in_browser(drive)
        assert len(rsps.calls) == geocoded                      # the map and the pins never call the geocoder
        portal.clock.advance(300)
        # the deals' own updates (our crm.deal.update fires ONCRMDEALUPDATE) and a later edit of another field
        drain("ONCRMDEALUPDATE", clicked)
        drain("ONCRMDEALUPDATE", dragged)
        client.call("crm.deal.update", {"id": clicked, "fields": {"TITLE": "Замер: метка исправлена"}})
        drain("ONCRMDEALUPDATE", clicked)
        # a new job at the corrected address lands on the manual pin, not on the geocoder's answer
        same = int(client.call("crm.deal.add", {"fields": {"TITLE": "Замер: тот же адрес", "CATEGORY_ID": p.category_id,
                                                           "STAGE_ID": p.stage("new"),
                                                           addr: "Москва, Тверская улица, 7"}}))
        drain("ONCRMDEALADD", same)
        assert len(rsps.calls) == geocoded                      # Nominatim was not asked again
    assert geocoded == 2
    assert out["button"] == "Поправить метку" and "перетащите метку" in out["hint"]
    lat, lon = _point(portal.db.deals.get(clicked)[coords])
    assert abs(lat - out["expected"][0]) < 1e-3 and abs(lon - out["expected"][1]) < 1e-3
    assert out["done"].startswith("Метка поставлена: ")
    assert abs(out["marker"][0] - lat) < 1e-5 and abs(out["marker"][1] - lon) < 1e-5 and not out["placing_left"]
    assert abs(out["drag_start"][0] - 55.752) < 1e-3 and abs(out["drag_start"][1] - 37.596) < 1e-3
    lat2, lon2 = _point(portal.db.deals.get(dragged)[coords])
    assert abs(lat2 - out["dropped"][0]) < 1e-3 and abs(lon2 - out["dropped"][1]) < 1e-3
    assert (round(lat2, 4), round(lon2, 4)) != (55.752, 37.596)
    assert _point(portal.db.deals.get(same)[coords]) == (lat, lon)
    assert _point(portal.db.deals.get(clicked)[coords]) == (lat, lon)
    assert api("GET", "/api/maps/jobs")["version"] > version_before
