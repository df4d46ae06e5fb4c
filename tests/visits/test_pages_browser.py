"""The visit pages in headless Chromium inside the sandbox portal page, as a sales manager sees them:
plan a visit from the company card's "Visits" tab and from the company map's popup, then find both in the
visit calendar; a phone-sized screenshot of the calendar through the signed phone link. Tiles are
unreachable on purpose — the markers are drawn anyway. Playwright runs in its own thread."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from b24sandbox.page import placements
from tests.browser import in_browser


@pytest.mark.browser
def test_plan_visits_from_company_tab_and_map_then_see_them_in_the_calendar(visits, artifacts_dir, monkeypatch):
    monkeypatch.setenv("B24APP_TILES_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")
    portal, live = visits.portal, visits.live
    tab = next(p for p in placements(portal, "CRM_COMPANY_DETAIL_TAB") if p["handler"].endswith("/company-visits"))
    menu = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/visit-calendar"))
    c_tab, c_map = visits.company(40), visits.company(41)
    day1 = (date.today() + timedelta(days=1)).isoformat() if date.today().day < 27 else date.today().isoformat()
    day2 = date.today().replace(day=15).isoformat()
    etid = visits.v.entity_type_id

    def items_of(company_id):
        return [r for r in portal.db.table_for(etid).rows.values() if int(r.get("COMPANY_ID") or 0) == company_id]

    def drive(b):
        out = {}
        page = b.new_page(viewport={"width": 1300, "height": 900})
        # 1. the company card's Visits tab
        page.goto(f"{portal.url}/crm/company/details/{c_tab['ID']}/?tab={tab['id']}")
        frame = page.wait_for_selector("iframe", timeout=15000).content_frame()
        frame.wait_for_selector("[data-b24app=new-visit]", timeout=20000)
        frame.fill("[data-b24app=new-visit] input[name=date]", f"{day1}T10:30")
        frame.select_option("[data-b24app=new-visit] select[name=type]", "training")
        frame.fill("[data-b24app=new-visit] textarea[name=purpose]", "<script>alert(1)</script> Обучение")
        frame.click("[data-b24app=new-visit] button[type=submit]")
        frame.wait_for_selector("[data-b24app=planned] .visit", timeout=20000)
        out["tab_text"] = frame.inner_text("[data-b24app=planned]")
        page.screenshot(path=str(artifacts_dir / "visits-company-tab.png"))
        # 2. the company map in the visit calendar app
        page.goto(f"{portal.url}/marketplace/app/{live.client_id}/?placement={menu['id']}")
        frame = page.wait_for_selector("iframe", timeout=15000).content_frame()
        frame.wait_for_selector("[data-b24app=calendar]", timeout=20000)
        frame.click("#tabs button[data-view=map]")
        frame.wait_for_function("() => window.b24appVisitMarkers && "
                                "Object.keys(window.b24appVisitMarkers).length >= 300",
                                timeout=20000)
        out["markers"] = frame.evaluate("Object.keys(window.b24appVisitMarkers).length")
        frame.evaluate("(id) => window.b24appVisitMarkers[id].openPopup()", c_map["ID"])
        popup = f"[data-b24app=popup][data-company='{c_map['ID']}']"
        frame.wait_for_selector(popup, timeout=10000)
        out["popup"] = frame.inner_text(popup)
        frame.click(f"{popup} [data-b24app=plan-visit]")
        frame.fill(f"{popup} input[name=date]", f"{day2}T14:00")
        page.screenshot(path=str(artifacts_dir / "visits-company-map-popup.png"))
        frame.click(f"{popup} button[type=submit]")
        frame.wait_for_function("() => document.getElementById('toast').textContent.indexOf('#') > 0",
                                timeout=20000)
        # 3. the calendar shows both
        frame.click("#tabs button[data-view=calendar]")
        frame.wait_for_selector("[data-b24app=calendar]", timeout=20000)
        ids = [int(r["ID"]) for r in items_of(c_tab["ID"]) + items_of(c_map["ID"])]
        out["ids"] = ids
        for i in ids:
            frame.wait_for_selector(f"[data-b24app=calendar] .chip[data-visit='{i}']", timeout=20000)
        page.screenshot(path=str(artifacts_dir / "visits-calendar.png"))
        frame.click("[data-b24app=by-manager]")
        frame.wait_for_selector("[data-b24app=calendar] .chip", timeout=20000)
        page.screenshot(path=str(artifacts_dir / "visits-calendar-by-manager.png"))
        # 4. the visit page from the calendar
        frame.click(f"[data-b24app=calendar] .chip[data-visit='{ids[0]}']")
        frame.wait_for_selector("[data-b24app=company-card]", timeout=20000)
        out["visit_text"] = frame.inner_text("[data-b24app=visit]")
        page.screenshot(path=str(artifacts_dir / "visits-visit-page.png"))
        # 5. the phone link, opened on a phone-sized browser
        frame.click("#tabs button[data-view=calendar]")
        frame.wait_for_selector("[data-b24app=calendar]", timeout=20000)
        frame.click("text=" + ("Открыть на телефоне"))
        url = frame.wait_for_selector("[data-b24app=phone-url]", timeout=10000).get_attribute("href")
        phone = b.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        phone.goto(url)
        phone.wait_for_selector("[data-b24app=calendar] .chip", timeout=20000)
        phone.screenshot(path=str(artifacts_dir / "visits-phone-calendar.png"), full_page=True)
        return out

    out = in_browser(drive)
    assert out["markers"] == 300
    assert c_map["TITLE"] in out["popup"]
    assert "<script>alert(1)</script> Обучение" in out["tab_text"]        # shown as text, not run
    assert len(out["ids"]) == 2
    (tab_item,) = items_of(c_tab["ID"])
    assert tab_item["STAGE_ID"] == visits.v.stage("draft")
    assert tab_item["ASSIGNED_BY_ID"] == c_tab["ASSIGNED_BY_ID"]
    assert any(e["DATE_FROM"].startswith(f"{day1}T10:30") for e in portal.db.calendar_events.rows.values())
    assert c_tab["TITLE"] in out["visit_text"] or c_map["TITLE"] in out["visit_text"]
