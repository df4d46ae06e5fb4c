"""Ledger semantics: partial, overpaid, refunds, un-posting and deletion reversing, Decimal, time zones."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from sync_1c.payments import (RECEIPT, REFUND, Allocation, Ledger, Payment, ledger_state, local_to_utc,
                              to_decimal, unallocated, utc_to_local)

UTC = timezone.utc


def pay(ref, amount, order="o1", kind=RECEIPT, day=1, **kw):
    return Payment.single(ref, kind, amount, datetime(2025, 3, day, 9, tzinfo=UTC), order_key=order, **kw)


def test_partial_payments_sum_and_track_last_date():
    st = ledger_state([pay("p1", "300.10", day=1), pay("p2", "200.20", day=5), pay("p3", 50, order="o2")])
    assert st["o1"].amount_paid == Decimal("500.30")
    assert st["o1"].count == 2 and st["o1"].last_payment_at == datetime(2025, 3, 5, 9, tzinfo=UTC)
    assert st["o2"].amount_paid == Decimal("50")


def test_overpayment_is_kept_not_capped():
    st = ledger_state([pay("p1", 1000), pay("p2", 250)])
    assert st["o1"].amount_paid == Decimal("1250")


def test_refund_is_subtracted_or_ignored():
    payments = [pay("p1", 1000, day=1), pay("r1", 300, kind=REFUND, day=9)]
    st = ledger_state(payments)["o1"]
    assert (st.received, st.refunded, st.amount_paid) == (Decimal("1000"), Decimal("300"), Decimal("700"))
    assert st.last_payment_at == datetime(2025, 3, 1, 9, tzinfo=UTC) and st.count == 1   # refunds aren't payments
    assert ledger_state(payments, refunds="ignore")["o1"].amount_paid == Decimal("1000")


def test_unposted_and_deleted_documents_contribute_nothing():
    st = ledger_state([pay("p1", 100), pay("p2", 200, posted=False), pay("p3", 400, deleted=True)])
    assert st["o1"].amount_paid == Decimal("100") and st["o1"].count == 1


def test_rereading_an_unposted_document_reverses_it():
    ledger = Ledger()
    assert ledger.apply([pay("p1", 100), pay("p2", 200)]) == {"o1"}
    assert ledger.state()["o1"].amount_paid == Decimal("300")
    ledger.apply([pay("p2", 200, posted=False)])                   # same Ref_Key, read again
    assert ledger.state()["o1"].amount_paid == Decimal("100")
    ledger.apply([pay("p1", 100, deleted=True)])
    assert "o1" not in ledger.state()


def test_idempotent_by_ref_key_and_relink_touches_both_orders():
    ledger = Ledger()
    ledger.apply([pay("p1", 100)])
    ledger.apply([pay("p1", 100)])
    assert ledger.state()["o1"].amount_paid == Decimal("100") and len(ledger) == 1
    assert ledger.apply([pay("p1", 100, order="o2")]) == {"o1", "o2"}   # accountant re-allocated it
    assert set(ledger.state()) == {"o2"}
    assert ledger.forget("p1") == {"o2"} and ledger.state() == {}


def test_one_payment_split_over_two_orders_and_unallocated_rows():
    p = Payment("p1", RECEIPT, Decimal("150000"), datetime(2025, 3, 3, 8, 42, tzinfo=UTC), allocations=(
        Allocation(Decimal("100000"), order_key="o1", line_number=1),
        Allocation(Decimal("30000"), order_key="o2", line_number=2),
        Allocation(Decimal("20000"), order_key=None, line_number=3)))
    st = ledger_state([p])
    assert st["o1"].amount_paid == Decimal("100000") and st["o2"].amount_paid == Decimal("30000")
    assert [a.amount for _p, a in unallocated([p])] == [Decimal("20000")]
    assert p.order_key is None                       # ambiguous: two orders


def test_decimal_exactness():
    payments = [pay(f"p{i}", "0.1") for i in range(10)]
    assert ledger_state(payments)["o1"].amount_paid == Decimal("1.0")
    assert to_decimal(0.1) == Decimal("0.1") and to_decimal("1") == Decimal("1")
    assert to_decimal("2,50") == Decimal("2.50")
    with pytest.raises(TypeError):
        Payment("p", RECEIPT, 0.1, datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        to_decimal(None)


def test_mixed_settlement_currencies_are_flagged():
    st = ledger_state([pay("p1", 10, currency="RUB"), pay("p2", 10, currency="USD")])["o1"]
    assert st.mixed_currencies and st.currency is None


def test_time_zone_conversion():
    assert local_to_utc("2025-03-03T11:42:17") == datetime(2025, 3, 3, 8, 42, 17, tzinfo=UTC)   # MSK = UTC+3
    assert local_to_utc("2025-07-01T12:00:00", "Asia/Yekaterinburg") == datetime(2025, 7, 1, 7, tzinfo=UTC)
    assert local_to_utc("0001-01-01T00:00:00") is None
    # New Year in Moscow happens on 31 Dec at 21:00 UTC: the order's year is a local-time fact
    assert utc_to_local(datetime(2025, 12, 31, 22, 30, tzinfo=UTC)) == datetime(2026, 1, 1, 1, 30)
    with pytest.raises(ValueError):
        Payment("p", RECEIPT, Decimal(1), datetime(2025, 1, 1))
