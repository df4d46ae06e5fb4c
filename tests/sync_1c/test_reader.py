"""End to end on the 1C side: sandbox infobase → PaymentReader → ledger, for УТ 11.5 and 11.4 shapes."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from sync_1c.odata import ODataClient
from sync_1c.payments import Ledger, ledger_state
from sync_1c.profiles import UT_11_4, UT_11_5
from sync_1c.reader import PaymentReader

WINDOW = (datetime(2025, 1, 1), datetime(2026, 12, 31))


def reader_for(sb, profile):
    return PaymentReader(ODataClient(sb.url, sb.username, sb.password, backoff=0), profile, page_size=3)


@pytest.fixture(params=["ut11_5", "ut11_4"])
def base(request):
    from b24sandbox.onec import start
    sb = start(flavor=request.param)
    yield sb, (UT_11_5 if request.param == "ut11_5" else UT_11_4)
    sb.shutdown()


def test_payments_by_order_with_refunds_unposted_and_foreign_operations(base):
    sb, profile = base
    ib = sb.infobase
    o1 = ib.add_order("1000.00", "2025-03-01T10:00:00")
    o2 = ib.add_order("500.00", "2025-03-02T10:00:00")
    ib.add_payment([(o1, "300.10")], "2025-03-03T11:42:17", kind="bank")
    ib.add_payment([(o1, "200.20"), (o2, "500.00")], "2025-03-04T09:00:00", kind="cash")   # split
    ib.add_payment([(o1, "600")], "2025-03-05T09:00:00", kind="card")
    ib.add_payment([(o1, "100.30")], "2025-03-06T09:00:00", kind="refund")
    ib.add_payment([(o2, "50")], "2025-03-06T10:00:00", kind="card_refund")
    ib.add_payment([(o2, "999")], "2025-03-07T09:00:00", kind="bank", posted=False)
    ib.add_payment([(o2, "999")], "2025-03-07T09:00:00", kind="bank", deleted=True)
    ib.add_payment([(o2, "777")], "2025-03-07T09:00:00", kind="bank", operation="ПоступлениеОплатыОтПоставщика")
    ib.add_payment([(o1, "5")], "2024-12-31T23:00:00", kind="bank")          # outside the window

    payments = reader_for(sb, profile).read_window(*WINDOW)
    assert len(payments) == 7                          # the supplier receipt is not a customer payment
    st = ledger_state(payments)
    assert st[o1].amount_paid == Decimal("1000.00")   # 300.10 + 200.20 + 600 − 100.30: overpaid→paid exactly
    assert st[o1].count == 3 and st[o1].refunded == Decimal("100.30")
    assert st[o1].last_payment_at == datetime(2025, 3, 5, 6, 0, tzinfo=timezone.utc)   # MSK → UTC
    assert st[o2].amount_paid == Decimal("450.00")
    first = next(p for p in payments if p.entity_set.endswith("ПоступлениеБезналичныхДенежныхСредств")
                 and p.posted and not p.deleted)
    assert first.date == datetime(2025, 3, 3, 8, 42, 17, tzinfo=timezone.utc)
    assert first.order_key == o1 and first.order_number == "ТД00-000001"
    assert first.allocations[0].order_date == datetime(2025, 3, 1, 10, 0)


def test_unpost_delete_and_physical_delete_are_seen_on_reread(base):
    sb, profile = base
    ib = sb.infobase
    order = ib.add_order(1000, "2025-03-01T10:00:00")
    p1 = ib.add_payment([(order, 400)], "2025-03-02T10:00:00")
    p2 = ib.add_payment([(order, 600)], "2025-03-03T10:00:00", kind="cash")
    reader = reader_for(sb, profile)
    ledger = Ledger()
    ledger.apply(reader.read_window(*WINDOW))
    assert ledger.state()[order].amount_paid == Decimal("1000")

    ib.unpost(p2)
    ledger.apply(reader.read_window(*WINDOW))
    assert ledger.state()[order].amount_paid == Decimal("400")

    ib.post(p2)
    ib.mark_deleted(p1)
    fresh = reader.read_window(*WINDOW)
    ledger.apply(fresh)
    assert ledger.state()[order].amount_paid == Decimal("600")

    ib.delete(p2)                                        # physically gone
    again, gone, _hidden = reader.reread(fresh)
    assert gone == [p2]
    ledger.apply(again)
    for ref in gone:
        ledger.forget(ref)
    assert order not in ledger.state()


def test_advance_without_order_is_unallocated(onec):
    ib = onec.infobase
    contract = ib.add_contract_settlement()
    ib.add_payment([(contract, 700)], "2025-03-02T10:00:00")
    (p,) = reader_for(onec, UT_11_5).read_window(*WINDOW)
    assert p.order_key is None and ledger_state([p]) == {}


def test_find_orders_by_typed_number_respects_year(onec):
    ib = onec.infobase
    a = ib.add_order(1, "2025-02-01T10:00:00", number="ТД00-000123")
    b = ib.add_order(2, "2026-02-01T10:00:00", number="ТД00-000123")
    ib.add_order(3, "2026-02-01T10:00:00", number="ТД00-001123")
    reader = reader_for(onec, UT_11_5)
    assert [r["Ref_Key"] for r in reader.find_orders("тд00 123", 2026)] == [b]
    assert [r["Ref_Key"] for r in reader.find_orders("TД00-000123", 2025)] == [a]
    assert reader.find_orders("УТ-000123", 2025) == []
    with pytest.raises(ValueError):
        reader.find_orders("123", None)


def test_demo_seed_reads_as_expected(onec):
    from b24sandbox.onec.__main__ import seed_demo

    seed_demo(onec.infobase)
    payments = reader_for(onec, UT_11_5).read_window(*WINDOW)
    by_year = {p.allocations[0].order_date.year: s for p in payments
               for k, s in ledger_state(payments).items() if k == p.order_key}
    assert by_year[2025].amount_paid == Decimal("120000") and by_year[2026].amount_paid == Decimal("75000")
