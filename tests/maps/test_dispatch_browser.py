"""The dispatcher's panels in headless Chromium inside the sandbox portal page (tiles unreachable on purpose):
a worker's day (timeline, free windows, numbered route, Yandex/Google links with rtext in lat,lon order),
the swap preview of both days and its apply written to the sandbox deal, the date grid whose cell click
writes date + worker, a hostile deal title rendered as text, "open deal" through BX24.openPath, and the
unplaced list with a pin dropped by a click on the map. Screenshots go to test-artifacts/."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests

from b24app import session as page_sessions
from tests import pagesession
from b24sandbox.page import placements
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.browser import in_browser

WORKER = "UF_CRM_B24APP_WORKER"
JOB_AT = "UF_CRM_B24APP_JOB_AT"
XSS = '<img src=x onerror="window.__xss=1">Замер'


@pytest.fixture
def portal(cloud):
    return cloud.add_portal(seed="demo")


def _open_map(live_app, portal, monkeypatch):
    monkeypatch.setenv("B24APP_TILES_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")
    assert live_app.install(portal)["status"] == 200
    item = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/placements/orders-map"))
    return f"{portal.url}/marketplace/app/{live_app.client_id}/?placement={item['id']}"


def _api(live_app, portal):
    token = pagesession.for_live(live_app, page_sessions.PageSession(
        member_id=portal.member_id, user_id=1, lang="ru"))

    def call(method, path, **kw):
        r = requests.request(method, live_app.url + path, headers={page_sessions.HEADER: token}, timeout=30, **kw)
        return r.json()
    return call


def _frame(page, url):
    page.goto(url)
    frame = page.wait_for_selector("iframe", timeout=15000).content_frame()
    frame.wait_for_selector("#count[data-count]", timeout=20000)
    return frame


def _popup(frame, deal):
    frame.evaluate("(id) => b24map.focusJob(id, true)", deal)
    frame.wait_for_selector(f".b24-popup[data-deal-id='{deal}']", timeout=10000)
    return f".b24-popup[data-deal-id='{deal}']"


def _shot(page, path):
    page.wait_for_timeout(400)      # headless Chromium composites moved map layers a frame late
    page.screenshot(path=str(path))


def _bound_events(portal, deal_id):
    return [e for e in portal.db.calendar_events.rows.values() if f"D_{deal_id}" in e["CRM_FIELDS"]]


@pytest.mark.browser
def test_worker_day_route_links_swap_and_open_path(live_app, portal, artifacts_dir, monkeypatch):
    url = _open_map(live_app, portal, monkeypatch)
    api = _api(live_app, portal)
    doc = api("GET", "/api/maps/jobs")
    rows = [dict(zip(doc["columns"], r)) for r in doc["rows"]]
    count: dict = {}
    for r in rows:
        if r["assigned"] and r["time"]:
            count[(r["worker"], r["time"][:10])] = count.get((r["worker"], r["time"][:10]), 0) + 1
    worker, day = max(sorted(count), key=lambda k: count[k])
    deal = next(r["id"] for r in rows if r["worker"] == worker and r["time"].startswith(day))
    booked = api("POST", "/api/maps/assign", json={"deal_id": deal, "worker_id": worker,   # event + task exist
                                                    "override": True})     # the demo's busiest day is overbooked
    assert booked["worker_id"] == worker, booked
    other = min({r["worker"] for r in rows if r["assigned"] and r["pipeline"] == next(
        x["pipeline"] for x in rows if x["id"] == deal)} - {worker})

    def drive(b):
        page = b.new_page(viewport={"width": 1400, "height": 900})
        page.on("dialog", lambda d: d.accept())      # the dispatcher confirms booking over busy time
        frame = _frame(page, url)
        pop = _popup(frame, deal)
        frame.click(f"{pop} [data-b24app=worker-day]")
        frame.wait_for_selector(".worker-day [data-b24app=route-links] a", timeout=20000)
        frame.wait_for_selector(".b24-stop .b24-stop-num", timeout=10000)
        out = {"day_attr": frame.get_attribute(".worker-day", "data-day"),
               "stops": frame.eval_on_selector_all(".worker-day .stops li[data-deal-id]",
                                                   "els => els.map(e => +e.dataset.dealId)"),
               "jobs_on_timeline": frame.eval_on_selector_all(".timeline .tl-job", "els => els.length"),
               "windows": frame.eval_on_selector_all(".windows li[data-start]",
                                                     "els => els.map(e => [e.dataset.start, e.dataset.end])"),
               "windows_on_timeline": frame.eval_on_selector_all(".timeline .tl-window", "els => els.length"),
               "yandex": frame.eval_on_selector_all("a[data-b24app=yandex-link]", "els => els.map(e => e.href)"),
               "yandex_text": frame.eval_on_selector_all("a[data-b24app=yandex-link]",
                                                         "els => els.map(e => e.textContent)"),
               "google": frame.eval_on_selector_all("a[data-b24app=google-link]", "els => els.map(e => e.href)"),
               "numbers": frame.eval_on_selector_all(".b24-stop .b24-stop-num",
                                                     "els => els.map(e => e.textContent)"),
               "listed": frame.eval_on_selector_all(".stops li .b24-stop-num",
                                                    "els => els.map(e => e.textContent)"),
               "route_path": frame.eval_on_selector_all("path.b24-route", "els => els.length")}
        _shot(page, artifacts_dir / "dispatch-worker-day.png")

        pop = _popup(frame, deal)
        frame.click(f"{pop} [data-b24app=pick]")                          # "Заменить сотрудника"
        frame.wait_for_selector(f"#cands li[data-worker-id='{other}'] [data-b24app=swap]", timeout=20000)
        frame.click(f"#cands li[data-worker-id='{other}'] [data-b24app=swap]")
        frame.wait_for_selector("[data-b24app=swap-preview]", timeout=20000)
        side = {}
        for s in ("from", "to"):
            side[s] = frame.eval_on_selector_all(
                f".swap-worker[data-side={s}] .swap-day",
                "els => els.map(d => [...d.querySelectorAll('li[data-deal-id]')].map(li => +li.dataset.dealId))")
        out["swap"] = side
        out["swap_workers"] = frame.eval_on_selector_all(".swap-worker", "els => els.map(e => +e.dataset.workerId)")
        _shot(page, artifacts_dir / "dispatch-swap-preview.png")
        live_app.cloud.clock.advance(60)     # a minute of reading: the portal's request bucket drains
        frame.click("[data-b24app=apply-swap]")
        frame.wait_for_selector("#side[data-swapped]", timeout=30000)
        out["after_day_worker"] = int(frame.get_attribute(".worker-day", "data-worker-id"))
        _shot(page, artifacts_dir / "dispatch-swapped.png")

        pop = _popup(frame, deal)
        frame.click(f"{pop} [data-b24app=open-deal]")
        page.wait_for_function("() => document.getElementById('slider').style.display === 'block'",
                               timeout=10000)
        out["slider"] = page.get_attribute("#slider-frame", "src")
        return out

    out = in_browser(drive)
    assert out["day_attr"] == day and deal in out["stops"]
    assert out["jobs_on_timeline"] == len(out["stops"]) >= 2
    assert out["windows"] and out["windows_on_timeline"] == len(out["windows"])
    assert out["numbers"] == [str(i + 1) for i in range(len(out["stops"]))] and out["route_path"] == 1
    assert sorted(out["listed"], key=int) == out["numbers"]            # the list names the map's numbers
    assert out["yandex"] and out["google"]
    stops = {r["id"]: r for r in rows}
    for link in out["yandex"]:
        rtext = parse_qs(urlparse(link).query)["rtext"][0]
        for pt in rtext.split("~"):
            lat, lon = map(float, pt.split(","))
            assert 55 < lat < 56.5 and 36.5 < lon < 38.5, rtext        # lat,lon — not lon,lat
    from maps.links import yandex_route_links

    parts = len(yandex_route_links([(55.7, 37.6)] * len(out["stops"])))
    assert len(out["yandex"]) == parts                                   # a long day comes as several links
    if parts > 1:
        assert out["yandex_text"][-1].endswith(f"{parts}/{parts})")
        ends = [parse_qs(urlparse(u).query)["rtext"][0].split("~") for u in out["yandex"]]
        assert all(a[-1] == b[0] for a, b in zip(ends, ends[1:]))      # the next link starts where one ends
    else:
        assert out["yandex_text"] == ["Открыть маршрут в Яндекс Картах"]
    first_points = parse_qs(urlparse(out["yandex"][0]).query)["rtext"][0].split("~")
    assert all(any(abs(float(p.split(",")[0]) - stops[i]["lat"]) < 1e-5 for i in out["stops"]) for p in first_points)
    assert out["swap_workers"] == [worker, other]
    (from_before, from_after), (to_before, to_after) = out["swap"]["from"], out["swap"]["to"]
    assert deal in from_before and deal not in from_after and deal not in to_before and deal in to_after
    assert out["after_day_worker"] == other
    d = portal.db.deals.get(deal)
    assert int(d[WORKER]) == other
    assert [e["OWNER_ID"] for e in _bound_events(portal, deal)] == [other]   # moved out of the old calendar
    assert out["slider"].endswith(f"/crm/deal/details/{deal}/")               # BX24.openPath reached the portal


@pytest.mark.browser
def test_date_grid_cell_sets_date_and_worker_and_titles_stay_text(live_app, portal, artifacts_dir,
                                                                   monkeypatch):
    url = _open_map(live_app, portal, monkeypatch)
    deal = next(d["ID"] for d in sorted(portal.db.deals.rows.values(), key=lambda d: d["ID"])
                if d["CATEGORY_ID"] == 3 and d["STAGE_ID"].endswith(":NEW") and not d.get(JOB_AT))
    # the date the dispatcher picks: the busiest installation day of the demo (the sandbox clock's days)
    days = [str(d[JOB_AT])[:10] for d in portal.db.deals.rows.values() if d["CATEGORY_ID"] == 3 and d.get(JOB_AT)]
    day = max(sorted(set(days)), key=days.count)
    client = live_app.services.client(portal.member_id)
    client.call("crm.deal.update", {"id": deal, "fields": {"TITLE": XSS}})

    def drive(b):
        page = b.new_page(viewport={"width": 1400, "height": 900})
        frame = _frame(page, url)
        frame.wait_for_function("(id) => b24map.byId[id] && b24map.byId[id].title.indexOf('<img') === 0",
                                arg=deal, timeout=20000)
        pop = _popup(frame, deal)
        out = {"popup_title": frame.inner_text(f"{pop} strong")}
        # a job with no time: candidates are ranked for the date picked in the filter
        frame.fill("#f-date", day)
        frame.dispatch_event("#f-date", "change")
        pop = _popup(frame, deal)
        frame.click(f"{pop} [data-b24app=pick]")
        frame.wait_for_selector("#cands[data-day] li[data-worker-id]", timeout=20000)
        out["cands_day"], out["picked_day"] = frame.get_attribute("#cands", "data-day"), day
        pop = _popup(frame, deal)
        frame.click(f"{pop} [data-b24app=pick-date]")
        frame.wait_for_selector("#slot-grid td.fits", timeout=30000)
        out["side_title"] = frame.inner_text("#side-title")
        out["best_first"] = frame.eval_on_selector_all("[data-b24app=best-slots] button",
                                                       "els => els.map(e => e.dataset.start)")
        out["best_cells"] = frame.eval_on_selector_all("#slot-grid td.best",
                                                       "els => els.map(e => +e.dataset.rank)")
        out["grid_days"] = frame.eval_on_selector_all("#slot-grid tr[data-day]",
                                                      "els => els.map(e => e.dataset.day)")
        out["coloured"] = frame.eval_on_selector_all("#slot-grid td.fits",
                                                     "els => els.filter(e => e.style.background).length")
        out["loads"] = frame.eval_on_selector_all("#slot-grid td[title]",
                                                  "els => els.map(e => e.title.split(' · ')[1])")
        cell = frame.query_selector_all("#slot-grid td.fits:not(.best)")[-1]
        out["cell"] = (int(cell.get_attribute("data-worker-id")), cell.get_attribute("data-start"))
        _shot(page, artifacts_dir / "dispatch-date-grid.png")
        # the dispatcher looks at the grid for a while: the portal's request bucket (on the sandbox's
        # frozen clock) drains as a minute of real time would drain it
        live_app.cloud.clock.advance(60)
        cell.click()
        frame.wait_for_selector("#side[data-scheduled]", timeout=30000)
        frame.wait_for_selector("#slot-grid td.current", timeout=10000)
        out["current"] = (int(frame.get_attribute("#slot-grid td.current", "data-worker-id")),
                          frame.get_attribute("#slot-grid td.current", "data-day"))
        out["imgs"] = frame.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length")
        out["xss"] = frame.evaluate("() => window.__xss === undefined ? null : window.__xss")
        _shot(page, artifacts_dir / "dispatch-date-grid-booked.png")
        return out

    out = in_browser(drive)
    assert out["popup_title"] == XSS and out["side_title"] == XSS           # shown as text
    assert out["imgs"] == 0 and out["xss"] is None                          # no element, no script
    assert out["cands_day"] == out["picked_day"]
    assert out["grid_days"][0] == out["picked_day"] and len(out["grid_days"]) == 7
    assert out["best_first"] and sorted(out["best_cells"]) == [1, 2, 3][:len(out["best_cells"])]
    assert out["coloured"] > 0 and len(set(out["loads"])) > 1          # the busy day looks different
    worker, start = out["cell"]
    d = portal.db.deals.get(deal)
    assert int(d[WORKER]) == worker and str(d[JOB_AT]).startswith(start)
    assert d["STAGE_ID"].endswith(":SCHEDULED")
    assert out["current"] == (worker, start[:10])
    ev = _bound_events(portal, deal)
    assert len(ev) == 1 and ev[0]["OWNER_ID"] == worker and ev[0]["DATE_FROM"].startswith(start)


@pytest.mark.browser
def test_unplaced_list_and_a_pin_dropped_on_the_map(live_app, portal, artifacts_dir, monkeypatch):
    url = _open_map(live_app, portal, monkeypatch)
    from install.registry import installed_ids

    ids = installed_ids(live_app.store, portal.member_id)
    p = ids.pipeline("measurements")
    client = live_app.services.client(portal.member_id)
    deal = int(client.call("crm.deal.add", {"fields": {"TITLE": "Замер: адрес уточнить", "CATEGORY_ID": p.category_id,
                                                       "STAGE_ID": p.stage("new")}}))
    dragged = int(client.call("crm.deal.add", {"fields": {"TITLE": "Замер: перетащить", "CATEGORY_ID": p.category_id,
                                                          "STAGE_ID": p.stage("new")}}))
    booked = [d for d in portal.db.deals.rows.values() if d.get(WORKER) and d.get(JOB_AT)]
    worker, day = int(booked[0][WORKER]), str(booked[0][JOB_AT])[:10]
    theirs = {d["ID"] for d in booked if int(d[WORKER]) == worker and str(d[JOB_AT]).startswith(day)
              and d["CATEGORY_ID"] in (1, 3)}

    def drive(b):
        page = b.new_page(viewport={"width": 1400, "height": 900})
        frame = _frame(page, url)
        frame.wait_for_selector("#unplaced-open:not([hidden])", timeout=20000)
        out = {"button": frame.inner_text("#unplaced-open")}
        frame.click("#unplaced-open")
        li = frame.wait_for_selector(f"[data-b24app=unplaced] li[data-id='{deal}']", timeout=20000)
        out["item"] = li.inner_text()
        li.click()
        frame.wait_for_selector(".b24-place", timeout=5000)
        frame.evaluate("() => b24map.map.setView([55.32, 38.35], 13, {animate: false})")   # no jobs there
        box = frame.query_selector("#map").bounding_box()
        x, y = box["width"] * 0.3, box["height"] * 0.4
        out["expected"] = frame.evaluate("([x, y]) => { const ll = b24map.map.containerPointToLatLng([x, y]);"
                                         " return [ll.lat, ll.lng]; }", [x, y])
        _shot(page, artifacts_dir / "dispatch-unplaced.png")
        frame.click("#map", position={"x": x, "y": y})
        frame.wait_for_selector("#side[data-pinned]", timeout=20000)
        frame.wait_for_function("(id) => !!b24map.byId[id]", arg=deal, timeout=20000)
        out["left"] = frame.eval_on_selector_all("[data-b24app=unplaced] li[data-id]",
                                                 "els => els.map(e => +e.dataset.id)")
        # the other one: pick it, then drag the marker where it belongs
        frame.evaluate("() => document.getElementById('side').removeAttribute('data-pinned')")
        frame.click(f"[data-b24app=unplaced] li[data-id='{dragged}']")
        mark = frame.wait_for_selector(".b24-place", timeout=5000).bounding_box()
        area = frame.query_selector("#map").bounding_box()
        cx, cy = mark["x"] + mark["width"] / 2, mark["y"] + mark["height"] / 2
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move(cx + 40, cy + 25, steps=4)
        page.mouse.move(cx + 80, cy + 50, steps=4)
        page.mouse.up()
        out["dropped"] = frame.evaluate("([x, y]) => { const ll = b24map.map.containerPointToLatLng([x, y]);"
                                        " return [ll.lat, ll.lng]; }", [cx + 80 - area["x"], cy + 50 - area["y"]])
        frame.wait_for_selector("#side[data-pinned]", timeout=20000)
        out["left_after_drag"] = frame.eval_on_selector_all("[data-b24app=unplaced] li[data-id]",
                                                            "els => els.length")
        _shot(page, artifacts_dir / "dispatch-pinned.png")
        # the worker filter opens that worker's day too
        wid = frame.eval_on_selector("#f-worker option[value='" + str(worker) + "']", "o => o.value")
        frame.select_option("#f-worker", wid)
        frame.fill("#f-date", day)
        frame.dispatch_event("#f-date", "change")
        frame.click("#worker-day-open:not([hidden])")
        frame.wait_for_selector(f".worker-day[data-worker-id='{worker}'][data-day='{day}']", timeout=20000)
        out["filter_day_stops"] = frame.eval_on_selector_all(".worker-day .stops li[data-deal-id]",
                                                             "els => els.map(e => +e.dataset.dealId)")
        return out

    out = in_browser(drive)
    assert out["button"] == "Нет координат: 2" and "Замер: адрес уточнить" in out["item"]
    lat, lon = map(float, portal.db.deals.get(deal)[ids.deal_field("coordinates")].split(","))
    assert abs(lat - out["expected"][0]) < 1e-3 and abs(lon - out["expected"][1]) < 1e-3
    assert out["left"] == [dragged]
    lat, lon = map(float, portal.db.deals.get(dragged)[ids.deal_field("coordinates")].split(","))
    assert abs(lat - out["dropped"][0]) < 1e-3 and abs(lon - out["dropped"][1]) < 1e-3
    assert out["left_after_drag"] == 0
    assert set(out["filter_day_stops"]) == theirs
