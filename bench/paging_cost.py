"""Offset vs keyset paging and "changed since" on a big portal, as the sandbox charges them (issue 19).

The sandbox charges each list call the rows its database would examine × ``settings.row_cost`` (2 µs a row,
the sandbox's assumption — see b24sandbox/portal.py) as operating time, the budget a portal keeps per app ×
method (480 s per 10 minutes, reference §7.4). An offset page (``start`` ≥ 0) COUNTs every candidate row and
reads the rows it skips; a keyset page (``start=-1``, ``>ID``) reads about a page; a ``>=DATE_MODIFY`` bound
reads its range of the date index. "Whole read" is the sum over every page of the table (⌈N/50⌉ pages),
computed from the per-page charge the sandbox reported for the first, middle and last page.

    python -m bench paging_cost               # 100,000 and 1,000,000 deals (BENCH_PAGING_SIZES=100000,1000000)
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

import requests

TITLE = "Paging cost on a big portal: offset vs keyset vs changed-since (sandbox cost model)"
SIZES = [int(x) for x in os.environ.get("BENCH_PAGING_SIZES", "100000,1000000").split(",")]
CID, SECRET = "local.bench000.00000001", "s3cr3t"
CHANGED = 10


def _portal(n: int):
    from b24sandbox import SandboxCloud
    from b24sandbox.demo import seed_deals
    from b24sandbox.filters import MSK

    cloud = SandboxCloud()
    portal = cloud.add_portal(seed="empty")
    cloud.register_app(CID, SECRET, handler_url="http://127.0.0.1:9/app", install_url="http://127.0.0.1:9/install",
                       scope=["crm", "user"])
    portal.install_app(CID)
    portal.finish_install(CID)
    portal.settings.rate_limit = False
    portal.settings.operating_limit = 1e12          # measure the charge; the limit's effect is computed below
    month_ago = time.time() - 30 * 86400
    seed_deals(portal.db, n, now=month_ago)
    now = datetime.fromtimestamp(portal.clock.now(), MSK).isoformat(timespec="seconds")
    with portal.db.lock:                            # a few deals changed today
        for rid in list(portal.db.deals.rows)[-CHANGED * 97::97][:CHANGED]:
            portal.db.deals.rows[rid]["DATE_MODIFY"] = now
        portal.db.deals.touch()
    return cloud, portal, portal.issue_tokens(CID, 1).access.token


def _call(portal, token, params) -> tuple[dict, float, float]:
    t = time.perf_counter()
    r = requests.post(f"{portal.url}/rest/crm.deal.list.json", json={**params, "auth": token}, timeout=600)
    wall = time.perf_counter() - t
    r.raise_for_status()
    body = r.json()
    return body, body["time"]["processing"], wall


def run() -> None:
    print("| deals | call | rows returned | charged operating time, s | sandbox wall time, s |")
    print("|---|---|---|---|---|")
    summary = []
    for n in SIZES:
        t = time.perf_counter()
        cloud, portal, token = _portal(n)
        seeded = time.perf_counter() - t
        try:
            sel = {"select": ["ID", "TITLE", "STAGE_ID", "DATE_MODIFY"]}
            offsets = {}
            for label, start in (("first", 0), ("middle", (n // 2) // 50 * 50), ("last", (n - 1) // 50 * 50)):
                body, charged, wall = _call(portal, token, {**sel, "start": start})
                offsets[label] = charged
                print(f"| {n:,} | offset page `start={start}` (COUNT + skip) | {len(body['result'])} | "
                      f"{charged:.3f} | {wall:.3f} |")
            keys = {}
            ids = sorted(portal.db.deals.rows)
            for label, after in (("first", 0), ("middle", ids[n // 2]), ("last", ids[-50] - 1)):
                body, charged, wall = _call(portal, token, {**sel, "start": -1, "order": {"ID": "ASC"},
                                                            "filter": {">ID": after}})
                keys[label] = charged
                print(f"| {n:,} | keyset page `>ID={after}`, start=-1 | {len(body['result'])} | {charged:.4f} | "
                      f"{wall:.3f} |")
            since = (datetime.fromtimestamp(portal.clock.now()).astimezone() - timedelta(hours=1)).isoformat(
                timespec="seconds")
            query = {**sel, "start": -1, "order": {"ID": "ASC"}, "filter": {">=DATE_MODIFY": since}}
            _call(portal, token, query)                 # the first one after a write builds the date index
            body, changed, wall = _call(portal, token, query)
            print(f"| {n:,} | changed since (`>=DATE_MODIFY`, keyset, index) | {len(body['result'])} | "
                  f"{changed:.4f} | {wall:.3f} |")
            pages = -(-n // 50)
            # offset page k costs N (COUNT) + 50k + 50 rows: the first/last pages bracket the linear growth
            whole_offset = pages * (offsets["first"] + offsets["last"]) / 2
            whole_keyset = pages * (keys["first"] + keys["last"]) / 2
            summary.append((n, pages, whole_offset, whole_keyset, changed, seeded))
        finally:
            cloud.shutdown()
    print("\n| deals | pages | whole read by offset, operating s | by keyset, operating s | offset / keyset | "
          "whole offset reads per 10 min within 480 s | changed-since read, s | seeding, s |")
    print("|---|---|---|---|---|---|---|---|")
    for n, pages, off, key, changed, seeded in summary:
        print(f"| {n:,} | {pages:,} | {off:,.0f} | {key:.1f} | {off / key:,.0f}× | {480 / off:.3f} | "
              f"{changed:.4f} | {seeded:.0f} |")


if __name__ == "__main__":
    run()
