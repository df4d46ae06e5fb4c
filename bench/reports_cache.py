"""The dashboards from their cache (reports/cache.py): a portal with 20,000 Visit items over twelve months
(10 regions, 40 managers, five visit types, every stage) and a plan per manager and month. The first
dashboard fills the cache (portal HTTP calls counted against the keyset floor); every later one is SQL on
our store — timed for the page's request (GET /api/reports/dashboard: JSON and six SVG charts) and for
the dashboard alone, with each filter; then 50 visits change and the next dashboard catches up. SQLite and
PostgreSQL; the sandbox's leaky bucket on."""
from __future__ import annotations

import math
import os
import statistics
import time
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from b24app import session as page_sessions
from install.apply import install
from install.registry import installed_ids
from reports import cache, plans
from reports.dashboard import dashboard
from reports.period import Period

from .setup import installed_portal

TITLE = "Dashboards from the cache: 20,000 visits (issue 14)"
N, MANAGERS, REGIONS = 20_000, 40, 10
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
STAGES = ("draft", "in_work", "repeat_visit", "overdue", "done", "done", "failed")
TYPES = ("planned", "repeat", "unplanned", "merchandising", "training")
PG_ADMIN = os.environ.get("B24APP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _http(portal, since: int) -> int:
    return sum(1 for r in portal.log[since:] if getattr(r, "via", "http") == "http")


def _seed(b, n: int) -> None:
    """crm.item.add in batches of 50 with both leaky buckets off (setup, not measured)."""
    from b24app.throttle import Throttle

    v = installed_ids(b.services.store, b.member_id).smart_process("visit")
    zone = ZoneInfo("Europe/Moscow")
    own, b.services.throttle = b.services.throttle, Throttle(burst=10**9, drain=10**9)
    b.portal.settings.rate_limit = False
    try:
        cmds = []
        for i in range(n):
            day = YEAR[0] + timedelta(days=i % 365)
            fields = {"title": f"v{i}", "categoryId": v.category_id, "stageId": v.stage(STAGES[i % len(STAGES)]),
                      v.field("visit_date"): datetime(day.year, day.month, day.day, 9 + i % 9, tzinfo=zone).isoformat(),
                      v.field("region"): f"Регион {i % REGIONS + 1}", "assignedById": 1 + i % MANAGERS,
                      v.field("visit_type"): v.enum_id("visit_type", TYPES[i % len(TYPES)])}
            cmds.append(("crm.item.add", {"entityTypeId": v.entity_type_id, "fields": fields}))
        res = b.services.client(b.member_id).batch_many(cmds)
        assert all(r.ok for r in res), next(r.error for r in res if not r.ok)
        for k in range(2, MANAGERS + 1):              # the portal's users 2..40 (user 1 is the admin)
            b.portal.db.add_user(f"Менеджер{k}", f"Фамилия{k}", f"m{k}@example.ru")
    finally:
        b.services.throttle = own
        b.portal.settings.rate_limit = True
        if hasattr(b.portal.limits, "reset"):
            b.portal.limits.reset()


def _pg_url() -> str | None:
    import sqlalchemy as sa

    name = "b24bench_" + uuid.uuid4().hex[:8]
    try:
        with sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception:  # noqa: BLE001 - no PostgreSQL here: that row is skipped
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _drop(url: str) -> None:
    import sqlalchemy as sa

    with sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _median_ms(fn, runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def one(kind: str, url: str | None, n: int = N) -> None:
    from b24app.app import create_app

    b = installed_portal(database_url=url)
    try:
        report = install(b.services, b.member_id)
        assert report.complete, report.errors
        _seed(b, n)
        plans.save(b.services.store.engine, b.member_id,
                   [{"user_id": u, "month": f"2026-{m:02d}", "visits": 100} for u in range(1, MANAGERS + 1)
                    for m in range(1, 13)])
        svc = b.services
        b.cloud.clock.advance(1800)          # half an hour later someone opens the dashboards (visits are older)
        march = Period("custom", date(2026, 3, 1), date(2026, 3, 31))

        mark, t = len(b.portal.log), time.perf_counter()
        doc = dashboard(svc, b.member_id, march)
        first_s, first_calls = time.perf_counter() - t, _http(b.portal, mark)
        with svc.store.engine.connect() as c:
            import sqlalchemy as sa
            cached = c.execute(sa.select(sa.func.count()).select_from(cache.t_visits)
                               .where(cache.t_visits.c.member_id == b.member_id)).scalar()
        assert cached == n, cached
        assert doc["totals"]["total"] == sum(1 for i in range(n) if (YEAR[0] + timedelta(days=i % 365)).month == 3)
        floor = math.ceil(n / 2500) + 1
        print(f"| {kind} | first dashboard (empty cache: full read of {n:,} visits + names) | "
              f"{first_calls} (keyset floor {floor} + 1 names batch) | {first_s * 1000:,.0f} ms |")

        app = create_app(b.settings)
        token = page_sessions.issue(svc.store, page_sessions.PageSession(
            member_id=b.member_id, user_id=None, lang="ru", is_admin=True, roles=("admin",)))
        http = app.test_client()
        hdr = {page_sessions.HEADER: token}
        d, year = "/api/reports/dashboard?", "from=2026-01-01&to=2026-12-31"
        cases = [("month (the page's request: JSON + 6 SVG charts)", d + "from=2026-03-01&to=2026-03-31"),
                 ("quarter", d + "from=2026-01-01&to=2026-03-31"),
                 (f"whole year ({n:,} visits counted)", d + year),
                 ("year, one region", d + year + "&region=Регион 3"),
                 ("year, one employee", d + year + "&user=7"),
                 ("XLSX of the employees table, year", "/api/reports/export.xlsx?table=employees&" + year)]
        for label, path in cases:
            mark = len(b.portal.log)

            def get(path=path):
                r = http.get(path, headers=hdr)
                assert r.status_code == 200, r.text
            ms = _median_ms(get)
            print(f"| {kind} | warm: {label} | {_http(b.portal, mark)} | {ms:,.0f} ms (median of 15) |")

        # ten minutes later 50 visits change in the portal: their events mark the cache stale; the next
        # dashboard reads only what changed since the mark (its last minute included)
        b.cloud.clock.advance(600)
        v = installed_ids(svc.store, b.member_id).smart_process("visit")
        client = svc.client(b.member_id)
        client.batch_many([("crm.item.update", {"entityTypeId": v.entity_type_id, "id": i,
                                                "fields": {"stageId": v.stage("done")}}) for i in range(1, 51)])
        cache.mark_stale(svc.store.engine, b.member_id)
        mark, t = len(b.portal.log), time.perf_counter()
        r = http.get("/api/reports/dashboard?from=2026-03-01&to=2026-03-31", headers=hdr)
        dt = time.perf_counter() - t
        assert r.status_code == 200 and r.get_json()["read"]["source"] == "refreshed", r.get_json()["read"]
        print(f"| {kind} | after 50 visits changed: the catch-up read (changed since the mark) + the page | "
              f"{_http(b.portal, mark)} | {dt * 1000:,.0f} ms |")
    finally:
        b.close()


def run(n: int = N) -> None:
    if not os.environ.get("B24APP_ENCRYPTION_KEYS"):          # the store seals the portal's secrets
        from cryptography.fernet import Fernet

        os.environ["B24APP_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    print("| store | dashboard | portal HTTP calls | time |")
    print("|---|---|---|---|")
    one("SQLite", None, n)
    url = _pg_url()
    if url:
        try:
            one("PostgreSQL", url, n)
        finally:
            _drop(url)


if __name__ == "__main__":
    run()
