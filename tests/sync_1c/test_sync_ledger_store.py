"""The sync_1c tables on both backends: payments by (member_id, Ref_Key), written state, review list,
cursor and lease; a CLEAN uninstall forgets all of it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from b24app.store import open_store
from sync_1c.ledger_store import LedgerStore, payment_from_json, payment_to_json, version_of
from sync_1c.payments import RECEIPT, Payment

UTC = timezone.utc


def _pay(ref, amount, day, **kw):
    return Payment.single(ref, RECEIPT, amount, datetime(2026, 3, day, 9, tzinfo=UTC), order_key="o1",
                          order_number="ТД00-000001", order_date=datetime(2026, 3, 1, 10), **kw)


def test_ledger_tables(db_url):
    store = open_store(db_url)
    try:
        a, b = LedgerStore(store.engine, "a" * 32), LedgerStore(store.engine, "b" * 32)
        p1, p2 = _pay("r1", "100.10", 2), _pay("r2", 5, 3)
        assert payment_from_json(payment_to_json(p1)) == p1
        assert sorted(a.upsert_payments([p1, p2])) == ["r1", "r2"]
        assert a.upsert_payments([p1, p2]) == []                           # same versions: nothing changed
        assert a.upsert_payments([_pay("r1", "100.10", 2, posted=False)]) == ["r1"]
        assert a.payments()["r2"].amount == Decimal("5") and b.payments() == {}
        start = datetime(2026, 3, 2, 12, tzinfo=UTC)
        assert [p.ref_key for p in a.held_in_window(start, start + timedelta(days=5))] == ["r2"]
        a.mark_commented([("r2", version_of(p2))])
        assert a.versions()["r2"] == (version_of(p2), version_of(p2))
        a.save_deal(7, written={"amount_paid": "5.00"}, order_key="o1")
        a.save_stages({7: "C1:NEW", 8: "C1:WON"})
        assert a.deal(7) == {"order_key": "o1", "written": {"amount_paid": "5.00"}, "last_stage": "C1:NEW"}
        a.set_review({"o2": ("ambiguous", {"deals": [1, 2]})})
        a.set_review({"o2": ("ambiguous", {"deals": [1, 2]}), "r9": ("unallocated", {})})
        assert [r["key"] for r in a.review()] == ["o2", "r9"]
        assert a.try_lease("x", 60) and not a.try_lease("y", 60) and a.try_lease("x", 60)
        a.release_lease("x")
        assert a.try_lease("y", 60)
        now = datetime(2026, 3, 5, tzinfo=UTC)
        a.save_cursor(window_end=now, last_error=None)
        assert a.cursor()["window_end"] == now
        store.portals.forget("a" * 32)
        assert a.payments() == {} and a.deals() == {} and a.review() == [] and a.cursor()["window_end"] is None
    finally:
        store.close()


def test_payments_of_order(db_url):
    store = open_store(db_url)
    try:
        a = LedgerStore(store.engine, "a" * 32)
        other = Payment.single("r3", RECEIPT, 7, datetime(2026, 3, 4, tzinfo=UTC), order_key="o2")
        a.upsert_payments([_pay("r1", 1, 2), _pay("r2", 2, 3), other])
        assert sorted(p.ref_key for p in a.payments_of_order("o1")) == ["r1", "r2"]
        assert [p.ref_key for p in a.payments_of_order("o2")] == ["r3"]
    finally:
        store.close()


def test_bulk_writes_on_both_backends(db_url):
    """save_deals / save_stages / mark_commented / upsert_payments write many rows in one statement each."""
    store = open_store(db_url)
    try:
        led = LedgerStore(store.engine, "c" * 32)
        pays = [_pay(f"r{i}", i + 1, 2) for i in range(120)]
        assert len(led.upsert_payments(pays + [pays[0]])) == 120
        led.mark_commented([(p.ref_key, version_of(p)) for p in pays[:60]])
        versions = led.versions()
        assert sum(1 for v, c in versions.values() if v == c) == 60
        led.save_stages({i: "NEW" for i in range(1, 101)})
        led.save_deals([(i, {"written": {"amount_paid": str(i)}, "order_key": f"o{i}"}) for i in range(1, 51)]
                       + [(7, {"written": {"amount_paid": "7"}, "order_key": "o7", "last_stage": "WON"})])
        deals = led.deals()
        assert len(deals) == 100 and deals[3] == {"order_key": "o3", "written": {"amount_paid": "3"},
                                                  "last_stage": "NEW"}
        assert deals[7]["last_stage"] == "WON" and deals[80]["written"] is None
    finally:
        store.close()
