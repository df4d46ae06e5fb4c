"""The dashboards in headless Chromium inside the sandbox portal page (CRM_ANALYTICS_MENU placement), as a
sales director sees them: January chosen as a custom period, the three tables with the known numbers,
bars drawn, a CSV downloaded from the page; then the same page in English (LANG=en). Playwright runs in
its own thread (tests/app/test_pages._in_thread)."""
from __future__ import annotations

import pytest
import requests

from b24sandbox.page import placements
from tests.app.test_pages import _in_thread
from tests.conftest import chromium_executable


def _cells(frame, table: str) -> list[list[str]]:
    return frame.evaluate("""(t) => Array.from(document.querySelectorAll(`table[data-b24app=${t}] tbody tr`))
        .map(tr => Array.from(tr.children).map(td => td.textContent))""", table)


@pytest.mark.browser
def test_dashboards_show_the_known_numbers_in_russian_and_english(known, artifacts_dir, tmp_path):
    exe = chromium_executable()
    vs = known.vs
    portal, live = vs.portal, vs.live
    item = next(p for p in placements(portal, "CRM_ANALYTICS_MENU") if p["handler"].endswith("/dashboards"))
    url = f"{portal.url}/marketplace/app/{live.client_id}/?placement={item['id']}"

    def open_january(page):
        page.goto(url)
        frame = page.wait_for_selector("iframe", timeout=15000).content_frame()
        frame.wait_for_selector("body[data-b24app-loaded]", timeout=20000)
        frame.select_option("#filters select[name=period]", "custom")
        frame.fill("#filters input[name=from]", "2026-01-01")
        frame.fill("#filters input[name=to]", "2026-01-31")
        frame.click("[data-b24app=apply]")
        frame.wait_for_selector("body[data-b24app-loaded='2026-01-01..2026-01-31']", timeout=20000)
        frame.wait_for_selector("table[data-b24app=jobs]", state="attached", timeout=20000)
        return frame

    def drive():
        from playwright.sync_api import sync_playwright

        out = {}
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"])
            page = b.new_page(viewport={"width": 1300, "height": 1100}, accept_downloads=True)
            frame = open_january(page)
            out["regions"] = _cells(frame, "regions")
            out["employees"] = _cells(frame, "employees")
            out["jobs"] = _cells(frame, "jobs")
            out["bars"] = frame.evaluate("document.querySelectorAll('.bar span').length")
            out["heads"] = frame.evaluate(
                "Array.from(document.querySelectorAll('h2')).map(h => h.firstChild.textContent)")
            page.screenshot(path=str(artifacts_dir / "reports-dashboards-ru.png"), full_page=True)
            with page.expect_download(timeout=20000) as dl:
                frame.click("[data-b24app=csv-regions]")
            path = tmp_path / "regions.csv"
            dl.value.save_as(path)
            out["csv"] = path.read_bytes()
            out["csv_name"] = dl.value.suggested_filename
            # a link for Excel: a one-time URL shown as text, no page session in it
            frame.click("[data-b24app=csv-link-button-regions]")
            out["csv_url"] = frame.wait_for_selector("[data-b24app=csv-link-regions] input[data-b24app=csv-url]",
                                                     timeout=20000).input_value()
            # filter by region: the table narrows, the filter keeps every region of the period to choose from
            frame.select_option("#filters select[name=region]", "Москва")
            frame.click("[data-b24app=apply]")
            frame.wait_for_function("() => document.querySelectorAll('table[data-b24app=regions] tbody tr')"
                                    ".length === 2",
                                    timeout=20000)
            out["moscow"] = _cells(frame, "regions")
            out["region_options"] = frame.evaluate(
                "Array.from(document.querySelectorAll('#filters select[name=region] option')).map(o => o.value)")
            portal.installs[live.client_id].lang = "en"
            frame = open_january(page)
            out["en_heads"] = frame.evaluate(
                "Array.from(document.querySelectorAll('h2')).map(h => h.firstChild.textContent)")
            out["en_regions"] = _cells(frame, "regions")
            out["en_th"] = frame.evaluate(
                "Array.from(document.querySelectorAll('table[data-b24app=employees] th')).map(t => t.textContent)")
            page.screenshot(path=str(artifacts_dir / "reports-dashboards-en.png"), full_page=True)
            b.close()
        return out

    out = _in_thread(drive)
    assert out["regions"] == [["Казань", "2", "1", "0", "1", "4"], ["Москва", "1", "2", "1", "0", "4"],
                              ["(без региона)", "1", "0", "0", "0", "1"], ["Итого", "4", "3", "1", "1", "9"]]
    assert out["employees"] == [["Мария Менеджерова", "10", "2", "20", "1", "50", "1", "0", "2", "5"],
                                ["Олег Сотрудников", "4", "1", "25", "1", "100", "0", "1", "2", "4"],
                                ["Алексей Смирнов", "6", "0", "0", "0", "—", "0", "0", "0", "0"]]
    assert out["jobs"] == [["Алексей Смирнов", "2", "2", "115", "65", "57,5", "32,5"],
                           ["Дмитрий Кузнецов", "1", "0", "0", "60", "—", "60"],
                           ["Итого", "3", "2", "115", "125", "—", "—"]]
    assert out["bars"] == 3 * 4 + 3 * 2 + 2 * 2                # stacked regions, plan/fact, on site/travel
    assert out["heads"] == ["Посещения по регионам", "План и факт по сотрудникам",
                            "Выезды по сотрудникам (карта заказов)"]
    assert out["csv"].startswith(b"\xef\xbb\xbf") and "Казань;2;1;0;1;4" in out["csv"].decode("utf-8-sig")
    assert out["csv_name"] == "visits-regions-2026-01-01-2026-01-31.csv"
    assert out["csv_url"].startswith(live.url + "/api/reports/download/") and "session" not in out["csv_url"]
    first = requests.get(out["csv_url"], timeout=30)
    assert first.status_code == 200 and "Казань;2;1;0;1;4" in first.content.decode("utf-8-sig")
    assert requests.get(out["csv_url"], timeout=30).status_code == 401
    assert out["moscow"] == [["Москва", "1", "2", "1", "0", "4"], ["Итого", "1", "2", "1", "0", "4"]]
    assert out["region_options"] == ["", "Казань", "Москва"]
    assert out["en_heads"] == ["Visits by region", "Plan vs fact by employee", "Jobs by worker (orders map)"]
    assert out["en_regions"][2][0] == "(no region)" and out["en_regions"][0] == ["Казань", "2", "1", "0", "1", "4"]
    assert out["en_th"][:4] == ["Employee", "Plan", "Fact", "% of plan"]
