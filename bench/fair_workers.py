"""Many portals, one of them bulk-importing (issue 18): do the others' robots still get answered in seconds?

A PostgreSQL deployment with ``BENCH_PORTALS`` installed portals (default 1,000). One portal has
``BENCH_BULK`` deal events queued (default 100,000: a bulk import); every other portal gets a robot call
about once a minute for ``BENCH_SECONDS`` (default 180). ``BENCH_WORKERS`` worker processes (default 4) run
the real ``b24app.inbox.Worker`` with the real ``PortalClient`` and the deployment's shared request budget
(a row per portal in PostgreSQL); each item makes one REST call.

The portals: one loopback HTTP server answering ``/rest/<member_id>/<method>`` for every portal, each
portal with the sandbox's own leaky bucket (``b24sandbox.limits.Limits``: burst 50, 2 req/s; over it →
503 QUERY_LIMIT_EXCEEDED before anything runs). Only the limit matters here, so the CRM behind it is not
emulated: ``crm.deal.get`` and ``bizproc.event.send`` answer at once and are counted per item.

Reported for the fair claim (main) and for the oldest-first claim it replaced: robot latency (queued →
done) p50/p99 and the robots left unanswered, bulk items done, 503s the portals gave us, the most requests
one portal saw in any window beyond burst + drain × window (≤ 0 = the budget held), and items whose call
ran twice (exactly once = 0).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import statistics
import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime, timezone

TITLE = "Many portals, one bulk import: fair claim vs oldest first (issue 18)"
PG_ADMIN = os.environ.get("B24APP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


# --- the portals: one loopback server, a sandbox leaky bucket per portal ---------------------------------
class _Portal:
    def __init__(self):
        from b24sandbox.limits import Limits

        self.settings = type("S", (), {"rate_limit": True, "burst": 50, "drain": 2.0})()
        self.clock = type("C", (), {"now": staticmethod(time.time)})()
        self.limits = Limits(self)
        self.accepted: list[float] = []


class Portals:
    def __init__(self):
        self.by_member: dict[str, _Portal] = defaultdict(_Portal)
        self.refused = 0
        self.ran: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def wsgi(self, environ, start_response):
        from werkzeug.wrappers import Request

        req = Request(environ)
        parts = req.path.strip("/").split("/")          # rest/<member>/<method>
        member = parts[1] if len(parts) > 2 else ""
        with self.lock:
            portal = self.by_member[member]
        if not portal.limits.take_request():
            with self.lock:
                self.refused += 1
            body, status = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}, "503"
        else:
            item = str(req.values.get("item") or "")
            with self.lock:
                portal.accepted.append(time.time())
                if item:
                    self.ran[item] += 1
            body, status = {"result": True, "time": {"start": time.time()}}, "200"
        start_response(f"{status} X", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]


# --- the worker processes -------------------------------------------------------------------------------
def _oldest_first_claim(self, owner, limit=20, lease_seconds=60, per_portal=10):
    """The claim before issue 18, for comparison: oldest ready item first, whatever portal it is."""
    import sqlalchemy as sa

    from b24app.store.sql import _item, _now, t_inbox

    now = self.clock()
    i = t_inbox.c
    pick = sa.select(i.id).where(self._ready(now)).order_by(i.id).limit(limit).with_for_update(skip_locked=True)
    with self.engine.begin() as c:
        ids = list(c.execute(pick).scalars())
        if not ids:
            return []
        c.execute(sa.update(t_inbox).where(i.id.in_(ids), self._ready(now))
                  .values(status="working", owner=owner, lease_until=now + lease_seconds,
                          attempts=i.attempts + 1, updated_at=_now()))
        rows = c.execute(sa.select(t_inbox).where(i.id.in_(ids), i.owner == owner,
                                                  i.lease_until == now + lease_seconds).order_by(i.id))
        return [_item(r) for r in rows]


def _worker(url: str, mode: str, stop_at: float) -> None:
    from b24app.config import Settings
    from b24app.inbox import Worker
    from b24app.registry import Registry
    from b24app.services import Services
    from b24app.store import open_store
    from b24app.store.sql import SQLInbox

    if mode == "oldest":
        SQLInbox.claim = _oldest_first_claim

    def deal_event(services, member_id, payload):
        services.client(member_id).call("crm.deal.get", {"id": payload["k"], "item": payload["item"]})

    def robot(services, member_id, payload):
        services.client(member_id).call("bizproc.event.send", {"event_token": "t", "item": payload["item"]})

    def plugin(reg):
        reg.on_event("ONCRMDEALUPDATE", deal_event)
        reg.inbox_job("robot", "*", robot)

    registry = Registry().use("sim", plugin)
    store = open_store(url, migrate_db=False)
    services = Services(Settings(database_url=url, client_id="sim", client_secret="sim"), store, registry=registry)
    worker = Worker(services, registry, batch=20, backoff=1.0, max_backoff=5.0)
    threading.Timer(max(0.0, stop_at - time.time()), worker.stop).start()
    worker.run_forever(poll=0.05)


# --- one run ----------------------------------------------------------------------------------------------
def _database() -> tuple[str, callable]:
    import sqlalchemy as sa

    name = "b24bench_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as c:
            c.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, drop


def simulate(mode: str, n_portals: int, bulk: int, seconds: float, workers: int) -> dict:
    import sqlalchemy as sa
    from werkzeug.serving import make_server

    from b24app.store import open_store
    from b24app.store.interface import INSTALLED, Portal
    from b24app.store.tables import inbox as t_inbox

    from werkzeug.serving import WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_request(self, *a, **k):
            pass

    portals = Portals()
    server = make_server("127.0.0.1", 0, portals.wsgi, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/rest/"
    url, drop = _database()
    store = open_store(url)
    try:
        members = [f"sim{n:05d}" + uuid.uuid4().hex[:8] for n in range(n_portals)]
        for m in members:
            store.portals.upsert(Portal(member_id=m, domain=f"{m}.example", client_endpoint=f"{base}{m}/",
                                        server_endpoint="http://127.0.0.1:9/rest/", access_token="a" * 32,
                                        refresh_token="r" * 32, expires_at=int(time.time()) + 86400,
                                        status=INSTALLED))
        big, others = members[0], members[1:]
        now = datetime.now(timezone.utc)
        rows = [{"member_id": big, "kind": "event", "name": "ONCRMDEALUPDATE",
                 "payload": {"k": k, "item": f"b{k}"}, "dedup_key": f"b{k}", "status": "pending", "attempts": 0,
                 "available_at": 0.0, "created_at": now, "updated_at": now} for k in range(bulk)]
        with store.engine.begin() as c:
            for i in range(0, len(rows), 5000):
                c.execute(sa.insert(t_inbox), rows[i:i + 5000])
        t0 = time.time()
        stop_at = t0 + seconds + 30                      # 30 s after the last robot call to answer it
        procs = [mp.get_context("spawn").Process(target=_worker, args=(url, mode, stop_at)) for _ in range(workers)]
        [p.start() for p in procs]
        rnd = random.Random(7)
        sent = 0
        while time.time() < t0 + seconds:               # each other portal: a robot call about once a minute
            tick = time.time()
            for m in rnd.sample(others, k=max(1, round(len(others) / 60))):
                store.inbox.put(m, "robot", "b24app_start_job", {"item": f"r{sent}", "sent": time.time()},
                                f"r{sent}")
                sent += 1
            time.sleep(max(0.0, 1.0 - (time.time() - tick)))
        [p.join(timeout=max(5.0, stop_at - time.time() + 20)) for p in procs]
        for p in procs:
            if p.is_alive():
                p.terminate()
        i = t_inbox.c
        with store.engine.connect() as c:
            robots = c.execute(sa.select(i.status, i.payload, i.updated_at).where(i.kind == "robot")).all()
            bulk_done = c.execute(sa.select(sa.func.count()).where(i.kind == "event", i.status == "done")).scalar()
        lat = sorted(r.updated_at.timestamp() - r.payload["sent"] for r in robots if r.status == "done")
        over = 0.0
        for p in portals.by_member.values():
            ts = p.accepted
            for a in range(len(ts)):
                for b in range(a, min(len(ts), a + 120)):
                    over = max(over, (b - a + 1) - (50 + 2.0 * (ts[b] - ts[a])))
        done_items = {f"r{k}" for k in range(sent)} | {f"b{k}" for k in range(bulk)}
        twice = sum(1 for item, n in portals.ran.items() if n > 1 and item in done_items)
        return {"mode": mode, "robots": len(robots), "answered": len(lat),
                "p50": statistics.median(lat) if lat else None,
                "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
                "bulk_done": int(bulk_done), "refused_503": portals.refused, "over_budget": round(over, 2),
                "twice": twice, "seconds": seconds}
    finally:
        store.close()
        server.shutdown()
        drop()


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.2f} s"


def run() -> None:
    n = int(os.environ.get("BENCH_PORTALS", 1000))
    bulk = int(os.environ.get("BENCH_BULK", 100_000))
    seconds = float(os.environ.get("BENCH_SECONDS", 180))
    workers = int(os.environ.get("BENCH_WORKERS", 4))
    modes = [m for m in os.environ.get("BENCH_MODES", "fair,oldest").split(",") if m]
    print(f"{n} portals, one with {bulk:,} queued deal events; the others a robot call a minute each for "
          f"{seconds:.0f} s (+30 s to answer); {workers} worker processes; PostgreSQL; portal limit burst 50, "
          f"2 req/s\n")
    print("| claim | robot calls | answered | latency p50 | p99 | bulk items done | 503s | over budget | run twice |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mode in modes:
        r = simulate(mode, n, bulk, seconds, workers)
        print(f"| {'fair (main)' if mode == 'fair' else 'oldest first (before)'} | {r['robots']} | {r['answered']} "
              f"| {_fmt(r['p50'])} | {_fmt(r['p99'])} | {r['bulk_done']:,} | {r['refused_503']} "
              f"| {r['over_budget']} | {r['twice']} |", flush=True)
