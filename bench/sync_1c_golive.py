"""Go-live of the 1C payment sync on a base with two years of history (issue 13): 20,000 orders, 30,000
payments, 3,000 open deals carrying the numbers of the most recent orders (typed, not yet bound), many of
them paid partly before the 35-day window. The first sync must show 1C's own paid total on every deal
(order-state register), so it reads each open deal's order, not only the window. Printed: 1C requests,
portal writes against the floor ⌈writes/50⌉, wall time, and the longest query string sent against IIS'
2,048-byte limit (the sandbox enforces it: a longer one would be answered 404.15)."""
from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from b24sandbox.demo import deal_row
from install.apply import install
from install.registry import installed_ids
from sync_1c import connection, sync
from sync_1c.odata import MAX_QUERY
from b24sandbox.onec import start

from .setup import installed_portal

TITLE = ("1C go-live: 2 years of history — 20,000 orders, 30,000 payments, 3,000 open deals (sandbox portal "
         "with rate limit, 1C OData sandbox behind IIS' 2,048-byte query limit)")
ORDERS, PAYMENTS, OPEN = 20_000, 30_000, 3_000
WRITES = ("crm.deal.update", "crm.timeline.comment.add")
KINDS = ("bank", "cash", "card")


def _http(portal, since: int) -> int:
    return sum(1 for r in portal.log[since:] if getattr(r, "via", "http") == "http")


def _writes(portal, since: int) -> int:
    return sum(1 for r in portal.log[since:] if r.method in WRITES and r.status == 200)


def seed(b, onec, orders: int, payments: int, open_deals: int):
    """Orders evenly over 730 days; every order a first payment 1–10 days after it, the first
    `payments - orders` orders (every other one from the newest back) a second one 20–60 days after it
    (never in the future). Each order 10,000; first payment 6,000, second 4,000. The newest `open_deals`
    orders get an open deal with the order's number typed on it, created on the order's day."""
    ib = onec.infobase
    now = datetime.now().replace(microsecond=0)
    first = now - timedelta(days=730)
    step = timedelta(days=730) / orders
    refs = []
    for i in range(orders):
        when = first + step * i
        refs.append((ib.add_order(10000, when), when))
    second = set(range(orders - 1, -1, -2)[: max(0, payments - orders)])
    for i, (ref, when) in enumerate(refs):
        ib.add_payment([(ref, 6000)], min(now, when + timedelta(days=1 + i % 10)), kind=KINDS[i % 3])
        if i in second:
            ib.add_payment([(ref, 4000)], min(now, when + timedelta(days=20 + i % 41)), kind=KINDS[(i + 1) % 3])
    ids = installed_ids(b.services.store, b.member_id)
    f_num = ids.deal_field("order_1c_number")
    p = ids.pipeline("installation")
    db = b.portal.db
    deal_ids = []
    with db.lock:
        for ref, when in refs[-open_deals:]:
            number = ib.rows["Document_ЗаказКлиента"][ref]["Number"]
            iso = when.strftime("%Y-%m-%dT%H:%M:%S+03:00")
            row = deal_row(db, iso, f"Заказ {number}", category_id=p.category_id, stage_id=p.stage("scheduled"),
                           opportunity=10000.0, **{f_num: number, "DATE_CREATE": iso})
            deal_ids.append((db.deals.insert(row), ref))
    return deal_ids


def run(orders: int = ORDERS, payments: int = PAYMENTS, open_deals: int = OPEN) -> None:
    t_setup = time.perf_counter()
    b = installed_portal()
    onec = start()                                    # web_server="iis": 2,048-byte query strings, BOM on
    try:
        report = install(b.services, b.member_id)
        assert report.complete, report.errors
        deal_ids = seed(b, onec, orders, payments, open_deals)
        # the 1C sandbox listens on 127.0.0.1: the operator's allowance, as for a LAN 1C in production
        b.services.settings = replace(b.services.settings, outbound_allow="127.0.0.1/32")
        connection.save(b.services.store.kv, b.member_id, base_url=onec.url, username=onec.username,
                        password=onec.password, lookback_days=35)
        sync._checked.clear()
        sync._readers.clear()
        if hasattr(b.portal.limits, "reset"):
            b.portal.limits.reset()
        setup = time.perf_counter() - t_setup
        print("| run | payments read | deal updates | comments | portal writes | floor ⌈writes/50⌉ | portal HTTP "
              "calls | 1C requests | longest query string, bytes (margin to 2,048) | wall time, s "
              "| of which 1C read / match / portal writes, s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for label in ("first sync (go-live)", "second sync (no change)"):
            mark, mark_1c = len(b.portal.log), len(onec.log)
            t = time.perf_counter()
            r = sync.run(b.services, b.member_id)
            dt = time.perf_counter() - t
            writes = _writes(b.portal, mark)
            longest = max((len(e.raw_query) for e in onec.log[mark_1c:]), default=0)
            refused = sum(1 for e in onec.log[mark_1c:] if e.status == 404)
            assert refused == 0, f"{refused} 1C requests refused by the query-string limit"
            print(f"| {label} | {r.read} | {r.updates} | {r.comments} | {writes} | {math.ceil(writes / 50)} "
                  f"| {_http(b.portal, mark)} | {len(onec.log) - mark_1c} | {longest} ({MAX_QUERY - longest}) "
                  f"| {dt:.1f} | {r.seconds.get('read_1c', 0):.1f} / {r.seconds.get('match', 0):.1f} / "
                  f"{r.seconds.get('write', 0):.1f} |")
        ids = installed_ids(b.services.store, b.member_id)
        f_paid, f_full = ids.deal_field("amount_paid"), ids.deal_field("paid_in_full")
        rows = [(b.portal.db.deals.get(d), ref) for d, ref in deal_ids]
        full = sum(1 for x, _r in rows if str(x.get(f_full)).upper() in ("Y", "1"))
        # what 1C's register says for each deal's order, straight from the sandbox
        states = onec.infobase.order_states()
        wrong = sum(1 for x, ref in rows if float(x.get(f_paid) or 0) != float(states[ref]["СуммаОплаты"]))
        total = sum(float(x.get(f_paid) or 0) for x, _r in rows)
        want = sum(float(states[ref]["СуммаОплаты"]) for _x, ref in rows)
        paths = {}
        for e in onec.log:
            name = urlsplit(e.path).path.rsplit("/", 1)[-1]
            paths[name] = paths.get(name, 0) + 1
        print(f"\nOpen deals paid in full after go-live: {full} of {len(rows)}; deals whose amount paid differs "
              f"from 1C's register for their order: {wrong}; amount paid on the deals {total:,.0f}, in 1C's "
              f"register {want:,.0f}. 1C requests by entity set: "
              + ", ".join(f"{k} {v}" for k, v in sorted(paths.items(), key=lambda kv: -kv[1])))
        print(f"Setup (seeding both sandboxes): {setup:.1f} s")
    finally:
        onec.shutdown()
        b.close()


if __name__ == "__main__":
    run()
