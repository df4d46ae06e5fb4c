"""1C sales per employee next to their visits (seed 001: "the number of visits and the sum of sales made
by each employee"), end to end over HTTP on both sides: orders and payments in the 1C OData sandbox, deals
of two managers on the demo portal, our 1C sync binding and recording them, visits of the same people —
then the dashboard's sales table from the cache, its sums computed here from what was paid in 1C."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from install.apply import install
from reports import cache
from reports.dashboard import dashboard
from reports.period import Period
from sync_1c import connection, sync
from tests.install.conftest import app_env  # noqa: F401 - fixture
from tests.sync_1c.test_sync_flow import Env, onec  # noqa: F401 - fixture


@pytest.fixture
def portal(cloud):
    return cloud.add_portal(seed="demo")


@pytest.fixture
def env(app_env, portal, onec):
    report = install(app_env, portal.member_id)
    assert report.complete, report.errors
    connection.save(app_env.store.kv, portal.member_id, base_url=onec.url, username=onec.username,
                    password=onec.password, retries=1, backoff=0, timeout=5)
    sync._checked.clear()
    sync._readers.clear()
    return Env(app_env, portal, onec)


def _day(days_ago: int) -> datetime:
    return (datetime.now() - timedelta(days=days_ago)).replace(hour=12, minute=0, second=0, microsecond=0)


def _visit(env, manager: int, when: datetime, stage: str) -> None:
    from install.registry import installed_ids

    v = installed_ids(env.services.store, env.member_id).smart_process("visit")
    company = int(next(iter(env.portal.db.companies.rows.values()))["ID"])
    env.client.call("crm.item.add", {"entityTypeId": v.entity_type_id, "fields": {
        "title": "visit", "categoryId": v.category_id, "stageId": v.stage(stage), "companyId": company,
        v.field("visit_date"): when.astimezone().isoformat(), "assignedById": manager}})


def test_sales_from_1c_stand_next_to_each_employees_visits(env):
    paid = {2: [], 3: []}                      # what 1C was told, per deal responsible
    for i, (manager, amount, pays) in enumerate([(2, 1000, [400, 600]), (3, 1500, [1500]), (2, 700, [300])]):
        number = f"ТД00-0009{i:02d}"
        order = env.ib.add_order(amount, _day(9), number=number)
        env.deal(number, amount, ASSIGNED_BY_ID=manager)
        for k, p in enumerate(pays):
            env.ib.add_payment([(order, p)], _day(6 - k))
            paid[manager].append(Decimal(p))
    refund_order = env.ib.add_order(500, _day(9), number="ТД00-000990")
    env.deal("ТД00-000990", 500, ASSIGNED_BY_ID=3)
    env.ib.add_payment([(refund_order, 500)], _day(5))
    env.ib.add_payment([(refund_order, 200)], _day(3), kind="refund")
    paid[3] += [Decimal(500), Decimal(-200)]
    r = env.sync()
    assert r.updates >= 4, r
    for manager, stage, n in [(2, "done", 3), (2, "overdue", 1), (3, "done", 1)]:
        for _ in range(n):
            _visit(env, manager, _day(4), stage)

    today = datetime.now().date()
    period = Period("custom", today - timedelta(days=20), today)
    doc = dashboard(env.services, env.member_id, period, lang="ru")
    sales = {r["user_id"]: r for r in doc["sales"]}
    assert sales[2]["sales"] == sum(paid[2]) == Decimal("1300.00")
    assert sales[3]["sales"] == sum(paid[3]) == Decimal("1800.00")
    assert (sales[2]["deals"], sales[3]["deals"]) == (2, 2)
    assert (sales[2]["visits"], sales[2]["done"], sales[3]["visits"], sales[3]["done"]) == (4, 3, 1, 1)
    assert sales[2]["per_visit"] == Decimal("433.33") and sales[3]["per_visit"] == Decimal("1800.00")
    assert doc["sales_totals"]["sales"] == Decimal("3100.00")
    # a period before the payments: no sales, and the cache answered without a portal call
    before = dashboard(env.services, env.member_id, Period("custom", today - timedelta(days=60),
                                                           today - timedelta(days=30)), lang="ru")
    assert before["sales"] == [] and before["read"]["http_calls"] == 0
    # each deal's responsible was read once (one crm.deal.list batch), kept for the next refresh
    with env.services.store.engine.connect() as c:
        import sqlalchemy as sa
        kept = dict(c.execute(sa.select(cache.t_deals.c.deal_id, cache.t_deals.c.manager)
                              .where(cache.t_deals.c.member_id == env.member_id)).all())
    assert sorted(kept.values()) == [2, 2, 3, 3]
