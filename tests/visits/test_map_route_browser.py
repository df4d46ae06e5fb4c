"""The company map in headless Chromium (issue 14): three companies picked in their popups become one day's
route under the map, "Plan the visits" plans a visit at each arrival (in route order, for the person), and a
company's pin is dragged to its exact place — the portal's company then carries the new coordinates.
Screenshots in test-artifacts/."""
from __future__ import annotations

import pytest

from b24sandbox.page import placements
from install.registry import installed_ids
from tests.browser import DESKTOP, in_browser, open_app_frame
from tests.visits.test_day_route import DAY, _place


@pytest.mark.browser
def test_pick_companies_for_a_day_route_plan_the_visits_and_move_a_pin(visits, artifacts_dir, monkeypatch):
    monkeypatch.setenv("B24APP_TILES_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")
    portal, live = visits.portal, visits.live
    menu = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/visit-calendar"))
    picked = [int(_place(visits, 60 + i, lat, lon)) for i, (lat, lon) in
              enumerate([(55.80, 37.70), (55.70, 37.50), (55.75, 37.60)])]
    moved = int(_place(visits, 70, 55.76, 37.64))
    coord_f = installed_ids(live.store, visits.member_id).company_field("coordinates")

    def drive(browser):
        out = {}
        page = browser.new_page(viewport=DESKTOP)
        frame = open_app_frame(page, f"{portal.url}/marketplace/app/{live.client_id}/?placement={menu['id']}",
                               ready="[data-b24app=calendar]")
        frame.click("#tabs button[data-view=map]")
        frame.wait_for_function("() => window.b24appVisitMarkers && "
                                "Object.keys(window.b24appVisitMarkers).length >= 300", timeout=20000)
        for cid in picked:
            frame.evaluate("(id) => window.b24appVisitMarkers[id].openPopup()", cid)
            frame.click(f"[data-b24app=popup][data-company='{cid}'] [data-b24app=pick]")
        out["count"] = frame.inner_text("[data-b24app=pick-count]")
        frame.fill("[data-b24app=pick-bar] input[name=pick_day]", DAY)
        frame.click("[data-b24app=pick-route-build]")
        frame.wait_for_function("() => document.querySelectorAll('[data-b24app=pick-route] li').length === 3",
                                timeout=20000)
        out["preview"] = frame.evaluate("Array.from(document.querySelectorAll('[data-b24app=pick-route] li'))"
                                        ".map(li => +li.dataset.company)")
        frame.click("[data-b24app=pick-route-plan]")
        frame.wait_for_selector("[data-b24app=pick-route][data-created='3']", timeout=20000)
        out["planned"] = frame.evaluate("Array.from(document.querySelectorAll('[data-b24app=pick-route] li'))"
                                        ".map(li => [+li.dataset.company, li.querySelector('b').textContent.trim()])")
        page.screenshot(path=str(artifacts_dir / "visits-map-day-route.png"), full_page=True)

        frame.evaluate("(id) => window.b24appVisitMarkers[id].openPopup()", moved)
        frame.click(f"[data-b24app=popup][data-company='{moved}'] [data-b24app=move-pin]")
        handle = frame.wait_for_selector(".leaflet-marker-draggable", timeout=10000)
        box = handle.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] + 40, steps=8)
        page.mouse.up()
        frame.wait_for_selector(f"[data-b24app=map][data-pinned='{moved}']", timeout=20000)
        page.screenshot(path=str(artifacts_dir / "visits-map-pin-moved.png"))
        return out

    out = in_browser(drive)
    assert out["count"] == "3" and sorted(out["preview"]) == sorted(picked)
    v = visits.v
    made = [r for r in visits.portal.db.table_for(v.entity_type_id).rows.values()
            if int(r.get("COMPANY_ID") or 0) in picked]
    assert len(made) == 3                                                    # one visit per picked company
    when = {int(r["COMPANY_ID"]): visits.item(int(r["ID"]))[v.field("visit_date")][11:16] for r in made}
    assert [[c, when[c]] for c, _ in out["planned"]] == out["planned"]      # at the arrivals shown, in route order
    lat, lon = (float(x) for x in visits.client.call("crm.company.get", {"id": moved})[coord_f].split(","))
    assert (round(lat, 2), round(lon, 2)) != (55.76, 37.64)                 # the pin moved east and south
    assert lon > 37.64 and lat < 55.76
