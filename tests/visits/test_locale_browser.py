"""The visit calendar speaks the portal's language (issue 14), in headless Chromium inside the sandbox
portal page: the month grid has a weekday header (пн … вс), the month is a name, not "2026-01"; a server
refusal reaches the toast in Russian ("the visit date is required" used to arrive in English); the visit is
moved from its card. Screenshots: test-artifacts/visits-calendar-ru.png, visits-card-rescheduled.png."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from b24sandbox.page import placements
from visits import create as vcreate
from tests.browser import in_browser


@pytest.mark.browser
def test_calendar_weekdays_month_name_and_a_refusal_in_russian(visits, artifacts_dir):
    portal, live = visits.portal, visits.live
    menu = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/visit-calendar"))
    item = vcreate.create_visit(visits.services, visits.member_id, visits.company(20)["ID"],
                                date.today().isoformat(), "planned", "Показ")
    later = (date.today() + timedelta(days=10)).isoformat()

    def drive(b):
        out = {}
        page = b.new_page(viewport={"width": 1300, "height": 900})
        page.goto(f"{portal.url}/marketplace/app/{live.client_id}/?placement={menu['id']}")
        frame = page.wait_for_selector("iframe", timeout=15000).content_frame()
        frame.wait_for_selector("[data-b24app=calendar] [data-b24app=weekday]", timeout=20000)
        out["weekdays"] = frame.eval_on_selector_all("[data-b24app=weekday]", "els => els.map(e => e.textContent)")
        out["month"] = frame.inner_text("[data-b24app=month]")
        page.screenshot(path=str(artifacts_dir / "visits-calendar-ru.png"))
        frame.click(f"[data-b24app=calendar] .chip[data-visit='{item['id']}']")
        frame.wait_for_selector("[data-b24app=repeat]", timeout=20000)
        frame.click("[data-b24app=repeat]")                         # no date picked: the server refuses
        frame.wait_for_selector("#toast:not([hidden])", timeout=20000)
        out["toast"] = frame.inner_text("#toast")
        # the visit moved from its card: the toast says so, the portal holds the new date
        frame.fill("[data-b24app=view] input[name=reschedule_date]", f"{later}T11:00")
        frame.click("[data-b24app=reschedule]")
        frame.wait_for_function("(t) => document.getElementById('toast').textContent === t",
                                arg="Визит перенесён", timeout=20000)
        page.screenshot(path=str(artifacts_dir / "visits-card-rescheduled.png"))
        return out

    out = in_browser(drive)
    assert [w.strip(".").lower() for w in out["weekdays"]] == ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]
    assert not re.search(r"\d{4}-\d{2}", out["month"]) and re.search(r"[а-я]+ \d{4}", out["month"].lower())
    assert "укажите дату визита" in out["toast"], out["toast"]
    assert not re.search(r"[A-Za-z]{4,}", out["toast"]), out["toast"]          # no English words reach it
    assert visits.item(item["id"])[visits.v.field("visit_date")].startswith(f"{later}T11:00")
