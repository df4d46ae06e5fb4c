"""The orders map with 10,000 jobs: the JSON endpoint's server time and size, first paint with markers in
Chromium, and a folium page with one Marker per point for comparison (geo reference §D)."""
from __future__ import annotations

import os
import random
import secrets
import tempfile
import threading
import time
from pathlib import Path

import requests

TITLE = "Orders map with 10,000 jobs: JSON endpoint, bytes, first paint in Chromium; folium one-Marker-per-point page"
N = 10_000
CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)), None)
VENDOR = Path(__file__).resolve().parent.parent / "b24app" / "static" / "vendor" / "leaflet"


def _serve(app):
    from werkzeug.serving import make_server

    holder = {"app": app}
    server = make_server("127.0.0.1", 0, lambda e, s: holder["app"](e, s), threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, holder, f"http://127.0.0.1:{server.server_port}"


def _setup():
    """Demo portal + the app over HTTP, installed (pipelines and fields adopted), N jobs in the portal."""
    from b24app import session as page_sessions
    from b24app.app import create_app
    from b24app.config import Settings
    from b24app.inbox import Worker
    from b24app.install_flow import progress_of
    from b24sandbox import SandboxCloud
    from b24sandbox import demo
    from install.demo_shape import demo_app

    os.environ["B24APP_TILES_URL"] = "http://127.0.0.1:9/{z}/{x}/{y}.png"       # offline: markers only
    cloud = SandboxCloud(demo_app=demo_app())
    portal = cloud.add_portal(seed="demo")
    server, holder, url = _serve(None)
    cid, secret = f"local.{secrets.token_hex(7)}.00000001", secrets.token_urlsafe(36)[:50]
    db = tempfile.mkdtemp(prefix="b24bench-maps-")
    settings = Settings(client_id=cid, client_secret=secret, oauth_server=cloud.oauth_url, public_url=url,
                        database_url=f"sqlite:///{db}/bench.db", allow_http_portals=True, secret_key="bench",
                        bx24_js_url=portal.url + "/api/v1/")
    app = create_app(settings)
    holder["app"] = app
    cloud.register_app(cid, secret, handler_url=url + "/app", install_url=url + "/install")
    portal.install_app(cid, mode="frame")
    services = app.extensions["b24"]
    worker = Worker(services, backoff=0.01, max_backoff=0.05)
    while progress_of(services.store, portal.member_id).get("state") in ("queued", "running"):
        if worker.run_once() == 0:
            time.sleep(0.02)
    portal.finish_install(cid)
    _add_jobs(portal, demo, N - 160)
    token = page_sessions.issue("bench", page_sessions.PageSession(member_id=portal.member_id, user_id=1, lang="ru"))
    return cloud, portal, server, url, token, cid


def _add_jobs(portal, demo, n):
    """More measurement jobs like the demo's, straight into the portal tables (no events)."""
    from datetime import datetime, timedelta

    rng = random.Random(3)
    db = portal.db
    from install.params import entity_field_name

    f = {k: entity_field_name(k) for k in ("job_at", "job_duration", "worker", "job_address", "coordinates")}
    companies = list(db.companies.rows.values())
    now_iso = datetime.now().astimezone().isoformat(timespec="seconds")
    day0 = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    codes = ["NEW", "SCHEDULED", "JOB_STARTED", "JOB_DONE", "PROPOSAL"]
    with db.lock:
        for i in range(n):
            c = rng.choice(companies)
            code = rng.choice(codes)
            lat, lon = demo._point(rng)
            extra = {"COMPANY_ID": c["ID"], "ASSIGNED_BY_ID": 2, f["job_address"]: f"Москва, {c['ADDRESS']}",
                     f["coordinates"]: f"{lat},{lon}", f["job_duration"]: 60,
                     f["job_at"]: (day0 + timedelta(days=rng.randrange(14), hours=rng.randrange(9, 17))).isoformat(),
                     f["worker"]: None if code == "NEW" else rng.randrange(4, 7)}
            db.deals.insert(demo.deal_row(db, now_iso, f"Замер {i}: {c['ADDRESS']}", 1, f"C1:{code}", 10000.0,
                                          **extra))


def _json_rows(url, token, portal):
    h = {"X-B24App-Session": token}
    out = []
    mark = len(portal.log)
    t = time.perf_counter()
    r = requests.get(url + "/api/maps/jobs", headers={**h, "Accept-Encoding": "identity"}, timeout=300)
    cold = time.perf_counter() - t
    doc = r.json()
    assert len(doc["rows"]) == N, len(doc["rows"])
    calls = sum(1 for x in portal.log[mark:] if getattr(x, "via", "http") == "http")
    out.append((f"cold: portal read ({calls} HTTP calls: list_all deals, company names, users) + feed", cold,
                len(r.content)))
    times = []
    for _ in range(5):
        t = time.perf_counter()
        r = requests.get(url + "/api/maps/jobs", headers={**h, "Accept-Encoding": "identity"}, timeout=60)
        times.append(time.perf_counter() - t)
    out.append(("warm: cached jobs, feed + JSON (median of 5)", sorted(times)[2], len(r.content)))
    times = []
    for _ in range(5):
        t = time.perf_counter()
        r = requests.get(url + "/api/maps/jobs", headers={**h, "Accept-Encoding": "gzip"}, stream=True, timeout=60)
        raw = r.raw.read(decode_content=False)
        times.append(time.perf_counter() - t)
    out.append(("warm, gzip (what a browser gets; median of 5)", sorted(times)[2], len(raw)))
    t = time.perf_counter()
    r = requests.get(url + f"/api/maps/jobs?since={doc['version']}", headers=h, timeout=60)
    out.append(("poll, nothing changed (`since=<version>`)", time.perf_counter() - t, len(r.content)))
    return out


def _paint(page_url, ready_js, route_local=None):
    """Seconds from navigation to the ready condition (markers/clusters in the DOM), plus DOM marker count."""
    from playwright.sync_api import sync_playwright

    box = {}

    def go():
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
            page = b.new_page(viewport={"width": 1400, "height": 900})
            if route_local:
                page.route("**/*", route_local)
            t = time.perf_counter()
            page.goto(page_url, timeout=180_000)
            target = page
            if page.query_selector("iframe"):
                target = page.wait_for_selector("iframe").content_frame()
            target.wait_for_function(ready_js, timeout=180_000, polling=50)
            box["seconds"] = time.perf_counter() - t
            box["dom"] = target.evaluate("document.querySelectorAll('.leaflet-marker-icon').length")
            b.close()

    th = threading.Thread(target=go)      # Playwright's loop stays off the caller's thread
    th.start()
    th.join(400)
    return box


def _folium_page(rows) -> Path:
    import folium

    m = folium.Map(location=[55.75, 37.62], zoom_start=10, tiles=None)
    for r in rows:
        folium.Marker([r[1], r[2]], popup=folium.Popup(str(r[8]), parse_html=True), tooltip=str(r[0])).add_to(m)
    path = Path(tempfile.mkdtemp(prefix="b24bench-folium-")) / "folium.html"
    m.save(str(path))
    return path


JQUERY_SHIM = ("window.$ = window.jQuery = function (h) { var t = document.createElement('template');"
               " t.innerHTML = String(h).trim(); return [t.content.firstChild]; };")


def _local_only(vendor):
    """folium links Leaflet, jQuery and Bootstrap from CDNs: Leaflet is served from our vendored copy, jQuery
    by a two-line stand-in for the one thing folium's popups use (``$(html)[0]``), the rest is refused at
    once (offline), so the comparison measures the page, not the network."""
    def handle(route):
        u = route.request.url
        if u.startswith("file://"):
            return route.continue_()
        name = u.rsplit("/", 1)[-1].split("?")[0]
        if name in ("leaflet.js", "leaflet.css"):
            return route.fulfill(path=str(vendor / name))
        if name.startswith("jquery"):
            return route.fulfill(content_type="application/javascript", body=JQUERY_SHIM)
        return route.abort()
    return handle


def run() -> None:
    cloud, portal, server, url, token, cid = _setup()
    portal.limits.reset() if hasattr(portal.limits, "reset") else None     # the install used up the burst
    try:
        print("| what | server/wall time, s | bytes |")
        print("|---|---|---|")
        rows_out = _json_rows(url, token, portal)
        for what, sec, size in rows_out:
            print(f"| {what} | {'' if sec is None else f'{sec:.3f}'} | {size:,} |")
        if CHROMIUM is None:
            print("\n(no Chromium: first-paint rows skipped)")
            return
        from b24sandbox.page import placements

        item = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/placements/orders-map"))
        page_url = f"{portal.url}/marketplace/app/{cid}/?placement={item['id']}"
        ours = _paint(page_url, "() => window.b24map && b24map.rows.length === %d && "
                                "document.querySelectorAll('.marker-cluster, .b24-marker').length > 0" % N)
        doc = requests.get(url + "/api/maps/jobs", headers={"X-B24App-Session": token}, timeout=60).json()
        html = requests.get(url + "/static/maps/orders_map.js", timeout=10).content
        folium_path = _folium_page(doc["rows"])
        theirs = _paint(folium_path.as_uri(), "() => document.querySelectorAll('.leaflet-marker-icon').length >= %d"
                        % N, _local_only(VENDOR))
        print("\n| page | bytes (HTML + data, without Leaflet) | first paint with markers, s "
              "| marker elements in DOM |")
        print("|---|---|---|---|")
        print(f"| b24app orders map (Leaflet.markercluster, JSON rows) | "
              f"{len(requests.get(url + '/api/maps/jobs', headers={'X-B24App-Session': token}).content) + len(html):,}"
              f" | {ours.get('seconds', float('nan')):.2f} | {ours.get('dom')} |")
        print(f"| folium, one `Marker` + popup per point | {folium_path.stat().st_size:,} | "
              f"{theirs.get('seconds', float('nan')):.2f} | {theirs.get('dom')} |")
    finally:
        server.shutdown()
        cloud.shutdown()


if __name__ == "__main__":
    run()
