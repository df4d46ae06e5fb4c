"""The dashboards' read: 5,000 Visit items of one month (10 regions, 20 managers, every stage) plus 500
outside it, counted by region and employee — portal HTTP calls against the keyset floor and wall time,
with the sandbox's leaky bucket on."""
from __future__ import annotations

import math
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from install.apply import install
from install.registry import installed_ids
from reports.period import Period
from reports.visits_report import read_visits, visits_report

from .setup import installed_portal

TITLE = "Dashboards: 5,000 visits of a month by region and employee (sandbox portal, leaky bucket on)"
N, OUTSIDE = 5_000, 500
MONTH = Period("custom", date(2026, 3, 1), date(2026, 3, 31))
STAGES = ("draft", "in_work", "repeat_visit", "overdue", "done", "failed")


def _http(portal, since: int) -> int:
    return sum(1 for r in portal.log[since:] if getattr(r, "via", "http") == "http")


def _seed(b, n: int, outside: int) -> None:
    """crm.item.add in batches of 50 with both leaky buckets off (setup, not measured)."""
    from b24app.throttle import Throttle

    v = installed_ids(b.services.store, b.member_id).smart_process("visit")
    zone = ZoneInfo("Europe/Moscow")
    own, b.services.throttle = b.services.throttle, Throttle(burst=10**9, drain=10**9)
    b.portal.settings.rate_limit = False
    try:
        cmds = []
        for i in range(n + outside):
            day = MONTH.first + timedelta(days=i % 31) if i < n else MONTH.last + timedelta(days=1 + i % 20)
            fields = {"title": f"v{i}", "categoryId": v.category_id, "stageId": v.stage(STAGES[i % len(STAGES)]),
                      v.field("visit_date"): datetime(day.year, day.month, day.day, 9 + i % 9, tzinfo=zone).isoformat(),
                      v.field("region"): f"Регион {i % 10 + 1}", "assignedById": 1 + i % 20}
            cmds.append(("crm.item.add", {"entityTypeId": v.entity_type_id, "fields": fields}))
        res = b.services.client(b.member_id).batch_many(cmds)
        assert all(r.ok for r in res), next(r.error for r in res if not r.ok)
    finally:
        b.services.throttle = own
        b.portal.settings.rate_limit = True
        if hasattr(b.portal.limits, "reset"):
            b.portal.limits.reset()


def run(n: int = N, outside: int = OUTSIDE) -> None:
    b = installed_portal()
    try:
        report = install(b.services, b.member_id)
        assert report.complete, report.errors
        _seed(b, n, outside)
        floor = math.ceil(n / 2500) + 1
        print("| read | rows | portal HTTP calls | floor | wall time, s | of which the portal read, s |")
        print("|---|---|---|---|---|---|")
        mark, t = len(b.portal.log), time.perf_counter()
        rows, cost = read_visits(b.services, b.member_id, MONTH)
        dt = time.perf_counter() - t
        assert len(rows) == n and len({r["id"] for r in rows}) == n, "every visit of the month once"
        print(f"| read_visits: crm.item.list, 6 fields, month filter, keyset batches | {len(rows)} | "
              f"{_http(b.portal, mark)} | {floor} | {dt:.2f} | {cost['seconds']:.2f} |")
        mark, t = len(b.portal.log), time.perf_counter()
        doc = visits_report(b.services, b.member_id, MONTH)
        dt = time.perf_counter() - t
        assert doc["totals"]["total"] == n and len(doc["regions"]) == 10 and len(doc["employees"]) == 20
        print(f"| visits_report: the read + user.get of 20 managers in one batch | {doc['totals']['total']} | "
              f"{_http(b.portal, mark)} | {floor + 1} | {dt:.2f} | {doc['read']['seconds']:.2f} |")
        mark, t = len(b.portal.log), time.perf_counter()
        doc = visits_report(b.services, b.member_id, MONTH, region="Регион 3")
        dt = time.perf_counter() - t
        print(f"| visits_report, region filter (portal-side) | {doc['totals']['total']} | {_http(b.portal, mark)} | "
              f"{math.ceil(doc['totals']['total'] / 2500) + 2} | {dt:.2f} | {doc['read']['seconds']:.2f} |")
    finally:
        b.close()


if __name__ == "__main__":
    run()
