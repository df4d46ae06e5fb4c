"""The intake screen in headless Chromium inside the sandbox portal page (LEFT_MENU "dispatcher"), as a
dispatcher takes a call: types the phone the way the caller says it, sees the company, its equipment
with the warranty left and the badge, picks the tractor, creates the service request — the deal is
written with the company/contact and opened through BX24.openPath; an unknown number says so; a link with
``phone`` prefills and searches at once. Playwright runs in its own thread (tests/app/test_pages)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from b24sandbox.page import placements
from tests.app.test_pages import _in_thread
from tests.conftest import chromium_executable


@pytest.mark.browser
def test_dispatcher_finds_the_caller_and_creates_a_request(desk, artifacts_dir):
    exe = chromium_executable()
    vs = desk.vs
    portal, live = vs.portal, vs.live
    item = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/placements/dispatcher"))
    url = f"{portal.url}/marketplace/app/{live.client_id}/?placement={item['id']}"
    tractor = str(desk.equipment["tractor"])

    def rows(frame):
        return frame.evaluate("""() => Array.from(document.querySelectorAll('[data-b24app=equipment]')).map(tr => ({
            id: tr.dataset.id, cells: Array.from(tr.children).slice(1, 8).map(td => td.textContent)}))""")

    def drive():
        from playwright.sync_api import sync_playwright

        out = {}
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"])
            page = b.new_page(viewport={"width": 1200, "height": 1000})
            page.goto(url)
            frame = page.wait_for_selector("iframe", timeout=15000).content_frame()
            frame.wait_for_selector("body[data-b24app-ready]", timeout=20000)
            out["h1"] = frame.inner_text("h1")
            frame.fill("[data-b24app=phone]", "8 (916) 555-12-34")
            frame.click("[data-b24app=find]")
            frame.wait_for_selector("body[data-b24app-loaded='+79165551234']", timeout=20000)
            out["company"] = frame.inner_text("[data-b24app=company-title]")
            out["contacts"] = frame.inner_text("[data-b24app=contacts]")
            out["rows"] = rows(frame)
            out["open_deals"] = frame.inner_text("[data-b24app=company] [data-b24app=deals-open]")
            page.screenshot(path=str(artifacts_dir / "desk-client-found.png"), full_page=True)
            frame.check(f"input[name=equipment-{desk.company_id}][value='{tractor}']")
            frame.fill("[data-b24app=company] textarea[name=comment]", "Не заводится, поле в 20 км от Липецка")
            vs.advance(hours=0.02)
            frame.click("[data-b24app=company] [data-b24app=new-request]")
            frame.wait_for_selector("[data-b24app=request-msg][data-deal-id]", timeout=20000)
            out["deal_id"] = int(frame.get_attribute("[data-b24app=request-msg]", "data-deal-id"))
            out["msg"] = frame.inner_text("[data-b24app=request-msg]")
            page.wait_for_function("() => document.getElementById('slider').style.display === 'block'", timeout=10000)
            out["slider"] = page.get_attribute("#slider-frame", "src")
            page.screenshot(path=str(artifacts_dir / "desk-request-created.png"), full_page=True)
            # the dispatcher closes the deal's slider; an unknown number: a clear message, nothing listed
            page.evaluate("document.getElementById('slider').style.display = 'none'")
            vs.advance(hours=0.02)
            frame.fill("[data-b24app=phone]", "+7 900 000-00-01")
            frame.click("[data-b24app=find]")
            frame.wait_for_selector("body[data-b24app-loaded=none]", timeout=20000)
            out["none"] = frame.inner_text("[data-b24app=status]")
            out["none_rows"] = len(rows(frame))
            # a link with the phone (a call card's): prefilled and searched, in English by LANG
            vs.advance(hours=0.02)
            portal.installs[live.client_id].lang = "en"
            page.goto(url + "&phone=%2B7%20916%20555%2012%2034")
            frame = page.wait_for_selector("iframe", timeout=15000).content_frame()
            frame.wait_for_selector("body[data-b24app-loaded='+79165551234']", timeout=20000)
            out["en_badges"] = frame.evaluate(
                "Array.from(document.querySelectorAll('[data-b24app=badge]')).map(b => b.textContent)")
            out["en_h1"] = frame.inner_text("h1")
            page.screenshot(path=str(artifacts_dir / "desk-prefilled-en.png"), full_page=True)
            b.close()
        return out

    out = _in_thread(drive)
    assert out["h1"] == "Приём заявок"
    assert out["company"] == "ООО «СтарТек-Агро»" and "Полевой Пётр" in out["contacts"]
    by_id = {r["id"]: r["cells"] for r in out["rows"]}
    end = desk.today + timedelta(days=45)
    assert by_id[tractor] == ["Беларус 1221", "SN-1221-001", (end - timedelta(days=730)).isoformat(), end.isoformat(),
                              "45", "749.5", "на гарантии"]
    assert by_id[str(desk.equipment["harvester"])][4:] == ["-3", "2900", "гарантия истекла"]
    assert by_id[str(desk.equipment["seeder"])][4:] == ["200", "0", "гарантия истекла"]
    assert "Ремонт (open)" in out["open_deals"]
    deal = vs.client.call("crm.deal.get", {"id": out["deal_id"]})
    assert deal["TITLE"] == "Заявка на сервис: +79165551234 — Беларус 1221 SN-1221-001"
    assert (deal["COMPANY_ID"], deal["CONTACT_ID"]) == (str(desk.company_id), str(desk.contact_id))
    assert deal["COMMENTS"] == "Не заводится, поле в 20 км от Липецка"
    assert "Заявка создана" in out["msg"] and out["slider"].endswith(f"/crm/deal/details/{out['deal_id']}/")
    assert "не найден" in out["none"] and out["none_rows"] == 0
    assert out["en_h1"] == "Service desk" and sorted(out["en_badges"]) == \
        ["under warranty", "warranty expired", "warranty expired"]
