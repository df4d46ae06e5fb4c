"""The visit calendar in headless Chromium inside the sandbox portal page (so the page's CSP frame-ancestors
lets the portal frame it): "Open on the phone" shows the link and its QR code (an <img>, the SVG as a
data: URL) that decodes to that very link; the day route shows its Yandex link as a link, not as text.
Playwright runs in its own thread (tests/app/test_pages._in_thread)."""
from __future__ import annotations

from urllib.parse import unquote

import pytest

from b24sandbox.page import placements
from tests.visits.test_day_route import DAY, MANAGER, _place, _visit
from tests.visits.test_phone_links import _matrix, _modules
from tests.browser import in_browser


@pytest.mark.browser
def test_phone_link_with_its_qr_code_and_the_route_link(visits, artifacts_dir, monkeypatch):
    monkeypatch.setenv("B24APP_TILES_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")
    portal, live = visits.portal, visits.live
    for i, (lat, lon, hhmm) in enumerate([(55.70, 37.50, "10:00"), (55.79, 37.71, "00:00")]):
        _visit(visits, _place(visits, 90 + i, lat, lon), hhmm)
    menu = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/visit-calendar"))

    def drive(b):
        out = {}
        page = b.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{portal.url}/marketplace/app/{live.client_id}/?placement={menu['id']}")
        frame = page.wait_for_selector("iframe", timeout=15000).content_frame()
        frame.wait_for_selector("[data-b24app=calendar]", timeout=20000)
        frame.click("[data-b24app=phone-link]")
        frame.wait_for_function("() => { const i = document.querySelector('[data-b24app=phone-qr]');"
                                " return i && i.complete && i.naturalWidth > 0; }", timeout=20000)
        out["url"] = frame.inner_text("[data-b24app=phone-url]")
        out["href"] = frame.get_attribute("[data-b24app=phone-url]", "href")
        out["src"] = frame.get_attribute("[data-b24app=phone-qr]", "src")
        out["svg_nodes"] = frame.evaluate("document.querySelectorAll('svg').length")
        frame.locator("[data-b24app=phone-qr]").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "visits-phone-link-qr.png"))
        frame.click("#tabs button[data-view=route]")
        frame.fill("[data-b24app=view] input[name=day]", DAY)
        frame.wait_for_selector(f"[data-b24app=view] select[name=manager] option[value='{MANAGER}']",
                                state="attached", timeout=20000)            # people by name, not ids
        out["manager_name"] = frame.inner_text(f"[data-b24app=view] select[name=manager] option[value='{MANAGER}']")
        frame.select_option("[data-b24app=view] select[name=manager]", str(MANAGER))
        frame.click("[data-b24app=view] button.primary")
        frame.wait_for_selector("[data-b24app=route] a[data-b24app=route-link]", timeout=20000)
        out["route_text"] = frame.inner_text("[data-b24app=route]")
        out["route_links"] = frame.evaluate("Array.from(document.querySelectorAll("
                                            "'[data-b24app=route] a[data-b24app=route-link]')).map(a => a.href)")
        return out

    out = in_browser(drive)
    assert out["url"].startswith(live.url + "/m/") and out["href"] == out["url"]
    assert out["manager_name"] and not out["manager_name"].strip().lstrip("#").isdigit()
    prefix = "data:image/svg+xml;charset=utf-8,"
    assert out["src"].startswith(prefix) and out["svg_nodes"] == 0           # an image, not markup in the DOM
    assert _modules(unquote(out["src"][len(prefix):])) == _matrix(out["url"])
    assert out["route_links"] and all(u.startswith("https://yandex.") for u in out["route_links"])
    assert "autonull" not in out["route_text"] and "null" not in out["route_text"]
    assert "yandex" not in out["route_text"].lower()                          # a link's label, not its URL as text
