"""The phone page (/m/<token>) in headless Chromium at a phone's viewport, on an English portal whose time
zone is far from UTC: register an unplanned visit on the spot (find the company, the date is the portal's
now), land on the visit page; the day route defaults to the portal's date; the company map starts with
the configured "visited" period and its popup shows the fields the administrator chose, as text.
Screenshots go to test-artifacts/. Playwright runs in its own thread (see tests/app/test_pages.py)."""
from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from b24app import session as page_sessions
from tests import pagesession
from tests.browser import in_browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def _camera_png(w: int = 2400, h: int = 1800) -> bytes:
    """A camera-sized PNG (low-amplitude noise, several MB): over the app's 2 MB limit as it is."""
    import struct
    import zlib

    table = bytes(100 + (b & 31) for b in range(256))
    rows = b"".join(b"\x00" + os.urandom(w * 3).translate(table) for _ in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))


def _far_zone() -> str:
    """A zone whose date differs from UTC's date right now (so a toISOString() default would be wrong)."""
    return "Etc/GMT+12" if datetime.now(UTC).hour < 12 else "Etc/GMT-14"


@pytest.mark.browser
def test_phone_registers_a_visit_and_the_pages_follow_the_portal(visits, artifacts_dir, monkeypatch):
    from install.registry import installed_ids
    monkeypatch.setenv("B24APP_TILES_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")
    live, portal, mid = visits.live, visits.portal, visits.member_id
    tz = _far_zone()
    kv = live.store.kv
    kv.set(mid, "visits.tz", tz)
    p = live.store.portals.get(mid)
    p.lang = "en"
    live.store.portals.upsert(p)
    admin = pagesession.for_live(live, page_sessions.PageSession(member_id=mid, user_id=1, lang="en", is_admin=True))
    region = installed_ids(live.store, mid).company_field("region")
    r = requests.post(live.url + "/api/visits/settings", headers={page_sessions.HEADER: admin}, timeout=30,
                      json={"popup_fields": ["COMMENTS", region], "visited_period": "14d"})
    assert r.status_code == 200, r.text
    target, shown = visits.company(80), visits.company(81)
    visits.client.call("crm.company.update", {"id": target["ID"], "fields": {"TITLE": "Zeta Phone Store"}})
    visits.client.call("crm.company.update", {"id": shown["ID"], "fields": {
        "COMMENTS": "<img src=x onerror=\"window.pwned=1\">", region: "North"}})
    token = pagesession.for_live(live, page_sessions.PageSession(member_id=mid, user_id=1, lang="en"))
    link = pagesession.phone_link(live, token)
    etid = visits.v.entity_type_id
    photo = _camera_png()
    from visits.act import MAX_PHOTO_BYTES

    assert len(photo) > MAX_PHOTO_BYTES

    def drive(b):
        out = {}
        page = b.new_page(**PHONE)
        page.goto(link)
        page.wait_for_selector("[data-b24app=register] input[name=company_q]", timeout=20000)
        out["tabs"] = page.inner_text("#tabs")
        out["register_title"] = page.inner_text("[data-b24app=register] h3")
        out["input_height"] = page.evaluate(
            "document.querySelector('[data-b24app=register] input[name=company_q]').getBoundingClientRect().height")
        page.tap("[data-b24app=register] input[name=company_q]")
        page.keyboard.type("Zeta Ph")
        page.wait_for_selector(f".pick[data-company='{target['ID']}']", timeout=20000)
        page.screenshot(path=str(artifacts_dir / "visits-phone-register-search.png"), full_page=True)
        page.tap(f".pick[data-company='{target['ID']}']")
        form = "[data-b24app=register] [data-b24app=new-visit]"
        page.wait_for_selector(form, timeout=10000)
        out["prefilled"] = page.input_value(f"{form} input[name=date]")
        out["type"] = page.input_value(f"{form} select[name=type]")
        page.fill(f"{form} textarea[name=purpose]", "Shelf check")
        page.screenshot(path=str(artifacts_dir / "visits-phone-register-form.png"), full_page=True)
        page.tap(f"{form} button[type=submit]")
        page.wait_for_selector("[data-b24app=visit]", timeout=20000)       # straight to the visit page
        page.wait_for_selector("[data-b24app=result-form]", timeout=20000)
        out["visit_text"] = page.inner_text("[data-b24app=visit]")
        out["width_fits"] = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.screenshot(path=str(artifacts_dir / "visits-phone-registered-visit.png"), full_page=True)
        # the result with a camera photo: scaled down on the phone, attached to the timeline
        page.fill("[data-b24app=result-form] textarea[name=result]", "Order for 3 items")
        page.set_input_files("[data-b24app=result-form] input[type=file]",
                             files=[{"name": "IMG_0042.png", "mimeType": "image/png", "buffer": photo}])
        page.tap("[data-b24app=result-form] button[type=submit]")
        page.wait_for_function("() => !document.querySelector('[data-b24app=result-form]') && "
                               "document.querySelector('[data-b24app=visit]')", timeout=30000)
        out["after_result"] = page.inner_text("[data-b24app=visit]")
        # the day route starts on the portal's today
        page.tap("#tabs button[data-view=route]")
        out["route_day"] = page.input_value("[data-b24app=view] input[name=day]")
        # the company map: the configured period, the chosen popup fields as text
        page.tap("#tabs button[data-view=map]")
        page.wait_for_function("() => window.b24appVisitMarkers && "
                               "Object.keys(window.b24appVisitMarkers).length >= 300",
                               timeout=20000)
        out["period"] = page.input_value("[data-b24app=period]")
        out["period_label"] = page.evaluate(
            "(() => { const s = document.querySelector('[data-b24app=period]');"
            " return s.options[s.selectedIndex].text; })()")
        page.evaluate("(id) => window.b24appVisitMarkers[id].openPopup()", shown["ID"])
        popup = f"[data-b24app=popup][data-company='{shown['ID']}']"
        page.wait_for_selector(popup, timeout=10000)
        out["popup_fields"] = page.inner_text(f"{popup} [data-b24app=popup-fields]")
        out["popup_imgs"] = page.evaluate(f"document.querySelectorAll(\"{popup} img\").length")
        out["pwned"] = page.evaluate("window.pwned || 0")
        page.screenshot(path=str(artifacts_dir / "visits-phone-map-popup.png"))
        return out

    started = datetime.now(ZoneInfo(tz))
    out = in_browser(drive)
    local_today = datetime.now(ZoneInfo(tz)).date().isoformat()
    assert local_today != datetime.now(UTC).date().isoformat()          # the zone makes the point
    # English, sized for a finger
    assert out["tabs"].split() == ["Calendar", "Company", "map", "Stats", "Day", "route"]
    assert out["register_title"] == "Register a visit" and not re.search("[а-яА-Я]", out["visit_text"].replace(
        "Zeta Phone Store", ""))
    assert out["input_height"] >= 44 and out["width_fits"]
    # the form started at the portal's now, as an unplanned visit; the visit is in the portal
    assert out["prefilled"][:10] == started.date().isoformat() and out["type"] == "unplanned"
    (item,) = [r for r in portal.db.table_for(etid).rows.values() if int(r.get("COMPANY_ID") or 0) == target["ID"]]
    assert item["ASSIGNED_BY_ID"] == target["ASSIGNED_BY_ID"] and "Draft" in out["visit_text"]   # created in Draft
    got = visits.item(int(item["ID"]))
    assert got[visits.v.field("purpose")] == "Shelf check"
    assert got[visits.v.field("visit_type")] == visits.v.enum_id("visit_type", "unplanned")
    when = datetime.fromisoformat(got[visits.v.field("visit_date")]).astimezone(ZoneInfo(tz))
    assert when.strftime("%Y-%m-%dT%H:%M") == out["prefilled"]
    assert "Zeta Phone Store" in out["visit_text"] and "Unplanned" in out["visit_text"]
    # the photo: scaled on the phone to a JPEG under the limit, on the visit's timeline
    assert visits.stage_key(int(item["ID"])) == "done" and "Order for 3 items" in out["after_result"]
    (comment,) = [c for c in portal.db.comments.rows.values() if c["ENTITY_ID"] == int(item["ID"])
                  and c["ENTITY_TYPE"] == f"dynamic_{etid}"]
    (f,) = comment["FILES"]
    assert f["name"] == "IMG_0042.jpg" and f["type"] == "image" and f["content"][:3] == b"\xff\xd8\xff"
    assert 10_000 < f["size"] <= MAX_PHOTO_BYTES
    # the route's day and the map's period
    assert out["route_day"] == local_today
    assert out["period"] == "14d" and out["period_label"] == "last 14 days"
    assert "<img src=x onerror=\"window.pwned=1\">" in out["popup_fields"] and "North" in out["popup_fields"]
    assert out["popup_imgs"] == 0 and out["pwned"] == 0
