""""Sync payments now" reads only the deal's order from 1C (by its key or number), not the whole window:
1C requests are counted in the 1C sandbox log, portal writes in the portal sandbox log."""
from __future__ import annotations

from b24sandbox.robots import run_robot
from sync_1c import sync
from sync_1c.profiles import UT_11_5
from tests.app.conftest import CLIENT_ID
from tests.install.conftest import app_env  # noqa: F401 - fixture
from tests.sync_1c.test_sync_flow import env, onec, recent  # noqa: F401 - fixtures
from tests.sync_1c.test_sync_gate_push import _drain, _worker

def _data_requests(onec, since):
    return [e for e in onec.log[since:] if not e.path.endswith("$metadata")]


def test_robot_reads_only_the_deals_order(env):
    for i in range(250):                              # a busy base: a window read would page through these
        o = env.ib.add_order(100, recent(6), number=f"ТД00-00{3000 + i}")
        env.ib.add_payment([(o, 100)], recent(3))
    order = env.ib.add_order(1000, recent(5), number="ТД00-002901")
    deal = env.deal("тд00 2901", 1000)
    first = env.ib.add_payment([(order, 300)], recent(2))
    env.ib.add_payment([(order, 200)], recent(1), kind="cash")
    env.ib.add_payment([(order, 50)], recent(1), kind="refund")
    mark_1c, mark = len(env.onec.log), env.mark()
    token = run_robot(env.portal, CLIENT_ID, "b24app_sync_payments_now", f"DEAL_{deal}", {})
    _drain(_worker(env.services))
    sent = [e for e in env.portal.db.bizproc_events if e["event_token"] == token]
    assert sent[0]["return_values"] == {"amount_paid": 450.0, "paid_in_full": "N"}, sent
    reqs = _data_requests(env.onec, mark_1c)
    n_sources = len(UT_11_5.sources)
    # one order lookup by number + one `any` query per payment entity set + 1C's own total of the order
    # (InformationRegister_СостоянияЗаказовКлиентов); nothing else
    assert len(reqs) == 1 + n_sources + 1, [(e.path, e.options.get("$filter")) for e in reqs]
    assert reqs[-1].path.endswith("InformationRegister_СостоянияЗаказовКлиентов")
    reqs = reqs[:-1]
    by_number = reqs[0]
    assert by_number.path.endswith("Document_ЗаказКлиента") and "endswith(Number" in by_number.options["$filter"]
    skey = env.ib.settlement_object_of(order)
    for e in reqs[1:]:
        assert f"РасшифровкаПлатежа/any(d: d/ОбъектРасчетов_Key eq guid'{skey}')" == e.options["$filter"]
        assert "Date ge" not in e.options["$filter"]
    assert sorted(env.writes(mark)) == ["crm.deal.update"] + ["crm.timeline.comment.add"] * 3
    assert [r.method for r in env.portal.log[mark:] if r.method == "batch"] == ["batch"]       # one call

    # un-posted in 1C → the robot again: the same few requests, the amount follows, one more comment
    env.ib.unpost(first)
    mark_1c, mark = len(env.onec.log), env.mark()
    report = sync.run_for_deal(env.services, env.member_id, env.get(deal))
    assert report.deals[deal]["amount_paid"] == "150.00" and report.updates == 1 and report.comments == 1
    assert len(_data_requests(env.onec, mark_1c)) == 1 + n_sources + 1
    assert env.paid(deal) == (150.0, "N")
    mark = env.mark()
    assert sync.run_for_deal(env.services, env.member_id, env.get(deal)).updates == 0
    assert env.writes(mark) == []

    # the periodic full sync after it: many more 1C requests, and nothing written twice for this deal
    mark_1c, mark = len(env.onec.log), env.mark()
    full = env.sync()
    assert len(_data_requests(env.onec, mark_1c)) > 3 * (1 + n_sources)
    assert full.deals[deal]["amount_paid"] == "150.00"
    assert len(env.comments(deal)) == 4                                # 3 payments + the un-post


def test_robot_by_stored_key_and_when_the_number_is_ambiguous(env):
    o1 = env.ib.add_order(500, recent(5), number="ТД00-002950")
    o2 = env.ib.add_order(500, recent(5), number="УТ-00002950")      # another prefix, same counter
    env.ib.add_payment([(o1, 500)], recent(1))
    bare = env.deal("2950", 500)                                       # matches both: no guess
    report = sync.run_for_deal(env.services, env.member_id, env.get(bare))
    assert report.deals == {} and "2 1C orders match" in report.problems[0]
    keyed = env.deal("ТД00-002950", 500, **{env.f("order_1c_key"): o2})
    env.ib.add_payment([(o2, 500)], recent(1))
    mark_1c = len(env.onec.log)
    report = sync.run_for_deal(env.services, env.member_id, env.get(keyed))
    assert report.deals[keyed]["amount_paid"] == "500.00" and report.deals[keyed]["paid_in_full"] == "Y"
    reqs = _data_requests(env.onec, mark_1c)
    assert "Ref_Key eq guid'" + o2 + "'" in reqs[0].options["$filter"]        # by key, not by number
