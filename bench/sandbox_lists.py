"""The sandbox portal's own list cost: filtered crm.item.list / crm.deal.list over seeded deals, one call and
batches of 50 keyset / offset pages, over real HTTP with the rate limit off (what every test and bench pays).
``python -m bench sandbox_lists`` (add ``--profile`` to print a cProfile of the keyset batch)."""
from __future__ import annotations

import statistics
import sys
import time
from urllib.parse import quote

import requests

TITLE = "Sandbox portal list calls: filtered crm.item.list / crm.deal.list over 5,500 and 10,000 deals"
APRIL = {">=createdTime": "2026-04-01T00:00:00+03:00", "%title": "Сделка"}
CID, SECRET = "local.bench000.00000001", "s3cr3t"
DATES = {">=createdTime": "2026-03-01T00:00:00+03:00", "<createdTime": "2026-04-01T00:00:00+03:00"}


def _portal(n: int):
    from b24sandbox import SandboxCloud
    from b24sandbox.demo import deal_row

    cloud = SandboxCloud()
    portal = cloud.add_portal(seed="empty")
    cloud.register_app(CID, SECRET, handler_url="http://127.0.0.1:9/app", install_url="http://127.0.0.1:9/install",
                       scope=["crm", "user"])
    portal.install_app(CID)
    portal.finish_install(CID)
    portal.settings.rate_limit = False
    db = portal.db
    cats = [c["id"] for c in db.categories.rows.values() if c.get("entityTypeId") == 2]
    with db.lock:
        for i in range(n):
            day = 1 + i % 28
            month = 3 if i % 11 else 4                        # 1 in 11 outside the month
            iso = f"2026-{month:02d}-{day:02d}T{9 + i % 9:02d}:00:00+03:00"
            row = deal_row(db, iso, f"Сделка {i}", category_id=0, opportunity=1000 + i)
            row["DATE_CREATE"] = row["DATE_MODIFY"] = iso
            row["CATEGORY_ID"] = cats[i % len(cats)] if i % 3 == 0 else 0
            db.deals.insert(row)
    return cloud, portal, portal.issue_tokens(CID, 1).access.token


def _call(portal, token, method, params):
    r = requests.post(f"{portal.url}/rest/{method}.json", json={**params, "auth": token}, timeout=600)
    r.raise_for_status()
    return r.json()


def _timed(fn, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def _keyset_batch(portal, token, method, filt, id_key, items_key, repeat=1):
    cmd = {}
    for k in range(50):
        ref = "0" if k == 0 else (f"$result[p{k - 1}][{items_key}][49][{id_key}]" if items_key
                                  else f"$result[p{k - 1}][49][{id_key}]")
        q = [f"filter[>{id_key}]={ref}", f"order[{id_key}]=ASC", "start=-1"]
        q += [f"filter[{quote(key, safe='[]')}]={quote(str(v), safe='')}" for key, v in filt.items()]
        if method == "crm.item.list":
            q.insert(0, "entityTypeId=2")
        cmd[f"p{k}"] = method + "?" + "&".join(q)
    return _timed(lambda: _call(portal, token, "batch", {"halt": 0, "cmd": cmd}), repeat)


def _offset_batch(portal, token, filt, repeat=1):
    cmd = {f"p{k}": "crm.item.list?entityTypeId=2&order[id]=ASC&start=" + str(k * 50) + "".join(
        f"&filter[{quote(key, safe='')}]={quote(v, safe='')}" for key, v in filt.items()) for k in range(50)}
    return _timed(lambda: _call(portal, token, "batch", {"halt": 0, "cmd": cmd}), repeat)


def run() -> None:
    profile = "--profile" in sys.argv
    rows = []
    cloud, portal, token = _portal(5_500)
    try:
        body = _call(portal, token, "crm.item.list", {"entityTypeId": 2, "filter": DATES})
        rows.append(("crm.item.list, 2 date conditions, COUNT (start=0)", body["total"],
                     _timed(lambda: _call(portal, token, "crm.item.list", {"entityTypeId": 2, "filter": DATES}), 5)))
        rows.append(("crm.item.list, no filter, COUNT", 5500,
                     _timed(lambda: _call(portal, token, "crm.item.list", {"entityTypeId": 2}), 5)))
        if profile:
            import cProfile
            import pstats

            pr = cProfile.Profile()
            pr.enable()
        rows.append(("batch: 50 keyset pages crm.item.list (`>id`, start=-1, 2 date conditions)", 2500,
                     _keyset_batch(portal, token, "crm.item.list", DATES, "id", "items")))
        if profile:
            pr.disable()
            pstats.Stats(pr).sort_stats("cumulative").print_stats(25)
        rows.append(("batch: 50 keyset pages crm.item.list, sparse (1 row in 11 matches: April)", 500,
                     _keyset_batch(portal, token, "crm.item.list", APRIL, "id", "items")))
        rows.append(("batch: 50 offset pages crm.item.list (start=0…2450, COUNT, 2 date conditions)", 2500,
                     _offset_batch(portal, token, DATES)))
    finally:
        cloud.shutdown()
    cloud, portal, token = _portal(10_000)
    try:
        cats = sorted({r["CATEGORY_ID"] for r in portal.db.deals.rows.values()})
        filt = {f"@CATEGORY_ID][{i}": c for i, c in enumerate(cats)}
        filt["STAGE_SEMANTIC_ID"] = "P"
        rows.append(("batch: 50 keyset pages crm.deal.list (`>ID`, `@CATEGORY_ID` + `STAGE_SEMANTIC_ID`), 10k deals",
                     2500, _keyset_batch(portal, token, "crm.deal.list", filt, "ID", None)))
        worker = portal.db.add_user("Алексей", "Смирнов", "w@example.ru")       # CRM role "own" deals (perms.py)
        with portal.db.lock:
            for i, row in enumerate(portal.db.deals.rows.values()):
                row["ASSIGNED_BY_ID"] = worker if i % 2 else 1
        portal.set_crm_role(worker, {"deal": "own", "*": "all"})
        wtok = portal.issue_tokens(CID, worker).access.token
        rows.append(("same, as a user whose CRM role reads only his own deals (half of them)", 2500,
                     _keyset_batch(portal, wtok, "crm.deal.list", filt, "ID", None)))
    finally:
        cloud.shutdown()
    print("| call | rows | wall time, s |")
    print("|---|---|---|")
    for what, n, dt in rows:
        print(f"| {what} | {n} | {dt:.3f} |")


if __name__ == "__main__":
    run()
