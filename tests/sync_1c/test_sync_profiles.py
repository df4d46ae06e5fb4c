"""sync.run end to end on other configurations than УТ 11.5: УТ 11.4 (composite Заказ), БП 3.0 (the
invoice is the order, rows by СчетНаОплату_Key) and УНФ (ЗаказПокупателя, СуммаРасчетов). Over HTTP on
both sides: the 1C sandbox of that configuration, the sync with the matching profile, the portal sandbox."""
from __future__ import annotations

import pytest

from install.apply import install
from sync_1c import connection, sync
from b24sandbox.onec import start
from tests.install.conftest import app_env  # noqa: F401 - fixture
from tests.sync_1c.test_sync_flow import Env, recent

PROFILE_OF = {"ut11_4": "ut11_4", "bp3_0": "bp3_0", "unf": "unf"}


@pytest.fixture(params=sorted(PROFILE_OF))
def flavored(request, app_env, portal):
    sb = start(flavor=request.param)
    report = install(app_env, portal.member_id)
    assert report.complete, report.errors
    connection.save(app_env.store.kv, portal.member_id, base_url=sb.url, username=sb.username,
                    password=sb.password, profile=PROFILE_OF[request.param], retries=1, backoff=0, timeout=5)
    sync._checked.clear()
    sync._readers.clear()
    yield Env(app_env, portal, sb)
    sb.shutdown()


def test_partial_payment_refund_unpost_and_no_change_rerun(flavored):
    env = flavored
    assert sync.connection.check(connection.load(env.services.store.kv, env.member_id)) == []
    prefix = env.ib.fl.prefix
    o1 = env.ib.add_order(1000, recent(6), number=f"{prefix}000301")
    o2 = env.ib.add_order(500, recent(6), number=f"{prefix}000302")
    d1 = env.deal(f"{prefix}000301", 1000)
    d2 = env.deal("302", 500)                                       # a bare number typed by a manager
    env.ib.add_payment([(o1, 400)], recent(4))
    env.ib.add_payment([(o1, 600), (o2, 500)], recent(3), kind="cash")   # one document, two orders
    late = env.ib.add_payment([(o2, 100)], recent(2))
    env.ib.add_payment([(o1, 999)], recent(2), operation="ОплатаПоставщику")   # not a customer payment
    r = env.sync()
    assert r.read == 3 and r.updates == 2
    assert env.paid(d1) == (1000.0, "Y") and env.paid(d2) == (600.0, "Y")
    assert env.get(d2)[env.f("order_1c_key")] == o2                  # bound by number within the year
    env.ib.add_payment([(o1, 250)], recent(1), kind="refund")
    env.ib.unpost(late)
    env.sync()
    assert env.paid(d1) == (750.0, "N") and env.paid(d2) == (500.0, "Y")
    assert len(env.comments(d1)) == 3 and len(env.comments(d2)) == 3
    mark = env.mark()
    again = env.sync()
    assert env.writes(mark) == [] and again.updates == 0 and again.comments == 0
