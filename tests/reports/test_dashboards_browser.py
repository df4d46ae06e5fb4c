"""The dashboards in headless Chromium inside the sandbox portal page (CRM_ANALYTICS_MENU placement), as a
sales director uses them: a plan of 100 visits set for January on the Plans tab (the person picked by
name), then January's dashboards — every number compared with counts the test makes itself from the
sandbox portal's own rows (stage names, the visit date, region and type fields as the portal stores
them), charts drawn, a CSV downloaded and a one-time link for Excel; the feed's token made on its tab;
then the same page in English. Screenshots: reports-plans.png, reports-dashboards-ru.png,
reports-feed.png, reports-dashboards-en.png."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from b24sandbox.page import placements
from tests.browser import DESKTOP, in_browser, open_app_frame

MSK = ZoneInfo("Europe/Moscow")
STAGE_KIND = {"Визит проведен": "done", "Просрочено": "overdue", "Визит не состоялся": "failed"}
TYPES = {"A": "Мерчендайзинг", "B": "Плановый", "E": "Обучение"}
HEADS = "Array.from(document.querySelectorAll('section h2')).map(h => h.firstChild.textContent)"
COUNTS = ("planned", "done", "overdue", "failed", "total")


def _cells(frame, table: str) -> list[list[str]]:
    return frame.evaluate("""(t) => Array.from(document.querySelectorAll(`table[data-b24app=${t}] tbody tr`))
        .map(tr => Array.from(tr.children).map(td => td.textContent))""", table)


def _uf(db, label: str, entity: str) -> dict:
    """The portal's user field of the visit type (``entity``) with this Russian label."""
    return next(f for f in db.userfields.rows.values()
                if f["EDIT_FORM_LABEL"].get("ru") == label and f["ENTITY_ID"] == entity)


def _portal_counts(portal, etid: int, first: str, last: str) -> dict:
    """January's visits counted straight from the sandbox portal's rows — not through the app."""
    db = portal.db
    rows = list(db.items[etid].rows.values())
    keys = set().union(*(r.keys() for r in rows))
    entity = next(f["ENTITY_ID"] for f in db.userfields.rows.values()          # the fields the visit rows carry
                  if f["EDIT_FORM_LABEL"].get("ru") == "Дата посещения" and f["FIELD_NAME"] in keys)
    date_f, region_f, type_f = (_uf(db, lbl, entity) for lbl in ("Дата посещения", "Регион", "Тип посещения"))
    type_names = {str(e["ID"]): e["VALUE"] for e in type_f["LIST"]}
    users = {int(u["ID"]): f"{u['NAME']} {u['LAST_NAME']}" for u in db.users.rows.values()}
    regions, people, types = {}, {}, {}
    for r in rows:
        when = r.get(date_f["FIELD_NAME"])
        if not when:
            continue
        day = datetime.fromisoformat(str(when)).astimezone(MSK).date().isoformat()
        if not first <= day <= last:
            continue
        kind = STAGE_KIND.get(db.stage(r["STAGE_ID"])["NAME"], "planned")
        region = r.get(region_f["FIELD_NAME"]) or ""
        reg = regions.setdefault(region, {"planned": 0, "done": 0, "overdue": 0, "failed": 0, "total": 0})
        reg[kind] += 1
        reg["total"] += 1
        who = people.setdefault(int(r["ASSIGNED_BY_ID"]), {"done": 0, "overdue": 0, "failed": 0, "planned": 0,
                                                           "total": 0})
        who[kind] += 1
        who["total"] += 1
        t = type_names.get(str(r.get(type_f["FIELD_NAME"]) or ""), "(без типа)")
        types[t] = types.get(t, 0) + 1
    return {"regions": regions, "people": people, "types": types, "users": users, "type_f": type_f}


@pytest.mark.browser
def test_a_plan_set_on_the_page_and_the_dashboards_match_the_portal(known, artifacts_dir, tmp_path):
    vs = known.vs
    portal, live = vs.portal, vs.live
    etid = vs.v.entity_type_id
    # visit types, chosen as a person would on the card: the portal's own list values
    type_f = _portal_counts(portal, etid, "2026-01-01", "2026-01-31")["type_f"]
    enum = {e["VALUE"]: e["ID"] for e in type_f["LIST"]}
    for name, value in TYPES.items():
        vs.client.call("crm.item.update", {"entityTypeId": etid, "id": known.ids[name],
                                           "fields": {vs.v.field("visit_type"): enum[value]}})
    item = next(p for p in placements(portal, "CRM_ANALYTICS_MENU") if p["handler"].endswith("/dashboards"))
    url = f"{portal.url}/marketplace/app/{live.client_id}/?placement={item['id']}"

    def open_january(page):
        frame = open_app_frame(page, url, "body[data-b24app-loaded]")
        frame.select_option("#filters select[name=period]", "custom")
        frame.fill("#filters input[name=from]", "2026-01-01")
        frame.fill("#filters input[name=to]", "2026-01-31")
        frame.click("[data-b24app=apply]")
        frame.wait_for_selector("body[data-b24app-loaded='2026-01-01..2026-01-31']", timeout=20000)
        return frame

    def drive(b):
        out = {}
        page = b.new_page(viewport=DESKTOP, accept_downloads=True)
        frame = open_app_frame(page, url, "body[data-b24app-loaded]")
        # the Plans tab: Мария picked by name, 100 visits in January 2026
        frame.click("[data-b24app=tabs] [data-tab=plans]")
        frame.wait_for_selector("[data-b24app=plans][data-b24app-ready]", timeout=20000)
        frame.select_option("[data-b24app=plans] select[name=year]", "2026")
        frame.wait_for_selector("[data-b24app=plans][data-b24app-ready='2026']", timeout=20000)
        frame.fill("[data-b24app=plans] input[name=plan_user_q]", "Менеджерова")
        frame.wait_for_selector("[data-b24app=plan-user-results][data-q] li", timeout=20000)
        frame.click("[data-b24app=plan-user-results] button[data-user-id='2']", timeout=20000)
        frame.fill("tr[data-user-id='2'] input[data-month='2026-01']", "100")
        frame.click("[data-b24app=plans-save]")
        frame.wait_for_selector("[data-b24app=plans-msg].good", timeout=20000)
        out["plans_msg"] = frame.text_content("[data-b24app=plans-msg]")
        out["plan_cell"] = frame.input_value("tr[data-user-id='2'] input[data-month='2026-01']")
        page.screenshot(path=str(artifacts_dir / "reports-plans.png"), full_page=True)

        frame.click("[data-b24app=tabs] [data-tab=dashboards]")
        frame = open_january(page)
        for t in ("regions", "employees", "types", "trend", "sales", "jobs"):
            frame.wait_for_selector(f"table[data-b24app={t}]", state="attached", timeout=20000)
            out[t] = _cells(frame, t)
        out["charts"] = frame.evaluate("Array.from(document.querySelectorAll('svg.chart')).map(s => s.dataset.chart)")
        out["plan_bar"] = frame.evaluate("""() => Array.from(document.querySelectorAll(
            'svg[data-chart=employees] rect.bar[data-key=plan]')).map(r => Number(r.dataset.value))""")
        out["slices"] = frame.evaluate("""() => Array.from(
            document.querySelectorAll('svg[data-chart=types] path.slice')).map(p => Number(p.dataset.value))""")
        out["heads"] = frame.evaluate(HEADS)
        page.screenshot(path=str(artifacts_dir / "reports-dashboards-ru.png"), full_page=True)
        with page.expect_download(timeout=20000) as dl:
            frame.click("[data-b24app=csv-regions]")
        path = tmp_path / "regions.csv"
        dl.value.save_as(path)
        out["csv"], out["csv_name"] = path.read_bytes(), dl.value.suggested_filename
        with page.expect_download(timeout=20000) as dl:
            frame.click("[data-b24app=xlsx-employees]")
        out["xlsx_name"] = dl.value.suggested_filename
        frame.click("[data-b24app=csv-link-button-regions]")
        out["csv_url"] = frame.wait_for_selector("[data-b24app=csv-link-regions] input[data-b24app=csv-url]",
                                                 timeout=20000).input_value()
        # the region filter narrows the tables
        frame.select_option("#filters select[name=region]", "Москва")
        frame.click("[data-b24app=apply]")
        frame.wait_for_function("() => document.querySelectorAll('table[data-b24app=regions] tbody tr').length === 2",
                                timeout=20000)
        out["moscow"] = _cells(frame, "regions")
        # the feed's token, made on its tab and shown once
        frame.click("[data-b24app=tabs] [data-tab=feed]")
        frame.click("[data-b24app=feed-rotate]", timeout=20000)
        out["token"] = frame.wait_for_selector("[data-b24app=feed-token]", timeout=20000).input_value()
        page.screenshot(path=str(artifacts_dir / "reports-feed.png"), full_page=True)
        portal.installs[live.client_id].lang = "en"
        frame = open_january(page)
        frame.wait_for_selector("table[data-b24app=employees]", state="attached", timeout=20000)
        out["en_heads"] = frame.evaluate(HEADS)
        out["en_th"] = frame.evaluate(
            "Array.from(document.querySelectorAll('table[data-b24app=employees] th')).map(t => t.textContent)")
        page.screenshot(path=str(artifacts_dir / "reports-dashboards-en.png"), full_page=True)
        return out

    out = in_browser(drive)
    want = _portal_counts(portal, etid, "2026-01-01", "2026-01-31")
    assert out["plan_cell"] == "100" and "Планы сохранены: 1" in out["plans_msg"]

    # visits by region: the portal's rows, named regions by name, none last, and the totals line
    regions = sorted(want["regions"].items(), key=lambda kv: (kv[0] == "", kv[0]))
    expect = [[name or "(без региона)", *(str(c[k]) for k in COUNTS)] for name, c in regions]
    tot = {k: sum(c[k] for c in want["regions"].values()) for k in COUNTS}
    assert out["regions"] == expect + [["Итого", *(str(tot[k]) for k in COUNTS)]]
    assert tot["total"] == 9                                   # the fixture's January: nothing lost at the edges

    # plan vs fact: 100 set on the page for Мария; the others keep the visits settings' plan (4 default, 6)
    plans = {2: 100, 3: 4, 4: 6}
    rows = {r[0]: r for r in out["employees"]}
    for uid, plan in plans.items():
        p = want["people"].get(uid, {"done": 0, "overdue": 0, "failed": 0, "planned": 0, "total": 0})
        r = rows[want["users"][uid]]
        assert r[1:4] == [str(plan), str(p["done"]), str(round(100 * p["done"] / plan))], r
        assert r[6:] == [str(p["overdue"]), str(p["failed"]), str(p["planned"]), str(p["total"])], r
    assert sorted(out["plan_bar"]) == sorted(float(v) for v in plans.values())

    # visit types and their shares
    total = sum(want["types"].values())
    assert {r[0]: (r[1], r[2]) for r in out["types"]} == {
        t: (str(n), str(round(100 * n / total))) for t, n in want["types"].items()}
    assert sorted(out["slices"]) == sorted(want["types"].values())

    # the trend's January: the plans summed, the done visits of the month
    jan = next(r for r in out["trend"] if r[0] == "янв 2026")
    done = sum(p["done"] for p in want["people"].values())
    assert jan == ["янв 2026", str(sum(plans.values())), str(done), str(round(100 * done / sum(plans.values())))]
    assert len(out["trend"]) == 6

    # sales next to visits (no 1C payments here: zero sales, the visits as counted)
    sales = {r[0]: r for r in out["sales"]}
    assert sales[want["users"][2]][1:3] == [str(want["people"][2]["total"]), str(want["people"][2]["done"])]
    assert out["jobs"][-1] == ["Итого", "3", "2", "115", "125", "—", "—"]
    assert out["charts"] == ["trend", "types", "regions", "employees", "sales", "jobs"]
    assert out["heads"] == ["План и факт по месяцам", "Типы посещений", "Посещения по регионам",
                            "План и факт по сотрудникам", "Продажи 1С и посещения по сотрудникам",
                            "Выезды по сотрудникам (карта заказов)"]
    moscow = want["regions"]["Москва"]
    assert out["moscow"][0] == ["Москва", *(str(moscow[k]) for k in COUNTS)]

    text = out["csv"].decode("utf-8-sig")
    assert out["csv"].startswith(b"\xef\xbb\xbf") and ";".join(expect[0]) in text
    assert out["csv_name"] == "regions-2026-01-01-2026-01-31.csv"
    assert out["xlsx_name"] == "employees-2026-01-01-2026-01-31.xlsx"
    assert out["csv_url"].startswith(live.url + "/api/reports/download/") and "session" not in out["csv_url"]
    first = requests.get(out["csv_url"], timeout=30)
    assert first.status_code == 200 and ";".join(expect[0]) in first.content.decode("utf-8-sig")
    assert requests.get(out["csv_url"], timeout=30).status_code == 401

    feed = requests.get(live.url + "/api/reports/feed?from=2026-01-01&to=2026-01-31",
                        headers={"Authorization": f"Bearer {out['token']}"}, timeout=30)
    assert feed.status_code == 200 and feed.json()["totals"]["total"] == 9

    assert out["en_heads"][:3] == ["Plan vs fact by month", "Visit types", "Visits by region"]
    assert out["en_th"][:4] == ["Employee", "Plan", "Fact", "% of plan"]
