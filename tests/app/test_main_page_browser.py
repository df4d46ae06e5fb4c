"""The main page in headless Chromium inside the sandbox portal page, as an administrator and a manager
see it: the hub opens the dispatcher in the portal's slider; the administrator saves dispatch working
hours (a bad one first: the 400's words are shown), a visits setting and a 1C connection pointing at the
1C sandbox, and "check connection" says OK — each checked through the JSON GET; a manager sees the hub
without settings; after a sync, LANG=en gives the English page with the last sync and the review list.
Playwright runs in its own thread (tests/app/test_pages)."""
from __future__ import annotations

import re

import pytest
import requests
import responses

from b24app import session as page_sessions
from tests import pagesession
from b24sandbox.onec import start as start_1c
from tests.browser import in_browser


@pytest.fixture
def onec():
    sb = start_1c()
    yield sb
    sb.shutdown()


def _text(frame, selector: str, contains: str, timeout=20000):
    frame.wait_for_function("([s, t]) => { const n = document.querySelector(s);"
                            " return n && n.textContent.indexOf(t) >= 0; }",
                            arg=[selector, contains], timeout=timeout)
    return frame.inner_text(selector)


@pytest.mark.browser
def test_admin_hub_and_settings_manager_hub_only_english_by_lang(live_app, portal, onec, artifacts_dir, monkeypatch):
    monkeypatch.setenv("B24APP_TILES_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")
    assert live_app.install(portal)["progress"]["state"] == "done"
    manager = portal.db.add_user("Ольга", "Смирнова", "olga@example.ru")
    app_url = f"{portal.url}/marketplace/app/{live_app.client_id}/"

    def drive(b):
        out = {}
        page = b.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(app_url)
        frame = page.wait_for_selector("iframe#app-frame", timeout=15000).content_frame()
        frame.wait_for_selector("[data-b24app=hub] [data-page=dispatcher]", timeout=20000)
        frame.wait_for_selector("[data-b24app=settings-dispatch] [name=p_start]", timeout=20000)
        frame.wait_for_selector("[data-b24app=settings-visits] [name=repeat_days]", timeout=20000)
        frame.wait_for_selector("[data-b24app=settings-1c] [name=base_url]", timeout=20000)
        out["install"] = frame.inner_text("[data-b24app=install-state]")
        page.screenshot(path=str(artifacts_dir / "main-admin-hub.png"), full_page=True)
        # dispatch: a day that ends before it starts is refused in words, then good hours are saved
        d = "[data-b24app=settings-dispatch]"
        frame.fill(f"{d} [name=p_start]", "08:00")
        frame.fill(f"{d} [name=p_end]", "07:00")
        frame.click(f"{d} button[type=submit]")
        out["bad_hours"] = _text(frame, "[data-b24app=msg-dispatch]", "hours.end")
        frame.fill(f"{d} [name=p_end]", "17:30")
        frame.click(f"{d} [data-b24app=add-worker]")
        frame.fill(f"{d} [data-worker-row] [name=worker_q]", "Смирн")         # people by name, not by id
        frame.click(f"{d} [data-b24app=worker-results] button[data-user-id='{manager}']")
        frame.locator(f"{d} [data-worker-row] input[type=time]").first.fill("10:00")
        frame.fill(f"{d} [data-worker-row] [name=home_address]", "Москва, Тверская 7")
        frame.fill(f"{d} [name=team_q_installation]", "Смирн")
        frame.click(f"{d} [data-b24app=team-results-installation] button[data-user-id='{manager}']")
        frame.select_option(f"{d} [name=handoff]", "paid")
        frame.click(f"{d} button[type=submit]")
        out["dispatch_msg"] = _text(frame, "[data-b24app=msg-dispatch]", "Сохранено")
        out["dispatch_text"] = frame.inner_text(d)
        # visits: N and the visited period
        v = "[data-b24app=settings-visits]"
        frame.fill(f"{v} [name=overdue_days]", "0")
        frame.click(f"{v} button[type=submit]")
        out["bad_visits"] = _text(frame, "[data-b24app=msg-visits]", "overdue_days")
        frame.fill(f"{v} [name=overdue_days]", "9")
        frame.fill(f"{v} [name=repeat_days]", "4")
        frame.select_option(f"{v} [name=period]", "quarter")
        frame.fill(f"{v} [name=start_q]", "Смирн")                      # her day route starts at home
        frame.click(f"{v} [data-b24app=start-results] button[data-user-id='{manager}']")
        frame.fill(f"{v} [data-start-row] [name=start_address]", "Москва, Тверская 7")
        frame.click(f"{v} button[type=submit]")
        out["visits_msg"] = _text(frame, "[data-b24app=msg-visits]", "Сохранено")
        # 1C: save the connection to the 1C sandbox, then "check connection"
        c = "[data-b24app=settings-1c]"
        frame.fill(f"{c} [name=base_url]", onec.url)
        frame.fill(f"{c} [name=username]", onec.username)
        frame.fill(f"{c} [name=password]", onec.password)
        frame.click(f"{c} button[type=submit]")
        out["1c_saved"] = _text(frame, "[data-b24app=msg-1c]", "Сохранено")
        out["password_after"] = frame.input_value(f"{c} [name=password]")
        out["password_hint"] = frame.get_attribute(f"{c} [name=password]", "placeholder")
        frame.click(f"{c} [data-b24app=check-1c]")
        out["1c_check"] = _text(frame, "[data-b24app=msg-1c]", "Подключение работает")
        page.screenshot(path=str(artifacts_dir / "main-admin-settings-saved.png"), full_page=True)
        # parts of the app: "Reports" switched off for this portal, kept after a reload of the list
        g = "[data-b24app=settings-domains]"
        frame.uncheck(f"{g} [data-domain=reports]")
        frame.click(f"{g} [data-b24app=save-domains]")
        out["domains_msg"] = _text(frame, "[data-b24app=msg-domains]", "Сохранено")
        out["domains_labels"] = frame.inner_text(g)
        # the hub opens the dispatcher the way an embedded app does: in the portal's slider
        frame.click("[data-b24app=hub] [data-page=dispatcher]")
        slider = page.wait_for_selector("#slider-frame", state="visible", timeout=15000).content_frame()
        inner = slider.wait_for_selector("iframe#app-frame", timeout=15000).content_frame()
        inner.wait_for_selector("body[data-b24app=desk][data-b24app-ready] [data-b24app=phone]", timeout=20000)
        out["slider_mode"] = inner.evaluate("JSON.parse(document.getElementById('b24app-config').textContent).mode")
        page.screenshot(path=str(artifacts_dir / "main-hub-opens-dispatcher.png"))

        # a manager: the hub, no settings
        page.goto(app_url + f"?user={manager}")
        frame = page.wait_for_selector("iframe#app-frame", timeout=15000).content_frame()
        frame.wait_for_selector("[data-b24app=hub] [data-page=orders_map]", timeout=20000)
        out["manager_hub"] = frame.inner_text("[data-b24app=hub]")
        out["manager_settings"] = frame.query_selector_all("[data-b24app=settings], [data-b24app^=settings-]")
        page.screenshot(path=str(artifacts_dir / "main-manager-hub.png"), full_page=True)
        return out

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:    # the geocoder (third party)
        rsps.add_passthru("http://127.0.0.1")
        rsps.get(re.compile(r"https://nominatim\.openstreetmap\.org/search.*"),
                 json=[{"lat": "55.7576", "lon": "37.6135", "display_name": "Тверская улица, 7, Москва"}])
        out = in_browser(drive)
    assert "установлено" in out["install"]
    assert "hours.end" in out["bad_hours"] and "заканчиваться позже, чем начинается" in out["bad_hours"]
    admin = {page_sessions.HEADER: pagesession.for_live(live_app, page_sessions.PageSession(
        portal.member_id, 1, "ru", is_admin=True))}
    maps = requests.get(live_app.url + "/api/maps/settings", headers=admin, timeout=30).json()
    assert maps["hours"]["start"] == "08:00" and maps["hours"]["end"] == "17:30"
    m = str(manager)
    assert maps["worker_hours"][m]["start"] == "10:00" and maps["worker_hours"][m]["end"] == "17:30"
    assert maps["settings"]["teams"] == {"installation": [manager]}
    assert maps["settings"]["home_addresses"] == {m: "Москва, Тверская 7"}
    assert maps["settings"]["homes"][m] == [55.7576, 37.6135]                 # the geocoder's answer
    assert maps["settings"]["handoff"] == {"when": "paid"}
    assert "Ольга Смирнова" in out["dispatch_text"] and "55.7576, 37.6135" in out["dispatch_text"]
    assert "overdue_days" in out["bad_visits"] and "1–365" in out["bad_visits"]
    visits = requests.get(live_app.url + "/api/visits/settings", headers=admin, timeout=30).json()
    assert (visits["repeat_days"], visits["overdue_days"], visits["visited_period"]) == (4, 9, "quarter")
    assert visits["route_starts"] == {m: [55.7576, 37.6135]}
    assert visits["route_start_addresses"] == {m: "Москва, Тверская 7"}
    assert visits["route_start_names"][m] == "Ольга Смирнова"
    onec_doc = requests.get(live_app.url + "/api/1c/settings", headers=admin, timeout=30).json()
    assert onec_doc["connection"]["base_url"] == onec.url and onec_doc["connection"]["password_set"] is True
    assert out["password_after"] == "" and out["password_hint"].startswith("сохранён")
    assert "Подключение работает" in out["1c_check"]
    assert out["slider_mode"] == "dispatcher"
    assert "Разделы приложения на этом портале" in out["domains_labels"] and "Отчёты" in out["domains_labels"]
    assert live_app.store.kv.get(portal.member_id, "domains.disabled") == ["reports"]
    assert "Карта заказов" in out["manager_hub"] and out["manager_settings"] == []

    # a sync finds a 1C order no deal carries: the review list says why and what to do; LANG=en (the
    # portal's language for this app) gives the English page
    from datetime import datetime, timedelta

    from sync_1c import sync

    day = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0)
    order = onec.infobase.add_order(1000, day - timedelta(days=3), number="ТД00-000917")
    onec.infobase.add_payment([(order, 250)], day - timedelta(days=1))
    report = sync.run(live_app.services, portal.member_id)
    assert report.review == 1
    portal.installs[live_app.client_id].lang = "en"

    def drive_en(b):
        page = b.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(app_url)
        frame = page.wait_for_selector("iframe#app-frame", timeout=15000).content_frame()
        frame.wait_for_selector("[data-b24app=settings-visits] [name=repeat_days]", timeout=20000)
        frame.wait_for_selector("[data-b24app=settings-1c] [data-b24app=check-1c]", timeout=20000)
        frame.wait_for_selector("[data-b24app=review-1c] li[data-reason=unmatched]", timeout=20000)
        text = frame.inner_text("body")
        page.screenshot(path=str(artifacts_dir / "main-admin-en.png"), full_page=True)
        return text

    text = in_browser(drive_en)
    assert "Application pages" in text and "Orders map" in text and "Check connection" in text
    assert "Разделы приложения" not in text and "Проверить подключение" not in text
    assert "No deal carries this order number" in text and "ТД00-000917" in text
    assert "Set the 1C order number on the right deal" in text
    assert "Payments read: 1" in text and "to review: 1" in text
