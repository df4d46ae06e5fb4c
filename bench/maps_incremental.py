"""What the orders map costs a portal per minute when the portal is big and changes slowly (issue 19):
one deal change every 5 s, 3 open maps polling every 5 s, 10 minutes, on a 10,000-job and a 100,000-deal
portal (every deal an open job of ours, so a full read is the worst case).

Time is the sandbox's fake clock, moved 5 s per tick (the map's safety-net interval follows it:
``jobcache.CLOCK``), so 10 portal minutes take as long as the work itself. Each tick: a person changes one
deal through the portal's incoming webhook (not the app), the worker pulls the offline events
(``event.offline.get``, the event plumbing — counted apart) and runs its inbox (the deal event, then the
``maps/refresh`` job), then the three maps poll the way ``GET /api/maps/jobs`` does (``service.jobs``).
The map's calls are the app's HTTP requests in the sandbox's request log other than the event plumbing.
The geocoder is a stub that places nothing (no Nominatim from a bench).

    python -m bench maps_incremental          # BENCH_MAP_SIZES=10000,100000  BENCH_MAP_MINUTES=10
"""
from __future__ import annotations

import os
import random
import secrets
import tempfile
import time
from collections import Counter

TITLE = "Orders map on a big portal: portal calls per minute spent by the map (1 change / 5 s, 3 open maps)"
SIZES = [int(x) for x in os.environ.get("BENCH_MAP_SIZES", "10000,100000").split(",")]
MINUTES = int(os.environ.get("BENCH_MAP_MINUTES", "10"))
TICK = 5.0
MAPS = 3


GATE = "not the map: sync_1c's stage gate, crm.deal.get per deal event"


class _NoGeocoder:
    def geocode(self, *a, **k):
        return None


def _setup(n: int):
    if not os.environ.get("B24APP_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        os.environ["B24APP_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    from b24app.app import create_app
    from b24app.config import Settings
    from b24app.inbox import Worker
    from b24app.install_flow import progress_of
    from b24sandbox import SandboxCloud, demo
    from b24sandbox.clock import FakeClock
    from bench.maps_page import _add_jobs, _serve
    from install.demo_shape import demo_app
    from maps import geocoding
    from maps.geocode import RateLimiter

    geocoding.PROVIDER_FACTORY = _NoGeocoder
    geocoding.LIMITER = RateLimiter(0.0)
    cloud = SandboxCloud(clock=FakeClock(time.time()), demo_app=demo_app())
    portal = cloud.add_portal(seed="demo")
    server, holder, url = _serve(None)
    cid, secret = f"local.{secrets.token_hex(7)}.00000001", secrets.token_urlsafe(36)[:50]
    db = tempfile.mkdtemp(prefix="b24bench-incr-")
    settings = Settings(client_id=cid, client_secret=secret, oauth_server=cloud.oauth_url, public_url=url,
                        database_url=f"sqlite:///{db}/bench.db", allow_http_portals=True, secret_key="bench")
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
    with portal.db.lock:                      # the demo's own deals: keep only our measurement jobs' shape
        open_demo = len(portal.db.deals)
    _add_jobs(portal, demo, max(0, n - open_demo))
    portal.clock.advance(300)                 # the deals were there before the map was first opened
    return cloud, portal, server, services, worker, cid


def _map_calls(portal, cid: str, since: int) -> list:
    return [r for r in portal.log[since:] if r.via == "http" and r.client_id == cid
            and not r.method.startswith("event.offline.")]


def _plumbing(portal, cid: str, since: int) -> int:
    return sum(1 for r in portal.log[since:] if r.via == "http" and r.client_id == cid
               and r.method.startswith("event.offline."))


def _kind(rec) -> str:
    if rec.method == "batch":
        cmds = " ".join(str(v) for v in (rec.params.get("cmd") or {}).values())
        if "server.time" in cmds:
            return "safety net (server.time + changed since + count)"
        if "crm.deal.get" in cmds:
            return "refresh (crm.deal.get × ≤50)"
        if "crm.deal.list" in cmds:
            return "full read (list_all batch)"
        return "batch, other"
    if rec.method in ("server.time", "crm.deal.list"):
        return "full read (list_all probe, server.time)"
    if rec.method == "crm.deal.get":
        return GATE
    return rec.method


def run() -> None:
    from b24app.inbox import pull_all_offline
    from install.registry import installed_ids
    from maps import jobcache, mapstate, service

    print(f"{MINUTES} portal minutes on the sandbox's fake clock, a tick = {TICK:.0f} s: one deal changed through "
          f"the webhook, offline events pulled, the worker's inbox run, {MAPS} maps poll.\n")
    summary = []
    for n in SIZES:
        t0 = time.perf_counter()
        cloud, portal, server, services, worker, cid = _setup(n)
        jobcache.CLOCK = portal.clock.now
        member = portal.member_id
        try:
            ids = installed_ids(services.store, member)
            webhook = portal.webhook_url
            import requests

            mark = len(portal.log)
            t = time.perf_counter()
            version, jobs = service.jobs(services, member)                  # the first open map builds the cache
            build_wall = time.perf_counter() - t
            build_calls = len(_map_calls(portal, cid, mark))
            assert len(jobs) >= n * 0.99, (len(jobs), n)
            rng = random.Random(19)
            deal_ids = [j.id for j in jobs]
            seen = {m: version for m in range(MAPS)}
            start_log, start_clock = len(portal.log), portal.clock.now()
            per_minute: Counter = Counter()
            kinds: Counter = Counter()
            refused = 0
            wall = time.perf_counter()
            ticks = int(MINUTES * 60 / TICK)
            for tick in range(ticks):
                minute = int(tick * TICK // 60)
                before = len(portal.log)
                deal = rng.choice(deal_ids)
                r = requests.post(webhook + "crm.deal.update.json", json={"id": deal, "fields": {
                    "TITLE": f"Замер {deal}, правка {tick}", ids.deal_field("job_duration"): 60 + tick % 4 * 30}},
                    timeout=30)
                r.raise_for_status()
                pull_all_offline(services)
                while worker.run_once():
                    pass
                portal.clock.advance(TICK)
                for m in range(MAPS):
                    if mapstate.version(services.store.engine, member) != seen[m]:
                        seen[m], _ = service.jobs(services, member)
                    else:
                        service.jobs(services, member)      # what a poll costs when nothing moved: the cache
                calls = _map_calls(portal, cid, before)
                kinds.update(_kind(c) for c in calls)
                per_minute[minute] += sum(1 for c in calls if _kind(c) != GATE)
                refused += sum(1 for c in portal.log[before:] if c.status == 429)
            wall = time.perf_counter() - wall
            span = portal.clock.now() - start_clock
            total = sum(per_minute.values())          # the map's own: refresh, safety net, full reads
            plumbing = _plumbing(portal, cid, start_log)
            final = {j.id: j.title for j in service.jobs(services, member)[1]}
            truth = {r["ID"]: r["TITLE"] for r in portal.db.deals.rows.values()}
            stale = sum(1 for i, title in final.items() if truth.get(i) != title)
            used = {m: portal.limits.operating((cid, m))[0] for m in ("crm.deal.get", "crm.deal.list", "batch")}
            summary.append((n, build_calls, build_wall, total, span, per_minute, kinds, refused, plumbing, stale,
                            used, wall, time.perf_counter() - t0))
        finally:
            server.shutdown()
            cloud.shutdown()
    print("| jobs | cache build (first map): calls, s | map calls in 10 min | map req/s | per minute (min 1…10) "
          "| refused (429/503) | event plumbing calls | stale rows at the end | operating s used (deal.get / "
          "deal.list) | bench wall, s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (n, bc, bw, total, span, pm, _kinds, refused, plumbing, stale, used, wall, whole) in summary:
        mins = " ".join(str(pm.get(i, 0)) for i in range(MINUTES))
        print(f"| {n:,} | {bc}, {bw:.1f} | {total} | {total / span:.3f} | {mins} | {refused} | {plumbing} | {stale} | "
              f"{used['crm.deal.get']:.2f} / {used['crm.deal.list']:.2f} | {wall:.0f} (all {whole:.0f}) |")
    print()
    for (n, *_rest) in summary:
        kinds = _rest[5]
        print(f"- {n:,} jobs: " + "; ".join(f"{k}: {v}" for k, v in kinds.most_common()))


if __name__ == "__main__":
    run()
