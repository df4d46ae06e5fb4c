"""What a field team's day of taps costs (issue 14, the worker's phone): 200 workers with 2 jobs each on one
portal; each worker opens his day (``GET /api/field/day``) and, per job, taps on my way, started, a photo
and finished (``POST /api/field/actions``, 4 per job: 1,600 actions), 4 phones at a time, through the app
over HTTP against the sandbox portal. Then every phone sends its whole queue again (a phone that lost the
answers): the replays must cost the portal nothing and change nothing.

Counted: the portal calls each kind of request made (the sandbox's request log: REST calls the portal
executed, batches counted once), wall time, and the median / p95 of one action. The portal's rate limit and
our throttle run on the sandbox's clock (no waiting in real time): the portal-time column is what the calls
would take at the documented 2 requests per second of one portal.

    python -m bench field_ops          # BENCH_FIELD_WORKERS=200  BENCH_FIELD_JOBS=2
"""
from __future__ import annotations

import base64
import os
import secrets
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests

TITLE = "The worker's phone: a day's taps for 200 workers (portal calls, wall time; issue 14)"
WORKERS = int(os.environ.get("BENCH_FIELD_WORKERS", "200"))
JOBS = int(os.environ.get("BENCH_FIELD_JOBS", "2"))
PHONES = 4
DAY = datetime(2026, 1, 14, 6, 0, tzinfo=UTC)            # a Wednesday, 09:00 in Moscow
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + os.urandom(60_000)).decode()     # a 60 KB camera picture


def _setup():
    if not os.environ.get("B24APP_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        os.environ["B24APP_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    from b24app.app import create_app
    from b24app.config import Settings
    from b24app.inbox import Worker
    from b24app.install_flow import progress_of
    from b24app.throttle import Throttle
    from b24sandbox import SandboxCloud
    from b24sandbox.clock import FakeClock
    from b24sandbox.cloud import DEFAULT_SCOPE
    from bench.maps_page import _serve
    from install.demo_shape import demo_app

    cloud = SandboxCloud(clock=FakeClock(DAY.timestamp()), demo_app=demo_app())
    portal = cloud.add_portal(seed="demo")
    portal.settings.rate_limit = False
    server, holder, url = _serve(None)
    cid, secret = f"local.{secrets.token_hex(7)}.00000001", secrets.token_urlsafe(36)[:50]
    db = tempfile.mkdtemp(prefix="b24bench-field-")
    settings = Settings(client_id=cid, client_secret=secret, oauth_server=cloud.oauth_url, public_url=url,
                        database_url=f"sqlite:///{db}/bench.db", allow_http_portals=True, secret_key="bench")
    app = create_app(settings)
    holder["app"] = app
    services = app.extensions["b24"]
    services.throttle = Throttle(clock=cloud.clock.now, sleep=cloud.clock.advance)
    services.clock = cloud.clock.now
    cloud.register_app(cid, secret, handler_url=url + "/app", install_url=url + "/install",
                       scope=[*DEFAULT_SCOPE, "imopenlines"])
    portal.install_app(cid, mode="frame")
    worker = Worker(services, backoff=0.01, max_backoff=0.05)
    while progress_of(services.store, portal.member_id).get("state") in ("queued", "running"):
        if worker.run_once() == 0:
            time.sleep(0.02)
    portal.finish_install(cid)
    return cloud, portal, server, services, url, cid


def _team(portal, services, cid) -> list[tuple[int, str, list[int]]]:
    """WORKERS new field workers, JOBS booked jobs each today (deal + his task), a page session each."""
    from b24app import roles as app_roles
    from b24app import session as page_sessions
    from install.registry import installed_ids
    from maps import service as maps_service

    ids = installed_ids(services.store, portal.member_id)
    pipe = ids.pipeline("measurements")
    client = services.client(portal.member_id)
    users = [portal.db.add_user("Монтажник", f"№{k}", f"w{k}@bench.example") for k in range(WORKERS)]
    cmds = []
    for k, uid in enumerate(users):
        for j in range(JOBS):
            at = DAY + timedelta(hours=1 + 3 * j)
            cmds.append(("crm.deal.add", {"fields": {
                "TITLE": f"Замер {k}-{j}", "CATEGORY_ID": pipe.category_id, "STAGE_ID": pipe.stage("scheduled"),
                "ASSIGNED_BY_ID": 2, ids.deal_field("worker"): uid, ids.deal_field("job_at"): at.isoformat(),
                ids.deal_field("job_duration"): 60, ids.deal_field("job_address"): "Москва, Тверская ул., 7",
                ids.deal_field("coordinates"): f"{55.6 + k / 1000:.4f},{37.5 + j / 100:.4f}"}}))
    deals = [int(r.result) for r in client.batch_many(cmds)]
    tasks = [("tasks.task.add", {"fields": {"TITLE": f"Замер {d}", "RESPONSIBLE_ID": users[i // JOBS],
                                            "CREATED_BY": 2, "UF_CRM_TASK": [f"D_{d}"]}})
             for i, d in enumerate(deals)]
    assert all(r.ok for r in client.batch_many(tasks))
    maps_service.changed(services, portal.member_id, deals)
    team = []
    for k, uid in enumerate(users):
        pair = portal.issue_tokens(cid, uid)
        services.store.user_tokens.put(portal.member_id, uid, pair.access.token, pair.refresh.token,
                                       int(time.time()) + 86400)
        token = page_sessions.issue(services.store, page_sessions.PageSession(
            member_id=portal.member_id, user_id=uid, lang="ru", roles=(app_roles.FIELD_WORKER,)))
        team.append((uid, token, deals[k * JOBS:(k + 1) * JOBS]))
    return team


def _http(portal, since: int) -> int:
    """HTTP requests the portal answered (a batch is one, whatever it carries)."""
    return sum(1 for r in portal.log[since:] if r.via == "http")


def _methods(portal, since: int) -> dict:
    out: dict = {}
    for r in portal.log[since:]:
        if r.method != "batch":
            out[r.method] = out.get(r.method, 0) + 1
    return out


def run() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)        # no access line per request
    cloud, portal, server, services, url, cid = _setup()
    try:
        team = _team(portal, services, cid)
        http = requests.Session()
        lat: list[float] = []

        def day_of(member):
            uid, token, _ = member
            r = http.get(url + "/api/field/day", headers={"X-B24App-Session": token}, timeout=60)
            assert r.status_code == 200, r.text

        def taps(member):
            uid, token, deals = member
            sent = []
            for d in deals:
                for action in ("on_way", "started", "photo", "finished"):
                    body = {"id": uuid.uuid4().hex, "action": action, "kind": "job", "item": d,
                            "at": datetime.fromtimestamp(cloud.clock.now(), UTC).isoformat()}
                    if action == "photo":
                        body["file"] = {"name": "zamer.jpg", "content": JPEG}
                    t0 = time.perf_counter()
                    r = http.post(url + "/api/field/actions", headers={"X-B24App-Session": token}, json=body,
                                  timeout=60)
                    lat.append(time.perf_counter() - t0)
                    assert r.status_code == 200 and r.json()["state"] == "applied", r.text
                    sent.append(body)
            return token, sent

        def replay(batch):
            token, sent = batch
            for body in sent:
                r = http.post(url + "/api/field/actions", headers={"X-B24App-Session": token}, json=body,
                              timeout=60)
                assert r.status_code == 200 and r.json()["state"] == "replayed", r.text

        rows = []
        with ThreadPoolExecutor(PHONES) as pool:
            for name, fn, items in (("open the day", day_of, team), ("taps (4 per job)", taps, team)):
                mark, t0 = len(portal.log), time.perf_counter()
                out = list(pool.map(fn, items))
                rows.append((name, len(items) * (1 if fn is day_of else 4 * JOBS), _http(portal, mark),
                             _methods(portal, mark), time.perf_counter() - t0))
                if fn is taps:
                    queues = out
            mark, t0 = len(portal.log), time.perf_counter()
            list(pool.map(replay, queues))
            rows.append(("replay of every queue", WORKERS * 4 * JOBS, _http(portal, mark), _methods(portal, mark),
                         time.perf_counter() - t0))
        files = sum(len(c.get("FILES") or []) for c in portal.db.comments.rows.values())
        print(f"{WORKERS} workers × {JOBS} jobs, {PHONES} phones at a time, SQLite ledger; portal calls = HTTP "
              "requests the portal answered (a batch is one), methods = what they executed\n")
        print("| step | requests to the app | portal calls | per request | methods executed | wall | "
              "portal time at 2 req/s |")
        print("|---|---|---|---|---|---|---|")
        for name, n, calls, methods, wall in rows:
            shown = ", ".join(f"{m} {k}" for m, k in sorted(methods.items())) or "—"
            print(f"| {name} | {n} | {calls} | {calls / n:.2f} | {shown} | {wall:.1f} s | {calls / 2 / 60:.1f} min |")
        lat.sort()
        print(f"\nOne action: median {statistics.median(lat) * 1000:.0f} ms, "
              f"p95 {lat[int(len(lat) * 0.95)] * 1000:.0f} ms (app + sandbox on one machine). "
              f"Files on deals: {files} (= {WORKERS * JOBS} photos, none twice).")
    finally:
        server.shutdown()
        services.store.close()
        cloud.shutdown()
