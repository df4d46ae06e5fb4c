"""Sync 10,000 1C payments onto 5,000 deals: portal HTTP calls against the floor (one batch per 50
writes, plus the keyset deal listing) and wall time; then a second sync with no change in 1C."""
from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import datetime, timedelta

from b24sandbox.demo import seed_deals
from install.apply import install
from install.registry import installed_ids
from sync_1c import connection, sync
from b24sandbox.onec import start

from .setup import installed_portal

TITLE = "1C payment sync: 10,000 payments → 5,000 deals (sandbox portal with rate limit, 1C OData sandbox)"
DEALS, PAYMENTS = 5_000, 10_000
WRITES = ("crm.deal.update", "crm.timeline.comment.add")


def _http(portal, since: int) -> int:
    return sum(1 for r in portal.log[since:] if getattr(r, "via", "http") == "http")


def _refused(portal, since: int) -> int:
    return sum(1 for r in portal.log[since:] if getattr(r, "via", "http") == "http" and r.status == 503)


def _writes(portal, since: int) -> int:
    return sum(1 for r in portal.log[since:] if r.method in WRITES and r.status == 200)


def run(deals: int = DEALS, payments: int = PAYMENTS) -> None:
    t_setup = time.perf_counter()
    b = installed_portal()
    onec = start()
    try:
        report = install(b.services, b.member_id)
        assert report.complete, report.errors
        ids = installed_ids(b.services.store, b.member_id)
        f_num = ids.deal_field("order_1c_number")
        ib = onec.infobase
        base = datetime.now().replace(microsecond=0) - timedelta(days=10)
        deal_ids = seed_deals(b.portal.db, deals)
        for i, did in enumerate(deal_ids):
            number = f"ТД00-{i + 1:06d}"
            order = ib.add_order(2000, base, number=number)
            b.portal.db.deals.get(did).update({f_num: number, "OPPORTUNITY": 2000.0})
            for k in range(payments // deals):
                ib.add_payment([(order, 1000 if k == 0 else 500 + (i % 2) * 500)], base + timedelta(days=1, minutes=k))
        connection.save(b.services.store.kv, b.member_id, base_url=onec.url, username=onec.username,
                        password=onec.password, lookback_days=30)
        # the 1C sandbox listens on 127.0.0.1: the operator's allowance, as for a LAN 1C in production
        b.services.settings = replace(b.services.settings, outbound_allow="127.0.0.1/32")
        if hasattr(b.portal.limits, "reset"):
            b.portal.limits.reset()
        setup = time.perf_counter() - t_setup
        print("| run | payments read | deal updates | comments | portal HTTP calls | floor | 1C requests "
              "| wall time, s | of which 1C read / match / portal writes, s |")
        print("|---|---|---|---|---|---|---|---|---|")
        for label in ("first sync", "second sync (no change)"):
            mark, mark_1c = len(b.portal.log), len(onec.log)
            t = time.perf_counter()
            r = sync.run(b.services, b.member_id)
            dt = time.perf_counter() - t
            writes = _writes(b.portal, mark)
            floor = math.ceil(writes / 50) + math.ceil(deals / 2500) + 1
            refused = _refused(b.portal, mark)
            print(f"| {label} | {r.read} | {r.updates} | {r.comments} | {_http(b.portal, mark)}"
                  f"{f' (of which {refused} answered 503)' if refused else ''} | {floor} "
                  f"| {len(onec.log) - mark_1c} | {dt:.1f} | {r.seconds.get('read_1c', 0):.1f} / "
                  f"{r.seconds.get('match', 0):.1f} / {r.seconds.get('write', 0):.1f} |")
        # the "sync payments now" robot path: one deal's order, after a new payment for it in 1C
        did = deal_ids[len(deal_ids) // 2]
        deal = b.services.client(b.member_id).call("crm.deal.get", {"id": did})
        ib.add_payment([(deal[ids.deal_field("order_1c_key")], 250)], base + timedelta(days=2))
        mark, mark_1c = len(b.portal.log), len(onec.log)
        t = time.perf_counter()
        r = sync.run_for_deal(b.services, b.member_id, deal)
        dt = time.perf_counter() - t
        print(f"| one deal (robot, sync.run_for_deal) | {r.read} | {r.updates} | {r.comments} "
              f"| {_http(b.portal, mark)} | 1 | {len(onec.log) - mark_1c} | {dt:.2f} "
              f"| {r.seconds.get('read_1c', 0):.2f} / – / {r.seconds.get('write', 0):.2f} |")
        print(f"\n1C OData requests in total: {len(onec.log)}; setup (seeding both sandboxes) {setup:.1f} s")
    finally:
        onec.shutdown()
        b.close()


if __name__ == "__main__":
    run()
